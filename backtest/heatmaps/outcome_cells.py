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

from collections.abc import Sequence
from dataclasses import dataclass, fields
from functools import cached_property

import numpy as np

from backtest.outcomes.stats import Z_95, count_episodes_by_key, newey_west_by_key

NO_TRADE_GROUP = "NO_TRADE"
SUM_FIELDS = ("n", "sum", "sum_sq", "hits", "worst")
STAT_FIELDS = ("episodes", "median", "p10", "se")


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

    @cached_property
    def mean(self) -> np.ndarray:
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(self.n > 0, self.sum / self.n, np.nan)

    @cached_property
    def hit_rate(self) -> np.ndarray:
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(self.n > 0, self.hits / self.n, np.nan)

    @property
    def ci_low(self) -> np.ndarray:
        return self.mean - Z_95 * self.se

    @property
    def ci_high(self) -> np.ndarray:
        return self.mean + Z_95 * self.se

    def thin(self, min_episodes: int) -> np.ndarray:
        """Cells whose evidence is too thin to read: fewer than ``min_episodes`` episodes."""
        return self.episodes < min_episodes

    def group_index(self, group: str) -> int:
        return self.groups.index(group)

    def arrays(self, prefix: str) -> dict[str, np.ndarray]:
        """The arrays for the grids file, under ``{prefix}__{field}``."""
        return {f"{prefix}__{name}": getattr(self, name) for name in (*SUM_FIELDS, *STAT_FIELDS)}

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray], prefix: str, measure: str, groups: Sequence[str],
                    index: int | None = None) -> CellOutcomes:
        """Read back what ``arrays`` wrote (``index``: one pair of a stacked array)."""
        values = {}
        for name in (*SUM_FIELDS, *STAT_FIELDS):
            array = arrays[f"{prefix}__{name}"]
            values[name] = array if index is None else array[index]
        return cls(measure=measure, groups=tuple(groups), **values)


def _quantiles_by_key(keys: np.ndarray, values: np.ndarray, n_keys: int, counts: np.ndarray,
                      quantiles: Sequence[float]) -> list[np.ndarray]:
    """Per key, numpy's default (linear) quantile of its values; NaN for an empty key."""
    order = np.lexsort((values, keys))
    ordered = values[order]
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    out = []
    for q in quantiles:
        position = starts + q * np.maximum(counts - 1, 0)
        below = np.floor(position).astype(np.int64)
        above = np.minimum(below + 1, starts + np.maximum(counts - 1, 0))
        if len(ordered):
            low, high = ordered[np.minimum(below, len(ordered) - 1)], ordered[np.minimum(above, len(ordered) - 1)]
            result = low + (high - low) * (position - below)
        else:
            result = np.zeros(n_keys)
        out.append(np.where(counts > 0, result, np.nan))
    return out


def _stats_by_key(keys: np.ndarray, values: np.ndarray, days: np.ndarray, n_keys: int,
                  horizon_days: int) -> dict[str, np.ndarray]:
    """Every field of ``CellOutcomes`` for keys 0..n_keys-1 (samples with finite values)."""
    n = np.bincount(keys, minlength=n_keys)
    total = np.bincount(keys, weights=values, minlength=n_keys)
    total_sq = np.bincount(keys, weights=values * values, minlength=n_keys)
    hits = np.bincount(keys, weights=values > 0, minlength=n_keys).astype(np.int64)
    worst = np.full(n_keys, np.inf)
    np.minimum.at(worst, keys, values)
    worst[n == 0] = np.nan
    episodes = count_episodes_by_key(keys, days, horizon_days, n_keys) if len(keys) else np.zeros(n_keys, np.int64)
    median, p10 = _quantiles_by_key(keys, values, n_keys, n, (0.5, 0.1))
    if len(keys):
        se = newey_west_by_key(keys, days, values, horizon_days - 1, n_keys).se
    else:
        se = np.full(n_keys, np.nan)
    se = np.where(episodes >= 2, se, np.nan)  # one episode is one bet
    return {"n": n, "sum": total, "sum_sq": total_sq, "hits": hits, "worst": worst,
            "episodes": episodes, "median": median, "p10": p10, "se": se}


def cell_outcomes(
    cells_by_pair: Sequence[np.ndarray],
    groups: Sequence[tuple[str, np.ndarray, np.ndarray]],
    days: np.ndarray,
    shape: tuple[int, int],
    horizon_days: int,
    measure: str,
) -> list[CellOutcomes]:
    """``CellOutcomes`` of each pair, all pairs in one pass (a sweep has 28 per underlying,
    and one pass over them costs about what one pair alone would).

    ``cells_by_pair``: per pair, each sample's flat cell (x_bin * y_bins + y_bin), -1 when it
    is in no cell; ``groups``: (name, member mask, outcome values) per group, the values of
    the measure for that group's days (the edge for every group, or each strategy's own
    P&L); ``days``: each sample's position in time (calendar days, or bars on a sub-daily
    grid) and ``horizon_days`` in the same unit. Disjoint groups (the selector's picks) go
    into one pass; overlapping ones (count mode "passes") one pass per group."""
    n_cells = shape[0] * shape[1]
    n_groups, n_pairs = len(groups), len(cells_by_pair)
    masks = [np.asarray(mask, dtype=bool) & np.isfinite(values) for _, mask, values in groups]
    member_count = np.sum([m.astype(np.int64) for m in masks], axis=0) if masks else np.zeros(0)
    disjoint = not masks or bool((member_count <= 1).all())
    passes = [list(range(n_groups))] if disjoint else [[g] for g in range(n_groups)]
    stats: dict[str, np.ndarray] = {
        name: np.zeros((n_pairs, n_groups, n_cells)) for name in (*SUM_FIELDS, *STAT_FIELDS)
    }
    for members in passes:
        group_of = np.full(len(days), -1, dtype=np.int64)
        values = np.zeros(len(days))
        for position, g in enumerate(members):
            group_of[masks[g]] = position
            values[masks[g]] = np.asarray(groups[g][2])[masks[g]]
        member = group_of >= 0
        keys, picked_values, picked_days = [], [], []
        for pair, cells in enumerate(cells_by_pair):
            inside = member & (cells >= 0)
            keys.append((pair * len(members) + group_of[inside]) * n_cells + cells[inside])
            picked_values.append(values[inside])
            picked_days.append(days[inside])
        n_keys = n_pairs * len(members) * n_cells
        result = _stats_by_key(
            np.concatenate(keys), np.concatenate(picked_values), np.concatenate(picked_days), n_keys, horizon_days
        )
        for name, array in result.items():
            stats[name][:, members, :] = array.reshape(n_pairs, len(members), n_cells)
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
        )
        for pair in range(n_pairs)
    ]


CELL_FIELDS = tuple(f.name for f in fields(CellOutcomes) if f.name not in ("measure", "groups"))
