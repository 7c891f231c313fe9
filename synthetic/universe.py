"""The synthetic market universe: regime-driven spot, implied vol and skew, reproducible.

For an underlying, a horizon and a seed:

1. a regime path from the model's Markov chain (first regime drawn from its stationary law);
2. daily log returns ``drift_r/365 - sigma^2/2 + sigma_t * eps_t`` with ``sigma_t`` the
   regime's ``mu_rv_30d`` times a slow log-normal vol factor (vol clustering inside a regime)
   and Student-t(5) shocks scaled to unit variance (BTC's daily returns are fat-tailed);
3. intraday high/low from ``substeps`` Brownian-bridge points per day pinned to the day's
   return, so ADX and RSI see true ranges like real bars (open = previous close, 24/7 market);
4. ``iv_30d`` by the AR(1) around the VRP target (``synthetic.regimes``) from the path's own
   trailing 30-day realized vol; ``iv_7d`` from the regime's term premium plus a mean-reverting
   term state; 25-delta put/call IV from the skew template and skew state via ``iv_for_delta``.

The raw frame follows the raw market data contract plus ``regime_id``. ``warmup_bars`` rows are
simulated before the requested span so every sensor (SMA200, the 182-day IV rank on top of a
30-day RV) is defined from the first requested day; callers compute sensors on ``raw`` and
keep ``raw.iloc[warmup_bars:]`` (``backtest.sensors.sources`` does).
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.signal import lfilter

from greg_core.contract import RAW_COLUMNS
from greg_core.realized_vol import realized_vol
from synthetic.regime_model import RegimeModel, load_regime_model
from synthetic.regimes import evolve_iv_and_skew_path, sample_regime_path, skew_multiplier

DEFAULT_DAYS = 1095
DEFAULT_END = "2025-12-31"
# SMA200 needs 200 closes; iv_rank_6m needs 182 IVs, and IV needs 30 returns of RV first.
WARMUP_BARS = 260
SUBSTEPS_PER_DAY = 24
STUDENT_T_DOF = 5.0
# Vol factor inside a regime: daily AR(1) of log-vol (half-life ~23 days) with small Gaussian
# shocks and upward jumps (2% of days, mean +0.45 in log-vol). Chosen on 10 seeds x 3000 days
# against btc_usd_daily_ohlcv.csv + btc_dvol_daily.csv: without the jumps the IV level spreads
# symmetrically and iv_rank_6m sits too high (KS ~0.19 vs real); with them IV spikes and
# decays as DVOL does (KS ~0.12) while vrp_30d autocorrelation stays matched.
VOL_FACTOR_PHI = 0.97
VOL_FACTOR_SD = 0.08
VOL_JUMP_PROB = 0.02
VOL_JUMP_MEAN = 0.45
TERM_STATE_PHI = 0.8


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


def _ar1_noise(rng: np.random.Generator, n: int, phi: float, stationary_sd: float) -> np.ndarray:
    """Zero-mean AR(1) with the given stationary s.d., started in its stationary law."""
    shocks = rng.standard_normal(n) * stationary_sd * np.sqrt(1.0 - phi**2)
    start = rng.standard_normal() * stationary_sd
    out, _ = lfilter([1.0], [1.0, -phi], shocks, zi=[phi * start])
    return out


def _vol_factor(rng: np.random.Generator, n: int) -> np.ndarray:
    """exp(h) with h an AR(1) driven by Gaussian shocks plus rare upward jumps.

    The jumps make vol spike up fast and decay slowly, as BTC's does; the offset keeps the
    factor's mean near 1 (lognormal approximation of the stationary law).
    """
    phi, sd, p, jump = VOL_FACTOR_PHI, VOL_FACTOR_SD, VOL_JUMP_PROB, VOL_JUMP_MEAN
    shocks = rng.standard_normal(n) * sd * np.sqrt(1.0 - phi**2)
    jumps = (rng.random(n) < p) * rng.exponential(jump if jump > 0 else 1.0, n) * (jump > 0)
    mean_h = p * jump / (1.0 - phi)
    var_h = sd**2 + p * jump**2 * (2.0 - p) / (1.0 - phi**2)
    start = mean_h + rng.standard_normal() * np.sqrt(var_h)
    h, _ = lfilter([1.0], [1.0, -phi], shocks + jumps, zi=[phi * start])
    return np.exp(h - mean_h - var_h / 2.0)


def _student_t_unit(rng: np.random.Generator, n: int) -> np.ndarray:
    return rng.standard_t(STUDENT_T_DOF, n) / np.sqrt(STUDENT_T_DOF / (STUDENT_T_DOF - 2.0))


def _intraday_extremes(
    rng: np.random.Generator, returns: np.ndarray, sigma: np.ndarray, substeps: int
) -> tuple[np.ndarray, np.ndarray]:
    """Max and min log-move from the open of a Brownian bridge pinned at each day's return."""
    steps = rng.standard_normal((len(returns), substeps))
    walk = np.cumsum(steps, axis=1) / np.sqrt(substeps)
    fraction = np.arange(1, substeps + 1) / substeps
    bridge = walk - fraction * walk[:, -1:]
    path = fraction * returns[:, None] + sigma[:, None] * bridge
    high = np.maximum(path.max(axis=1), 0.0)
    low = np.minimum(path.min(axis=1), 0.0)
    return high, low


