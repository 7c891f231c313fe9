"""The one sensor pipeline against TA-Lib and straightforward independent computations."""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import talib
from hypothesis import given, settings
from hypothesis import strategies as st

from backtest.data.csv_history import empty_raw_frame, load_history_csv
from backtest.sensors.pipeline import compute_sensors, wilder_adx, wilder_rsi
from greg_core.contract import RAW_COLUMNS, SENSOR_NAMES

ANNUALIZE = math.sqrt(365.0) * 100.0
TOL = 1e-6


# ----------------------------------------------------------------------------- helpers


def sample_sd(values: list[float]) -> float:
    mean = math.fsum(values) / len(values)
    return math.sqrt(math.fsum((v - mean) ** 2 for v in values) / (len(values) - 1))


def loop_rv(close: list[float], window: int, annualize: float = ANNUALIZE) -> list[float]:
    """rv over the last ``window`` close-to-close log returns, NaN when any is missing."""
    out = [math.nan] * len(close)
    usable = [c if c > 0 else math.nan for c in close]  # NaN compares False: stays NaN
    returns = [math.nan] + [
        math.log(usable[i] / usable[i - 1])
        if not (math.isnan(usable[i]) or math.isnan(usable[i - 1]))
        else math.nan
        for i in range(1, len(close))
    ]
    for i in range(window, len(close)):
        chunk = returns[i - window + 1 : i + 1]
        if not any(math.isnan(r) for r in chunk):
            out[i] = sample_sd(chunk) * annualize
    return out


def covered_window(values: list[float], i: int, window: int) -> list[float] | None:
    """The present values of the window ending at i, when the window lies after the series'
    first value and at least 90% of it is present (docs/sensors.md "Gaps"); else None."""
    first = next((k for k, v in enumerate(values) if not math.isnan(v)), None)
    if first is None or i < first + window - 1:
        return None
    chunk = [v for v in values[i - window + 1 : i + 1] if not math.isnan(v)]
    return chunk if len(chunk) >= math.ceil(0.9 * window) else None


def loop_iv_rank(iv: list[float], window: int = 182) -> list[float]:
    out = [math.nan] * len(iv)
    for i in range(len(iv)):
        chunk = covered_window(iv, i, window)
        if chunk is None or math.isnan(iv[i]):
            continue
        low, high = min(chunk), max(chunk)
        if high > low:
            out[i] = (iv[i] - low) / (high - low)
    return out


def loop_price_vs_ma(close: list[float], window: int = 200) -> list[float]:
    out = [math.nan] * len(close)
    for i in range(len(close)):
        chunk = covered_window(close, i, window)
        if chunk is not None and not math.isnan(close[i]):
            out[i] = (close[i] / (math.fsum(chunk) / len(chunk)) - 1.0) * 100.0
    return out


def assert_series_close(actual: pd.Series | np.ndarray, expected: list[float] | np.ndarray, tol: float = TOL) -> None:
    actual = np.asarray(actual, dtype=float)
    expected = np.asarray(expected, dtype=float)
    assert actual.shape == expected.shape
    np.testing.assert_array_equal(np.isnan(actual), np.isnan(expected), err_msg="NaN positions differ")
    finite = ~np.isnan(expected)
    assert finite.any()
    np.testing.assert_allclose(actual[finite], expected[finite], rtol=0, atol=tol)


def random_bars(seed: int, n: int, start: str = "2024-01-01") -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    close = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.03, n)))
    open_ = np.concatenate(([close[0]], close[:-1]))
    high = np.maximum(open_, close) * np.exp(np.abs(rng.normal(0.0, 0.01, n)))
    low = np.minimum(open_, close) * np.exp(-np.abs(rng.normal(0.0, 0.01, n)))
    raw = empty_raw_frame(pd.date_range(start, periods=n, freq="D", tz="UTC"))
    raw["open"], raw["high"], raw["low"], raw["close"] = open_, high, low, close
    raw["iv_30d"] = 50.0 + 10.0 * np.sin(np.arange(n) / 17.0) + rng.normal(0.0, 1.0, n)
    raw["iv_7d"] = raw["iv_30d"] + rng.normal(0.0, 3.0, n)
    raw["iv_25d_put"] = raw["iv_30d"] + rng.normal(2.0, 1.5, n)
    raw["iv_25d_call"] = raw["iv_30d"] + rng.normal(0.0, 1.5, n)
    return raw


