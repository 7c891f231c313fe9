"""Publishing a sweep's files as one atomic step, and reading them back without recomputing.

Layout (docs/outputs.md, "Publishing and reading back")::

    <base>/backtest/output             symlink -> .output-runs/<run id> (the published run)
    <base>/backtest/.output-runs/<id>/ one folder per run: every file of the run, manifest last
    <base>/backtest/.output.lock       held while a run is staged and published

The requested names stay as the requests name them (``backtest/output/env_heatmap_...csv``
and so on, through the symlink). A run writes every file into its own new folder, fsyncs
them (together, after the last), writes the manifest (SHA-256 of every file) and then
replaces the symlink with one ``rename(2)``: a reader sees the previous set or the new one, never a mix, whenever the run
is interrupted or killed. Readers resolve the symlink once and read everything from that run
folder (``load_sweep_results`` verifies every file against the manifest, and retries if a
publish replaced the folder under it).

One writer at a time (``greg_core.locking``): the lock is held from the first staged file to
the switch, so two runs into one folder publish one after the other (the second waits, and
says so through ``progress``), and a run deletes only folders no live run is writing: at its
start, under the lock, every run folder but the published one (dead runs' leftovers, the run
replaced last time). An ``output`` that is a plain folder (older greg-tui) is set aside when
the first run publishes: into ``.output-runs`` when it holds only greg result files, else
next to it as ``output.before-<time>``, untouched.

What each file holds: ``backtest.heatmaps.outputs`` (docs/outputs.md). Which files a sweep
writes: ``sweep_files``; adding one there needs no change in the publishing.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import re
import shutil
import threading
import time
import uuid
import zipfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np

from backtest.heatmaps.binning import PairGrid
from backtest.heatmaps.cells import grid_csv_text
from backtest.heatmaps.markdown import markdown_summary
from backtest.heatmaps.outcome_cells import NO_TRADE_GROUP, CellOutcomes
from backtest.heatmaps.outputs import (
    FORMAT_NAME,
    FORMAT_VERSION,
    GRIDS_NAME,
    JSON_NAME,
    MANIFEST_NAME,
    MARKDOWN_NAME,
    SCORECARD_NAME,
    env_csv_name,
    iter_grid_arrays,
    manifest_for,
    records_json_text,
    scorecard_json_text,
)
from backtest.heatmaps.progress import PUBLISHING, wrote_files
from backtest.heatmaps.sweep import SweepResult
from backtest.heatmaps.sweetspots import SweetSpotRecord
from backtest.outcomes.edge import edge_column
from greg_core.contract import DEFAULT_HORIZON_DAYS
from greg_core.errors import PublishInterrupted, SweepCancelled, SweepResultsError
from greg_core.locking import lock_beside, writer_lock


@dataclass(frozen=True)
class LazyText:
    """A file's text, computed when the file is written (progress names the file meanwhile)."""

    make: Callable[[], str]


# A file of a run: its bytes, its text (UTF-8, maybe lazy), or a function writing it to a binary stream.
FileContent = bytes | str | LazyText | Callable[[BinaryIO], object]
ProgressCallback = Callable[[float, str], None]
CancelCheck = Callable[[], bool] | threading.Event

# How long a second writer waits for the first to finish publishing before giving up.
LOCK_WAIT_SECONDS = 600.0
_RUN_ID = re.compile(r"^\d{8}T\d{6}Z-\d+-[0-9a-f]{6}$")
_SAFE_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]*$")
_HEX64 = re.compile(r"^[0-9a-f]{64}$")

# Tests set this to a function called with the name of each step of a publish ("locked",
# "staged <file>", "manifest", "commit", "committed"), to interrupt or slow it there.
PUBLISH_CHECKPOINT: Callable[[str], None] | None = None


# The run each results folder last got from this process (output_dir -> run id): a command
# line interrupted after ``publish_run`` returned can still say truthfully that it published.
_PUBLISHED_HERE: dict[str, str] = {}


def published_by_this_process(output_dir: Path) -> str | None:
    """The id of the last run this process published into ``output_dir`` (None: none)."""
    return _PUBLISHED_HERE.get(os.path.abspath(output_dir))


