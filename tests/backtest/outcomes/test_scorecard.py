"""The scorecard, the signals table and the multiple-testing line."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from backtest.data.csv_history import load_history_csv
from backtest.outcomes import forward_outcomes
from backtest.outcomes.scorecard import (
    ALL_GROUP,
    TRADE_GROUP,
    compute_scorecard,
    compute_signals,
    difference_of_means,
    multiple_testing,
    sensor_signal,
)
from backtest.outcomes.stats import day_numbers, summarize_outcomes
from backtest.selector.evaluate import NO_TRADE, evaluate_frame
from backtest.selector.spec import load_selector_spec
from backtest.sensors.pipeline import compute_sensors

SPEC = load_selector_spec()
BLOCKING = [step.name for step in SPEC.steps if step.outcome == NO_TRADE]


def synthetic_raw(n: int = 700, seed: int = 8) -> pd.DataFrame:
    """Calm-ish bars under a swinging IV, so most waterfall steps fire; two missing days."""
    rng = np.random.default_rng(seed)
    index = pd.date_range("2021-01-01", periods=n, freq="D", tz="UTC")
    close = 20000 * np.exp(np.cumsum(rng.normal(0.0, 0.02, n)))
    open_ = np.r_[close[0], close[:-1]]
    iv = 52 + 10 * np.sin(np.arange(n) / 40) + rng.normal(0, 2, n)
    skew = rng.normal(0, 4, n)
    return pd.DataFrame(
        {
            "open": open_,
            "high": np.maximum(open_, close) * (1 + rng.uniform(0, 0.03, n)),
            "low": np.minimum(open_, close) * (1 - rng.uniform(0, 0.03, n)),
            "close": close,
            "iv_30d": iv,
            "iv_7d": iv + rng.normal(0, 6, n),
            "iv_25d_put": iv + skew / 2 + 2,
            "iv_25d_call": iv - skew / 2 + 2,
        },
        index=index,
    ).drop(index[[300, 301]])


@pytest.fixture(scope="module")
def inputs():
    raw = synthetic_raw()
    sensors = compute_sensors(raw)
    decisions = evaluate_frame(sensors, policy="ignore-missing")
    return sensors, decisions, forward_outcomes(raw)


def test_groups_partition_the_evaluable_days(inputs):
    sensors, decisions, outcomes = inputs
    card = compute_scorecard(sensors, decisions, outcomes, underlying="SYN")
    rows = {row.group: row for row in card.rows}
    assert [r.group for r in card.rows] == [ALL_GROUP, TRADE_GROUP, NO_TRADE, *SPEC.strategy_keys, *BLOCKING]
    strategies = sum(rows[k].days for k in SPEC.strategy_keys)
    assert rows[TRADE_GROUP].days == strategies
    assert rows[ALL_GROUP].days == strategies + rows[NO_TRADE].days
    assert rows[NO_TRADE].days == sum(rows[name].days for name in BLOCKING)
    assert card.total_days == len(sensors)
    assert card.not_evaluable_days == int((~decisions.evaluable).sum())
    evaluable = decisions.evaluable
    assert card.evaluable_without_outcome == int((evaluable & outcomes["edge_30d"].isna().to_numpy()).sum())
    assert rows[ALL_GROUP].days + card.evaluable_without_outcome == int(evaluable.sum())
    assert rows[TRADE_GROUP].days > 50 and rows[NO_TRADE].days > 50  # the synthetic data trades


def test_rows_carry_the_summary_and_the_difference_to_no_trade(inputs):
    sensors, decisions, outcomes = inputs
    card = compute_scorecard(sensors, decisions, outcomes)
    days = day_numbers(sensors.index)
    edge = outcomes["edge_30d"].to_numpy()
    no_trade = decisions.selected_mask(NO_TRADE)
    trade = decisions.evaluable & (decisions.selected < len(SPEC.strategy_keys))
    row = card.row(TRADE_GROUP)
    expected = summarize_outcomes(edge, days, 30, trade)
    assert (row.days, row.episodes) == (expected.n, expected.episodes)
    assert row.mean == pytest.approx(expected.mean) and row.ci_low == pytest.approx(expected.ci_low)
    picked = np.isfinite(edge)
    assert row.diff_vs_no_trade == pytest.approx(edge[trade & picked].mean() - edge[no_trade & picked].mean())
    assert math.isfinite(row.diff_t)
    assert card.row(NO_TRADE).diff_vs_no_trade == 0 and math.isnan(card.row(NO_TRADE).diff_t)
    assert row.thin == (row.episodes < 8)


def reference_difference_t(values, days, group, reference, lags):
    """The HAC t of a difference of two means, as a double loop over the influence terms."""
    a = [(d, v) for d, v, g in zip(days, values, group, strict=True) if g and math.isfinite(v)]
    b = [(d, v) for d, v, r in zip(days, values, reference, strict=True) if r and math.isfinite(v)]
    mean_a, mean_b = sum(v for _, v in a) / len(a), sum(v for _, v in b) / len(b)
    u: dict[int, float] = {}
    for d, v in a:
        u[d] = u.get(d, 0.0) + (v - mean_a) / len(a)
    for d, v in b:
        u[d] = u.get(d, 0.0) - (v - mean_b) / len(b)
    total = sum(
        (1 - abs(i - j) / (lags + 1)) * ui * uj for i, ui in u.items() for j, uj in u.items() if abs(i - j) <= lags
    )
    return (mean_a - mean_b) / math.sqrt(total)


def test_difference_t_matches_the_double_loop():
    rng = np.random.default_rng(2)
    days = np.sort(rng.choice(400, 300, replace=False))
    values = np.cumsum(rng.normal(size=300)) * 0.2 + rng.normal(size=300)
    values[::17] = np.nan
    group = rng.random(300) < 0.4
    disjoint = ~group & (rng.random(300) < 0.8)
    overlapping = rng.random(300) < 0.5
    for reference in (disjoint, overlapping):
        _, t = difference_of_means(values, days, group, reference, 9)
        assert t == pytest.approx(reference_difference_t(values, days, group, reference, 9), rel=1e-10)


def test_structure_pnl_as_the_measure(inputs):
    sensors, decisions, outcomes = inputs
    card = compute_scorecard(sensors, decisions, outcomes, measure="pnl")
    assert [r.group for r in card.rows] == list(SPEC.strategy_keys)
    for row in card.rows:
        assert row.measure == f"pnl_{row.group}"
        assert row.horizon_days == (7 if "CALENDAR" in row.group else 30)
    hedged = compute_scorecard(sensors, decisions, outcomes, measure="pnl_hedged")
    assert all(r.measure.startswith("pnl_hedged_") for r in hedged.rows)
    with pytest.raises(ValueError, match="unknown measure"):
        compute_scorecard(sensors, decisions, outcomes, measure="sharpe")


def test_inputs_must_belong_together(inputs):
    sensors, decisions, outcomes = inputs
    with pytest.raises(ValueError, match="not on the sensor frame's index"):
        compute_scorecard(sensors, decisions, outcomes.shift(1, freq="D"))
    with pytest.raises(ValueError, match="rows"):
        compute_scorecard(sensors.iloc[:-1], decisions, outcomes.iloc[:-1])


def test_json_is_plain_and_finite(inputs):
    sensors, decisions, outcomes = inputs
    card = compute_scorecard(sensors, decisions, outcomes, underlying="SYN").to_json()
    signals = compute_signals(sensors, outcomes["edge_30d"]).to_json()
    line = multiple_testing([1.0, 2.5, np.nan]).to_json()
    for payload in (card, signals, line):
        json.dumps(payload, allow_nan=False)
    assert card["rows"][0]["group"] == ALL_GROUP and card["measure"] == "edge_30d"
    assert "Newey-West" in card["interval"]


# ---------------------------------------------------------------- signals


def test_signal_slope_r2_and_quintiles_by_hand():
    rng = np.random.default_rng(6)
    n = 1000
    days = np.arange(n)
    sensor = rng.normal(10, 3, n)
    outcome = 2.0 * (sensor - 10) / 3 + rng.normal(0, 1, n)
    row = sensor_signal(sensor, outcome, days, 30, "x")
    z = (sensor - sensor.mean()) / sensor.std()
    slope, intercept = np.polyfit(z, outcome, 1)
    assert row.slope == pytest.approx(slope) and row.n == n and row.episodes == 34
    assert row.r2 == pytest.approx(np.corrcoef(sensor, outcome)[0, 1] ** 2)
    # HAC t by the formula: Var(b) = sum_L w_L sum_t (z e)_t (z e)_{t-L} / (sum z^2)^2.
    score = z * (outcome - intercept - slope * z)
    total = sum((1 - lag / 30) * (2 if lag else 1) * np.dot(score[lag:], score[: n - lag]) for lag in range(30))
    assert row.slope_t == pytest.approx(slope / (math.sqrt(total) / np.dot(z, z)))
    assert [q.n for q in row.quintiles] == [200] * 5
    assert row.quintiles[0].low == sensor.min() and row.quintiles[-1].high == sensor.max()
    means = [q.mean for q in row.quintiles]
    assert means == sorted(means)


def test_a_sensor_without_values_or_spread_has_no_slope():
    days = np.arange(50)
    assert math.isnan(sensor_signal(np.full(50, np.nan), np.ones(50), days, 30).slope)
    assert math.isnan(sensor_signal(np.ones(50), np.arange(50.0), days, 30).slope)


# ---------------------------------------------------------------- multiple testing


def test_multiple_testing_counts_and_flags():
    t = np.array([0.5, -2.5, 2.1, 6.0, np.nan, 1.9])
    line = multiple_testing(t)
    assert (line.tests, line.clear) == (5, 3)
    assert line.expected_by_chance == pytest.approx(5 * 0.0455003, rel=1e-5)
    # p = 0.617 0.0124 0.0357 2e-9 - 0.0574; sorted against 0.01 0.02 0.03 0.04 0.05 the
    # first two pass: BH keeps |t| = 6 and -2.5, not 2.1.
    assert line.flags == (False, True, False, True, False, False)
    assert "3 of 5 clear |t| > 2" in line.sentence()
    from_p = multiple_testing(p_values=[0.001, 0.04, 0.5])
    assert (from_p.tests, from_p.clear, from_p.discoveries) == (3, 2, 1)
    with pytest.raises(ValueError):
        multiple_testing()


# ---------------------------------------------------------------- real BTC


def test_real_btc_trade_days_earned_less_edge_than_no_trade_days(real_dir):
    raw = load_history_csv(real_dir / "btc_usd_daily_ohlcv.csv", real_dir / "btc_dvol_daily.csv")
    sensors = compute_sensors(raw)
    decisions = evaluate_frame(sensors, policy="ignore-missing")
    card = compute_scorecard(sensors, decisions, forward_outcomes(raw), underlying="BTC")
    everything, trade, safety = card.row(ALL_GROUP), card.row(TRADE_GROUP), card.row("SAFETY_FILTER")
    assert (everything.days, everything.episodes) == (1070, 36)
    assert everything.mean == pytest.approx(7.87, abs=0.01)
    # Measured: trade days -5.3 vol pts against no-trade days, HAC t -2.5; the safety filter's
    # blocked days +10.4, above NO_TRADE and every non-thin strategy.
    assert -7 < trade.diff_vs_no_trade < -3.5 and trade.diff_t < -2
    assert safety.mean > card.row(NO_TRADE).mean
    assert all(safety.mean > row.mean for row in card.rows if row.kind == "strategy" and not row.thin)


def test_batches_group_consecutive_items_under_the_limit():
    from backtest.outcomes.stats import batches

    assert batches([3, 3, 3], limit=6) == [slice(0, 2), slice(2, 3)]
    assert batches([10, 1, 1], limit=5) == [slice(0, 1), slice(1, 3)]  # too big: a run of its own
    assert batches([], limit=5) == []
    assert batches([1] * 4) == [slice(0, 4)]


def test_batched_passes_give_the_same_rows_and_signals(inputs, monkeypatch):
    """A long span is computed a few keys at a time (bounded memory): the same figures."""
    import backtest.outcomes.scorecard as scorecard
    from backtest.outcomes import stats

    sensors, decisions, outcomes = inputs
    whole = [compute_scorecard(sensors, decisions, outcomes, measure=m) for m in ("edge", "pnl")]
    signals = compute_signals(sensors, outcomes["edge_30d"])
    monkeypatch.setattr(scorecard, "batches", lambda sizes: stats.batches(sizes, limit=1))
    # And the Newey-West sums of the differences a few rows at a time, a long row on its dense grid.
    monkeypatch.setattr(scorecard, "BARTLETT_CHUNK", 50)
    monkeypatch.setattr(stats, "BARTLETT_CHUNK", 50)
    one_by_one = [compute_scorecard(sensors, decisions, outcomes, measure=m) for m in ("edge", "pnl")]
    # Equal up to rounding: a Newey-West running sum carries the residue of the keys before it.
    for card, reference in zip(one_by_one, whole, strict=True):
        assert [r.group for r in card.rows] == [r.group for r in reference.rows]
        for row, expected in zip(card.rows, reference.rows, strict=True):
            numbers = [f for f, v in vars(expected).items() if isinstance(v, float)]
            assert [getattr(row, f) for f in numbers] == pytest.approx([getattr(expected, f) for f in numbers],
                                                                       rel=1e-9, nan_ok=True)
            assert (row.days, row.episodes, row.thin) == (expected.days, expected.episodes, expected.thin)
    batched = compute_signals(sensors, outcomes["edge_30d"])
    for row, expected in zip(batched.rows, signals.rows, strict=True):
        assert (row.sensor, row.n, row.episodes) == (expected.sensor, expected.n, expected.episodes)
        assert [row.slope, row.slope_t, row.r2] == pytest.approx([expected.slope, expected.slope_t, expected.r2],
                                                                 rel=1e-9, nan_ok=True)
