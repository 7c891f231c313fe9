"""Giving freed memory back to the operating system during a long sweep (docs/heatmaps.md,
"Memory on long spans").

A 1,000,000-day sweep allocates and frees arrays of 8 MB and more over and over. glibc's
``malloc`` keeps a freed block of up to 32 MB in its heap for reuse (its mmap threshold rises
to the largest block freed), so the process holds the memory of the first underlying while
it computes the second. ``map_large_arrays`` fixes the threshold, which sends every large
array to its own mapping, returned whole when the array is freed; the price is a fresh
mapping (page faults, zeroed pages) for every large temporary, 30-50% more time on a
100,000-day sweep, so a sweep asks for it only on very long spans
(``backtest.heatmaps.sweep.LONG_SPAN_DAYS``). ``malloc_trim`` returns the heap's free
pages. Elsewhere (macOS, Windows, musl) both are no-ops: those allocators behave on their
own terms.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys
from functools import cache

# glibc's mallopt parameter (malloc.h) and the block size from which arrays get their own mapping.
_M_MMAP_THRESHOLD = -3
LARGE_BLOCK_BYTES = 1 << 20


@cache
def _glibc() -> ctypes.CDLL | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.mallopt  # noqa: B018  (present only in glibc)
        libc.malloc_trim  # noqa: B018
    except (OSError, AttributeError):
        return None
    return libc


@cache
def map_large_arrays() -> bool:
    """Give every allocation of ``LARGE_BLOCK_BYTES`` or more its own mapping from now on
    (once per process); True where that took effect (glibc)."""
    libc = _glibc()
    return bool(libc is not None and libc.mallopt(_M_MMAP_THRESHOLD, LARGE_BLOCK_BYTES))


def release_freed_memory() -> None:
    """Return the heap's free memory to the operating system (glibc; elsewhere nothing)."""
    libc = _glibc()
    if libc is not None:
        libc.malloc_trim(0)
