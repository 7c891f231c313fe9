"""Scan setup: what the next ``r`` runs. Every change is validated at once; while a value is
invalid the message shows here (and in the status strip elsewhere) and ``r`` or Run says
why and goes to the field. For a real-data source, what each underlying has (per sensor:
first and last day, days present) shows below the fields once checked."""

from __future__ import annotations

from rich.console import Group
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Input, Label, Select, SelectionList, Static

from backtest.heatmaps.binning import BIN_MODES
from backtest.heatmaps.options import COUNT_MODES, DEFAULT_METRICS, DEFAULT_UNDERLYINGS, RANK_BY
from backtest.selector.evaluate import MISSING_POLICIES, policy_note
from backtest.selector.spec import load_selector_spec
from backtest.sensors.sources import SOURCES
from greg_core.contract import SENSOR_NAMES
from greg_tui.markup import escape
from greg_tui.screens.area import AreaScreen
from greg_tui.widgets.checklist import CheckList
from greg_tui.widgets.scan.config import ScanConfig, Validation
from greg_tui.widgets.scan.coverage import DataCheck, coverage_table

INPUTS: tuple[tuple[str, str, str], ...] = (
    ("x_bins", "X bins", "whole number"),
    ("y_bins", "Y bins", "whole number"),
    ("top_k", "Top K", "spots per grid"),
    ("min_occupancy_pct", "Min occupancy %", "e.g. 0.5"),
    ("min_pass_pct", "Min pass rate %", "e.g. 40"),
    ("lookback_days", "Lookback days", "blank: default"),
    ("clip_pct", "Clip tails %", "0: whole range"),
    ("horizon_days", "Horizon days", "outcomes, e.g. 30"),
    ("min_episodes", "Min episodes", "thin below, e.g. 8"),
)
# The choices of the form's drop-downs (field -> the engine's valid values).
CHOICES: dict[str, tuple[str, ...]] = {
    "source": tuple(SOURCES),
    "missing_policy": tuple(MISSING_POLICIES),
    "count_mode": tuple(COUNT_MODES),
    "bin_mode": BIN_MODES,
    "rank_by": RANK_BY,
}
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
                  ("enter (in a list)", "next field"), ("enter (in a field)", "run the scan"),
                  ("escape", "leave the field (then the number keys and r work)"))
    AUTO_FOCUS = "#underlyings"  # the first list, so space toggles at once (not the scroll area)
    BINDINGS = [
        # priority: a text field's own ctrl+d (delete right) must not swallow it.
        Binding("ctrl+d", "defaults", "Defaults", priority=True),
        # escape leaves a field or list (so single keys such as r or 4 work again), not the screen.
        Binding("escape", "leave_field", "Leave the field", show=False),
    ]

    def compose_body(self) -> ComposeResult:
        config: ScanConfig = self.app.config.resolved(self.app.data_dir)
        with VerticalScroll(id="setup-form"):
            yield Static(
                "[b]Scan setup[/b] [dim]applies at once; [b]r[/b] (outside a field), [b]ctrl+r[/b] or Run runs it; "
                "[b]tab[/b] next field, [b]space[/b] ticks[/dim]",
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
                for name, label in (("count_mode", "Count mode"), ("bin_mode", "Bins"), ("rank_by", "Rank by")):
                    yield Label(label, classes="field-label")
                    yield Select([(c, c) for c in CHOICES[name]], value=getattr(config, name), allow_blank=False,
                                 id=name, compact=True)
            yield Static("", id="setup-coverage")
            yield Static("", id="setup-help")
        with Vertical(id="setup-actions"):
            yield Static("", id="setup-message")
            with Horizontal(id="setup-buttons"):
                yield Button("Run scan", id="run", variant="primary", compact=True)
                yield Button("Defaults", id="defaults", compact=True)

    def on_mount(self) -> None:
        self._scan_running = self.app.scan.running
        self.watch(self.app, "validation", self._show_validation, init=True)
        self.watch(self.app, "data_check", lambda _c: self._show_validation(self.app.validation), init=False)
        self.watch(self.app, "scan", self._scan_changed, init=False)

    def _scan_changed(self, scan) -> None:
        """Only a scan starting or ending changes what setup shows (the Run button, the status);
        its progress messages, up to 5 a second, do not redraw the form and its coverage."""
        if scan.running != self._scan_running:
            self._scan_running = scan.running
            self._show_validation(self.app.validation)

    # ------------------------------------------------------------------ reading the form
    def _form_config(self) -> ScanConfig:
        values = {name: self.query_one(f"#{name}", Input).value for name, _l, _p in INPUTS}
        values["data_dir"] = self.query_one("#data_dir", Input).value
        for name in CHOICES:
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
    @on(Button.Pressed, "#run")
    def _run(self) -> None:
        self.app.action_run_scan()

    # ------------------------------------------------------------------ showing the state
    def _show_validation(self, validation: Validation) -> None:
        message = self.query_one("#setup-message", Static)
        for name, _l, _p in (*INPUTS, ("data_dir", "", "")):
            self.query_one(f"#{name}", Input).set_class(validation.field == name, "-invalid")
        for name in ("underlyings", "metrics", "strategies"):
            self.query_one(f"#box-{name}").set_class(validation.field == name, "-invalid")
        running = self.app.scan.running
        self.query_one("#run", Button).disabled = running
        problem = self.app.run_problem() if not validation.pending else None
        message.set_class(problem is not None, "-error")
        if problem is not None:
            message.update(f"✗ {escape(problem)}")
        elif validation.ok:
            params = validation.params
            grids = len(params.underlyings) * len(params.pairs)
            message.update(
                f"✓ Ready: {len(params.underlyings)} underlying(s) x {len(params.pairs)} pairs = {grids} grids "
                f"of {params.x_bins}x{params.y_bins}, {len(params.strategies)} strategies"
                + ("  [dim](a scan is running)[/dim]" if running else "")
            )
        else:
            message.update("[dim]checking...[/dim]")
        self._show_coverage(validation)
        config = self.app.config
        self.query_one("#data_dir", Input).set_class(config.source == "synthetic", "-unused")
        self.query_one("#setup-help", Static).update(
            "[dim]" + escape(SOURCE_HELP.get(config.source, config.source)) + "\n"
            + escape(COUNT_HELP.get(config.count_mode, "")) + "\n"
            + "missing policy " + escape(policy_note(config.missing_policy)) + "\n"
            "lookback: synthetic generates that many days (default 1095); real sources keep the last N days\n"
            "bins: equal-width (as requested) or quantile (equal counts); clip tails: percent of each tail left "
            "outside the axis range (counted as outliers)\n"
            "horizon: days after each sample the outcome looks at; min episodes: fewer independent "
            "episodes mark a cell thin; rank by: sweetness, or edge (the outcome's lower 95% bound)[/dim]"
        )

    def _show_coverage(self, validation: Validation) -> None:
        panel = self.query_one("#setup-coverage", Static)
        params = validation.params
        if params is None or params.source == "synthetic":
            panel.update("")
            return
        check: DataCheck | None = self.app.data_check
        if check is None:
            panel.update(f"[dim]Checking the {escape(params.source)} data of {escape(', '.join(params.underlyings))}...[/dim]")
            return
        lines = []
        for underlying, error in check.errors.items():
            lines.append(f"[b]{escape(underlying)}: no usable data[/b] - {escape(error)}")
        for underlying, cover in check.coverage.items():
            for warning in cover.warnings:
                lines.append(f"[b]{escape(underlying)}: ⚠ {escape(warning)}[/b]")
        if check.coverage:
            panel.update(Group(Text.from_markup("\n".join(["[b]Data per sensor[/b] first..last day (days with a value)",
                                                            *lines])), coverage_table(check)))
        else:
            panel.update("\n".join(lines))

    def show_problem(self, validation: Validation) -> None:
        """``r`` on an invalid setup: go to the field at fault (the message says why)."""
        if validation.field is not None:
            target = self.query_one(f"#{validation.field}")
            if not isinstance(target, Input | SelectionList):
                target = target.query_one(SelectionList)
            target.focus()
            self.query_one("#setup-form").scroll_to_widget(target)

    # ------------------------------------------------------------------ actions
    @on(Button.Pressed, "#defaults")
    def action_defaults(self) -> None:
        defaults = ScanConfig().resolved(self.app.data_dir)
        for name, _l, _p in (*INPUTS, ("data_dir", "", "")):
            self.query_one(f"#{name}", Input).value = getattr(defaults, name)
        for name in CHOICES:
            self.query_one(f"#{name}", Select).value = getattr(defaults, name)
        for name in ("underlyings", "metrics", "strategies"):
            selection = self.query_one(f"#{name}", SelectionList)
            wanted = set(getattr(defaults, name))
            selection.deselect_all()
            for value in wanted:
                selection.select(value)
        self.app.set_config(defaults)

    def action_leave_field(self) -> None:
        self.set_focus(None)
