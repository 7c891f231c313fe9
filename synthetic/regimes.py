"""Market regimes learned from Greg sensors, and the implied-vol dynamics they drive.

Pipeline (all pure functions over a sensor DataFrame, so real and synthetic data go through
the same code):

1. ``cluster_greg_sensors_from_real_data``: KMeans on standardized sensor columns. Rows with
   a missing value in the chosen columns are left out (their ``regime_id`` is <NA>) and the
   count is reported in ``df.attrs["regime_rows_left_out"]``. Clusters are renumbered from the
   calmest (lowest mean rv_30d) to the most volatile so ids read the same on every rebuild.
2. ``fit_regime_params_from_clusters``: per cluster, the level of realized vol, the variance
   risk premium as a fraction of RV, and AR(1) persistence/noise of ATM IV around its VRP
   target, estimated from consecutive days inside the cluster. Skew and term structure are
   estimated where the data carries them; otherwise the default template is kept and the
   field is *not* listed in ``RegimeParams.fitted``.
3. ``estimate_transition_matrix`` / ``sample_regime_path``: a first-order Markov chain.

Delta convention (``iv_for_delta``): ``delta`` is the Black-Scholes **call** delta N(d1),
from ~0 (far out-of-the-money call, high strike) to ~1 (deep in-the-money call, i.e. far
out-of-the-money put, low strike). So delta 0.25 is the 25-delta call and delta 0.75 is the
25-delta put (put delta -0.25), and ``iv_for_delta(.., 0.75) - iv_for_delta(.., 0.25)`` is
exactly the ``skew_25d`` sensor (put minus call, positive when puts are richer).

Skew state: the request asks for a scalar factor that mean-reverts toward 0 and multiplies
the template. We read it as a *relative deviation*: the effective template is
``template * (1 + skew_state)``, so the template is the long-run average smile and the state
scales it up (fear) or down (complacency) around that average.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from greg_core.checks import check_number, check_object
from greg_core.contract import MAX_IV_POINTS
from greg_core.realized_vol import DAYS_PER_YEAR
from synthetic.recursion import linear_recurrence
from synthetic.volatility import VolDynamics, VolProcess

if TYPE_CHECKING:  # scikit-learn loads in ~1 s; only clustering needs it
    from sklearn.cluster import KMeans

CANONICAL_DELTAS: tuple[float, ...] = (0.10, 0.25, 0.50, 0.75, 0.90)
DEFAULT_CLUSTER_COLUMNS: tuple[str, ...] = (
    "vrp_30d",
    "chop_factor_7d",
    "iv_rank_6m",
    "adx_14d",
    "rsi_14d",
    "price_vs_ma200",
    "term_structure_spread",
    "skew_25d",
)
# A fitted IV floor: the AR(1) is linear in vol points, so a guard keeps a pathological
# parameter set from producing a non-positive IV. Fitted BTC parameters never reach it.
IV_FLOOR = 1.0
MIN_PAIRS_FOR_AR1 = 10
FORWARD_DAYS = 30
# A regime's days "sat in a trend" when their mean price_vs_ma200 is beyond this (%).
TREND_BAND_PCT = 10.0
# Annual drifts are clipped to this (log return per year), which with the price anchor of
# synthetic.universe bounds any path's log price.
MAX_DRIFT = 2.0


def template_key(delta: float) -> str:
    return f"delta_{delta:g}"


# Long-run BTC smile shape, relative to ATM (iv = atm * (1 + m)); call-delta keys. Wings up
# on both sides, puts richer: at ATM 45 this gives a 25-delta skew of ~+2.0 vol pts, close to
# the mean put-minus-call we measure on the shared Deribit chains of 2025-12-11/12.
DEFAULT_SKEW_TEMPLATE: dict[str, float] = {
    template_key(0.10): 0.085,
    template_key(0.25): 0.020,
    template_key(0.50): 0.0,
    template_key(0.75): 0.065,
    template_key(0.90): 0.150,
}


@dataclass
class RegimeParams:
    """One regime's parameters; the first seven fields are the requested API.

    Units: ``mu_rv_30d`` and ``iv_level_sigma`` in vol points (daily shock s.d. for the
    latter), ``mu_vrp_30d`` a fraction (IV target = RV x (1 + mu_vrp_30d)), ``phi_*`` daily
    AR(1) coefficients, ``drift_annual`` the annualized mean log return of spot,
    ``term_premium`` the mean of iv_7d / iv_30d - 1, ``skew_sigma`` the daily shock s.d. of
    the skew state. ``fitted`` lists the fields estimated from data (the rest are defaults).
    """

    name: str
    mu_rv_30d: float
    mu_vrp_30d: float
    iv_level_sigma: float
    skew_template: dict
    phi_iv: float
    phi_skew: float
    drift_annual: float = 0.0
    term_premium: float = 0.0
    term_sigma: float = 0.03
    skew_sigma: float = 0.15
    share: float = 0.0
    fitted: tuple[str, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict:
        data = asdict(self)
        data["fitted"] = list(self.fitted)
        return data

    @classmethod
    def from_dict(cls, data: dict) -> RegimeParams:
        """A validated ``RegimeParams``; ``ValueError`` naming the first bad field."""
        check_object(data, {f.name for f in fields(cls)}, "regime")
        missing = [f.name for f in fields(cls) if f.name in REQUIRED_FIELDS and f.name not in data]
        if missing:
            raise ValueError(f"missing regime field(s): {', '.join(missing)}")
        values = dict(data)
        fitted = values.get("fitted", ())
        if not isinstance(fitted, list | tuple) or not all(isinstance(x, str) for x in fitted):
            raise ValueError(f"fitted must be a list of field names, got {fitted!r}")
        values["fitted"] = tuple(fitted)
        params = cls(**values)
        params.validate()
        return params

    def validate(self) -> None:
        """Every field's type and range (NaN and infinities are never valid)."""
        if not isinstance(self.name, str) or not self.name.strip():
            raise ValueError(f"name must be a non-empty text, got {self.name!r}")
        where = f"regime {self.name!r}: "
        for name, (low, high, low_open, high_open) in NUMBER_RANGES.items():
            check_number(getattr(self, name), name, low, high, low_open=low_open, high_open=high_open, where=where)
        template = self.skew_template
        if not isinstance(template, dict):
            raise ValueError(f"regime {self.name!r}: skew_template must be an object, got {template!r}")
        expected = {template_key(d) for d in CANONICAL_DELTAS}
        missing = sorted(expected - set(template))
        if missing:
            raise ValueError(f"regime {self.name!r}: skew_template lacks {', '.join(missing)}")
        extra = sorted(map(str, set(template) - expected))
        if extra:
            raise ValueError(f"regime {self.name!r}: skew_template has unknown key(s) {', '.join(extra)}")
        for key in sorted(expected):
            check_number(template[key], f"skew_template.{key}", -0.9, 5.0, low_open=True, high_open=True, where=where)
        unknown = sorted(set(self.fitted) - {f.name for f in fields(self)})
        if unknown:
            raise ValueError(f"regime {self.name!r}: fitted names unknown field(s) {', '.join(unknown)}")


