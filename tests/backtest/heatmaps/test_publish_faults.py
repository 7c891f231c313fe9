"""Publishing a run as one atomic step, under faults (issue 13, items 1-3 and 7).

In-process: the layout (run folders behind one symlink), a plain ``output`` folder of older
versions, dead runs' leftovers, disk full at every file, Ctrl-C at every step, the loader
verifying every file and the manifest's shape, a reader racing a publish, two writers, the
lock's wait / refusal / cancel, systems without symlinks. In forked child processes (the
real ``--export``): SIGINT, SIGTERM and SIGKILL at several steps of the publish, and two
exports at once. ``scripts/fault_trials.py`` repeats the last two many times and counts.
"""

from __future__ import annotations

import errno
import json
import os
import signal
import threading
import time
import traceback
from pathlib import Path

import numpy as np
import pytest

import backtest.heatmaps.store as store
from backtest.heatmaps.outputs import GRIDS_NAME, JSON_NAME, MANIFEST_NAME
from backtest.heatmaps.store import (
    load_sweep_results,
    publish_run,
    results_lock_file,
    results_version,
    runs_dir_for,
    write_sweep_outputs,
)
from backtest.heatmaps.sweep import compute_sweep, validate_sweep_params
from greg_core.errors import FolderBusyError, PublishInterrupted, SweepCancelled, SweepResultsError
from greg_core.locking import writer_lock
from greg_tui.export import main as export_main

METRICS = ["vrp_30d", "adx_14d", "rsi_14d"]


def sweep_result(x_bins: int):
    params = validate_sweep_params(["BTC"], METRICS, ["STRATEGY_A_STRADDLE", "STRATEGY_C_SHORT_PUT"], x_bins, 5,
                                   0.005, 0.4, 3, lookback_days=200)
    return compute_sweep(params)


@pytest.fixture(scope="module")
def results():
    """Two different small results (6 and 8 x-bins) to publish over each other."""
    return sweep_result(6), sweep_result(8)


@pytest.fixture
def out(tmp_path: Path) -> Path:
    return tmp_path / "backtest" / "output"


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def x_bins_of(folder: Path) -> int:
    return load_sweep_results(folder).manifest["parameters"]["x_bins"]


def run_folders(out: Path) -> list[str]:
    runs = runs_dir_for(out)
    return sorted(p.name for p in runs.iterdir()) if runs.exists() else []


def assert_no_leftovers(out: Path) -> None:
    """Only the published run and the one it replaced remain; no temp link."""
    published = Path(os.readlink(out)).name
    assert published in run_folders(out) and len(run_folders(out)) <= 2
    assert not list(out.parent.glob(f".{out.name}.tmp-*"))


@pytest.fixture
def checkpoint(monkeypatch):
    """Set ``store.PUBLISH_CHECKPOINT`` for one test."""

    def install(function):
        monkeypatch.setattr(store, "PUBLISH_CHECKPOINT", function)

    return install


# ------------------------------------------------------------------ layout


def test_a_run_is_a_folder_behind_one_symlink_and_names_stay_as_requested(results, out):
    first, second = results
    write_sweep_outputs(first, out)
    assert out.is_symlink() and os.readlink(out).startswith(".output-runs/")
    manifest = json.loads((out / MANIFEST_NAME).read_text())
    assert sorted(manifest["files"]) == sorted(p.name for p in out.iterdir())
    assert "env_heatmap_BTC_vrp_30d_vs_adx_14d.csv" in manifest["files"]
    assert set(manifest["sha256"]) == set(manifest["files"]) - {MANIFEST_NAME}
    stored = load_sweep_results(out)
    assert stored.run_dir == runs_dir_for(out) / os.readlink(out).split("/")[-1]
    assert stored.manifest["run_id"] == stored.run_dir.name


def test_results_version_changes_on_every_publish(results, out):
    seen = {results_version(out)}
    assert seen == {None}
    for n in range(4):
        write_sweep_outputs(results[n % 2], out)
        seen.add(results_version(out))
    assert len(seen) == 5


def test_the_replaced_run_is_kept_once_then_deleted(results, out):
    first, second = results
    write_sweep_outputs(first, out)
    a = os.readlink(out)
    write_sweep_outputs(second, out)
    b = os.readlink(out)
    assert run_folders(out) == sorted([Path(a).name, Path(b).name])  # a reader of `a` may still read
    write_sweep_outputs(first, out)
    assert Path(a).name not in run_folders(out) and len(run_folders(out)) == 2


