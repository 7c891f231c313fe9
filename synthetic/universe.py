"""The synthetic market universe: regime-driven spot, implied vol and skew, reproducible.

For an underlying, a horizon and a seed (docs/synthetic.md):

1. a regime path from the model's Markov chain (first regime drawn from its stationary law);
2. the vol of day t+1 from the regime at the close of day t and a latent log-vol state
   (``synthetic.volatility``: persistence, big moves raise the vol that follows, shocks the
   market sees before returns do, skewed so vol rises in bursts and eases between them); daily log returns are ``drift/365 + sigma_t * eps_t`` with
   Student-t shocks (cut at 8 s.d.) scaled to unit variance, plus a pull of the log price
   toward its start with a half-life of ``PRICE_ANCHOR_HALF_LIFE_YEARS`` (0.7%/yr per unit of
   log distance: on a 3,000-day path with BTC's drift it takes ~3% off the drift by the end),
   which bounds the log price of a path of any length (stationary s.d. ~5 around a level set
   by the drift; ``LOG_PRICE_LIMIT`` guards absurd parameter sets);
3. intraday high and low drawn exactly from the law of a Brownian bridge's maximum and minimum
   pinned to the day's return (open = previous close, 24/7 market), one pair of uniforms a
   day, so ADX and RSI see true ranges like real bars at any length without per-day substeps;
4. ``iv_30d`` by the requested AR(1) around ``rv_30d_t * (1 + mu_vrp_30d)``, where
   ``rv_30d_t`` is the model's own expectation at t of the vol realized over the next 30 days
   (``VolForecaster``), so implied vol forecasts realized vol as DVOL does instead of echoing
   the trailing sample; the IV noise has two parts: the requested fast AR(1) (``phi_iv``,
   ``iv_level_sigma``) and a slower overreaction to large moves that decays by
   ``iv_news_persistence`` a day (``VolDynamics.iv_news``: IV jumps on a big day by more than
   the vol it forecasts, then gives the excess back); ``iv_7d`` scales it by the model's 7-day
   over 30-day expectation
   times the regime's term premium and a mean-reverting term state; 25-delta put/call IV
   from the skew template and skew state via ``iv_for_delta``.

The raw frame follows the raw market data contract plus ``regime_id`` (the regime at each
close). ``warmup_bars`` rows are simulated before the requested span so every sensor (SMA200,
the 182-day IV rank) is defined from the first requested day; callers compute sensors on
``raw`` and keep ``raw.iloc[warmup_bars:]`` (``backtest.sensors.sources`` does).

Calendar: daily UTC midnights ending at ``end``. A span too long for that (its first bar would
fall before 0001-01-01, i.e. more than ~739,000 days before 2025) starts on 0001-01-01 instead
and runs past ``end``, so every timestamp is a valid calendar date (Python's datetime range,
what the outputs format); spans are limited to ``MAX_BARS`` so the last bar stays before 10000.
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass

import numpy as np
import pandas as pd

from greg_core.contract import RAW_COLUMNS
from greg_core.realized_vol import DAYS_PER_YEAR
from synthetic.recursion import linear_recurrence
from synthetic.regime_model import RegimeModel, load_regime_model
from synthetic.regimes import evolve_iv_and_skew_path, sample_regime_path, skew_multiplier
from synthetic.volatility import (
    FORECAST_DAYS,
    FRONT_DAYS,
    VolProcess,
    VolState,
    student_t_unit,
    vol_shocks,
)

DEFAULT_DAYS = 1095
DEFAULT_END = "2025-12-31"
# SMA200 needs 200 closes; iv_rank_6m needs 182 IVs; the forecast needs no history.
WARMUP_BARS = 260
TERM_STATE_PHI = 0.8
PRICE_ANCHOR_HALF_LIFE_YEARS = 100.0
# A guard only absurd (but valid) parameter sets reach: exp() of it is still a finite float.
LOG_PRICE_LIMIT = 600.0
CALENDAR_START = pd.Timestamp("0001-01-01", tz="UTC").as_unit("us")
MAX_BARS = 3_650_000  # 0001-01-01 + MAX_BARS days is still before 9999-12-31


def seed_for(underlying: str) -> int:
    """A stable default seed per underlying (same name, same market)."""
    return zlib.crc32(underlying.upper().encode()) & 0x7FFFFFFF


@dataclass
class SyntheticMarket:
    underlying: str
    seed: int
    raw: pd.DataFrame
    warmup_bars: int
    model: RegimeModel

    @property
    def requested(self) -> pd.DataFrame:
        """The requested span (warm-up rows dropped); compute sensors on ``raw`` first."""
        return self.raw.iloc[self.warmup_bars :]

    @property
    def regime_source(self) -> str:
        return self.model.source


def synthetic_calendar(n_bars: int, end: str | pd.Timestamp = DEFAULT_END) -> pd.DatetimeIndex:
    """Daily UTC bars ending at ``end``, or from 0001-01-01 when that would start earlier."""
    if n_bars > MAX_BARS:
        raise ValueError(f"at most {MAX_BARS:,} synthetic bars (a calendar ending before year 10000), got {n_bars:,}")
    last = pd.Timestamp(end)
    last = (last.tz_localize("UTC") if last.tz is None else last.tz_convert("UTC")).normalize().as_unit("us")
    first = last - pd.Timedelta(days=n_bars - 1)
    if first < CALENDAR_START:
        first = CALENDAR_START
    return pd.date_range(start=first, periods=n_bars, freq="D", unit="us", name="timestamp")


def bridge_extremes(
    rng: np.random.Generator, returns: np.ndarray, daily_sd: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Max (>= 0) and min (<= 0) log-move from the open of a Brownian bridge that ends at
    each day's return, with the day's diffusion s.d.: by inversion of
    ``P(max >= m) = exp(-2 m (m - r) / s^2)`` (and its mirror for the min)."""
    u = 1.0 - rng.random(len(returns))  # in (0, 1]: log() is finite
    v = 1.0 - rng.random(len(returns))
    spread = 2.0 * daily_sd**2
    high = 0.5 * (returns + np.sqrt(returns**2 - spread * np.log(u)))
    low = 0.5 * (returns - np.sqrt(returns**2 - spread * np.log(v)))
    return np.maximum(high, 0.0), np.minimum(low, 0.0)