@pytest.fixture(scope="module")
def real_raw(real_dir: Path) -> pd.DataFrame:
    return load_history_csv(real_dir / "btc_usd_daily_ohlcv.csv", real_dir / "btc_dvol_daily.csv")


@pytest.fixture(scope="module")
def real_sensors(real_raw: pd.DataFrame) -> pd.DataFrame:
    return compute_sensors(real_raw)


# ----------------------------------------------------------------------------- TA-Lib


def test_adx_equals_talib_on_real_bars(real_raw: pd.DataFrame, real_sensors: pd.DataFrame) -> None:
    h, lo, c = (real_raw[k].to_numpy() for k in ("high", "low", "close"))
    expected = talib.ADX(h, lo, c, timeperiod=14)
    assert np.isnan(expected[:27]).all() and not np.isnan(expected[27:]).any()
    assert_series_close(real_sensors["adx_14d"], expected)
    assert_series_close(wilder_adx(h, lo, c, 14), expected)


def test_rsi_equals_talib_on_real_bars(real_raw: pd.DataFrame, real_sensors: pd.DataFrame) -> None:
    c = real_raw["close"].to_numpy()
    expected = talib.RSI(c, timeperiod=14)
    assert np.isnan(expected[:14]).all() and not np.isnan(expected[14:]).any()
    assert_series_close(real_sensors["rsi_14d"], expected)
    assert_series_close(wilder_rsi(c, 14), expected)


@pytest.mark.parametrize("period", [2, 5, 14, 30])
@pytest.mark.parametrize("seed", [0, 1])
def test_wilder_functions_equal_talib_for_other_periods(period: int, seed: int) -> None:
    raw = random_bars(seed, 250)
    h, lo, c = (raw[k].to_numpy() for k in ("high", "low", "close"))
    assert_series_close(wilder_adx(h, lo, c, period), talib.ADX(h, lo, c, timeperiod=period))
    assert_series_close(wilder_rsi(c, period), talib.RSI(c, timeperiod=period))


# ----------------------------------------------------------------------------- independent loops


def test_realized_vol_matches_loop(real_raw: pd.DataFrame, real_sensors: pd.DataFrame) -> None:
    close = real_raw["close"].tolist()
    assert_series_close(real_sensors["rv_7d"], loop_rv(close, 7))
    assert_series_close(real_sensors["rv_30d"], loop_rv(close, 30))
    assert real_sensors["rv_7d"].first_valid_index() == real_raw.index[7]
    assert real_sensors["rv_30d"].first_valid_index() == real_raw.index[30]


def test_iv_based_sensors_match_loop(real_raw: pd.DataFrame, real_sensors: pd.DataFrame) -> None:
    close, iv = real_raw["close"].tolist(), real_raw["iv_30d"].tolist()
    rv7, rv30 = loop_rv(close, 7), loop_rv(close, 30)
    vrp = [i - r for i, r in zip(iv, rv30, strict=True)]
    chop = [r / i for i, r in zip(iv, rv7, strict=True)]
    assert_series_close(real_sensors["vrp_30d"], vrp)
    assert_series_close(real_sensors["chop_factor_7d"], chop)
    assert_series_close(real_sensors["iv_rank_6m"], loop_iv_rank(iv))
    assert real_sensors["iv_rank_6m"].first_valid_index() == pd.Timestamp("2023-05-06", tz="UTC")
    # Without iv_7d and 25-delta IVs in the history, their sensors are missing, not zero.
    for name in ("vrp_7d", "front_rv_iv_ratio", "term_structure_spread", "skew_25d"):
        assert real_sensors[name].isna().all(), name


def test_price_vs_ma200_matches_loop(real_raw: pd.DataFrame, real_sensors: pd.DataFrame) -> None:
    expected = loop_price_vs_ma(real_raw["close"].tolist())
    assert_series_close(real_sensors["price_vs_ma200"], expected)
    assert real_sensors["price_vs_ma200"].first_valid_index() == real_raw.index[199]


def test_term_spread_skew_and_front_ratio_match_loop() -> None:
    raw = random_bars(7, 120)
    sensors = compute_sensors(raw)
    rv7 = loop_rv(raw["close"].tolist(), 7)
    iv30, iv7 = raw["iv_30d"].tolist(), raw["iv_7d"].tolist()
    put, call = raw["iv_25d_put"].tolist(), raw["iv_25d_call"].tolist()
    assert_series_close(sensors["term_structure_spread"], [a - b for a, b in zip(iv7, iv30, strict=True)])
    assert_series_close(sensors["skew_25d"], [p - c for p, c in zip(put, call, strict=True)])
    assert_series_close(sensors["vrp_7d"], [i - r for i, r in zip(iv7, rv7, strict=True)])
    assert_series_close(sensors["front_rv_iv_ratio"], [r / i for i, r in zip(iv7, rv7, strict=True)])
    # Positive skew means puts richer.
    assert sensors["skew_25d"].mean() > 0