def _checkpoint(step: str) -> None:
    if PUBLISH_CHECKPOINT is not None:
        PUBLISH_CHECKPOINT(step)


def runs_dir_for(output_dir: Path) -> Path:
    """Where the run folders of ``output_dir`` live (hidden, beside it)."""
    output_dir = Path(output_dir)
    return output_dir.parent / f".{output_dir.name}-runs"


def results_lock_file(output_dir: Path) -> Path:
    return lock_beside(Path(output_dir))


def _is_cancelled(cancel: CancelCheck | None) -> bool:
    if cancel is None:
        return False
    return cancel.is_set() if isinstance(cancel, threading.Event) else bool(cancel())


def _cancelled_error() -> SweepCancelled:
    return SweepCancelled("sweep cancelled; previous results left as they were")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _fsync_dir(folder: Path) -> None:
    """Make a folder's entries (new files, a renamed link) durable; a no-op where the OS
    cannot open folders (Windows)."""
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _write_file(path: Path, content: FileContent) -> str:
    """Write a new file; returns its SHA-256. Text and bytes are hashed from memory (reading
    the file back would cost as much again); a stream writer's file (the grids archive, which
    can be hundreds of MB on a long span and is written with seeks) is hashed by reading it
    back in blocks. Not yet flushed to disk: ``_fsync_files``."""
    if isinstance(content, LazyText):
        content = content.make()
    if isinstance(content, str):
        content = content.encode("utf-8")
    with open(path, "xb") as stream:
        if isinstance(content, bytes):
            stream.write(content)
        else:
            content(stream)
    return hashlib.sha256(content).hexdigest() if isinstance(content, bytes) else _sha256(path)


def _fsync_files(paths: list[Path]) -> None:
    """Flush written files to disk, in one pass after the last is written: the kernel then
    writes them back together, cheaper than a flush after each file (docs/outputs.md)."""
    for path in paths:
        with open(path, "rb+") as stream:  # writable: Windows flushes only a handle opened for writing
            os.fsync(stream.fileno())


def _new_run_id() -> str:
    return f"{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


def _link_target(output_dir: Path) -> str | None:
    """The run folder name ``output_dir`` points at, None when it is not a symlink."""
    try:
        return Path(os.readlink(output_dir)).name
    except OSError:
        return None


def _published_run_id(output_dir: Path) -> str | None:
    """The id of the run ``output_dir`` shows (symlink target, else the manifest's run_id)."""
    target = _link_target(output_dir)
    if target is not None:
        return target
    try:
        manifest = json.loads((Path(output_dir) / MANIFEST_NAME).read_text(encoding="utf-8"))
        return manifest.get("run_id") if isinstance(manifest, dict) else None
    except (OSError, ValueError):
        return None


def _remove_tree(path: Path) -> None:
    if path.is_symlink() or path.is_file():
        path.unlink(missing_ok=True)
    else:
        shutil.rmtree(path, ignore_errors=True)


def _remove_dead_runs(output_dir: Path, runs_dir: Path) -> list[str]:
    """Delete every run folder but the published one, and stale temp links. Called with the
    lock held, so no live run is writing any of them: they are runs replaced earlier or
    leftovers of runs that died."""
    keep = _link_target(output_dir)
    removed = []
    if runs_dir.is_dir():
        for child in runs_dir.iterdir():
            if child.name != keep:
                _remove_tree(child)
                removed.append(child.name)
    for link in output_dir.parent.glob(f".{output_dir.name}.tmp-*"):
        link.unlink(missing_ok=True)
        removed.append(link.name)
    return removed


def _is_result_file(name: str, listed: set[str]) -> bool:
    return name in listed or name in (JSON_NAME, MARKDOWN_NAME, GRIDS_NAME, MANIFEST_NAME, SCORECARD_NAME) or (
        name.startswith("env_heatmap_") and name.endswith(".csv")
    )


