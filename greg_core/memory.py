"""Giving freed memory back to the operating system during a long sweep (docs/heatmaps.md,
"Memory on long spans").

A 1,000,000-day sweep allocates and frees arrays of 8 MB and more over and over. glibc's
``malloc`` keeps a freed block of up to 32 MB in its heap for reuse (its mmap threshold rises
to the largest block freed), so the process holds the memory of the first underlying while
it computes the second. ``map_arrays_from`` fixes the threshold: allocations from that size
get their own mapping, returned whole when freed, at the price of a fresh mapping (page
faults, zeroed pages) each time. A long sweep uses two settings: ``LOADING_BLOCK_BYTES`` (1 MB)
while an underlying's data is generated and its sensors computed (one-off arrays whose
heap fragments would otherwise stay), ``WORKING_BLOCK_BYTES`` (8 MB) while it computes grids
and outcomes, which reuse arrays of up to a million float64 values thousands of times (in
their own mappings those cost about a third of a 1,000,000-day export's time). A sweep asks
for either only on very long spans (``backtest.heatmaps.sweep.LONG_SPAN_DAYS``), and leaves
the working setting behind (also when loading fails or is cancelled): a later short sweep's
arrays are far below 8 MB, so it runs as it would with glibc's own behaviour.
``malloc_trim`` returns the heap's free pages. Elsewhere (macOS, Windows, musl) both are
no-ops: those allocators behave on their own terms.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache

# glibc's mallopt parameter (malloc.h) and the block sizes from which arrays get their own mapping.
_M_MMAP_THRESHOLD = -3
LOADING_BLOCK_BYTES = 1 << 20
WORKING_BLOCK_BYTES = 8 << 20


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


def map_arrays_from(block_bytes: int) -> bool:
    """Give every allocation of ``block_bytes`` or more its own mapping from now on (a fixed
    threshold, no longer glibc's sliding one); True where that took effect (glibc)."""
    libc = _glibc()
    return bool(libc is not None and libc.mallopt(_M_MMAP_THRESHOLD, int(block_bytes)))


@contextmanager
def loading_arrays_mapped(active: bool = True) -> Iterator[None]:
    """While the block runs (loading data), arrays from ``LOADING_BLOCK_BYTES`` get their own
    mapping; after it, also when it raises, from ``WORKING_BLOCK_BYTES``. Nothing when not
    ``active``."""
    if not active:
        yield
        return
    map_arrays_from(LOADING_BLOCK_BYTES)
    try:
        yield
    finally:
        map_arrays_from(WORKING_BLOCK_BYTES)


def release_freed_memory() -> None:
    """Return the heap's free memory to the operating system (glibc; elsewhere nothing)."""
    libc = _glibc()
    if libc is not None:
        libc.malloc_trim(0)
