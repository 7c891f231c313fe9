"""greg_core.locking: one writer per folder, across threads and processes."""

from __future__ import annotations

import os
import threading
import time

import pytest

from greg_core.errors import FolderBusyError, SweepCancelled
from greg_core.locking import lock_beside, lock_for, lock_inside, lock_owner, writer_lock


def test_lock_file_places(tmp_path):
    assert lock_beside(tmp_path / "backtest" / "output") == tmp_path / "backtest" / ".output.lock"
    assert lock_inside(tmp_path / "data", "harvest") == tmp_path / "data" / ".greg-harvest.lock"


def test_two_threads_of_one_process_exclude_each_other(tmp_path):
    lock = tmp_path / ".x.lock"
    inside, overlaps = [], []

    def work():
        with writer_lock(lock, "x", wait_seconds=10):
            inside.append(1)
            if len(inside) > 1:
                overlaps.append(1)
            time.sleep(0.02)
            inside.pop()

    threads = [threading.Thread(target=work) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert overlaps == []


def test_refusal_names_the_holder_and_wait_can_be_cancelled(tmp_path):
    target = tmp_path / "greg_regimes.json"
    with lock_for(target):
        assert lock_owner(lock_beside(target)).startswith(f"pid {os.getpid()} on ")
        with pytest.raises(FolderBusyError) as info, lock_for(target):
            pass
        assert str(info.value).startswith(f"{target} is being written by pid {os.getpid()}")
        assert str(info.value).endswith("try again when it has finished")
        told = []
        started = time.monotonic()
        with pytest.raises(SweepCancelled), writer_lock(
            lock_beside(target), "it", wait_seconds=30, on_wait=told.append,
            cancel=lambda: time.monotonic() - started > 0.2, cancelled=lambda: SweepCancelled("stop"),
        ):
            pass
        assert len(told) == 1 and told[0].startswith("waiting: it is being written by pid")
    with lock_for(target):  # released
        pass


def test_a_lock_file_that_cannot_be_created_raises_the_os_error(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(OSError), lock_for(tmp_path / "file" / "inside"):
        pass