def test_output_layout_keeps_raw_and_extra_columns() -> None:
    raw = random_bars(3, 60)
    raw["regime_id"] = np.arange(60) % 3
    raw.attrs["source"] = "test"
    sensors = compute_sensors(raw)
    assert list(sensors.columns) == list(RAW_COLUMNS) + list(SENSOR_NAMES) + ["regime_id"]
    pd.testing.assert_index_equal(sensors.index, raw.index)
    pd.testing.assert_frame_equal(sensors[list(RAW_COLUMNS)], raw[list(RAW_COLUMNS)])
    assert sensors["regime_id"].tolist() == raw["regime_id"].tolist()
    assert sensors.attrs["source"] == "test"
    assert "rv_7d" not in raw.columns, "the input frame is not modified"


def test_missing_raw_columns_are_treated_as_nan() -> None:
    raw = random_bars(4, 60)[["open", "high", "low", "close"]]
    sensors = compute_sensors(raw)
    assert sensors["iv_30d"].isna().all() and sensors["vrp_30d"].isna().all()
    assert sensors["rv_7d"].notna().sum() == 60 - 7


def test_hourly_bars_scale_windows_and_annualization() -> None:
    n = 24 * 12
    rng = np.random.default_rng(5)
    close = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.005, n)))
    raw = empty_raw_frame(pd.date_range("2024-01-01", periods=n, freq="h", tz="UTC"))
    raw["open"] = raw["high"] = raw["low"] = raw["close"] = close
    sensors = compute_sensors(raw)
    expected = loop_rv(close.tolist(), 7 * 24, annualize=math.sqrt(365.0 * 24.0) * 100.0)
    assert_series_close(sensors["rv_7d"], expected)
    assert sensors["rv_7d"].first_valid_index() == raw.index[168]


# ----------------------------------------------------------------------------- NaN holes


def test_nan_close_blanks_rv_windows_and_bridges_wilder(real_raw: pd.DataFrame) -> None:
    raw = real_raw.iloc[:500].copy()
    hole = 250
    raw.iloc[hole, raw.columns.get_loc("close")] = np.nan
    sensors = compute_sensors(raw)
    close = raw["close"].tolist()

    assert_series_close(sensors["rv_7d"], loop_rv(close, 7))
    assert_series_close(sensors["rv_30d"], loop_rv(close, 30))
    assert sensors["rv_7d"].iloc[hole : hole + 8].isna().all()
    assert sensors["rv_7d"].iloc[hole + 8 :].notna().all()
    assert sensors["rv_30d"].iloc[hole : hole + 31].isna().all()
    assert sensors["rv_30d"].iloc[hole + 31 :].notna().all()
    # The 200-day average tolerates one missing close (90% of its days): no 200-day blackout.
    assert_series_close(sensors["price_vs_ma200"], loop_price_vs_ma(close))
    assert math.isnan(sensors["price_vs_ma200"].iloc[hole])
    assert sensors["price_vs_ma200"].iloc[hole + 1 :].notna().all()

    # RSI/ADX bridge the one-bar gap: TA-Lib on the rows as given (the hole row left out).
    h, lo, c = (raw[k].to_numpy() for k in ("high", "low", "close"))
    kept = np.arange(len(raw)) != hole
    expected_rsi = np.full(len(raw), np.nan)
    expected_rsi[kept] = talib.RSI(c[kept], 14)
    expected_adx = np.full(len(raw), np.nan)
    expected_adx[kept] = talib.ADX(h[kept], lo[kept], c[kept], 14)
    assert_series_close(sensors["rsi_14d"], expected_rsi)
    assert_series_close(sensors["adx_14d"], expected_adx)
    assert sensors.attrs["bridged_gaps"] == 1 and sensors.attrs["restarted_gaps"] == 0


