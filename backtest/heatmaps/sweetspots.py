"""Sweet spots: the typed records a sweep writes to ``greg_heatmap_sweetspots.json`` and every
reader (the Markdown, the app) reads back, with the one ranking rule (docs/heatmaps.md).

A sweet spot is a cell with occupancy >= ``min_env_frac`` and pass rate >= ``min_pass_frac``;
cells are ranked by ``sweetness = occupancy x pass rate`` (ties: more samples first, then
lower x bin, then lower y bin) and the top K kept per (underlying, strategy, pair). With
``rank_by="edge"`` the same filtered cells are ranked by the lower 95% bound of the
strategy's forward edge there instead, cells with thin evidence left out.

When a sweep computed forward outcomes, each sweet spot carries what happened after its
days (docs/outcomes.md): an ``outcome`` block for the forward edge and a ``pnl`` block for the
strategy's own structure, each ``OutcomeBlock``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from backtest.heatmaps.binning import PairGrid, wilson_lower_bound
from backtest.heatmaps.outcome_cells import NO_TRADE_GROUP, CellOutcomes
from greg_core.contract import DEFAULT_MIN_EPISODES
from greg_core.errors import SweepResultsError


def _number(value: Any) -> float | None:
    """A finite float, or None (JSON has no NaN)."""
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None


@dataclass(frozen=True)
class OutcomeBlock:
    """What happened after a sweet spot's days, for one measure (docs/outcomes.md).

    ``mean``/``median``/``hit_rate``/``ci_low``/``ci_high`` over the strategy's days in the
    cell with an outcome (``n``; ``episodes`` of them independent); ``thin`` when episodes are
    fewer than the sweep's minimum. ``oos_mean``/``oos_n``: walk-forward, the mean over the
    later third of the span in the cell chosen on the earlier two thirds (None when the cell
    was not chosen then). ``no_trade_mean``/``diff_vs_no_trade``: the same cell's NO_TRADE
    days (the edge only). Units: vol points (edge) or % of entry spot (P&L)."""

    measure: str
    mean: float | None
    median: float | None
    ci_low: float | None
    ci_high: float | None
    hit_rate: float | None
    n: int
    episodes: int
    oos_mean: float | None
    thin: bool
    worst: float | None = None
    oos_n: int = 0
    no_trade_mean: float | None = None
    no_trade_n: int = 0
    diff_vs_no_trade: float | None = None

    def to_json(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in _BLOCK_FIELDS}

    @classmethod
    def from_json(cls, data: Any, where: str) -> OutcomeBlock | None:
        if data is None:
            return None
        if not isinstance(data, Mapping):
            raise SweepResultsError(f"{where} is not an object")
        try:
            return cls(
                measure=str(data["measure"]),
                **{name: _number(data.get(name)) for name in _BLOCK_NUMBERS},
                **{name: int(data.get(name) or 0) for name in ("n", "episodes", "oos_n", "no_trade_n")},
                thin=bool(data["thin"]),
            )
        except KeyError as missing:
            raise SweepResultsError(f"{where} lacks {missing}") from None
        except (TypeError, ValueError) as exc:
            raise SweepResultsError(f"{where} has a malformed field ({exc})") from None


_BLOCK_FIELDS = ("measure", "mean", "median", "ci_low", "ci_high", "hit_rate", "n", "episodes", "oos_mean",
                 "thin", "worst", "oos_n", "no_trade_mean", "no_trade_n", "diff_vs_no_trade")
_BLOCK_NUMBERS = ("mean", "median", "ci_low", "ci_high", "hit_rate", "oos_mean", "worst", "no_trade_mean",
                  "diff_vs_no_trade")


@dataclass(frozen=True)
class SweetSpot:
    """One cell of a pair's grid that a strategy likes; ``x_bin``/``y_bin`` locate it."""

    x_low: float
    x_high: float
    y_low: float
    y_high: float
    occupancy_frac: float
    strategy_pass_frac: float
    sweetness: float
    count: int
    selected_count: int
    wilson_low: float
    avg_score: float
    x_bin: int
    y_bin: int
    outcome: OutcomeBlock | None = None  # the forward edge on the strategy's days here
    pnl: OutcomeBlock | None = None  # the strategy's own structure, held to expiry

    def to_json(self) -> dict[str, Any]:
        """The requested fields first (``x_low`` .. ``sweetness``), then the extras."""
        outcomes = {} if self.outcome is None else {
            "outcome": self.outcome.to_json(),
            "pnl": None if self.pnl is None else self.pnl.to_json(),
        }
        return {
            "x_low": self.x_low,
            "x_high": self.x_high,
            "y_low": self.y_low,
            "y_high": self.y_high,
            "occupancy_frac": self.occupancy_frac,
            "strategy_pass_frac": self.strategy_pass_frac,
            "sweetness": self.sweetness,
            "count": self.count,
            "selected_count": self.selected_count,
            "wilson_low": self.wilson_low,
            "avg_score": self.avg_score,
            "x_bin": self.x_bin,
            "y_bin": self.y_bin,
            **outcomes,
        }

    @classmethod
    def from_json(cls, data: Any, where: str = "sweet spot") -> SweetSpot:
        if not isinstance(data, Mapping):
            raise SweepResultsError(f"{where} is not an object")
        try:
            return cls(
                **{name: float(data[name]) for name in _FLOAT_FIELDS},
                **{name: int(data[name]) for name in _INT_FIELDS},
                outcome=OutcomeBlock.from_json(data.get("outcome"), f"{where}, outcome"),
                pnl=OutcomeBlock.from_json(data.get("pnl"), f"{where}, pnl"),
            )
        except KeyError as missing:
            raise SweepResultsError(f"{where} lacks {missing}") from None
        except (TypeError, ValueError) as exc:
            raise SweepResultsError(f"{where} has a non-numeric field ({exc})") from None


