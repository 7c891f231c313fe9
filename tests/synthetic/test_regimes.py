"""Regimes: clustering, parameter fitting, the Markov chain, and the IV/skew dynamics."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from backtest.data.csv_history import load_history_csv
from backtest.sensors.pipeline import compute_sensors
from synthetic.regime_model import default_regime_model
from synthetic.regimes import (
    CANONICAL_DELTAS,
    DEFAULT_SKEW_TEMPLATE,
    IV_FLOOR,
    TREND_BAND_PCT,
    RegimeParams,
    assign_regimes,
    assumed_shape,
    cluster_greg_sensors_from_real_data,
    estimate_transition_matrix,
    evolve_iv_and_skew,
    evolve_iv_and_skew_path,
    fit_regime_clustering,
    fit_regime_params_from_clusters,
    iv_for_delta,
    mean_dwell_times,
    sample_regime_path,
    shrunk_means,
    stationary_distribution,
    template_key,
)
from synthetic.universe import generate_market
from synthetic.volatility import VolDynamics, VolProcess


def make_regime(name: str = "r", **overrides) -> RegimeParams:
    values = dict(
        name=name, mu_rv_30d=45.0, mu_vrp_30d=0.15, iv_level_sigma=2.0,
        skew_template=dict(DEFAULT_SKEW_TEMPLATE), phi_iv=0.9, phi_skew=0.8,
    )
    values.update(overrides)
    return RegimeParams(**values)


def daily_index(n: int) -> pd.DatetimeIndex:
    return pd.date_range("2020-01-01", periods=n, freq="D", tz="UTC", name="timestamp")


# ----------------------------------------------------------------------------- clustering


@pytest.fixture(scope="module")
def real_sensors(real_dir: Path) -> pd.DataFrame:
    raw = load_history_csv(real_dir / "btc_usd_daily_ohlcv.csv", real_dir / "btc_dvol_daily.csv")
    return compute_sensors(raw)


@pytest.fixture(scope="module")
def real_clusters(real_sensors: pd.DataFrame):
    return cluster_greg_sensors_from_real_data(real_sensors, n_clusters=6)


def test_clustering_leaves_out_and_reports_nan_rows(real_sensors: pd.DataFrame, real_clusters) -> None:
    labelled, _ = real_clusters
    columns = labelled.attrs["cluster_columns"]
    # A daily DVOL history has no term structure or skew: those columns are reported unused.
    assert labelled.attrs["cluster_columns_unavailable"] == ["term_structure_spread", "skew_25d"]
    assert "vrp_30d" in columns and "adx_14d" in columns
    incomplete = real_sensors[columns].isna().any(axis=1)
    assert (labelled["regime_id"].isna() == incomplete).all()
    assert labelled.attrs["regime_rows_left_out"] == int(incomplete.sum()) == 441
    assert labelled["regime_id"].notna().sum() == 919
    assert set(labelled["regime_id"].dropna().astype(int)) == set(range(6))
    # The input frame is returned whole, not filtered.
    assert len(labelled) == len(real_sensors)
    pd.testing.assert_frame_equal(labelled.drop(columns="regime_id"), real_sensors)


def test_a_sensor_on_a_few_days_only_is_left_out(real_sensors: pd.DataFrame) -> None:
    """A few harvested chain snapshots give skew and term structure on two days: the default
    clustering leaves them out (and says so) instead of finding almost no complete row."""
    sparse = real_sensors.copy()
    sparse["skew_25d"] = np.nan
    sparse["term_structure_spread"] = np.nan
    sparse.iloc[-2:, sparse.columns.get_loc("skew_25d")] = [3.0, 4.0]
    sparse.iloc[-2:, sparse.columns.get_loc("term_structure_spread")] = [0.5, 0.7]
    labelled, _ = cluster_greg_sensors_from_real_data(sparse, n_clusters=6)
    assert labelled.attrs["cluster_columns_unavailable"] == ["term_structure_spread", "skew_25d"]
    assert labelled["regime_id"].notna().sum() == 919
    with pytest.raises(ValueError, match="complete rows"):  # asked for by name, it is used
        cluster_greg_sensors_from_real_data(sparse, n_clusters=6, columns=["vrp_30d", "skew_25d"])


def test_cluster_ids_ordered_by_mean_rv(real_clusters) -> None:
    labelled, _ = real_clusters
    means = labelled.dropna(subset=["regime_id"]).groupby("regime_id")["rv_30d"].mean()
    assert list(means.index) == list(range(6))
    assert means.is_monotonic_increasing and means.is_unique


def test_clustering_is_deterministic_and_assignable(real_sensors: pd.DataFrame, real_clusters) -> None:
    labelled, kmeans = real_clusters
    again, clustering = fit_regime_clustering(real_sensors, n_clusters=6)
    pd.testing.assert_series_equal(labelled["regime_id"], again["regime_id"])
    np.testing.assert_array_equal(kmeans.cluster_centers_, clustering.kmeans.cluster_centers_)
    # The clustering (columns + standardization beside the KMeans) assigns every training
    # row to its own regime id.
    pd.testing.assert_series_equal(assign_regimes(real_sensors, clustering), labelled["regime_id"], check_names=False)
    pd.testing.assert_series_equal(clustering.assign(real_sensors), labelled["regime_id"], check_names=False)


def test_kmeans_is_returned_as_fitted_not_modified(real_sensors: pd.DataFrame, real_clusters) -> None:
    """issue 8: the ordered ids come from a KMeans fitted from ordered centres, not from
    overwriting the attributes of a fitted one."""
    labelled, kmeans = real_clusters
    ids = labelled["regime_id"].dropna().to_numpy(dtype=int)
    np.testing.assert_array_equal(kmeans.labels_, ids)
    for private in ("feature_columns_", "feature_mean_", "feature_scale_"):
        assert not hasattr(kmeans, private)
    # Its own predict on the standardized rows gives the same ids: state and labels agree.
    _, clustering = fit_regime_clustering(real_sensors, n_clusters=6)
    rows = real_sensors[list(clustering.columns)].dropna()
    np.testing.assert_array_equal(kmeans.predict((rows.to_numpy() - clustering.mean) / clustering.scale), ids)


def test_cluster_order_uses_rv_not_the_first_column() -> None:
    rng = np.random.default_rng(0)
    blobs = [  # (rv_30d, vrp_30d, adx_14d): vrp order is the reverse of rv order
        (80.0, -10.0, 40.0),
        (20.0, 10.0, 10.0),
        (50.0, 0.0, 25.0),
    ]
    frames = []
    for rv, vrp, adx in blobs:
        frames.append(pd.DataFrame({
            "rv_30d": rv + rng.normal(0, 1, 50),
            "vrp_30d": vrp + rng.normal(0, 0.5, 50),
            "adx_14d": adx + rng.normal(0, 0.5, 50),
        }))
    frame = pd.concat(frames, ignore_index=True)
    frame.loc[[3, 60], "vrp_30d"] = np.nan
    frame.loc[100, "adx_14d"] = np.inf
    labelled, _ = cluster_greg_sensors_from_real_data(frame, 3, columns=["vrp_30d", "adx_14d"])
    ids = labelled["regime_id"]
    assert ids.isna().sum() == 3 and labelled.attrs["regime_rows_left_out"] == 3
    assert ids.iloc[[3, 60, 100]].isna().all()
    expected = {0: 2, 1: 0, 2: 1}  # blob -> id by rv level
    for blob, regime in expected.items():
        chunk = ids.iloc[blob * 50 : (blob + 1) * 50].dropna()
        assert (chunk == regime).all(), (blob, chunk.unique())


def test_clustering_rejects_bad_arguments() -> None:
    frame = pd.DataFrame({"rv_30d": np.arange(10.0), "vrp_30d": np.arange(10.0)})
    with pytest.raises(ValueError):
        cluster_greg_sensors_from_real_data(frame, 0)
    with pytest.raises(ValueError, match="nope"):
        cluster_greg_sensors_from_real_data(frame, 2, columns=["nope"])
    with pytest.raises(ValueError):
        cluster_greg_sensors_from_real_data(frame.iloc[:1], 2, columns=["vrp_30d"])


# ----------------------------------------------------------------------------- fitting


def returns_frame(
    rng: np.random.Generator, ids: np.ndarray, vol_by_regime: dict[int, float], iv_over_forward: dict[int, float],
    drift: float = 0.0,
) -> pd.DataFrame:
    """Daily closes whose next-day vol (vol pts) is set by today's regime id, an IV that is
    ``iv_over_forward`` times the forward RV column, and the regime ids."""
    n = len(ids)
    vol = np.array([vol_by_regime[int(k)] for k in ids])
    next_day = np.concatenate(([vol[0]], vol[:-1]))  # day t's return uses the regime at t-1
    returns = drift / 365.0 + next_day / 100.0 / np.sqrt(365.0) * rng.standard_normal(n)
    frame = pd.DataFrame(index=daily_index(n))
    frame["close"] = 100.0 * np.exp(np.cumsum(returns))
    frame["rv_30d_forward"] = 40.0 + rng.normal(0, 2, n)
    frame["iv_30d"] = frame["rv_30d_forward"] * np.array([iv_over_forward[int(k)] for k in ids])
    frame["regime_id"] = pd.array(ids, dtype="Int64")
    return frame


def test_fit_levels_read_the_next_day_vol_and_premium_the_forward_rv() -> None:
    rng = np.random.default_rng(42)
    ids = np.repeat(np.tile([0, 1], 20), 100)  # 4000 days in stays of 100
    frame = returns_frame(rng, ids, {0: 30.0, 1: 60.0}, {0: 1.1, 1: 1.3})
    dynamics = VolDynamics()
    regimes = fit_regime_params_from_clusters(frame, dynamics=dynamics)
    rms = np.sqrt(VolProcess(dynamics).mean_square_factor())
    # The level times the log-vol factor's RMS is the regime's RMS next-day vol.
    assert regimes[0].mu_rv_30d * rms == pytest.approx(30.0, rel=0.05)
    assert regimes[1].mu_rv_30d * rms == pytest.approx(60.0, rel=0.05)
    assert regimes[0].mu_vrp_30d == pytest.approx(0.1, abs=1e-9)
    assert regimes[1].mu_vrp_30d == pytest.approx(0.3, abs=1e-9)
    for regime in regimes.values():
        assert {"mu_rv_30d", "mu_vrp_30d", "drift_annual"} <= set(regime.fitted)
        # The IV noise is the builder's to calibrate: defaults, not claimed as fitted.
        assert "phi_iv" not in regime.fitted and "iv_level_sigma" not in regime.fitted
        assert regime.share == pytest.approx(0.5)
    assert regimes[0].name.startswith("calm") and regimes[1].name.startswith("stormy")


def test_fit_scales_levels_to_the_whole_history() -> None:
    """Unlabelled days (a warm-up with higher vol) set the overall scale, the labelled days
    the ratios between regimes."""
    rng = np.random.default_rng(5)
    ids = np.repeat(np.tile([0, 1], 10), 100)
    frame = returns_frame(rng, ids, {0: 30.0, 1: 60.0}, {0: 1.1, 1: 1.1})
    doubled = frame.copy()
    early = returns_frame(rng, np.zeros(2000, dtype=int), {0: 90.0}, {0: 1.1})
    early.index = early.index - pd.Timedelta(days=2000)
    early["close"] *= frame["close"].iloc[0] / early["close"].iloc[-1]
    early["regime_id"] = pd.array([pd.NA] * 2000, dtype="Int64")
    doubled = pd.concat([early, doubled])
    plain = fit_regime_params_from_clusters(frame)
    scaled = fit_regime_params_from_clusters(doubled)
    ratio = [scaled[k].mu_rv_30d / plain[k].mu_rv_30d for k in (0, 1)]
    assert ratio[0] == pytest.approx(ratio[1], rel=1e-9)
    assert ratio[0] > 1.3


def test_drifts_are_shrunk_to_the_pooled_mean_when_noise_explains_them() -> None:
    rng = np.random.default_rng(9)
    ids = rng.integers(0, 6, 1000)
    frame = returns_frame(rng, ids, dict.fromkeys(range(6), 50.0), dict.fromkeys(range(6), 1.1), drift=0.5)
    regimes = fit_regime_params_from_clusters(frame)
    drifts = {round(r.drift_annual, 12) for r in regimes.values()}
    # Daily returns split six ways carry no detectable difference: one drift for all, the
    # pooled mean of next-day log returns.
    assert len(drifts) == 1
    log_return = np.log(frame["close"]).diff().shift(-1)
    assert drifts.pop() == pytest.approx(log_return.mean() * 365.0, rel=1e-9)


def test_shrunk_means_keeps_a_real_difference() -> None:
    rng = np.random.default_rng(2)
    groups = np.repeat([0, 1], 5000)
    values = np.where(groups == 0, -1.0, 1.0) + rng.normal(0, 1.0, len(groups))
    means, pooled = shrunk_means(values, groups, 2)
    assert pooled == pytest.approx(values.mean())
    assert means[0] == pytest.approx(-1.0, abs=0.05) and means[1] == pytest.approx(1.0, abs=0.05)
    pure_noise = rng.normal(0, 1.0, len(groups))
    shrunk, pooled = shrunk_means(pure_noise, groups, 2)
    raw = np.array([pure_noise[groups == k].mean() for k in (0, 1)])
    # Shrinkage only ever pulls a group toward the pooled mean.
    assert np.all(np.abs(shrunk - pooled) <= np.abs(raw - pooled) + 1e-15)


def test_fit_estimates_skew_and_term_when_present() -> None:
    rng = np.random.default_rng(11)
    n = 3000
    frame = returns_frame(rng, np.zeros(n, dtype=int), {0: 45.0}, {0: 1.15})
    state = np.empty(n)
    state[0] = 0.0
    for t in range(1, n):
        state[t] = 0.85 * state[t - 1] + 0.1 * rng.standard_normal()
    frame["skew_25d"] = frame["iv_30d"] * 0.06 * (1.0 + state)
    frame["iv_7d"] = frame["iv_30d"] * (1.05 + rng.normal(0, 0.02, n))
    fitted = fit_regime_params_from_clusters(frame)[0]
    template = fitted.skew_template
    asym = float((frame["skew_25d"] / frame["iv_30d"]).mean())
    assert template[template_key(0.75)] - template[template_key(0.25)] == pytest.approx(asym, abs=2e-4)
    assert template[template_key(0.5)] == 0.0
    assert fitted.phi_skew == pytest.approx(0.85, abs=0.05)
    assert fitted.term_premium == pytest.approx(0.05, abs=0.005)
    for name in ("skew_template", "phi_skew", "term_premium", "term_sigma"):
        assert name in fitted.fitted


def test_fit_needs_its_columns() -> None:
    with pytest.raises(ValueError, match="iv_30d"):
        fit_regime_params_from_clusters(pd.DataFrame({"regime_id": [0, 0], "rv_30d": [1.0, 2.0]}))
    with pytest.raises(ValueError, match="close"):
        fit_regime_params_from_clusters(pd.DataFrame({"regime_id": [0, 0], "iv_30d": [1.0, 2.0]}))


def test_real_fit_is_sane(real_clusters) -> None:
    labelled, _ = real_clusters
    regimes = fit_regime_params_from_clusters(labelled)
    assert sorted(regimes) == list(range(6))
    assert sum(r.share for r in regimes.values()) == pytest.approx(1.0)
    levels = [r.mu_rv_30d for r in regimes.values()]
    assert min(levels) > 20.0 and max(levels) < 90.0
    # BTC's daily returns split six ways cannot tell regime drifts from noise: one drift.
    assert len({round(r.drift_annual, 12) for r in regimes.values()}) == 1
    for regime in regimes.values():
        regime.validate()
        assert -0.5 < regime.mu_vrp_30d < 1.0
        # No skew in the history: the skew template comes from the assumed shapes, keyed on
        # where the regime's days sat against their 200-day average, never on the name.
        assert "skew_template" not in regime.fitted


def test_assumed_shapes_key_on_numbers_not_names() -> None:
    """issue 8: parameters follow the regime's numbers; renaming a regime changes nothing."""
    put, call = template_key(0.75), template_key(0.25)
    below, above, flat = assumed_shape(-25.0), assumed_shape(+25.0), assumed_shape(2.0)
    assert below["skew_template"][put] > below["skew_template"][call]
    assert above["skew_template"][put] < above["skew_template"][call]
    assert flat["skew_template"][put] > flat["skew_template"][call]
    assert assumed_shape(None) == flat
    assert assumed_shape(float("nan")) == flat
    # The band edge: within TREND_BAND_PCT of the average counts as no trend.
    assert assumed_shape(TREND_BAND_PCT * 0.99) == flat
    assert assumed_shape(-TREND_BAND_PCT * 1.01) == below