def test_publish_is_generic_over_the_files_of_a_run(out):
    run_dir = publish_run(out, {"a.csv": "x,y\n1,2\n", "b.bin": b"\x00\x01",
                                "c.json": lambda stream: stream.write(b"{}")}, lambda names: {"files": names})
    manifest = json.loads((out / MANIFEST_NAME).read_text())
    assert manifest["files"] == ["a.csv", "b.bin", "c.json", MANIFEST_NAME]
    assert run_dir.name == manifest["run_id"] and (out / "b.bin").read_bytes() == b"\x00\x01"
    with pytest.raises(ValueError, match="plain result file name"):
        publish_run(out, {"../escape.csv": "x"}, lambda names: {})


# ------------------------------------------------------------------ older versions, dead runs


def write_plain_set(results, out: Path) -> dict[str, bytes]:
    """An ``output`` folder as older greg-tui left it: a plain folder with one run's files."""
    write_sweep_outputs(results[0], out)
    files = snapshot(out)
    os.unlink(out)
    out.mkdir()
    for name, data in files.items():
        (out / name).write_bytes(data)
    return files


def test_a_plain_output_folder_of_older_versions_is_adopted(results, out):
    write_plain_set(results, out)
    (out / ".staging-abc123").mkdir()  # an interrupted older run's leftovers
    (out / ".staging-abc123" / "env_heatmap_BTC_x_vs_y.csv").write_text("half")
    (out / f".{MANIFEST_NAME}.0123456789ab.tmp").write_text("half")
    assert x_bins_of(out) == 6  # the old layout still reads
    write_sweep_outputs(results[1], out)
    assert out.is_symlink() and x_bins_of(out) == 8
    legacy = [n for n in run_folders(out) if n.startswith("legacy-")]
    assert len(legacy) == 1 and not any(p.name.startswith(".") for p in (runs_dir_for(out) / legacy[0]).iterdir())
    write_sweep_outputs(results[0], out)
    write_sweep_outputs(results[1], out)
    assert not [n for n in run_folders(out) if n.startswith("legacy-")]  # deleted like any old run


def test_a_plain_output_folder_holding_other_files_is_kept_aside(results, out):
    old = write_plain_set(results, out)
    (out / "my_notes.txt").write_text("mine")
    write_sweep_outputs(results[1], out)
    kept = list(out.parent.glob("output.before-*"))
    assert len(kept) == 1 and (kept[0] / "my_notes.txt").read_text() == "mine"
    assert {n: (kept[0] / n).read_bytes() for n in old} == old
    for results_ in (results[0], results[1], results[0]):
        write_sweep_outputs(results_, out)
    assert kept[0].exists()  # never deleted


def test_dead_runs_leftovers_are_cleaned_by_the_next_run(results, out):
    write_sweep_outputs(results[0], out)
    dead = runs_dir_for(out) / "20250101T000000Z-99999-abcdef"
    dead.mkdir()
    (dead / "env_heatmap_BTC_vrp_30d_vs_adx_14d.csv").write_text("half written")
    stale_link = out.parent / f".{out.name}.tmp-20250101T000000Z-99999-abcdef"
    os.symlink(".output-runs/20250101T000000Z-99999-abcdef", stale_link)
    write_sweep_outputs(results[1], out)
    assert not dead.exists() and not os.path.lexists(stale_link)
    assert_no_leftovers(out)


# ------------------------------------------------------------------ disk full


def file_count(result) -> int:
    return len(store.sweep_files(result)[0]) + 1  # + manifest


@pytest.mark.parametrize("where", ["file", "symlink", "switch"])
def test_disk_full_at_every_step_leaves_the_previous_set(results, out, monkeypatch, where):
    write_sweep_outputs(results[0], out)
    before, version = snapshot(out), results_version(out)
    real_write, real_symlink, real_replace = store._write_file, os.symlink, os.replace
    attempts = range(file_count(results[1])) if where == "file" else [0]
    for failing in attempts:
        calls = {"n": 0}

        def full(path, content, failing=failing, calls=calls):
            if calls["n"] == failing:
                raise OSError(errno.ENOSPC, "No space left on device", str(path))
            calls["n"] += 1
            return real_write(path, content)

        def full_symlink(*args, **kwargs):
            raise OSError(errno.ENOSPC, "No space left on device")

        def full_replace(source, target):
            if Path(target) == out:
                raise OSError(errno.ENOSPC, "No space left on device")
            return real_replace(source, target)

        if where == "file":
            monkeypatch.setattr(store, "_write_file", full)
        elif where == "symlink":
            monkeypatch.setattr(os, "symlink", full_symlink)
        else:
            monkeypatch.setattr(os, "replace", full_replace)
        with pytest.raises(OSError, match="No space left"):
            write_sweep_outputs(results[1], out)
        monkeypatch.setattr(store, "_write_file", real_write)
        monkeypatch.setattr(os, "symlink", real_symlink)
        monkeypatch.setattr(os, "replace", real_replace)
        assert snapshot(out) == before and results_version(out) == version, f"failing write {failing}"
        assert x_bins_of(out) == 6
        assert_no_leftovers(out)
    write_sweep_outputs(results[1], out)  # and the folder works on
    assert x_bins_of(out) == 8