_FLOAT_FIELDS = ("x_low", "x_high", "y_low", "y_high", "occupancy_frac", "strategy_pass_frac",
                 "sweetness", "wilson_low", "avg_score")
_INT_FIELDS = ("count", "selected_count", "x_bin", "y_bin")


@dataclass(frozen=True)
class SweetSpotRecord:
    """The sweet spots of one (underlying, strategy, pair); ``samples`` is the pair's own
    sample count (samples with both sensors), the base of every occupancy in it."""

    underlying: str
    strategy: str  # the display label
    strategy_key: str
    x_metric: str
    y_metric: str
    samples: int
    sweet_spots: tuple[SweetSpot, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "underlying": self.underlying,
            "strategy": self.strategy,
            "strategy_key": self.strategy_key,
            "x_metric": self.x_metric,
            "y_metric": self.y_metric,
            "samples": self.samples,
            "sweet_spots": [spot.to_json() for spot in self.sweet_spots],
        }

    @classmethod
    def from_json(cls, data: Any, where: str = "record") -> SweetSpotRecord:
        if not isinstance(data, Mapping):
            raise SweepResultsError(f"{where} is not an object")
        try:
            spots = data["sweet_spots"]
            if not isinstance(spots, list):
                raise SweepResultsError(f"{where}: 'sweet_spots' is not a list")
            return cls(
                underlying=str(data["underlying"]),
                strategy=str(data["strategy"]),
                strategy_key=str(data["strategy_key"]),
                x_metric=str(data["x_metric"]),
                y_metric=str(data["y_metric"]),
                samples=int(data["samples"]),
                sweet_spots=tuple(
                    SweetSpot.from_json(spot, f"{where}, sweet spot {n}") for n, spot in enumerate(spots, 1)
                ),
            )
        except KeyError as missing:
            raise SweepResultsError(f"{where} lacks {missing}") from None
        except (TypeError, ValueError) as exc:
            raise SweepResultsError(f"{where} has a malformed field ({exc})") from None


def sweet_spots(
    grid: PairGrid,
    min_env_frac: float,
    min_pass_frac: float,
    top_k: int,
    *,
    strategy_keys: Sequence[str] | None = None,
    edge: CellOutcomes | None = None,
    pnl: CellOutcomes | None = None,
    min_episodes: int = DEFAULT_MIN_EPISODES,
    rank_by: str = "sweetness",
) -> list[tuple[SweetSpot, ...]]:
    """Per strategy column of ``grid``: the top-K cells with occupancy >= min_env_frac and
    pass rate >= min_pass_frac, by sweetness (or, ``rank_by="edge"``, by the lower 95% bound
    of the strategy's forward edge in the cell, thin cells left out). ``edge``/``pnl``: the
    pair's outcomes per cell, which give each spot its outcome blocks; ``strategy_keys``
    names the columns' groups in them. Every strategy is ranked in one pass."""
    n_strategies = grid.selected.shape[0]
    with_outcomes = edge is not None and strategy_keys is not None
    rows = [edge.group_index(key) for key in strategy_keys] if with_outcomes else []
    bound = None
    if rank_by == "edge":
        if not with_outcomes:
            raise ValueError("ranking by edge needs the forward outcomes of the pair")
        bound = np.where(edge.thin(min_episodes)[rows], np.nan, edge.ci_low[rows])
    column, ix, iy = ranked_cells(grid, min_env_frac, min_pass_frac, top_k, bound)
    occupancy, pass_rate, sweetness = grid.occupancy, grid.pass_rate, grid.sweetness

    # Everything a spot shows, gathered once for all of them.
    values = {
        "x_low": grid.x_edges[ix], "x_high": grid.x_edges[ix + 1],
        "y_low": grid.y_edges[iy], "y_high": grid.y_edges[iy + 1],
        "occupancy_frac": occupancy[ix, iy], "strategy_pass_frac": pass_rate[column, ix, iy],
        "sweetness": sweetness[column, ix, iy], "count": grid.counts[ix, iy],
        "selected_count": grid.selected[column, ix, iy],
        # Only the kept cells' Wilson bounds: the whole (strategies, x, y) array is not needed.
        "wilson_low": wilson_lower_bound(grid.selected[column, ix, iy], grid.counts[ix, iy]),
        "avg_score": grid.avg_score[column, ix, iy], "x_bin": ix, "y_bin": iy,
    }
    listed = {name: array.tolist() for name, array in values.items()}
    edge_blocks = _blocks(edge, [rows[c] for c in column.tolist()], ix, iy, min_episodes) if with_outcomes else None
    pnl_blocks = (
        _blocks(pnl, [pnl.group_index(strategy_keys[c]) for c in column.tolist()], ix, iy, min_episodes)
        if pnl is not None and strategy_keys is not None else None
    )
    result: list[list[SweetSpot]] = [[] for _ in range(n_strategies)]
    for i, c in enumerate(column.tolist()):
        result[c].append(
            SweetSpot(
                **{name: listed[name][i] for name in listed},
                outcome=None if edge_blocks is None else edge_blocks[i],
                pnl=None if pnl_blocks is None else pnl_blocks[i],
            )
        )
    return [tuple(spots) for spots in result]