def test_regime_params_validation_and_roundtrip() -> None:
    regime = make_regime(fitted=("mu_rv_30d",))
    assert RegimeParams.from_dict(regime.to_dict()) == regime
    bad_values = [
        {"phi_iv": 1.0},
        {"phi_skew": -0.1},
        {"mu_rv_30d": 0.0},
        {"iv_level_sigma": math.nan},
        {"drift_annual": math.nan},
        {"drift_annual": 50.0},
        {"term_sigma": "abc"},
        {"mu_vrp_30d": True},
        {"name": 5},
        {"skew_template": {template_key(0.5): 0.0}},
        {"skew_template": [1, 2]},
        {"skew_template": {**DEFAULT_SKEW_TEMPLATE, template_key(0.25): "abc"}},
        {"skew_template": {**DEFAULT_SKEW_TEMPLATE, template_key(0.25): [0.1]}},
        {"skew_template": {**DEFAULT_SKEW_TEMPLATE, template_key(0.25): math.inf}},
        {"skew_template": {**DEFAULT_SKEW_TEMPLATE, "delta_0.4": 0.1}},
        {"fitted": "mu_rv_30d"},
        {"fitted": ["nonsense"]},
    ]
    for bad in bad_values:
        field = next(iter(bad))
        with pytest.raises(ValueError, match=field.split("_")[0]):
            RegimeParams.from_dict({**regime.to_dict(), **bad})
    with pytest.raises(ValueError, match="bogus"):
        RegimeParams.from_dict({**regime.to_dict(), "bogus": 1})
    with pytest.raises(ValueError, match="missing"):
        RegimeParams.from_dict({k: v for k, v in regime.to_dict().items() if k != "phi_iv"})
    with pytest.raises(ValueError):
        RegimeParams.from_dict([1, 2])


