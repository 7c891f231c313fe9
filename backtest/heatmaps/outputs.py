"""What each output file of a sweep holds (docs/outputs.md); ``backtest.heatmaps.store``
publishes them and reads them back.

* ``env_heatmap_{U}_{x}_vs_{y}.csv``: the occupancy grid of each pair (requested headers).
* ``greg_heatmap_sweetspots.json``: one record per (underlying, strategy, pair) with its
  ``sweet_spots`` list (requested shape, plus count / Wilson bound / bins).
* ``greg_heatmap_sweetspots.md``: the human-readable summary (``backtest.heatmaps.markdown``).
* ``greg_heatmap_grids.npz``: every grid (counts, per-strategy counts and score sums, edges)
  so any (underlying, strategy, pair) grid can be drawn later.
* ``greg_heatmap_manifest.json``: parameters, data source per underlying (description, span,
  samples, sensors available, samples per pair), missing policy, count mode, timing, files.
"""

from __future__ import annotations

import json
import time

import numpy as np

from backtest.heatmaps.sweep import SweepResult
from backtest.selector.evaluate import policy_note

FORMAT_NAME = "greg-sweep"
FORMAT_VERSION = 1
JSON_NAME = "greg_heatmap_sweetspots.json"
MARKDOWN_NAME = "greg_heatmap_sweetspots.md"
GRIDS_NAME = "greg_heatmap_grids.npz"
MANIFEST_NAME = "greg_heatmap_manifest.json"


def env_csv_name(underlying: str, x_metric: str, y_metric: str) -> str:
    return f"env_heatmap_{underlying}_{x_metric}_vs_{y_metric}.csv"


def records_json_text(result: SweepResult) -> str:
    return json.dumps([record.to_json() for record in result.records], indent=2)


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
            "not_evaluable": sweep.not_evaluable,
            "pair_samples": {f"{g.x_metric}_vs_{g.y_metric}": g.total_samples for g in sweep.grids},
            "selected_counts": sweep.selected_counts,
            "pass_counts": sweep.pass_counts,
            "sweet_spots": sum(len(r.sweet_spots) for r in result.records if r.underlying == sweep.underlying),
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
        "missing_policy_note": policy_note(params.missing_policy),
        "research_only": True,
    }


def grid_arrays(result: SweepResult) -> dict[str, np.ndarray]:
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
