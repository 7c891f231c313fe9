"""Giving freed memory back to the operating system during a long sweep (docs/heatmaps.md, "Memory on long spans").

A 1,000,000-day sweep allocates and frees arrays of tens of MB over and over. glibc's
``malloc`` serves a freed block of that size from its heap afterwards (its mmap threshold
rises to the largest block freed, up to 32 MB), and a heap only shrinks from its top, so the
process keeps the memory of the first underlying while it computes the second. Fixing the
threshold sends every large array to its own mapping, returned whole when the array is
freed; ``malloc_trim`` returns the heap's free top. Elsewhere (macOS, Windows, musl) both are
no-ops: those allocators behave on their own terms.
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