def _set_aside_plain_folder(output_dir: Path, runs_dir: Path) -> Path:
    """Move a plain ``output`` folder (older greg-tui) out of the way, in one rename.

    Leftovers of interrupted older runs (``.staging-*``, hidden ``.tmp`` files) are deleted.
    A folder holding only greg result files goes into ``runs_dir`` (deleted by a later run
    like any replaced run); one holding anything else is kept next to it, renamed
    ``<name>.before-<time>``, and never deleted."""
    listed: set[str] = set()
    with contextlib.suppress(OSError, ValueError, TypeError):
        listed = set(json.loads((output_dir / MANIFEST_NAME).read_text(encoding="utf-8")).get("files", []))
    others = []
    for child in output_dir.iterdir():
        if child.name.startswith(".staging-") or (child.name.startswith(".") and child.name.endswith(".tmp")):
            _remove_tree(child)
        elif not (child.is_file() and _is_result_file(child.name, listed)):
            others.append(child.name)
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    if others:
        destination = output_dir.with_name(f"{output_dir.name}.before-{stamp}")
    else:
        runs_dir.mkdir(parents=True, exist_ok=True)
        destination = runs_dir / f"legacy-{stamp}-{uuid.uuid4().hex[:6]}"
    os.rename(output_dir, destination)
    return destination


# Errors of os.symlink meaning "this system or file system has no symlinks for us".
_NO_SYMLINKS = {errno.EPERM, errno.EOPNOTSUPP, errno.ENOSYS, errno.EACCES}


def _switch_to(output_dir: Path, runs_dir: Path, run_dir: Path) -> None:
    """Make ``output_dir`` show ``run_dir``: one atomic rename of a symlink.

    Where symlinks cannot be made (Windows without developer mode, FAT drives) the run
    folder itself is renamed to ``output_dir`` after the previous one is set aside: two
    renames, between which readers find no results (never a mixed set)."""
    aside = None
    if output_dir.exists() and not output_dir.is_symlink():
        aside = _set_aside_plain_folder(output_dir, runs_dir)
    try:
        temp_link = output_dir.parent / f".{output_dir.name}.tmp-{run_dir.name}"
        try:
            os.symlink(os.path.relpath(run_dir, output_dir.parent), temp_link, target_is_directory=True)
        except (NotImplementedError, OSError) as exc:
            if isinstance(exc, OSError) and exc.errno not in _NO_SYMLINKS and os.name != "nt":
                raise
            temp_link = None
        _checkpoint("commit")
        if temp_link is not None:
            os.replace(temp_link, output_dir)
        else:
            if output_dir.is_symlink():
                output_dir.unlink()
            os.rename(run_dir, output_dir)
    except BaseException:
        # Not switched: put the set-aside folder back, so the previous results stay where
        # they were.
        if aside is not None and not os.path.lexists(output_dir):
            with contextlib.suppress(OSError):
                os.rename(aside, output_dir)
        raise


