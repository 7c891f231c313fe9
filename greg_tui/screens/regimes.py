"""Regimes of the synthetic universe per underlying, and rebuilding them from real data."""

from __future__ import annotations

import warnings
from pathlib import Path

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.reactive import reactive
from textual.widgets import Label, ProgressBar, Static

from backtest.heatmaps.options import DEFAULT_UNDERLYINGS
from greg_core.settings import default_regime_file
from greg_tui.markup import escape
from greg_tui.outcome_labels import model_realism
from greg_tui.screens.area import AreaScreen
from greg_tui.widgets.regimes.render import (
    dynamics_text,
    parameter_table,
    provenance_text,
    realism_text,
    skew_table,
    transition_table,
)
from synthetic.regime_model import load_regime_model


class RegimesScreen(AreaScreen):
    MODE = "regimes"
    BINDINGS = [
        Binding("u", "underlying(1)", "Underlying"),
        Binding("b", "rebuild", "Rebuild from data"),
        Binding("escape", "cancel_rebuild", "Cancel rebuild / back", show=False),
    ]

    underlying: reactive[str] = reactive(DEFAULT_UNDERLYINGS[0])

    def compose_body(self) -> ComposeResult:
        with VerticalScroll(id="regimes-body"):
            yield Static("", id="regime-head")
            yield Static("", id="regime-provenance")
            with Vertical(id="regime-build"):
                yield Label("", id="regime-build-message")
                yield ProgressBar(total=1000, show_eta=False, id="regime-build-bar")
            yield Static("", id="regime-table")
            yield Static("", id="regime-skew")
            yield Static("", id="regime-realism")
            yield Static("", id="regime-matrix")

    def on_mount(self) -> None:
        self.watch(self.app, "regime_version", lambda _v: self._load(), init=False)
        self.watch(self.app, "regime_build", self._build_changed, init=True)
        self.watch(self.app, "theme", lambda _t: self._load(), init=False)
        self._load()

    def watch_underlying(self) -> None:
        if self.is_mounted:
            self._load()

    @property
    def regime_file(self) -> str:
        return str(self.app.regime_file or default_regime_file())

    def _load(self) -> None:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                model = load_regime_model(self.underlying, self.app.regime_file)
            except Exception as exc:  # load_regime_model falls back itself; belt and braces
                self.query_one("#regime-head", Static).update(f"[b]Cannot load regimes:[/b] {escape(str(exc))}")
                return
        warning = "; ".join(str(w.message) for w in caught) or None
        self.query_one("#regime-head", Static).update(
            f"Regimes for [b]{escape(model.label)}[/b]: {model.n_regimes} regimes, {model_realism(model)}  "
            "[dim]([b]u[/b] other underlying, [b]b[/b] rebuild from real data)[/dim]"
        )
        self.query_one("#regime-provenance", Static).update(provenance_text(model, self.regime_file, Path(self.regime_file).exists(), warning))
        self.query_one("#regime-realism", Static).update(realism_text(model) + "\n" + dynamics_text(model))
        self.query_one("#regime-table", Static).update(parameter_table(model))
        self.query_one("#regime-skew", Static).update(skew_table(model))
        theme = self.app.current_theme
        self.query_one("#regime-matrix", Static).update(transition_table(model, theme is None or theme.dark))

    def _build_changed(self, build) -> None:
        self.set_class(build is not None, "-building")
        if build is None:
            return
        underlying, fraction, message = build
        self.query_one("#regime-build-message", Label).update(
            f"Rebuilding [b]{escape(underlying)}[/b] regimes: {escape(message)}  [dim](esc cancels)[/dim]"
        )
        self.query_one("#regime-build-bar", ProgressBar).update(progress=round(fraction * 1000))

    def action_underlying(self, step: int) -> None:
        names = list(DEFAULT_UNDERLYINGS)
        index = names.index(self.underlying) if self.underlying in names else 0
        self.underlying = names[(index + step) % len(names)]

    def action_rebuild(self) -> None:
        self.app.start_regime_build(self.underlying)

    def action_cancel_rebuild(self) -> None:
        if self.app.cancel_regime_build():
            self.notify("The rebuild stops after its current step; the regime file stays unchanged.")
        else:
            self.action_home()
