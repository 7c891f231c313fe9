"""backtest.environment_heatmap (the requests' API) against the naive per-sample reference.

The reference (backtest.naive_reference) loops over dict samples, bins each by docs/heatmaps.md's
semantics and calls evaluate_greg_strategy_for_sample per sample, as the request describes.
"""

from __future__ import annotations

import csv
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backtest.heatmaps.binning import compute_pair_grid
from backtest.heatmaps.cells import (
    HeatmapCell,
    StrategyHeatmapCell,
    compute_environment_heatmap,
    compute_strategy_heatmap_for_pair,
    load_metric_samples_for_underlying,
    samples_to_frame,
    save_heatmap_csv,
)
from backtest.heatmaps.naive_reference import naive_pair
from backtest.selector.evaluate import GregDecision, evaluate_greg_strategy_for_sample
from backtest.selector.spec import load_selector_spec
from backtest.sensors.sources import load_sensor_data
from greg_core.contract import SENSOR_NAMES

STRATEGY_LABELS = dict(load_selector_spec().strategies)
STRATEGY_KEYS = tuple(STRATEGY_LABELS)

# Uniform ranges under which every waterfall step fires (each strategy selected 1-8%).
SENSOR_RANGES: dict[str, tuple[float, float]] = {
    "rv_7d": (10, 120),
    "rv_30d": (10, 120),
    "vrp_30d": (-5, 30),
    "vrp_7d": (-5, 20),
    "front_rv_iv_ratio": (0.3, 1.2),
    "chop_factor_7d": (0.2, 1.0),
    "iv_rank_6m": (0, 1),
    "term_structure_spread": (-8, 12),
    "skew_25d": (-8, 8),
    "adx_14d": (5, 40),
    "rsi_14d": (15, 85),
    "price_vs_ma200": (-40, 60),
}
HOLES = ("absent", None, math.nan, math.inf, -math.inf)


def random_samples(seed: int, n: int, hole_rate: float = 0.08, wild_rate: float = 0.03) -> list[dict]:
    """Sensor dicts with holes (absent key, None, NaN, +-inf) and some far-out values."""
    rng = np.random.default_rng(seed)
    samples = []
    for _ in range(n):
        sample: dict = {}
        for name, (low, high) in SENSOR_RANGES.items():
            if rng.random() < hole_rate:
                hole = HOLES[rng.integers(len(HOLES))]
                if hole != "absent":
                    sample[name] = hole
                continue
            value = float(rng.uniform(low, high))
            if rng.random() < wild_rate:
                value = value * 10 + (high - low) * 5
            sample[name] = value
        samples.append(sample)
    return samples


def assert_cells_match(cells, reference: dict, strategy: bool) -> None:
    expected = reference["cells"]
    assert len(cells) == len(expected) == (len(reference["x_edges"]) - 1) * (len(reference["y_edges"]) - 1)
    for cell, ref in zip(cells, expected, strict=True):
        assert isinstance(cell, StrategyHeatmapCell if strategy else HeatmapCell)
        assert (cell.x_low, cell.x_high, cell.y_low, cell.y_high) == (ref["x_low"], ref["x_high"], ref["y_low"], ref["y_high"])
        assert cell.count == ref["count"]
        assert cell.occupancy_frac == pytest.approx(ref["occupancy_frac"], rel=1e-12, abs=0)
        if strategy:
            assert cell.total_samples_in_cell == ref["count"]
            assert cell.strategy_selected_count == ref["selected_count"]
            assert cell.strategy_pass_frac == pytest.approx(ref["strategy_pass_frac"], rel=1e-12, abs=0)
            if ref["avg_score"] is None:
                assert cell.avg_score is None
            else:
                assert cell.avg_score == pytest.approx(ref["avg_score"], rel=1e-12, abs=1e-15)


@pytest.fixture(scope="module")
def samples() -> list[dict]:
    return random_samples(seed=2024, n=220)


# ------------------------------------------------------------------ environment grids


