"""The series area: one sensor (or an outcome) over the whole loaded span, with a strategy's
trade days (or the synthetic regime) marked and the grid cell's days highlighted; a day
cursor reads any day and ``enter`` opens it in the selector.

The data is the selector's (``SpanScreen``: the same underlying, source and policy keys).
The strategy and the cell follow the grid area: when the grid's choice changed since this
screen last looked, its underlying and strategy are taken over (``u`` / ``t`` here pick
others until the grid changes again).
"""

from __future__ import annotations

import numpy as np
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.css.query import NoMatches
from textual.reactive import reactive
from textual.widgets import Static

from greg_tui.areas import GridTarget
from greg_tui.markup import escape
from greg_tui.screens.span import SpanScreen
from greg_tui.widgets.selector.span import MarketSpan
from greg_tui.widgets.timeseries.plot import SeriesPlot
from greg_tui.widgets.timeseries.series import (
    EDGE,
    MARKINGS,
    REGIME,
    SERIES,
    TRADES,
    CellDays,
    build_view,
    cell_days,
    cursor_text,
    grid_target,
    is_outcome,
    legend_text,
    series_title,
)

DAY = Binding.Group("Day", compact=True)


class SeriesScreen(SpanScreen):
    MODE = "series"
    HELP_WIDGETS = (SeriesPlot,)
    HELP_EXTRA = (("click the plot", "put the day cursor there"),)
    BINDINGS = [
        # The head line names u c p beside their values; the footer keeps its width for the rest.
        Binding("u", "underlying", "Underlying", show=False),
        Binding("c", "source", "Source", show=False),
        Binding("p", "policy", "Policy", show=False),
        Binding("s", "series(1)", "Series"),
        Binding("S", "series(-1)", "Previous series", show=False),
        Binding("e", "edge", "Edge", tooltip="Show the forward edge (an outcome); again: back to the sensor"),
        Binding("x", "cell_sensor", "Cell sensor", show=False,
                tooltip="Show the grid cell's x sensor, then its y sensor (the cell's range marked on the axis)"),
        Binding("m", "marking", "Marks", tooltip="Mark the strategy's trade days, the regime, or nothing"),
        Binding("t", "strategy(1)", "Strategy"),
        Binding("T", "strategy(-1)", "Previous strategy", show=False),
        Binding("left_square_bracket", "step(-1)", "Older", key_display="[", group=DAY, show=False,
                tooltip="Cursor one day earlier (← h: one plot column)"),
        Binding("right_square_bracket", "step(1)", "Newer", key_display="]", group=DAY, show=False,
                tooltip="Cursor one day later (→ l: one plot column)"),
        Binding("enter", "open_day", "Selector", key_display="⏎", tooltip="Open the cursor's day in the selector"),
    ]

    series: reactive[str] = reactive("vrp_30d")
    marking: reactive[str] = reactive(TRADES)
    strategy_key: reactive[str] = reactive("")

    def __init__(self) -> None:
        super().__init__()
        self._seen_target: GridTarget | None = None  # the grid's choice when last taken over
        self._cell: CellDays | None = None
        self._last_sensor = "vrp_30d"  # e goes back to it

    def compose_body(self) -> ComposeResult:
        yield Static("", id="series-head")
        yield SeriesPlot(id="series-plot")
        yield Static("", id="series-legend")
        yield Static("", id="series-cursor")

    DEFAULT_CSS = """
    #series-head, #series-legend, #series-cursor {
        height: auto;
        padding: 0 1;
    }
    #series-head {
        background: $boost;
    }
    #series-plot {
        padding: 0 1 0 0;
    }
    """

    def on_mount(self) -> None:
        self._follow_grid()
        super().on_mount()
        self.query_one(SeriesPlot).focus()

    def on_screen_resume(self) -> None:
        self._follow_grid()
        super().on_screen_resume()

    def _follow_grid(self) -> None:
        """Take over the grid's underlying and strategy when its choice changed."""
        target = grid_target(self.app)
        if target is None or target == self._seen_target:
            return
        self._seen_target = target
        if target.strategy_key:
            self.set_reactive(SeriesScreen.strategy_key, target.strategy_key)
        if target.underlying and target.underlying != self.underlying:
            self.set_reactive(SeriesScreen.underlying, target.underlying)

    def span_loaded(self, span: MarketSpan) -> None:
        if self.strategy_key not in span.strategy_keys:
            # The grid's first strategy (the results' order), else the spec's first.
            results = self.app.results
            listed = [s["key"] for s in results.strategies] if results is not None else []
            keys = [k for k in listed if k in span.strategy_keys] or list(span.strategy_keys)
            self.set_reactive(SeriesScreen.strategy_key, keys[0])
        plot = self.query_one(SeriesPlot)
        plot.cursor = None  # a new span: the cursor goes to its last day (_show)

    # ------------------------------------------------------------------ drawing
    def _show(self, loading: bool = False) -> None:
        try:
            head = self.query_one("#series-head", Static)
            plot = self.query_one(SeriesPlot)
        except NoMatches:
            return
        choice = self.choice_text()
        legend = self.query_one("#series-legend", Static)
        cursor = self.query_one("#series-cursor", Static)
        if loading or (self._span is None and self._error is None):
            head.update(f"{choice}  [dim]loading...[/dim]")
            return
        if self._error is not None:
            head.update(f"{choice}\n[b]Cannot draw the series:[/b] {escape(self._error)}")
            plot.view = None
            legend.update("")
            cursor.update("")
            return
        span = self._span
        self._cell = cell_days(span, self.app.results, grid_target(self.app))
        if self.marking == REGIME and not span.has_regimes():
            self.set_reactive(SeriesScreen.marking, TRADES)
        view = build_view(span, self.series, self.strategy_key, self.policy, self.marking, self._cell)
        head.update(self._head_text(choice))
        plot.view = view
        if plot.cursor is None or plot.cursor >= view.n:
            plot.cursor = view.n - 1
        else:
            self._show_cursor(plot.cursor)
        legend.update(legend_text(span, view, self.strategy_key, self.policy, self.marking, self._cell,
                                  self.app.results is not None))

    def _head_text(self, choice: str) -> Text:
        number = SERIES.index(self.series) + 1
        text = Text.from_markup(choice + f"  [dim]series {number}/{len(SERIES)} (s)[/dim]\n")
        text.append_text(series_title(self._span, self.series, self.strategy_key))
        return text

    @on(SeriesPlot.CursorMoved)
    def _cursor_moved(self, event: SeriesPlot.CursorMoved) -> None:
        self._show_cursor(event.row)

    def _show_cursor(self, row: int) -> None:
        plot = self.query_one(SeriesPlot)
        if self._span is None or plot.view is None or not 0 <= row < plot.view.n:
            return
        self.query_one("#series-cursor", Static).update(
            cursor_text(self._span, plot.view, row, self.series, self.strategy_key, self._cell))

    # ------------------------------------------------------------------ actions
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("series", "edge", "cell_sensor", "marking", "strategy", "step", "open_day"):
            return self._span is not None
        return True

    def action_series(self, step: int) -> None:
        self.series = SERIES[(SERIES.index(self.series) + step) % len(SERIES)]
        if not is_outcome(self.series):
            self._last_sensor = self.series
        self._show()

    def action_edge(self) -> None:
        self.series = self._last_sensor if self.series == EDGE else EDGE
        self._show()

    def action_cell_sensor(self) -> None:
        cell = self._cell
        if cell is None:
            self.notify("No grid cell: put the grid's cursor on a cell (2) first.", title="Cell sensor")
            return
        self.series = cell.y_metric if self.series == cell.x_metric else cell.x_metric
        self._last_sensor = self.series
        self._show()

    def action_marking(self) -> None:
        choices = [m for m in MARKINGS if m != REGIME or (self._span is not None and self._span.has_regimes())]
        self.marking = choices[(choices.index(self.marking) + 1) % len(choices)] if self.marking in choices else TRADES
        self._show()

    def action_strategy(self, step: int) -> None:
        keys = list(self._span.strategy_keys)
        index = keys.index(self.strategy_key) if self.strategy_key in keys else 0
        self.strategy_key = keys[(index + step) % len(keys)]
        self._show()

    def action_step(self, step: int) -> None:
        plot = self.query_one(SeriesPlot)
        if plot.cursor is not None:
            plot.set_cursor(plot.cursor + step)

    async def action_open_day(self) -> None:
        from greg_tui.screens.selector import SelectorScreen

        plot = self.query_one(SeriesPlot)
        if self._span is None or plot.cursor is None:
            return
        stamp = self._span.sensors.index[int(np.clip(plot.cursor, 0, len(self._span.sensors) - 1))]
        underlying, source, policy = self.underlying, self.source, self.policy
        await self.app.switch_mode("selector")
        screen = self.app.screen
        if isinstance(screen, SelectorScreen):
            screen.show_day(underlying, source, policy, stamp)
