"""The vol model: its forecast is the model's own expectation, its recursions, its parameters."""

from __future__ import annotations

import math
import subprocess
import sys
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from backtest.outcomes.edge import forward_realized_vol
from greg_core.realized_vol import realized_vol
from synthetic.recursion import linear_recurrence
from synthetic.regime_model import RegimeModel, default_regime_model
from synthetic.regimes import RegimeParams
from synthetic.universe import generate_market
from synthetic.volatility import (
    NEWS_CAP,
    VolDynamics,
    VolForecaster,
    VolProcess,
    VolState,
    student_t_unit,
    vol_shock_log_mgf,
    vol_shocks,
)

MATRIX = np.array([[0.9, 0.1, 0.0], [0.05, 0.9, 0.05], [0.0, 0.2, 0.8]])
LEVELS = np.array([30.0, 50.0, 80.0])
DYNAMICS = VolDynamics(
    persistence=0.97, vol_of_vol=0.05, news_persistence=0.8, news_square=0.03, news_signed=-0.03,
    trend_feedback=0.3, t_dof=5.0, trend_half_life=30.0,
)


SKEWED = replace(DYNAMICS, vol_shock_skew=8.0)


@pytest.mark.parametrize("dynamics", [DYNAMICS, SKEWED], ids=["gaussian vol shocks", "skewed vol shocks"])
def test_forecast_is_the_expectation_of_the_simulated_variance(dynamics: VolDynamics) -> None:
    """Monte Carlo from one state (x, y, T, regime): the mean realized variance of the next 30
    days matches ``expected_variance`` within the simulation's error."""
    state, regime = (0.2, 0.1, 0.15), 1
    rng = np.random.default_rng(0)
    n, horizon = 60_000, 30
    x, y, trend = (np.full(n, v) for v in state)
    s = np.full(n, regime)
    cumulative = np.cumsum(MATRIX, axis=1)
    d = dynamics
    mean_square = VolProcess(d).one_day.mean_square
    total = np.zeros(n)
    for _ in range(horizon):  # day t+1+k uses the regime and states at close t+k
        total += (LEVELS[s] * np.exp(x + y + d.trend_feedback * trend)) ** 2
        eps = np.clip(student_t_unit(rng, n, d.t_dof), -NEWS_CAP, NEWS_CAP)
        trend = d.trend_keep * trend + (1 - d.trend_keep) * eps
        x = d.persistence * x + d.vol_of_vol * vol_shocks(rng, n, d.vol_shock_skew)
        y = d.news_persistence * y + d.news_square * (eps * eps - mean_square) + d.news_signed * eps
        s = (rng.random(n)[:, None] > cumulative[s]).sum(axis=1)
    simulated = total / horizon
    exact = VolForecaster(d, LEVELS, MATRIX).expected_variance(
        VolState(*(np.array([v]) for v in state)), np.array([regime]), horizon
    )[0]
    assert exact == pytest.approx(simulated.mean(), abs=4 * simulated.std() / math.sqrt(n))


@pytest.mark.parametrize("dynamics", [DYNAMICS, SKEWED], ids=["gaussian vol shocks", "skewed vol shocks"])
def test_stationary_moments_match_a_long_path(dynamics: VolDynamics) -> None:
    process = VolProcess(dynamics)
    rng = np.random.default_rng(1)
    n = 300_000
    shocks = vol_shocks(rng, n, dynamics.vol_shock_skew)
    state = process.paths(student_t_unit(rng, n, dynamics.t_dof), shocks, (0.0, 0.0, 0.0))
    burn = 5000
    log_vol = process.log_vol(state)[burn:]
    assert np.exp(2 * log_vol).mean() == pytest.approx(process.mean_square_factor(), rel=0.02)
    simulated_sd = [a[burn:].std() for a in (state.slow, state.spike, state.trend)]
    np.testing.assert_allclose(simulated_sd, process.stationary_sd(), rtol=0.05)