def publish_run(
    output_dir: Path,
    files: Mapping[str, FileContent],
    make_manifest: Callable[[list[str]], dict],
    *,
    progress: ProgressCallback | None = None,
    cancel: CancelCheck | None = None,
    lock_wait_seconds: float | None = None,
) -> Path:
    """Publish the set of ``files`` (name -> content) plus a manifest as one atomic step into
    ``output_dir`` (see module); returns the run folder.

    ``make_manifest(names)`` gets the sorted file names (manifest included) and returns the
    manifest; ``run_id`` and the SHA-256 of every file (``sha256``) are added to it.
    ``progress(fraction, message)`` runs 0..1 over the files; ``cancel`` is honoured while
    waiting for the lock (up to ``lock_wait_seconds``, default ``LOCK_WAIT_SECONDS``; then
    ``FolderBusyError``) and between files (``SweepCancelled``); once the switch starts the
    run completes. Ctrl-C raises ``PublishInterrupted`` telling whether the new set was
    already published. On any failure the previous set is untouched and this run's folder
    is deleted (or, if the process dies, deleted by the next run).
    """
    output_dir = Path(output_dir)
    bad = [name for name in files if not _SAFE_NAME.match(name) or name == MANIFEST_NAME]
    if bad:
        raise ValueError(f"not a plain result file name: {bad[0]!r}")
    output_dir.parent.mkdir(parents=True, exist_ok=True)
    runs_dir = runs_dir_for(output_dir)
    total = len(files) + 1

    def report(done: int, message: str) -> None:
        if progress is not None:
            progress(min(done / total, 1.0), message)
        if _is_cancelled(cancel):
            raise _cancelled_error()

    with writer_lock(
        results_lock_file(output_dir),
        f"the results folder {output_dir}",
        wait_seconds=LOCK_WAIT_SECONDS if lock_wait_seconds is None else lock_wait_seconds,
        on_wait=(lambda message: progress(0.0, message)) if progress is not None else None,
        cancel=cancel,
        cancelled=_cancelled_error,
    ):
        _checkpoint("locked")
        _remove_dead_runs(output_dir, runs_dir)
        run_id = _new_run_id()
        run_dir = runs_dir / run_id
        runs_dir.mkdir(parents=True, exist_ok=True)
        run_dir.mkdir()
        try:
            digests: dict[str, str] = {}
            for done, (name, content) in enumerate(files.items()):
                report(done, f"writing {name}")
                digests[name] = _write_file(run_dir / name, content)
                _checkpoint(f"staged {name}")
            _fsync_files([run_dir / name for name in files])  # on disk before the manifest names them
            report(len(files), f"writing {MANIFEST_NAME}")
            manifest = dict(make_manifest(sorted([*files, MANIFEST_NAME])))
            manifest["run_id"] = run_id
            manifest["sha256"] = digests
            _write_file(run_dir / MANIFEST_NAME, json.dumps(manifest, indent=2, default=str))
            _fsync_files([run_dir / MANIFEST_NAME])
            _fsync_dir(run_dir)
            _checkpoint("manifest")
            if progress is not None:
                progress(1.0, PUBLISHING)
            _switch_to(output_dir, runs_dir, run_dir)
            _PUBLISHED_HERE[os.path.abspath(output_dir)] = run_id
            _checkpoint("committed")
            _fsync_dir(output_dir.parent)
        except BaseException as exc:
            published = _published_run_id(output_dir) == run_id
            if published:
                _PUBLISHED_HERE[os.path.abspath(output_dir)] = run_id
            else:
                _remove_tree(run_dir)
                (output_dir.parent / f".{output_dir.name}.tmp-{run_id}").unlink(missing_ok=True)
            if isinstance(exc, KeyboardInterrupt) and not isinstance(exc, PublishInterrupted):
                raise PublishInterrupted(published, str(output_dir)) from None
            if not published:
                raise
    return run_dir


# zlib level 1: the default sweep's grids file in 0.045 s instead of numpy's 0.11 s (level 6),
# 1.13 MB instead of 1.01 MB; np.load reads it as any .npz.
NPZ_COMPRESS_LEVEL = 1
# Arrays from this size are stored as they are: the episode entries of a 1,000,000-day sweep
# (341 MB) took 5.7 s to deflate, to 167 MB; stored, the file is written in 1.1 s.
NPZ_STORE_FROM_BYTES = 8 << 20


def save_npz(stream: BinaryIO, arrays: Mapping[str, np.ndarray] | Iterable[tuple[str, np.ndarray]]) -> None:
    """``np.savez_compressed`` with a faster compression level: one ``{name}.npy`` member per
    array in a zip, deflated, or stored from ``NPZ_STORE_FROM_BYTES``. ``arrays``: a mapping,
    or (name, array) pairs made one at a time."""
    items = arrays.items() if isinstance(arrays, Mapping) else arrays
    with zipfile.ZipFile(stream, "w", zipfile.ZIP_DEFLATED, compresslevel=NPZ_COMPRESS_LEVEL) as archive:
        for name, array in items:
            array = np.asanyarray(array)
            entry: str | zipfile.ZipInfo = f"{name}.npy"  # deflated at the archive's level
            if array.nbytes >= NPZ_STORE_FROM_BYTES:
                entry = zipfile.ZipInfo(entry)
                entry.compress_type = zipfile.ZIP_STORED
            with archive.open(entry, "w", force_zip64=True) as member:
                np.lib.format.write_array(member, array, allow_pickle=False)


