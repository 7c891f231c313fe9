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
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from backtest.outcomes.stats import (
    Z_95,
    batches,
    episode_mask,
    newey_west_by_key,
    quantiles_by_key,
    stable_key_order,
)
from greg_core.errors import SweepResultsError

NO_TRADE_GROUP = "NO_TRADE"
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
    # covers), sorted by key then time; what the app lists for a cell.
    start_keys: np.ndarray | None = None
    start_times: np.ndarray | None = None

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
        if self.start_keys is None or self.start_times is None:
            return np.zeros(0, dtype="datetime64[us]")
        cells = self.n.shape[1] * self.n.shape[2]
        key = self.group_index(group) * cells + x * self.n.shape[2] + y
        lo, hi = np.searchsorted(self.start_keys, [key, key + 1])
        return self.start_times[lo:hi].astype("datetime64[us]")

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
        return cls(measure=measure, groups=tuple(groups), **values, start_keys=keys, start_times=times)


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
    empty = np.zeros(0, dtype=np.int64)
    lengths = [0 if c.start_keys is None else len(c.start_keys) for c in per_pair]
    yield f"{prefix}__start_bounds", np.concatenate(([0], np.cumsum(lengths))).astype(np.int64)
    no_keys = np.zeros(0, dtype=np.int32)
    yield f"{prefix}__start_key", np.concatenate(
        [c.start_keys if c.start_keys is not None else no_keys for c in per_pair]).astype(np.int32, copy=False)
    yield f"{prefix}__start_us", np.concatenate(
        [c.start_times if c.start_times is not None else empty for c in per_pair])


