"""What the selector (5) and series (6) screens share: one (underlying, source) loaded in a
worker as a ``MarketSpan`` (sensors, forward outcomes over the results' horizon, decisions),
reloaded only when what it was loaded from changes, and the keys ``u`` ``c`` ``p``.

The source and missing policy follow the scan setup until the user picks their own here;
real sources read the setup's data folder, the synthetic one the app's regime file; the
horizon, length and seed are the loaded results' when they came from the same source (the
grid's cells then hold exactly the span's days), else 30 days and the source's default.
"""

from __future__ import annotations

from textual import on, work
from textual.binding import Binding
from textual.message import Message
from textual.reactive import reactive
from textual.worker import get_current_worker

from backtest.heatmaps.options import DEFAULT_UNDERLYINGS
from backtest.selector.evaluate import MISSING_POLICIES
from backtest.sensors.sources import SOURCES, SYNTHETIC
from greg_core.errors import MarketDataError
from greg_tui.markup import escape
from greg_tui.screens.area import AreaScreen
from greg_tui.widgets.selector.span import (
    MarketSpan,
    SpanKey,
    horizon_of,
    load_span,
    results_window,
)


class SpanScreen(AreaScreen):
    """An area drawn from one loaded span; subclasses draw it in ``_show``."""

    BINDINGS = [
        Binding("u", "underlying", "Underlying"),
        Binding("c", "source", "Source"),
        Binding("p", "policy", "Policy"),
    ]

    class SpanLoaded(Message):
        def __init__(self, key: SpanKey, span: MarketSpan) -> None:
            super().__init__()
            self.key, self.span = key, span

    class SpanFailed(Message):
        def __init__(self, key: SpanKey, error: str) -> None:
            super().__init__()
            self.key, self.error = key, error

    underlying: reactive[str] = reactive(DEFAULT_UNDERLYINGS[0])
    source: reactive[str] = reactive(SYNTHETIC)
    policy: reactive[str] = reactive("strict")

    def __init__(self) -> None:
        super().__init__()
        self._span: MarketSpan | None = None
        self._error: str | None = None
        self._loaded_key: SpanKey | None = None
        self._own_choice = False  # the user picked a source or policy here (stop following setup)

    def on_mount(self) -> None:
        self.watch(self.app, "config", self._config_changed, init=True)
        self.watch(self.app, "results_loaded", self._results_changed, init=False)
        self.watch(self.app, "theme", lambda _t: self._show() if self._span is not None else None, init=False)
        if self._loaded_key is None:
            self._request()

    def _config_changed(self, config) -> None:
        # Follow the scan setup's data source and policy until the user picks their own here;
        # always its data folder. Reloads wait until this screen is shown (not every keystroke
        # in the setup's data folder field).
        if not self._own_choice and config.source in SOURCES:
            self.set_reactive(SpanScreen.source, config.source)
            if self.policy != config.missing_policy:
                self.set_reactive(SpanScreen.policy, config.missing_policy)
                if self._span is not None and self.is_current:
                    self._show()
        self._reload_if_stale()

    def _results_changed(self, _loaded: int) -> None:
        self._reload_if_stale()  # new results may have another horizon

    def _reload_if_stale(self) -> None:
        if self.is_mounted and self.is_current and self._key() != self._loaded_key:
            self._request()

    def on_screen_resume(self) -> None:
        if self._key() != self._loaded_key:
            self._request()
        elif self._span is not None:
            self._show()  # the policy may have changed meanwhile
            # Its files may have changed (a rebuilt regime file, a new harvest): the worker
            # hands back the same span when they did not, and nothing moves.
            self._load(self._loaded_key)

    def _key(self) -> SpanKey:
        results = self.app.results
        window = results_window(results, self.source)
        if self.source == SYNTHETIC:
            return SpanKey(self.underlying, self.source, None, self.app.regime_file, horizon_of(results), *window)
        return SpanKey(self.underlying, self.source, self.app.effective_data_dir, None, horizon_of(results), *window)

    def _request(self) -> None:
        self._loaded_key = self._key()
        self._span, self._error = None, None
        self._show(loading=True)
        self._load(self._loaded_key)

    @work(thread=True, exclusive=True, group="span", exit_on_error=False)
    def _load(self, key: SpanKey) -> None:
        worker = get_current_worker()
        try:
            span = load_span(key, cancelled=lambda: worker.is_cancelled)
        except MarketDataError as exc:
            self.post_message(self.SpanFailed(key, f"No usable {key.source} data: {exc}"))
        except Exception as exc:  # never a traceback: the screen says what went wrong
            self.post_message(self.SpanFailed(key, f"{type(exc).__name__}: {exc}"))
        else:
            if span is not None and not worker.is_cancelled:
                self.post_message(self.SpanLoaded(key, span))

    @on(SpanLoaded)
    def _loaded(self, message: SpanLoaded) -> None:
        if message.key == self._key() and message.span is not self._span:
            self._span, self._error = message.span, None
            self.span_loaded(message.span)
            self._show()
            self.refresh_bindings()  # keys that need data

    @on(SpanFailed)
    def _failed(self, message: SpanFailed) -> None:
        if message.key == self._key():
            self._span, self._error = None, message.error
            self._show()

    def span_loaded(self, span: MarketSpan) -> None:
        """A new span arrived (before it is drawn): subclasses pick their day or series."""

    def choice_text(self) -> str:
        """``BTC (u)  synthetic (c)  policy strict (p)``: the head line's start."""
        return (f"[b]{escape(self.underlying)}[/b] [dim](u)[/dim]  [b]{escape(self.source)}[/b] [dim](c)[/dim]  "
                f"policy [b]{escape(self.policy)}[/b] [dim](p)[/dim]")

    def window_note(self) -> str:
        """'; the loaded results' 400 days' when the span is the results' data, else ''."""
        key = self._loaded_key
        if key is None or key.lookback_days is None:
            return ""
        return f"; the loaded results' {key.lookback_days} days"

    def _show(self, loading: bool = False) -> None:
        raise NotImplementedError

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
        if self._span is not None:
            self._show()
