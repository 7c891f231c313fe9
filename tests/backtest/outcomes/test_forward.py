"""forward_outcomes against a plain per-day computation, on real BTC, on a constant-vol
simulation, and its use of the future only."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from backtest.data.csv_history import load_history_csv
from backtest.outcomes import forward_outcomes
from backtest.outcomes.forward import FLAT_SMILE_COLUMN, outcome_columns
from backtest.outcomes.stats import day_numbers, newey_west_se
from backtest.outcomes.structures import (
    STRUCTURES,
    hedged_pnl_column,
    pnl_column,
    structure_for_key,
    structures_for,
)
from backtest.selector.evaluate import evaluate_frame
from backtest.selector.spec import load_selector_spec, selector_spec_from_dict
from backtest.sensors.pipeline import compute_sensors
from greg_core.contract import SENSOR_NAMES

KEYS = load_selector_spec().strategy_keys

# ---------------------------------------------------------------- the definition, per day
# Written from docs/outcomes.md without the package's pricing code: N from math.erf, strikes
# by bisection on the delta, one loop per entry day and per hedge day.


def norm_cdf(x: float) -> float:
    return 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))


def bs_call(spot: float, strike: float, vol: float, years: float) -> float:
    if years <= 0:
        return max(spot - strike, 0.0)
    root = vol * math.sqrt(years)
    d1 = math.log(spot / strike) / root + root / 2
    return spot * norm_cdf(d1) - strike * norm_cdf(d1 - root)


def bs_call_delta(spot: float, strike: float, vol: float, years: float) -> float:
    root = vol * math.sqrt(years)
    return norm_cdf(math.log(spot / strike) / root + root / 2)


def strike_by_bisection(spot: float, delta: float, vol: float, years: float) -> float:
    """The strike where the call delta (delta > 0) or put delta (delta < 0) is ``delta``."""
    target = delta if delta > 0 else 1.0 + delta  # call delta at that strike
    low, high = math.log(spot) - 20, math.log(spot) + 20  # call delta falls as the strike rises
    for _ in range(200):
        middle = (low + high) / 2
        if bs_call_delta(spot, math.exp(middle), vol, years) > target:
            low = middle
        else:
            high = middle
    return math.exp((low + high) / 2)


# (option, position, strike delta or None for ATM, vol column, tenor days or None for H)
REFERENCE_LEGS = {
    "STRADDLE": [("call", -1, None, "iv_30d", None), ("put", -1, None, "iv_30d", None)],
    "STRANGLE": [("put", -1, -0.25, "iv_25d_put", None), ("call", -1, 0.25, "iv_25d_call", None)],
    "IRON_BUTTERFLY": [
        ("call", -1, None, "iv_30d", None),
        ("put", -1, None, "iv_30d", None),
        ("put", 1, -0.25, "iv_25d_put", None),
        ("call", 1, 0.25, "iv_25d_call", None),
    ],
    "SHORT_PUT": [("put", -1, -0.25, "iv_25d_put", None)],
    "BULL_PUT": [("put", -1, -0.25, "iv_25d_put", None), ("put", 1, -0.10, "iv_25d_put", None)],
    "BEAR_CALL": [("call", -1, 0.25, "iv_25d_call", None), ("call", 1, 0.10, "iv_25d_call", None)],
    "CALENDAR": [("call", -1, None, "iv_7d", 7), ("call", 1, None, "iv_30d", 30)],
}


def reference_legs(key: str):
    return next(legs for word, legs in REFERENCE_LEGS.items() if word in key)


def reference_pnl(raw: pd.DataFrame, key: str, horizon: int) -> tuple[list[float], list[float]]:
    """(unhedged, hedged) P&L in % of entry spot for every row of a daily ``raw``."""
    legs = reference_legs(key)
    holding = min(horizon if tenor is None else tenor for *_, tenor in legs)
    day = {stamp.normalize(): row for stamp, row in raw.iterrows()}

    def value(row, column):
        x = row[column]
        if column in ("iv_25d_put", "iv_25d_call") and not (
            np.isfinite(row["iv_25d_put"]) and np.isfinite(row["iv_25d_call"])
        ):
            x = row["iv_30d"]  # flat smile where the source has no skew
        return x / 100 if np.isfinite(x) and x > 0 else math.nan

    unhedged_out, hedged_out = [], []
    for stamp in raw.index:
        rows = [day.get(stamp + pd.Timedelta(days=i)) for i in range(holding + 1)]
        if any(r is None or not np.isfinite(r["close"]) for r in rows):
            unhedged_out.append(math.nan)
            hedged_out.append(math.nan)
            continue
        spots = [r["close"] for r in rows]
        s0, s_exit, exit_row = spots[0], spots[-1], rows[-1]
        unhedged = hedge = 0.0
        for option, position, delta, column, tenor in legs:
            tenor = horizon if tenor is None else tenor
            vol = value(rows[0], column)
            if math.isnan(vol):
                unhedged = hedge = math.nan
                break
            years = tenor / 365
            strike = s0 if delta is None else strike_by_bisection(s0, delta, vol, years)
            premium = bs_call(s0, strike, vol, years)
            left = tenor - holding
            if left == 0:
                exit_value = max(s_exit - strike, 0.0)
            else:  # marked on the exit day's term structure, linear in total variance
                w7 = value(exit_row, "iv_7d") ** 2 * 7
                w30 = value(exit_row, "iv_30d") ** 2 * 30
                mark = math.sqrt((w7 + (w30 - w7) * (left - 7) / 23) / left)
                exit_value = bs_call(s_exit, strike, mark, left / 365)
            deltas = [bs_call_delta(spots[i], strike, vol, (tenor - i) / 365) for i in range(holding)]
            if option == "put":
                premium -= s0 - strike
                exit_value -= s_exit - strike
                deltas = [d - 1 for d in deltas]
            unhedged += position * (exit_value - premium)
            hedge -= position * sum(d * (spots[i + 1] - spots[i]) for i, d in enumerate(deltas))
        unhedged_out.append(100 * unhedged / s0)
        hedged_out.append(100 * (unhedged + hedge) / s0)
    return unhedged_out, hedged_out


def synthetic_raw(n: int = 160, seed: int = 4, skew: bool = True) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    index = pd.date_range("2024-01-01", periods=n, freq="D", tz="UTC")
    close = 30000 * np.exp(np.cumsum(rng.normal(0, 0.035, n)))
    iv = rng.uniform(35, 90, n)
    raw = pd.DataFrame(
        {
            "open": close,
            "high": close * 1.01,
            "low": close * 0.99,
            "close": close,
            "iv_30d": iv,
            "iv_7d": iv * rng.uniform(0.8, 1.25, n),
            "iv_25d_put": iv + rng.uniform(0, 8, n) if skew else np.nan,
            "iv_25d_call": iv - rng.uniform(-2, 4, n) if skew else np.nan,
        },
        index=index,
    )
    return raw


def gappy_raw() -> pd.DataFrame:
    raw = synthetic_raw()
    raw = raw.drop(raw.index[[40, 41, 95]])  # missing days: windows across them are NaN
    raw.loc[raw.index[10:14], "iv_25d_put"] = np.nan  # no skew there: flat smile
    raw.loc[raw.index[60:63], "iv_7d"] = np.nan  # calendar needs iv_7d at entry and exit
    raw.loc[raw.index[120], "iv_30d"] = np.nan
    return raw


@pytest.mark.parametrize("horizon", [30, 10])
def test_every_structure_matches_the_per_day_definition(horizon):
    raw = gappy_raw()
    got = forward_outcomes(raw, horizon, chunk_rows=37)
    assert list(got.columns) == [*outcome_columns(KEYS, horizon), FLAT_SMILE_COLUMN]
    for key in KEYS:
        unhedged, hedged = reference_pnl(raw, key, horizon)
        np.testing.assert_allclose(got[pnl_column(key)], unhedged, rtol=0, atol=1e-9, equal_nan=True)
        np.testing.assert_allclose(got[hedged_pnl_column(key)], hedged, rtol=0, atol=1e-9, equal_nan=True)
        assert got[pnl_column(key)].notna().sum() > 40


def test_missing_days_and_ivs_blank_exactly_the_windows_that_need_them():
    raw = gappy_raw()
    got = forward_outcomes(raw, 30)
    straddle = got[pnl_column("STRATEGY_A_STRADDLE")]
    calendar = got[pnl_column("STRATEGY_B_CALENDAR")]
    gap = raw.index[40]  # first day after the two missing days
    before = raw.index[raw.index < gap]
    assert straddle.loc[before[-30:]].isna().all() and straddle.loc[before[-31]] == straddle.loc[before[-31]]
    assert calendar.loc[before[-7:]].isna().all() and np.isfinite(calendar.loc[before[-8]])
    assert calendar.iloc[60:63].isna().all() and calendar.iloc[53:56].isna().all()  # entry / exit
    # iv_30d missing on day 120: no entry there, and no calendar whose back leg is marked then.
    assert np.isnan(straddle.iloc[120]) and np.isnan(calendar.iloc[120]) and np.isnan(calendar.iloc[113])
    assert np.isfinite(straddle.iloc[113]) and np.isfinite(calendar.iloc[112])
    assert got.iloc[-30:][pnl_column("STRATEGY_A_STRADDLE")].isna().all()
    assert got[FLAT_SMILE_COLUMN].iloc[10:14].all() and not got[FLAT_SMILE_COLUMN].iloc[20]
    assert got.attrs["flat_smile_days"] == 4 and "flat smile" in got.attrs["outcome_notes"][0]


def test_chunks_and_threads_do_not_change_the_result():
    raw = synthetic_raw(400)
    one = forward_outcomes(raw, chunk_rows=1 << 15, workers=1)
    many = forward_outcomes(raw, chunk_rows=17, workers=3)
    pd.testing.assert_frame_equal(one, many)


def test_a_source_without_skew_prices_the_wings_flat_and_says_so():
    raw = synthetic_raw(skew=False)
    got = forward_outcomes(raw)
    assert got[FLAT_SMILE_COLUMN].all() and got.attrs["flat_smile_days"] == len(raw)
    with_skew_at_atm = raw.assign(iv_25d_put=raw["iv_30d"], iv_25d_call=raw["iv_30d"])
    same = forward_outcomes(with_skew_at_atm)
    numeric = outcome_columns(KEYS)
    pd.testing.assert_frame_equal(got[numeric], same[numeric])


def test_every_spec_key_has_a_structure_and_an_unknown_key_gets_none():
    assert all(structure is not None for structure in structures_for(KEYS).values())
    assert sorted(structure_for_key(k).name for k in KEYS) == sorted(s.name for s in STRUCTURES)
    data = {
        "calibration": {},
        "strategies": {"STRATEGY_Z_WHEEL": "Wheel"},
        "steps": [
            {"index": "1", "name": "WHEEL", "condition": "vrp_30d > 0", "outcome": "STRATEGY_Z_WHEEL",
             "reasoning": "r"},
            {"index": "2", "name": "DEFAULT", "condition": "always", "outcome": "NO_TRADE", "reasoning": "r"},
        ],
    }
    got = forward_outcomes(synthetic_raw(60), spec=selector_spec_from_dict(data))
    assert got[pnl_column("STRATEGY_Z_WHEEL")].isna().all()
    assert any("STRATEGY_Z_WHEEL" in note for note in got.attrs["outcome_notes"])


def test_bad_arguments_say_what_is_wrong():
    with pytest.raises(ValueError, match="horizon_days must be >= 2"):
        forward_outcomes(synthetic_raw(40), 1)
    with pytest.raises(ValueError, match="no 'close' column"):
        forward_outcomes(synthetic_raw(40).drop(columns="close"))


# ---------------------------------------------------------------- real BTC


def test_real_btc_edge_and_straddle_agree_with_a_per_day_computation(real_dir):
    raw = load_history_csv(real_dir / "btc_usd_daily_ohlcv.csv", real_dir / "btc_dvol_daily.csv")
    got = forward_outcomes(raw, 30)
    close, iv = raw["close"].to_numpy(), raw["iv_30d"].to_numpy()
    edge, straddle = [], []
    for t in range(len(raw)):
        # Daily bars without gaps here: the window is rows t..t+30.
        window = close[t : t + 31]
        if len(window) < 31 or not np.isfinite(iv[t]):
            edge.append(math.nan)
            straddle.append(math.nan)
            continue
        returns = [math.log(b / a) for a, b in zip(window[:-1], window[1:], strict=True)]
        mean = sum(returns) / 30
        rv = math.sqrt(sum((r - mean) ** 2 for r in returns) / 29) * math.sqrt(365) * 100
        edge.append(iv[t] - rv)
        premium = 2 * bs_call(window[0], window[0], iv[t] / 100, 30 / 365)  # call = put at F = K
        straddle.append(100 * (premium - abs(window[-1] - window[0])) / window[0])
    assert (raw.index[1:] - raw.index[:-1] == pd.Timedelta(days=1)).all()
    np.testing.assert_allclose(got["edge_30d"], edge, rtol=0, atol=1e-6, equal_nan=True)
    np.testing.assert_allclose(got[pnl_column("STRATEGY_A_STRADDLE")], straddle, rtol=0, atol=1e-6, equal_nan=True)
    assert got["edge_30d"].notna().sum() == got[pnl_column("STRATEGY_A_STRADDLE")].notna().sum() == 1070


# ---------------------------------------------------------------- constant-vol simulation


def test_priced_at_its_own_vol_a_gbm_pays_nothing_on_average():
    # A martingale GBM (log drift -vol^2/2) with every IV equal to the true vol: the premium is
    # the expected payoff and the hedge gains average zero, so both P&Ls average ~0.
    rng = np.random.default_rng(11)
    n, vol = 12_000, 0.6
    index = pd.date_range("1990-01-01", periods=n, freq="D", tz="UTC")
    step = vol / math.sqrt(365)
    close = 100 * np.exp(np.cumsum(rng.normal(-step**2 / 2, step, n)))
    raw = pd.DataFrame({"close": close}, index=index).assign(
        open=close, high=close, low=close, iv_30d=60.0, iv_7d=60.0, iv_25d_put=60.0, iv_25d_call=60.0
    )
    got = forward_outcomes(raw, 30)
    days = day_numbers(raw.index)
    hedged = got[hedged_pnl_column("STRATEGY_A_STRADDLE")].to_numpy()
    unhedged = got[pnl_column("STRATEGY_A_STRADDLE")].to_numpy()
    se_hedged, se_unhedged = newey_west_se(hedged, days, 29), newey_west_se(unhedged, days, 29)
    assert abs(np.nanmean(hedged)) < 2.5 * se_hedged
    assert abs(np.nanmean(unhedged)) < 2.5 * se_unhedged
    assert se_hedged < se_unhedged / 3  # hedging removes most of the path risk
    for key in KEYS:  # every structure, hedged, is fair at the true vol
        column = got[hedged_pnl_column(key)].to_numpy()
        assert abs(np.nanmean(column)) < 3 * newey_west_se(column, days, 29), key


# ---------------------------------------------------------------- the future never feeds back


def test_shuffling_the_future_changes_outcomes_but_no_sensor_or_decision():
    raw = synthetic_raw(420, seed=9)
    cut = 300  # day t: everything after it is shuffled
    shuffled = raw.copy()
    rng = np.random.default_rng(1)
    after = shuffled.index[cut + 1 :]
    for column in ("close", "open", "high", "low", "iv_30d", "iv_7d", "iv_25d_put", "iv_25d_call"):
        shuffled.loc[after, column] = rng.permutation(shuffled.loc[after, column].to_numpy())

    sensors, sensors_shuffled = compute_sensors(raw), compute_sensors(shuffled)
    pd.testing.assert_frame_equal(
        sensors.iloc[: cut + 1][list(SENSOR_NAMES)], sensors_shuffled.iloc[: cut + 1][list(SENSOR_NAMES)]
    )
    for policy in ("strict", "ignore-missing"):
        decisions = evaluate_frame(sensors, policy=policy)
        decisions_shuffled = evaluate_frame(sensors_shuffled, policy=policy)
        np.testing.assert_array_equal(decisions.selected[: cut + 1], decisions_shuffled.selected[: cut + 1])
        np.testing.assert_array_equal(decisions.passes[: cut + 1], decisions_shuffled.passes[: cut + 1])
        np.testing.assert_array_equal(decisions.scores[: cut + 1], decisions_shuffled.scores[: cut + 1])

    outcomes, outcomes_shuffled = forward_outcomes(raw), forward_outcomes(shuffled)
    for column in outcome_columns(KEYS):
        # Entries just before the cut see a different future. Held to expiry, a short put that
        # ends out of the money (or a spread at its capped loss) pays the same on two paths,
        # so unhedged P&L need only move somewhere in the window; hedging reads every close.
        holding = 7 if "CALENDAR" in column else 30
        moved = outcomes[column] != outcomes_shuffled[column]
        if column.startswith("pnl_") and not column.startswith("pnl_hedged_"):
            assert moved.iloc[cut - holding + 1 : cut + 1].any(), column
        else:
            assert moved.iloc[cut - 5 : cut + 1].all(), column
        # Entries whose whole window ends by the cut read nothing that moved.
        np.testing.assert_allclose(
            outcomes[column].iloc[: cut - holding + 1], outcomes_shuffled[column].iloc[: cut - holding + 1],
            rtol=0, atol=1e-9,
        )


def test_without_the_hedge_the_same_unhedged_outcomes():
    """A sweep asks for the unhedged P&L only: the same numbers, no hedged columns."""
    rng = np.random.default_rng(11)
    n = 200
    index = pd.date_range("2024-01-01", periods=n, freq="D", tz="UTC")
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.03, n)))
    raw = pd.DataFrame({"open": close, "high": close * 1.01, "low": close * 0.99, "close": close,
                        "iv_30d": rng.uniform(40, 70, n), "iv_7d": rng.uniform(40, 70, n),
                        "iv_25d_put": rng.uniform(45, 75, n), "iv_25d_call": rng.uniform(38, 65, n)}, index=index)
    full = forward_outcomes(raw, 30)
    lean = forward_outcomes(raw, 30, hedged=False)
    assert not [c for c in lean.columns if c.startswith("pnl_hedged_")]
    shared = [c for c in lean.columns if c != "flat_smile"]
    pd.testing.assert_frame_equal(lean[shared], full[shared])
    # A missing close, a missing bar and chunks that split the windows: the same, too (the
    # lean path finds complete windows by counting missing closes, not from the path).
    raw.loc[raw.index[50], "close"] = np.nan
    gappy = raw.drop(raw.index[120])
    full = forward_outcomes(gappy, 30, chunk_rows=17)
    lean = forward_outcomes(gappy, 30, chunk_rows=17, hedged=False)
    pd.testing.assert_frame_equal(lean[shared], full[shared])
    straddle = lean[next(c for c in lean.columns if c.startswith("pnl_") and "STRADDLE" in c)]  # held 30 days
    assert straddle.isna().iloc[20:51].all() and straddle.notna().iloc[51:89].all()  # windows over the hole
