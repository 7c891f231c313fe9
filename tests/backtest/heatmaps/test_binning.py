"""The vectorized binning core (backtest.heatmap_grid) against plain-Python definitions."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import binomtest

from backtest.heatmaps.binning import (
    Binning,
    PairGrid,
    axis_edges,
    bin_index,
    compute_pair_grid,
    strategy_weights,
    wilson_lower_bound,
)
from backtest.heatmaps.naive_reference import naive_bin, naive_edges, naive_wilson

# ------------------------------------------------------------------ Wilson lower bound


@pytest.mark.parametrize(
    ("successes", "trials", "expected"),
    [
        (0, 0, 0.0),
        (0, 10, 0.0),
        (5, 10, 0.2366),  # textbook: 95% Wilson interval of 5/10 is [0.2366, 0.7634]
        (10, 10, 0.7225),
        (1, 1, 0.2065),
        (50, 100, 0.4038),
        (81, 263, 0.2553),
    ],
)
def test_wilson_known_values(successes, trials, expected):
    assert float(wilson_lower_bound(np.array(successes), np.array(trials))) == pytest.approx(expected, abs=5e-5)


def test_wilson_matches_direct_formula_and_scipy():
    rng = np.random.default_rng(3)
    trials = rng.integers(1, 500, 200)
    successes = rng.integers(0, trials + 1)
    got = wilson_lower_bound(successes, trials)
    for k, n, value in zip(successes, trials, got, strict=True):
        assert value == pytest.approx(naive_wilson(int(k), int(n)), rel=1e-12, abs=1e-15)
        low = binomtest(int(k), int(n)).proportion_ci(confidence_level=0.95, method="wilson").low
        assert value == pytest.approx(max(low, 0.0), abs=1e-9)


def test_wilson_is_vectorized_and_zero_without_trials():
    got = wilson_lower_bound(np.array([[0, 3], [2, 0]]), np.array([[0, 6], [2, 0]]))
    assert got.shape == (2, 2)
    assert got[0, 0] == 0.0 and got[1, 1] == 0.0
    assert got[0, 1] == pytest.approx(naive_wilson(3, 6)) and got[1, 0] == pytest.approx(naive_wilson(2, 2))


# ------------------------------------------------------------------ axis edges and bins


def test_inferred_edges_extend_by_five_percent():
    edges = axis_edges(np.array([10.0, 20.0, 15.0]), 4)
    assert edges[0] == pytest.approx(9.5) and edges[-1] == pytest.approx(20.5)
    assert np.allclose(np.diff(edges), 11.0 / 4)


def test_inferred_edges_ignore_non_finite_values():
    values = np.array([np.nan, 1.0, np.inf, 3.0, -np.inf])
    assert np.array_equal(axis_edges(values, 5), axis_edges(np.array([1.0, 3.0]), 5))


@pytest.mark.parametrize(("value", "low", "high"), [(50.0, 47.5, 52.5), (-8.0, -8.4, -7.6), (0.0, -1.0, 1.0)])
def test_constant_metric_range(value, low, high):
    edges = axis_edges(np.full(7, value), 3)
    assert edges[0] == pytest.approx(low) and edges[-1] == pytest.approx(high)


def test_no_finite_value_gives_unit_range():
    assert np.array_equal(axis_edges(np.array([np.nan, np.inf]), 2), [0.0, 0.5, 1.0])
    assert np.array_equal(axis_edges(np.array([]), 2), [0.0, 0.5, 1.0])


def test_explicit_range_is_used_as_is_and_validated():
    assert np.array_equal(axis_edges(np.array([-100.0, 100.0]), 4, (0, 8)), [0, 2, 4, 6, 8])
    for bad in [(1, 1), (2, 1), (0, np.inf), (np.nan, 1)]:
        with pytest.raises(ValueError):
            axis_edges(np.array([0.5]), 4, bad)
    with pytest.raises(ValueError):
        axis_edges(np.array([0.5]), 0)


def test_bin_index_edges_and_outside():
    edges = np.array([0.0, 1.0, 2.0, 3.0])
    values = np.array([0.0, 0.5, 1.0, 2.999, 3.0, -0.001, 3.001, np.nan, np.inf, -np.inf])
    assert bin_index(values, edges).tolist() == [0, 0, 1, 2, 2, -1, -1, -1, -1, -1]


def test_values_on_float_edges_land_in_the_cell_that_reports_them():
    # linspace(0, 1, 11)[3] is 0.30000000000000004, so 0.3 belongs to [0.2, 0.3000...04).
    edges = np.linspace(0.0, 1.0, 11)
    values = np.concatenate([edges, [0.3, 0.7, 0.6, 0.1]])
    index = bin_index(values, edges)
    for value, i in zip(values, index, strict=True):
        assert edges[i] <= value and (value < edges[i + 1] or (i == 9 and value == edges[-1]))


@settings(max_examples=150, deadline=None)
@given(
    values=st.lists(st.floats(-1e6, 1e6, allow_nan=False) | st.integers(-50, 50).map(float), min_size=1, max_size=40),
    bins=st.integers(1, 25),
    explicit=st.none() | st.tuples(st.integers(-60, 0), st.integers(1, 60)),
)
def test_bins_agree_with_the_naive_definition(values, bins, explicit):
    array = np.array(values)
    edges = axis_edges(array, bins, explicit)
    assert edges.tolist() == naive_edges(values, bins, explicit)
    index = bin_index(array, edges)
    expected = [naive_bin(v, edges.tolist()) for v in values]
    assert index.tolist() == [-1 if e is None else e for e in expected]
    if explicit is None:
        assert (index >= 0).all()  # an inferred range holds every value
        # With <= 20 bins a bin is wider than the 5% margin: the data's maximum lands in the
        # last bin and its minimum in the first (a constant metric sits in the middle).
        if array.max() > array.min() and bins <= 20:
            assert index[int(np.argmax(array))] == bins - 1
            assert index[int(np.argmin(array))] == 0


# ------------------------------------------------------------------ compute_pair_grid


def naive_grid(x, y, counted, scores, x_bins, y_bins, x_range=None, y_range=None):
    """Per-sample loops over plain lists (the reference for compute_pair_grid)."""
    present = [i for i in range(len(x)) if math.isfinite(x[i]) and math.isfinite(y[i])]
    x_edges = naive_edges([float(x[i]) for i in present], x_bins, x_range)
    y_edges = naive_edges([float(y[i]) for i in present], y_bins, y_range)
    n_strategies = np.shape(counted)[1]
    counts = np.zeros((x_bins, y_bins), dtype=int)
    selected = np.zeros((n_strategies, x_bins, y_bins), dtype=int)
    score_sum = np.zeros((n_strategies, x_bins, y_bins))
    outside = 0
    for i in present:
        bx, by = naive_bin(float(x[i]), x_edges), naive_bin(float(y[i]), y_edges)
        if bx is None or by is None:
            outside += 1
            continue
        counts[bx, by] += 1
        for s in range(n_strategies):
            selected[s, bx, by] += bool(counted[i][s])
            score_sum[s, bx, by] += scores[i][s]
    return x_edges, y_edges, counts, selected, score_sum, len(present), outside, len(x) - len(present)


def random_columns(rng, n, holes=0.15):
    x = rng.normal(10, 5, n)
    y = rng.uniform(-3, 3, n)
    for column in (x, y):
        pick = rng.random(n) < holes
        column[pick] = rng.choice([np.nan, np.inf, -np.inf], pick.sum())
    counted = rng.random((n, 3)) < 0.3
    scores = rng.choice([0.0, 0.25, 1 / 3, 0.5, 2 / 3, 1.0], (n, 3))
    return x, y, counted, scores


@pytest.mark.parametrize(
    ("bins", "ranges"),
    [((6, 4), (None, None)), ((1, 1), (None, None)), ((5, 3), ((5.0, 15.0), (-1.0, 2.0))), ((20, 20), (None, (-2, 2)))],
)
def test_pair_grid_matches_naive_loops(bins, ranges):
    rng = np.random.default_rng(11)
    x, y, counted, scores = random_columns(rng, 700)
    grid = compute_pair_grid(x, y, counted, scores, *bins, *ranges)
    x_edges, y_edges, counts, selected, score_sum, total, outside, missing = naive_grid(
        x, y, counted, scores, *bins, *ranges
    )
    assert grid.x_edges.tolist() == x_edges and grid.y_edges.tolist() == y_edges
    assert np.array_equal(grid.counts, counts)
    assert np.array_equal(grid.selected, selected)
    assert np.allclose(grid.score_sum, score_sum, rtol=1e-12, atol=1e-12)
    assert (grid.total_samples, grid.outside, grid.missing) == (total, outside, missing)
    assert grid.counts.sum() + grid.outside == grid.total_samples
    if ranges == (None, None):
        assert grid.outside == 0


def test_pair_grid_derived_layers():
    rng = np.random.default_rng(5)
    x, y, counted, scores = random_columns(rng, 400, holes=0.0)
    grid = compute_pair_grid(x, y, counted, scores, 7, 5)
    counts = grid.counts
    assert grid.occupancy.sum() == pytest.approx(1.0)
    assert np.allclose(grid.occupancy, counts / grid.total_samples)
    empty = counts == 0
    assert empty.any(), "the test wants some empty cells"
    for s in range(3):
        assert (grid.pass_rate[s][empty] == 0).all()
        assert np.isnan(grid.avg_score[s][empty]).all()
        full = ~empty
        assert np.allclose(grid.pass_rate[s][full], grid.selected[s][full] / counts[full])
        assert np.allclose(grid.avg_score[s][full], grid.score_sum[s][full] / counts[full])
        assert np.allclose(grid.sweetness[s], grid.occupancy * grid.pass_rate[s])
        expected_wilson = [naive_wilson(int(k), int(n)) for k, n in zip(grid.selected[s].ravel(), counts.ravel(), strict=True)]
        assert np.allclose(grid.wilson_low[s].ravel(), expected_wilson)


def test_pair_grid_empty_and_all_missing():
    for x, y in [(np.array([]), np.array([])), (np.array([np.nan, 1.0]), np.array([2.0, np.inf]))]:
        n = len(x)
        grid = compute_pair_grid(x, y, np.zeros((n, 2), bool), np.zeros((n, 2)), 3, 2)
        assert grid.counts.shape == (3, 2) and grid.counts.sum() == 0
        assert grid.selected.shape == (2, 3, 2)
        assert grid.total_samples == 0 and grid.outside == 0 and grid.missing == n
        assert np.array_equal(grid.x_edges, [0, 1 / 3, 2 / 3, 1]) and np.array_equal(grid.y_edges, [0, 0.5, 1])
        assert (grid.occupancy == 0).all() and (grid.pass_rate == 0).all()


def test_pair_grid_without_strategies():
    grid = compute_pair_grid(np.arange(10.0), np.arange(10.0), np.zeros((10, 0), bool), np.zeros((10, 0)), 2, 2)
    assert grid.selected.shape == (0, 2, 2)
    assert grid.counts.tolist() == [[5, 0], [0, 5]]


def test_reused_weights_and_bin_cache_give_the_same_grid():
    rng = np.random.default_rng(8)
    columns = {name: rng.normal(size=500) for name in "abc"}
    columns["c"][::7] = np.nan
    counted = rng.random((500, 4)) < 0.5
    scores = rng.random((500, 4))
    scores[::11, 1] = np.nan  # non-finite scores count as 0
    weights = strategy_weights(counted, scores)
    cache: dict = {}
    for x_name, y_name in [("a", "b"), ("a", "c"), ("b", "c"), ("a", "b")]:
        plain = compute_pair_grid(columns[x_name], columns[y_name], counted, scores, 6, 6, x_metric=x_name, y_metric=y_name)
        fast = compute_pair_grid(
            columns[x_name], columns[y_name], counted, scores, 6, 6, x_metric=x_name, y_metric=y_name,
            weights=weights, bin_cache=cache,
        )
        for field in ("x_edges", "y_edges", "counts", "selected", "score_sum"):
            assert np.array_equal(getattr(plain, field), getattr(fast, field)), field
        assert (plain.total_samples, plain.outside, plain.missing) == (fast.total_samples, fast.outside, fast.missing)
    assert np.isfinite(weights).all()
    # "a" has no holes: one binning serves every pair; "c" has holes, so "a" paired with it
    # has other edges (and another cache entry).
    assert len([key for key in cache if key[0] == "a"]) == 2


@settings(max_examples=60, deadline=None)
@given(
    data=st.lists(
        st.tuples(
            st.sampled_from([np.nan, np.inf, 0.0, 1.0, 2.5]) | st.floats(-100, 100),
            st.sampled_from([np.nan, -np.inf, 0.0, 7.0]) | st.floats(-5, 5),
            st.booleans(),
            st.sampled_from([0.0, 0.5, 1.0]),
        ),
        max_size=60,
    ),
    x_bins=st.integers(1, 6),
    y_bins=st.integers(1, 6),
    x_range=st.none() | st.just((-10.0, 10.0)),
)
def test_pair_grid_property(data, x_bins, y_bins, x_range):
    x = np.array([d[0] for d in data], dtype=float)
    y = np.array([d[1] for d in data], dtype=float)
    counted = np.array([[d[2]] for d in data], dtype=bool).reshape(len(data), 1)
    scores = np.array([[d[3]] for d in data], dtype=float).reshape(len(data), 1)
    grid = compute_pair_grid(x, y, counted, scores, x_bins, y_bins, x_range)
    x_edges, y_edges, counts, selected, score_sum, total, outside, missing = naive_grid(
        x, y, counted, scores, x_bins, y_bins, x_range
    )
    assert isinstance(grid, PairGrid)
    assert grid.x_edges.tolist() == x_edges and grid.y_edges.tolist() == y_edges
    assert np.array_equal(grid.counts, counts) and np.array_equal(grid.selected, selected)
    assert np.allclose(grid.score_sum, score_sum)
    assert (grid.total_samples, grid.outside, grid.missing) == (total, outside, missing)


# ----------------------------------------------------------------------------- binning options



def test_clipped_range_leaves_the_outliers_outside_and_counts_them():
    rng = np.random.default_rng(4)
    x = np.concatenate([rng.normal(0, 1, 995), [-75.0, 60.0, 80.0, 90.0, 100.0]])  # a stretched axis
    y = rng.normal(0, 1, len(x))
    flags = np.zeros((len(x), 0), dtype=bool)
    equal = compute_pair_grid(x, y, flags, flags.astype(float), 20, 20)
    clipped = compute_pair_grid(x, y, flags, flags.astype(float), 20, 20, binning=Binning("equal", 0.5))
    # Equal-width over the outliers piles the mass into a few x bins; clipping spreads it.
    assert equal.counts.sum(axis=1).max() >= 990  # one x bin holds the whole market
    assert (clipped.counts.sum(axis=1) > 0).sum() >= 15
    assert clipped.x_edges[0] == pytest.approx(np.percentile(x, 0.5))
    assert clipped.x_edges[-1] == pytest.approx(np.percentile(x, 99.5))
    # The outliers are outside, counted, and still part of the pair's samples.
    assert clipped.outside > 0 and clipped.total_samples == len(x)
    assert clipped.counts.sum() + clipped.outside == len(x)


def test_quantile_bins_hold_equal_counts():
    values = np.random.default_rng(5).lognormal(0, 1, 1000)
    edges = axis_edges(values, 10, binning=Binning("quantile"))
    index = bin_index(values, edges)
    counts = np.bincount(index, minlength=10)
    assert counts.min() >= 95 and counts.max() <= 105
    assert edges[0] == values.min() and edges[-1] == values.max()
    assert np.all(np.diff(edges) >= 0)


def test_quantile_bins_with_ties_and_constants_stay_valid():
    ties = np.array([1.0] * 50 + [2.0] * 50)
    edges = axis_edges(ties, 4, binning=Binning("quantile"))
    assert len(edges) == 5 and np.all(np.diff(edges) >= 0)
    assert (bin_index(ties, edges) >= 0).all()
    constant = axis_edges(np.full(10, 3.0), 4, binning=Binning("quantile", 1.0))
    np.testing.assert_allclose(constant[[0, -1]], [2.85, 3.15])  # the default's +-5%
    # Clipped so that no value lies inside (two values, 10% off each side): the clipped
    # range's equal-width bins, not an error.
    empty_inside = axis_edges(np.array([0.0, 10.0]), 4, binning=Binning("quantile", 10.0))
    np.testing.assert_allclose(empty_inside, [1.0, 3.0, 5.0, 7.0, 9.0])


@pytest.mark.parametrize(("mode", "clip", "message"), [("log", 0.0, "unknown bin mode"), ("equal", 30.0, "clip percent")])
def test_bad_binning_options_are_refused(mode, clip, message):
    with pytest.raises(ValueError, match=message):
        Binning(mode, clip)