def _spot(
    model: RegimeModel, path: np.ndarray, rng: np.random.Generator, bar_rng: np.random.Generator, start_price: float
) -> tuple[VolState, tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
    """The vol states at each close and the (open, high, low, close) bars they drive."""
    dynamics = model.dynamics
    process = VolProcess(dynamics)
    eps = student_t_unit(rng, len(path), dynamics.t_dof)
    shocks = vol_shocks(rng, len(path), dynamics.vol_shock_skew)
    # A Gaussian start at the states' stationary s.d.: forgotten within the warm-up.
    state_start = rng.standard_normal(3) * process.stationary_sd()
    state = process.paths(eps, shocks, tuple(state_start.tolist()))
    # Day t's vol comes from the regime and the log-vol state at the close of day t-1.
    start_log_vol = state_start[0] + state_start[1] + dynamics.trend_feedback * state_start[2]
    previous_log_vol = np.concatenate(([start_log_vol], process.log_vol(state)[:-1]))
    previous_regime = np.concatenate(([path[0]], path[:-1]))
    levels = np.array([model.regimes[k].mu_rv_30d for k in range(model.n_regimes)])
    drift = np.array([model.regimes[k].drift_annual for k in range(model.n_regimes)])
    daily_sd = levels[previous_regime] / 100.0 / math.sqrt(DAYS_PER_YEAR) * np.exp(previous_log_vol)
    core = drift[previous_regime] / DAYS_PER_YEAR + daily_sd * eps
    keep = 1.0 - math.log(2.0) / (PRICE_ANCHOR_HALF_LIFE_YEARS * DAYS_PER_YEAR)
    log_move = np.clip(linear_recurrence(keep, core, 0.0), -LOG_PRICE_LIMIT, LOG_PRICE_LIMIT)  # log(close/start)
    returns = np.diff(log_move, prepend=0.0)
    up, down = bridge_extremes(bar_rng, returns, daily_sd)
    close = start_price * np.exp(log_move)
    open_ = start_price * np.exp(log_move - returns)
    # Clamp to the body: exp() rounding alone can leave high an ulp under the close.
    high = np.maximum(open_ * np.exp(up), np.maximum(open_, close))
    low = np.minimum(open_ * np.exp(down), np.minimum(open_, close))
    return state, (open_, high, low, close)


def _implied(
    model: RegimeModel, path: np.ndarray, state: VolState, start: int, iv_rng: np.random.Generator,
    term_rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(iv_30d, iv_7d, iv_25d_put, iv_25d_call) at each close, from the model's forecasts."""
    params = [model.regimes[k] for k in range(model.n_regimes)]
    forecaster = model.forecaster()
    variance_30d, variance_7d = forecaster.expected_variances(state, path, (FORECAST_DAYS, FRONT_DAYS))
    expected_30d = np.sqrt(variance_30d)
    front_over_30d = np.sqrt(variance_7d) / expected_30d
    del variance_30d, variance_7d
    iv_30d, skew_state = evolve_iv_and_skew_path(
        expected_30d, path, model.regimes, iv_rng,
        iv_atm_start=float(expected_30d[0] * (1.0 + params[start].mu_vrp_30d)),
    )
    if state.iv_overreaction is not None:
        # The slow part of the IV noise: implied vol's transient overreaction to large moves.
        iv_30d *= np.exp(state.iv_overreaction)
    term_premium = np.array([p.term_premium for p in params])[path]
    term_sd = np.array([p.term_sigma for p in params])[path]
    term_shocks = term_rng.standard_normal(len(path)) * math.sqrt(1.0 - TERM_STATE_PHI**2)
    term_state = linear_recurrence(TERM_STATE_PHI, term_shocks, float(term_rng.standard_normal())) * term_sd
    iv_7d = iv_30d * front_over_30d * np.maximum(1.0 + term_premium + term_state, 0.2)
    put_mult = np.array([skew_multiplier(p, 0.75) for p in params])[path]
    call_mult = np.array([skew_multiplier(p, 0.25) for p in params])[path]
    iv_put = iv_30d * (1.0 + put_mult * (1.0 + skew_state))
    iv_call = iv_30d * (1.0 + call_mult * (1.0 + skew_state))
    return iv_30d, iv_7d, iv_put, iv_call


def simulate_raw(
    model: RegimeModel,
    n_bars: int,
    rng: np.random.Generator,
    index: pd.DatetimeIndex,
    start_price: float = 30000.0,
) -> pd.DataFrame:
    """``n_bars`` daily bars of the raw contract (+ ``regime_id``) driven by ``model``.

    Built in steps whose temporaries are freed on return, so a 1,000,000-day market peaks
    at a few hundred MB (``scripts/bench_universe.py``)."""
    regime_rng, return_rng, bar_rng, iv_rng, term_rng = rng.spawn(5)
    start = int(regime_rng.choice(model.n_regimes, p=model.stationary()))
    path = sample_regime_path(n_bars, model.transition_matrix, start, rng=regime_rng)
    state, bars = _spot(model, path, return_rng, bar_rng, start_price)
    implied = _implied(model, path, state, start, iv_rng, term_rng)
    del state
    raw = pd.DataFrame(dict(zip(RAW_COLUMNS, bars + implied, strict=True)), index=index, copy=False)
    raw["regime_id"] = path.astype(np.int64)
    return raw


def generate_market(
    underlying: str = "BTC",
    days: int = DEFAULT_DAYS,
    seed: int | None = None,
    model: RegimeModel | None = None,
    end: str | pd.Timestamp = DEFAULT_END,
    warmup_bars: int = WARMUP_BARS,
) -> SyntheticMarket:
    """A reproducible synthetic market for ``underlying``: ``days`` daily bars ending ``end``.

    ``model`` defaults to ``load_regime_model(underlying)`` (``data/greg_regimes.json`` when
    present and valid, else the built-in defaults; ``market.regime_source`` says which).
    Same arguments, same seed: the same frame, bit for bit.
    """
    if days < 1:
        raise ValueError(f"days must be >= 1, got {days}")
    model = model or load_regime_model(underlying)
    seed = seed_for(underlying) if seed is None else int(seed)
    n_bars = days + warmup_bars
    index = synthetic_calendar(n_bars, end)
    raw = simulate_raw(model, n_bars, np.random.default_rng(seed), index)
    raw.attrs["source"] = f"synthetic:{underlying.upper()} seed={seed} regimes={model.source}"
    return SyntheticMarket(underlying.upper(), seed, raw, warmup_bars, model)
