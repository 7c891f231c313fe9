"""Scan setup: what the next ``r`` runs. Every change is validated at once; while a value is
invalid the message shows here (and in the status strip elsewhere) and the run key is off."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Input, Label, Select, SelectionList, Static

from backtest.heatmaps.options import COUNT_MODES, DEFAULT_METRICS, DEFAULT_UNDERLYINGS
from backtest.selector.evaluate import MISSING_POLICIES
from backtest.selector.spec import load_selector_spec
from backtest.sensors.sources import SOURCES
from greg_core.contract import SENSOR_NAMES
from greg_tui.markup import escape
from greg_tui.screens.area import AreaScreen
from greg_tui.widgets.checklist import CheckList
from greg_tui.widgets.scan.config import ScanConfig, Validation

INPUTS: tuple[tuple[str, str, str], ...] = (
    ("x_bins", "X bins", "whole number"),
    ("y_bins", "Y bins", "whole number"),
    ("top_k", "Top K", "spots per grid"),
    ("min_occupancy_pct", "Min occupancy %", "e.g. 0.5"),
    ("min_pass_pct", "Min pass rate %", "e.g. 40"),
    ("lookback_days", "Lookback days", "blank: default"),
)
# The requests' metrics first (their order makes the same pairs as --export), then the rest.
METRIC_ORDER: tuple[str, ...] = tuple(DEFAULT_METRICS) + tuple(m for m in SENSOR_NAMES if m not in DEFAULT_METRICS)
LIST_ORDER: dict[str, tuple[str, ...]] = {
    "underlyings": tuple(DEFAULT_UNDERLYINGS),
    "metrics": METRIC_ORDER,
    "strategies": load_selector_spec().strategy_keys,
}
SOURCE_HELP = {
    "synthetic": "synthetic: the regime-driven universe (offline, always there; the data folder is not used)",
    "history": "history: imported daily bars + DVOL in the data folder (no skew / term structure)",
    "harvested": "harvested: history plus harvested option-chain snapshots in the data folder",
}
COUNT_HELP = {
    "selected": "selected: a strategy counts where Greg's waterfall picks it",
    "passes": "passes: where its own condition holds, whatever earlier steps did",
}


class SetupScreen(AreaScreen):
    MODE = "setup"
    HELP_EXTRA = (("tab / shift+tab", "next / previous field"), ("space", "tick or untick a list entry"),
                  ("enter (in a field)", "run the scan"), ("escape (in a field)", "leave the field"))
    AUTO_FOCUS = "#underlyings"  # the first list, so space toggles at once (not the scroll area)
    BINDINGS = [
        Binding("ctrl+d", "defaults", "Defaults"),
        # escape leaves a text field (so single keys such as r work again), not the screen.
        Binding("escape", "leave_field", "Leave the field", show=False),
    ]

    def compose_body(self) -> ComposeResult:
        config: ScanConfig = self.app.config.resolved(self.app.data_dir)
        with VerticalScroll(id="setup-form"):
            yield Static(
                "[b]Scan setup[/b]  [dim]changes apply at once; [b]ctrl+r[/b] or [b]r[/b] (outside a field) "
                "or the Run button runs it; tab moves between fields; space toggles a list entry[/dim]",
                id="setup-intro",
            )
            with Horizontal(id="setup-lists"):
                with Vertical(classes="setup-list-box", id="box-underlyings"):
                    yield Label("Underlyings", classes="setup-heading")
                    yield CheckList[str](
                        *((u, u, u in config.underlyings) for u in DEFAULT_UNDERLYINGS),
                        id="underlyings",
                    )
                with Vertical(classes="setup-list-box", id="box-metrics"):
                    yield Label("Metrics (pairs of these)", classes="setup-heading")
                    yield CheckList[str](
                        *((name, name, name in config.metrics) for name in METRIC_ORDER),
                        id="metrics",
                    )
                with Vertical(classes="setup-list-box", id="box-strategies"):
                    yield Label("Strategies", classes="setup-heading")
                    yield CheckList[str](
                        *((label.removeprefix("Strategy "), key, key in config.strategies)
                          for key, label in load_selector_spec().strategies.items()),
                        id="strategies",
                    )
            with Horizontal(id="setup-source"):
                yield Label("Data source", classes="field-label")
                yield Select([(s, s) for s in SOURCES], value=config.source, allow_blank=False,
                             id="source", compact=True)
                yield Label("Data folder", classes="field-label", id="data-dir-label")
                yield Input(config.data_dir, placeholder="folder with history / harvested data", id="data_dir",
                            compact=True, classes="setup-input")
            with Grid(id="setup-fields"):
                for name, label, placeholder in INPUTS:
                    yield Label(label, classes="field-label")
                    yield Input(getattr(config, name), placeholder=placeholder, id=name, compact=True,
                                classes="setup-input")
                yield Label("Missing policy", classes="field-label")
                yield Select([(p, p) for p in MISSING_POLICIES], value=config.missing_policy,
                             allow_blank=False, id="missing_policy", compact=True)
                yield Label("Count mode", classes="field-label")
                yield Select([(c, c) for c in COUNT_MODES], value=config.count_mode, allow_blank=False,
                             id="count_mode", compact=True)
            yield Static("", id="setup-message")
            with Horizontal(id="setup-buttons"):
                yield Button("Run scan", id="run", variant="primary", compact=True)
                yield Button("Defaults", id="defaults", compact=True)
            yield Static("", id="setup-help")

    def on_mount(self) -> None:
        self.watch(self.app, "validation", self._show_validation, init=True)
        self.watch(self.app, "scan", lambda _s: self._show_validation(self.app.validation), init=False)

    # ------------------------------------------------------------------ reading the form
    def _form_config(self) -> ScanConfig:
        values = {name: self.query_one(f"#{name}", Input).value for name, _l, _p in INPUTS}
        values["data_dir"] = self.query_one("#data_dir", Input).value
        for name in ("source", "missing_policy", "count_mode"):
            value = self.query_one(f"#{name}", Select).value
            values[name] = value if isinstance(value, str) else getattr(self.app.config, name)
        for name in ("underlyings", "metrics", "strategies"):
            chosen = set(self.query_one(f"#{name}", SelectionList).selected)
            values[name] = tuple(v for v in LIST_ORDER[name] if v in chosen)
        return ScanConfig(**values)

    @on(Input.Changed, ".setup-input")
    @on(Select.Changed)
    @on(SelectionList.SelectedChanged)
    def _changed(self) -> None:
        self.app.set_config(self._form_config())

    @on(Input.Submitted, ".setup-input")
    def _submitted(self) -> None:
        self.app.run_action("run_scan")

    def _show_validation(self, validation: Validation) -> None:
        message = self.query_one("#setup-message", Static)
        for name, _l, _p in (*INPUTS, ("data_dir", "", "")):
            self.query_one(f"#{name}", Input).set_class(validation.field == name, "-invalid")
        for name in ("underlyings", "metrics", "strategies"):
            self.query_one(f"#box-{name}").set_class(validation.field == name, "-invalid")
        running = self.app.scan.running
        self.query_one("#run", Button).disabled = not validation.ok or running
        message.set_class(not validation.ok, "-error")
        if not validation.ok:
            message.update(f"✗ {escape(validation.error or '')}  [dim](the run key is disabled until this is fixed)[/dim]")
        else:
            params = validation.params
            grids = len(params.underlyings) * len(params.pairs)
            message.update(
                f"✓ Ready: {len(params.underlyings)} underlying(s) x {len(params.pairs)} pairs = {grids} grids "
                f"of {params.x_bins}x{params.y_bins}, {len(params.strategies)} strategies"
                + ("  [dim](a scan is running)[/dim]" if running else "")
            )
        source = self.app.config.source
        self.query_one("#data_dir", Input).set_class(source == "synthetic", "-unused")
        self.query_one("#setup-help", Static).update(
            "[dim]" + escape(SOURCE_HELP.get(source, source)) + "\n"
            + escape(COUNT_HELP.get(self.app.config.count_mode, "")) + "\n"
            "missing policy strict: a rule on a missing sensor is false; ignore-missing: rules on sensors the "
            "source lacks altogether are dropped\n"
            "lookback: synthetic generates that many days (default 1095); real sources keep the last N days[/dim]"
        )

    # ------------------------------------------------------------------ actions
    @on(Button.Pressed, "#run")
    def _run(self) -> None:
        self.app.run_action("run_scan")

    @on(Button.Pressed, "#defaults")
    def action_defaults(self) -> None:
        defaults = ScanConfig().resolved(self.app.data_dir)
        for name, _l, _p in (*INPUTS, ("data_dir", "", "")):
            self.query_one(f"#{name}", Input).value = getattr(defaults, name)
        for name in ("source", "missing_policy", "count_mode"):
            self.query_one(f"#{name}", Select).value = getattr(defaults, name)
        for name in ("underlyings", "metrics", "strategies"):
            selection = self.query_one(f"#{name}", SelectionList)
            wanted = set(getattr(defaults, name))
            selection.deselect_all()
            for value in wanted:
                selection.select(value)
        self.app.set_config(defaults)

    def action_leave_field(self) -> None:
        if isinstance(self.focused, Input):
            self.set_focus(None)