REQUIRED_FIELDS: tuple[str, ...] = (
    "name", "mu_rv_30d", "mu_vrp_30d", "iv_level_sigma", "skew_template", "phi_iv", "phi_skew",
)
# field: (low, high, low end open, high end open)
NUMBER_RANGES: dict[str, tuple[float, float, bool, bool]] = {
    "mu_rv_30d": (0.0, MAX_IV_POINTS, True, False),
    "mu_vrp_30d": (-0.9, 10.0, True, True),
    "iv_level_sigma": (0.0, 100.0, False, False),
    "phi_iv": (0.0, 1.0, False, True),
    "phi_skew": (0.0, 1.0, False, True),
    "drift_annual": (-MAX_DRIFT, MAX_DRIFT, False, False),
    "term_premium": (-0.9, 5.0, True, True),
    "term_sigma": (0.0, 2.0, False, False),
    "skew_sigma": (0.0, 5.0, False, False),
    "share": (0.0, 1.0, False, False),
}


# ---------------------------------------------------------------------------- IV and skew


def skew_multiplier(regime: RegimeParams, delta: float | np.ndarray) -> float | np.ndarray:
    """Template value at ``delta`` (call delta), linear between the canonical deltas."""
    values = [float(regime.skew_template[template_key(d)]) for d in CANONICAL_DELTAS]
    return np.interp(delta, CANONICAL_DELTAS, values)


def iv_for_delta(iv_atm_t: float, regime: RegimeParams, skew_state_t: float, delta: float) -> float:
    """IV at call-delta ``delta``: ``iv_atm * (1 + template(delta) * (1 + skew_state))``."""
    return float(iv_atm_t * (1.0 + skew_multiplier(regime, delta) * (1.0 + skew_state_t)))


def iv_target(rv_30d: float | np.ndarray, mu_vrp_30d: float | np.ndarray):
    return rv_30d * (1.0 + mu_vrp_30d)


def evolve_iv_and_skew(
    iv_atm_prev: float,
    rv_30d_t: float,
    regime: RegimeParams,
    rng: np.random.Generator,
    skew_state_prev: float = 0.0,
) -> tuple[float, float]:
    """One day of the AR(1) dynamics; returns ``(iv_atm_t, skew_state_t)``.

    ``iv_target = rv_30d * (1 + mu_vrp_30d)``;
    ``iv = target + phi_iv * (prev - target) + N(0, iv_level_sigma^2)``;
    ``skew_state = phi_skew * prev_state + N(0, skew_sigma^2)``.
    Draws two standard normals (IV, then skew) in that order, as ``evolve_iv_and_skew_path``
    does for each day, so a loop over this function reproduces the path function exactly.
    """
    shock_iv, shock_skew = rng.standard_normal(2)
    target = iv_target(rv_30d_t, regime.mu_vrp_30d)
    iv = target + regime.phi_iv * (iv_atm_prev - target) + regime.iv_level_sigma * shock_iv
    skew_state = regime.phi_skew * skew_state_prev + regime.skew_sigma * shock_skew
    return max(IV_FLOOR, float(iv)), float(skew_state)


