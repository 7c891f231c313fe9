"""Forward outcomes per cell of a pair's grid: did trading in that region pay?
(docs/outcomes.md "Per cell").

For one outcome measure and one pair, per group of days (each swept strategy's trade days,
then the NO_TRADE days) and per cell: the samples with an outcome, mergeable sums (sum, sum
of squares, hits, worst) and the statistics that are not sums: episodes (non-overlapping
entries), median, 10th percentile and the Newey-West standard error of the mean (Bartlett,
H-1 lags on the calendar; NaN below two episodes, as ``OutcomeSummary``). Everything the app
and the Markdown show is derived from these arrays, so nothing is recomputed after a sweep.

Outcomes only ever read the future after a sample; here they are only aggregated over cells
that the sensors (the past) already decided, never used to draw a bin.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cached_property, partial

import numpy as np

from backtest.outcomes.stats import (
    Z_95,
    batches,
    episode_mask,
    newey_west_by_key,
    quantiles_by_key,
    stable_key_order,
)
from greg_core.cores import worker_threads
from greg_core.errors import SweepResultsError

NO_TRADE_GROUP = "NO_TRADE"
# Runs of pairs computed side by side on a long span (a run is as many pairs as a million
# entries hold: one from 500,000 days): 1.8x faster on two cores. Each concurrent run of a
# 1,000,000-day pair adds ~85 MB of temporaries, so two, not one per core: that export peaks
# at 832-881 MiB (issue 11's bound is 1 GB).
MAX_CELL_WORKERS = 2
SUM_FIELDS = ("n", "sum", "sum_sq", "hits", "worst")
STAT_FIELDS = ("episodes", "median", "p10", "se")
NAN_WHEN_EMPTY = ("worst", "median", "p10", "se")  # no statistic without a sample


@dataclass(eq=False)
class CellOutcomes:
    """One measure over the cells of one pair; every array is (groups, x_bins, y_bins)."""

    measure: str  # e.g. "edge_30d", or "pnl" (each strategy's own structure)
    groups: tuple[str, ...]  # strategy keys, then NO_TRADE for the edge
    n: np.ndarray  # samples with an outcome
    sum: np.ndarray
    sum_sq: np.ndarray
    hits: np.ndarray  # samples with an outcome > 0
    worst: np.ndarray  # minimum (NaN in an empty cell)
    episodes: np.ndarray
    median: np.ndarray
    p10: np.ndarray
    se: np.ndarray  # Newey-West SE of the mean; NaN below 2 episodes
    # The episodes' entries: per start, its flat (group, cell) key (int32) and its time (microseconds
    # since the epoch, UTC: nanoseconds cannot hold the years a very long synthetic span
    # covers), sorted by key then time; what the app lists for a cell. A sweep keeps each
    # entry's sample row (int32) into ``row_times``, the underlying's sample times shared by
    # its pairs (a 1,000,000-day span has ~14 million entries: 4 bytes each, not 8); entries
    # read from a file carry their own times (``start_rows`` None).
    start_keys: np.ndarray | None = None
    row_times: np.ndarray | None = None
    start_rows: np.ndarray | None = None

    @property
    def start_times(self) -> np.ndarray | None:
        """Each entry's time (microseconds since the epoch), in ``start_keys``'s order."""
        if self.row_times is None or self.start_rows is None:
            return self.row_times
        return self.row_times[self.start_rows]

    @cached_property
    def mean(self) -> np.ndarray:
        return _per_sample(self.sum, self.n)

    @cached_property
    def hit_rate(self) -> np.ndarray:
        return _per_sample(self.hits, self.n)

    @cached_property
    def ci_low(self) -> np.ndarray:
        return self.mean - Z_95 * self.se

    @cached_property
    def ci_high(self) -> np.ndarray:
        return self.mean + Z_95 * self.se

    def figures_at(self, groups: np.ndarray, ix: np.ndarray, iy: np.ndarray) -> dict[str, np.ndarray]:
        """The figures of the cells (groups[i], ix[i], iy[i]) only, the derived ones as the
        properties derive them (which compute every cell: a sweep needs a few dozen of a pair's)."""
        n, se = self.n[groups, ix, iy], self.se[groups, ix, iy]
        mean = _per_sample(self.sum[groups, ix, iy], n)
        return {
            "n": n, "episodes": self.episodes[groups, ix, iy], "mean": mean,
            "hit_rate": _per_sample(self.hits[groups, ix, iy], n),
            "ci_low": mean - Z_95 * se, "ci_high": mean + Z_95 * se,
            "median": self.median[groups, ix, iy], "worst": self.worst[groups, ix, iy],
        }

    def thin(self, min_episodes: int) -> np.ndarray:
        """Cells whose evidence is too thin to read: fewer than ``min_episodes`` episodes."""
        return self.episodes < min_episodes

    def group_index(self, group: str) -> int:
        return self.groups.index(group)

    def entry_times(self, group: str, x: int, y: int) -> np.ndarray:
        """When each episode of (group, cell) began: datetime64[us] UTC values, oldest first."""
        if self.start_keys is None or self.row_times is None:
            return np.zeros(0, dtype="datetime64[us]")
        cells = self.n.shape[1] * self.n.shape[2]
        key = self.group_index(group) * cells + x * self.n.shape[2] + y
        lo, hi = np.searchsorted(self.start_keys, [key, key + 1])
        rows = slice(lo, hi) if self.start_rows is None else self.start_rows[lo:hi]
        return self.row_times[rows].astype("datetime64[us]")

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray], prefix: str, measure: str, groups: Sequence[str],
                    index: int) -> CellOutcomes:
        """One pair of what ``iter_stacked_arrays`` wrote (``SweepResultsError``: arrays that do
        not fit together)."""
        shape = tuple(int(v) for v in arrays[f"{prefix}__shape"])
        if len(shape) != 4 or shape[1] != len(groups) or not 0 <= index < shape[0]:
            raise SweepResultsError(f"{prefix} outcome arrays have shape {shape}, expected (pairs, {len(groups)}, x, y)")
        per_pair = shape[1] * shape[2] * shape[3]
        cells = arrays[f"{prefix}__cell"]
        lo, hi = np.searchsorted(cells, [index * per_pair, (index + 1) * per_pair])
        local = cells[lo:hi] - index * per_pair
        values = {}
        for name in CELL_FIELDS:
            stored = arrays[f"{prefix}__{name}"]
            if stored.shape != cells.shape:
                raise SweepResultsError(f"{prefix}__{name} has {stored.shape[0]} values for {len(cells)} cells")
            dense = np.full(per_pair, np.nan) if name in NAN_WHEN_EMPTY else np.zeros(per_pair, dtype=stored.dtype)
            dense[local] = stored[lo:hi]
            values[name] = dense.reshape(shape[1:])
        keys = times = None
        bounds = arrays.get(f"{prefix}__start_bounds")
        if bounds is None and f"{prefix}__start_pair" in arrays:  # written before start_bounds (one pair id per entry)
            bounds = np.searchsorted(arrays[f"{prefix}__start_pair"], np.arange(shape[0] + 1))
        if bounds is not None and f"{prefix}__start_us" in arrays:
            entries = len(arrays[f"{prefix}__start_key"])
            if (len(bounds) != shape[0] + 1 or (len(bounds) and (bounds[0] != 0 or bounds[-1] != entries))
                    or np.any(np.diff(bounds) < 0) or len(arrays[f"{prefix}__start_us"]) != entries):
                raise SweepResultsError(
                    f"{prefix}__start_bounds does not split its {entries} episode entries into {shape[0]} pairs")
            lo, hi = int(bounds[index]), int(bounds[index + 1])
            keys, times = arrays[f"{prefix}__start_key"][lo:hi], arrays[f"{prefix}__start_us"][lo:hi]
        return cls(measure=measure, groups=tuple(groups), **values, start_keys=keys, row_times=times)


