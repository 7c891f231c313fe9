"""The synthetic universe: contract shape, reproducibility, the regime chain, sensor coverage."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from backtest.heatmaps.cells import load_metric_samples_for_underlying
from backtest.sensors.pipeline import compute_sensors
from greg_core.contract import RAW_COLUMNS, SENSOR_NAMES
from synthetic.regime_model import (
    RegimeModel,
    default_regime_model,
    load_regime_model,
    save_regime_model,
)
from synthetic.regimes import estimate_transition_matrix
from synthetic.universe import (
    DEFAULT_END,
    MAX_BARS,
    SyntheticMarket,
    bridge_extremes,
    generate_market,
    synthetic_calendar,
)


@pytest.fixture(scope="module")
def btc_model() -> RegimeModel:
    return default_regime_model("BTC")


@pytest.fixture(scope="module")
def market(btc_model: RegimeModel) -> SyntheticMarket:
    return generate_market("BTC", 500, seed=11, model=btc_model)


def two_regime_model() -> RegimeModel:
    base = default_regime_model("BTC")
    regimes = {
        0: dataclasses.replace(base.regimes[0], mu_rv_30d=20.0, name="file calm"),
        1: dataclasses.replace(base.regimes[5], mu_rv_30d=90.0, name="file stormy"),
    }
    matrix = np.array([[0.95, 0.05], [0.1, 0.9]])
    return RegimeModel("BTC", regimes, matrix, {"source": "test file"}, source="test")


def test_same_seed_same_frame_different_seed_differs(btc_model: RegimeModel, market: SyntheticMarket) -> None:
    again = generate_market("BTC", 500, seed=11, model=btc_model)
    pd.testing.assert_frame_equal(market.raw, again.raw)
    other = generate_market("BTC", 500, seed=12, model=btc_model)
    assert not np.allclose(market.raw["close"], other.raw["close"])
    assert not np.allclose(market.raw["iv_30d"], other.raw["iv_30d"])


def test_contract_columns_and_index(market: SyntheticMarket) -> None:
    raw = market.raw
    assert list(raw.columns) == list(RAW_COLUMNS) + ["regime_id"]
    assert len(raw) == 500 + market.warmup_bars
    assert len(market.requested) == 500
    index = raw.index
    assert isinstance(index, pd.DatetimeIndex) and str(index.tz) == "UTC"
    assert (np.diff(index.asi8) == np.diff(index.asi8)[0]).all()
    assert index[1] - index[0] == pd.Timedelta(days=1)
    assert index[-1] == pd.Timestamp("2025-12-31", tz="UTC")
    assert raw[list(RAW_COLUMNS)].notna().all().all()
    assert set(raw["regime_id"].unique()) <= set(range(market.model.n_regimes))
    assert market.underlying == "BTC" and market.seed == 11


def test_bars_are_consistent_and_positive(market: SyntheticMarket) -> None:
    raw = market.raw
    assert (raw[["open", "high", "low", "close"]] > 0).all().all()
    assert (raw["high"] >= raw[["open", "close"]].max(axis=1)).all()
    assert (raw["low"] <= raw[["open", "close"]].min(axis=1)).all()
    # Intraday range exists (ADX needs true ranges), and a 24/7 market opens at the last close.
    assert (raw["high"] > raw["low"]).mean() > 0.99
    np.testing.assert_allclose(raw["open"].iloc[1:].to_numpy(), raw["close"].iloc[:-1].to_numpy(), rtol=1e-12)
    for column in ("iv_30d", "iv_7d", "iv_25d_put", "iv_25d_call"):
        assert (raw[column] > 0).all(), column


def test_every_sensor_defined_on_every_requested_row(market: SyntheticMarket) -> None:
    sensors = compute_sensors(market.raw).iloc[market.warmup_bars :]
    assert len(sensors) == 500
    missing = sensors[list(SENSOR_NAMES)].isna().sum()
    assert (missing == 0).all(), missing[missing > 0].to_dict()
    assert not np.isinf(sensors[list(SENSOR_NAMES)].to_numpy()).any()


def test_regime_id_follows_the_models_chain(btc_model: RegimeModel) -> None:
    long = generate_market("BTC", 20_000, seed=5, model=btc_model)
    ids = long.raw["regime_id"].to_numpy()
    occupancy = np.bincount(ids, minlength=btc_model.n_regimes) / len(ids)
    np.testing.assert_allclose(occupancy, btc_model.stationary(), atol=0.05)
    empirical = estimate_transition_matrix(ids, btc_model.n_regimes)
    np.testing.assert_allclose(empirical, btc_model.transition_matrix, atol=0.03)


def test_vol_levels_follow_the_regimes(btc_model: RegimeModel) -> None:
    long = generate_market("BTC", 10_000, seed=8, model=btc_model)
    sensors = compute_sensors(long.raw).iloc[long.warmup_bars :]
    weights = np.bincount(sensors["regime_id"], minlength=btc_model.n_regimes) / len(sensors)
    mu_rv = np.array([btc_model.regimes[k].mu_rv_30d for k in range(btc_model.n_regimes)])
    mu_vrp = np.array([btc_model.regimes[k].mu_vrp_30d for k in range(btc_model.n_regimes)])
    expected_rv = float(weights @ mu_rv)
    # Units: vol points, annualized like the sensor (a x100 or sqrt(365) slip would show).
    assert sensors["rv_30d"].mean() == pytest.approx(expected_rv, rel=0.15)
    expected_ratio = float(weights @ (mu_rv * (1 + mu_vrp))) / expected_rv
    assert sensors["iv_30d"].mean() / sensors["rv_30d"].mean() == pytest.approx(expected_ratio, abs=0.05)


def test_model_from_regime_file_is_used_and_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "greg_regimes.json"
    save_regime_model(two_regime_model(), path)
    monkeypatch.setenv("GREG_REGIME_FILE", str(path))
    market = generate_market("BTC", 2000, seed=3)
    assert market.regime_source == str(path)
    assert str(path) in market.raw.attrs["source"]
    assert market.model.n_regimes == 2
    ids = market.raw["regime_id"]
    assert set(ids.unique()) == {0, 1}
    returns = np.log(market.raw["close"]).diff()
    calm = returns[ids == 0].std() * np.sqrt(365) * 100
    stormy = returns[ids == 1].std() * np.sqrt(365) * 100
    assert stormy > 2.5 * calm
    # The same call without the file falls back to the built-in model, and says so.
    monkeypatch.setenv("GREG_REGIME_FILE", str(tmp_path / "absent.json"))
    fallback = generate_market("BTC", 100, seed=3)
    assert "default" in fallback.regime_source
    assert fallback.model.n_regimes == default_regime_model("BTC").n_regimes


def test_explicit_model_wins_and_is_reported(btc_model: RegimeModel) -> None:
    model = load_regime_model("BTC", Path("/nonexistent/greg_regimes.json"))
    market = generate_market("BTC", 50, seed=1, model=model)
    assert market.regime_source == model.source
    assert "default" in market.raw.attrs["source"]


def test_default_seed_is_stable(btc_model: RegimeModel) -> None:
    a = generate_market("BTC", 50, model=btc_model)
    b = generate_market("BTC", 50, model=btc_model)
    pd.testing.assert_frame_equal(a.raw, b.raw)
    assert a.seed != generate_market("ETH", 50, model=default_regime_model("ETH")).seed


def test_bad_horizon() -> None:
    with pytest.raises(ValueError):
        generate_market("BTC", 0, seed=1)


def test_metric_samples_for_underlying(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GREG_REGIME_FILE", str(tmp_path / "absent.json"))
    samples = list(load_metric_samples_for_underlying("BTC", 100))
    assert len(samples) == 100
    for sample in samples:
        assert isinstance(sample, dict)
        assert set(sample) == set(SENSOR_NAMES)
        assert all(isinstance(v, float) and np.isfinite(v) for v in sample.values())
    assert samples == list(load_metric_samples_for_underlying("BTC", 100))
    assert len({s["rv_30d"] for s in samples}) > 50  # one row per day, not a repeated row


# ----------------------------------------------------------------------------- long paths


def test_calendar_ends_at_end_or_starts_at_year_one() -> None:
    short = synthetic_calendar(100_000)
    assert short[-1] == pd.Timestamp(DEFAULT_END, tz="UTC") and short[0].year == 1752
    long = synthetic_calendar(1_000_260)
    assert long[0] == pd.Timestamp("0001-01-01", tz="UTC") and long[-1].year == 2739
    for index in (short, long):
        assert (np.diff(index.asi8) == np.diff(index.asi8)[0]).all()
        assert index[0].to_pydatetime().year >= 1 and index[-1].isoformat().startswith(str(index[-1].year))
    with pytest.raises(ValueError, match="at most"):
        synthetic_calendar(MAX_BARS + 1)


def test_long_path_is_finite_with_every_sensor_defined(btc_model: RegimeModel) -> None:
    market = generate_market("BTC", 200_000, seed=2, model=btc_model)
    prices = market.raw[["open", "high", "low", "close"]].to_numpy()
    assert np.isfinite(prices).all() and (prices > 0).all()
    sensors = compute_sensors(market.raw).iloc[market.warmup_bars :]
    assert sensors[list(SENSOR_NAMES)].notna().all().all()
    assert np.isfinite(market.raw[["iv_30d", "iv_7d"]].to_numpy()).all()
    # The largest move stays BTC-like: shocks are cut at 8 s.d. (version 1: 2.08 in 30,000 days).
    assert np.abs(np.log(market.raw["close"]).diff()).max() < 0.6


def test_log_price_is_bounded_even_with_the_largest_drift(btc_model: RegimeModel) -> None:
    regimes = {k: dataclasses.replace(r, drift_annual=2.0) for k, r in btc_model.regimes.items()}
    model = RegimeModel("BTC", regimes, btc_model.transition_matrix, {}, "test", btc_model.dynamics)
    close = generate_market("BTC", 400_000, seed=1, model=model, warmup_bars=0).raw["close"]
    log_close = np.log(close.to_numpy())
    assert np.isfinite(log_close).all() and np.abs(log_close).max() < 700


def test_bridge_extremes_bound_the_day_and_follow_its_law() -> None:
    rng = np.random.default_rng(0)
    returns = rng.normal(0, 0.03, 200_000)
    sd = np.full(len(returns), 0.03)
    high, low = bridge_extremes(np.random.default_rng(1), returns, sd)
    assert (high >= np.maximum(returns, 0)).all() and (low <= np.minimum(returns, 0)).all()
    # A driftless bridge from 0 back to 0 has E[max] = s * sqrt(pi/8).
    flat_high, _ = bridge_extremes(np.random.default_rng(2), np.zeros(200_000), sd)
    assert flat_high.mean() == pytest.approx(0.03 * np.sqrt(np.pi / 8), rel=0.01)