def evolve_iv_and_skew_path(
    rv_30d: np.ndarray,
    regime_path: np.ndarray,
    regimes: dict[int, RegimeParams],
    rng: np.random.Generator,
    iv_atm_start: float,
    skew_state_start: float = 0.0,
) -> tuple[np.ndarray, np.ndarray]:
    """The dynamics of ``evolve_iv_and_skew`` over a whole path (same draws, same order).

    Each day's coefficients come from its regime; both AR(1)s run as one linear recurrence
    over the path (``synthetic.recursion``), whatever the number of regime changes."""
    path = np.asarray(regime_path)
    n = len(path)
    shocks = rng.standard_normal((n, 2))
    size = max(regimes) + 1
    table = np.zeros((5, size))
    for regime_id, regime in regimes.items():
        table[:, regime_id] = (
            regime.phi_iv, regime.iv_level_sigma, regime.mu_vrp_30d, regime.phi_skew, regime.skew_sigma
        )
    phi_iv, iv_sigma, mu_vrp, phi_skew, skew_sigma = table[:, path]
    target = iv_target(np.asarray(rv_30d, dtype=float), mu_vrp)
    iv_in = (1.0 - phi_iv) * target + iv_sigma * shocks[:, 0]
    iv = linear_recurrence(phi_iv, iv_in, iv_atm_start)
    below = np.flatnonzero(iv < IV_FLOOR)
    if len(below):
        # The floor feeds back into the recursion, as in evolve_iv_and_skew: step through
        # from the first day it binds (only pathological parameter sets ever get here).
        first = int(below[0])
        prev = iv_atm_start if first == 0 else float(iv[first - 1])
        for k in range(first, n):
            prev = iv[k] = max(IV_FLOOR, iv_in[k] + phi_iv[k] * prev)
    skew = linear_recurrence(phi_skew, skew_sigma * shocks[:, 1], skew_state_start)
    return iv, skew


# ------------------------------------------------------------------------------ clustering


@dataclass(frozen=True, eq=False)
class RegimeClustering:
    """A fitted regime clustering: scikit-learn's KMeans, untouched after fitting, beside
    what it needs to label new rows (the sensor columns and their standardization).

    The KMeans is fitted so that its own labels are the regime ids (calmest first), see
    ``fit_regime_clustering``; ``assign`` is ``kmeans.predict`` on standardized rows."""

    kmeans: KMeans
    columns: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray

    @property
    def centers_z(self) -> np.ndarray:
        """Cluster centres in standardized units, row k = regime k."""
        return self.kmeans.cluster_centers_

    def assign(self, df_sensors: pd.DataFrame) -> pd.Series:
        """Nearest regime for each complete row (``<NA>`` where a feature is missing)."""
        values = df_sensors[list(self.columns)].replace([np.inf, -np.inf], np.nan)
        complete = values.notna().all(axis=1).to_numpy()
        out = pd.array([pd.NA] * len(df_sensors), dtype="Int64")
        if complete.any():
            z = (values.to_numpy()[complete] - self.mean) / self.scale
            out[complete] = self.kmeans.predict(z)
        return pd.Series(out, index=df_sensors.index, name="regime_id")


# A default clustering sensor with values on fewer rows than this share of the best-covered
# one is left out (see fit_regime_clustering).
MIN_CLUSTER_COVERAGE = 0.5