@pytest.mark.parametrize(
    ("x_metric", "y_metric", "bins", "ranges"),
    [
        ("vrp_30d", "adx_14d", (20, 20), (None, None)),
        ("skew_25d", "rsi_14d", (7, 3), (None, None)),
        ("iv_rank_6m", "term_structure_spread", (1, 1), (None, None)),
        ("vrp_30d", "adx_14d", (10, 6), ((0.0, 25.0), (10.0, 30.0))),
        ("price_vs_ma200", "chop_factor_7d", (5, 5), (None, (0.3, 0.9))),
    ],
)
def test_environment_heatmap_matches_naive(samples, x_metric, y_metric, bins, ranges):
    cells = compute_environment_heatmap(samples, x_metric, y_metric, *bins, *ranges)
    reference = naive_pair(samples, x_metric, y_metric, *bins, *ranges)
    assert_cells_match(cells, reference, strategy=False)
    assert reference["missing"] > 0, "the data should have holes"
    total, outside = reference["total_samples"], reference["outside"]
    assert sum(c.count for c in cells) == total - outside
    assert sum(c.occupancy_frac for c in cells) == pytest.approx((total - outside) / total)
    if ranges != (None, None):
        assert outside > 0, "explicit ranges should leave samples outside"
    # The same counts, with totals, from the core the function wraps.
    frame = samples_to_frame(samples)
    grid = compute_pair_grid(
        frame[x_metric].to_numpy(), frame[y_metric].to_numpy(), np.zeros((len(frame), 0), bool),
        np.zeros((len(frame), 0)), *bins, *ranges,
    )
    assert (grid.total_samples, grid.outside, grid.missing) == (total, outside, reference["missing"])


# ------------------------------------------------------------------ strategy grids

CASES = [
    ("vrp_30d", "adx_14d", "Strategy A: ATM Straddle", (8, 8), (None, None)),
    ("vrp_30d", "chop_factor_7d", "STRATEGY_A_STRANGLE", (6, 5), (None, None)),
    ("term_structure_spread", "front_rv_iv_ratio", "Strategy B: Calendar Spread", (5, 5), ((-5.0, 10.0), None)),
    ("skew_25d", "price_vs_ma200", "strategy c: short put accumulation", (4, 6), (None, None)),
    ("iv_rank_6m", "vrp_30d", "STRATEGY_D_IRON_BUTTERFLY", (5, 4), (None, (0.0, 28.0))),
    ("skew_25d", "rsi_14d", "Strategy F: Bull Put Spread", (3, 3), (None, None)),
    ("rsi_14d", "skew_25d", "Strategy F: Bear Call Spread", (1, 1), (None, None)),
]


@pytest.mark.parametrize("policy", ["strict", "ignore-missing"])
@pytest.mark.parametrize("count_mode", ["selected", "passes"])
@pytest.mark.parametrize(("x_metric", "y_metric", "strategy", "bins", "ranges"), CASES)
def test_strategy_heatmap_matches_naive(samples, x_metric, y_metric, strategy, bins, ranges, policy, count_mode):
    cells = compute_strategy_heatmap_for_pair(
        samples, x_metric, y_metric, strategy, "BTC", *bins, *ranges, policy=policy, count_mode=count_mode
    )
    reference = naive_pair(
        samples, x_metric, y_metric, *bins, *ranges, strategy=strategy, policy=policy, count_mode=count_mode
    )
    assert_cells_match(cells, reference, strategy=True)


def test_every_strategy_is_counted_somewhere(samples):
    """Guards the comparisons above against vacuous all-zero grids."""
    for key in STRATEGY_KEYS:
        for mode in ("selected", "passes"):
            cells = compute_strategy_heatmap_for_pair(samples, "vrp_30d", "adx_14d", key, "BTC", 4, 4, count_mode=mode)
            assert sum(c.strategy_selected_count for c in cells) > 0, (key, mode)


def test_passes_counts_at_least_selected(samples):
    for key in STRATEGY_KEYS:
        selected = compute_strategy_heatmap_for_pair(samples, "skew_25d", "rsi_14d", key, "BTC", 5, 5)
        passes = compute_strategy_heatmap_for_pair(samples, "skew_25d", "rsi_14d", key, "BTC", 5, 5, count_mode="passes")
        assert all(p.strategy_selected_count >= s.strategy_selected_count for s, p in zip(selected, passes, strict=True))


def test_policies_differ_on_data_with_holes(samples):
    counts = {
        policy: [
            c.strategy_selected_count
            for key in STRATEGY_KEYS
            for c in compute_strategy_heatmap_for_pair(samples, "vrp_30d", "adx_14d", key, "BTC", 3, 3, policy=policy)
        ]
        for policy in ("strict", "ignore-missing")
    }
    assert counts["strict"] != counts["ignore-missing"]


sensor_value = st.one_of(
    st.floats(-50, 120, allow_nan=False),
    st.sampled_from([0.0, 4.0, -4.0, 10.0, 35.0, 0.85, 0.8]),  # on thresholds
    st.sampled_from([None, math.nan, math.inf, -math.inf]),
)
sample_strategy = st.dictionaries(st.sampled_from(list(SENSOR_RANGES)), sensor_value, max_size=len(SENSOR_RANGES))


