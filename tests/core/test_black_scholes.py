"""Black-Scholes (r = 0, forward = spot) against textbook values, parity and finite differences."""

from __future__ import annotations

import math

import numpy as np
import pytest

from greg_core.black_scholes import (
    call_delta,
    call_delta_paths,
    call_price,
    d1,
    option_delta,
    option_price,
    put_delta,
    put_price,
    strike_for_delta,
)


def test_hull_textbook_option_on_a_stock():
    # Hull, Options, Futures and Other Derivatives, example 15.6: S=42, K=40, r=10%, vol=20%,
    # T=0.5 gives c = 4.76 and p = 0.81. With r = 0 pricing: F = S e^{rT}, discount by e^{-rT}.
    forward, discount = 42 * math.exp(0.1 * 0.5), math.exp(-0.1 * 0.5)
    assert call_price(forward, 40, 0.2, 0.5) * discount == pytest.approx(4.7594, abs=5e-5)
    assert put_price(forward, 40, 0.2, 0.5) * discount == pytest.approx(0.8086, abs=5e-5)


def test_hull_textbook_black_76_put():
    # Hull, Black's model for futures options: F=20, K=20, r=9%, vol=25%, T=4 months -> p = 1.12.
    assert put_price(20, 20, 0.25, 4 / 12) * math.exp(-0.09 * 4 / 12) == pytest.approx(1.1166, abs=5e-5)


def test_at_the_money_closed_form():
    # At F = K: C = P = F (2 N(vol sqrt(T) / 2) - 1), and ~0.3989 F vol sqrt(T) for small vol.
    vol, years = 0.6, 30 / 365
    exact = 100 * (2 * 0.5 * (1 + math.erf(vol * math.sqrt(years) / 2 / math.sqrt(2))) - 1)
    assert call_price(100, 100, vol, years) == pytest.approx(exact, rel=1e-12)
    assert put_price(100, 100, vol, years) == pytest.approx(exact, rel=1e-12)
    assert call_price(100, 100, 0.01, years) == pytest.approx(0.398942 * 0.01 * math.sqrt(years) * 100, rel=1e-4)


def grid():
    rng = np.random.default_rng(5)
    n = 2000
    return (
        rng.uniform(50, 150, n),
        rng.uniform(40, 160, n),
        rng.uniform(0.05, 2.0, n),
        rng.uniform(1 / 365, 1.0, n),
    )


def test_put_call_parity():
    forward, strike, vol, years = grid()
    np.testing.assert_allclose(
        call_price(forward, strike, vol, years) - put_price(forward, strike, vol, years),
        forward - strike,
        rtol=0,
        atol=1e-10,
    )


def test_deltas_are_the_price_slopes():
    forward, strike, vol, years = grid()
    bump = 1e-4 * forward
    for is_call in (True, False):
        up = option_price(forward + bump, strike, vol, years, is_call)
        down = option_price(forward - bump, strike, vol, years, is_call)
        np.testing.assert_allclose(
            option_delta(forward, strike, vol, years, is_call), (up - down) / (2 * bump), rtol=0, atol=1e-6
        )
    np.testing.assert_allclose(put_delta(forward, strike, vol, years), call_delta(forward, strike, vol, years) - 1)


@pytest.mark.parametrize("delta", [0.10, 0.25, 0.5, 0.75, -0.10, -0.25, -0.5])
def test_strike_for_delta_round_trips(delta):
    _, _, vol, years = grid()
    strike = strike_for_delta(100.0, delta, vol, years)
    np.testing.assert_allclose(option_delta(100.0, strike, vol, years, delta > 0), delta, atol=1e-12)
    # Calls below 50 delta sit above the forward; puts above -50 delta below it (at usual vols:
    # K = F exp(-d1 vol sqrt(T) + vol^2 T / 2) crosses F once vol sqrt(T) > 2 |d1|).
    usual = vol * np.sqrt(years) < 1.0
    if delta in (0.10, 0.25):
        assert np.all(strike > 100)
    if delta in (-0.10, -0.25):
        assert np.all(strike[usual] < 100)


def test_strike_for_delta_rejects_impossible_deltas():
    assert np.isnan(strike_for_delta(100.0, np.array([0.0, 1.0, -1.0, 1.5]), 0.5, 0.1)).all()


def test_expiry_and_zero_vol_limits():
    forward = np.array([110.0, 90.0, 100.0])
    np.testing.assert_array_equal(call_price(forward, 100, 0.5, 0.0), [10.0, 0.0, 0.0])
    np.testing.assert_array_equal(put_price(forward, 100, 0.0, 0.5), [0.0, 10.0, 0.0])
    np.testing.assert_array_equal(call_delta(forward, 100, 0.5, 0.0), [1.0, 0.0, 0.5])
    np.testing.assert_array_equal(put_delta(forward, 100, 0.5, 0.0), [0.0, -1.0, -0.5])


def test_missing_inputs_stay_missing():
    assert np.isnan(call_price(100, 100, np.nan, 0.1))
    assert np.isnan(d1(np.nan, 100, 0.5, 0.0))
    assert np.isnan(put_delta(100, np.nan, 0.5, 0.1))


def test_delta_paths_match_the_pointwise_delta():
    rng = np.random.default_rng(2)
    log_moneyness = rng.normal(0, 0.2, (50, 30))
    vol = rng.uniform(0.2, 1.5, 50)
    years = (30 - np.arange(30)) / 365
    expected = call_delta(np.exp(log_moneyness), 1.0, vol[:, None], years[None, :])
    np.testing.assert_allclose(call_delta_paths(log_moneyness, vol, years), expected, rtol=0, atol=1e-14)
