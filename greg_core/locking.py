"""One writer per folder or file: a lock every greg-tui writer takes (docs/outputs.md).

The lock is an OS file lock (``filelock``: ``flock`` on Unix, ``LockFileEx`` on Windows) on a
small hidden file next to what it protects. The OS releases it when its holder ends in any
way, Ctrl-C and ``kill -9`` included, so a dead writer never leaves the folder locked. The
holder writes one line about itself into the lock file (pid, host, command, since when), and
a second writer quotes it: it either waits, saying what it waits for, or refuses in one line
(``FolderBusyError``).

Who locks what:

* results: ``backtest.heatmaps.store`` while it stages and publishes a run (``--export`` and
  the app's scans alike), lock beside ``backtest/output``;
* the data folder: the harvester, for as long as it runs (``lock_inside``);
* the regime file: whoever saves it (``lock_beside(regime_file)``).
"""

from __future__ import annotations

import contextlib
import os
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from filelock import FileLock, Timeout

from greg_core.errors import FolderBusyError, GregError

POLL_SECONDS = 0.1


def lock_beside(target: Path) -> Path:
    """The lock file of ``target`` (a file, or a folder that may be replaced as a whole):
    ``.{name}.lock`` in the same parent folder."""
    target = Path(target)
    return target.parent / f".{target.name}.lock"


def lock_inside(folder: Path, purpose: str) -> Path:
    """The lock file of a long-lived folder (e.g. the data folder): ``.greg-{purpose}.lock``
    inside it."""
    return Path(folder) / f".greg-{purpose}.lock"


def _owner_line() -> str:
    command = " ".join(Path(sys.argv[0]).name.split() + sys.argv[1:4]) if sys.argv and sys.argv[0] else "python"
    since = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime())
    return f"pid {os.getpid()} on {socket.gethostname()} ({command}), since {since}"


def _write_owner(fd: int) -> None:
    line = _owner_line().encode("utf-8", "replace")
    os.ftruncate(fd, 0)
    os.lseek(fd, 0, os.SEEK_SET)
    os.write(fd, line + b"\n")


def lock_owner(lock_file: Path) -> str:
    """Who holds (or last held) ``lock_file``, as its holder described itself."""
    try:
        text = Path(lock_file).read_text(encoding="utf-8", errors="replace").strip()
    except OSError:
        text = ""
    return text.splitlines()[0] if text else "another greg-tui process"


def _is_cancelled(cancel: Callable[[], bool] | threading.Event | None) -> bool:
    if cancel is None:
        return False
    return cancel.is_set() if isinstance(cancel, threading.Event) else bool(cancel())


@contextlib.contextmanager
def writer_lock(
    lock_file: Path,
    what: str,
    *,
    wait_seconds: float = 0.0,
    on_wait: Callable[[str], None] | None = None,
    cancel: Callable[[], bool] | threading.Event | None = None,
    cancelled: Callable[[], BaseException] | None = None,
) -> Iterator[Path]:
    """Hold the lock ``lock_file`` for writing ``what`` (words for messages, e.g. "the results
    folder /x/backtest/output").

    Free: taken at once. Held by another process (or thread): with ``wait_seconds == 0``
    raises ``FolderBusyError`` at once; otherwise tells ``on_wait`` once who holds it and
    waits up to ``wait_seconds`` (``float('inf')``: no limit), polling ``cancel`` (then raises
    ``cancelled()``), and raises ``FolderBusyError`` when the time is up. A lock file that
    cannot be created (read-only folder, a file in the way) raises that ``OSError``.
    """
    lock_file = Path(lock_file)
    lock_file.parent.mkdir(parents=True, exist_ok=True)  # an OSError here is the caller's to report
    # A FileLock per call, hence a descriptor per call: two threads of one process (the app's
    # scan and an export it started) exclude each other as two processes do.
    lock = FileLock(str(lock_file), thread_local=False, preserve_lock_file=True, on_acquired=_write_owner)
    started = time.monotonic()
    told = False
    while True:
        try:
            lock.acquire(timeout=0)
            break
        except Timeout:
            pass
        owner = lock_owner(lock_file)
        waited = time.monotonic() - started
        if wait_seconds <= 0 or waited >= wait_seconds:
            suffix = f" (waited {waited:.0f} s)" if wait_seconds > 0 else ""
            raise FolderBusyError(f"{what} is being written by {owner}{suffix}; try again when it has finished")
        if not told and on_wait is not None:
            on_wait(f"waiting: {what} is being written by {owner}")
            told = True
        if _is_cancelled(cancel):
            raise (cancelled() if cancelled is not None else GregError("cancelled while waiting for a lock"))
        time.sleep(POLL_SECONDS)
    try:
        yield lock_file
    finally:
        lock.release()


def lock_for(
    target: Path, *, wait_seconds: float = 0.0, on_wait: Callable[[str], None] | None = None
) -> contextlib.AbstractContextManager[Path]:
    """The writer lock of one file (or replaceable folder) ``target``, lock file beside it:
    ``with lock_for(regime_file, wait_seconds=60): <read, change, write it>``."""
    return writer_lock(lock_beside(target), str(target), wait_seconds=wait_seconds, on_wait=on_wait)