def test_the_manifest_is_never_missing_when_the_disk_fills_at_it(results, out, monkeypatch):
    """Issue 13 item 3: the old code left CSV/JSON/MD/npz without a manifest."""
    write_sweep_outputs(results[0], out)
    real_write = store._write_file

    def full_at_manifest(path, content):
        if Path(path).name == MANIFEST_NAME:
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        return real_write(path, content)

    monkeypatch.setattr(store, "_write_file", full_at_manifest)
    with pytest.raises(OSError):
        write_sweep_outputs(results[1], out)
    assert (out / MANIFEST_NAME).exists() and x_bins_of(out) == 6


# ------------------------------------------------------------------ interruptions in-process


def publish_steps(result) -> list[str]:
    names = list(store.sweep_files(result)[0])
    return ["locked", f"staged {names[0]}", f"staged {names[len(names) // 2]}", f"staged {names[-1]}",
            "manifest", "commit", "committed"]


def test_ctrl_c_at_every_step_says_whether_it_published(results, out, checkpoint):
    write_sweep_outputs(results[0], out)
    for step in publish_steps(results[1]):
        before = snapshot(out)

        def interrupt(name, step=step):
            if name == step:
                raise KeyboardInterrupt

        checkpoint(interrupt)
        with pytest.raises(KeyboardInterrupt) as info:
            write_sweep_outputs(results[1], out)
        checkpoint(None)
        published = getattr(info.value, "published", False)
        assert published == (step == "committed"), step
        assert isinstance(info.value, PublishInterrupted) == (step != "locked"), step
        if published:
            assert x_bins_of(out) == 8
            write_sweep_outputs(results[0], out)  # back to the first set for the next step
        else:
            assert snapshot(out) == before and x_bins_of(out) == 6, step
        assert_no_leftovers(out)


def test_cancel_while_staging_leaves_the_previous_set(results, out):
    write_sweep_outputs(results[0], out)
    before = snapshot(out)
    seen = []

    def progress(fraction, message):
        seen.append(message)

    event = threading.Event()
    with pytest.raises(SweepCancelled):
        write_sweep_outputs(results[1], out, progress=lambda f, m: (progress(f, m), f > 0.5 and event.set()),
                            cancel=event)
    assert snapshot(out) == before
    assert_no_leftovers(out)


# ------------------------------------------------------------------ the loader


def mutate_manifest(out: Path, change) -> None:
    path = out / MANIFEST_NAME
    manifest = json.loads(path.read_text())
    change(manifest)
    path.write_text(json.dumps(manifest))


def test_the_loader_verifies_every_file_csvs_included(results, out):
    write_sweep_outputs(results[0], out)
    csv = out / "env_heatmap_BTC_adx_14d_vs_rsi_14d.csv"
    original = csv.read_bytes()
    csv.write_bytes(original.replace(b"0.0", b"0.1", 1))
    with pytest.raises(SweepResultsError, match=f"{csv.name} does not match"):
        load_sweep_results(out)
    csv.unlink()
    with pytest.raises(SweepResultsError, match=f"{csv.name}, listed in {MANIFEST_NAME}, is missing"):
        load_sweep_results(out)
    csv.write_bytes(original)
    load_sweep_results(out)
    mutate_manifest(out, lambda m: m["sha256"].pop(csv.name))
    with pytest.raises(SweepResultsError, match="without a checksum"):
        load_sweep_results(out)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda m: m.update(pairs="oops"), "pairs"),
        (lambda m: m.update(pairs=[["vrp_30d"]]), "pairs"),
        (lambda m: m.update(underlyings=["BTC"]), "underlyings"),
        (lambda m: m["underlyings"]["BTC"].update(span="2024"), "underlyings.BTC.span"),
        (lambda m: m["underlyings"]["BTC"].update(samples="many"), "underlyings.BTC.samples"),
        (lambda m: m["underlyings"]["BTC"].update(pair_samples={"a_vs_b": "x"}), "underlyings.BTC.pair_samples"),
        (lambda m: m.update(parameters=[]), "parameters"),
        (lambda m: m["parameters"].update(strategies="all"), "parameters.strategies"),
        (lambda m: m["parameters"].update(strategies=[{"key": 1}]), "parameters.strategies"),
        (lambda m: m["parameters"].update(min_env_frac="abc"), "parameters.min_env_frac"),
        (lambda m: m["parameters"].update(x_bins=True), "parameters.x_bins"),
        (lambda m: m.update(files="all"), "files"),
        (lambda m: m.update(files=["../../etc/passwd"]), "files"),
        (lambda m: m.update(sha256={"a.csv": "nothex"}), "sha256"),
        (lambda m: m.update(sweet_spots=-1), "sweet_spots"),
        (lambda m: m.update(total_seconds="fast"), "total_seconds"),
        (lambda m: m.update(created_at=5), "created_at"),
    ],
)
def test_a_manifest_of_the_right_format_but_wrong_shape_is_refused(results, out, change, field):
    write_sweep_outputs(results[0], out)
    mutate_manifest(out, change)
    with pytest.raises(SweepResultsError) as info:
        load_sweep_results(out)
    assert str(info.value) == f"{MANIFEST_NAME}: '{field}' must be " + str(info.value).split("must be ", 1)[1]
    assert "\n" not in str(info.value)