def sweep_files(result: SweepResult) -> tuple[dict[str, FileContent], dict[str, str]]:
    """Every file a sweep writes (name -> content, computed when written) and its kind
    ("csv:{U}:{x}:{y}", "json", "markdown", "scorecard", "grids") -> name. A new output file
    is one more entry here; ``publish_run`` takes any set."""
    files: dict[str, FileContent] = {}
    kinds: dict[str, str] = {}
    for sweep in result.underlyings:
        for grid in sweep.grids:
            name = env_csv_name(sweep.underlying, grid.x_metric, grid.y_metric)
            files[name] = LazyText(lambda grid=grid, u=sweep.underlying: grid_csv_text(grid, u))
            kinds[f"csv:{sweep.underlying}:{grid.x_metric}:{grid.y_metric}"] = name
    files[JSON_NAME] = LazyText(lambda: records_json_text(result))
    files[MARKDOWN_NAME] = LazyText(lambda: markdown_summary(result))
    files[SCORECARD_NAME] = LazyText(lambda: scorecard_json_text(result))
    files[GRIDS_NAME] = lambda stream: save_npz(stream, iter_grid_arrays(result))
    kinds.update(json=JSON_NAME, markdown=MARKDOWN_NAME, scorecard=SCORECARD_NAME, grids=GRIDS_NAME)
    return files, kinds


def write_sweep_outputs(
    result: SweepResult,
    output_dir: Path,
    started_wall: float | None = None,
    progress: ProgressCallback | None = None,
    cancel: CancelCheck | None = None,
) -> dict[str, Path]:
    """Publish every output of ``result`` into ``output_dir`` as one run (``publish_run``);
    returns the paths (under ``output_dir``) by kind ("json", "markdown", "scorecard",
    "grids", "manifest", and "csv:{U}:{x}:{y}")."""
    output_dir = Path(output_dir)
    started_wall = time.time() if started_wall is None else started_wall
    files, kinds = sweep_files(result)
    publish_run(
        output_dir, files, lambda names: manifest_for(result, names, started_wall), progress=progress, cancel=cancel
    )
    if progress is not None:
        progress(1.0, wrote_files(len(files) + 1, result.n_sweet_spots))
    kinds["manifest"] = MANIFEST_NAME
    return {kind: output_dir / name for kind, name in kinds.items()}


# ---------------------------------------------------------------------------- reading back


