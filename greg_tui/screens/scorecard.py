"""Did it pay? The loaded run's scorecard per underlying (issue 9): each group's forward edge,
each strategy's structure P&L, the signals with their multiple-testing line, the cells'
multiple-testing line and the walk-forward count, labelled with what the outcomes are."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Static

from greg_tui.markup import escape
from greg_tui.outcome_labels import trust_by_underlying
from greg_tui.screens.area import AreaScreen
from greg_tui.screens.sweetspots import later_third_baselines
from greg_tui.widgets.scorecard.render import (
    group_table,
    head_text,
    pnl_table,
    signal_table,
    signals_note,
    walk_forward_text,
)
from greg_tui.widgets.sweetspots.rows import narrow_label

PARTS = ("head", "groups", "pnl", "signals", "tests", "walk")


class ScorecardScreen(AreaScreen):
    MODE = "scorecard"
    BINDINGS = [Binding("u", "next_underlying", "Underlying")]

    def __init__(self) -> None:
        super().__init__()
        self.underlying: str | None = None
        self._shown: tuple | None = None  # (results, underlying) last drawn

    def compose_body(self) -> ComposeResult:
        with VerticalScroll(id="scorecard-body"):
            for part in PARTS:
                yield Static("", id=f"scorecard-{part}", classes="scorecard-part")

    def on_mount(self) -> None:
        self.watch(self.app, "results_loaded", lambda _loaded: self._draw(), init=True)

    def on_screen_resume(self) -> None:
        self._draw()

    def action_next_underlying(self) -> None:
        results = self.app.results
        if results is None or not results.underlyings:
            return
        names = results.underlyings
        index = names.index(self.underlying) + 1 if self.underlying in names else 0
        self.underlying = names[index % len(names)]
        self._draw()

    def _part(self, name: str) -> Static:
        return self.query_one(f"#scorecard-{name}", Static)

    def _say(self, text: str) -> None:
        self._part("head").update(text)
        for name in PARTS[1:]:
            self._part(name).update("")
            self._part(name).display = False

    def _draw(self) -> None:
        results = self.app.results
        if results is None:
            self._shown = None
            self._say("[b]No results loaded.[/b] Press [b]r[/b] to run a scan, or [b]3[/b] to set one up.")
            return
        if self.underlying not in results.underlyings:
            self.underlying = results.underlyings[0] if results.underlyings else None
        if self._shown == (results, self.underlying):
            return
        self._shown = (results, self.underlying)
        cards = (results.scorecard or {}).get("underlyings") or {}
        card = cards.get(self.underlying) if self.underlying else None
        if not isinstance(card, dict):
            self._say(
                f"[b]This run has no scorecard{' for ' + escape(self.underlying) if cards else ''}.[/b]\n\n"
                "It was computed before forward outcomes existed (or without them). Press [b]r[/b] to run "
                "a new scan: its scorecard says what happened after each group's days."
            )
            return
        underlying = self.underlying
        trust = trust_by_underlying(results, engine_ready=True).get(underlying)
        labels = {s["key"]: narrow_label(s["label"]) for s in results.strategies}
        others = [u for u in results.underlyings if u != underlying]
        head = head_text(underlying, card, trust.label if trust else None)
        if others:
            head += f"  [dim]([b]u[/b]: {escape(', '.join(others))})[/dim]"
        self._part("head").update(head)
        baseline = later_third_baselines(results)
        counts = None
        if baseline is not None:  # this underlying's sweet spots only
            from backtest.heatmaps.markdown import held_up_counts

            counts = held_up_counts([r for r in results.records if r.underlying == underlying], baseline)
        cells = (results.scorecard or {}).get("multiple_testing") or {}
        tests = [note for note in (
            signals_note(card),
            f"Cells, multiple testing ({escape(str(cells.get('what', 'every underlying')))}): "
            f"{escape(str(cells['sentence']))}" if cells.get("sentence") else None,
            *(f"Note: {escape(str(note))}" for note in card.get("notes") or []),
        ) if note]
        parts = {
            "groups": group_table(card, labels),
            "pnl": pnl_table(card, labels),
            "signals": signal_table(card),
            "tests": "\n".join(tests) or None,
            "walk": walk_forward_text(card, counts),
        }
        for name, content in parts.items():
            widget = self._part(name)
            widget.display = content is not None
            widget.update(content if content is not None else "")