def test_forward_looking_iv_forecasts_future_rv() -> None:
    """With no premium and no IV noise, iv_30d is the model's expected 30-day realized vol:
    unbiased for the forward realized variance, and the trailing RV adds nothing."""
    base = default_regime_model("BTC")
    regimes = {
        k: RegimeParams(**{**r.to_dict(), "mu_vrp_30d": 0.0, "iv_level_sigma": 0.0, "phi_iv": 0.0, "fitted": ()})
        for k, r in base.regimes.items()
    }
    # No IV noise at all: neither the AR(1) around the target nor the overreaction to moves.
    dynamics = replace(base.dynamics, iv_news=0.0)
    model = RegimeModel("BTC", regimes, base.transition_matrix, {}, "test", dynamics)
    raw = generate_market("BTC", 40_000, seed=3, model=model).raw
    forward = forward_realized_vol(raw["close"], 30)
    trailing = realized_vol(np.log(raw["close"]).diff(), 30)
    frame = pd.concat([forward**2, raw["iv_30d"] ** 2, trailing**2], axis=1, keys=["f", "iv", "t"]).dropna()
    assert frame["f"].mean() / frame["iv"].mean() == pytest.approx(1.0, abs=0.03)
    design = np.column_stack([np.ones(len(frame)), frame["iv"], frame["t"]])
    coef, *_ = np.linalg.lstsq(design, frame["f"].to_numpy(), rcond=None)
    assert coef[1] == pytest.approx(1.0, abs=0.15)
    assert abs(coef[2]) < 0.1


@pytest.mark.parametrize("skew", [0.0, 2.0, 8.0])
def test_vol_shocks_have_unit_variance_the_skewness_asked_and_their_mgf(skew: float) -> None:
    """Gaussian at 0; a centred gamma otherwise: mean 0, variance 1, skewness ``skew``, and
    log E[exp(s z)] as ``vol_shock_log_mgf`` says (s is 2 x a vol of vol in the forecast)."""
    z = vol_shocks(np.random.default_rng(5), 2_000_000, skew)
    assert z.mean() == pytest.approx(0.0, abs=0.003)
    assert z.var() == pytest.approx(1.0, rel=0.01 + 0.01 * skew)
    assert (((z - z.mean()) ** 3).mean() / z.std() ** 3) == pytest.approx(skew, abs=0.02 + 0.06 * skew)
    if skew:
        assert z.min() >= -2.0 / skew  # bounded below: vol eases, never crashes
    # The closed form against numerical integration over the shock's density, up to close
    # to where it ends (s < 2 / skew).
    from scipy import integrate, stats

    def gamma_mgf(s: float, a: float) -> float:
        """E[exp(s (G - a) / sqrt(a))], G ~ Gamma(a); below G = 1 in t = G^a, which takes the
        density's G^(a-1) pole away."""
        def weight(g: float) -> float:
            return math.exp(s * (g - a) / math.sqrt(a) - g - math.lgamma(a))

        low = integrate.quad(lambda t: weight(t ** (1.0 / a)) / a, 0.0, 1.0, epsabs=0, epsrel=1e-10)[0]
        high = integrate.quad(lambda g: weight(g) * g ** (a - 1.0), 1.0, np.inf, epsabs=0, epsrel=1e-10)[0]
        return low + high

    for s in (0.02, 0.1, 0.2):
        if skew:
            integral = gamma_mgf(s, 4.0 / skew**2)
        else:
            integral = stats.norm().expect(lambda x, s=s: math.exp(s * x))
        assert float(vol_shock_log_mgf(np.array(s), skew)) == pytest.approx(math.log(integral), rel=1e-6)


def test_a_skewed_vol_shock_needs_a_vol_of_vol_below_one_over_its_skewness() -> None:
    """Beyond it the model's expected variance E[exp(2 eta z)] is infinite."""
    VolDynamics(vol_of_vol=0.09, vol_shock_skew=10.0).validate()
    with pytest.raises(ValueError, match="vol_shock_skew x vol_of_vol must be below 1"):
        VolDynamics(vol_of_vol=0.1, vol_shock_skew=10.0).validate()


def _loop(coef, inputs, start):
    out, previous = [], start
    for a, b in zip(np.broadcast_to(coef, inputs.shape).tolist(), inputs.tolist(), strict=True):
        previous = a * previous + b
        out.append(previous)
    return np.array(out)


