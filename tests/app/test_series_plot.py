"""The series plot's pure drawing (greg_tui.widgets.timeseries): time axis, layout, braille
envelope, the marks and cell strips, and the cursor, without a terminal."""

from __future__ import annotations

import numpy as np
import pandas as pd

from greg_tui.widgets.timeseries.axes import date_ticks, epoch_seconds, nice_step, time_slots
from greg_tui.widgets.timeseries.draw import BRAILLE_BASE, DARK_PALETTE, render_plot
from greg_tui.widgets.timeseries.layout import SeriesView, layout_for

DAY = 86400.0


def daily_view(values, **kwargs) -> SeriesView:
    index = pd.date_range("2024-01-01", periods=len(values), freq="D", tz="UTC")
    return SeriesView("vrp_30d", "vol pts", epoch_seconds(index), np.asarray(values, dtype=float), **kwargs)


def plain(lines) -> list[str]:
    return [line.plain for line in lines]


def test_time_axis():
    index = pd.date_range("2024-01-01", periods=3, freq="D", tz="UTC")
    assert list(epoch_seconds(index)) == [1704067200.0, 1704153600.0, 1704240000.0]
    assert list(epoch_seconds(index.as_unit("s"))) == list(epoch_seconds(index))  # any resolution
    assert [nice_step(100, 4), nice_step(9, 3), nice_step(0.7, 7)] == [25, 5, 0.1]
    assert list(time_slots(np.array([0.0, 5.0, 9.99, 10.0]), 0.0, 10.0, 10)) == [0, 5, 9, 9]
    # Three years on 60 columns: yearly or half-yearly labels, never touching, inside the plot.
    t0, t1 = epoch_seconds(pd.DatetimeIndex([pd.Timestamp("2023-01-01", tz="UTC"), pd.Timestamp("2025-12-31", tz="UTC")]))
    ticks = date_ticks(t0, t1, 60)
    columns = [c for c, _ in ticks]
    assert len(ticks) >= 3 and all(b - a >= len(label) + 1 for (a, label), b in zip(ticks, columns[1:], strict=False))
    assert all(c + len(label) <= 60 for c, label in ticks)


def test_render_shape_ticks_and_zero_line():
    view = daily_view(np.linspace(-10, 10, 200))
    layout = layout_for(view, 60, 12)
    lines = plain(render_plot(view, layout, None, DARK_PALETTE))
    assert len(lines) == 12 and layout.plot_h == 10  # 10 plot rows, the date axis and its labels
    assert all(len(line) <= 60 for line in lines)
    gutter = [line[: layout.label_w].strip() for line in lines[: layout.plot_h]]
    assert "0" in gutter and "-10.0" in gutter  # the value ticks
    assert any("┈" in line for line in lines)  # the zero line where the series is not
    assert lines[-2].lstrip().startswith("└")


def test_a_one_day_spike_survives_a_long_series():
    values = np.zeros(5000)
    values[2500] = 100.0
    view = daily_view(values)
    layout = layout_for(view, 40, 10)
    lines = plain(render_plot(view, layout, None, DARK_PALETTE))
    top = lines[0][layout.label_w + 1 :]
    assert any(ord(c) > BRAILLE_BASE for c in top)  # the spike reaches the top row


def test_a_wide_gap_stays_empty_and_a_small_one_is_bridged():
    values = np.full(120, 5.0)
    values[40:80] = np.nan  # 40 missing days: more than GAP_STEPS bars
    values[100:102] = np.nan  # 2 missing days: bridged
    view = daily_view(values)
    layout = layout_for(view, 65, 8)
    lines = plain(render_plot(view, layout, None, DARK_PALETTE))[: layout.plot_h]

    def drawn(column: int) -> bool:
        at = layout.label_w + 1 + int(column)
        return any(at < len(line) and ord(line[at]) > BRAILLE_BASE for line in lines)

    assert not any(drawn(c) for c in layout.column[45:75])  # the wide gap stays a gap
    assert all(drawn(c) for c in layout.column[100:102])  # 2 missing days are bridged
    assert all(drawn(c) for c in layout.column[:40])


def test_strips_and_cursor():
    n = 100
    marks = np.full(n, -1)
    marks[10:20] = 0  # a strategy picked on 10 days
    highlight = np.zeros(n, dtype=bool)
    highlight[60:63] = True  # the cell's days
    view = daily_view(np.arange(n), marks=marks, mark_name="trades", highlight=highlight, band=(20.0, 30.0))
    layout = layout_for(view, 60, 14)
    lines = plain(render_plot(view, layout, 15, DARK_PALETTE))
    trades = next(line for line in lines if line.strip().startswith("trades"))
    cell = next(line for line in lines if line.strip().startswith("cell"))
    strip = slice(layout.label_w + 1, None)
    assert {i for i, c in enumerate(trades[strip]) if c != " "} == set(layout.column[10:20])
    assert trades[strip][layout.column[15]] == "█"  # a column wholly made of trade days
    assert {i for i, c in enumerate(cell[strip]) if c != " "} == set(layout.column[60:63])
    assert lines[-2][layout.label_w + 1 + layout.column[15]] == "▲"  # the cursor on the axis
    assert sum(line[layout.label_w] == "┃" for line in lines) >= 1  # the cell's range on the value axis