# ----------------------------------------------------------------------------- Markov chain


def test_transition_matrix_exact_counts_with_prior() -> None:
    matrix = estimate_transition_matrix(np.array([0, 0, 0, 1, 1, 0]))
    # counts 0->0: 2, 0->1: 1, 1->1: 1, 1->0: 1; plus one pseudo-transition to the other regime.
    np.testing.assert_allclose(matrix, [[2 / 4, 2 / 4], [2 / 3, 1 / 3]])


def test_transition_rows_sum_to_one_on_random_ids() -> None:
    ids = np.random.default_rng(0).integers(0, 5, 500)
    matrix = estimate_transition_matrix(ids, n_regimes=5)
    assert matrix.shape == (5, 5)
    np.testing.assert_allclose(matrix.sum(axis=1), 1.0)
    assert (matrix > 0).all()


def test_regime_never_left_is_not_absorbing() -> None:
    ids = np.array([0, 1, 1, 0, 0, 2, 2, 2, 2])
    matrix = estimate_transition_matrix(ids, n_regimes=3)
    np.testing.assert_allclose(matrix[2], [0.125, 0.125, 0.75])
    assert np.isfinite(mean_dwell_times(matrix)).all()
    path = sample_regime_path(2000, matrix, start_regime=2, rng=np.random.default_rng(0))
    assert (path != 2).any()


