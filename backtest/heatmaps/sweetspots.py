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
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from backtest.heatmaps.binning import PairGrid
from backtest.heatmaps.outcome_cells import NO_TRADE_GROUP, CellOutcomes
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

    @classmethod
    def from_cells(cls, cells: CellOutcomes, group: str, x: int, y: int, min_episodes: int) -> OutcomeBlock:
        g = cells.group_index(group)
        block = {
            "measure": cells.measure,
            "mean": _number(cells.mean[g, x, y]),
            "median": _number(cells.median[g, x, y]),
            "ci_low": _number(cells.ci_low[g, x, y]),
            "ci_high": _number(cells.ci_high[g, x, y]),
            "hit_rate": _number(cells.hit_rate[g, x, y]),
            "n": int(cells.n[g, x, y]),
            "episodes": int(cells.episodes[g, x, y]),
            "oos_mean": None,
            "thin": bool(cells.episodes[g, x, y] < min_episodes),
            "worst": _number(cells.worst[g, x, y]),
        }
        if NO_TRADE_GROUP in cells.groups:
            r = cells.group_index(NO_TRADE_GROUP)
            block["no_trade_mean"] = _number(cells.mean[r, x, y])
            block["no_trade_n"] = int(cells.n[r, x, y])
            if block["mean"] is not None and block["no_trade_mean"] is not None:
                block["diff_vs_no_trade"] = block["mean"] - block["no_trade_mean"]
        return cls(**block)


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


def sweet_spots_for(
    grid: PairGrid,
    strategy_column: int,
    min_env_frac: float,
    min_pass_frac: float,
    top_k: int,
    *,
    strategy_key: str | None = None,
    edge: CellOutcomes | None = None,
    pnl: CellOutcomes | None = None,
    min_episodes: int = 8,
    rank_by: str = "sweetness",
) -> tuple[SweetSpot, ...]:
    """Top-K cells with occupancy >= min_env_frac and pass rate >= min_pass_frac, by
    sweetness (or, ``rank_by="edge"``, by the lower 95% bound of the strategy's forward edge
    in the cell, thin cells left out). ``edge``/``pnl``: the pair's outcomes per cell, which
    give each spot its outcome blocks (the group is ``strategy_key``)."""
    occupancy = grid.occupancy
    pass_rate = grid.pass_rate[strategy_column]
    sweetness = grid.sweetness[strategy_column]
    keep = (occupancy >= min_env_frac) & (pass_rate >= min_pass_frac) & (grid.counts > 0)
    if rank_by == "edge":
        if edge is None or strategy_key is None:
            raise ValueError("ranking by edge needs the forward outcomes of the pair")
        g = edge.group_index(strategy_key)
        bound = edge.ci_low[g]
        keep &= ~edge.thin(min_episodes)[g] & np.isfinite(bound)
    ix, iy = np.nonzero(keep)
    if len(ix) == 0:
        return ()
    first_key = -sweetness[ix, iy] if rank_by == "sweetness" else -bound[ix, iy]
    order = np.lexsort((iy, ix, -grid.counts[ix, iy], first_key))[:top_k]
    wilson = grid.wilson_low[strategy_column]
    avg_score = grid.avg_score[strategy_column]
    spots = []
    for i in order:
        x, y = int(ix[i]), int(iy[i])
        spots.append(
            SweetSpot(
                x_low=float(grid.x_edges[x]),
                x_high=float(grid.x_edges[x + 1]),
                y_low=float(grid.y_edges[y]),
                y_high=float(grid.y_edges[y + 1]),
                occupancy_frac=float(occupancy[x, y]),
                strategy_pass_frac=float(pass_rate[x, y]),
                sweetness=float(sweetness[x, y]),
                count=int(grid.counts[x, y]),
                selected_count=int(grid.selected[strategy_column, x, y]),
                wilson_low=float(wilson[x, y]),
                avg_score=float(avg_score[x, y]),
                x_bin=x,
                y_bin=y,
                outcome=None if edge is None or strategy_key is None
                else OutcomeBlock.from_cells(edge, strategy_key, x, y, min_episodes),
                pnl=None if pnl is None or strategy_key is None
                else OutcomeBlock.from_cells(pnl, strategy_key, x, y, min_episodes),
            )
        )
    return tuple(spots)
