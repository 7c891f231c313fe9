"""Build a ``RegimeModel`` from a sensor frame: cluster, fit, calibrate by simulation, judge.

Used by ``scripts/build_greg_regimes_from_harvester.py`` and the app's regimes screen. The
sensor frame comes from ``backtest.sensors.compute_sensors`` whatever the data source (its raw
columns ride along), and the calibration simulates with ``synthetic.universe`` and measures
with the same definitions as the real data (docs/synthetic.md, "Building a model"):

1. KMeans regimes on the standardized sensors (``synthetic.regimes.fit_regime_clustering``)
   and their Markov transition matrix;
2. per-regime levels, premia and drifts (``fit_regime_params_from_clusters``, with the RV
   realized over the next 30 days from ``backtest.outcomes.edge``);
3. indirect inference for what no single-day statistic identifies: the vol dynamics
   (persistence, latent vol shocks, response to large moves, return tails) and the IV noise
   around its target (``phi_iv``, ``iv_level_sigma``), chosen so that simulated paths
   reproduce the real history's ``calibration_moments``; the per-regime ``mu_vrp_30d`` are
   scaled so that each regime's mean IV over mean forward RV matches the real one;
4. the realism judge (``backtest.regimes.realism``) on the finished model; its verdict and
   figures go into the provenance, so outputs and the app show them without recomputing.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime

import numpy as np
import pandas as pd

from backtest.outcomes.edge import forward_edge, forward_realized_vol
from backtest.regimes import realism
from backtest.sensors.pipeline import compute_sensors
from greg_core.contract import RAW_COLUMNS
from greg_core.realized_vol import realized_vol
from synthetic.recursion import linear_recurrence
from synthetic.regime_model import RegimeModel
from synthetic.regimes import (
    RegimeParams,
    estimate_transition_matrix,
    fit_regime_clustering,
    fit_regime_params_from_clusters,
    regime_premia,
)
from synthetic.universe import generate_market
from synthetic.volatility import (
    MARKET_TREND_HALF_LIFE_DAYS,
    MAX_SKEWED_VOL_OF_VOL,
    NEWS_CAP,
    VolDynamics,
    VolProcess,
)

CALIBRATION_DAYS = 4000
CALIBRATION_SEEDS: tuple[int, ...] = (101, 202, 303, 404)
T_DOF_GRID: tuple[float, ...] = (4.6, 5.0, 5.5, 6.5, 8.0, 12.0, 20.0)
# Skewness of the latent vol shocks tried (0: Gaussian). With a skew the vol of vol is capped
# at 0.9 / skew: the expected variance is finite only below 1 / skew (MAX_SKEWED_VOL_OF_VOL).
VOL_SHOCK_SKEW_GRID: tuple[float, ...] = (0.0, 2.0, 4.0, 6.0, 8.0, 10.0, 12.0)
MAX_EVALUATIONS = 14
# Real-length paths measuring each moment's sampling s.d. (the weights). Heavy-tailed moments
# need many: for the skewness of 5-day IV changes 8 paths gave 0.12, 24 give 0.27 (30 paths
# of the fitted model: 0.33); ~2 s of the build.
NOISE_PATHS = 24
# Fewer days of implied vol than this and the dynamics keep their defaults (a 60-day
# autocorrelation needs a long sample).
MIN_CALIBRATION_DAYS = 365
PERSISTENCE_LAGS: tuple[int, ...] = (20, 40, 60)
# The calibrated parameters and the moment each mainly moves, in the solver's order.
MOMENT_NAMES: tuple[str, ...] = (
    "log_iv_autocorr", "log_iv_sd", "news_square_coef", "news_square_coef_20d", "news_signed_coef",
    "trend_coef", "standardized_kurtosis", "iv_change_autocorr", "log_iv_change_sd",
    "vrp_autocorr_1", "vrp_autocorr_10", "edge_slope_on_vrp", "trend_level_coef", "forward_rv_news_coef", "iv_rank_median",
    "log_iv_change_skew_5d",
)
PARAMETER_NAMES: tuple[str, ...] = (
    "persistence", "vol_of_vol", "news_persistence", "news_square", "news_signed", "trend_feedback",
    "t_dof", "iv_news", "iv_news_persistence", "vol_shock_skew", "phi_iv", "iv_noise",
)
DYNAMICS_PARAMETERS = PARAMETER_NAMES[:-2]
TREND_WINDOW_DAYS = 20
SKEW_WINDOW_DAYS = 5
Progress = Callable[[float, str], None]


# ------------------------------------------------------------------------------ moments


def calibration_moments(raw: pd.DataFrame) -> np.ndarray:
    """The statistics the calibration matches, in ``MOMENT_NAMES`` order, from raw bars.

    Daily log returns are standardized by the previous day's implied vol (what the market
    expected), the same way on real and simulated data:

    * mean autocorrelation of log iv_30d at lags 20, 40, 60 (how slowly vol forgets);
    * s.d. of log iv_30d (how far vol wanders);
    * regression of the change of log iv_30d from the day before a move to the day of it,
      and to 20 days after it, on the capped squared and signed standardized move: the
      squared slope on both horizons (how much a large move lifts IV, how fast that fades)
      and the signed slope on the day (up against down moves);
    * regression of the 20-day change of log iv_30d on the 20-day log return and its size:
      the slope on the return (whether IV builds up in rallies or in sell-offs);
    * excess kurtosis of the standardized returns (the tails left once vol is known);
    * lag-1 autocorrelation of daily iv_30d changes and the s.d. of daily log iv_30d changes
      (the IV noise around its target and how fast it fades);
    * autocorrelation of vrp_30d at lags 1 and 10 (how long a premium over trailing RV lasts);
    * slope of the forward edge (iv_30d - RV of the next 30 days) on standardized vrp_30d:
      whether a premium over trailing RV is noise in IV or foresight of a calmer month;
    * slope of log iv_30d on the market trend: the exponential average (half-life
      ``MARKET_TREND_HALF_LIFE_DAYS``, the lag of a 200-day average) of the capped
      standardized moves (how high IV sits while a rally lasts: the spot-vol relation that
      puts iv_rank_6m high when the price is above its 200-day average);
    * regression of log(RV of the next 30 days) - log iv_30d(t - 1) on the day's capped
      squared and signed standardized move: the squared slope (how much realized vol really
      rises after a large move, against how much IV jumps on the day);
    * median of iv_rank_6m (the sensor): how much of the time IV sits low in its 6-month
      range, i.e. whether it rises in jumps and falls in smooth declines or the reverse;
    * skewness of the 5-day changes of log iv_30d (overlapping): whether vol rises in bursts
      and eases off slowly (positive) or the reverse; 5 days so that the fast IV noise, whose
      AR(1) forgets within a few days, does not dilute the latent vol's own asymmetry.
    """
    iv = raw["iv_30d"].astype("float64").where(lambda v: v > 0)
    close = raw["close"].astype("float64").where(lambda v: v > 0)
    log_iv = np.log(iv)
    log_return = np.log(close).diff()
    standardized = (log_return / (iv.shift(1) / 100.0 / math.sqrt(365.0))).clip(-NEWS_CAP, NEWS_CAP)
    square = standardized**2 - (standardized**2).mean()

    def response(horizon: int) -> np.ndarray:
        """(intercept, squared slope, signed slope) of log iv(t + horizon) - log iv(t - 1)."""
        frame = pd.concat([log_iv.shift(-horizon) - log_iv.shift(1), square, standardized], axis=1).dropna()
        if len(frame) < MIN_CALIBRATION_DAYS // 2:
            return np.full(3, np.nan)
        design = np.column_stack([np.ones(len(frame)), frame.iloc[:, 1], frame.iloc[:, 2]])
        return np.linalg.lstsq(design, frame.iloc[:, 0].to_numpy(), rcond=None)[0]

    same_day, later = response(0), response(TREND_WINDOW_DAYS)
    levels = log_iv.dropna()
    vrp = (iv - realized_vol(log_return, 30)).dropna()
    # The trend state as the model runs it (from 0, a missing move counts as none), read
    # once it has had a half-life to forget its start.
    keep = 0.5 ** (1.0 / MARKET_TREND_HALF_LIFE_DAYS)
    market_trend = pd.Series(linear_recurrence(keep, (1.0 - keep) * standardized.fillna(0.0).to_numpy()),
                             index=standardized.index)
    seen = np.flatnonzero(standardized.notna().to_numpy())
    start = int(seen[0] + MARKET_TREND_HALF_LIFE_DAYS) if len(seen) else len(standardized)
    level = pd.concat([log_iv, market_trend], axis=1).iloc[start:].dropna()
    forward = np.log(forward_realized_vol(close, 30).where(lambda v: v > 0))
    after = pd.concat([forward - log_iv.shift(1), square, standardized], axis=1).dropna()
    window = log_return.rolling(TREND_WINDOW_DAYS).sum()
    trend = pd.concat([log_iv.diff(TREND_WINDOW_DAYS), window], axis=1).dropna()
    if len(levels) < MIN_CALIBRATION_DAYS // 2 or len(trend) < 10 or len(after) < 10 or len(level) < 10:
        return np.full(len(MOMENT_NAMES), np.nan)
    trend_design = np.column_stack([np.ones(len(trend)), trend.iloc[:, 1], trend.iloc[:, 1].abs()])
    trend_coef = np.linalg.lstsq(trend_design, trend.iloc[:, 0].to_numpy(), rcond=None)[0]
    return np.array([
        float(np.mean([levels.autocorr(lag) for lag in PERSISTENCE_LAGS])),
        float(levels.std()),
        float(same_day[1]),
        float(later[1]),
        float(same_day[2]),
        float(trend_coef[1]),
        float(pd.concat([log_return, iv.shift(1)], axis=1).dropna().pipe(
            lambda f: (f.iloc[:, 0] / (f.iloc[:, 1] / 100.0 / math.sqrt(365.0))).kurt())),
        float(iv.diff().dropna().autocorr(1)),
        float(log_iv.diff().std()),
        float(vrp.autocorr(1)),
        float(vrp.autocorr(10)),
        realism.edge_slope_on_vrp(forward_edge(raw, 30), iv - realized_vol(log_return, 30)),
        float(np.polyfit(level.iloc[:, 1].to_numpy(), level.iloc[:, 0].to_numpy(), 1)[0]),
        float(np.linalg.lstsq(np.column_stack([np.ones(len(after)), after.iloc[:, 1], after.iloc[:, 2]]),
                              after.iloc[:, 0].to_numpy(), rcond=None)[0][1]),
        float(compute_sensors(raw[list(RAW_COLUMNS)])["iv_rank_6m"].median()),
        float(log_iv.diff(SKEW_WINDOW_DAYS).skew()),
    ])


def premium_ratios(raw: pd.DataFrame, regime_id: pd.Series, n_regimes: int, shrink: bool = True) -> np.ndarray:
    """Per regime: mean of iv_30d over the RV realized in the next 30 days (NaN if unseen),
    shrunk toward the pooled one on real data (``synthetic.regimes.regime_premia``)."""
    forward = forward_realized_vol(raw["close"], 30).to_numpy()
    ids = regime_id.to_numpy(dtype="float64", na_value=np.nan)
    groups = np.where(np.isfinite(ids), ids, -1).astype(int)
    return regime_premia(raw["iv_30d"].to_numpy(dtype=float), forward, groups, n_regimes, shrink=shrink)


# ------------------------------------------------------------------------------ calibration


def _to_vector(dynamics: VolDynamics, phi_iv: float, iv_noise: float) -> np.ndarray:
    """Unconstrained coordinates of the parameters the least squares moves (all but t_dof).
    The trend feedback is moved as log-vol per s.d. of the trend state."""
    def logit(p: float) -> float:
        return math.log(p / (1.0 - p))

    return np.array([
        logit(dynamics.persistence), math.log(dynamics.vol_of_vol), logit(dynamics.news_persistence),
        math.log(dynamics.news_square), dynamics.news_signed, dynamics.trend_feedback * dynamics.trend_sd(),
        math.log(dynamics.iv_news), logit(dynamics.iv_news_persistence), logit(phi_iv), math.log(iv_noise),
    ])


def _from_vector(theta: np.ndarray, t_dof: float, vol_shock_skew: float) -> tuple[VolDynamics, float, float]:
    def expit(v: float) -> float:
        return 1.0 / (1.0 + math.exp(-v))

    trend_sd = VolDynamics(trend_half_life=MARKET_TREND_HALF_LIFE_DAYS).trend_sd()
    # A skewed vol shock has a finite expected variance only while vol_of_vol * skew < 1.
    vol_of_vol_cap = 0.9 * MAX_SKEWED_VOL_OF_VOL / vol_shock_skew if vol_shock_skew > 0 else 0.5
    dynamics = VolDynamics(
        persistence=min(expit(theta[0]), 0.998),
        vol_of_vol=min(math.exp(theta[1]), 0.5, vol_of_vol_cap),
        news_persistence=min(expit(theta[2]), 0.998),
        news_square=min(math.exp(theta[3]), 0.1),
        news_signed=float(np.clip(theta[4], -0.5, 0.5)),
        trend_feedback=float(np.clip(theta[5] / trend_sd, -5.0, 5.0)),
        t_dof=float(np.clip(t_dof, 4.5, 200.0)),
        trend_half_life=MARKET_TREND_HALF_LIFE_DAYS,
        iv_news=min(math.exp(theta[6]), 0.1),
        iv_news_persistence=min(expit(theta[7]), 0.995),
        vol_shock_skew=float(vol_shock_skew),
        fitted=DYNAMICS_PARAMETERS,
    )
    return dynamics, min(expit(theta[8]), 0.99), math.exp(theta[9])


# Bounds of the unconstrained coordinates (the plausible region) and finite-difference steps.
_THETA_LOW = np.array([
    math.log(0.9 / 0.1), math.log(0.003), 0.0, math.log(1e-4), -0.1, -0.5, math.log(1e-4), 0.0, -3.0,
    math.log(0.002),
])
_THETA_HIGH = np.array([
    math.log(0.997 / 0.003), math.log(0.2), math.log(0.99 / 0.01), math.log(0.08), 0.1, 0.8, math.log(0.05),
    math.log(0.99 / 0.01), math.log(0.97 / 0.03), math.log(0.2),
])
# Where the search starts: BTC-like values (docs/synthetic.md); the trend feedback 0.1 log-vol
# per s.d. of the trend state; an IV overreaction of half the vol's response to a move that
# fades like the vol spike it comes with (the spike persistence BTC's fits find, ~0.97); vol
# shocks skewed like the middle of their grid (the sampling noise of the 5-day IV-change
# skewness grows with it, and is measured here).
_START = VolDynamics(persistence=0.985, vol_of_vol=0.03, news_persistence=0.97, news_square=0.01,
                     news_signed=0.0, t_dof=6.0, trend_half_life=MARKET_TREND_HALF_LIFE_DAYS,
                     iv_news=0.005, iv_news_persistence=0.97, vol_shock_skew=6.0)
_START = replace(_START, trend_feedback=0.1 / _START.trend_sd())
_START_PHI_IV, _START_IV_NOISE = 0.3, 0.03
# A weak prior around the start (s.d. in the unconstrained coordinates): a parameter the
# moments pin down loosely stays near a BTC-like value instead of drifting to a bound.
_PRIOR_SD = np.array([0.7, 0.7, 0.7, 0.7, 0.02, 0.3, 0.7, 0.7, 0.7, 0.7])
_THETA_STEP = np.array([0.1, 0.1, 0.1, 0.1, 0.01, 0.05, 0.1, 0.1, 0.1, 0.1])


def _with_iv_noise(
    regimes: dict[int, RegimeParams], dynamics: VolDynamics, phi_iv: float, iv_noise: float,
    premium: np.ndarray,
) -> dict[int, RegimeParams]:
    """Regimes with the calibrated IV noise: ``iv_level_sigma`` is ``iv_noise`` times the
    regime's typical IV (its RMS vol times 1 + mu_vrp_30d), ``phi_iv`` shared."""
    rms = math.sqrt(VolProcess(dynamics).mean_square_factor())
    out = {}
    for k, regime in regimes.items():
        mu_vrp = float(np.clip(premium[k] - 1.0, -0.85, 5.0))
        typical_iv = regime.mu_rv_30d * rms * (1.0 + mu_vrp)
        out[k] = replace(
            regime, mu_vrp_30d=mu_vrp, phi_iv=phi_iv, iv_level_sigma=float(min(iv_noise * typical_iv, 100.0)),
        )
    return out


