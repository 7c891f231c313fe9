"""Sweep outputs on disk: written all-or-nothing, read back for the app without recomputing.

Files under ``<base_dir>/backtest/output/``:

* ``env_heatmap_{U}_{x}_vs_{y}.csv``: the occupancy grid of each pair (requested headers).
* ``greg_heatmap_sweetspots.json``: one record per (underlying, strategy, pair) with its
  ``sweet_spots`` list (requested shape, plus count / Wilson bound / bins).
* ``greg_heatmap_sweetspots.md``: the human-readable summary.
* ``greg_heatmap_grids.npz``: every grid (counts, per-strategy counts and score sums, edges)
  so any (underlying, strategy, pair) grid can be drawn later.
* ``greg_heatmap_manifest.json``: parameters, data source per underlying (description, span,
  samples, sensors available, samples per pair), missing policy, count mode, timing, files.

Everything is written into a hidden staging folder first and renamed into place at the end,
manifest last: no file is ever half-written, a failed or cancelled run leaves the previous
set untouched, and the manifest's SHA-256 of each file lets the reader refuse a set mixed by
a crash in the middle of the renames. Heatmap CSVs of earlier runs that the new run did not
produce are removed, so the folder holds one run's files.
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

from backtest.environment_heatmap import grid_cells, heatmap_csv_text
from backtest.greg_sweetspots import SweepCancelled, SweepResult
from backtest.heatmap_grid import PairGrid
from synthetic.atomic_io import atomic_write

FORMAT_NAME = "greg-sweep"
FORMAT_VERSION = 1
JSON_NAME = "greg_heatmap_sweetspots.json"
MARKDOWN_NAME = "greg_heatmap_sweetspots.md"
GRIDS_NAME = "greg_heatmap_grids.npz"
MANIFEST_NAME = "greg_heatmap_manifest.json"


class SweepResultsError(ValueError):
    """Result files that cannot be read; the message names the file and the problem."""


def output_dir_for(base_dir: Path) -> Path:
    return Path(base_dir) / "backtest" / "output"


def env_csv_name(underlying: str, x_metric: str, y_metric: str) -> str:
    return f"env_heatmap_{underlying}_{x_metric}_vs_{y_metric}.csv"


def _pct(value: float) -> str:
    return f"{value * 100:.1f}%"


def _num(value: float) -> str:
    """Compact, readable bin edge: 3 significant digits, no exponent for usual magnitudes."""
    if value == 0 or not np.isfinite(value):
        return f"{value:g}"
    magnitude = abs(value)
    if magnitude >= 100:
        return f"{value:.0f}"
    if magnitude >= 1:
        return f"{value:.3g}" if magnitude < 10 else f"{value:.1f}"
    return f"{value:.3f}"


def markdown_summary(result: SweepResult) -> str:
    params = result.params
    lines: list[str] = []
    for sweep in result.underlyings:
        data = sweep.data
        span = data.span
        lines += [
            f"# Greg Environment Sweet Spots – {sweep.underlying}",
            "",
            f"Data: {data.description}; {data.n_samples} samples"
            + (f" from {span[0][:10]} to {span[1][:10]}" if span else "")
            + f". Missing-sensor policy: {params.missing_policy}; counting: {params.count_mode}. "
            "Research only: no trades are placed.",
            "",
        ]
        unavailable = [name for name in sweep.absent_sensors if name in params.metrics]
        if unavailable:
            lines += [f"Sensors with no data in this source: {', '.join(unavailable)}.", ""]
        for key in params.strategies:
            records = [r for r in result.records if r["underlying"] == sweep.underlying and r["strategy_key"] == key]
            empty = [f"({r['x_metric']}, {r['y_metric']})" for r in records if not r["sweet_spots"]]
            for record in records:
                if not record["sweet_spots"]:
                    continue
                lines += [
                    f"## {record['strategy']} – ({record['x_metric']}, {record['y_metric']})",
                    "",
                    f"Top sweet spots (min_env_frac = {_pct(params.min_env_frac)}, "
                    f"min_pass_frac = {params.min_pass_frac * 100:.0f}%):",
                    "",
                ]
                for number, spot in enumerate(record["sweet_spots"], start=1):
                    lines += [
                        f"{number}. {record['x_metric']} ∈ [{_num(spot['x_low'])}, {_num(spot['x_high'])}], "
                        f"{record['y_metric']} ∈ [{_num(spot['y_low'])}, {_num(spot['y_high'])}]",
                        f"   - occupancy ≈ {_pct(spot['occupancy_frac'])}",
                        f"   - strategy pass rate ≈ {_pct(spot['strategy_pass_frac'])} "
                        f"(Wilson 95% lower bound {_pct(spot['wilson_low'])}, {spot['count']} samples)",
                        f"   - score (occupancy * pass) ≈ {spot['sweetness']:.3f}",
                        "",
                    ]
            if empty:
                label = records[0]["strategy"] if records else key
                lines += [f"{label}: no sweet spot in {len(empty)} of {len(records)} pairs.", ""]
    return "\n".join(lines).rstrip() + "\n"


def manifest_for(result: SweepResult, files: list[str], started_wall: float) -> dict:
    params = result.params
    underlyings = {}
    for sweep in result.underlyings:
        data = sweep.data
        underlyings[sweep.underlying] = {
            "source": data.source,
            "description": data.description,
            "provenance": data.provenance,
            "samples": data.n_samples,
            "span": list(data.span) if data.span else None,
            "sensor_availability": data.sensor_availability(),
            "absent_sensors": sweep.absent_sensors,
            "pair_samples": {f"{g.x_metric}_vs_{g.y_metric}": g.total_samples for g in sweep.grids},
            "selected_counts": sweep.selected_counts,
            "pass_counts": sweep.pass_counts,
            "sweet_spots": sum(len(r["sweet_spots"]) for r in result.records if r["underlying"] == sweep.underlying),
        }
    return {
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started_wall)),
        "compute_seconds": round(result.compute_seconds, 4),
        "total_seconds": round(time.time() - started_wall, 4),
        "parameters": params.as_dict(),
        "pairs": [list(p) for p in params.pairs],
        "underlyings": underlyings,
        "sweet_spots": result.n_sweet_spots,
        "files": files,
        "missing_policy_note": (
            "ignore-missing drops comparisons on sensors a source lacks altogether "
            "(absent_sensors); a sensor missing only on some rows (warm-up, gaps) fails its comparison"
            if params.missing_policy == "ignore-missing"
            else "strict: a comparison on a missing sensor is False"
        ),
        "research_only": True,
    }


def _grid_arrays(result: SweepResult) -> dict[str, np.ndarray]:
    arrays: dict[str, np.ndarray] = {}
    for sweep in result.underlyings:
        u = sweep.underlying
        arrays[f"{u}__counts"] = np.stack([g.counts for g in sweep.grids]).astype(np.int64)
        arrays[f"{u}__selected"] = np.stack([g.selected for g in sweep.grids]).astype(np.int64)
        arrays[f"{u}__score_sum"] = np.stack([g.score_sum for g in sweep.grids])
        arrays[f"{u}__x_edges"] = np.stack([g.x_edges for g in sweep.grids])
        arrays[f"{u}__y_edges"] = np.stack([g.y_edges for g in sweep.grids])
        arrays[f"{u}__totals"] = np.array([[g.total_samples, g.outside, g.missing] for g in sweep.grids], dtype=np.int64)
    return arrays


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
    n_files = sum(len(s.grids) for s in result.underlyings) + 4

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
                    heatmap_csv_text(grid_cells(grid), grid.x_metric, grid.y_metric, sweep.underlying), encoding="utf-8"
                )
                written[f"csv:{sweep.underlying}:{grid.x_metric}:{grid.y_metric}"] = name
        report(len(written), f"writing {JSON_NAME}")
        (staging / JSON_NAME).write_text(json.dumps(result.records, indent=2), encoding="utf-8")
        written["json"] = JSON_NAME
        (staging / MARKDOWN_NAME).write_text(markdown_summary(result), encoding="utf-8")
        written["markdown"] = MARKDOWN_NAME
        report(len(written), f"writing {GRIDS_NAME}")
        with open(staging / GRIDS_NAME, "wb") as stream:
            np.savez_compressed(stream, **_grid_arrays(result))
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
    records: list[dict]
    arrays: dict[str, np.ndarray]

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
        if name in (JSON_NAME, GRIDS_NAME) and (output_dir / name).exists() and _sha256(output_dir / name) != digest:
            raise SweepResultsError(
                f"{name} does not match {MANIFEST_NAME} (a scan was interrupted while moving its files); run the scan again"
            )
    records = _read_json(output_dir / JSON_NAME)
    if not isinstance(records, list) or not all(isinstance(r, dict) and "sweet_spots" in r for r in records):
        raise SweepResultsError(f"{JSON_NAME} is not a list of sweet-spot records")
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
    return StoredSweep(output_dir, manifest, records, arrays)
