"""Publishing a sweep's files all-or-nothing, and reading them back without recomputing.

Everything is written into a hidden staging folder first and renamed into place at the end,
manifest last: no file is ever half-written, a failed or cancelled run leaves the previous
set untouched, and the manifest's SHA-256 of each file lets the reader refuse a set mixed by
a crash in the middle of the renames. Heatmap CSVs of earlier runs that the new run did not
produce are removed, so the folder holds one run's files. What each file holds:
``backtest.heatmaps.outputs`` (docs/outputs.md).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

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
    grid_arrays,
    manifest_for,
    records_json_text,
    scorecard_json_text,
)
from backtest.heatmaps.sweep import SweepResult
from backtest.heatmaps.sweetspots import SweetSpotRecord
from greg_core.atomic_io import atomic_write
from greg_core.errors import SweepCancelled, SweepResultsError


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _remove_stale_heatmaps(output_dir: Path, keep: set[str]) -> list[str]:
    """Delete env heatmap CSVs of earlier runs that this run did not write, so a glob over
    ``env_heatmap_*.csv`` never mixes parameter sets."""
    removed = []
    for path in output_dir.glob("env_heatmap_*.csv"):
        if path.name not in keep:
            path.unlink(missing_ok=True)
            removed.append(path.name)
    return removed


def write_sweep_outputs(
    result: SweepResult,
    output_dir: Path,
    started_wall: float | None = None,
    progress: Callable[[float, str], None] | None = None,
    cancel: Callable[[], bool] | threading.Event | None = None,
) -> dict[str, Path]:
    """Write every output of ``result`` into ``output_dir`` (see module); returns the paths
    by kind ("json", "markdown", "grids", "manifest", and "csv:{U}:{x}:{y}").

    Files are prepared in a staging folder (cancellable until then), then renamed into place
    with the manifest last; the manifest holds each file's SHA-256 so ``load_sweep_results``
    can tell a complete set from one interrupted mid-move. CSVs of earlier runs that this run
    did not produce are removed.
    """
    output_dir.mkdir(parents=True, exist_ok=True)
    started_wall = time.time() if started_wall is None else started_wall
    staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=output_dir))
    n_files = sum(len(s.grids) for s in result.underlyings) + 5

    def report(done: int, message: str) -> None:
        if progress is not None:
            progress(min(done / n_files, 1.0), message)
        if cancel is not None and (cancel.is_set() if isinstance(cancel, threading.Event) else cancel()):
            raise SweepCancelled("sweep cancelled; previous results left as they were")

    try:
        written: dict[str, str] = {}
        for sweep in result.underlyings:
            for grid in sweep.grids:
                name = env_csv_name(sweep.underlying, grid.x_metric, grid.y_metric)
                report(len(written), f"writing {name}")
                (staging / name).write_text(
                    grid_csv_text(grid, sweep.underlying), encoding="utf-8"
                )
                written[f"csv:{sweep.underlying}:{grid.x_metric}:{grid.y_metric}"] = name
        report(len(written), f"writing {JSON_NAME}")
        (staging / JSON_NAME).write_text(records_json_text(result), encoding="utf-8")
        written["json"] = JSON_NAME
        (staging / MARKDOWN_NAME).write_text(markdown_summary(result), encoding="utf-8")
        written["markdown"] = MARKDOWN_NAME
        (staging / SCORECARD_NAME).write_text(scorecard_json_text(result), encoding="utf-8")
        written["scorecard"] = SCORECARD_NAME
        report(len(written), f"writing {GRIDS_NAME}")
        with open(staging / GRIDS_NAME, "wb") as stream:
            np.savez_compressed(stream, **grid_arrays(result))
        written["grids"] = GRIDS_NAME
        manifest = manifest_for(result, sorted(written.values()) + [MANIFEST_NAME], started_wall)
        manifest["sha256"] = {name: _sha256(staging / name) for name in written.values()}
        manifest_text = json.dumps(manifest, indent=2, default=str)
        report(len(written), "moving results into place")
        # From here on nothing is cancelled: renames within one folder, manifest last.
        for name in written.values():
            with open(staging / name, "rb") as handle:
                os.fsync(handle.fileno())
            os.replace(staging / name, output_dir / name)
        atomic_write(output_dir / MANIFEST_NAME, lambda temp: temp.write_text(manifest_text, encoding="utf-8"))
        written["manifest"] = MANIFEST_NAME
        _remove_stale_heatmaps(output_dir, set(written.values()))
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    if progress is not None:
        progress(1.0, f"wrote {len(written)} files, {result.n_sweet_spots} sweet spots")
    return {kind: output_dir / name for kind, name in written.items()}


# ---------------------------------------------------------------------------- reading back


@dataclass
class StoredSweep:
    """A finished sweep read from disk: manifest, sweet-spot records and every grid."""

    output_dir: Path
    manifest: dict
    records: list[SweetSpotRecord]
    arrays: dict[str, np.ndarray]
    scorecard: dict | None = None  # greg_heatmap_scorecard.json (None: a run without outcomes)

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

    def cell_outcomes(self, underlying: str, x_metric: str, y_metric: str, measure: str = "edge") -> CellOutcomes | None:
        """The stored forward outcomes per cell of a pair (``edge``: strategies then NO_TRADE;
        ``pnl``: each strategy's own structure), None when the run has none."""
        pairs = self.pairs
        if (x_metric, y_metric) not in pairs and (y_metric, x_metric) in pairs:
            x_metric, y_metric = y_metric, x_metric
        prefix = f"{underlying}__{measure}"
        if f"{prefix}__n" not in self.arrays or (x_metric, y_metric) not in pairs:
            return None
        groups = self.manifest.get("outcome_groups") or []
        if measure == "pnl":
            groups = [g for g in groups if g != NO_TRADE_GROUP]
        horizon = self.manifest.get("parameters", {}).get("horizon_days", 30)
        name = f"edge_{horizon}d" if measure == "edge" else "pnl"
        return CellOutcomes.from_arrays(self.arrays, prefix, name, groups, pairs.index((x_metric, y_metric)))

    def strategy_index(self, key: str) -> int:
        keys = [s["key"] for s in self.strategies]
        return keys.index(key)


def _read_json(path: Path):
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SweepResultsError(f"{path.name} is missing in {path.parent}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise SweepResultsError(f"{path.name} is not valid JSON ({exc})") from None


def has_results(output_dir: Path) -> bool:
    return (output_dir / MANIFEST_NAME).exists()


def results_version(output_dir: Path) -> tuple | None:
    """A cheap token that changes whenever a new result set is published into ``output_dir``
    (None: nothing published). Readers poll it to notice a run written by another process."""
    try:
        stat = (Path(output_dir) / MANIFEST_NAME).stat()
    except OSError:
        return None
    return (stat.st_mtime_ns, stat.st_size, stat.st_ino)


def load_sweep_results(output_dir: Path) -> StoredSweep:
    """Read a finished sweep; raises ``SweepResultsError`` naming the file for anything
    missing, corrupt or of another format."""
    output_dir = Path(output_dir)
    manifest = _read_json(output_dir / MANIFEST_NAME)
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT_NAME:
        raise SweepResultsError(f"{MANIFEST_NAME} is not a greg sweep manifest")
    if manifest.get("version") != FORMAT_VERSION:
        raise SweepResultsError(f"{MANIFEST_NAME} has version {manifest.get('version')!r}, expected {FORMAT_VERSION}")
    for name, digest in (manifest.get("sha256") or {}).items():
        if name in (JSON_NAME, GRIDS_NAME, SCORECARD_NAME) and (output_dir / name).exists() and _sha256(output_dir / name) != digest:
            raise SweepResultsError(
                f"{name} does not match {MANIFEST_NAME} (a scan was interrupted while moving its files); run the scan again"
            )
    payload = _read_json(output_dir / JSON_NAME)
    if not isinstance(payload, list):
        raise SweepResultsError(f"{JSON_NAME} is not a list of sweet-spot records")
    records = [SweetSpotRecord.from_json(r, f"{JSON_NAME} record {n}") for n, r in enumerate(payload, 1)]
    try:
        with np.load(output_dir / GRIDS_NAME, allow_pickle=False) as archive:
            arrays = {name: archive[name] for name in archive.files}
    except FileNotFoundError:
        raise SweepResultsError(f"{GRIDS_NAME} is missing in {output_dir}") from None
    except Exception as exc:  # zipfile/numpy raise several types for a damaged archive
        raise SweepResultsError(f"{GRIDS_NAME} cannot be read ({type(exc).__name__}: {exc})") from None
    for underlying in manifest.get("underlyings", {}):
        if f"{underlying}__counts" not in arrays:
            raise SweepResultsError(f"{GRIDS_NAME} has no grids for {underlying}")
    scorecard = None
    if SCORECARD_NAME in (manifest.get("files") or []):
        scorecard = _read_json(output_dir / SCORECARD_NAME)
        if not isinstance(scorecard, dict) or not isinstance(scorecard.get("underlyings"), dict):
            raise SweepResultsError(f"{SCORECARD_NAME} is not a scorecard")
    return StoredSweep(output_dir, manifest, records, arrays, scorecard)
