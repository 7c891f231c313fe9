"""greg_core.memory: glibc's allocator told to give freed arrays back; elsewhere nothing."""

from __future__ import annotations

import sys

import pytest

from greg_core import memory


@pytest.fixture
def fresh_caches():
    memory._glibc.cache_clear()
    yield
    memory._glibc.cache_clear()


@pytest.mark.parametrize("platform", ["darwin", "win32"])
def test_other_platforms_are_left_alone(fresh_caches, monkeypatch, platform):
    monkeypatch.setattr(sys, "platform", platform)
    assert memory._glibc() is None
    assert memory.map_arrays_from(memory.LOADING_BLOCK_BYTES) is False
    memory.release_freed_memory()  # a no-op, no error


def test_a_libc_without_the_glibc_calls_is_left_alone(fresh_caches, monkeypatch):
    class Musl:  # no mallopt, no malloc_trim
        pass

    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.setattr(memory.ctypes, "CDLL", lambda *args, **kwargs: Musl())
    assert memory._glibc() is None
    assert memory.map_arrays_from(memory.WORKING_BLOCK_BYTES) is False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's allocator")
def test_on_linux_trimming_runs():
    memory.release_freed_memory()  # returns nothing; must not raise


def test_the_threshold_is_the_one_asked_for(monkeypatch):
    calls = []

    class Glibc:
        def mallopt(self, parameter, value):
            calls.append((parameter, value))
            return 1

        def malloc_trim(self, pad):
            return 1

    monkeypatch.setattr(memory, "_glibc", lambda: Glibc())
    assert memory.map_arrays_from(memory.LOADING_BLOCK_BYTES) is True
    assert memory.map_arrays_from(memory.WORKING_BLOCK_BYTES) is True
    assert calls == [(memory._M_MMAP_THRESHOLD, 1 << 20), (memory._M_MMAP_THRESHOLD, 8 << 20)]