class _Calibration:
    """Simulates candidate models on fixed seeds (common random numbers) and measures them."""

    def __init__(self, labelled: pd.DataFrame, matrix: np.ndarray, underlying: str, real_moments: np.ndarray,
                 real_premium: np.ndarray):
        self.labelled = labelled
        self.matrix = matrix
        self.underlying = underlying
        self.real_moments = real_moments
        self.real_premium = real_premium
        self.n = matrix.shape[0]
        self.evaluations = 0

    def model(self, theta: np.ndarray, t_dof: float, skew: float, premium: np.ndarray) -> RegimeModel:
        dynamics, phi_iv, iv_noise = _from_vector(theta, t_dof, skew)
        regimes = fit_regime_params_from_clusters(self.labelled, dynamics=dynamics)
        regimes = _with_iv_noise(regimes, dynamics, phi_iv, iv_noise, premium)
        calibrated = ("mu_vrp_30d", "phi_iv", "iv_level_sigma")
        regimes = {k: replace(r, fitted=tuple(dict.fromkeys(r.fitted + calibrated))) for k, r in regimes.items()}
        return RegimeModel(self.underlying, regimes, self.matrix, source="calibration", dynamics=dynamics)

    def measure(
        self, model: RegimeModel, seeds: tuple[int, ...] = CALIBRATION_SEEDS, days: int = CALIBRATION_DAYS
    ) -> tuple[np.ndarray, np.ndarray]:
        """Median moments and premium ratios over ``seeds`` (one path of ``days`` each)."""
        self.evaluations += 1
        moments, ratios = [], []
        for seed in seeds:
            market = generate_market(self.underlying, days, seed=seed, model=model)
            raw = market.requested
            moments.append(calibration_moments(raw))
            ratios.append(premium_ratios(raw, raw["regime_id"], self.n, shrink=False))
        return np.nanmedian(moments, axis=0), np.nanmedian(ratios, axis=0)