@dataclass
class StoredSweep:
    """A finished sweep read from disk: manifest, sweet-spot records and every grid.

    ``output_dir`` is the folder asked for; ``run_dir`` the run folder it showed when read
    (every file was read from there)."""

    output_dir: Path
    manifest: dict
    records: list[SweetSpotRecord]
    arrays: dict[str, np.ndarray]
    scorecard: dict | None = None  # greg_heatmap_scorecard.json (None: a run without outcomes)
    run_dir: Path | None = None

    @property
    def underlyings(self) -> list[str]:
        return list(self.manifest["underlyings"])

    @property
    def pairs(self) -> list[tuple[str, str]]:
        return [tuple(p) for p in self.manifest["pairs"]]

    @property
    def strategies(self) -> list[dict]:
        return self.manifest["parameters"]["strategies"]

    def grid(self, underlying: str, x_metric: str, y_metric: str) -> PairGrid:
        """The stored grid of a pair (either metric order is accepted: axes follow the
        stored order)."""
        pairs = self.pairs
        if (x_metric, y_metric) not in pairs and (y_metric, x_metric) in pairs:
            x_metric, y_metric = y_metric, x_metric
        try:
            index = pairs.index((x_metric, y_metric))
            prefix = f"{underlying}__"
            totals = self.arrays[prefix + "totals"][index]
            return PairGrid(
                x_metric=x_metric,
                y_metric=y_metric,
                x_edges=self.arrays[prefix + "x_edges"][index],
                y_edges=self.arrays[prefix + "y_edges"][index],
                counts=self.arrays[prefix + "counts"][index],
                selected=self.arrays[prefix + "selected"][index],
                score_sum=self.arrays[prefix + "score_sum"][index],
                total_samples=int(totals[0]),
                outside=int(totals[1]),
                missing=int(totals[2]),
            )
        except (ValueError, KeyError, IndexError):
            raise SweepResultsError(f"no stored grid for {underlying} {x_metric} vs {y_metric}") from None

    @property
    def has_outcomes(self) -> bool:
        """Whether the run stores outcomes per cell in the layout ``cell_outcomes`` reads
        (runs before outcomes, or with their earlier dense layout, have none to show)."""
        return any(name.endswith("__edge__shape") for name in self.arrays)

    def cell_outcomes(self, underlying: str, x_metric: str, y_metric: str, measure: str = "edge") -> CellOutcomes | None:
        """The stored forward outcomes per cell of a pair (``edge``: strategies then NO_TRADE;
        ``pnl``: each strategy's own structure), None when the run has none."""
        pairs = self.pairs
        if (x_metric, y_metric) not in pairs and (y_metric, x_metric) in pairs:
            x_metric, y_metric = y_metric, x_metric
        prefix = f"{underlying}__{measure}"
        # A run without outcomes (or with an earlier, dense layout of them) has none to show.
        if f"{prefix}__shape" not in self.arrays or (x_metric, y_metric) not in pairs:
            return None
        groups = self.manifest.get("outcome_groups") or []
        if measure == "pnl":
            groups = [g for g in groups if g != NO_TRADE_GROUP]
        horizon = self.manifest.get("parameters", {}).get("horizon_days", DEFAULT_HORIZON_DAYS)
        name = edge_column(horizon) if measure == "edge" else "pnl"
        try:
            return CellOutcomes.from_arrays(self.arrays, prefix, name, groups, pairs.index((x_metric, y_metric)))
        except KeyError as missing:
            raise SweepResultsError(f"{GRIDS_NAME} lacks {missing} of the outcomes; run the scan again") from None

    def strategy_index(self, key: str) -> int:
        keys = [s["key"] for s in self.strategies]
        return keys.index(key)


def _read_json(path: Path):
    try:
        return json.loads(path.read_bytes().decode("utf-8"))
    except FileNotFoundError:
        raise SweepResultsError(f"{path.name} is missing in {path.parent}") from None
    except (ValueError, RecursionError) as exc:  # JSON, UTF-8, nesting too deep
        raise SweepResultsError(f"{path.name} is not valid JSON ({' '.join(str(exc).split())[:160]})") from None
    except OSError as exc:
        raise SweepResultsError(f"{path.name} cannot be read ({exc.strerror or exc})") from None


def has_results(output_dir: Path) -> bool:
    return (Path(output_dir) / MANIFEST_NAME).exists()


def results_version(output_dir: Path) -> tuple | None:
    """A cheap token that changes whenever a new result set is published into ``output_dir``
    (None: nothing published). Readers poll it to notice a run written by another process."""
    output_dir = Path(output_dir)
    try:
        stat = (output_dir / MANIFEST_NAME).stat()
    except OSError:
        return None
    return (_link_target(output_dir), stat.st_mtime_ns, stat.st_size, stat.st_ino)


# ------------------------------------------------------------------ manifest shape


def _shape_error(field: str, expected: str) -> SweepResultsError:
    return SweepResultsError(f"{MANIFEST_NAME}: '{field}' must be {expected}")


