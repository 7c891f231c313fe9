"""Drawing the series plot: a braille line with a value axis and a date axis, a strip of marks
under it (a strategy's trade days, or the regime) and a strip of highlighted days (the grid
cell's), with a day cursor.

``render_plot`` is a pure function of a ``SeriesView``, a ``PlotLayout``, the cursor and a
palette, tested without a terminal. Each character holds 2 x 4 braille dots; each dot column
covers an equal slice of the *time* span (a missing stretch of days stays a gap), and draws
the min..max of the values in its slice, so 100,000 days cost one pass of
``numpy.minimum.reduceat`` and no spike is lost. Consecutive dot columns are joined halfway;
dot columns with no sample between two samples at most ``GAP_STEPS`` bar steps apart are
filled by linear interpolation (a daily series drawn wider than its days), wider gaps stay
empty. Days are placed by time, so the date axis is exact.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from rich.style import Style
from rich.text import Text

from greg_core.formatting import fmt_num
from greg_tui.widgets.timeseries.axes import time_slots
from greg_tui.widgets.timeseries.layout import PlotLayout, SeriesView

BRAILLE_BASE = 0x2800
# The bit of each dot of a braille character: [row 0..3][column 0..1].
DOT_BITS = np.array([[0x01, 0x08], [0x02, 0x10], [0x04, 0x20], [0x40, 0x80]], dtype=np.int64)
EIGHTHS = " ▁▂▃▄▅▆▇█"  # a strip's share of marked days in a character's slice of time
GAP_STEPS = 4  # samples further apart than this many typical steps leave a gap (3 missing bars bridged)


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
