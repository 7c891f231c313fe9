"""Where the series plot puts things for one size: the value range and its ticks, the plot's
rows and columns, each day's character column (docs/app.md "6 Series")."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from greg_core.formatting import fmt_num
from greg_tui.widgets.timeseries.axes import date_ticks, nice_step, time_slots

MIN_PLOT_ROWS = 3
RANGE_MARGIN = 0.05


@dataclass(frozen=True, eq=False)
class SeriesView:
    """What to draw. ``times``: float seconds since 1970 (``epoch_seconds``), sorted; ``values``: float, NaN where
    the series has no value. ``marks``: per day -1 (none) or a category (0: a trade day;
    regimes: the regime id), ``mark_name`` its strip's label; ``regimes`` draws categories as
    digits instead of a share of days. ``highlight``: per day, True for the grid cell's days.
    ``band``: a value range marked beside the value axis (the cell's range of this sensor)."""

    title: str
    unit: str
    times: np.ndarray
    values: np.ndarray
    marks: np.ndarray | None = None
    mark_name: str = ""
    regimes: bool = False
    highlight: np.ndarray | None = None
    highlight_name: str = "cell"
    band: tuple[float, float] | None = None

    def __post_init__(self) -> None:
        if len(self.times) != len(self.values):
            raise ValueError("times and values differ in length")
        if len(self.times) > 1 and np.any(np.diff(self.times) < 0):
            raise ValueError("times must be sorted")

    @property
    def n(self) -> int:
        return len(self.times)

    def finite_range(self) -> tuple[float, float] | None:
        finite = self.values[np.isfinite(self.values)]
        return (float(finite.min()), float(finite.max())) if len(finite) else None


def value_range(view: SeriesView) -> tuple[float, float]:
    """The drawn range: the finite values' min..max with a 5% margin (a constant: +-1, or
    +-5% of it); 0..1 when there is no value."""
    found = view.finite_range()
    if found is None:
        return 0.0, 1.0
    low, high = found
    if view.band is not None:  # keep the marked band in sight
        low, high = min(low, view.band[0]), max(high, view.band[1])
    if high == low:
        pad = abs(low) * RANGE_MARGIN or 1.0
        return low - pad, high + pad
    pad = (high - low) * RANGE_MARGIN
    return low - pad, high + pad


@dataclass(frozen=True, eq=False)
class PlotLayout:
    """Where everything goes for one size: gutter width, plot size in characters, the value
    range and ticks, the time span, and each day's character column."""

    width: int
    height: int
    label_w: int
    plot_w: int
    plot_h: int
    low: float
    high: float
    ticks: tuple[float, ...]
    t0: float
    t1: float
    column: np.ndarray  # character column of each day (int64, non-decreasing)
    strips: tuple[str, ...]  # the strip rows under the plot: "marks", "highlight"
    dates: tuple[tuple[int, str], ...]  # (character column, label) of the date ticks

    @property
    def dot_rows(self) -> int:
        return 4 * self.plot_h

    def dot_row(self, value: np.ndarray | float) -> np.ndarray:
        """Dot row (0 at the top) of each value."""
        scale = (self.dot_rows - 1) / (self.high - self.low)
        return np.rint((self.high - np.asarray(value, dtype=float)) * scale)

    def days_in_column(self, column: int) -> tuple[int, int]:
        """[start, stop) of the days drawn in a character column."""
        return (int(np.searchsorted(self.column, column, side="left")),
                int(np.searchsorted(self.column, column, side="right")))


def layout_for(view: SeriesView, width: int, height: int) -> PlotLayout:
    strips = tuple(name for name, present in (("marks", view.marks is not None),
                                              ("highlight", view.highlight is not None)) if present)
    plot_h = max(MIN_PLOT_ROWS, height - 2 - len(strips))  # 2: the date axis and its labels
    low, high = value_range(view)
    step = nice_step(high - low, max(2, plot_h // 3))
    first = math.ceil(low / step) * step
    ticks = tuple(float(v) for v in np.arange(first, high + step * 1e-9, step))
    ticks = tuple(0.0 if abs(v) < step * 1e-9 else round(v, 10) for v in ticks)
    labels = [fmt_num(v) for v in ticks] + [view.mark_name[:6], view.highlight_name[:6]]
    label_w = max(4, *(len(label) for label in labels))
    plot_w = max(4, width - label_w - 1)
    t0 = float(view.times[0]) if view.n else 0.0
    t1 = float(view.times[-1]) if view.n else 1.0
    column = time_slots(view.times, t0, t1, 2 * plot_w) // 2
    return PlotLayout(width, height, label_w, plot_w, plot_h, low, high, ticks, t0, t1, column, strips,
                      date_ticks(t0, t1, plot_w))