def test_grids_of_the_wrong_shape_are_refused(results, out):
    write_sweep_outputs(results[0], out)
    with np.load(out / GRIDS_NAME) as archive:
        arrays = {k: archive[k] for k in archive.files}
    arrays["BTC__selected"] = arrays["BTC__selected"][:, :1]  # one strategy fewer than listed
    (out / GRIDS_NAME).unlink()
    with open(out / GRIDS_NAME, "wb") as stream:
        np.savez_compressed(stream, **arrays)
    mutate_manifest(out, lambda m: m["sha256"].update({GRIDS_NAME: store._sha256(out / GRIDS_NAME)}))
    with pytest.raises(SweepResultsError, match="BTC selected have shape"):
        load_sweep_results(out)


def test_a_reader_racing_a_publish_retries_on_the_new_set(results, out, monkeypatch):
    write_sweep_outputs(results[0], out)
    real_verify = store._verify_files
    raced = {"done": False}

    def publish_meanwhile(run_dir, manifest):
        if not raced["done"]:  # a publish lands and a later one deleted the folder being read
            raced["done"] = True
            write_sweep_outputs(results[1], out)
            write_sweep_outputs(results[1], out)
        return real_verify(run_dir, manifest)

    monkeypatch.setattr(store, "_verify_files", publish_meanwhile)
    stored = load_sweep_results(out)
    assert raced["done"] and stored.manifest["parameters"]["x_bins"] == 8


# ------------------------------------------------------------------ one writer at a time


def test_two_writers_in_one_process_publish_one_after_the_other(results, out, checkpoint):
    checkpoint(lambda name: time.sleep(0.002))  # widen every step so the two overlap
    errors = []

    def publish(result):
        try:
            write_sweep_outputs(result, out)
        except BaseException as exc:  # noqa: BLE001 (reported below)
            errors.append(exc)

    threads = [threading.Thread(target=publish, args=(r,)) for r in (results[0], results[1], results[0])]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert x_bins_of(out) in (6, 8)
    assert_no_leftovers(out)


def test_a_second_writer_waits_with_a_message_then_gives_up_or_cancels(results, out):
    write_sweep_outputs(results[0], out)
    before = snapshot(out)
    messages = []
    with writer_lock(results_lock_file(out), "test"):
        started = time.monotonic()
        with pytest.raises(FolderBusyError) as info:
            store.publish_run(out, {"a.csv": "x"}, lambda names: {}, lock_wait_seconds=0.3,
                              progress=lambda f, m: messages.append(m))
        assert 0.3 <= time.monotonic() - started < 5
        assert f"the results folder {out} is being written by pid {os.getpid()}" in str(info.value)
        assert messages and messages[0].startswith(f"waiting: the results folder {out} is being written by pid")
        with pytest.raises(SweepCancelled):
            write_sweep_outputs(results[1], out, cancel=lambda: True)
    assert snapshot(out) == before


def test_without_symlinks_the_run_folder_is_renamed_into_place(results, out, monkeypatch):
    def no_symlinks(*args, **kwargs):
        raise OSError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(os, "symlink", no_symlinks)
    write_sweep_outputs(results[0], out)
    assert out.is_dir() and not out.is_symlink() and x_bins_of(out) == 6
    write_sweep_outputs(results[1], out)
    assert not out.is_symlink() and x_bins_of(out) == 8
    monkeypatch.undo()
    write_sweep_outputs(results[0], out)  # symlinks again: the plain folder is adopted
    assert out.is_symlink() and x_bins_of(out) == 6


