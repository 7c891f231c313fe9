"""Atomic file writes: a reader, or a crash, never sees half a file.

The one writer every output goes through (regime file, sweep outputs, harvested snapshots).
It lives in the bottom layer so ``synthetic``, ``backtest`` and ``greg_tui`` can all use it.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Callable
from pathlib import Path


def atomic_write(path: Path, write: Callable[[Path], None]) -> Path:
    """Run ``write(temp_path)`` and move the result onto ``path`` in one step.

    The temp file is hidden (leading dot, ``.tmp`` suffix) in the target's folder, so the move
    is a same-filesystem rename and globbing ``*.parquet`` / ``*.csv`` never picks it up. It is
    removed if anything, even Ctrl-C, interrupts the write.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:12]}.tmp")
    try:
        write(temp)
        with open(temp, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            temp.unlink()
        raise
    return path


def write_text_atomic(path: Path, text: str) -> Path:
    return atomic_write(path, lambda temp: temp.write_text(text, encoding="utf-8"))
