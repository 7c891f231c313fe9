"""The calibration moments of the regime builder (docs/synthetic.md, "Building a model"): the
real history's figures the fit aims at, and the moments that identify the trend-dependent
spot-vol relation and the IV overreaction respond to those parameters."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from backtest.data.csv_history import load_history_csv
from backtest.regimes.builder import MOMENT_NAMES, calibration_moments
from synthetic.regime_model import RegimeModel, default_regime_model
from synthetic.universe import generate_market


def _moments(raw) -> dict[str, float]:
    return dict(zip(MOMENT_NAMES, calibration_moments(raw), strict=True))


def test_real_history_moments(real_dir: Path) -> None:
    raw = load_history_csv(real_dir / "btc_usd_daily_ohlcv.csv", real_dir / "btc_dvol_daily.csv")
    moments = _moments(raw)
    # DVOL sits high while the price has risen over the last months (log IV per unit of the
    # 69-day trend of IV-standardized moves), and realized vol rises after a large move by
    # less than IV jumps on the day.
    assert moments["trend_level_coef"] == pytest.approx(2.05, abs=0.01)
    assert moments["forward_rv_news_coef"] == pytest.approx(0.0081, abs=0.0001)
    assert moments["news_square_coef"] == pytest.approx(0.0113, abs=0.0001)
    assert moments["iv_rank_median"] == pytest.approx(0.29, abs=0.005)
    assert moments["vrp_autocorr_10"] == pytest.approx(0.477, abs=0.001)
    # DVOL rises in bursts and eases off slowly: its 5-day log changes are skewed up.
    assert moments["log_iv_change_skew_5d"] == pytest.approx(0.956, abs=0.001)


def _model_with(**dynamics) -> RegimeModel:
    base = default_regime_model("BTC")
    return RegimeModel("BTC", base.regimes, base.transition_matrix, {}, "test", replace(base.dynamics, **dynamics))


def test_trend_level_moment_follows_the_trend_feedback() -> None:
    # Without the leverage term (news_signed), which gives a negative relation of its own.
    flat = _moments(generate_market("BTC", 4000, seed=7, model=_model_with(trend_feedback=0.0, news_signed=0.0)).requested)
    rising = _moments(generate_market("BTC", 4000, seed=7, model=_model_with(trend_feedback=3.0, news_signed=0.0)).requested)
    assert abs(flat["trend_level_coef"]) < 0.7
    assert rising["trend_level_coef"] > flat["trend_level_coef"] + 1.0


def test_iv_overreaction_lifts_the_same_day_iv_response_not_the_realized_one() -> None:
    plain = _moments(generate_market("BTC", 4000, seed=8, model=_model_with(iv_news=0.0)).requested)
    reacting = _moments(generate_market("BTC", 4000, seed=8, model=_model_with(iv_news=0.01)).requested)
    lift = reacting["news_square_coef"] - plain["news_square_coef"]
    assert lift > 0.005
    # Same seed, same returns: the forward realized vol is the same; the moment moves only
    # through the IV it is measured against, by less than the IV response does.
    assert abs(reacting["forward_rv_news_coef"] - plain["forward_rv_news_coef"]) < lift


def test_iv_change_skewness_follows_the_skewness_of_the_vol_shocks() -> None:
    """The moment the shock skewness is fitted on: Gaussian shocks leave 5-day log-IV
    changes nearly symmetric, gamma shocks skew them up."""
    gaussian = _moments(generate_market("BTC", 4000, seed=9, model=_model_with(vol_shock_skew=0.0)).requested)
    skewed = _moments(generate_market("BTC", 4000, seed=9, model=_model_with(vol_shock_skew=8.0)).requested)
    assert abs(gaussian["log_iv_change_skew_5d"]) < 0.5
    assert skewed["log_iv_change_skew_5d"] > gaussian["log_iv_change_skew_5d"] + 0.3
