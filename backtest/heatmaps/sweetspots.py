"""Sweet spots: the typed records a sweep writes to ``greg_heatmap_sweetspots.json`` and every
reader (the Markdown, the app) reads back, with the one ranking rule (docs/heatmaps.md).

A sweet spot is a cell with occupancy >= ``min_env_frac`` and pass rate >= ``min_pass_frac``;
cells are ranked by ``sweetness = occupancy x pass rate`` (ties: more samples first, then
lower x bin, then lower y bin) and the top K kept per (underlying, strategy, pair).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from backtest.heatmaps.binning import PairGrid
from greg_core.errors import SweepResultsError


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

    def to_json(self) -> dict[str, Any]:
        """The requested fields first (``x_low`` .. ``sweetness``), then the extras."""
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
        }

    @classmethod
    def from_json(cls, data: Any, where: str = "sweet spot") -> SweetSpot:
        if not isinstance(data, Mapping):
            raise SweepResultsError(f"{where} is not an object")
        try:
            return cls(
                **{name: float(data[name]) for name in _FLOAT_FIELDS},
                **{name: int(data[name]) for name in _INT_FIELDS},
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
    grid: PairGrid, strategy_column: int, min_env_frac: float, min_pass_frac: float, top_k: int
) -> tuple[SweetSpot, ...]:
    """Top-K cells by sweetness with occupancy >= min_env_frac and pass rate >= min_pass_frac."""
    occupancy = grid.occupancy
    pass_rate = grid.pass_rate[strategy_column]
    sweetness = grid.sweetness[strategy_column]
    keep = (occupancy >= min_env_frac) & (pass_rate >= min_pass_frac) & (grid.counts > 0)
    ix, iy = np.nonzero(keep)
    if len(ix) == 0:
        return ()
    order = np.lexsort((iy, ix, -grid.counts[ix, iy], -sweetness[ix, iy]))[:top_k]
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
            )
        )
    return tuple(spots)
