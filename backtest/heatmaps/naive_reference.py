"""A deliberately naive, per-sample reference of the heatmap and sweet-spot algorithm.

Plain Python, loops over dict samples, written straight from the requests and docs/heatmaps.md
("Binning", "Sweet spots") without numpy or any code of the vectorized engine:

* per metric pair: skip samples missing either metric (absent, None, NaN, +-inf); infer each
  axis range from the remaining samples (min/max widened by 5% of the span each side; a
  constant metric by 5% of |value|, or 1 at 0) unless a range is given; equal-width bins,
  bin ``i`` = ``[edge_i, edge_i+1)``, the range's maximum in the last bin; samples outside an
  explicit range fall in no cell but count in ``total_samples``;
* per strategy and pair, per sample: bin it, call ``evaluate_greg_strategy_for_sample`` and
  count the sample when Greg selects the strategy (``count_mode="selected"``) or when the
  strategy's own condition passes (``"passes"``); add the strategy's score;
* sweet spots: occupancy * pass rate, filtered by ``min_env_frac`` / ``min_pass_frac``,
  non-empty cells only, top K by sweetness (ties: more samples first, then lower x bin, then
  lower y bin), each with its count and Wilson 95% lower bound.

It is the oracle of the tests and the baseline of ``scripts/bench_sweep.py``; the app never
uses it (it is hundreds of times slower than ``backtest.greg_sweetspots``).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from backtest.selector.evaluate import (
    evaluate_greg_strategy_for_sample,
    resolve_strategy,
    strategy_label,
)

MARGIN = 0.05
WILSON_Z = 1.959963984540054


def naive_value(sample: Mapping[str, Any], name: str) -> float | None:
    """The metric as a finite float, or None when it is absent, None, NaN or infinite."""
    value = sample.get(name)
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    if math.isnan(number) or math.isinf(number):
        return None
    return number


def naive_edges(values: list[float], bins: int, value_range: tuple[float, float] | None = None) -> list[float]:
    if value_range is not None:
        low, high = float(value_range[0]), float(value_range[1])
    elif not values:
        low, high = 0.0, 1.0
    else:
        low, high = min(values), max(values)
        if high > low:
            margin = (high - low) * MARGIN
        elif low != 0:
            margin = abs(low) * MARGIN
        else:
            margin = 1.0
        low, high = low - margin, high + margin
    step = (high - low) / bins
    return [i * step + low for i in range(bins)] + [high]


def naive_bin(value: float, edges: list[float]) -> int | None:
    bins = len(edges) - 1
    if value == edges[-1]:
        return bins - 1
    for i in range(bins):
        if edges[i] <= value < edges[i + 1]:
            return i
    return None


def naive_wilson(successes: int, trials: int, z: float = WILSON_Z) -> float:
    if trials == 0:
        return 0.0
    p = successes / trials
    denominator = 1 + z * z / trials
    centre = p + z * z / (2 * trials)
    spread = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials))
    return min(1.0, max(0.0, (centre - spread) / denominator))


def naive_pair(
    samples: Sequence[Mapping[str, Any]],
    x_metric: str,
    y_metric: str,
    x_bins: int = 20,
    y_bins: int = 20,
    x_range: tuple[float, float] | None = None,
    y_range: tuple[float, float] | None = None,
    strategy: str | None = None,
    underlying: str = "BTC",
    policy: str = "strict",
    count_mode: str = "selected",
) -> dict:
    """One pair's grid: edges, totals and the flat cell list (x-major, every cell), with the
    strategy's counts when ``strategy`` (key or label) is given."""
    present = []
    missing = 0
    for sample in samples:
        x, y = naive_value(sample, x_metric), naive_value(sample, y_metric)
        if x is None or y is None:
            missing += 1
        else:
            present.append((x, y, sample))
    x_edges = naive_edges([p[0] for p in present], x_bins, x_range)
    y_edges = naive_edges([p[1] for p in present], y_bins, y_range)
    counts = [[0] * y_bins for _ in range(x_bins)]
    selected = [[0] * y_bins for _ in range(x_bins)]
    scores: list[list[list[float]]] = [[[] for _ in range(y_bins)] for _ in range(x_bins)]
    label = None if strategy is None else strategy_label(resolve_strategy(strategy))
    outside = 0
    for x, y, sample in present:
        bx, by = naive_bin(x, x_edges), naive_bin(y, y_edges)
        if bx is None or by is None:
            outside += 1
            continue
        counts[bx][by] += 1
        if label is not None:
            decision = evaluate_greg_strategy_for_sample(sample, underlying, policy=policy)
            status = decision.status(label)
            # "selected": Greg's pick is this strategy; "passes": its own condition holds.
            hit = decision.selected_label == label if count_mode == "selected" else status.passes
            if hit:
                selected[bx][by] += 1
            scores[bx][by].append(status.score)
    total = len(present)
    cells = []
    for bx in range(x_bins):
        for by in range(y_bins):
            count = counts[bx][by]
            cell = {
                "x_bin": bx,
                "y_bin": by,
                "x_low": x_edges[bx],
                "x_high": x_edges[bx + 1],
                "y_low": y_edges[by],
                "y_high": y_edges[by + 1],
                "count": count,
                "occupancy_frac": count / total if total else 0.0,
            }
            if label is not None:
                cell["selected_count"] = selected[bx][by]
                cell["strategy_pass_frac"] = selected[bx][by] / count if count else 0.0
                cell["avg_score"] = sum(scores[bx][by]) / count if count else None
            cells.append(cell)
    return {
        "x_edges": x_edges,
        "y_edges": y_edges,
        "total_samples": total,
        "outside": outside,
        "missing": missing,
        "cells": cells,
    }


