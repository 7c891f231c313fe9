"""What each output file of a sweep holds (docs/outputs.md); ``backtest.heatmaps.store``
publishes them and reads them back.

* ``env_heatmap_{U}_{x}_vs_{y}.csv``: the occupancy grid of each pair (requested headers).
* ``greg_heatmap_sweetspots.json``: one record per (underlying, strategy, pair) with its
  ``sweet_spots`` list (requested shape, plus count / Wilson bound / bins).
* ``greg_heatmap_sweetspots.md``: the human-readable summary (``backtest.heatmaps.markdown``).
* ``greg_heatmap_grids.npz``: every grid (counts, per-strategy counts and score sums, edges)
  so any (underlying, strategy, pair) grid can be drawn later.
* ``greg_heatmap_scorecard.json``: did the selector's decisions pay? Per underlying, the
  scorecard rows (every group of days against not trading), each strategy's own structure,
  the sensor signals, the walk-forward baseline; the multiple-testing line over the cells.
* ``greg_heatmap_manifest.json``: parameters, data source per underlying (description, span,
  samples, sensors available, samples per pair), missing policy, count mode, timing, files.

Every output says what its outcomes can be trusted for (``outcome_trust``): outcomes on the
synthetic universe are "model outcomes", only as good as the universe's forward realism.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Iterator
from json.encoder import encode_basestring_ascii

import numpy as np

from backtest.heatmaps.outcome_cells import NO_TRADE_GROUP, iter_stacked_arrays
from backtest.heatmaps.sweep import SweepResult
from backtest.selector.evaluate import policy_note
from backtest.sensors.sources import DataSummary

FORMAT_NAME = "greg-sweep"
FORMAT_VERSION = 1
JSON_NAME = "greg_heatmap_sweetspots.json"
MARKDOWN_NAME = "greg_heatmap_sweetspots.md"
GRIDS_NAME = "greg_heatmap_grids.npz"
MANIFEST_NAME = "greg_heatmap_manifest.json"
SCORECARD_NAME = "greg_heatmap_scorecard.json"
SCORECARD_FORMAT = "greg-scorecard"


def env_csv_name(underlying: str, x_metric: str, y_metric: str) -> str:
    return f"env_heatmap_{underlying}_{x_metric}_vs_{y_metric}.csv"


def outcome_trust(data: DataSummary) -> str:
    """What a sweep's forward outcomes can be trusted for, given the data they came from."""
    if data.provenance.get("source") == "synthetic":
        regimes = str(data.provenance.get("regimes", ""))
        return (
            "model outcomes: the synthetic universe's future, only as good as its forward realism "
            f"(regimes: {regimes})"
        )
    return "real outcomes: what the recorded market did after each day"


def scorecard_json_text(result: SweepResult) -> str:
    """``greg_heatmap_scorecard.json`` (docs/outputs.md)."""
    params = result.params
    underlyings = {}
    for sweep in result.underlyings:
        if sweep.scorecard is None:
            continue
        underlyings[sweep.underlying] = {
            **sweep.scorecard.to_json(),
            "outcome_trust": outcome_trust(sweep.data),
            "pnl_rows": [] if sweep.pnl_scorecard is None else sweep.pnl_scorecard.to_json()["rows"],
            "signals": None if sweep.signals is None else sweep.signals.to_json(),
            "walk_forward": sweep.walk_forward,
        }
    payload = {
        "format": SCORECARD_FORMAT,
        "version": FORMAT_VERSION,
        "horizon_days": params.horizon_days,
        "min_episodes": params.min_episodes,
        "missing_policy": params.missing_policy,
        "underlyings": underlyings,
        "multiple_testing": None if result.multiple_testing is None else {
            **{k: v for k, v in result.multiple_testing.to_json().items() if k != "flags"},
            "what": "cells' mean edge on a strategy's days against the underlying's no-trade mean",
        },
        "research_only": True,
    }
    return json.dumps(payload, indent=2)