def test_regime_never_visited_gets_a_sane_row() -> None:
    ids = np.array([0, 0, 1, 1, 0, 0, 1, 2, 2, 0])
    matrix = estimate_transition_matrix(ids, n_regimes=4)
    np.testing.assert_allclose(matrix.sum(axis=1), 1.0)
    observed_stay = np.mean(np.diag(matrix)[:3])
    assert matrix[3, 3] == pytest.approx(observed_stay)
    np.testing.assert_allclose(matrix[3, :3], (1 - observed_stay) / 3)
    # The unvisited regime is reachable (prior mass) and the chain stays well defined.
    assert (matrix[:3, 3] > 0).all()
    pi = stationary_distribution(matrix)
    assert np.isfinite(pi).all() and pi.sum() == pytest.approx(1.0)


def test_missing_ids_break_the_chain() -> None:
    with_gap = estimate_transition_matrix(pd.Series([0, 0, pd.NA, 1, 1], dtype="Int64"), n_regimes=2)
    np.testing.assert_allclose(with_gap, [[0.5, 0.5], [0.5, 0.5]])
    without_gap = estimate_transition_matrix(pd.Series([0, 0, 1, 1], dtype="Int64"), n_regimes=2)
    np.testing.assert_allclose(without_gap[0], [1 / 3, 2 / 3])


