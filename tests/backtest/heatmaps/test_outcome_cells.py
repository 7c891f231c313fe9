"""Per-cell outcome statistics equal the per-group summary of the samples in each cell."""

from __future__ import annotations

import numpy as np
import pytest

from backtest.heatmaps.outcome_cells import cell_outcomes
from backtest.outcomes.stats import episodes_reference, summarize_outcomes


def random_case(seed: int, n: int = 400, shape=(3, 4)):
    rng = np.random.default_rng(seed)
    cells = rng.integers(-1, shape[0] * shape[1], n)
    cells = np.where(rng.random(n) < 0.7, np.repeat(cells[::6], 6)[:n], cells)  # persistent, like sensors
    selected = rng.integers(0, 3, n)  # 0, 1: strategies; 2: no trade
    days = np.arange(n) + 19000
    edge = rng.normal(5, 10, n)
    edge[rng.random(n) < 0.1] = np.nan
    return cells, selected, days, edge


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("disjoint", [True, False])
def test_each_cell_is_the_summary_of_its_samples(seed, disjoint):
    cells, selected, days, edge = random_case(seed)
    masks = [selected == 0, selected == 1, selected == 2]
    if not disjoint:  # "passes" mode: a day can count for several strategies
        masks[1] = masks[1] | (selected == 0)
    groups = [(name, mask, edge) for name, mask in zip(("A", "B", "NO_TRADE"), masks, strict=True)]
    shuffled = np.random.default_rng(seed + 10).permutation(cells)  # a second pair, same samples
    result, other = cell_outcomes([cells, shuffled], groups, days, (3, 4), 30, "edge_30d")
    single = cell_outcomes([shuffled], groups, days, (3, 4), 30, "edge_30d")[0]
    for name in ("n", "episodes", "median"):  # pairs batched = pairs one by one
        np.testing.assert_array_equal(getattr(other, name), getattr(single, name))
    for name in ("sum", "se"):  # (sums of other pairs' keys leave an ulp of rounding)
        np.testing.assert_allclose(getattr(other, name), getattr(single, name), rtol=1e-12, equal_nan=True)
    assert result.groups == ("A", "B", "NO_TRADE") and result.n.shape == (3, 3, 4)
    for g, mask in enumerate(masks):
        for x in range(3):
            for y in range(4):
                inside = mask & (cells == x * 4 + y)
                expected = summarize_outcomes(edge, days, 30, inside)
                assert result.n[g, x, y] == expected.n
                assert result.episodes[g, x, y] == expected.episodes
                if expected.n == 0:
                    assert np.isnan(result.mean[g, x, y]) and np.isnan(result.worst[g, x, y])
                    continue
                np.testing.assert_allclose(
                    [result.mean[g, x, y], result.median[g, x, y], result.p10[g, x, y],
                     result.worst[g, x, y], result.hit_rate[g, x, y]],
                    [expected.mean, expected.median, expected.p10, expected.worst, expected.hit_rate],
                    rtol=1e-12, atol=1e-12,
                )
                np.testing.assert_allclose(result.se[g, x, y], expected.se, rtol=1e-9, equal_nan=True)
                np.testing.assert_allclose(result.ci_low[g, x, y], expected.ci_low, rtol=1e-9, equal_nan=True)


