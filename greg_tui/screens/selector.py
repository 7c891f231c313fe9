"""Greg's selector on one day's sensors: the decision, each waterfall step's rule and which
clause fired, every strategy's status, the sensors with their units, and what happened next
(the day's forward outcomes, shown as outcomes only).

It opens on the latest day with data (the most sensors the source has; a harvested chain
snapshot days after the last daily bar has almost none); ``[`` / ``]`` step a day, ``g`` goes
to a date, ``end`` back to the latest day with data. The data, its outcomes and the keys
``u`` ``c`` ``p`` are the ``SpanScreen``'s.
"""

from __future__ import annotations

import pandas as pd
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.reactive import reactive
from textual.widgets import DataTable, Input, Static

from backtest.selector.evaluate import evaluate_sample
from greg_core.contract import SENSOR_NAMES
from greg_tui.markup import escape
from greg_tui.screens.span import SpanScreen
from greg_tui.widgets.selector.render import (
    decision_header,
    decision_table,
    next_outcome_text,
    sensor_rows,
    waterfall_table,
)
from greg_tui.widgets.selector.span import MarketSpan

DAY = Binding.Group("Day", compact=True)


def latest_with_data(sensors: pd.DataFrame) -> int:
    """Position of the latest row with the most sensors present (0 for an empty frame)."""
    if sensors.empty:
        return 0
    present = sensors[[n for n in SENSOR_NAMES if n in sensors.columns]].notna().sum(axis=1).to_numpy()
    best = present.max()
    return int(len(present) - 1 - present[::-1].argmax()) if best else len(present) - 1


def position_on_or_before(sensors: pd.DataFrame, text: str) -> int:
    """Position of the last row on or before the date ``text`` (ValueError: not a date)."""
    stamp = pd.Timestamp(text.strip())
    if pd.isna(stamp):
        raise ValueError(f"{text!r} is not a date")
    if stamp.tzinfo is None and sensors.index.tz is not None:
        stamp = stamp.tz_localize(sensors.index.tz)
    stamp = stamp + pd.Timedelta(days=1) - pd.Timedelta(microseconds=1)  # the whole day
    return max(0, int(sensors.index.searchsorted(stamp, side="right")) - 1)