@pytest.mark.parametrize("missing", [1, 2, 3, 4, 7])
def test_missing_bars_are_bridged_up_to_three_then_restart(real_raw: pd.DataFrame, missing: int) -> None:
    raw = real_raw.iloc[:400]
    gone = raw.index[200 : 200 + missing]
    given = raw.drop(index=gone)  # missing days, as a real daily file has them
    sensors = compute_sensors(given)
    h, lo, c = (given[k].to_numpy() for k in ("high", "low", "close"))
    if missing <= 3:  # the rows as given, as TA-Lib and charting platforms take them
        expected_adx, expected_rsi = talib.ADX(h, lo, c, 14), talib.RSI(c, 14)
        assert sensors.attrs["bridged_gaps"] == 1 and sensors.attrs["restarted_gaps"] == 0
    else:  # a longer gap restarts the warm-up
        expected_adx = np.concatenate([talib.ADX(h[:200], lo[:200], c[:200], 14), talib.ADX(h[200:], lo[200:], c[200:], 14)])
        expected_rsi = np.concatenate([talib.RSI(c[:200], 14), talib.RSI(c[200:], 14)])
        assert sensors.attrs["bridged_gaps"] == 0 and sensors.attrs["restarted_gaps"] == 1
    assert_series_close(sensors["adx_14d"], expected_adx)
    assert_series_close(sensors["rsi_14d"], expected_rsi)
    # Realized vol never takes a multi-day move for a daily one.
    assert sensors["rv_7d"].iloc[200:207].isna().all()


def test_nan_iv_only_touches_iv_sensors_and_windows(real_raw: pd.DataFrame) -> None:
    raw = real_raw.iloc[-400:].copy()
    hole = 100
    raw.iloc[hole, raw.columns.get_loc("iv_30d")] = np.nan
    sensors = compute_sensors(raw)
    assert math.isnan(sensors["vrp_30d"].iloc[hole]) and math.isnan(sensors["chop_factor_7d"].iloc[hole])
    assert sensors["vrp_30d"].iloc[30:].drop(raw.index[hole]).notna().all()
    assert_series_close(sensors["iv_rank_6m"], loop_iv_rank(raw["iv_30d"].tolist()))
    # One missing IV day no longer blanks the 6-month rank for half a year.
    assert math.isnan(sensors["iv_rank_6m"].iloc[hole])
    assert sensors["iv_rank_6m"].iloc[181:].notna().all()  # the hole (row 100) lies in every window to row 281
    # Price sensors do not care about a missing IV.
    assert sensors["rv_30d"].iloc[30:].notna().all() and sensors["adx_14d"].iloc[27:].notna().all()


@pytest.mark.parametrize("unit", ["s", "ms", "us", "ns"])
def test_missing_day_behaves_as_missing_input(real_raw: pd.DataFrame, unit: str) -> None:
    raw = real_raw.iloc[:400].copy()
    raw.index = raw.index.as_unit(unit)  # the grid step must not assume nanoseconds
    gone = raw.index[200]
    blanked = raw.copy()
    blanked.loc[gone, list(RAW_COLUMNS)] = np.nan
    dropped = compute_sensors(raw.drop(index=gone))
    expected = compute_sensors(blanked).drop(index=gone)
    pd.testing.assert_frame_equal(dropped, expected)
    # The bar after the gap has no one-day return: no 2-day move passes for a daily one.
    assert math.isnan(dropped.loc[raw.index[201], "rv_7d"])
    assert dropped["rv_7d"].iloc[-1] == pytest.approx(compute_sensors(raw)["rv_7d"].iloc[-1])


# ----------------------------------------------------------------------------- degenerate


def test_constant_prices() -> None:
    raw = empty_raw_frame(pd.date_range("2024-01-01", periods=300, freq="D", tz="UTC"))
    raw[["open", "high", "low", "close"]] = 100.0
    raw["iv_30d"] = 50.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sensors = compute_sensors(raw)
    values = sensors[list(SENSOR_NAMES)].to_numpy()
    assert not np.isinf(values).any()
    assert sensors["rv_7d"].iloc[:7].isna().all() and (sensors["rv_7d"].iloc[7:] == 0.0).all()
    assert sensors["rv_30d"].iloc[:30].isna().all() and (sensors["rv_30d"].iloc[30:] == 0.0).all()
    assert (sensors["chop_factor_7d"].iloc[7:] == 0.0).all()
    assert (sensors["vrp_30d"].iloc[30:] == 50.0).all()
    # Documented choice: a flat market has no trend (ADX 0 after warm-up) ...
    assert sensors["adx_14d"].iloc[:27].isna().all() and (sensors["adx_14d"].iloc[27:] == 0.0).all()
    # ... and no RSI (neither gains nor losses; 0 would read as oversold).
    assert sensors["rsi_14d"].isna().all()
    assert (sensors["price_vs_ma200"].iloc[199:] == 0.0).all()
    # A constant IV has no range to rank in.
    assert sensors["iv_rank_6m"].isna().all()


