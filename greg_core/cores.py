"""How many threads the engine's independent numpy passes use (docs/architecture.md).

numpy releases the GIL in its sorts, searches and element-wise loops over large arrays, so
independent passes (chunks of entry days, runs of pairs) run side by side on a machine's
cores; on a small span each pass is too short to gain and callers run one."""

from __future__ import annotations

import os


def worker_threads(limit: int) -> int:
    """The cores this process may run on, at most ``limit`` (at least 1)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        cores = os.cpu_count() or 1
    return max(1, min(cores, limit))
