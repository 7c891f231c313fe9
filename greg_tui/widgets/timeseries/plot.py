"""The series plot widget: ``render_plot`` (draw.py) at the widget's size, with a day cursor
that moves a character column at a time (docs/app.md "6 Series")."""

from __future__ import annotations

import numpy as np
from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.message import Message
from textual.reactive import reactive
from textual.widget import Widget

from greg_tui.widgets.timeseries.draw import DARK_PALETTE, LIGHT_PALETTE, Palette, render_plot
from greg_tui.widgets.timeseries.layout import PlotLayout, SeriesView, layout_for


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
