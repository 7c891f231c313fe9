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

from dataclasses import asdict, dataclass, field, fields
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy.signal import lfilter

from greg_core.contract import MAX_IV_POINTS

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
# Shrinkage of each regime's phi_iv toward the pooled estimate, in pseudo-pairs (days).
PHI_PRIOR_PAIRS = 60.0


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
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown regime field(s): {', '.join(sorted(unknown))}")
        values = dict(data)
        values["fitted"] = tuple(values.get("fitted", ()))
        params = cls(**values)
        params.validate()
        return params

    def validate(self) -> None:
        for name in ("mu_rv_30d", "mu_vrp_30d", "iv_level_sigma", "phi_iv", "phi_skew"):
            value = getattr(self, name)
            if not isinstance(value, int | float) or not np.isfinite(value):
                raise ValueError(f"regime {self.name!r}: {name} must be a finite number")
        if not 0 < self.mu_rv_30d <= MAX_IV_POINTS:
            raise ValueError(f"regime {self.name!r}: mu_rv_30d must be in (0, {MAX_IV_POINTS:g}] vol pts")
        if not -0.9 < self.mu_vrp_30d < 10:
            raise ValueError(f"regime {self.name!r}: mu_vrp_30d must be a fraction in (-0.9, 10)")
        if not (0.0 <= self.phi_iv < 1.0 and 0.0 <= self.phi_skew < 1.0):
            raise ValueError(f"regime {self.name!r}: phi_iv and phi_skew must be in [0, 1)")
        missing = [template_key(d) for d in CANONICAL_DELTAS if template_key(d) not in self.skew_template]
        if missing:
            raise ValueError(f"regime {self.name!r}: skew_template lacks {', '.join(missing)}")


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


def _segments(regime_path: np.ndarray) -> list[tuple[int, int, int]]:
    """(start, stop, regime) for each run of one regime."""
    change = np.flatnonzero(np.diff(regime_path)) + 1
    starts = np.concatenate(([0], change))
    stops = np.concatenate((change, [len(regime_path)]))
    return [(int(a), int(b), int(regime_path[a])) for a, b in zip(starts, stops, strict=True)]


def _ar1(inputs: np.ndarray, phi: float, previous: float) -> np.ndarray:
    """y[k] = phi * y[k-1] + inputs[k], from y[-1] = previous."""
    out, _ = lfilter([1.0], [1.0, -phi], inputs, zi=[phi * previous])
    return out


def evolve_iv_and_skew_path(
    rv_30d: np.ndarray,
    regime_path: np.ndarray,
    regimes: dict[int, RegimeParams],
    rng: np.random.Generator,
    iv_atm_start: float,
    skew_state_start: float = 0.0,
) -> tuple[np.ndarray, np.ndarray]:
    """The same dynamics as ``evolve_iv_and_skew`` over a whole path, one lfilter per regime run."""
    shocks = rng.standard_normal((len(rv_30d), 2))
    iv = np.empty(len(rv_30d))
    skew = np.empty(len(rv_30d))
    iv_prev, skew_prev = iv_atm_start, skew_state_start
    for start, stop, regime_id in _segments(np.asarray(regime_path)):
        regime = regimes[regime_id]
        target = iv_target(rv_30d[start:stop], regime.mu_vrp_30d)
        iv_in = (1.0 - regime.phi_iv) * target + regime.iv_level_sigma * shocks[start:stop, 0]
        iv[start:stop] = _ar1(iv_in, regime.phi_iv, iv_prev)
        if np.any(iv[start:stop] < IV_FLOOR):
            # The floor feeds back into the recursion, as in evolve_iv_and_skew: step through.
            prev = iv_prev
            for k in range(start, stop):
                prev = iv[k] = max(IV_FLOOR, iv_in[k - start] + regime.phi_iv * prev)
        skew[start:stop] = _ar1(regime.skew_sigma * shocks[start:stop, 1], regime.phi_skew, skew_prev)
        iv_prev, skew_prev = iv[stop - 1], skew[stop - 1]
    return np.maximum(iv, IV_FLOOR), skew


# ------------------------------------------------------------------------------ clustering