def test_time_gaps_break_the_chain() -> None:
    index = pd.DatetimeIndex(["2024-01-01", "2024-01-02", "2024-01-05", "2024-01-06"], tz="UTC")
    ids = pd.Series([0, 0, 1, 1], index=index, dtype="Int64")
    np.testing.assert_allclose(estimate_transition_matrix(ids, n_regimes=2), [[0.5, 0.5], [0.5, 0.5]])
    contiguous = ids.set_axis(pd.date_range("2024-01-01", periods=4, tz="UTC"))
    np.testing.assert_allclose(estimate_transition_matrix(contiguous, n_regimes=2)[0], [1 / 3, 2 / 3])


def test_stationary_distribution() -> None:
    a, b = 0.1, 0.3
    np.testing.assert_allclose(stationary_distribution(np.array([[1 - a, a], [b, 1 - b]])), [b / (a + b), a / (a + b)])
    rng = np.random.default_rng(5)
    for _ in range(5):
        matrix = rng.dirichlet(np.ones(6), size=6)
        pi = stationary_distribution(matrix)
        assert (pi >= 0).all() and pi.sum() == pytest.approx(1.0)
        np.testing.assert_allclose(pi @ matrix, pi, atol=1e-10)


def test_mean_dwell_times() -> None:
    matrix = np.array([[0.9, 0.1, 0.0], [0.25, 0.5, 0.25], [0.0, 0.0, 1.0]])
    np.testing.assert_allclose(mean_dwell_times(matrix), [10.0, 2.0, np.inf])