def test_sparse_arrays_read_back_every_cell():
    """The grids file stores only the occupied (pair, group, cell) keys; reading a pair back
    gives every field of every cell, empty cells included, and a damaged field is an error."""
    from backtest.heatmaps.outcome_cells import CELL_FIELDS, CellOutcomes, iter_stacked_arrays
    from greg_core.errors import SweepResultsError

    cells, selected, days, edge = random_case(4)
    cells = np.where(np.isin(cells, (0, 7)), 3, cells)  # cells 0 and 7 of the first pair stay empty
    groups = [(name, selected == g, edge) for g, name in enumerate(("A", "B", "NO_TRADE"))]
    shuffled = np.random.default_rng(5).permutation(cells)
    pairs = cell_outcomes([cells, shuffled], groups, days, (3, 4), 30, "edge_30d",
                          times=days.astype(np.int64) * 86_400 * 10**6)
    arrays = dict(iter_stacked_arrays(pairs, "BTC__edge"))
    assert len(arrays["BTC__edge__cell"]) < 2 * 3 * 3 * 4  # some keys are empty and not stored
    for index, original in enumerate(pairs):
        back = CellOutcomes.from_arrays(arrays, "BTC__edge", "edge_30d", ("A", "B", "NO_TRADE"), index)
        for name in CELL_FIELDS:
            np.testing.assert_array_equal(getattr(back, name), getattr(original, name))
            assert getattr(back, name).dtype == getattr(original, name).dtype
        np.testing.assert_array_equal(back.entry_times("B", 1, 2), original.entry_times("B", 1, 2))
    # In memory each entry is a sample row into the times; the times are each episode's first day.
    inside = (selected == 1) & np.isfinite(edge) & (cells == 1 * 4 + 2)
    expected = np.array(episodes_reference(days[inside].tolist(), 30), dtype=np.int64) * 86_400 * 10**6
    assert len(expected) > 0 and pairs[0].start_rows.dtype == np.int32
    np.testing.assert_array_equal(pairs[0].entry_times("B", 1, 2), expected.astype("datetime64[us]"))
    assert arrays["BTC__edge__start_key"].dtype == np.int32
    # A file written before start_bounds held one pair id per entry (start_pair): read the same.
    older = {k: v for k, v in arrays.items() if k != "BTC__edge__start_bounds"}
    bounds = arrays["BTC__edge__start_bounds"]
    older["BTC__edge__start_pair"] = np.repeat(np.arange(len(pairs)), np.diff(bounds))
    for index, original in enumerate(pairs):
        back = CellOutcomes.from_arrays(older, "BTC__edge", "edge_30d", ("A", "B", "NO_TRADE"), index)
        np.testing.assert_array_equal(back.start_times, original.start_times)
        np.testing.assert_array_equal(back.start_keys, original.start_keys)
    short = {**arrays, "BTC__edge__start_bounds": bounds[:-1]}
    with pytest.raises(SweepResultsError, match="start_bounds"):
        CellOutcomes.from_arrays(short, "BTC__edge", "edge_30d", ("A", "B", "NO_TRADE"), 0)
    arrays["BTC__edge__median"] = arrays["BTC__edge__median"][:-1]
    with pytest.raises(SweepResultsError, match="median"):
        CellOutcomes.from_arrays(arrays, "BTC__edge", "edge_30d", ("A", "B", "NO_TRADE"), 0)


@pytest.mark.parametrize("workers", [1, 2])
@pytest.mark.parametrize("overlapping", [False, True])
def test_pairs_in_batches_give_the_same_cells(monkeypatch, workers, overlapping):
    """A long span goes a pair at a time (bounded memory), one or two runs side by side, with
    disjoint groups (one pass) or overlapping ones (a pass per group): every field and entry
    is the same as in one run."""
    import backtest.heatmaps.outcome_cells as outcome_cells
    from backtest.outcomes import stats

    cells, selected, days, edge = random_case(6)
    groups = [(name, selected == g, edge) for g, name in enumerate(("A", "B", "NO_TRADE"))]
    if overlapping:
        groups.append(("ALL", np.ones(len(days), dtype=bool), edge))
    pairs = [cells, np.random.default_rng(1).permutation(cells), np.random.default_rng(2).permutation(cells)]
    times = days.astype(np.int64) * 86_400 * 10**6
    whole = cell_outcomes(pairs, groups, days, (3, 4), 30, "edge_30d", times=times)
    monkeypatch.setattr(outcome_cells, "batches", lambda sizes: stats.batches(sizes, limit=1))
    monkeypatch.setattr(outcome_cells, "MAX_CELL_WORKERS", workers)
    batched = cell_outcomes(pairs, groups, days, (3, 4), 30, "edge_30d", times=times)
    assert len(batched) == 3
    for one, other in zip(whole, batched, strict=True):
        for name in outcome_cells.CELL_FIELDS:  # equal up to the order sums were taken in
            np.testing.assert_allclose(getattr(other, name), getattr(one, name), rtol=1e-12, atol=1e-12)
        np.testing.assert_array_equal(one.start_keys, other.start_keys)
        np.testing.assert_array_equal(one.start_times, other.start_times)


def test_days_in_order_sorts_by_key_alone_with_the_same_result(monkeypatch):
    """Sorted days (every sweep) take the radix path; it gives what the (key, day) lexsort gives."""
    import backtest.heatmaps.outcome_cells as outcome_cells

    cells, selected, days, edge = random_case(7)
    days = np.sort(days)
    groups = [(name, selected == g, edge) for g, name in enumerate(("A", "B", "NO_TRADE"))]
    pairs = [cells, np.random.default_rng(3).permutation(cells)]
    radix_calls = []
    real_order = outcome_cells.stable_key_order
    monkeypatch.setattr(outcome_cells, "stable_key_order", lambda keys: radix_calls.append(1) or real_order(keys))
    fast = cell_outcomes(pairs, groups, days, (3, 4), 30, "edge_30d")
    assert radix_calls  # the fast path was taken
    real = outcome_cells._stats_by_key
    monkeypatch.setattr(outcome_cells, "_stats_by_key", lambda *args, **named: real(*args[:6], False, *args[7:], **named))
    plain = cell_outcomes(pairs, groups, days, (3, 4), 30, "edge_30d")
    for one, other in zip(fast, plain, strict=True):
        for name in outcome_cells.CELL_FIELDS:
            np.testing.assert_array_equal(getattr(one, name), getattr(other, name))
        np.testing.assert_array_equal(one.start_keys, other.start_keys)
        np.testing.assert_array_equal(one.start_times, other.start_times)