def fit_regime_clustering(
    df_sensors: pd.DataFrame,
    n_clusters: int = 6,
    columns: tuple[str, ...] | list[str] | None = None,
    random_state: int = 0,
) -> tuple[pd.DataFrame, RegimeClustering]:
    """KMeans regimes on standardized sensors; returns (df with ``regime_id``, clustering).

    ``columns`` defaults to ``DEFAULT_CLUSTER_COLUMNS`` present in the frame with values on at
    least ``MIN_CLUSTER_COVERAGE`` of the rows the best-covered of them has (a daily DVOL
    history has no skew or term structure, and a few harvested chain snapshots give them on a
    few days only: requiring them would leave almost no complete row); those columns are left
    out and listed in ``attrs["cluster_columns_unavailable"]``. Ids run from the calmest cluster
    (lowest mean rv_30d, else the first column) to the most volatile, so they read the same
    on every rebuild: a first KMeans (``n_init=10``) finds the clusters, and a second one
    started from its centres in that order converges at once to the same partition with the
    ordered labels, so the returned KMeans is never relabelled by hand.
    """
    from sklearn.cluster import KMeans

    if n_clusters < 1:
        raise ValueError(f"n_clusters must be >= 1, got {n_clusters}")
    wanted = list(columns) if columns is not None else list(DEFAULT_CLUSTER_COLUMNS)
    unknown = [c for c in wanted if c not in df_sensors.columns]
    if columns is not None and unknown:
        raise ValueError(f"unknown sensor column(s) for clustering: {', '.join(unknown)}")
    present = {c: int(df_sensors[c].notna().sum()) for c in wanted if c in df_sensors.columns}
    best = max(present.values(), default=0)
    if columns is None:
        usable = [c for c in wanted if present.get(c, 0) and present[c] >= MIN_CLUSTER_COVERAGE * best]
    else:
        usable = [c for c in wanted if present.get(c, 0)]
    if not usable:
        raise ValueError("no sensor column with data to cluster on")
    values = df_sensors[usable].replace([np.inf, -np.inf], np.nan)
    complete = values.notna().all(axis=1).to_numpy()
    if complete.sum() < n_clusters:
        raise ValueError(
            f"only {int(complete.sum())} complete rows in {', '.join(usable)}; "
            f"need at least n_clusters={n_clusters}"
        )
    matrix = values.to_numpy()[complete]
    mean, scale = matrix.mean(axis=0), matrix.std(axis=0)
    scale = np.where(scale > 0, scale, 1.0)
    z = (matrix - mean) / scale
    first = KMeans(n_clusters=n_clusters, n_init=10, random_state=random_state).fit(z)

    order_column = "rv_30d" if "rv_30d" in df_sensors.columns else usable[0]
    order_values = df_sensors[order_column].to_numpy(dtype=float)[complete]
    means = [
        np.nanmean(order_values[first.labels_ == k]) if (first.labels_ == k).any() else np.inf
        for k in range(n_clusters)
    ]
    ordered_centres = first.cluster_centers_[np.argsort(means, kind="stable")]
    kmeans = KMeans(n_clusters=n_clusters, init=ordered_centres, n_init=1, random_state=random_state).fit(z)
    clustering = RegimeClustering(kmeans, tuple(usable), mean, scale)

    result = df_sensors.copy()
    regime_id = pd.array([pd.NA] * len(result), dtype="Int64")
    regime_id[complete] = kmeans.labels_
    result["regime_id"] = regime_id
    result.attrs["cluster_columns"] = usable
    result.attrs["cluster_columns_unavailable"] = [c for c in wanted if c not in usable]
    result.attrs["regime_rows_left_out"] = int((~complete).sum())
    return result, clustering


def cluster_greg_sensors_from_real_data(
    df_sensors: pd.DataFrame,
    n_clusters: int = 6,
    columns: tuple[str, ...] | list[str] | None = None,
    random_state: int = 0,
) -> tuple[pd.DataFrame, KMeans]:
    """The requested API: ``fit_regime_clustering`` returning (df with ``regime_id``, KMeans).

    The KMeans is fitted on standardized sensors and labels rows with the regime ids; to
    label new rows use ``fit_regime_clustering``'s ``RegimeClustering.assign``, which keeps
    the columns and the standardization beside it."""
    labelled, clustering = fit_regime_clustering(df_sensors, n_clusters, columns, random_state)
    return labelled, clustering.kmeans


def assign_regimes(df_sensors: pd.DataFrame, clustering: RegimeClustering) -> pd.Series:
    """Nearest fitted regime for each complete row (``<NA>`` where a feature is missing)."""
    return clustering.assign(df_sensors)


# ------------------------------------------------------------------------------ fitting


def _consecutive(index: pd.Index) -> np.ndarray:
    """Mask over rows t >= 1: row t-1 is the previous bar (no gap in a DatetimeIndex)."""
    same = np.ones(max(len(index) - 1, 0), dtype=bool)
    if isinstance(index, pd.DatetimeIndex) and len(index) > 1:
        gaps = np.diff(index.asi8)
        same &= gaps <= np.median(gaps) * 1.5
    return np.concatenate(([False], same))


def _ar1_fit(y: np.ndarray, x: np.ndarray) -> tuple[float, float] | None:
    """Least-squares ``y = phi * x + e`` (no intercept): (phi clipped to [0, 0.995], sd(e))."""
    ok = np.isfinite(y) & np.isfinite(x)
    if ok.sum() < MIN_PAIRS_FOR_AR1 or not np.any(x[ok] != 0):
        return None
    phi = float(np.clip(np.dot(x[ok], y[ok]) / np.dot(x[ok], x[ok]), 0.0, 0.995))
    return phi, float(np.std(y[ok] - phi * x[ok], ddof=1))