def cluster_greg_sensors_from_real_data(
    df_sensors: pd.DataFrame,
    n_clusters: int = 6,
    columns: tuple[str, ...] | list[str] | None = None,
    random_state: int = 0,
) -> tuple[pd.DataFrame, KMeans]:
    """KMeans regimes on standardized sensors; returns (df with ``regime_id``, fitted KMeans).

    ``columns`` defaults to ``DEFAULT_CLUSTER_COLUMNS`` present in the frame with at least one
    value (a daily DVOL history has no skew or term structure; those columns are then left out
    and listed in ``attrs["cluster_columns_unavailable"]``). The KMeans is fitted on z-scores;
    ``kmeans.feature_columns_``, ``kmeans.feature_mean_`` and ``kmeans.feature_scale_`` record
    the standardization so new rows can be assigned with ``assign_regimes``.
    """
    from sklearn.cluster import KMeans

    if n_clusters < 1:
        raise ValueError(f"n_clusters must be >= 1, got {n_clusters}")
    wanted = list(columns) if columns is not None else list(DEFAULT_CLUSTER_COLUMNS)
    unknown = [c for c in wanted if c not in df_sensors.columns]
    if columns is not None and unknown:
        raise ValueError(f"unknown sensor column(s) for clustering: {', '.join(unknown)}")
    usable = [c for c in wanted if c in df_sensors.columns and df_sensors[c].notna().any()]
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
    kmeans = KMeans(n_clusters=n_clusters, n_init=10, random_state=random_state)
    labels = kmeans.fit_predict((matrix - mean) / scale)

    # Renumber clusters by mean rv_30d (or the first column) so id 0 is the calmest.
    order_column = "rv_30d" if "rv_30d" in df_sensors.columns else usable[0]
    order_values = df_sensors[order_column].to_numpy()[complete]
    means = [np.nanmean(order_values[labels == k]) if (labels == k).any() else np.inf for k in range(n_clusters)]
    rank = np.empty(n_clusters, dtype=int)
    rank[np.argsort(means, kind="stable")] = np.arange(n_clusters)
    kmeans.cluster_centers_ = kmeans.cluster_centers_[np.argsort(rank)]
    kmeans.labels_ = rank[labels]
    kmeans.feature_columns_ = usable
    kmeans.feature_mean_ = mean
    kmeans.feature_scale_ = scale

    result = df_sensors.copy()
    regime_id = pd.array([pd.NA] * len(result), dtype="Int64")
    regime_id[complete] = rank[labels]
    result["regime_id"] = regime_id
    result.attrs["cluster_columns"] = usable
    result.attrs["cluster_columns_unavailable"] = [c for c in wanted if c not in usable]
    result.attrs["regime_rows_left_out"] = int((~complete).sum())
    return result, kmeans


def assign_regimes(df_sensors: pd.DataFrame, kmeans: KMeans) -> pd.Series:
    """Nearest fitted regime for each complete row (``<NA>`` where a feature is missing)."""
    values = df_sensors[kmeans.feature_columns_].replace([np.inf, -np.inf], np.nan)
    complete = values.notna().all(axis=1).to_numpy()
    out = pd.array([pd.NA] * len(df_sensors), dtype="Int64")
    if complete.any():
        z = (values.to_numpy()[complete] - kmeans.feature_mean_) / kmeans.feature_scale_
        out[complete] = kmeans.predict(z)
    return pd.Series(out, index=df_sensors.index, name="regime_id")


# ------------------------------------------------------------------------------ fitting


def _consecutive_pairs(index: pd.Index, regime_id: pd.Series) -> np.ndarray:
    """Mask over rows t >= 1 where row t-1 is the previous bar and in the same regime."""
    ids = regime_id.to_numpy(dtype="float64", na_value=np.nan)
    same = (ids[1:] == ids[:-1]) & np.isfinite(ids[1:])
    if isinstance(index, pd.DatetimeIndex) and len(index) > 1:
        gaps = np.diff(index.asi8)
        same &= gaps <= np.median(gaps) * 1.5
    return np.concatenate(([False], same))


def _ar1_fit(
    y: np.ndarray, x: np.ndarray, exponent: float = 1.0, prior: tuple[float, float] | None = None
) -> tuple[float, float] | None:
    """Least-squares ``y = phi * x + e`` (no intercept); (phi clipped to [0, 0.995], sd(e)).

    ``prior = (phi0, n0)`` shrinks the slope toward phi0 as if n0 extra pairs of average size
    had that slope (a regime seen for a few weeks should not get an extreme persistence).
    With ``exponent`` k the returned phi is phi**k and sd(e) is the residual s.d. for it.
    """
    ok = np.isfinite(y) & np.isfinite(x)
    if ok.sum() < MIN_PAIRS_FOR_AR1 or not np.any(x[ok] != 0):
        return None
    sxy, sxx = float(np.dot(x[ok], y[ok])), float(np.dot(x[ok], x[ok]))
    if prior is not None:
        weight = prior[1] * sxx / ok.sum()
        sxy, sxx = sxy + weight * prior[0], sxx + weight
    phi = float(np.clip(sxy / sxx, 0.0, 0.995)) ** exponent
    return phi, float(np.std(y[ok] - phi * x[ok], ddof=1))