def _is_number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_count(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def check_manifest_shape(manifest) -> None:
    """Refuse (``SweepResultsError`` naming the field) a manifest whose fields the readers use
    have the wrong type: the right format with the wrong shape must not reach a screen."""
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT_NAME:
        raise SweepResultsError(f"{MANIFEST_NAME} is not a greg sweep manifest")
    if manifest.get("version") != FORMAT_VERSION:
        raise SweepResultsError(f"{MANIFEST_NAME} has version {manifest.get('version')!r}, expected {FORMAT_VERSION}")
    files = manifest.get("files")
    if not isinstance(files, list) or not all(isinstance(n, str) and _SAFE_NAME.match(n) for n in files):
        raise _shape_error("files", "a list of plain file names")
    digests = manifest.get("sha256")
    if not isinstance(digests, dict) or not all(isinstance(v, str) and _HEX64.match(v) for v in digests.values()):
        raise _shape_error("sha256", "an object of SHA-256 hex digests")
    pairs = manifest.get("pairs")
    if not isinstance(pairs, list) or not all(
        isinstance(p, list) and len(p) == 2 and all(isinstance(m, str) for m in p) for p in pairs
    ):
        raise _shape_error("pairs", "a list of [x_metric, y_metric]")
    params = manifest.get("parameters")
    if not isinstance(params, dict):
        raise _shape_error("parameters", "an object")
    strategies = params.get("strategies")
    if not isinstance(strategies, list) or not strategies or not all(
        isinstance(s, dict) and isinstance(s.get("key"), str) and isinstance(s.get("label"), str) for s in strategies
    ):
        raise _shape_error("parameters.strategies", "a non-empty list of {key, label}")
    for name in ("x_bins", "y_bins", "top_k", "horizon_days", "min_episodes"):
        if name in params and not _is_count(params[name]):
            raise _shape_error(f"parameters.{name}", "a whole number")
    for name in ("min_env_frac", "min_pass_frac"):
        if name in params and not _is_number(params[name]):
            raise _shape_error(f"parameters.{name}", "a number")
    for name in ("missing_policy", "count_mode", "source", "rank_by"):
        if name in params and not isinstance(params[name], str):
            raise _shape_error(f"parameters.{name}", "text")
    for name in ("compute_seconds", "total_seconds"):
        if name in manifest and not _is_number(manifest[name]):
            raise _shape_error(name, "a number")
    if "sweet_spots" in manifest and not _is_count(manifest["sweet_spots"]):
        raise _shape_error("sweet_spots", "a whole number")
    if "created_at" in manifest and not isinstance(manifest["created_at"], str):
        raise _shape_error("created_at", "text")
    groups = manifest.get("outcome_groups", [])
    if not isinstance(groups, list) or not all(isinstance(g, str) for g in groups):
        raise _shape_error("outcome_groups", "a list of group names")
    underlyings = manifest.get("underlyings")
    if not isinstance(underlyings, dict) or not all(isinstance(info, dict) for info in underlyings.values()):
        raise _shape_error("underlyings", "an object of objects")
    for name, info in underlyings.items():
        where = f"underlyings.{name}"
        span = info.get("span")
        if span is not None and not (isinstance(span, list) and len(span) == 2 and all(isinstance(s, str) for s in span)):
            raise _shape_error(f"{where}.span", "null or [start, end]")
        for key in ("samples", "sweet_spots"):
            if key in info and not _is_count(info[key]):
                raise _shape_error(f"{where}.{key}", "a whole number")
        for key in ("source", "description"):
            if key in info and not isinstance(info[key], str):
                raise _shape_error(f"{where}.{key}", "text")
        for key in ("absent_sensors",):
            if key in info and not (isinstance(info[key], list) and all(isinstance(s, str) for s in info[key])):
                raise _shape_error(f"{where}.{key}", "a list of sensor names")
        for key in ("pair_samples", "sensor_availability", "selected_counts", "pass_counts"):
            if key in info and not (isinstance(info[key], dict) and all(_is_count(v) for v in info[key].values())):
                raise _shape_error(f"{where}.{key}", "an object of whole numbers")


def _check_arrays(arrays: dict[str, np.ndarray], manifest: dict) -> None:
    n_pairs = len(manifest["pairs"])
    n_strategies = len(manifest["parameters"]["strategies"])
    for underlying in manifest["underlyings"]:
        prefix = f"{underlying}__"
        missing = [k for k in ("counts", "selected", "score_sum", "x_edges", "y_edges", "totals") if prefix + k not in arrays]
        if missing:
            raise SweepResultsError(f"{GRIDS_NAME} has no {missing[0]} grids for {underlying}")
        counts = arrays[prefix + "counts"]
        if counts.ndim != 3 or counts.shape[0] != n_pairs:
            raise SweepResultsError(f"{GRIDS_NAME}: {underlying} counts have shape {counts.shape}, expected ({n_pairs}, x, y)")
        _pairs, x_bins, y_bins = counts.shape
        expected = {
            "selected": (n_pairs, n_strategies, x_bins, y_bins),
            "score_sum": (n_pairs, n_strategies, x_bins, y_bins),
            "x_edges": (n_pairs, x_bins + 1),
            "y_edges": (n_pairs, y_bins + 1),
            "totals": (n_pairs, 3),
        }
        for key, shape in expected.items():
            if arrays[prefix + key].shape != shape:
                raise SweepResultsError(
                    f"{GRIDS_NAME}: {underlying} {key} have shape {arrays[prefix + key].shape}, expected {shape}"
                )


# ------------------------------------------------------------------ loading


def _verify_files(run_dir: Path, manifest: dict) -> None:
    """Every file the manifest lists exists and matches its SHA-256."""
    digests = manifest["sha256"]
    for name in manifest["files"]:
        if name == MANIFEST_NAME:
            continue
        digest = digests.get(name)
        if digest is None:
            raise SweepResultsError(f"{MANIFEST_NAME} lists {name} without a checksum")
        try:
            actual = _sha256(run_dir / name)
        except FileNotFoundError:
            raise SweepResultsError(f"{name}, listed in {MANIFEST_NAME}, is missing; run the scan again") from None
        except OSError as exc:
            raise SweepResultsError(f"{name} cannot be read ({exc.strerror or exc})") from None
        if actual != digest:
            raise SweepResultsError(
                f"{name} does not match {MANIFEST_NAME} (changed or damaged since the scan); run the scan again"
            )


def _load_run(output_dir: Path, run_dir: Path) -> StoredSweep:
    manifest = _read_json(run_dir / MANIFEST_NAME)
    check_manifest_shape(manifest)
    for name in (JSON_NAME, GRIDS_NAME):
        if name not in manifest["files"]:
            raise SweepResultsError(f"{MANIFEST_NAME} does not list {name}")
    _verify_files(run_dir, manifest)
    payload = _read_json(run_dir / JSON_NAME)
    if not isinstance(payload, list):
        raise SweepResultsError(f"{JSON_NAME} is not a list of sweet-spot records")
    records = [SweetSpotRecord.from_json(r, f"{JSON_NAME} record {n}") for n, r in enumerate(payload, 1)]
    try:
        with np.load(run_dir / GRIDS_NAME, allow_pickle=False) as archive:
            arrays = {name: archive[name] for name in archive.files}
    except FileNotFoundError:
        raise SweepResultsError(f"{GRIDS_NAME} is missing in {output_dir}") from None
    except Exception as exc:  # zipfile/numpy raise several types for a damaged archive
        raise SweepResultsError(f"{GRIDS_NAME} cannot be read ({type(exc).__name__}: {exc})") from None
    _check_arrays(arrays, manifest)
    scorecard = None
    if SCORECARD_NAME in manifest["files"]:
        scorecard = _read_json(run_dir / SCORECARD_NAME)
        if not isinstance(scorecard, dict) or not isinstance(scorecard.get("underlyings"), dict):
            raise SweepResultsError(f"{SCORECARD_NAME} is not a scorecard")
    return StoredSweep(output_dir, manifest, records, arrays, scorecard=scorecard, run_dir=run_dir)


def load_sweep_results(output_dir: Path) -> StoredSweep:
    """Read a finished sweep; raises ``SweepResultsError`` naming the file for anything
    missing, corrupt, of another format or shape, or not matching the manifest.

    Everything is read from the run folder ``output_dir`` shows at the start; if a publish
    replaced it meanwhile (the old folder may be gone), the read starts again."""
    output_dir = Path(output_dir)
    for _attempt in range(3):
        run_dir = Path(os.path.realpath(output_dir))
        try:
            return _load_run(output_dir, run_dir)
        except SweepResultsError:
            if Path(os.path.realpath(output_dir)) == run_dir:
                raise
    return _load_run(output_dir, Path(os.path.realpath(output_dir)))
