"""Episodes against the plain definition, Newey-West against the formula, summaries, the
walk-forward split and Benjamini-Hochberg."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backtest.outcomes.stats import (
    Z_95,
    bartlett_sum,
    benjamini_hochberg,
    count_episodes,
    count_episodes_by_key,
    day_numbers,
    episode_mask,
    episodes_reference,
    newey_west_by_key,
    newey_west_reference,
    newey_west_se,
    quantiles_by_key,
    stable_key_order,
    summarize_outcomes,
    two_sided_p,
    walk_forward_split,
)

# ---------------------------------------------------------------- episodes


def test_episodes_by_hand():
    # H = 30: 0 taken, 10 and 29 overlap it, 30 taken, 59 overlaps, 60 taken, 200 taken.
    days = np.array([60, 0, 10, 29, 30, 59, 200])
    assert episodes_reference(days, 30) == [0, 30, 60, 200]
    np.testing.assert_array_equal(episode_mask(days, 30), [True, True, False, False, True, False, True])
    assert count_episodes(days, 30) == 4
    assert count_episodes(np.array([], dtype=int), 30) == 0


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 40), st.integers(0, 500)), max_size=300),
    st.integers(1, 60),
)
def test_episodes_per_key_equal_the_plain_definition(pairs, horizon):
    keys = np.array([k for k, _ in pairs], dtype=np.int64)
    days = np.array([d for _, d in pairs], dtype=np.int64)
    counts = count_episodes_by_key(keys, days, horizon, n_keys=41)
    taken = episode_mask(days, horizon, keys)
    for key in range(41):
        mine = keys == key
        expected = episodes_reference(days[mine].tolist(), horizon)
        assert counts[key] == len(expected)
        assert sorted(set(days[mine & taken].tolist())) == expected
        assert taken[mine].sum() == len(expected)  # a repeated (key, day) is taken once


@settings(max_examples=50, deadline=None)
@given(st.integers(1, 40), st.integers(0, 3000), st.randoms(use_true_random=False))
def test_one_long_chain_equals_the_plain_definition(horizon, n, random):
    days = np.array(sorted(random.sample(range(20_000), n)), dtype=np.int64)
    assert count_episodes(days, horizon) == len(episodes_reference(days.tolist(), horizon))


def test_many_chains_walk_both_the_vectorized_rounds_and_the_long_tail():
    rng = np.random.default_rng(0)
    keys = np.r_[rng.integers(0, 100, 5000), np.zeros(4000, dtype=int)]  # key 0 much longer
    days = np.r_[rng.integers(0, 2000, 5000), rng.integers(2000, 60_000, 4000)]
    counts = count_episodes_by_key(keys, days, 30, n_keys=100)
    for key in (0, 1, 57, 99):
        assert counts[key] == len(episodes_reference(days[keys == key].tolist(), 30))


def test_day_numbers():
    index = pd.DatetimeIndex(["1970-01-02", "2024-01-01 23:00"], tz="UTC")
    np.testing.assert_array_equal(day_numbers(index), [1, 19723])
    np.testing.assert_array_equal(day_numbers(pd.RangeIndex(3)), [0, 1, 2])


# ---------------------------------------------------------------- Newey-West


def test_newey_west_by_hand():
    # x = 1, 3, 2 on days 0, 1, 3; mean 2, u = -1, 1, 0. One lag (weight 1/2): the only pair
    # one day apart is (0, 1): S = (1 + 1 + 0) + 2 * 0.5 * (-1 * 1) = 1, SE = sqrt(1) / 3.
    assert newey_west_se(np.array([1.0, 3.0, 2.0]), np.array([0, 1, 3]), 1) == pytest.approx(1 / 3)
    # Without lags it is the plain sqrt(sum u^2) / n.
    assert newey_west_se(np.array([1.0, 3.0, 2.0]), np.array([0, 1, 3]), 0) == pytest.approx(math.sqrt(2) / 3)
    # A subset: days 0 and 3 only (mean 1.5, u = -0.5, 0.5; three days apart, beyond 2 lags).
    mask = np.array([True, False, True])
    assert newey_west_se(np.array([1.0, 3.0, 2.0]), np.array([0, 1, 3]), 2, mask) == pytest.approx(
        math.sqrt(0.5) / 2
    )


@pytest.mark.parametrize("density", [1.0, 0.6, 0.05])  # dense grid path and offset path
def test_newey_west_matches_the_double_loop(density):
    rng = np.random.default_rng(3)
    span = 900
    days = np.sort(rng.choice(span, int(span * density), replace=False))
    x = np.cumsum(rng.normal(size=len(days))) * 0.1 + rng.normal(size=len(days))
    x[rng.random(len(x)) < 0.05] = np.nan
    mask = rng.random(len(x)) < 0.7
    for lags in (0, 1, 29):
        assert newey_west_se(x, days, lags, mask) == pytest.approx(
            newey_west_reference(x, days, lags, mask), rel=1e-10
        )


@pytest.mark.parametrize("span", [5000, 700])  # sparse: pairs by offset; dense: (key x day) grid
def test_newey_west_by_key_matches_one_key_at_a_time(span):
    rng = np.random.default_rng(4)
    keys = rng.integers(0, 5, 3000)
    days = np.zeros(3000, dtype=int)
    for key in range(5):  # distinct days within a key
        mine = keys == key
        days[mine] = rng.choice(span, mine.sum(), replace=False)
    x = rng.normal(size=3000)
    estimate = newey_west_by_key(keys, days, x, 29, n_keys=6)
    for key in range(5):
        mine = keys == key
        assert estimate.n[key] == mine.sum()
        assert estimate.mean[key] == pytest.approx(x[mine].mean())
        assert estimate.se[key] == pytest.approx(newey_west_se(x[mine], days[mine], 29), rel=1e-10)
    assert estimate.n[5] == 0 and np.isnan(estimate.se[5])


def test_bartlett_sum_is_never_negative():
    rng = np.random.default_rng(5)
    for _ in range(50):
        u = rng.normal(size=40) * np.where(rng.random(40) < 0.5, 1, -1)
        assert bartlett_sum(u, np.arange(40), 29) >= -1e-12


# ---------------------------------------------------------------- summaries


def test_summary_figures():
    days = np.arange(100)
    x = np.where(days % 2 == 0, 2.0, -1.0)
    x[5] = np.nan
    s = summarize_outcomes(x, days, horizon_days=10, mask=days < 60)
    picked = x[:60][np.isfinite(x[:60])]
    assert s.n == 59 and s.episodes == 6
    assert s.mean == pytest.approx(picked.mean()) and s.median == pytest.approx(np.median(picked))
    assert s.hit_rate == pytest.approx((picked > 0).mean()) and s.worst == -1.0
    assert s.p10 == pytest.approx(np.quantile(picked, 0.1))
    assert s.se == pytest.approx(newey_west_se(x, days, 9, days < 60))
    assert s.ci_low == pytest.approx(s.mean - Z_95 * s.se) and s.ci_high == pytest.approx(s.mean + Z_95 * s.se)
    assert s.to_json()["n"] == 59


def test_empty_and_single_summaries_are_honest():
    empty = summarize_outcomes(np.array([np.nan]), np.array([0]), 30)
    assert empty.n == 0 and empty.episodes == 0 and math.isnan(empty.mean)
    assert empty.to_json()["mean"] is None
    one = summarize_outcomes(np.array([1.5]), np.array([0]), 30)
    assert one.n == 1 and one.mean == 1.5 and math.isnan(one.se) and math.isnan(one.ci_low)
    # Five consecutive days are one 30-day bet: no interval, however tight the days look.
    week = summarize_outcomes(np.array([1.0, 1.1, 1.2, 1.3, 1.4]), np.arange(5), 30)
    assert week.episodes == 1 and math.isnan(week.se) and math.isnan(week.ci_high)


# ---------------------------------------------------------------- walk-forward, BH


def test_walk_forward_split_purges_the_horizon_before_the_cut():
    days = np.arange(300)
    split = walk_forward_split(days, horizon_days=30)
    assert split.cut_day == 200
    assert split.out_of_sample.sum() == 100 and split.out_of_sample[200] and not split.out_of_sample[199]
    # In-sample entries end their 30-day window by the cut: t + 30 <= 200.
    assert split.in_sample.sum() == 171 and split.in_sample[170] and not split.in_sample[171]
    with pytest.raises(ValueError):
        walk_forward_split(days, 30, in_sample_share=1.0)


def test_benjamini_hochberg_by_hand():
    # m = 5, alpha 0.05: thresholds 0.01 0.02 0.03 0.04 0.05; the sorted p's 0.001 0.02 0.025
    # 0.2 0.9 pass up to rank 3 (0.025 <= 0.03).
    p = np.array([0.2, 0.025, np.nan, 0.001, 0.9, 0.02])
    np.testing.assert_array_equal(benjamini_hochberg(p), [False, True, False, True, False, True])
    assert not benjamini_hochberg(np.array([0.5, 0.04])).any()
    assert benjamini_hochberg(np.array([np.nan])).tolist() == [False]


def test_two_sided_p():
    np.testing.assert_allclose(two_sided_p(np.array([0.0, 1.959963984540054, -2.0])), [1.0, 0.05, 0.0455003], atol=1e-7)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 2**40), max_size=300), st.sampled_from([2**8, 2**16, 2**20, 2**32, 2**41]),
       st.sampled_from(["int64", "int32", "uint32", "uint64", "int16", "uint16", "int8", "uint8"]),
       st.booleans())
def test_stable_key_order_is_the_stable_argsort(values, limit, dtype, negative):
    keys = np.asarray(values, dtype=np.int64) % limit  # small, 16-bit, 32-bit and wider keys
    if negative:
        keys = keys - limit // 2
    info = np.iinfo(dtype)
    keys = np.clip(keys, info.min, info.max).astype(dtype)
    np.testing.assert_array_equal(stable_key_order(keys), np.argsort(keys, kind="stable"))


@pytest.mark.parametrize("chunk", [100, 300])  # keys (about 125 entries) longer than a run, and several per run
def test_bartlett_in_runs_of_whole_keys_equals_one_pass(monkeypatch, chunk):
    """A long input sorted by key goes in runs of whole keys (bounded memory): same sums."""
    from backtest.outcomes import stats

    rng = np.random.default_rng(11)
    keys = np.sort(rng.integers(0, 40, 5_000))
    days = np.concatenate([np.sort(rng.choice(3_000, np.count_nonzero(keys == k), replace=False)) for k in range(40)])
    u = rng.normal(size=len(keys))
    whole = stats.bartlett_by_key(u, days, keys, 29, 40)
    monkeypatch.setattr(stats, "BARTLETT_CHUNK", chunk)
    runs = stats.bartlett_by_key(u, days, keys, 29, 40)
    np.testing.assert_allclose(runs, whole, rtol=1e-10, atol=1e-9)
    assert np.all(whole > 0)


def test_bartlett_by_key_equals_the_double_loop_on_unsorted_repeated_and_negative_days():
    """The window sums against the definition written out: every pair of samples of a key at
    most ``lags`` days apart, weighted 1 - |L| / (lags + 1); a repeated (key, day) pairs with
    itself at lag 0. Input in any order, days below zero, keys with gaps."""
    from backtest.outcomes import stats

    rng = np.random.default_rng(12)
    n = 600
    days = rng.choice(900, n, replace=True) - 300  # unsorted, some negative, some repeated
    keys = rng.choice([0, 3, 4, 9], n)
    u = rng.normal(size=n)
    for lags in (0, 1, 7, 29):
        expected = np.zeros(10)
        for key in np.unique(keys):
            mine = np.flatnonzero(keys == key)
            distance = np.abs(days[mine][:, None] - days[mine][None, :])
            weight = np.where(distance <= lags, 1.0 - distance / (lags + 1.0), 0.0)
            expected[key] = u[mine] @ weight @ u[mine]
        np.testing.assert_allclose(stats.bartlett_by_key(u, days, keys, lags, 10), expected, rtol=1e-10, atol=1e-10)


def test_bartlett_of_a_small_key_is_not_lost_beside_a_large_one():
    """A key's sum does not depend on the other keys in the same pass, whatever their scale
    (a reviewer's case: a window-sum variant lost 4% of a 1e-9-scale key's sum here)."""
    rng = np.random.default_rng(0)
    n = 200_000
    keys = np.r_[np.zeros(n, np.int64), [1, 1, 1]]
    days = np.r_[np.arange(n), [150_000, 150_001, 150_002]]
    values = np.r_[rng.normal(size=n), [1.0 + 3e-9, 1.0 - 1e-9, 1.0 - 2e-9]]
    mixed = newey_west_by_key(keys, days, values, 29, 2).se[1]
    alone = newey_west_by_key(np.zeros(3, np.int64), days[n:], values[n:], 29, 1).se[0]
    assert mixed == pytest.approx(alone, rel=1e-9)


def test_quantiles_of_extreme_values_stay_finite():
    """The minimum (q = 0, the cells' worst) of values whose difference overflows is the
    smallest value, not inf x 0."""
    values = np.array([-1e308, 1e308])
    (low,) = quantiles_by_key(np.zeros(2, np.int64), values, 1, np.array([2]), (0.0,))
    assert low[0] == -1e308
