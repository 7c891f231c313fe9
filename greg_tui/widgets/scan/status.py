"""The scan status strip, docked above the footer on every screen.

While a sweep runs: what the engine is doing (underlying / pair / strategies, then the file it
writes, then that the results are moving into place, when it is too late to cancel), a
progress bar, elapsed and remaining time, and how to cancel. It repaints on its own 5 Hz
timer, not on every engine message (the engine can report 100+ steps a second, and
repainting that often only competes with the sweep thread for the GIL: at 15 Hz the UI
thread took 0.23 s of CPU during a 1 s sweep, at 5 Hz 0.08 s; scripts/bench_app.py), so the
bar and elapsed/remaining keep moving between engine steps; the worker posts at most one
progress message per repaint. When the setup is invalid (and nothing
runs) it says so; while the engine is still loading it says nothing.
"""

from __future__ import annotations

import time

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Label, ProgressBar

from greg_tui.markup import escape
from greg_tui.widgets.scan.state import (
    RemainingEstimate,
    ScanState,
    format_seconds,
    overall_fraction,
)

TICK_SECONDS = 1 / 5
BAR_STEPS = 1000


class ScanStatus(Widget):
    """Progress of the running sweep (hidden when idle and the setup is valid)."""

    DEFAULT_CSS = """
    ScanStatus {
        height: auto;
        display: none;
        background: $panel;
        padding: 0 1;
        &.-running, &.-invalid {
            display: block;
        }
        &.-invalid {
            background: $error 20%;
        }
        #scan-message {
            width: 1fr;
            height: 1;
        }
        #scan-bar-row {
            height: 1;
            display: none;
        }
        &.-running #scan-bar-row {
            display: block;
        }
        #scan-bar, #scan-bar Bar {
            width: 1fr;
        }
        #scan-times {
            width: 42;  /* fixed: its updates repaint without a layout pass */
            padding: 0 0 0 1;
        }
    }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._last_shown: tuple = ()
        self._estimate = RemainingEstimate(0.0)
        self._timer: Timer | None = None  # repaints while a scan runs (see module)

    def compose(self) -> ComposeResult:
        yield Label("", id="scan-message")
        with Horizontal(id="scan-bar-row"):
            yield ProgressBar(total=BAR_STEPS, show_eta=False, id="scan-bar")
            yield Label("", id="scan-times")

    def on_mount(self) -> None:
        self._timer = self.set_interval(TICK_SECONDS, self._tick, pause=True)
        self.watch(self.app, "scan", self._scan_changed, init=True)
        self.watch(self.app, "validation", self._validation_changed, init=True)
        self.watch(self.app, "data_check", lambda _check: self._validation_changed(self.app.validation), init=False)

    # ------------------------------------------------------------------ app state
    def _scan_changed(self, state: ScanState) -> None:
        """Start / stop / cancel transitions only; progress is drawn by the timer."""
        if state.running == self.has_class("-running") and not state.cancelling:
            return
        self.set_class(state.running, "-running")
        if state.running:
            if self._estimate.started != state.started:
                self._estimate = RemainingEstimate(state.started)
            if self._timer is not None:
                self._timer.resume()
            self._render_state(state)
        else:
            if self._timer is not None:
                self._timer.pause()
            self._validation_changed(self.app.validation)

    def _validation_changed(self, validation) -> None:
        problem = None if validation.pending or self.app.scan.running else self.app.run_problem()
        self.set_class(problem is not None, "-invalid")
        if problem is not None:
            self.query_one("#scan-message", Label).update(
                f"[b]Scan setup not ready:[/b] {escape(problem)} - press [b]3[/b] to fix it."
            )

    def _tick(self) -> None:
        state: ScanState = self.app.scan
        if state.running and self.screen.is_current:  # screens in the background wait
            self._render_state(state)

    # ------------------------------------------------------------------ drawing
    def _render_state(self, state: ScanState) -> None:
        now = time.monotonic()
        fraction = overall_fraction(state)
        elapsed = state.elapsed(now)
        if state.committing:
            message = f"[b]Finishing[/b] - {escape(state.message)} [dim](too late to cancel)[/dim]"
        elif state.cancelling:
            message = "[b]Cancelling[/b] - previous results stay as they were"
        else:
            message = f"[b]Scanning[/b] - {escape(state.message)}"
        if state.committing or state.cancelling:
            times = f"{format_seconds(elapsed)} elapsed"
        else:
            remaining = self._estimate.update(now, fraction)
            times = (
                f"{format_seconds(elapsed)} elapsed, "
                + (f"~{format_seconds(remaining)} left" if remaining is not None else "estimating")
                + " - [b]esc[/b] cancels"
            )
        shown = (round(fraction * BAR_STEPS), message, times)
        if shown == self._last_shown:
            return
        self._last_shown = shown
        self.query_one("#scan-message", Label).update(message, layout=False)  # both fixed in size
        self.query_one("#scan-times", Label).update(times, layout=False)
        self.query_one("#scan-bar", ProgressBar).update(progress=shown[0])