@settings(max_examples=40, deadline=None)
@given(
    data=st.lists(sample_strategy, max_size=25),
    strategy=st.sampled_from(list(STRATEGY_KEYS) + list(STRATEGY_LABELS.values())),
    x_bins=st.integers(1, 6),
    y_bins=st.integers(1, 6),
    x_range=st.none() | st.just((0.0, 20.0)),
    policy=st.sampled_from(["strict", "ignore-missing"]),
    count_mode=st.sampled_from(["selected", "passes"]),
)
def test_strategy_heatmap_property(data, strategy, x_bins, y_bins, x_range, policy, count_mode):
    x_metric, y_metric = "vrp_30d", "skew_25d"
    env = compute_environment_heatmap(data, x_metric, y_metric, x_bins, y_bins, x_range)
    assert_cells_match(env, naive_pair(data, x_metric, y_metric, x_bins, y_bins, x_range), strategy=False)
    cells = compute_strategy_heatmap_for_pair(
        data, x_metric, y_metric, strategy, "ETH", x_bins, y_bins, x_range, policy=policy, count_mode=count_mode
    )
    reference = naive_pair(
        data, x_metric, y_metric, x_bins, y_bins, x_range, strategy=strategy, underlying="ETH",
        policy=policy, count_mode=count_mode,
    )
    assert_cells_match(cells, reference, strategy=True)


# ------------------------------------------------------------------ edge cases


def test_empty_input_has_every_cell():
    for data in ([], iter([])):
        cells = compute_strategy_heatmap_for_pair(data, "vrp_30d", "adx_14d", "Strategy A: ATM Straddle", "BTC", 3, 4)
        assert len(cells) == 12
        assert all(c.count == 0 and c.occupancy_frac == 0 and c.strategy_pass_frac == 0 and c.avg_score is None for c in cells)
        assert [(c.x_low, c.x_high) for c in cells[:: 4]] == [(0.0, 1 / 3), (1 / 3, 2 / 3), (2 / 3, 1.0)]


def test_all_missing_samples_are_skipped():
    data = [{"vrp_30d": None, "adx_14d": 20.0}, {"vrp_30d": math.nan}, {"adx_14d": math.inf}, {}]
    cells = compute_environment_heatmap(data, "vrp_30d", "adx_14d", 2, 2)
    assert len(cells) == 4 and all(c.count == 0 and c.occupancy_frac == 0.0 for c in cells)


def test_constant_metric_and_maximum_in_last_bin():
    data = [{"vrp_30d": 10.0, "adx_14d": float(v)} for v in range(21)]
    cells = compute_environment_heatmap(data, "vrp_30d", "adx_14d", 4, 5)
    assert cells[0].x_low == pytest.approx(9.5) and cells[-1].x_high == pytest.approx(10.5)
    by_x = {}
    for c in cells:
        by_x.setdefault((c.x_low, c.x_high), 0)
        by_x[(c.x_low, c.x_high)] += c.count
    assert list(by_x.values()) == [0, 0, 21, 0]  # 10 sits on the middle edge -> upper cell
    top = cells[2 * 5 + 4]  # x bin 2, last y bin [16.6, 21]: 17..20, the maximum included
    assert top.count == 4 and top.y_high == pytest.approx(21.0)
    zero = compute_environment_heatmap([{"vrp_30d": 0.0, "adx_14d": 0.0}], "vrp_30d", "adx_14d", 1, 1)
    assert (zero[0].x_low, zero[0].x_high, zero[0].count, zero[0].occupancy_frac) == (-1.0, 1.0, 1, 1.0)


def test_explicit_range_counts_outside_samples_in_the_total():
    data = [{"vrp_30d": v, "adx_14d": 20.0} for v in (-5.0, 0.0, 5.0, 10.0, 15.0)]
    cells = compute_environment_heatmap(data, "vrp_30d", "adx_14d", 2, 1, x_range=(0.0, 10.0), y_range=(0.0, 40.0))
    assert [c.count for c in cells] == [1, 2]  # 0 | 5 and 10 (the range maximum)
    assert [c.occupancy_frac for c in cells] == [0.2, 0.4]