def _iv_deviation_pairs(
    rv: np.ndarray, iv: np.ndarray, rows: np.ndarray, pairs: np.ndarray
) -> tuple[float, np.ndarray, np.ndarray] | None:
    """(mu_vrp, iv_t - target_t, iv_{t-1} - target_t) over a regime's consecutive days."""
    ok = rows & np.isfinite(rv) & np.isfinite(iv) & (rv > 0)
    if ok.sum() < 2:
        return None
    mu_vrp = float(iv[ok].mean() / rv[ok].mean() - 1.0)
    t = np.flatnonzero(rows & pairs)
    target = iv_target(rv[t], mu_vrp)
    return mu_vrp, iv[t] - target, iv[t - 1] - target


def describe_regime(
    mu_rv_30d: float, mu_vrp_30d: float, drift_annual: float, rv_low: float, rv_high: float
) -> str:
    """A short human name from a regime's vol level, trend and premium."""
    vol = "calm" if mu_rv_30d <= rv_low else ("stormy" if mu_rv_30d >= rv_high else "normal")
    trend = "bull" if drift_annual > 0.25 else ("bear" if drift_annual < -0.25 else "range")
    premium = "rich IV" if mu_vrp_30d > 0.25 else ("cheap IV" if mu_vrp_30d < 0.0 else "fair IV")
    return f"{vol} {trend}, {premium}"


def fit_regime_params_from_clusters(
    df_sensors_with_regime: pd.DataFrame,
    defaults: RegimeParams | None = None,
    phi_iv_exponent: float = 1.0,
) -> dict[int, RegimeParams]:
    """Per-cluster ``RegimeParams`` from a sensor frame carrying ``regime_id``.

    Needs ``rv_30d`` and ``iv_30d``; uses ``close``, ``skew_25d``, ``iv_7d`` when present.
    Estimated: mu_rv_30d (mean rv_30d), mu_vrp_30d (mean iv / mean rv - 1), phi_iv and
    iv_level_sigma (least squares of the requested AR(1) on consecutive in-regime days),
    drift_annual (mean daily log return x 365), and where the columns carry data the skew
    template's asymmetry, phi_skew/skew_sigma and the term premium. Everything not estimable
    keeps ``defaults`` and is absent from ``fitted``.

    ``phi_iv_exponent`` k replaces each least-squares phi by phi**k (and re-estimates the
    noise for it): real IV reacts to the very returns that move trailing RV, which the AR(1)
    does not model, so least squares overstates persistence; ``backtest.regime_builder``
    fits k by matching the simulated vrp_30d autocorrelation to the real one.
    """
    frame = df_sensors_with_regime
    for needed in ("regime_id", "rv_30d", "iv_30d"):
        if needed not in frame.columns:
            raise ValueError(f"fit_regime_params_from_clusters needs a '{needed}' column")
    base = defaults or RegimeParams(
        name="default", mu_rv_30d=50.0, mu_vrp_30d=0.15, iv_level_sigma=2.0,
        skew_template=dict(DEFAULT_SKEW_TEMPLATE), phi_iv=0.9, phi_skew=0.9,
    )
    ids = frame["regime_id"]
    pairs = _consecutive_pairs(frame.index, ids)
    rv, iv = frame["rv_30d"].to_numpy(float), frame["iv_30d"].to_numpy(float)
    log_ret = np.log(frame["close"]).diff().to_numpy() if "close" in frame.columns else None
    skew = frame["skew_25d"].to_numpy(float) if "skew_25d" in frame.columns else None
    iv_7d = frame["iv_7d"].to_numpy(float) if "iv_7d" in frame.columns else None
    labelled = ids.notna().to_numpy()
    total = int(labelled.sum())

    id_values = ids.to_numpy(dtype="float64", na_value=np.nan)
    regime_ids = sorted(int(k) for k in ids.dropna().unique())
    iv_pairs = {k: _iv_deviation_pairs(rv, iv, (id_values == k), pairs) for k in regime_ids}
    pooled = [p for p in iv_pairs.values() if p is not None]
    iv_prior = None
    if pooled:
        y_all = np.concatenate([p[1] for p in pooled])
        x_all = np.concatenate([p[2] for p in pooled])
        pooled_fit = _ar1_fit(y_all, x_all)
        iv_prior = None if pooled_fit is None else (pooled_fit[0], PHI_PRIOR_PAIRS)

    raw: dict[int, dict] = {}
    for regime_id in regime_ids:
        rows = id_values == regime_id
        pair_rows = rows & pairs
        fitted: list[str] = []
        values: dict = {"share": float(rows.sum() / total) if total else 0.0}
        ok = rows & np.isfinite(rv) & np.isfinite(iv) & (rv > 0)
        if ok.sum() >= 2:
            values["mu_rv_30d"] = float(rv[ok].mean())
            values["mu_vrp_30d"] = float(iv[ok].mean() / rv[ok].mean() - 1.0)
            fitted += ["mu_rv_30d", "mu_vrp_30d"]
            deviations = iv_pairs[regime_id]
            estimate = None
            if deviations is not None:
                estimate = _ar1_fit(deviations[1], deviations[2], phi_iv_exponent, iv_prior)
            if estimate is not None:
                values["phi_iv"], values["iv_level_sigma"] = estimate
                fitted += ["phi_iv", "iv_level_sigma"]
        if log_ret is not None:
            r = log_ret[rows & np.isfinite(log_ret)]
            if len(r) >= MIN_PAIRS_FOR_AR1:
                values["drift_annual"] = float(r.mean() * 365.0)
                fitted.append("drift_annual")
        if skew is not None:
            rel = skew / iv
            usable = rows & np.isfinite(rel)
            if usable.sum() >= 2:
                asym = float(rel[usable].mean())
                template = dict(base.skew_template)
                base_asym = template[template_key(0.75)] - template[template_key(0.25)]
                shift = (asym - base_asym) / 2.0
                template[template_key(0.75)] += shift
                template[template_key(0.90)] += shift * 1.6
                template[template_key(0.25)] -= shift
                template[template_key(0.10)] -= shift * 1.6
                values["skew_template"] = template
                fitted.append("skew_template")
                if abs(asym) > 1e-6:
                    t = np.flatnonzero(pair_rows)
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
            merged["mu_rv_30d"], merged["mu_vrp_30d"], merged["drift_annual"], rv_low, rv_high
        )
        if defaults is None:
            assumed = assumed_shape(merged["name"])
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