def shrunk_means(
    values: np.ndarray, groups: np.ndarray, n_groups: int, overlap: int = 1
) -> tuple[np.ndarray, float]:
    """Per-group means shrunk toward the pooled mean (empirical Bayes, method of moments).

    The spread of true group means is estimated as the spread of the group means minus what
    their sampling noise alone would give; a group's deviation keeps the share
    ``tau^2 / (tau^2 + se^2)`` of itself. With noise as large as the spread (daily returns
    split by regime), every group gets the pooled mean. ``overlap``: how many consecutive
    values share one independent draw (30 for statistics of overlapping 30-day windows),
    which widens each mean's standard error. Returns (means, pooled mean)."""
    ok = np.isfinite(values) & (groups >= 0)
    pooled = float(values[ok].mean()) if ok.any() else 0.0
    means = np.full(n_groups, pooled)
    se2 = np.full(n_groups, np.inf)
    weights = np.zeros(n_groups)
    for k in range(n_groups):
        v = values[ok & (groups == k)]
        if len(v) >= 2:
            means[k], se2[k], weights[k] = v.mean(), v.var(ddof=1) * overlap / len(v), len(v)
    seen = weights > 0
    if not seen.any():
        return means, pooled
    w = weights[seen] / weights[seen].sum()
    between = float(np.dot(w, (means[seen] - pooled) ** 2))
    tau2 = max(0.0, between - float(np.dot(w, se2[seen])))
    keep = np.where(seen, tau2 / (tau2 + np.where(seen, se2, 1.0)), 0.0)
    return pooled + keep * (means - pooled), pooled


def regime_premia(
    iv: np.ndarray, forward_rv: np.ndarray, groups: np.ndarray, n_groups: int, shrink: bool = True
) -> np.ndarray:
    """Per regime: mean of iv_30d / RV of the next 30 days (NaN for a regime with < 10 days).

    ``shrink``: empirical Bayes toward the pooled mean (``shrunk_means``), counting 30
    overlapping forward windows as one draw: BTC's regimes cannot be told apart this way, so
    no premium difference between them is planted (it would make a rich vrp_30d predict a
    rich forward edge, which the real market does not show)."""
    ok = np.isfinite(iv) & np.isfinite(forward_rv) & (forward_rv > 0) & (groups >= 0)
    ratio = np.where(ok, iv / np.where(ok, forward_rv, 1.0), np.nan)
    counts = np.bincount(groups[ok], minlength=n_groups)[:n_groups] if ok.any() else np.zeros(n_groups)
    if shrink:
        means, _ = shrunk_means(ratio, np.where(ok, groups, -1), n_groups, overlap=FORWARD_DAYS)
    else:
        means = np.array([np.nanmean(ratio[ok & (groups == k)]) if counts[k] else np.nan for k in range(n_groups)])
    return np.where(counts >= MIN_PAIRS_FOR_AR1, means, np.nan)


def describe_regime(mu_rv_30d: float, mu_vrp_30d: float, trend: float | None, rv_low: float, rv_high: float) -> str:
    """A short human name from a regime's vol level, trend and premium.

    ``trend`` is the regime's mean price_vs_ma200 on the data (%, None when unknown): a
    description of where its days sat, not a drift (drifts are shrunk, see docs)."""
    vol = "calm" if mu_rv_30d <= rv_low else ("stormy" if mu_rv_30d >= rv_high else "normal")
    if trend is None or not np.isfinite(trend) or abs(trend) < TREND_BAND_PCT:
        where = "range"
    else:
        where = "uptrend" if trend > 0 else "downtrend"
    premium = "rich IV" if mu_vrp_30d > 0.25 else ("cheap IV" if mu_vrp_30d < 0.0 else "fair IV")
    return f"{vol} {where}, {premium}"