def test_flat_list_order_and_tiling():
    cells = compute_environment_heatmap(random_samples(1, 60), "adx_14d", "rsi_14d", 3, 4)
    assert len(cells) == 12
    for i, cell in enumerate(cells):
        assert (i // 4, i % 4) == (
            sorted({c.x_low for c in cells}).index(cell.x_low),
            sorted({c.y_low for c in cells}).index(cell.y_low),
        )
        assert cell.x_low < cell.x_high and cell.y_low < cell.y_high
    assert cells[0].x_high == cells[4].x_low and cells[0].y_high == cells[1].y_low


def test_unknown_names_raise():
    with pytest.raises(ValueError, match="unknown metric"):
        compute_environment_heatmap([], "vrp", "adx_14d")
    with pytest.raises(ValueError, match="unknown strategy"):
        compute_strategy_heatmap_for_pair([], "vrp_30d", "adx_14d", "Strategy Z", "BTC")
    with pytest.raises(ValueError, match="count mode"):
        compute_strategy_heatmap_for_pair([], "vrp_30d", "adx_14d", "STRATEGY_A_STRADDLE", "BTC", count_mode="all")
    with pytest.raises(ValueError, match="missing-sensor policy"):
        compute_strategy_heatmap_for_pair([], "vrp_30d", "adx_14d", "STRATEGY_A_STRADDLE", "BTC", policy="lenient")


# ------------------------------------------------------------------ data path, CSV


def test_sensor_frame_and_dict_samples_give_the_same_grid():
    data = load_sensor_data("BTC", lookback_days=240)
    frame = data.sensors.copy()
    frame.iloc[::9, frame.columns.get_loc("skew_25d")] = np.nan
    as_dicts = frame[list(SENSOR_NAMES)].to_dict("records")
    assert isinstance(frame.index, pd.DatetimeIndex)
    for strategy in ("STRATEGY_A_STRANGLE", "STRATEGY_C_SHORT_PUT"):
        from_frame = compute_strategy_heatmap_for_pair(frame, "skew_25d", "vrp_30d", strategy, "BTC", 6, 6)
        from_dicts = compute_strategy_heatmap_for_pair(as_dicts, "skew_25d", "vrp_30d", strategy, "BTC", 6, 6)
        assert from_frame == from_dicts
        assert sum(c.count for c in from_frame) == len(frame) - len(frame.iloc[::9])


def test_load_metric_samples_for_underlying():
    samples = list(load_metric_samples_for_underlying("ETH", lookback_days=120))
    assert len(samples) == 120
    assert all(set(s) == set(SENSOR_NAMES) for s in samples)
    assert all(v is None or isinstance(v, float) for s in samples for v in s.values())
    again = list(load_metric_samples_for_underlying("ETH", lookback_days=120))
    assert samples == again  # deterministic
    frame = load_sensor_data("ETH", lookback_days=120).sensors
    assert samples[5]["vrp_30d"] == pytest.approx(frame["vrp_30d"].iloc[5])


def test_evaluate_greg_strategy_for_sample_is_exported():
    decision = evaluate_greg_strategy_for_sample(
        {"adx_14d": 15, "chop_factor_7d": 0.5, "vrp_30d": 18, "skew_25d": 1, "iv_rank_6m": 0.3,
         "term_structure_spread": 0, "front_rv_iv_ratio": 0.9, "vrp_7d": 0},
        "BTC",
    )
    assert isinstance(decision, GregDecision)
    assert decision.selected_key == "STRATEGY_A_STRADDLE" and decision.selected_label == "Strategy A: ATM Straddle"
    assert decision.status("Strategy B: OTM Strangle").status.startswith("blocked by")


def test_save_heatmap_csv(tmp_path):
    cells = compute_environment_heatmap(random_samples(3, 80), "vrp_30d", "adx_14d", 4, 3)
    path = tmp_path / "deep" / "env.csv"
    path.parent.mkdir()
    save_heatmap_csv(cells, path, "vrp_30d", "adx_14d", "BTC")
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "underlying,x_metric,y_metric,x_low,x_high,y_low,y_high,count,occupancy_frac"
    rows = list(csv.DictReader(path.open(encoding="utf-8")))
    assert len(rows) == 12
    for row, cell in zip(rows, cells, strict=True):
        assert (row["underlying"], row["x_metric"], row["y_metric"]) == ("BTC", "vrp_30d", "adx_14d")
        assert float(row["x_low"]) == cell.x_low and float(row["y_high"]) == cell.y_high
        assert int(row["count"]) == cell.count and float(row["occupancy_frac"]) == cell.occupancy_frac
    assert [p.name for p in path.parent.iterdir()] == ["env.csv"]  # no temp file left