def simulate_raw(
    model: RegimeModel,
    n_bars: int,
    rng: np.random.Generator,
    index: pd.DatetimeIndex,
    start_price: float = 30000.0,
    substeps: int = SUBSTEPS_PER_DAY,
) -> pd.DataFrame:
    """``n_bars`` daily bars of the raw contract (+ ``regime_id``) driven by ``model``."""
    regime_rng, return_rng, bar_rng, iv_rng, term_rng = rng.spawn(5)
    ids = sorted(model.regimes)
    params = [model.regimes[i] for i in ids]
    start = int(regime_rng.choice(len(ids), p=model.stationary()))
    path = sample_regime_path(n_bars, model.transition_matrix, start, rng=regime_rng)

    mu_rv = np.array([p.mu_rv_30d for p in params])[path]
    drift = np.array([p.drift_annual for p in params])[path]
    vol_factor = _vol_factor(return_rng, n_bars)
    sigma = mu_rv / 100.0 / np.sqrt(365.0) * vol_factor
    returns = drift / 365.0 - 0.5 * sigma**2 + sigma * _student_t_unit(return_rng, n_bars)
    up, down = _intraday_extremes(bar_rng, returns, sigma, substeps)

    log_close = np.log(start_price) + np.cumsum(returns)
    close = np.exp(log_close)
    open_ = np.exp(log_close - returns)
    # Clamp to the body: exp() rounding alone can leave high an ulp under the close.
    high = np.maximum(open_ * np.exp(up), np.maximum(open_, close))
    low = np.minimum(open_ * np.exp(down), np.minimum(open_, close))

    log_returns = pd.Series(np.concatenate(([np.nan], returns[1:])))
    rv_30d = realized_vol(log_returns, 30).to_numpy()
    rv_30d = np.where(np.isfinite(rv_30d), rv_30d, mu_rv)
    iv_30d, skew_state = evolve_iv_and_skew_path(
        rv_30d, path, model.regimes, iv_rng, iv_atm_start=params[start].mu_rv_30d * (1 + params[start].mu_vrp_30d)
    )

    term_premium = np.array([p.term_premium for p in params])[path]
    term_sd = np.array([p.term_sigma for p in params])[path]
    term_state = _ar1_noise(term_rng, n_bars, TERM_STATE_PHI, 1.0) * term_sd
    iv_7d = iv_30d * np.maximum(1.0 + term_premium + term_state, 0.2)

    put_mult = np.array([skew_multiplier(p, 0.75) for p in params])[path]
    call_mult = np.array([skew_multiplier(p, 0.25) for p in params])[path]
    iv_put = iv_30d * (1.0 + put_mult * (1.0 + skew_state))
    iv_call = iv_30d * (1.0 + call_mult * (1.0 + skew_state))

    columns = (open_, high, low, close, iv_30d, iv_7d, iv_put, iv_call)
    raw = pd.DataFrame(dict(zip(RAW_COLUMNS, columns, strict=True)), index=index)
    raw["regime_id"] = path.astype(np.int64)
    return raw


def generate_market(
    underlying: str = "BTC",
    days: int = DEFAULT_DAYS,
    seed: int | None = None,
    model: RegimeModel | None = None,
    end: str | pd.Timestamp = DEFAULT_END,
    substeps: int = SUBSTEPS_PER_DAY,
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
    index = pd.date_range(end=pd.Timestamp(end).normalize(), periods=n_bars, freq="D", tz="UTC", name="timestamp")
    raw = simulate_raw(model, n_bars, np.random.default_rng(seed), index, substeps=substeps)
    raw.attrs["source"] = f"synthetic:{underlying.upper()} seed={seed} regimes={model.source}"
    return SyntheticMarket(underlying.upper(), seed, raw, warmup_bars, model)