def _per_sample(total: np.ndarray, n: np.ndarray) -> np.ndarray:
    """A sum per sample (a mean, a hit rate); NaN where there is no sample."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > 0, total / n, np.nan)


def iter_stacked_arrays(per_pair: Sequence[CellOutcomes], prefix: str) -> Iterator[tuple[str, np.ndarray]]:
    """Every pair's arrays for the grids file, sparse: most (pair, group, cell) keys hold no
    sample, so only the occupied ones are stored (``__cell``: their flat index in
    (pairs, groups, x, y), ascending; ``__shape``: that shape; one 1-D array per field), and
    the episodes' entries as flat (key, time) arrays in pair order, pair p's entries at
    ``__start_bounds[p]:__start_bounds[p + 1]``; keys as int32, half of int64 on a long span
    where the entries are most of the file). One array at a time: a writer holds only the one
    it is writing (the entries of a 1,000,000-day sweep are hundreds of MB)."""
    shape = (len(per_pair), *per_pair[0].n.shape)
    occupied = np.flatnonzero(np.stack([c.n for c in per_pair]).ravel() > 0)
    yield f"{prefix}__shape", np.asarray(shape, dtype=np.int64)
    yield f"{prefix}__cell", occupied.astype(np.int64)
    for name in CELL_FIELDS:
        yield f"{prefix}__{name}", np.stack([getattr(c, name) for c in per_pair]).ravel()[occupied]
    lengths = [0 if c.start_keys is None else len(c.start_keys) for c in per_pair]
    bounds = np.concatenate(([0], np.cumsum(lengths))).astype(np.int64)
    yield f"{prefix}__start_bounds", bounds
    no_keys = np.zeros(0, dtype=np.int32)
    yield f"{prefix}__start_key", np.concatenate(
        [c.start_keys if c.start_keys is not None else no_keys for c in per_pair]).astype(np.int32, copy=False)
    times = np.empty(int(bounds[-1]), dtype=np.int64)  # filled pair by pair, each pair's looked up alone
    for c, lo, hi in zip(per_pair, bounds[:-1].tolist(), bounds[1:].tolist(), strict=True):
        if hi > lo:
            times[lo:hi] = c.start_times
    yield f"{prefix}__start_us", times


def _stats_by_key(keys: np.ndarray, rows: np.ndarray, values: np.ndarray, days: np.ndarray, n_keys: int,
                  horizon_days: int, days_in_order: bool = False,
                  ranks: np.ndarray | None = None) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
    """Every field of ``CellOutcomes`` for keys 0..n_keys-1, and the keys and rows of the
    episodes' entries, in (key, day) order.

    ``keys``: one key per entry, ``rows``: the entry's position in ``values`` and ``days`` (and
    ``ranks``), which hold every sample (finite values at the rows): an entry's sample is
    gathered once, already in sorted order, never copied first in the entries' order.
    A sweep has ~90,000 keys of which a few thousand hold a sample: the statistics are taken
    over the occupied keys only and then spread over all of them (empty keys: zero counts,
    NaN statistics). ``days_in_order``: each key's rows come in day order, so a stable sort
    by key alone gives the (key, day) order. ``ranks``: each value's rank in a sort of the
    values the caller shares between calls (``quantiles_by_key``)."""
    occupied = np.flatnonzero(np.bincount(keys, minlength=n_keys))
    dense = np.zeros(n_keys, dtype=np.int64)
    dense[occupied] = np.arange(len(occupied))
    compact, m = dense[keys], len(occupied)
    # Sorted by (key, day) once: the episodes and Newey-West passes then find sorted input.
    order = stable_key_order(compact) if days_in_order else np.lexsort((days[rows], compact))
    compact, at = compact[order], rows[order]
    del order
    values, days = values[at], days[at]
    n = np.bincount(compact, minlength=m)
    total = np.bincount(compact, weights=values, minlength=m)
    total_sq = np.bincount(compact, weights=values * values, minlength=m)
    hits = np.bincount(compact, weights=values > 0, minlength=m).astype(np.int64)
    starts = episode_mask(days, horizon_days, compact) if len(keys) else np.zeros(0, dtype=bool)
    episodes = np.bincount(compact[starts], minlength=m)
    median, p10, worst = quantiles_by_key(compact, values, m, n, (0.5, 0.1, 0.0),
                                          None if ranks is None else ranks[at])
    se = newey_west_by_key(compact, days, values, horizon_days - 1, m, sums=(n, total)).se if m else np.zeros(0)
    se = np.where(episodes >= 2, se, np.nan)  # one episode is one bet
    compact_stats = {"n": n, "sum": total, "sum_sq": total_sq, "hits": hits, "worst": worst,
                     "episodes": episodes, "median": median, "p10": p10, "se": se}
    stats = {}
    for name, array in compact_stats.items():
        spread = np.full(n_keys, np.nan) if name in NAN_WHEN_EMPTY else np.zeros(n_keys, dtype=array.dtype)
        spread[occupied] = array
        stats[name] = spread
    return stats, occupied[compact[starts]], at[starts]


def cell_outcomes(
    cells_by_pair: Sequence[np.ndarray],
    groups: Sequence[tuple[str, np.ndarray, np.ndarray]],
    days: np.ndarray,
    shape: tuple[int, int],
    horizon_days: int,
    measure: str,
    times: np.ndarray | None = None,
) -> list[CellOutcomes]:
    """``CellOutcomes`` of each pair, all pairs in one pass (a sweep has 28 per underlying,
    and one pass over them costs about what one pair alone would).

    ``cells_by_pair``: per pair, each sample's flat cell (x_bin * y_bins + y_bin), -1 when it
    is in no cell; ``groups``: (name, member mask, outcome values) per group, the values of
    the measure for that group's days (the edge for every group, or each strategy's own
    P&L); ``days``: each sample's position in time (calendar days, or bars on a sub-daily
    grid) and ``horizon_days`` in the same unit; ``times``: each sample's time (microseconds since
    the epoch), kept for the episodes' entries (shared, not copied: the results look their
    times up in it, so it must not change afterwards; a sweep's comes from its index). Disjoint groups (the selector's picks) go into one
    pass; overlapping ones (count mode "passes") one pass per group. A long span goes a few
    pairs at a time (``batches``), which bounds the memory; what the pairs share (the groups'
    values and their sort) is prepared once."""
    n_cells = shape[0] * shape[1]
    n_groups, n_pairs = len(groups), len(cells_by_pair)
    masks = [np.asarray(mask, dtype=bool) & np.isfinite(values) for _, mask, values in groups]
    disjoint = not masks or bool((np.count_nonzero(np.stack(masks), axis=0) <= 1).all())
    passes = [list(range(n_groups))] if disjoint else [[g] for g in range(n_groups)]
    stats = {name: np.zeros((n_pairs, n_groups, n_cells)) for name in (*SUM_FIELDS, *STAT_FIELDS)}
    times = np.arange(len(days), dtype=np.int64) if times is None else np.asarray(times, dtype=np.int64)
    runs = batches([len(days)] * n_pairs)
    row_type = np.int32 if len(days) < 2**31 else np.int64
    # Each pair's episode entries, as (keys, rows) pieces in (group, cell, day) order: one
    # piece per pass, views into its run's arrays (no copy of the hundreds of MB a long span has).
    pieces: list[list[tuple[np.ndarray, np.ndarray]]] = [[] for _ in range(n_pairs)]
    # A key's entries come in day order when the days ascend (they do in every sweep).
    days_in_order = bool(np.all(days[1:] >= days[:-1]))
    for members in passes:
        group_of = np.full(len(days), -1, dtype=np.int16)  # (a few groups; 2 bytes a sample on a long span)
        values = np.zeros(len(days))
        for position, g in enumerate(members):
            group_of[masks[g]] = position
            values[masks[g]] = np.asarray(groups[g][2])[masks[g]]
        member = group_of >= 0
        # The values sorted once for every pair: each pair's per-cell quantiles then need only
        # a linear radix pass instead of a sort of its values.
        ranks = np.empty(len(days), dtype=row_type)
        ranks[np.argsort(values, kind="stable")] = np.arange(len(days))

        summarize = partial(
            _run_outcomes, cells_by_pair=cells_by_pair, member=member, group_of=group_of, values=values,
            ranks=ranks, days=days, n_members=len(members), n_cells=n_cells, horizon_days=horizon_days,
            days_in_order=days_in_order,
        )
        workers = min(worker_threads(MAX_CELL_WORKERS), len(runs))
        member_of = np.asarray(members, dtype=np.int64)
        with ThreadPoolExecutor(max(workers, 1)) as pool:
            # Runs are independent; their results are stored here, in the calling thread, in order.
            results = pool.map(summarize, runs) if workers > 1 else map(summarize, runs)
            for run, (fields, pair_of, keys, rows) in zip(runs, results, strict=True):
                for name, array in fields.items():
                    stats[name][run, members, :] = array
                position, cell = np.divmod(keys, n_cells)
                keys = (member_of[position] * n_cells + cell).astype(np.int32)  # (group, cell) in the pair
                rows = rows.astype(row_type)
                bounds = np.searchsorted(pair_of, np.arange(run.stop - run.start + 1))
                for offset in range(run.stop - run.start):
                    lo, hi = bounds[offset], bounds[offset + 1]
                    pieces[run.start + offset].append((keys[lo:hi], rows[lo:hi]))
    names = tuple(name for name, _, _ in groups)
    integer = ("n", "hits", "episodes")
    return [
        CellOutcomes(
            measure=measure,
            groups=names,
            **{
                name: (array[pair].astype(np.int64) if name in integer else array[pair]).reshape(n_groups, *shape)
                for name, array in stats.items()
            },
            **_joined(pieces[pair], row_type),
            row_times=times,
        )
        for pair in range(n_pairs)
    ]


def _run_outcomes(run: slice, *, cells_by_pair: Sequence[np.ndarray], member: np.ndarray, group_of: np.ndarray,
                  values: np.ndarray, ranks: np.ndarray, days: np.ndarray, n_members: int, n_cells: int,
                  horizon_days: int, days_in_order: bool) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray,
                                                                   np.ndarray]:
    """One run of pairs in one pass (``group_of``: each sample's member group, -1 outside the
    pass): each field as (pairs, members, cells), and the episodes' entries in (pair, member,
    cell, day) order as their pair within the run, their (member, cell) key and their sample
    row. Reads its inputs only, so runs can go side by side."""
    cells = np.stack(cells_by_pair[run])  # (pairs of the run, samples)
    pair_index, sample = np.nonzero(member[None, :] & (cells >= 0))  # pair-major, then sample order
    all_keys = (pair_index * n_members + group_of[sample]) * n_cells + cells[pair_index, sample]
    del cells, pair_index
    run_pairs = run.stop - run.start
    result, start_keys, start_rows = _stats_by_key(all_keys, sample, values, days, run_pairs * n_members * n_cells,
                                                   horizon_days, days_in_order, ranks)
    fields = {name: array.reshape(run_pairs, n_members, n_cells) for name, array in result.items()}
    pair_of, keys = np.divmod(start_keys, n_members * n_cells)
    return fields, pair_of, keys, start_rows


def _joined(pieces: Sequence[tuple[np.ndarray, np.ndarray]], row_type: type) -> dict[str, np.ndarray]:
    """A pair's episode entries from its passes' pieces (one pass: the piece itself)."""
    if len(pieces) == 1:
        keys, rows = pieces[0]
    elif pieces:
        keys, rows = (np.concatenate(part) for part in zip(*pieces, strict=True))
    else:
        keys, rows = np.zeros(0, dtype=np.int32), np.zeros(0, dtype=row_type)
    return {"start_keys": keys, "start_rows": rows}


# The fixed-shape arrays (groups, x, y); the episodes' entries are stored apart (a list per cell).
CELL_FIELDS = (*SUM_FIELDS, *STAT_FIELDS)
