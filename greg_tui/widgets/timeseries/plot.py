"""A time series over the whole span in the terminal: a braille line with a value axis and a
date axis, a strip of marks under it (a strategy's trade days, or the regime) and a strip of
highlighted days (the grid cell's), with a day cursor.

Drawing (``render_plot``) is a pure function of a ``SeriesView``, a ``PlotLayout``, the
cursor and a palette, tested without a terminal. Each character holds 2 x 4 braille dots; each
dot column covers an equal slice of the *time* span (a missing stretch of days stays a gap),
and draws the min..max of the values in its slice, so 100,000 days cost one pass of
``numpy.minimum.reduceat`` and no spike is lost. Consecutive dot columns are joined halfway;
dot columns with no sample between two samples at most ``GAP_STEPS`` bar steps apart are
filled by linear interpolation (a daily series drawn wider than its days), wider gaps stay
empty. Days are placed by time, so the date axis is exact.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.message import Message
from textual.reactive import reactive
from textual.widget import Widget

from greg_core.formatting import fmt_num

BRAILLE_BASE = 0x2800
# The bit of each dot of a braille character: [row 0..3][column 0..1].
DOT_BITS = np.array([[0x01, 0x08], [0x02, 0x10], [0x04, 0x20], [0x40, 0x80]], dtype=np.int64)
EIGHTHS = " ▁▂▃▄▅▆▇█"  # a strip's share of marked days in a character's slice of time
GAP_STEPS = 4  # samples further apart than this many typical steps leave a gap (3 missing bars bridged)
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


@dataclass(frozen=True)
class Palette:
    line: str
    axis: str
    zero: str
    mark: str
    cell: str  # the highlight strip and band
    cell_bg: str  # background of the plot columns holding highlighted days
    cursor_bg: str
    regimes: tuple[str, ...]  # digit colours, readable (4.5:1) on the screen's background


DARK_PALETTE = Palette("#5fafff", "#9a9a9a", "#5c5c5c", "#e5c07b", "#ff5fd7", "#3a2340", "#44475a",
                       ("#5fd7ff", "#ffd75f", "#87d787", "#ff8787", "#d7afff", "#ffaf5f", "#d0d0d0", "#87afd7"))
LIGHT_PALETTE = Palette("#0a5aa0", "#555555", "#9a9a9a", "#7a4500", "#b5006e", "#f0c8e4", "#b8c8dc",
                        ("#004578", "#7a4500", "#17602d", "#9b2743", "#5a2d82", "#6b3e00", "#303030", "#0b5563"))


UNITS_PER_SECOND = {"s": 1.0, "ms": 1e3, "us": 1e6, "ns": 1e9}


def epoch_seconds(index: pd.DatetimeIndex) -> np.ndarray:
    """A datetime index as float seconds since 1970 (UTC), the unit of ``SeriesView.times``
    (any resolution: a 1,000,000-day synthetic span is beyond nanoseconds' range)."""
    return index.asi8 / UNITS_PER_SECOND[index.unit]


def nice_step(span: float, count: int) -> float:
    """A 1, 2, 2.5 or 5 x 10^k step giving about ``count`` intervals over ``span``."""
    raw = span / max(count, 1)
    if not math.isfinite(raw) or raw <= 0:
        return 1.0
    magnitude = 10 ** math.floor(math.log10(raw))
    for multiple in (1, 2, 2.5, 5, 10):
        if multiple * magnitude >= raw:
            return multiple * magnitude
    return 10 * magnitude


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


def time_slots(times: np.ndarray, t0: float, t1: float, slots: int) -> np.ndarray:
    """The slot 0..slots-1 of each time when [t0, t1] is cut into ``slots`` equal slices."""
    if t1 <= t0:
        return np.zeros(len(times), dtype=np.int64)
    position = (np.asarray(times, dtype=np.float64) - t0) / (t1 - t0) * slots
    return np.clip(position.astype(np.int64), 0, slots - 1)


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


def dot_envelope(view: SeriesView, layout: PlotLayout) -> tuple[np.ndarray, np.ndarray]:
    """Per dot column, the top and bottom dot rows it draws (NaN: nothing), joined halfway to
    its neighbour."""
    slots = 2 * layout.plot_w
    finite = np.isfinite(view.values)
    times = view.times[finite]
    values = view.values[finite]
    low = np.full(slots, np.nan)
    high = np.full(slots, np.nan)
    if len(values):
        slot = time_slots(times, layout.t0, layout.t1, slots)
        starts = np.flatnonzero(np.r_[True, slot[1:] != slot[:-1]])
        low[slot[starts]] = np.minimum.reduceat(values, starts)
        high[slot[starts]] = np.maximum.reduceat(values, starts)
    empty = np.isnan(low)
    if empty.any() and len(values) >= 2:
        steps = np.diff(view.times)
        typical = float(np.median(steps[steps > 0])) if (steps > 0).any() else 0.0
        centres = layout.t0 + (np.arange(slots) + 0.5) / slots * (layout.t1 - layout.t0)
        after = np.searchsorted(times, centres)
        inside = (after > 0) & (after < len(times))
        gap = np.zeros(slots)
        gap[inside] = times[after[inside]] - times[after[inside] - 1]
        fill = empty & inside & (gap <= GAP_STEPS * typical)
        low[fill] = high[fill] = np.interp(centres[fill], times, values)
    top = layout.dot_row(high)
    bottom = layout.dot_row(low)
    # Join each pair of neighbouring columns halfway between their nearest ends.
    prev_top, prev_bottom, cur_top, cur_bottom = top[:-1], bottom[:-1], top[1:], bottom[1:]
    with np.errstate(invalid="ignore"):
        falling = prev_bottom < cur_top - 1  # the previous column ends above this one
        rising = prev_top > cur_bottom + 1
    mid_fall = np.floor((prev_bottom + cur_top) / 2)
    mid_rise = np.floor((prev_top + cur_bottom) / 2)
    new_top, new_bottom = top.copy(), bottom.copy()
    new_bottom[:-1] = np.where(falling, np.maximum(prev_bottom, mid_fall), new_bottom[:-1])
    new_top[1:] = np.where(falling, np.minimum(cur_top, mid_fall + 1), new_top[1:])
    new_top[:-1] = np.where(rising, np.minimum(new_top[:-1], mid_rise + 1), new_top[:-1])
    new_bottom[1:] = np.where(rising, np.maximum(new_bottom[1:], mid_rise), new_bottom[1:])
    return new_top, new_bottom


def braille_cells(top: np.ndarray, bottom: np.ndarray, plot_h: int) -> np.ndarray:
    """(plot_h, plot_w) braille bit codes of the dot columns' [top, bottom] runs."""
    rows = np.arange(4 * plot_h)[:, None]
    valid = np.isfinite(top) & np.isfinite(bottom)
    lit = valid[None, :] & (rows >= np.where(valid, top, 0)[None, :]) & (rows <= np.where(valid, bottom, -1)[None, :])
    plot_w = len(top) // 2
    lit = lit.reshape(plot_h, 4, plot_w, 2)
    return np.einsum("rdcs,ds->rc", lit.astype(np.int64), DOT_BITS)


def column_share(flags: np.ndarray, layout: PlotLayout) -> np.ndarray:
    """Per character column, the share of its days where ``flags`` holds (NaN: no day)."""
    days = np.bincount(layout.column, minlength=layout.plot_w)[: layout.plot_w].astype(float)
    marked = np.bincount(layout.column, weights=flags.astype(float), minlength=layout.plot_w)[: layout.plot_w]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(days > 0, marked / days, np.nan)


def column_mode(categories: np.ndarray, layout: PlotLayout) -> np.ndarray:
    """Per character column, its most frequent category (-1: none)."""
    present = categories >= 0
    if not present.any():
        return np.full(layout.plot_w, -1)
    kinds = int(categories[present].max()) + 1
    counts = np.bincount(layout.column[present] * kinds + categories[present],
                         minlength=layout.plot_w * kinds)[: layout.plot_w * kinds].reshape(layout.plot_w, kinds)
    return np.where(counts.sum(axis=1) > 0, counts.argmax(axis=1), -1)


def eighths(share: np.ndarray) -> list[str]:
    """A block whose height is the share (any marked day shows at least the lowest block)."""
    out = []
    for value in share:
        if not np.isfinite(value) or value <= 0:
            out.append(" ")
        else:
            out.append(EIGHTHS[max(1, min(8, math.ceil(value * 8 - 1e-9)))])
    return out


# (pandas frequency, label format, its length in days): the date ticks' candidate steps.
DATE_STEPS: tuple[tuple[str, str, float], ...] = (
    ("D", "%m-%d", 1), ("W-MON", "%m-%d", 7), ("MS", "%Y-%m", 30.4), ("QS", "%Y-%m", 91.3),
    ("2QS", "%Y-%m", 182.6), ("YS", "%Y", 365.2), ("2YS", "%Y", 730.5), ("5YS", "%Y", 1826),
    ("10YS", "%Y", 3652), ("50YS", "%Y", 18262), ("100YS", "%Y", 36524), ("500YS", "%Y", 182621),
)
SECONDS_PER_DAY = 86400.0


def date_ticks(t0: float, t1: float, plot_w: int) -> tuple[tuple[int, str], ...]:
    """(character column, label) of the date ticks: the finest calendar step whose labels fit
    without touching (a step is only generated when its tick count can fit)."""
    start = pd.Timestamp(t0, unit="s", tz="UTC")
    stop = pd.Timestamp(t1, unit="s", tz="UTC")
    days = (t1 - t0) / SECONDS_PER_DAY
    for freq, fmt, step_days in DATE_STEPS:
        if days / step_days > plot_w / 4:  # labels are at least 4 characters apart
            continue
        try:
            stamps = pd.date_range(start.normalize(), stop, freq=freq)
        except (ValueError, OverflowError, pd.errors.OutOfBoundsDatetime):
            continue
        stamps = stamps[stamps >= start]
        if len(stamps) == 0:
            break
        columns = time_slots(epoch_seconds(stamps), t0, t1, 2 * plot_w) // 2
        labels = [f"{s:{fmt}}" for s in stamps]
        width = max(len(label) for label in labels) + 1
        if len(columns) < 2 or int(np.min(np.diff(columns))) >= width:
            return tuple((int(column), label) for column, label in zip(columns, labels, strict=True)
                         if column + len(label) <= plot_w)
    return ((0, f"{start:%Y-%m-%d}"),)


def _runs(keys: list) -> list[tuple[int, int]]:
    """[start, stop) runs of equal neighbouring keys."""
    runs, start = [], 0
    for index in range(1, len(keys) + 1):
        if index == len(keys) or keys[index] != keys[start]:
            runs.append((start, index))
            start = index
    return runs


def render_plot(view: SeriesView, layout: PlotLayout, cursor: int | None, palette: Palette) -> list[Text]:
    """The plot as lines of Rich ``Text`` (``layout.height`` of them at most)."""
    axis = Style(color=palette.axis)
    top, bottom = dot_envelope(view, layout)
    codes = braille_cells(top, bottom, layout.plot_h)
    lit_columns = np.zeros(layout.plot_w, dtype=bool)
    if view.highlight is not None:
        lit_columns = np.nan_to_num(column_share(view.highlight, layout)) > 0
    cursor_column = int(layout.column[cursor]) if cursor is not None and 0 <= cursor < view.n else None
    backgrounds = [palette.cell_bg if lit else None for lit in lit_columns]
    if cursor_column is not None:
        backgrounds[cursor_column] = palette.cursor_bg
    runs = _runs(backgrounds)

    tick_rows: dict[int, float] = {}
    for tick in layout.ticks:
        row = int(layout.dot_row(tick)) // 4
        tick_rows.setdefault(row, tick)
    band_rows: set[int] = set()
    if view.band is not None:
        band_top, band_bottom = (int(r) // 4 for r in layout.dot_row(np.array([view.band[1], view.band[0]])))
        band_rows = set(range(max(0, band_top), min(layout.plot_h, band_bottom + 1)))
    zero_row = int(layout.dot_row(0.0)) // 4 if layout.low < 0 < layout.high else None

    lines: list[Text] = []
    for row in range(layout.plot_h):
        line = Text()
        tick = tick_rows.get(row)
        line.append(fmt_num(tick).rjust(layout.label_w) if tick is not None else " " * layout.label_w)
        if row in band_rows:
            line.append("┃", Style(color=palette.cell, bold=True))
        else:
            line.append("┤" if tick is not None else "│", axis)
        chars = [chr(BRAILLE_BASE + int(code)) if code else " " for code in codes[row]]
        zero = [row == zero_row and not code for code in codes[row]]
        for start, stop in runs:
            background = backgrounds[start]
            for part_start, part_stop in _runs(zero[start:stop]):
                text = "".join(chars[start + part_start : start + part_stop])
                if zero[start + part_start]:
                    text = "┈" * (part_stop - part_start)
                    color = palette.zero
                else:
                    color = palette.line
                line.append(text, Style(color=color, bgcolor=background))
        lines.append(line)

    for strip in layout.strips:
        line = Text()
        if strip == "marks":
            line.append(view.mark_name[: layout.label_w].rjust(layout.label_w))
            line.append(" ")
            if view.regimes:
                modes = column_mode(view.marks, layout)
                for mode in modes:
                    if mode < 0:
                        line.append(" ")
                    else:
                        line.append(str(mode % 10), Style(color=palette.regimes[mode % len(palette.regimes)], bold=True))
            else:
                line.append("".join(eighths(column_share(view.marks >= 0, layout))), Style(color=palette.mark))
        else:
            line.append(view.highlight_name[: layout.label_w].rjust(layout.label_w))
            line.append(" ")
            line.append("".join(eighths(column_share(view.highlight, layout))), Style(color=palette.cell))
        lines.append(line)

    ticks = layout.dates
    axis_chars = ["─"] * layout.plot_w
    for column, _label in ticks:
        axis_chars[column] = "┬"
    line = Text(" " * layout.label_w)
    line.append("└", axis)
    if cursor_column is None:
        line.append("".join(axis_chars), axis)
    else:
        line.append("".join(axis_chars[:cursor_column]), axis)
        line.append("▲", Style(color=palette.cell, bold=True))
        line.append("".join(axis_chars[cursor_column + 1 :]), axis)
    lines.append(line)
    labels = [" "] * (layout.label_w + 1 + layout.plot_w)
    for column, label in ticks:
        start = layout.label_w + 1 + column
        labels[start : start + len(label)] = list(label)
    lines.append(Text("".join(labels[: layout.width]).rstrip()))
    return lines[: layout.height]


class SeriesPlot(Widget, can_focus=True):
    """The plot widget: a day cursor moves a character column at a time (arrows, h l), to the
    first or last day (home, end), or to a clicked column."""

    DEFAULT_CSS = """
    SeriesPlot {
        width: 1fr;
        height: 1fr;
        min-height: 7;
        &:focus {
            background-tint: $foreground 0%;
        }
    }
    """
    BINDINGS = [
        Binding("left,h", "move(-1)", "Earlier", show=False),
        Binding("right,l", "move(1)", "Later", show=False),
        Binding("home", "edge(0)", "First day", show=False),
        Binding("end", "edge(1)", "Last day", show=False),
    ]

    view: reactive[SeriesView | None] = reactive(None, always_update=True)
    cursor: reactive[int | None] = reactive(None)  # the day (row of the view) under the cursor

    class CursorMoved(Message):
        """The cursor is on day ``row`` of the view."""

        def __init__(self, row: int) -> None:
            super().__init__()
            self.row = row

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._layout: PlotLayout | None = None
        self._layout_for: tuple | None = None

    def on_mount(self) -> None:
        self.watch(self.app, "theme", lambda _theme: self.refresh(), init=False)

    @property
    def palette(self) -> Palette:
        theme = self.app.current_theme
        return DARK_PALETTE if theme is None or theme.dark else LIGHT_PALETTE

    def plot_layout(self) -> PlotLayout | None:
        """The layout at the current size (computed once per view and size)."""
        view = self.view
        if view is None or view.n == 0:
            return None
        key = (id(view), self.size.width, self.size.height)
        if key != self._layout_for:
            self._layout = layout_for(view, self.size.width, self.size.height)
            self._layout_for = key
        return self._layout

    def render(self) -> Text:
        layout = self.plot_layout()
        if layout is None or self.view is None:
            return Text("")
        return Text("\n").join(render_plot(self.view, layout, self.cursor, self.palette))

    def watch_cursor(self, row: int | None) -> None:
        if row is not None:
            self.post_message(self.CursorMoved(row))

    def set_cursor(self, row: int) -> None:
        if self.view is not None and self.view.n:
            self.cursor = max(0, min(self.view.n - 1, row))

    def action_move(self, step: int) -> None:
        """To the last day of the next character column with days, earlier or later."""
        layout = self.plot_layout()
        if layout is None or self.cursor is None:
            return
        column = int(layout.column[self.cursor])
        if step > 0:
            first_after = int(np.searchsorted(layout.column, column + 1, side="left"))
            if first_after >= len(layout.column):
                return
            self.cursor = layout.days_in_column(int(layout.column[first_after]))[1] - 1
        else:
            start = layout.days_in_column(column)[0]
            if start == 0:
                return
            self.cursor = start - 1

    def action_edge(self, end: int) -> None:
        if self.view is not None and self.view.n:
            self.cursor = self.view.n - 1 if end else 0

    def on_click(self, event: events.Click) -> None:
        layout = self.plot_layout()
        if layout is None:
            return
        column = event.x - layout.label_w - 1
        if 0 <= column < layout.plot_w:
            stop = int(np.searchsorted(layout.column, column, side="right"))
            self.cursor = max(0, stop - 1)