KNOWN = np.array([[0.90, 0.07, 0.03], [0.10, 0.80, 0.10], [0.05, 0.15, 0.80]])


def test_sample_regime_path_reproduces_transition_frequencies() -> None:
    path = sample_regime_path(100_000, KNOWN, start_regime=1, rng=np.random.default_rng(123))
    assert path.shape == (100_000,) and path[0] == 1
    counts = np.zeros((3, 3))
    np.add.at(counts, (path[:-1], path[1:]), 1)
    empirical = counts / counts.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(empirical, KNOWN, atol=0.01)
    occupancy = np.bincount(path, minlength=3) / len(path)
    np.testing.assert_allclose(occupancy, stationary_distribution(KNOWN), atol=0.02)
    np.testing.assert_allclose(estimate_transition_matrix(path, 3), KNOWN, atol=0.01)


def test_sample_regime_path_is_deterministic_with_seed() -> None:
    a = sample_regime_path(5000, KNOWN, 0, rng=np.random.default_rng(9))
    b = sample_regime_path(5000, KNOWN, 0, rng=np.random.default_rng(9))
    c = sample_regime_path(5000, KNOWN, 0, rng=np.random.default_rng(10))
    np.testing.assert_array_equal(a, b)
    assert (a != c).any()


def test_sample_regime_path_edges() -> None:
    assert len(sample_regime_path(0, KNOWN, 0, rng=np.random.default_rng(0))) == 0
    absorbing = np.array([[1.0, 0.0], [0.5, 0.5]])
    assert (sample_regime_path(500, absorbing, 0, rng=np.random.default_rng(0)) == 0).all()
    with pytest.raises(ValueError):
        sample_regime_path(10, KNOWN, start_regime=3)


# ----------------------------------------------------------------------------- IV and skew


def test_evolve_iv_and_skew_formula() -> None:
    regime = make_regime(mu_vrp_30d=0.2, phi_iv=0.85, iv_level_sigma=2.5, phi_skew=0.7, skew_sigma=0.2)
    draws = np.random.default_rng(11).standard_normal(2)
    iv, skew = evolve_iv_and_skew(60.0, 40.0, regime, np.random.default_rng(11), skew_state_prev=0.3)
    target = 40.0 * 1.2
    assert iv == pytest.approx(target + 0.85 * (60.0 - target) + 2.5 * draws[0], abs=1e-12)
    assert skew == pytest.approx(0.7 * 0.3 + 0.2 * draws[1], abs=1e-12)


def _loop(rv, path, regimes, rng, iv_start, skew_start=0.0):
    ivs, skews = [], []
    iv, skew = iv_start, skew_start
    for t in range(len(rv)):
        iv, skew = evolve_iv_and_skew(iv, rv[t], regimes[int(path[t])], rng, skew)
        ivs.append(iv)
        skews.append(skew)
    return np.array(ivs), np.array(skews)