def _json_scalar(value) -> str:
    """``json.dumps(value)`` for the scalars a record holds, without building an encoder per
    call (what ``JSONEncoder.encode`` does for anything but a string)."""
    kind = type(value)
    if kind is str:
        return encode_basestring_ascii(value)
    if kind is float:
        if value != value:
            return "NaN"
        if value in (math.inf, -math.inf):
            return "Infinity" if value > 0 else "-Infinity"
        return float.__repr__(value)
    if value is None:
        return "null"
    if kind is bool:
        return "true" if value else "false"
    if kind is int:
        return int.__repr__(value)
    return json.dumps(value)  # anything else (empty lists or objects): the plain encoder


def records_json_text(result: SweepResult) -> str:
    """``json.dumps([r.to_json() ...], indent=2)``, byte for byte, without the pure-Python
    indenting encoder (the slowest part of writing a sweep): every record has the same flat
    shape, so each scalar is encoded as ``json`` would (``_json_scalar``) and the indentation
    is written here; the keys' text is built once per name and depth."""
    if not result.records:
        return "[]"
    key_text: dict[tuple[str, str], str] = {}

    def block(mapping: dict, indent: str) -> str:
        inner = indent + "  "
        lines = []
        for key, value in mapping.items():
            prefix = key_text.get((key, inner))
            if prefix is None:
                prefix = key_text[(key, inner)] = f"{inner}{encode_basestring_ascii(key)}: "
            if isinstance(value, dict) and value:
                lines.append(prefix + block(value, inner)[len(inner):])
            elif isinstance(value, list) and value:
                items = ",\n".join(block(item, inner + "  ") for item in value)
                lines.append(f"{prefix}[\n{items}\n{inner}]")
            else:
                lines.append(prefix + _json_scalar(value))
        return f"{indent}{{\n" + ",\n".join(lines) + f"\n{indent}}}"

    body = ",\n".join(block(record.to_json(), "  ") for record in result.records)
    return f"[\n{body}\n]"


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
            "sensor_coverage": data.coverage,
            "warnings": data.warnings,
            "absent_sensors": sweep.absent_sensors,
            "not_evaluable": sweep.not_evaluable,
            "pair_samples": {f"{g.x_metric}_vs_{g.y_metric}": g.total_samples for g in sweep.grids},
            # Samples outside a clipped axis range (counted in the pair's samples, in no cell).
            "pair_outside": {f"{g.x_metric}_vs_{g.y_metric}": g.outside for g in sweep.grids},
            "selected_counts": sweep.selected_counts,
            "pass_counts": sweep.pass_counts,
            "sweet_spots": sum(len(r.sweet_spots) for r in result.records if r.underlying == sweep.underlying),
            "outcome_trust": outcome_trust(data),
        }
    return {
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started_wall)),
        "compute_seconds": round(result.compute_seconds, 4),
        "compute_phases": result.phase_seconds,  # data, decisions, grids, outcomes
        "total_seconds": round(time.time() - started_wall, 4),
        "parameters": params.as_dict(),
        "pairs": [list(p) for p in params.pairs],
        "underlyings": underlyings,
        "sweet_spots": result.n_sweet_spots,
        "files": files,
        "missing_policy_note": policy_note(params.missing_policy),
        "outcome_groups": [*params.strategies, NO_TRADE_GROUP],  # the edge arrays' groups, in order
        "research_only": True,
    }


def iter_grid_arrays(result: SweepResult) -> Iterator[tuple[str, np.ndarray]]:
    """The grids file's arrays in order, each built when asked for, so a writer holds one."""
    for sweep in result.underlyings:
        u = sweep.underlying
        yield f"{u}__counts", np.stack([g.counts for g in sweep.grids]).astype(np.int64)
        yield f"{u}__selected", np.stack([g.selected for g in sweep.grids]).astype(np.int64)
        yield f"{u}__score_sum", np.stack([g.score_sum for g in sweep.grids])
        yield f"{u}__x_edges", np.stack([g.x_edges for g in sweep.grids])
        yield f"{u}__y_edges", np.stack([g.y_edges for g in sweep.grids])
        yield f"{u}__totals", np.array([[g.total_samples, g.outside, g.missing] for g in sweep.grids], dtype=np.int64)
        for measure, per_pair in (("edge", sweep.edge_cells), ("pnl", sweep.pnl_cells)):
            if per_pair:
                yield from iter_stacked_arrays(per_pair, f"{u}__{measure}")