def _stats_by_key(keys: np.ndarray, values: np.ndarray, days: np.ndarray, n_keys: int,
                  horizon_days: int, days_in_order: bool = False) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Every field of ``CellOutcomes`` for keys 0..n_keys-1 (samples with finite values), and
    which samples are the episodes' entries.

    A sweep has ~90,000 keys of which a few thousand hold a sample: the statistics are taken
    over the occupied keys only and then spread over all of them (empty keys: zero counts,
    NaN statistics). ``days_in_order``: each key's samples come in day order, so a stable sort
    by key alone gives the (key, day) order."""
    occupied = np.flatnonzero(np.bincount(keys, minlength=n_keys))
    dense = np.zeros(n_keys, dtype=np.int64)
    dense[occupied] = np.arange(len(occupied))
    compact, m = dense[keys], len(occupied)
    # Sorted by (key, day) once: the episodes and Newey-West passes then find sorted input.
    order = stable_key_order(compact) if days_in_order else np.lexsort((days, compact))
    compact, values, days = compact[order], values[order], days[order]
    n = np.bincount(compact, minlength=m)
    total = np.bincount(compact, weights=values, minlength=m)
    total_sq = np.bincount(compact, weights=values * values, minlength=m)
    hits = np.bincount(compact, weights=values > 0, minlength=m).astype(np.int64)
    worst = np.full(m, np.inf)
    np.minimum.at(worst, compact, values)
    starts = episode_mask(days, horizon_days, compact) if len(keys) else np.zeros(0, dtype=bool)
    episodes = np.bincount(compact[starts], minlength=m)
    median, p10 = quantiles_by_key(compact, values, m, n, (0.5, 0.1))
    se = newey_west_by_key(compact, days, values, horizon_days - 1, m).se if m else np.zeros(0)
    se = np.where(episodes >= 2, se, np.nan)  # one episode is one bet
    compact_stats = {"n": n, "sum": total, "sum_sq": total_sq, "hits": hits, "worst": worst,
                     "episodes": episodes, "median": median, "p10": p10, "se": se}
    stats = {}
    for name, array in compact_stats.items():
        spread = np.full(n_keys, np.nan) if name in NAN_WHEN_EMPTY else np.zeros(n_keys, dtype=array.dtype)
        spread[occupied] = array
        stats[name] = spread
    starts_in_input_order = np.empty_like(starts)
    starts_in_input_order[order] = starts
    return stats, starts_in_input_order


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
    the epoch), kept for the episodes' entries. Disjoint groups (the selector's picks) go into one
    pass; overlapping ones (count mode "passes") one pass per group. A long span goes a few
    pairs at a time (``batches``), which bounds the memory."""
    runs = batches([len(days)] * len(cells_by_pair))
    if len(runs) > 1:
        return [cells for run in runs
                for cells in cell_outcomes(cells_by_pair[run], groups, days, shape, horizon_days, measure, times)]
    n_cells = shape[0] * shape[1]
    n_groups, n_pairs = len(groups), len(cells_by_pair)
    masks = [np.asarray(mask, dtype=bool) & np.isfinite(values) for _, mask, values in groups]
    disjoint = not masks or bool((np.count_nonzero(np.stack(masks), axis=0) <= 1).all())
    passes = [list(range(n_groups))] if disjoint else [[g] for g in range(n_groups)]
    stats: dict[str, np.ndarray] = {} if disjoint else {
        name: np.zeros((n_pairs, n_groups, n_cells)) for name in (*SUM_FIELDS, *STAT_FIELDS)
    }
    times = np.arange(len(days), dtype=np.int64) if times is None else np.asarray(times, dtype=np.int64)
    start_pair, start_key, start_time = [], [], []
    cells = np.stack(cells_by_pair)  # (pairs, samples), once for every pass
    # Entries go pair by pair in sample order: with days ascending, a key's entries (its pair's)
    # come in day order.
    days_in_order = bool(np.all(days[1:] >= days[:-1]))
    for members in passes:
        group_of = np.full(len(days), -1, dtype=np.int64)
        values = np.zeros(len(days))
        for position, g in enumerate(members):
            group_of[masks[g]] = position
            values[masks[g]] = np.asarray(groups[g][2])[masks[g]]
        member = group_of >= 0
        inside = member[None, :] & (cells >= 0)
        pair_index, sample = np.nonzero(inside)  # pair-major, then sample order
        all_keys = (pair_index * len(members) + group_of[sample]) * n_cells + cells[pair_index, sample]
        n_keys = n_pairs * len(members) * n_cells
        result, starts = _stats_by_key(all_keys, values[sample], days[sample], n_keys, horizon_days, days_in_order)
        for name, array in result.items():
            if len(members) == n_groups:  # one pass over every group: already in place
                stats[name] = array.reshape(n_pairs, n_groups, n_cells)
            else:
                stats[name][:, members, :] = array.reshape(n_pairs, len(members), n_cells)
        # The entries of the episodes, keyed within their pair by (group, cell).
        started = all_keys[starts]
        pair_of, rest = np.divmod(started, len(members) * n_cells)
        position, cell = np.divmod(rest, n_cells)
        start_pair.append(pair_of)
        start_key.append((np.asarray(members, dtype=np.int64)[position] * n_cells + cell).astype(np.int32))
        start_time.append(times[sample][starts])
    names = tuple(name for name, _, _ in groups)
    integer = ("n", "hits", "episodes")
    pairs_of, keys_of, times_of = (np.concatenate(part) if part else np.zeros(0, dtype)
                                   for part, dtype in ((start_pair, np.int64), (start_key, np.int32),
                                                       (start_time, np.int64)))
    order = np.lexsort((times_of, keys_of, pairs_of))
    pairs_of, keys_of, times_of = pairs_of[order], keys_of[order], times_of[order]
    del order
    bounds = np.searchsorted(pairs_of, np.arange(n_pairs + 1))
    return [
        CellOutcomes(
            measure=measure,
            groups=names,
            **{
                name: (array[pair].astype(np.int64) if name in integer else array[pair]).reshape(n_groups, *shape)
                for name, array in stats.items()
            },
            start_keys=keys_of[bounds[pair]:bounds[pair + 1]],
            start_times=times_of[bounds[pair]:bounds[pair + 1]],
        )
        for pair in range(n_pairs)
    ]


# The fixed-shape arrays (groups, x, y); the episodes' entries are stored apart (a list per cell).
CELL_FIELDS = (*SUM_FIELDS, *STAT_FIELDS)