def fit_regime_params_from_clusters(
    df_sensors_with_regime: pd.DataFrame,
    defaults: RegimeParams | None = None,
    dynamics: VolDynamics | None = None,
) -> dict[int, RegimeParams]:
    """Per-cluster ``RegimeParams`` from a sensor frame carrying ``regime_id``.

    Needs ``iv_30d`` and ``close`` (or, without closes, ``rv_30d``); uses ``rv_30d_forward``
    (the RV realized over the next 30 days, ``backtest.outcomes.edge.forward_realized_vol``),
    ``price_vs_ma200``, ``skew_25d`` and ``iv_7d`` when present. The regime at the close of
    day t sets the vol of day t+1 (docs/synthetic.md), so its statistics read the next day:

    * ``mu_rv_30d``: the regime's RMS next-day return (annualized, vol points) relative to all
      labelled days, scaled to the RMS return of the whole frame, divided by the RMS of the
      log-vol factor of ``dynamics`` (so the simulated RMS vol matches the data's);
    * ``mu_vrp_30d``: mean of iv_30d / forward RV - 1 on the regime's days, shrunk toward
      the pooled premium (``regime_premia``; trailing rv_30d when the frame has no forward
      RV); the builder refines it by simulation;
    * ``drift_annual``: mean next-day log return x 365, the pooled mean plus each regime's
      deviation shrunk by empirical Bayes (``shrunk_means``): no trend the data cannot
      tell from noise is planted;
    * where the columns carry data: the skew template's asymmetry, phi_skew/skew_sigma and
      the term premium; otherwise ``assumed_shape`` of the regime's numbers.

    ``phi_iv`` and ``iv_level_sigma`` keep ``defaults`` (the builder fits them with the vol
    dynamics against the real IV); everything not estimated is absent from ``fitted``.
    """
    frame = df_sensors_with_regime
    for needed in ("regime_id", "iv_30d"):
        if needed not in frame.columns:
            raise ValueError(f"fit_regime_params_from_clusters needs a '{needed}' column")
    if "close" not in frame.columns and "rv_30d" not in frame.columns:
        raise ValueError("fit_regime_params_from_clusters needs a 'close' or an 'rv_30d' column")
    base = defaults or RegimeParams(
        name="default", mu_rv_30d=50.0, mu_vrp_30d=0.15, iv_level_sigma=2.0,
        skew_template=dict(DEFAULT_SKEW_TEMPLATE), phi_iv=0.5, phi_skew=0.9,
    )
    dynamics = dynamics or VolDynamics()
    rms_factor = math.sqrt(VolProcess(dynamics).mean_square_factor())
    ids = frame["regime_id"].to_numpy(dtype="float64", na_value=np.nan)
    labelled = np.isfinite(ids)
    groups = np.where(labelled, ids, -1).astype(int)
    regime_ids = sorted(set(groups[labelled].tolist()))
    n_groups = max(regime_ids) + 1 if regime_ids else 0
    iv = frame["iv_30d"].to_numpy(float)
    forward = frame["rv_30d_forward"].to_numpy(float) if "rv_30d_forward" in frame.columns else None
    premium_base = forward if forward is not None else frame.get("rv_30d", pd.Series(np.nan, frame.index)).to_numpy(float)

    premia = regime_premia(iv, premium_base, groups, n_groups)
    next_return = None
    if "close" in frame.columns:
        close = frame["close"].astype("float64")
        log_return = np.log(close.where(close > 0)).diff().to_numpy()
        log_return = np.where(_consecutive(frame.index), log_return, np.nan)
        next_return = np.append(log_return[1:], np.nan)
        all_square = np.nanmean(log_return**2) if np.isfinite(log_return).any() else np.nan
        labelled_square = np.nanmean(next_return[labelled] ** 2) if np.isfinite(next_return[labelled]).any() else np.nan
        drift, _ = shrunk_means(next_return, groups, n_groups)
    trend_values = frame["price_vs_ma200"].to_numpy(float) if "price_vs_ma200" in frame.columns else None
    skew = frame["skew_25d"].to_numpy(float) if "skew_25d" in frame.columns else None
    iv_7d = frame["iv_7d"].to_numpy(float) if "iv_7d" in frame.columns else None
    total = int(labelled.sum())

    raw: dict[int, dict] = {}
    trends: dict[int, float | None] = {}
    for regime_id in regime_ids:
        rows = groups == regime_id
        fitted: list[str] = []
        values: dict = {"share": float(rows.sum() / total) if total else 0.0}
        level = None
        if next_return is not None:
            square = next_return[rows & np.isfinite(next_return)] ** 2
            if len(square) >= MIN_PAIRS_FOR_AR1 and np.isfinite(all_square) and labelled_square > 0:
                level = math.sqrt(square.mean() * all_square / labelled_square * DAYS_PER_YEAR) * 100.0
            if np.isfinite(next_return[rows]).sum() >= MIN_PAIRS_FOR_AR1:
                values["drift_annual"] = float(np.clip(drift[regime_id] * DAYS_PER_YEAR, -MAX_DRIFT, MAX_DRIFT))
                fitted.append("drift_annual")
        elif "rv_30d" in frame.columns:
            rv = frame["rv_30d"].to_numpy(float)[rows]
            level = float(np.nanmean(rv)) if np.isfinite(rv).sum() >= 2 else None
        if level is not None and level > 0:
            values["mu_rv_30d"] = float(min(level / rms_factor, MAX_IV_POINTS))
            fitted.append("mu_rv_30d")
        if np.isfinite(premia[regime_id]):
            values["mu_vrp_30d"] = float(np.clip(premia[regime_id] - 1.0, -0.85, 5.0))
            fitted.append("mu_vrp_30d")
        trend = None
        if trend_values is not None and np.isfinite(trend_values[rows]).any():
            trend = float(np.nanmean(trend_values[rows]))
        trends[regime_id] = trend
        if skew is not None:
            rel = skew / iv
            usable = rows & np.isfinite(rel)
            if usable.sum() >= 2:
                asym = float(rel[usable].mean())
                values["skew_template"] = skew_template_with_asymmetry(asym)
                fitted.append("skew_template")
                if abs(asym) > 1e-6:
                    t = np.flatnonzero(rows & _consecutive(frame.index) & np.append(False, rows[:-1]))
                    state = rel / asym - 1.0
                    estimate = _ar1_fit(state[t], state[t - 1])
                    if estimate is not None:
                        values["phi_skew"], values["skew_sigma"] = estimate
                        fitted += ["phi_skew", "skew_sigma"]
        if iv_7d is not None:
            ratio = iv_7d / iv - 1.0
            usable = rows & np.isfinite(ratio)
            if usable.sum() >= 2:
                values["term_premium"] = float(ratio[usable].mean())
                fitted.append("term_premium")
                if usable.sum() >= MIN_PAIRS_FOR_AR1:
                    values["term_sigma"] = float(np.std(ratio[usable], ddof=1))
                    fitted.append("term_sigma")
        values["fitted"] = tuple(fitted)
        raw[regime_id] = values

    rv_levels = [v.get("mu_rv_30d", base.mu_rv_30d) for v in raw.values()]
    rv_low, rv_high = (np.quantile(rv_levels, [1 / 3, 2 / 3]) if rv_levels else (0.0, 0.0))
    regimes: dict[int, RegimeParams] = {}
    for regime_id, values in raw.items():
        merged = {**base.to_dict(), **values}
        merged["skew_template"] = dict(merged["skew_template"])
        merged["name"] = describe_regime(
            merged["mu_rv_30d"], merged["mu_vrp_30d"], trends[regime_id], rv_low, rv_high
        )
        if defaults is None:
            assumed = assumed_shape(trends[regime_id])
            merged.update({k: v for k, v in assumed.items() if k not in merged["fitted"]})
        regimes[regime_id] = RegimeParams.from_dict(merged)
    return regimes