def assumed_shape(name: str) -> dict:
    """Skew and term-structure parameters for a regime whose data had none (daily DVOL
    history has no skew or term structure), keyed on the regime's descriptive name.

    Puts over calls by 9% of ATM in bear regimes, 4.5% in range regimes, calls over puts by 2%
    in bull ones (BTC's call skew in rallies; the
    shared Deribit chains of 2025-12-11/12, a falling market, show ~+5 vol pts, ~11% of ATM);
    skew state phi 0.95 with daily s.d. 0.3. Term premium (iv_7d / iv_30d - 1): -4% calm
    (contango), 0 normal, +6% stormy (backwardation), term state s.d. 8%.
    """
    asymmetry = 0.09 if "bear" in name else (-0.02 if "bull" in name else 0.045)
    term = -0.04 if name.startswith("calm") else (0.06 if name.startswith("stormy") else 0.0)
    return {
        "skew_template": skew_template_with_asymmetry(asymmetry),
        "phi_skew": 0.95,
        "skew_sigma": 0.3,
        "term_premium": term,
        "term_sigma": 0.08,
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
    diagonal, which is the same chain in distribution; the loop runs once per regime change,
    not once per bar.
    """
    matrix = np.asarray(transition_matrix, dtype=float)
    n = matrix.shape[0]
    if not 0 <= start_regime < n:
        raise ValueError(f"start_regime must be in [0, {n}), got {start_regime}")
    rng = rng or np.random.default_rng()
    path = np.empty(max(T, 0), dtype=np.int64)
    stay = np.clip(np.diag(matrix), 0.0, 1.0)
    leave = matrix * (1.0 - np.eye(n))
    leave_total = leave.sum(axis=1, keepdims=True)
    leave = np.divide(leave, leave_total, out=np.full_like(leave, 1.0 / max(n - 1, 1)), where=leave_total > 0)
    np.fill_diagonal(leave, 0.0)
    state, t = start_regime, 0
    while t < T:
        dwell = T - t if stay[state] >= 1.0 else int(rng.geometric(1.0 - stay[state]))
        path[t : t + dwell] = state
        t += dwell
        if n > 1:
            state = int(rng.choice(n, p=leave[state]))
    return path