def calibrate_model(
    labelled: pd.DataFrame,
    matrix: np.ndarray,
    underlying: str,
    progress: Progress | None = None,
) -> tuple[RegimeModel, dict]:
    """Indirect inference: the dynamics and IV noise whose simulated ``calibration_moments``
    match the real ones, and premia matching each regime's real IV / forward RV.

    Weighted least squares (scipy's trust-region reflective solver, finite differences,
    within plausible bounds) on the gaps between simulated and real moments, each divided by
    its sampling s.d. on a sample as long as the real one (measured on simulated paths), so
    a moment the real history pins down loosely weighs little, plus a weak prior around
    BTC-like start values (``_PRIOR_SD``) for the parameters such moments leave loose. Every evaluation uses the same
    seeds, so the moments move smoothly with the parameters. The tails (``t_dof``) and the
    skewness of the latent vol shocks (``vol_shock_skew``) are fitted first, each by a grid
    on its own moment (the Student-t and gamma draws change with them, which finite
    differences cannot follow); the premia last, by ratio."""
    from scipy.optimize import least_squares  # the builder only; ~0.3 s to import

    real_moments = calibration_moments(labelled)
    real_premium = premium_ratios(labelled, labelled["regime_id"], matrix.shape[0])
    pooled = np.nanmedian(real_premium) if np.isfinite(real_premium).any() else 1.15
    real_premium = np.where(np.isfinite(real_premium), real_premium, pooled)
    calibration = _Calibration(labelled, matrix, underlying, real_moments, real_premium)
    theta = start = np.clip(_to_vector(_START, _START_PHI_IV, _START_IV_NOISE), _THETA_LOW, _THETA_HIGH)
    t_dof, skew = _START.t_dof, _START.vol_shock_skew
    premium = real_premium.copy()
    kurtosis = MOMENT_NAMES.index("standardized_kurtosis")
    iv_skewness = MOMENT_NAMES.index("log_iv_change_skew_5d")

    # Sampling noise of each moment on a real-length sample, at the starting point.
    real_days = max(int(labelled["iv_30d"].notna().sum()), MIN_CALIBRATION_DAYS)
    noise_seeds = tuple(range(900, 900 + NOISE_PATHS))
    samples = [calibration.measure(calibration.model(theta, t_dof, skew, premium), (seed,), real_days)[0]
               for seed in noise_seeds]
    scale = np.maximum(np.nanstd(samples, axis=0, ddof=1), 1e-4)
    # The realism judge bounds the vrp_30d autocorrelations within 0.1 of the real ones and the
    # KS distance of iv_rank_6m at 0.15: the moments standing for those checks count at least
    # as if their sampling s.d. were half the check's bound.
    judged = {"vrp_autocorr_1": realism.AUTOCORR_TOLERANCE, "vrp_autocorr_10": realism.AUTOCORR_TOLERANCE,
              "iv_rank_median": realism.KS_BOUNDS["iv_rank_6m"]}
    for name, bound in judged.items():
        i = MOMENT_NAMES.index(name)
        scale[i] = min(scale[i], bound / 2.0)
    budget = NOISE_PATHS + len(T_DOF_GRID) + len(VOL_SHOCK_SKEW_GRID) + MAX_EVALUATIONS * (len(theta) + 1) + 2

    def report(message: str) -> None:
        if progress:
            progress(min(calibration.evaluations / budget, 0.99), message)

    # The tails first: the standardized kurtosis falls with t_dof and barely moves with the
    # rest (and the Student-t draws change with t_dof, which finite differences cannot follow).
    kurtosis_by_dof = []
    for dof in T_DOF_GRID:
        report(f"calibrating: tails (t_dof {dof:g})")
        kurtosis_by_dof.append(calibration.measure(calibration.model(theta, dof, skew, premium))[0][kurtosis])
    t_dof = _dof_for_kurtosis(np.array(T_DOF_GRID), np.array(kurtosis_by_dof), real_moments[kurtosis])
    # Then the asymmetry of vol: the skewness of 5-day log-IV changes rises with the skewness
    # of the latent vol shocks (the rest moves it less: it is measured past the fast IV noise).
    iv_skewness_by_skew = []
    for value in VOL_SHOCK_SKEW_GRID:
        report(f"calibrating: vol bursts (shock skewness {value:g})")
        iv_skewness_by_skew.append(calibration.measure(calibration.model(theta, t_dof, value, premium))[0][iv_skewness])
    skew = _grid_value_for(np.array(VOL_SHOCK_SKEW_GRID), np.array(iv_skewness_by_skew), real_moments[iv_skewness])

    def residuals(vector: np.ndarray) -> np.ndarray:
        report(f"calibrating: vol dynamics ({calibration.evaluations} simulations)")
        simulated, _ = calibration.measure(calibration.model(vector, t_dof, skew, premium))
        gap = (simulated - real_moments) / scale
        gap[kurtosis] = 0.0  # t_dof answers it
        gap[iv_skewness] = 0.0  # vol_shock_skew does
        return np.concatenate([np.nan_to_num(gap, nan=10.0), (vector - start) / _PRIOR_SD])

    fit = least_squares(
        residuals, theta, bounds=(_THETA_LOW, _THETA_HIGH), diff_step=_THETA_STEP / np.maximum(np.abs(theta), 1.0),
        max_nfev=MAX_EVALUATIONS, x_scale=_THETA_STEP, method="trf",
    )
    theta = fit.x
    _, ratios = calibration.measure(calibration.model(theta, t_dof, skew, premium))
    premium = premium * real_premium / ratios
    model = calibration.model(theta, t_dof, skew, premium)
    final, ratios = calibration.measure(model)
    details = {
        "moments (real, simulated, sampling s.d.)": {
            name: [round(float(r), 5), round(float(m), 5), round(float(sd), 5)]
            for name, r, m, sd in zip(MOMENT_NAMES, real_moments, final, scale, strict=True)
        },
        "premium_ratio_real_vs_simulated": [[round(float(r), 4), round(float(m), 4)] for r, m in zip(
            real_premium, ratios, strict=True)],
        "rms_gap_in_sds": round(float(np.sqrt(np.mean(((final - real_moments) / scale) ** 2))), 3),
        "t_dof_search": {f"{d:g}": round(float(k), 3) for d, k in zip(T_DOF_GRID, kurtosis_by_dof, strict=True)},
        "vol_shock_skew_search": {f"{v:g}": round(float(k), 3) for v, k in zip(
            VOL_SHOCK_SKEW_GRID, iv_skewness_by_skew, strict=True)},
        "simulations": calibration.evaluations,
        "paths_per_simulation": f"{len(CALIBRATION_SEEDS)} x {CALIBRATION_DAYS} days",
    }
    return model, details