@pytest.mark.parametrize("n", [0, 1, 5, 63, 64, 65, 1000, 4099])
def test_linear_recurrence_equals_the_loop(n: int) -> None:
    rng = np.random.default_rng(n)
    inputs = rng.normal(size=n)
    for coef in (rng.uniform(0.0, 0.999, n), 0.97, 0.0, 1.0):
        expected = _loop(coef, inputs, 0.7) if n else np.empty(0)
        np.testing.assert_allclose(linear_recurrence(coef, inputs, 0.7), expected, rtol=1e-11, atol=1e-11)


def test_synthetic_does_not_import_scipy_signal() -> None:
    """issue 11: scipy.signal costs ~2 s to import; the generator needs only recursions."""
    code = (
        "import sys, synthetic.universe, synthetic.regime_model\n"
        "synthetic.universe.generate_market('BTC', 50, seed=1)\n"
        "print('scipy.signal' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize(
    "bad",
    [
        {"persistence": 1.0},
        {"persistence": math.nan},
        {"vol_of_vol": -0.1},
        {"news_persistence": 1.5},
        {"news_square": 0.5},
        {"news_signed": "abc"},
        {"trend_feedback": math.inf},
        {"t_dof": 3.0},
        {"t_dof": True},
        {"trend_half_life": 0.5},
        {"iv_news": -0.01},
        {"iv_news_persistence": 1.0},
        {"vol_shock_skew": -1.0},
        {"vol_shock_skew": 25.0},
        {"fitted": "persistence"},
        {"bogus": 1},
    ],
)
def test_vol_dynamics_validation_names_the_field(bad: dict) -> None:
    with pytest.raises(ValueError, match=next(iter(bad))):
        VolDynamics.from_dict({**VolDynamics().to_dict(), **bad})


def test_iv_overreaction_multiplies_the_ar1_iv_by_the_decaying_response_to_moves() -> None:
    """The slow IV-noise component: the same seed with and without it draws the same
    numbers, and the ratio of the IVs is exp of the AR(1) of iv_news * (capped square - E)."""
    base = default_regime_model("BTC")
    plain = replace(base.dynamics, iv_news=0.0)
    reacting = replace(base.dynamics, iv_news=0.01, iv_news_persistence=0.9)
    paths = {
        d: generate_market("BTC", 500, seed=4, model=RegimeModel("BTC", base.regimes, base.transition_matrix, {}, "t", d)).raw
        for d in (plain, reacting)
    }
    pd.testing.assert_frame_equal(paths[plain][["open", "high", "low", "close"]], paths[reacting][["open", "high", "low", "close"]])
    ratio = np.log(paths[reacting]["iv_30d"] / paths[plain]["iv_30d"]).to_numpy()
    # The response decays by iv_news_persistence a day between moves of any size: its
    # innovations ratio[t] - 0.9 ratio[t-1] are iv_news * (capped square - E) >= -iv_news * E.
    innovations = ratio[1:] - 0.9 * ratio[:-1]
    mean_square = VolProcess(reacting).one_day.mean_square
    assert innovations.min() >= -0.01 * mean_square - 1e-9
    assert innovations.max() <= 0.01 * (NEWS_CAP**2 - mean_square) + 1e-9
    assert innovations.std() > 0.005


def test_vol_dynamics_roundtrip() -> None:
    assert VolDynamics.from_dict(DYNAMICS.to_dict()) == DYNAMICS
    with pytest.raises(ValueError):
        VolDynamics.from_dict([1, 2])


def test_every_dynamics_field_has_its_interval():
    """A field added to VolDynamics is validated: it must get an interval in DYNAMICS_RANGES."""
    from dataclasses import fields

    from synthetic.volatility import DYNAMICS_RANGES, VolDynamics

    assert set(DYNAMICS_RANGES) == {f.name for f in fields(VolDynamics) if f.name != "fitted"}
    with pytest.raises(ValueError, match=r"news_signed must be in \[-0.5, 0.5\], got 0.7"):
        VolDynamics(news_signed=0.7).validate()
    with pytest.raises(ValueError, match="t_dof must be a finite number, got nan"):
        VolDynamics(t_dof=float("nan")).validate()


def test_a_number_too_large_for_a_float_is_a_field_error_not_a_crash():
    """A 400-digit integer in a regime file: math.isfinite overflows; one line names the field."""
    with pytest.raises(ValueError, match=r"persistence must be a finite number, got 1000000000000000000000000000000000000\.\.\."):
        VolDynamics(persistence=10**400).validate()
