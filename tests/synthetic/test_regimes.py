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
    RegimeParams,
    assign_regimes,
    assumed_shape,
    cluster_greg_sensors_from_real_data,
    estimate_transition_matrix,
    evolve_iv_and_skew,
    evolve_iv_and_skew_path,
    fit_regime_params_from_clusters,
    iv_for_delta,
    mean_dwell_times,
    sample_regime_path,
    stationary_distribution,
    template_key,
)
from synthetic.universe import generate_market


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


def test_cluster_ids_ordered_by_mean_rv(real_clusters) -> None:
    labelled, _ = real_clusters
    means = labelled.dropna(subset=["regime_id"]).groupby("regime_id")["rv_30d"].mean()
    assert list(means.index) == list(range(6))
    assert means.is_monotonic_increasing and means.is_unique


def test_clustering_is_deterministic_and_assignable(real_sensors: pd.DataFrame, real_clusters) -> None:
    labelled, kmeans = real_clusters
    again, kmeans_again = cluster_greg_sensors_from_real_data(real_sensors, n_clusters=6)
    pd.testing.assert_series_equal(labelled["regime_id"], again["regime_id"])
    np.testing.assert_array_equal(kmeans.cluster_centers_, kmeans_again.cluster_centers_)
    # The renumbered centers still assign every training row to its own regime id.
    pd.testing.assert_series_equal(
        assign_regimes(real_sensors, kmeans), labelled["regime_id"], check_names=False
    )


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


def ar1_frame(
    rng: np.random.Generator, n: int, mu_rv: float, mu_vrp: float, phi: float, sigma: float,
    regime_id: int = 0, iv_start: float | None = None,
) -> pd.DataFrame:
    """rv_30d around ``mu_rv`` (slow AR(1)), and iv following the requested AR(1) exactly."""
    rv = np.empty(n)
    rv[0] = mu_rv
    for t in range(1, n):
        rv[t] = mu_rv + 0.97 * (rv[t - 1] - mu_rv) + rng.normal(0, 0.02 * mu_rv)
    target = rv * (1.0 + mu_vrp)
    iv = np.empty(n)
    prev = target[0] if iv_start is None else iv_start
    for t in range(n):
        prev = target[t] + phi * (prev - target[t]) + sigma * rng.standard_normal()
        iv[t] = prev
    return pd.DataFrame({"rv_30d": rv, "iv_30d": iv, "regime_id": pd.array([regime_id] * n, dtype="Int64")})


def test_fit_recovers_known_single_regime() -> None:
    rng = np.random.default_rng(42)
    frame = ar1_frame(rng, 4000, mu_rv=40.0, mu_vrp=0.2, phi=0.9, sigma=1.5)
    frame.index = daily_index(len(frame))
    regimes = fit_regime_params_from_clusters(frame)
    assert list(regimes) == [0]
    fitted = regimes[0]
    assert fitted.mu_rv_30d == pytest.approx(frame["rv_30d"].mean(), rel=1e-12)
    assert fitted.mu_rv_30d == pytest.approx(40.0, rel=0.05)
    assert fitted.mu_vrp_30d == pytest.approx(0.2, abs=0.02)
    assert fitted.phi_iv == pytest.approx(0.9, abs=0.03)
    assert fitted.iv_level_sigma == pytest.approx(1.5, rel=0.1)
    assert {"mu_rv_30d", "mu_vrp_30d", "phi_iv", "iv_level_sigma"} <= set(fitted.fitted)
    # Nothing to estimate these from: defaults kept and not claimed as fitted.
    for name in ("drift_annual", "skew_template", "phi_skew", "term_premium"):
        assert name not in fitted.fitted
    assert fitted.share == 1.0


def test_fit_recovers_two_regimes() -> None:
    rng = np.random.default_rng(7)
    true = {0: (30.0, 0.1, 0.8, 1.0), 1: (60.0, 0.3, 0.95, 2.5)}
    blocks = []
    iv_start = None
    for block in range(4):
        regime = block % 2
        mu_rv, mu_vrp, phi, sigma = true[regime]
        # IV carries over from the previous regime, as it does in real data.
        blocks.append(ar1_frame(rng, 2000, mu_rv, mu_vrp, phi, sigma, regime, iv_start=iv_start))
        iv_start = float(blocks[-1]["iv_30d"].iloc[-1])
    frame = pd.concat(blocks, ignore_index=True)
    frame.index = daily_index(len(frame))
    regimes = fit_regime_params_from_clusters(frame)
    for regime, (mu_rv, mu_vrp, phi, sigma) in true.items():
        fitted = regimes[regime]
        assert fitted.mu_rv_30d == pytest.approx(mu_rv, rel=0.05)
        assert fitted.mu_vrp_30d == pytest.approx(mu_vrp, abs=0.03)
        assert fitted.phi_iv == pytest.approx(phi, abs=0.04)
        assert fitted.iv_level_sigma == pytest.approx(sigma, rel=0.25)
        assert fitted.share == pytest.approx(0.5)
    assert regimes[0].name.startswith("calm") and regimes[1].name.startswith("stormy")