class SelectorScreen(SpanScreen):
    MODE = "selector"
    HELP_EXTRA = (("g, a date, enter", "go to that day (the last one with data on or before it)"),
                  ("i", "what each sensor means (units are in the sensor table)"))
    BINDINGS = [
        Binding("left_square_bracket", "step(-1)", "Older", key_display="[", group=DAY),
        Binding("right_square_bracket", "step(1)", "Newer", key_display="]", group=DAY),
        Binding("g", "go_to_date", "Date", tooltip="Go to a date"),
        # priority: the page (focused, so pgup/pgdn/home scroll it) would take end for itself.
        Binding("end", "latest", "Latest with data", show=False, priority=True),
    ]

    position: reactive[int] = reactive(0)  # the row shown

    def __init__(self) -> None:
        super().__init__()
        self._pending_date: pd.Timestamp | None = None  # asked for (show_day) before its data loaded
        self._latest, self._absent = 0, []  # of the loaded span (span_loaded)

    def compose_body(self) -> ComposeResult:
        yield Static("", id="selector-head")
        # Disabled (so never focused) until g opens it.
        yield Input(placeholder="date YYYY-MM-DD, enter goes there, escape cancels", id="selector-date",
                    compact=True, disabled=True)
        with VerticalScroll(id="selector-body"):
            # Decision first: on a narrow terminal it is what you see; wide, sensors dock left.
            with Vertical(id="decision-box"):
                yield Static("", id="decision-head")
                yield Static("", id="decision-next")
                yield Static("", id="decision-steps")
                yield Static("", id="decision-table")
            with Vertical(id="sensor-box"):
                yield DataTable(id="sensor-table", cursor_type="none", show_cursor=False, zebra_stripes=True)

    def on_mount(self) -> None:
        table = self.query_one("#sensor-table", DataTable)
        # The page scrolls as one (pgup, pgdn, home, arrows): a focused table would take those
        # keys and strand the verdict above the fold at 80x24.
        table.can_focus = False
        table.add_column("Sensor", key="sensor")
        table.add_column("Value", key="value")
        table.add_column("Unit", key="unit")
        super().on_mount()

    def show_day(self, underlying: str, source: str, policy: str, stamp: pd.Timestamp) -> None:
        """Show ``stamp`` (the last day on or before it) of ``underlying`` from ``source``
        under ``policy`` (the series screen's enter), loading that data first if needed."""
        if source != self.source or policy != self.policy:
            self._own_choice = True  # picked on purpose: stop following the setup
        self.set_reactive(SelectorScreen.underlying, underlying)
        self.set_reactive(SelectorScreen.source, source)
        self.set_reactive(SelectorScreen.policy, policy)
        self._pending_date = stamp
        if self._span is not None and self._key() == self._loaded_key:
            self.span_loaded(self._span)
            self._show()
        elif self._key() != self._loaded_key:
            self._request()

    def span_loaded(self, span: MarketSpan) -> None:
        sensors = span.sensors
        # What depends on the span alone, once per span (not on every [ / ] step).
        self._latest, self._absent = latest_with_data(sensors), span.data.absent_sensors()
        if self._pending_date is not None:
            position = position_on_or_before(sensors, f"{self._pending_date:%Y-%m-%d}")
            self._pending_date = None
        else:
            position = self._latest
        self.set_reactive(SelectorScreen.position, position)

    # ------------------------------------------------------------------ drawing
    def _show(self, loading: bool = False) -> None:
        head = self.query_one("#selector-head", Static)
        table = self.query_one("#sensor-table", DataTable)
        choice = self.choice_text()
        if loading or (self._span is None and self._error is None):
            head.update(f"{choice}  [dim]loading sensors...[/dim]")
            return
        if self._error is not None:
            head.update(f"{choice}\n[b]Cannot show a decision:[/b] {escape(self._error)}")
            table.clear()
            for name in ("#decision-head", "#decision-next", "#decision-steps", "#decision-table"):
                self.query_one(name, Static).update("")
            return
        span = self._span
        sensors = span.sensors
        n = len(sensors)
        position = max(0, min(self.position, n - 1))
        latest = self._latest
        stamp = sensors.index[position]
        row = sensors.iloc[position]
        values = {name: (float(row[name]) if name in row.index else None) for name in SENSOR_NAMES}
        present = sum(value == value and value is not None for value in values.values())
        if position == latest:
            when = "latest day with data"
        elif position > latest:
            when = f"{position - latest} after the latest day with data (end)"
        else:
            when = f"{latest - position} before the latest day with data (end)"
        absent = self._absent
        absent_text = f"\n[b]no data in this source:[/b] {escape(', '.join(absent))}" if absent else ""
        head.update(
            f"{choice}  [b]{stamp:%Y-%m-%d}[/b] [dim]({when}; day {position + 1}/{n}; "
            f"{present}/{len(SENSOR_NAMES)} sensors)[/dim]\n"
            f"[dim]{escape(span.data.description)}{self.window_note()}[/dim]{absent_text}"
        )
        table.clear()
        for name, value, unit in sensor_rows(values):
            table.add_row(name, value, unit)
        decision = evaluate_sample(values, policy=self.policy, underlying=self.underlying)
        outcome = span.next_outcome(position)
        theme = self.app.current_theme
        dark = theme is None or theme.dark
        self.query_one("#decision-head", Static).update(decision_header(decision))
        self.query_one("#decision-next", Static).update(next_outcome_text(outcome, decision, span.trust, dark))
        self.query_one("#decision-steps", Static).update(waterfall_table(decision, dark))
        self.query_one("#decision-table", Static).update(decision_table(decision, dark, outcome))

    # ------------------------------------------------------------------ actions
    def action_step(self, step: int) -> None:
        if self._span is None:
            return
        self.position = max(0, min(len(self._span.sensors) - 1, self.position + step))
        self._show()

    def action_latest(self) -> None:
        if self.has_class("-dating"):  # typing a date: end is the field's own
            self.query_one("#selector-date", Input).action_end()
            return
        if self._span is not None:
            self.position = self._latest
            self._show()

    def action_go_to_date(self) -> None:
        if self._span is None:
            return
        field = self.query_one("#selector-date", Input)
        field.value = f"{self._span.sensors.index[self.position]:%Y-%m-%d}"
        self.add_class("-dating")
        field.disabled = False
        field.focus()

    @on(Input.Submitted, "#selector-date")
    def _date_entered(self, event: Input.Submitted) -> None:
        if self._span is None:
            return
        sensors = self._span.sensors
        try:
            position = position_on_or_before(sensors, event.value)
        except ValueError:
            self.notify(f"{event.value!r} is not a date; type it as YYYY-MM-DD.", title="Go to date",
                        severity="warning")
            return
        first = sensors.index[0]
        if pd.Timestamp(event.value.strip()).date() < first.date():
            self.notify(f"The data starts on {first:%Y-%m-%d}; showing that day.", title="Go to date")
        self._close_date()
        self.position = position
        self._show()

    def _close_date(self) -> None:
        self.remove_class("-dating")
        self.query_one("#selector-date", Input).disabled = True
        # Back to the page, so pgup / pgdn / home scroll it again (with no focus they did nothing).
        self.query_one("#selector-body").focus()

    def action_home(self) -> None:
        """escape: closes the date field first, then goes back to the start screen."""
        if self.has_class("-dating"):
            self._close_date()
        else:
            super().action_home()
