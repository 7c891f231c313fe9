"""Greg's selector on one day's sensors: the decision, each waterfall step's rule and which
clause fired, every strategy's status, and the sensors with their units.

It opens on the latest day with data (the most sensors the source has; a harvested chain
snapshot days after the last daily bar has almost none); ``[`` / ``]`` step a day, ``g`` goes
to a date, ``end`` back to the latest day with data.
"""

from __future__ import annotations

import warnings

import pandas as pd
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import DataTable, Input, Static

from backtest.heatmaps.options import DEFAULT_UNDERLYINGS
from backtest.selector.evaluate import MISSING_POLICIES, evaluate_sample
from backtest.sensors.sources import SOURCES, SensorData, load_sensor_data
from greg_core.contract import SENSOR_NAMES
from greg_core.errors import MarketDataError
from greg_tui.markup import escape
from greg_tui.screens.area import AreaScreen
from greg_tui.widgets.selector.render import (
    decision_header,
    decision_table,
    sensor_rows,
    waterfall_table,
)

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


class SelectorScreen(AreaScreen):
    MODE = "selector"
    HELP_EXTRA = (("g, a date, enter", "go to that day (the last one with data on or before it)"),
                  ("i", "what each sensor means (units are in the sensor table)"))
    BINDINGS = [
        Binding("u", "underlying", "Underlying"),
        Binding("c", "source", "Source"),
        Binding("p", "policy", "Policy"),
        Binding("left_square_bracket", "step(-1)", "Older", key_display="[", group=DAY),
        Binding("right_square_bracket", "step(1)", "Newer", key_display="]", group=DAY),
        Binding("g", "go_to_date", "Date", tooltip="Go to a date"),
        Binding("end", "latest", "Latest with data", show=False),
    ]

    class DataLoaded(Message):
        """Sensors for (underlying, source, folder, regime file) ``key``."""

        def __init__(self, key: tuple, data: SensorData) -> None:
            super().__init__()
            self.key, self.data = key, data

    class DataFailed(Message):
        def __init__(self, key: tuple, error: str) -> None:
            super().__init__()
            self.key, self.error = key, error

    underlying: reactive[str] = reactive(DEFAULT_UNDERLYINGS[0])
    source: reactive[str] = reactive("synthetic")
    policy: reactive[str] = reactive("strict")
    position: reactive[int] = reactive(0)  # the row shown

    def __init__(self) -> None:
        super().__init__()
        self._data: SensorData | None = None
        self._error: str | None = None
        self._loaded_key: tuple | None = None
        self._own_choice = False  # the user picked a source or policy here (stop following setup)

    def compose_body(self) -> ComposeResult:
        yield Static("", id="selector-head")
        # Disabled (so never focused) until g opens it.
        yield Input(placeholder="date YYYY-MM-DD, enter goes there, escape cancels", id="selector-date",
                    compact=True, disabled=True)
        with VerticalScroll(id="selector-body"):
            # Decision first: on a narrow terminal it is what you see; wide, sensors dock left.
            with Vertical(id="decision-box"):
                yield Static("", id="decision-head")
                yield Static("", id="decision-steps")
                yield Static("", id="decision-table")
            with Vertical(id="sensor-box"):
                yield DataTable(id="sensor-table", cursor_type="none", show_cursor=False, zebra_stripes=True)

    def on_mount(self) -> None:
        table = self.query_one("#sensor-table", DataTable)
        table.add_column("Sensor", key="sensor")
        table.add_column("Value", key="value")
        table.add_column("Unit", key="unit")
        self.watch(self.app, "config", self._config_changed, init=True)
        self.watch(self.app, "theme", lambda _t: self._show() if self._data is not None else None, init=False)
        if self._loaded_key is None:
            self._request()

    def _config_changed(self, config) -> None:
        # Follow the scan setup's data source and policy until the user picks their own here;
        # always its data folder. Reloads wait until this screen is shown (not every keystroke
        # in the setup's data folder field).
        if not self._own_choice and config.source in SOURCES:
            self.set_reactive(SelectorScreen.source, config.source)
            if self.policy != config.missing_policy:
                self.set_reactive(SelectorScreen.policy, config.missing_policy)
                if self._data is not None and self.is_current:
                    self._show()
        if self.is_mounted and self.is_current and self._key() != self._loaded_key:
            self._request()

    def on_screen_resume(self) -> None:
        if self._key() != self._loaded_key:
            self._request()
        elif self._data is not None:
            self._show()  # the policy may have changed meanwhile

    def _key(self) -> tuple:
        # Real sources read the setup's data folder; synthetic data the app's regime file.
        if self.source == "synthetic":
            return (self.underlying, self.source, None, self.app.regime_file)
        return (self.underlying, self.source, self.app.effective_data_dir, None)

    def _request(self) -> None:
        self._loaded_key = self._key()
        self._data, self._error = None, None
        self._show(loading=True)
        self._load(self._key())

    @work(thread=True, exclusive=True, group="selector", exit_on_error=False)
    def _load(self, key: tuple) -> None:
        underlying, source, data_dir, regime_file = key
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                data = load_sensor_data(underlying, source, data_dir=data_dir, regime_file=regime_file)
            if data.sensors.empty:
                raise MarketDataError(f"{source} data for {underlying} has no rows")
        except MarketDataError as exc:
            self.post_message(self.DataFailed(key, f"No usable {source} data: {exc}"))
        except Exception as exc:
            self.post_message(self.DataFailed(key, f"{type(exc).__name__}: {exc}"))
        else:
            self.post_message(self.DataLoaded(key, data))

    @on(DataLoaded)
    def _loaded(self, message: DataLoaded) -> None:
        if message.key == self._key():
            self._data, self._error = message.data, None
            self.set_reactive(SelectorScreen.position, latest_with_data(message.data.sensors))
            self._show()

    @on(DataFailed)
    def _failed(self, message: DataFailed) -> None:
        if message.key == self._key():
            self._data, self._error = None, message.error
            self._show()

    # ------------------------------------------------------------------ drawing
    def _show(self, loading: bool = False) -> None:
        head = self.query_one("#selector-head", Static)
        table = self.query_one("#sensor-table", DataTable)
        choice = (f"[b]{escape(self.underlying)}[/b] [dim](u)[/dim]  [b]{escape(self.source)}[/b] [dim](c)[/dim]  "
                  f"policy [b]{escape(self.policy)}[/b] [dim](p)[/dim]")
        if loading or (self._data is None and self._error is None):
            head.update(f"{choice}  [dim]loading sensors...[/dim]")
            return
        if self._error is not None:
            head.update(f"{choice}\n[b]Cannot show a decision:[/b] {escape(self._error)}")
            table.clear()
            for name in ("#decision-head", "#decision-steps", "#decision-table"):
                self.query_one(name, Static).update("")
            return
        sensors = self._data.sensors
        n = len(sensors)
        position = max(0, min(self.position, n - 1))
        latest = latest_with_data(sensors)
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
        absent = self._data.absent_sensors()
        absent_text = f"\n[b]no data in this source:[/b] {escape(', '.join(absent))}" if absent else ""
        head.update(
            f"{choice}  [b]{stamp:%Y-%m-%d}[/b] [dim]({when}; day {position + 1}/{n}; "
            f"{present}/{len(SENSOR_NAMES)} sensors)[/dim]\n"
            f"[dim]{escape(self._data.description)}[/dim]{absent_text}"
        )
        table.clear()
        for name, value, unit in sensor_rows(values):
            table.add_row(name, value, unit)
        decision = evaluate_sample(values, policy=self.policy, underlying=self.underlying)
        theme = self.app.current_theme
        dark = theme is None or theme.dark
        self.query_one("#decision-head", Static).update(decision_header(decision))
        self.query_one("#decision-steps", Static).update(waterfall_table(decision, dark))
        self.query_one("#decision-table", Static).update(decision_table(decision, dark))

    # ------------------------------------------------------------------ actions
    def action_underlying(self) -> None:
        names = list(DEFAULT_UNDERLYINGS)
        self.underlying = names[(names.index(self.underlying) + 1) % len(names)] if self.underlying in names else names[0]
        self._request()

    def action_source(self) -> None:
        self._own_choice = True
        self.source = SOURCES[(SOURCES.index(self.source) + 1) % len(SOURCES)] if self.source in SOURCES else SOURCES[0]
        self._request()

    def action_policy(self) -> None:
        self._own_choice = True
        self.policy = MISSING_POLICIES[(MISSING_POLICIES.index(self.policy) + 1) % len(MISSING_POLICIES)]
        self._show()

    def action_step(self, step: int) -> None:
        if self._data is None:
            return
        self.position = max(0, min(len(self._data.sensors) - 1, self.position + step))
        self._show()

    def action_latest(self) -> None:
        if self._data is not None:
            self.position = latest_with_data(self._data.sensors)
            self._show()

    def action_go_to_date(self) -> None:
        if self._data is None:
            return
        field = self.query_one("#selector-date", Input)
        field.value = f"{self._data.sensors.index[self.position]:%Y-%m-%d}"
        self.add_class("-dating")
        field.disabled = False
        field.focus()

    @on(Input.Submitted, "#selector-date")
    def _date_entered(self, event: Input.Submitted) -> None:
        if self._data is None:
            return
        try:
            position = position_on_or_before(self._data.sensors, event.value)
        except ValueError:
            self.notify(f"{event.value!r} is not a date; type it as YYYY-MM-DD.", title="Go to date",
                        severity="warning")
            return
        first = self._data.sensors.index[0]
        if pd.Timestamp(event.value.strip()).date() < first.date():
            self.notify(f"The data starts on {first:%Y-%m-%d}; showing that day.", title="Go to date")
        self._close_date()
        self.position = position
        self._show()

    def _close_date(self) -> None:
        self.remove_class("-dating")
        self.query_one("#selector-date", Input).disabled = True
        self.set_focus(None)

    def action_home(self) -> None:
        """escape: closes the date field first, then goes back to the start screen."""
        if self.has_class("-dating"):
            self._close_date()
        else:
            super().action_home()