def test_phi_exponent_raises_phi_to_that_power() -> None:
    rng = np.random.default_rng(3)
    frame = ar1_frame(rng, 2000, mu_rv=50.0, mu_vrp=0.1, phi=0.9, sigma=2.0)
    plain = fit_regime_params_from_clusters(frame)[0].phi_iv
    squared = fit_regime_params_from_clusters(frame, phi_iv_exponent=2.0)[0].phi_iv
    assert squared == pytest.approx(plain**2, rel=1e-12)


def test_fit_estimates_drift_skew_and_term_when_present() -> None:
    rng = np.random.default_rng(11)
    n = 3000
    frame = ar1_frame(rng, n, mu_rv=45.0, mu_vrp=0.15, phi=0.9, sigma=1.5)
    frame.index = daily_index(n)
    frame["close"] = 100.0 * np.exp(np.cumsum(0.002 + rng.normal(0, 0.005, n)))
    state = np.empty(n)
    state[0] = 0.0
    for t in range(1, n):
        state[t] = 0.85 * state[t - 1] + 0.1 * rng.standard_normal()
    frame["skew_25d"] = frame["iv_30d"] * 0.06 * (1.0 + state)
    frame["iv_7d"] = frame["iv_30d"] * (1.05 + rng.normal(0, 0.02, n))
    fitted = fit_regime_params_from_clusters(frame)[0]
    assert fitted.drift_annual == pytest.approx(0.002 * 365, abs=0.06)
    template = fitted.skew_template
    asym = float((frame["skew_25d"] / frame["iv_30d"]).mean())
    assert template[template_key(0.75)] - template[template_key(0.25)] == pytest.approx(asym, abs=1e-9)
    assert template[template_key(0.5)] == 0.0
    assert fitted.phi_skew == pytest.approx(0.85, abs=0.05)
    assert fitted.term_premium == pytest.approx(0.05, abs=0.005)
    for name in ("drift_annual", "skew_template", "phi_skew", "term_premium"):
        assert name in fitted.fitted


def test_fit_needs_its_columns() -> None:
    with pytest.raises(ValueError, match="iv_30d"):
        fit_regime_params_from_clusters(pd.DataFrame({"regime_id": [0, 0], "rv_30d": [1.0, 2.0]}))


def test_real_fit_is_sane(real_clusters) -> None:
    labelled, _ = real_clusters
    regimes = fit_regime_params_from_clusters(labelled)
    assert sorted(regimes) == list(range(6))
    rv_levels = [regimes[k].mu_rv_30d for k in range(6)]
    assert rv_levels == sorted(rv_levels)
    assert sum(r.share for r in regimes.values()) == pytest.approx(1.0)
    for regime in regimes.values():
        regime.validate()
        assert 0.0 <= regime.phi_iv < 1.0 and regime.iv_level_sigma > 0
        assert -0.5 < regime.mu_vrp_30d < 1.0
        # No skew in the history: the skew template comes from the assumed shapes.
        assert "skew_template" not in regime.fitted
        assert regime.skew_template == assumed_shape(regime.name)["skew_template"]


def test_assumed_shapes() -> None:
    bear, bull = assumed_shape("normal bear, fair IV"), assumed_shape("normal bull, fair IV")
    put, call = template_key(0.75), template_key(0.25)
    assert bear["skew_template"][put] > bear["skew_template"][call]
    assert bull["skew_template"][put] < bull["skew_template"][call]
    assert assumed_shape("calm range, fair IV")["term_premium"] < 0
    assert assumed_shape("stormy range, fair IV")["term_premium"] > 0


def test_regime_params_validation_and_roundtrip() -> None:
    regime = make_regime(fitted=("mu_rv_30d",))
    assert RegimeParams.from_dict(regime.to_dict()) == regime
    bad_values = [
        {"phi_iv": 1.0},
        {"phi_skew": -0.1},
        {"mu_rv_30d": 0.0},
        {"iv_level_sigma": math.nan},
        {"skew_template": {template_key(0.5): 0.0}},
    ]
    for bad in bad_values:
        with pytest.raises(ValueError):
            RegimeParams.from_dict({**regime.to_dict(), **bad})
    with pytest.raises(ValueError, match="bogus"):
        RegimeParams.from_dict({**regime.to_dict(), "bogus": 1})


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
        make_regime(skew_template=assumed_shape(name)["skew_template"])
        for name in ("calm bear, rich IV", "stormy bull, cheap IV")
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