def test_evolve_loop_equals_path_function() -> None:
    regimes = {
        0: make_regime("a", mu_vrp_30d=0.25, phi_iv=0.8, iv_level_sigma=2.0, phi_skew=0.9, skew_sigma=0.2),
        1: make_regime("b", mu_vrp_30d=-0.1, phi_iv=0.95, iv_level_sigma=3.0, phi_skew=0.5, skew_sigma=0.4),
    }
    rng = np.random.default_rng(0)
    n = 600
    path = sample_regime_path(n, np.array([[0.95, 0.05], [0.1, 0.9]]), 0, rng=rng)
    assert len(set(path.tolist())) == 2
    rv = 45.0 + 10.0 * np.sin(np.arange(n) / 30.0)
    looped = _loop(rv, path, regimes, np.random.default_rng(77), 55.0, 0.1)
    vectorized = evolve_iv_and_skew_path(rv, path, regimes, np.random.default_rng(77), 55.0, 0.1)
    np.testing.assert_allclose(vectorized[0], looped[0], rtol=1e-10)
    np.testing.assert_allclose(vectorized[1], looped[1], rtol=1e-10, atol=1e-12)


def test_evolve_loop_equals_path_function_at_the_floor() -> None:
    # A pathological regime whose target sits near zero: the IV floor binds and must feed back.
    regimes = {0: make_regime("floor", mu_rv_30d=5.0, mu_vrp_30d=-0.9, phi_iv=0.6, iv_level_sigma=3.0)}
    n = 300
    rv, path = np.full(n, 5.0), np.zeros(n, dtype=int)
    looped = _loop(rv, path, regimes, np.random.default_rng(3), 2.0)
    vectorized = evolve_iv_and_skew_path(rv, path, regimes, np.random.default_rng(3), 2.0)
    assert (looped[0] == IV_FLOOR).any()
    assert (vectorized[0] >= IV_FLOOR).all()
    np.testing.assert_allclose(vectorized[0], looped[0], rtol=1e-10)


def test_iv_path_is_stationary_around_target() -> None:
    regime = make_regime(mu_vrp_30d=0.2, phi_iv=0.9, iv_level_sigma=2.0)
    n = 50_000
    iv, _ = evolve_iv_and_skew_path(np.full(n, 40.0), np.zeros(n, int), {0: regime}, np.random.default_rng(1), 48.0)
    assert iv.mean() == pytest.approx(48.0, abs=0.3)
    assert iv.std() == pytest.approx(2.0 / math.sqrt(1 - 0.81), rel=0.05)


@pytest.mark.parametrize("skew_state", [-0.5, 0.0, 0.8])
def test_iv_for_delta(skew_state: float) -> None:
    regimes = [make_regime()] + [
        make_regime(skew_template=assumed_shape(trend)["skew_template"]) for trend in (-30.0, 30.0)
    ]
    for regime in regimes:
        template = regime.skew_template
        assert iv_for_delta(50.0, regime, skew_state, 0.5) == 50.0
        for delta in CANONICAL_DELTAS:
            expected = 50.0 * (1 + template[template_key(delta)] * (1 + skew_state))
            assert iv_for_delta(50.0, regime, skew_state, delta) == pytest.approx(expected)
        middle = (template[template_key(0.25)] + template[template_key(0.5)]) / 2
        assert iv_for_delta(50.0, regime, skew_state, 0.375) == pytest.approx(50.0 * (1 + middle * (1 + skew_state)))
        skew = iv_for_delta(50.0, regime, skew_state, 0.75) - iv_for_delta(50.0, regime, skew_state, 0.25)
        put_minus_call = template[template_key(0.75)] - template[template_key(0.25)]
        assert skew == pytest.approx(50.0 * put_minus_call * (1 + skew_state))


def test_generator_writes_iv_for_delta_skew() -> None:
    model = default_regime_model("BTC")
    market = generate_market("BTC", 200, seed=4, model=model, warmup_bars=0)
    sensors = compute_sensors(market.raw)
    for _, row in sensors.iloc[::7].iterrows():
        regime = model.regimes[int(row["regime_id"])]
        atm = row["iv_30d"]
        # Recover the day's skew state from the put wing, then check both wings and the sensor.
        put_mult = regime.skew_template[template_key(0.75)]
        state = (row["iv_25d_put"] / atm - 1.0) / put_mult - 1.0
        put = iv_for_delta(atm, regime, state, 0.75)
        call = iv_for_delta(atm, regime, state, 0.25)
        assert row["iv_25d_put"] == pytest.approx(put, rel=1e-9)
        assert row["iv_25d_call"] == pytest.approx(call, rel=1e-9)
        assert row["skew_25d"] == pytest.approx(put - call, abs=1e-9)