def skew_template_with_asymmetry(asymmetry: float) -> dict[str, float]:
    """The default smile (+4% at 25 delta, +11.5% at 10 delta over ATM on both wings) with a
    put-minus-call ``asymmetry`` (fraction of ATM) split evenly between the wings."""
    wing_25, wing_10 = 0.04, 0.115
    return {
        template_key(0.10): round(wing_10 - 0.8 * asymmetry, 4),
        template_key(0.25): round(wing_25 - 0.5 * asymmetry, 4),
        template_key(0.50): 0.0,
        template_key(0.75): round(wing_25 + 0.5 * asymmetry, 4),
        template_key(0.90): round(wing_10 + 0.8 * asymmetry, 4),
    }


def assumed_shape(trend: float | None) -> dict:
    """Skew and term-structure parameters for a regime whose data had none (a daily DVOL
    history has no skew or term structure), keyed on the regime's mean price_vs_ma200
    ``trend`` (%; None when unknown), never on its display name.

    Puts over calls by 9% of ATM when the regime's days sat more than ``TREND_BAND_PCT``
    below the 200-day average, calls over puts by 2% when they sat that far above it (BTC's
    call skew in rallies), 4.5% puts over calls in between (the shared Deribit chains of
    2025-12-11/12, a falling market, show ~+5 vol pts, ~11% of ATM); skew state phi 0.95
    with daily s.d. 0.3. Term structure: no premium over the model's own 7-day / 30-day
    expectation (which already gives contango when calm and backwardation after spikes),
    term state s.d. 5%.
    """
    if trend is None or not np.isfinite(trend) or abs(trend) < TREND_BAND_PCT:
        asymmetry = 0.045
    else:
        asymmetry = -0.02 if trend > 0 else 0.09
    return {
        "skew_template": skew_template_with_asymmetry(asymmetry),
        "phi_skew": 0.95,
        "skew_sigma": 0.3,
        "term_premium": 0.0,
        "term_sigma": 0.05,
    }


# ------------------------------------------------------------------------------ Markov chain


def estimate_transition_matrix(
    regime_ids: pd.Series | np.ndarray,
    n_regimes: int | None = None,
    index: pd.Index | None = None,
) -> np.ndarray:
    """Row-stochastic transition matrix from a regime-id sequence.

    Only consecutive observations count (a <NA> or, when ``index`` is a DatetimeIndex, a gap
    longer than 1.5 bars breaks the chain). Counts get a Dirichlet pseudo-count of one
    transition per row, spread evenly over the *other* regimes, so a regime never seen to
    leave is not absorbing (its dwell time is then its observed run + 1). A regime never
    visited stays with the mean observed persistence and leaves uniformly.
    """
    if isinstance(regime_ids, pd.Series):
        index = regime_ids.index if index is None else index
        ids = regime_ids.to_numpy(dtype="float64", na_value=np.nan)
    else:
        ids = np.asarray(regime_ids, dtype="float64")
    finite = ids[np.isfinite(ids)]
    n = int(n_regimes if n_regimes is not None else (finite.max() + 1 if len(finite) else 1))
    valid = np.isfinite(ids[1:]) & np.isfinite(ids[:-1])
    if isinstance(index, pd.DatetimeIndex) and len(index) > 1:
        gaps = np.diff(index.asi8)
        valid &= gaps <= np.median(gaps) * 1.5
    src = ids[:-1][valid].astype(int)
    dst = ids[1:][valid].astype(int)
    counts = np.zeros((n, n))
    np.add.at(counts, (src, dst), 1.0)
    if n == 1:
        return np.ones((1, 1))
    observed = counts.sum(axis=1) > 0
    prior = (1.0 - np.eye(n)) / (n - 1)
    matrix = np.where(observed[:, None], counts + prior, 0.0)
    matrix[observed] /= matrix[observed].sum(axis=1, keepdims=True)
    stay = float(np.mean(np.diag(matrix)[observed])) if observed.any() else 0.9
    for row in np.flatnonzero(~observed):
        matrix[row] = (1.0 - stay) / (n - 1)
        matrix[row, row] = stay
    return matrix