def ranked_cells(
    grid: PairGrid, min_env_frac: float, min_pass_frac: float, top_k: int, bound: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The ranking rule: (strategy column, x bin, y bin) of each strategy's top-K cells with
    occupancy >= min_env_frac and pass rate >= min_pass_frac, by strategy, then best first:
    by sweetness, or, with ``bound`` ((strategies, x, y)), by it, cells where it is not
    finite left out; ties by more samples, lower x bin, lower y bin."""
    _, column, ix, iy = _ranked(grid.occupancy[None], grid.counts[None], grid.pass_rate[None], grid.sweetness[None],
                                min_env_frac, min_pass_frac, top_k, None if bound is None else bound[None])
    return column, ix, iy


def ranked_cells_of_pairs(
    grids: Sequence[PairGrid], min_env_frac: float, min_pass_frac: float, top_k: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``ranked_cells`` (by sweetness) of many grids of one shape at once: (pair, strategy
    column, x bin, y bin), by pair, then as ``ranked_cells`` orders one grid."""
    if not grids:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty, empty
    stacked = {name: np.stack([getattr(grid, name) for grid in grids])
               for name in ("occupancy", "counts", "pass_rate", "sweetness")}
    return _ranked(stacked["occupancy"], stacked["counts"], stacked["pass_rate"], stacked["sweetness"],
                   min_env_frac, min_pass_frac, top_k)


def _ranked(occupancy: np.ndarray, counts: np.ndarray, pass_rate: np.ndarray, sweetness: np.ndarray,
            min_env_frac: float, min_pass_frac: float, top_k: int, bound: np.ndarray | None = None,
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The rule over arrays with a leading pair axis: occupancy and counts (pairs, x, y),
    pass rate, sweetness and bound (pairs, strategies, x, y)."""
    keep = ((occupancy >= min_env_frac) & (counts > 0))[:, None] & (pass_rate >= min_pass_frac)
    if bound is not None:
        keep &= np.isfinite(bound)
    pair, column, ix, iy = np.nonzero(keep)
    first_key = -(sweetness if bound is None else bound)[pair, column, ix, iy]
    order = np.lexsort((iy, ix, -counts[pair, ix, iy], first_key, column, pair))
    pair, column, ix, iy = pair[order], column[order], ix[order], iy[order]
    group = pair * pass_rate.shape[1] + column
    rank = np.arange(len(group)) - np.searchsorted(group, group)  # position within its (pair, strategy)
    top = rank < top_k
    return pair[top], column[top], ix[top], iy[top]


def _blocks(cells: CellOutcomes, groups: list[int], ix: np.ndarray, iy: np.ndarray, min_episodes: int) -> list[OutcomeBlock]:
    """One ``OutcomeBlock`` per (group, x, y), the figures gathered from ``cells`` at once
    (``CellOutcomes.figures_at``: at the spots only)."""
    g = np.asarray(groups, dtype=np.int64)
    at = {name: values.tolist() for name, values in cells.figures_at(g, ix, iy).items()}
    mean, median, ci_low, ci_high = at["mean"], at["median"], at["ci_low"], at["ci_high"]
    hit_rate, worst, n, episodes = at["hit_rate"], at["worst"], at["n"], at["episodes"]
    if NO_TRADE_GROUP in cells.groups:
        no_trade = cells.figures_at(np.full_like(g, cells.group_index(NO_TRADE_GROUP)), ix, iy)
        no_trade_mean, no_trade_n = no_trade["mean"].tolist(), no_trade["n"].tolist()
    else:
        no_trade_mean, no_trade_n = [None] * len(g), [0] * len(g)
    blocks = []
    for i in range(len(g)):
        own, other = _number(mean[i]), _number(no_trade_mean[i])
        blocks.append(
            OutcomeBlock(
                measure=cells.measure, mean=own, median=_number(median[i]), ci_low=_number(ci_low[i]),
                ci_high=_number(ci_high[i]), hit_rate=_number(hit_rate[i]), n=int(n[i]),
                episodes=int(episodes[i]), oos_mean=None, thin=bool(episodes[i] < min_episodes),
                worst=_number(worst[i]), no_trade_mean=other, no_trade_n=int(no_trade_n[i]),
                diff_vs_no_trade=None if own is None or other is None else own - other,
            )
        )
    return blocks