# ------------------------------------------------------------------ real processes

needs_fork = pytest.mark.skipif(not hasattr(os, "fork"), reason="forked children need os.fork")
EXPORT_ARGS = ["--underlying", "BTC", "--metrics", *METRICS, "--lookback-days", "200", "--y-bins", "5", "--quiet"]


def forked_export(base: Path, x_bins: int, step: str | None = None, signum: int | None = None,
                  slow: float = 0.0) -> int:
    """Run ``--export`` in a forked child (the engine is already imported here, so a child
    costs milliseconds); at ``step`` of the publish it sends itself ``signum``. Returns the
    child's pid; its stdout+stderr go to ``base/child-<pid>.log``."""
    pid = os.fork()
    if pid:
        return pid
    code = 99
    try:
        # As a user's terminal: Ctrl-C interrupts (a test runner started in the background
        # may have left SIGINT ignored, and children inherit that).
        signal.signal(signal.SIGINT, signal.default_int_handler)
        log = os.open(base / f"child-{os.getpid()}.log", os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
        os.dup2(log, 1)
        os.dup2(log, 2)
        import sys

        sys.stdout = open(1, "w", buffering=1, closefd=False)  # noqa: SIM115
        sys.stderr = open(2, "w", buffering=1, closefd=False)  # noqa: SIM115

        def at_step(name: str) -> None:
            if slow:
                time.sleep(slow)
            if name == step:
                os.kill(os.getpid(), signum)
                time.sleep(2)  # the signal lands here (Python runs its handler)

        store.PUBLISH_CHECKPOINT = at_step
        code = export_main([*EXPORT_ARGS, "--x-bins", str(x_bins), "--base-dir", str(base)])
    except BaseException:  # noqa: BLE001 (a child must never return into pytest)
        traceback.print_exc()
    finally:
        os._exit(code)


def wait_child(base: Path, pid: int) -> tuple[int, str]:
    _, status = os.waitpid(pid, 0)
    log = base / f"child-{pid}.log"
    text = log.read_text()
    log.unlink()
    return os.waitstatus_to_exitcode(status), text


@needs_fork
@pytest.mark.parametrize(
    ("step", "signum"),
    [
        ("locked", signal.SIGINT),
        ("staged env_heatmap_BTC_vrp_30d_vs_rsi_14d.csv", signal.SIGINT),
        ("manifest", signal.SIGINT),
        ("commit", signal.SIGINT),
        ("committed", signal.SIGINT),
        ("staged greg_heatmap_grids.npz", signal.SIGTERM),
        ("committed", signal.SIGTERM),
        ("staged env_heatmap_BTC_vrp_30d_vs_adx_14d.csv", signal.SIGKILL),
        ("manifest", signal.SIGKILL),
        ("commit", signal.SIGKILL),
        ("committed", signal.SIGKILL),
    ],
)
def test_signals_during_the_publish_step(tmp_path, step, signum):
    out = tmp_path / "backtest" / "output"
    code, text = wait_child(tmp_path, forked_export(tmp_path, 6))
    assert code == 0, text
    code, text = wait_child(tmp_path, forked_export(tmp_path, 8, step, signum))
    published = x_bins_of(out) == 8  # the loader verified the set, whichever it is
    assert published == (step == "committed")
    if signum == signal.SIGKILL:
        assert code == -signal.SIGKILL
    else:
        assert code == 128 + signum, text
        expected = ("interrupted: the new results were already published" if published
                    else "cancelled: nothing written, previous results left intact")
        assert text.strip().splitlines() == [expected + (f" in {out}" if published else "")], text
    code, text = wait_child(tmp_path, forked_export(tmp_path, 7))  # the next run cleans up
    assert code == 0 and x_bins_of(out) == 7, text
    assert_no_leftovers(out)


@needs_fork
def test_two_exports_at_once_into_one_folder(tmp_path):
    out = tmp_path / "backtest" / "output"
    for _trial in range(3):
        pids = [forked_export(tmp_path, bins, slow=0.003) for bins in (6, 8)]
        outcomes = [wait_child(tmp_path, pid) for pid in pids]
        assert [code for code, _ in outcomes] == [0, 0], outcomes
        stored = load_sweep_results(out)  # every listed file verified
        assert stored.manifest["parameters"]["x_bins"] in (6, 8)
        assert sorted(stored.manifest["files"]) == sorted(p.name for p in out.iterdir())
        assert_no_leftovers(out)
    assert not list(tmp_path.glob("child-*.log"))
    assert (out / JSON_NAME).exists()