def _grid_value_for(grid: np.ndarray, moments: np.ndarray, target: float) -> float:
    """The grid coordinate whose simulated moment is ``target``: linear interpolation over
    the grid points ordered by their moment, clamped to the grid's ends (a target outside
    the simulated range gets the nearest end)."""
    order = np.argsort(moments)
    return float(np.interp(target, moments[order], grid[order]))


def _dof_for_kurtosis(dofs: np.ndarray, kurtosis: np.ndarray, target: float) -> float:
    """The t_dof whose simulated kurtosis is ``target``: interpolated in 1/(dof - 4) (the
    Student-t's excess kurtosis is 6/(dof - 4)), clamped to the grid."""
    inverse = _grid_value_for(1.0 / (dofs - 4.0), kurtosis, target)
    return float(np.clip(4.0 + 1.0 / inverse, dofs.min(), dofs.max()))


# ------------------------------------------------------------------------------ build


def build_regime_model(
    sensors: pd.DataFrame,
    underlying: str,
    n_clusters: int = 6,
    source: str = "unknown",
    random_state: int = 0,
    calibrate: bool = True,
    judge: bool = True,
    progress: Progress | None = None,
) -> RegimeModel:
    """Cluster ``sensors`` into ``n_clusters`` regimes and fit a full model with provenance.

    ``calibrate=False`` skips the simulation-based calibration (default dynamics and IV
    noise); ``judge=False`` skips the realism judge. Raises ``ValueError`` when the data has no 30-day implied vol: regimes are defined
    by the VRP and IV dynamics, and fitting them on prices alone would only give placeholders.
    """
    if "iv_30d" not in sensors.columns or sensors["iv_30d"].notna().sum() < 2:
        raise ValueError(
            "no 30-day implied vol in this data (iv_30d is empty): regimes need IV, "
            "e.g. a DVOL history (--iv CSV) or a data folder with one (--data-dir)"
        )
    underlying = underlying.upper()
    labelled, clustering = fit_regime_clustering(sensors, n_clusters, random_state=random_state)
    labelled["rv_30d_forward"] = forward_realized_vol(labelled["close"], 30)
    matrix = estimate_transition_matrix(labelled["regime_id"], n_regimes=n_clusters)
    iv_days = int(labelled["iv_30d"].notna().sum())
    calibration = None
    if calibrate and iv_days >= MIN_CALIBRATION_DAYS:
        model, calibration = calibrate_model(labelled, matrix, underlying, _scaled(progress, 0.0, 0.8))
        regimes, dynamics = model.regimes, model.dynamics
    else:
        dynamics = VolDynamics()
        regimes = fit_regime_params_from_clusters(labelled, dynamics=dynamics)
    used = labelled["regime_id"].notna()
    span = labelled.index[used.to_numpy()]
    provenance = {
        "source": source,
        "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "n_clusters": n_clusters,
        "cluster_columns": labelled.attrs["cluster_columns"],
        "cluster_columns_unavailable": labelled.attrs["cluster_columns_unavailable"],
        "samples_used": int(used.sum()),
        "rows_left_out": labelled.attrs["regime_rows_left_out"],
        "span": [span.min().date().isoformat(), span.max().date().isoformat()] if len(span) else None,
        "history_days": len(labelled),
        "iv_days": iv_days,
        "calibration": calibration if calibration is not None else (
            "skipped" if not calibrate else f"skipped: {iv_days} days of IV < {MIN_CALIBRATION_DAYS}"
        ),
        "kmeans_inertia": float(clustering.kmeans.inertia_),
        "cluster_centers_z": np.round(clustering.centers_z, 4).tolist(),
    }
    model = RegimeModel(underlying, regimes, matrix, provenance, source=f"built from {source}", dynamics=dynamics)
    if judge:
        if progress:
            progress(0.85, "judging realism against the real history")
        reference = realism.real_reference(sensors[list(RAW_COLUMNS)], source, n_clusters)
        verdict = realism.realism_verdict(realism.measure_model(model, reference))
        model.provenance[realism.PROVENANCE_KEY] = verdict.to_dict()
    if progress:
        progress(1.0, "done")
    return model


def _scaled(progress: Progress | None, low: float, high: float) -> Progress | None:
    if progress is None:
        return None
    return lambda fraction, message: progress(low + (high - low) * fraction, message)