def test_single_row() -> None:
    raw = empty_raw_frame(pd.date_range("2024-01-01", periods=1, freq="D", tz="UTC"))
    raw[["open", "high", "low", "close", "iv_30d"]] = [100.0, 101.0, 99.0, 100.5, 50.0]
    sensors = compute_sensors(raw)
    assert len(sensors) == 1
    assert sensors[list(SENSOR_NAMES)].isna().all().all()
    assert sensors["close"].iloc[0] == 100.5


def test_empty_frame() -> None:
    sensors = compute_sensors(empty_raw_frame())
    assert len(sensors) == 0
    assert set(SENSOR_NAMES) <= set(sensors.columns)
    bare = compute_sensors(pd.DataFrame(index=pd.DatetimeIndex([], tz="UTC")))
    assert len(bare) == 0 and set(SENSOR_NAMES) <= set(bare.columns)


def test_non_positive_close_is_missing_not_inf() -> None:
    raw = random_bars(9, 80)
    raw.iloc[40, raw.columns.get_loc("close")] = 0.0
    sensors = compute_sensors(raw)
    assert not np.isinf(sensors[list(SENSOR_NAMES)].to_numpy()).any()
    assert math.isnan(sensors["rv_7d"].iloc[40])
    assert sensors["rv_7d"].iloc[-1] == pytest.approx(loop_rv(raw["close"].tolist(), 7)[-1])


# ----------------------------------------------------------------------------- README facts


def test_readme_facts_on_real_btc(real_sensors: pd.DataFrame) -> None:
    s = real_sensors
    assert s["vrp_30d"].mean() == pytest.approx(6.8, abs=0.2)
    assert s["vrp_30d"].std() == pytest.approx(10.0, abs=0.5)
    assert s["chop_factor_7d"].median() == pytest.approx(0.76, abs=0.01)
    assert s["adx_14d"].median() == pytest.approx(24.0, abs=0.5)
    assert s["iv_rank_6m"].mean() == pytest.approx(0.37, abs=0.01)
    assert s["iv_rank_6m"].dropna().index[0] == pd.Timestamp("2023-05-06", tz="UTC")


# ----------------------------------------------------------------------------- properties


@st.composite
def positive_ohlc(draw) -> pd.DataFrame:
    n = draw(st.integers(min_value=30, max_value=90))
    moves = draw(st.lists(st.floats(-0.2, 0.2, allow_nan=False), min_size=n, max_size=n))
    wicks = draw(st.lists(st.floats(0.0, 0.1, allow_nan=False), min_size=2 * n, max_size=2 * n))
    start = draw(st.floats(0.01, 1e6))
    close = start * np.exp(np.cumsum(moves))
    open_ = np.concatenate(([start], close[:-1]))
    high = np.maximum(open_, close) * np.exp(np.asarray(wicks[:n]))
    low = np.minimum(open_, close) * np.exp(-np.asarray(wicks[n:]))
    raw = empty_raw_frame(pd.date_range("2024-01-01", periods=n, freq="D", tz="UTC"))
    raw["open"], raw["high"], raw["low"], raw["close"] = open_, high, low, close
    return raw


@settings(max_examples=60, deadline=None)
@given(positive_ohlc())
def test_adx_rsi_bounded_and_nothing_infinite(raw: pd.DataFrame) -> None:
    sensors = compute_sensors(raw)
    assert not np.isinf(sensors[list(SENSOR_NAMES)].to_numpy()).any()
    for name in ("adx_14d", "rsi_14d"):
        values = sensors[name].dropna()
        assert ((values >= -1e-9) & (values <= 100.0 + 1e-9)).all(), name
    assert sensors["adx_14d"].iloc[:27].isna().all() and sensors["adx_14d"].iloc[27:].notna().all()
    assert (sensors["rv_7d"].dropna() >= 0).all()


@settings(max_examples=30, deadline=None)
@given(positive_ohlc(), st.floats(1e-3, 1e3))
def test_price_scale_does_not_change_price_sensors(raw: pd.DataFrame, scale: float) -> None:
    scaled = raw.copy()
    scaled[["open", "high", "low", "close"]] *= scale
    a, b = compute_sensors(raw), compute_sensors(scaled)
    for name in ("rv_7d", "rv_30d", "adx_14d", "rsi_14d"):
        np.testing.assert_allclose(a[name], b[name], rtol=1e-6, atol=1e-6, err_msg=name)
