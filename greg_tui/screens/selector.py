"""Greg's selector on the latest sample (or any earlier one): sensors and every strategy."""

from __future__ import annotations

import warnings

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.reactive import reactive
from textual.widgets import DataTable, Static

from backtest.heatmaps.options import DEFAULT_UNDERLYINGS
from backtest.selector.evaluate import MISSING_POLICIES, evaluate_sample
from backtest.sensors.sources import SOURCES, load_sensor_data
from greg_core.contract import SENSOR_NAMES
from greg_core.errors import MarketDataError
from greg_tui.markup import escape
from greg_tui.messages import SelectorDataFailed, SelectorDataLoaded
from greg_tui.screens.area import AreaScreen
from greg_tui.widgets.selector.render import decision_header, decision_table, sensor_rows


class SelectorScreen(AreaScreen):
    MODE = "selector"
    BINDINGS = [
        Binding("u", "underlying", "Underlying"),
        Binding("c", "source", "Source"),
        Binding("p", "policy", "Policy"),
        Binding("left_square_bracket", "step(-1)", "Older", key_display="["),
        Binding("right_square_bracket", "step(1)", "Newer", key_display="]"),
        Binding("end", "latest", "Latest", show=False),
    ]

    underlying: reactive[str] = reactive(DEFAULT_UNDERLYINGS[0])
    source: reactive[str] = reactive("synthetic")
    policy: reactive[str] = reactive("strict")
    offset: reactive[int] = reactive(0)  # samples back from the latest

    def compose_body(self) -> ComposeResult:
        yield Static("", id="selector-head")
        with VerticalScroll(id="selector-body"):
            # Decision first: on a narrow terminal it is what you see; wide, sensors dock left.
            with Vertical(id="decision-box"):
                yield Static("", id="decision-head")
                yield Static("", id="decision-table")
            with Vertical(id="sensor-box"):
                yield DataTable(id="sensor-table", cursor_type="none", show_cursor=False, zebra_stripes=True)

    def on_mount(self) -> None:
        self._data = None
        self._error: str | None = None
        self._absent: list[str] = []  # sensors the loaded source lacks altogether
        self._loaded_key: tuple | None = None
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
        if not getattr(self, "_own_choice", False) and config.source in SOURCES:
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
        self._data, self._error, self._absent = None, None, []
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
            self.post_message(SelectorDataFailed(key, f"No usable {source} data: {exc}"))
        except Exception as exc:
            self.post_message(SelectorDataFailed(key, f"{type(exc).__name__}: {exc}"))
        else:
            self.post_message(SelectorDataLoaded(key, data))

    def on_selector_data_loaded(self, message: SelectorDataLoaded) -> None:
        if message.key == self._key():
            self._data, self._error = message.data, None
            # ignore-missing drops only rules on sensors this source lacks altogether.
            self._absent = message.data.absent_sensors()
            self._show()

    def on_selector_data_failed(self, message: SelectorDataFailed) -> None:
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
            self.query_one("#decision-head", Static).update("")
            self.query_one("#decision-table", Static).update("")
            return
        sensors = self._data.sensors
        n = len(sensors)
        offset = max(0, min(self.offset, n - 1))
        position = n - 1 - offset
        stamp = sensors.index[position]
        row = sensors.iloc[position]
        values = {name: (float(row[name]) if name in row.index else None) for name in SENSOR_NAMES}
        when = "latest" if offset == 0 else f"{offset} back"
        absent = (f"\n[b]no data in this source:[/b] {escape(', '.join(self._absent))}" if self._absent else "")
        head.update(
            f"{choice}  [b]{stamp:%Y-%m-%d %H:%M}[/b] UTC [dim]({when}, {position + 1}/{n}, \\[ ] step)[/dim]\n"
            f"[dim]{escape(self._data.description)}[/dim]{absent}"
        )
        table.clear()
        for name, value, unit in sensor_rows(values):
            table.add_row(name, value, unit)
        decision = evaluate_sample(values, policy=self.policy, underlying=self.underlying)
        self.query_one("#decision-head", Static).update(decision_header(decision))
        theme = self.app.current_theme
        self.query_one("#decision-table", Static).update(decision_table(decision, theme is None or theme.dark))

    # ------------------------------------------------------------------ actions
    def action_underlying(self) -> None:
        names = list(DEFAULT_UNDERLYINGS)
        self.underlying = names[(names.index(self.underlying) + 1) % len(names)] if self.underlying in names else names[0]
        self.offset = 0
        self._request()

    def action_source(self) -> None:
        self._own_choice = True
        self.source = SOURCES[(SOURCES.index(self.source) + 1) % len(SOURCES)] if self.source in SOURCES else SOURCES[0]
        self.offset = 0
        self._request()

    def action_policy(self) -> None:
        self._own_choice = True
        self.policy = MISSING_POLICIES[(MISSING_POLICIES.index(self.policy) + 1) % len(MISSING_POLICIES)]
        self._show()

    def action_step(self, step: int) -> None:
        if self._data is None:
            return
        self.offset = max(0, min(len(self._data.sensors) - 1, self.offset - step))
        self._show()

    def action_latest(self) -> None:
        self.offset = 0
        self._show()