def stationary_distribution(transition_matrix: np.ndarray) -> np.ndarray:
    """The chain's long-run share of time per regime (left eigenvector for eigenvalue 1)."""
    p = np.asarray(transition_matrix, dtype=float)
    n = p.shape[0]
    system = np.vstack([p.T - np.eye(n), np.ones(n)])
    rhs = np.concatenate([np.zeros(n), [1.0]])
    pi, *_ = np.linalg.lstsq(system, rhs, rcond=None)
    pi = np.clip(pi, 0.0, None)
    return pi / pi.sum()


def mean_dwell_times(transition_matrix: np.ndarray) -> np.ndarray:
    """Expected consecutive bars spent in each regime once entered: 1 / (1 - p_ii)."""
    stay = np.clip(np.diag(np.asarray(transition_matrix, dtype=float)), 0.0, 1.0)
    with np.errstate(divide="ignore"):
        return np.where(stay < 1.0, 1.0 / (1.0 - stay), np.inf)


def validate_transition_matrix(matrix: np.ndarray, n_regimes: int) -> np.ndarray:
    matrix = np.asarray(matrix, dtype=float)
    if matrix.shape != (n_regimes, n_regimes):
        raise ValueError(f"transition matrix must be {n_regimes}x{n_regimes}, got {matrix.shape}")
    if not np.all(np.isfinite(matrix)) or np.any(matrix < 0):
        raise ValueError("transition matrix has negative or non-finite entries")
    if not np.allclose(matrix.sum(axis=1), 1.0, atol=1e-6):
        raise ValueError("transition matrix rows must sum to 1")
    return matrix


def sample_regime_path(
    T: int,
    transition_matrix: np.ndarray,
    start_regime: int = 0,
    rng: np.random.Generator | None = None,
) -> np.ndarray:
    """A length-``T`` regime-id sequence from the Markov chain, starting at ``start_regime``.

    Samples whole stays rather than single steps: the time spent in state ``s`` is geometric
    with success probability ``1 - p_ss`` and the next state is drawn from the row without its
    diagonal, which is the same chain in distribution. Both are inversions of uniforms drawn
    in batches; the only loop walks the chain of visited states (~0.2 us a regime change).
    """
    matrix = np.asarray(transition_matrix, dtype=float)
    n = matrix.shape[0]
    if not 0 <= start_regime < n:
        raise ValueError(f"start_regime must be in [0, {n}), got {start_regime}")
    rng = rng or np.random.default_rng()
    if T <= 0:
        return np.empty(0, dtype=np.int64)
    stay = np.clip(np.diag(matrix), 0.0, 1.0)
    if n == 1 or stay[start_regime] >= 1.0:
        return np.full(T, start_regime, dtype=np.int64)
    leave = matrix * (1.0 - np.eye(n))
    leave_total = leave.sum(axis=1, keepdims=True)
    leave = np.divide(leave, leave_total, out=np.full_like(leave, 1.0 / (n - 1)), where=leave_total > 0)
    np.fill_diagonal(leave, 0.0)
    cumulative = np.cumsum(leave, axis=1)
    cumulative /= cumulative[:, -1:]
    with np.errstate(divide="ignore"):
        log_stay = np.log(stay)  # 0: absorbing, -inf: leaves after one bar
    states: list[np.ndarray] = []
    dwells: list[np.ndarray] = []
    covered, state = 0, start_regime
    while covered < T:
        batch = int((T - covered) * (1.0 - stay.max())) + 64
        u_next = 1.0 - rng.random(batch)  # in (0, 1]
        u_dwell = 1.0 - rng.random(batch)
        # next_of[i * n + s]: the state after s, drawn with the i-th uniform.
        next_of = np.stack([np.searchsorted(cumulative[s], u_next) for s in range(n)], axis=1)
        next_of = np.minimum(next_of, n - 1).ravel().tolist()
        visited = [0] * batch
        for i in range(batch):
            visited[i] = state
            state = next_of[i * n + state]
        visited_arr = np.asarray(visited, dtype=np.int64)
        with np.errstate(divide="ignore", invalid="ignore"):
            steps = np.floor(np.log(u_dwell) / log_stay[visited_arr])  # P(dwell > k) = p_ss^k
        dwell = np.where(log_stay[visited_arr] == 0.0, T, 1 + np.nan_to_num(steps, nan=0.0, posinf=T))
        dwell = np.minimum(dwell, T).astype(np.int64)
        states.append(visited_arr)
        dwells.append(dwell)
        covered += int(dwell.sum())
    return np.repeat(np.concatenate(states), np.concatenate(dwells))[:T]