def naive_sweet_spots(cells: list[dict], min_env_frac: float, min_pass_frac: float, top_k: int) -> list[dict]:
    kept = []
    for cell in cells:
        if cell["count"] == 0:
            continue
        if cell["occupancy_frac"] >= min_env_frac and cell["strategy_pass_frac"] >= min_pass_frac:
            sweetness = cell["occupancy_frac"] * cell["strategy_pass_frac"]
            kept.append((sweetness, cell))
    kept.sort(key=lambda item: (-item[0], -item[1]["count"], item[1]["x_bin"], item[1]["y_bin"]))
    spots = []
    for sweetness, cell in kept[:top_k]:
        spots.append(
            {
                "x_low": cell["x_low"],
                "x_high": cell["x_high"],
                "y_low": cell["y_low"],
                "y_high": cell["y_high"],
                "occupancy_frac": cell["occupancy_frac"],
                "strategy_pass_frac": cell["strategy_pass_frac"],
                "sweetness": sweetness,
                "count": cell["count"],
                "selected_count": cell["selected_count"],
                "wilson_low": naive_wilson(cell["selected_count"], cell["count"]),
                "avg_score": cell["avg_score"],
                "x_bin": cell["x_bin"],
                "y_bin": cell["y_bin"],
            }
        )
    return spots


def naive_sweep(
    samples_by_underlying: Mapping[str, Iterable[Mapping[str, Any]]],
    metrics: Sequence[str],
    strategies: Sequence[str],
    x_bins: int = 20,
    y_bins: int = 20,
    min_env_frac: float = 0.005,
    min_pass_frac: float = 0.4,
    top_k: int = 5,
    policy: str = "strict",
    count_mode: str = "selected",
    pairs: Sequence[tuple[str, str]] | None = None,
) -> dict:
    """The requests' sweep: per underlying, per unordered metric pair, the environment grid;
    per strategy and pair, the strategy grid and its sweet spots. Returns ``{"env": {(U, x,
    y): pair}, "records": [...]}`` with records shaped like the sweep's JSON."""
    env: dict[tuple[str, str, str], dict] = {}
    records: list[dict] = []
    for underlying, samples in samples_by_underlying.items():
        samples = list(samples)
        pair_list = list(pairs) if pairs is not None else list(itertools.combinations(metrics, 2))
        for x_metric, y_metric in pair_list:
            env[(underlying, x_metric, y_metric)] = naive_pair(samples, x_metric, y_metric, x_bins, y_bins)
        for x_metric, y_metric in pair_list:
            for strategy in strategies:
                grid = naive_pair(
                    samples, x_metric, y_metric, x_bins, y_bins, strategy=strategy,
                    underlying=underlying, policy=policy, count_mode=count_mode,
                )
                key = resolve_strategy(strategy)
                records.append(
                    {
                        "underlying": underlying,
                        "strategy": strategy_label(key),
                        "strategy_key": key,
                        "x_metric": x_metric,
                        "y_metric": y_metric,
                        "samples": grid["total_samples"],
                        "sweet_spots": naive_sweet_spots(grid["cells"], min_env_frac, min_pass_frac, top_k),
                    }
                )
    # Records in the engine's order: underlying, then pair, then strategy.
    order = {(u, x, y): i for i, (u, x, y) in enumerate(env)}
    position = {resolve_strategy(s): i for i, s in enumerate(strategies)}
    records.sort(key=lambda r: (order[(r["underlying"], r["x_metric"], r["y_metric"])], position[r["strategy_key"]]))
    return {"env": env, "records": records}
