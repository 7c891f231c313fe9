"""greg-tui: the terminal research lab (Textual).

State lives on the app (results, scan setup, running scan) as reactives; screens and widgets
watch it. CPU work (the sweep, a regime rebuild, synthetic sensors for the selector) runs in
thread workers that only post messages (``greg_tui.messages``); the handlers here update the
state on the UI thread. Errors become notifications or panels, never tracebacks.

Areas (one Textual "mode" each, so each keeps its own state): 1 sweet spots, 2 grid,
3 setup, 4 regimes, 5 selector. ``r`` runs the scan from anywhere, ``escape`` cancels it.

Startup: importing this module imports Textual and the light sweet-spot screen only. The
research engine (pandas, scipy) loads in a thread worker after the first frame; until it is
ready the start screen says so, and a key that needs it (another area, ``r``, ``?``) is
remembered and carried out once it is.
"""

from __future__ import annotations

import asyncio
import importlib
import sys
import threading
import time
from collections import Counter
from dataclasses import replace
from pathlib import Path

from textual import work
from textual.app import App
from textual.binding import Binding
from textual.reactive import var

from greg_core.settings import default_base_dir, output_dir_for
from greg_tui.areas import AREA_BY_MODE, AREAS, HOME
from greg_tui.messages import (
    EngineFailed,
    EngineReady,
    OpenGrid,
    RegimeBuildDone,
    RegimeBuildFailed,
    RegimeBuildProgress,
    SweepFailed,
    SweepFinished,
    SweepProgress,
    SweepStopped,
)
from greg_tui.screens.help import HelpScreen
from greg_tui.widgets.scan.config import PENDING, ScanConfig, Validation, validate_config
from greg_tui.widgets.scan.state import ScanState

# The research engine (pandas, scipy, numpy) and the screens built on it take seconds to
# import: they load in a thread worker after the first frame (see ``GregApp.on_mount``).
ENGINE_MODULES: tuple[str, ...] = (
    "backtest.heatmaps.run",
    "backtest.heatmaps.store",
    "backtest.sensors.sources",
    "synthetic.regime_model",
    "greg_tui.screens.grid",
    "greg_tui.screens.setup",
    "greg_tui.screens.regimes",
    "greg_tui.screens.selector",
)


NAV = Binding.Group("Screens", compact=True)
DARK_THEME, LIGHT_THEME = "textual-dark", "textual-light"


def one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 400 else text[:397] + "..."



class _RegimeBuildCancelled(Exception):
    """Raised from the builder's progress callback to stop a rebuild between steps."""

class GregApp(App):
    """Keyboard-driven research lab for Deribit options (research only, never trades)."""

    CSS_PATH = "greg_tui.tcss"
    TITLE = "greg-tui"
    MODES = {area.mode: area.make_screen for area in AREAS}  # each imported when first shown
    DEFAULT_MODE = HOME.mode
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (120, "-wide")]
    VERTICAL_BREAKPOINTS = [(0, "-short"), (36, "-tall")]

    BINDINGS = [
        *(Binding(area.key, area.action, area.title, group=NAV, show=False) for area in AREAS),
        Binding("r", "run_scan", "Run scan"),
        # ctrl+r also works inside a text field (where r types an r); the footer shows one of them.
        Binding("ctrl+r", "run_scan", "Run scan", priority=True),
        Binding("escape", "cancel_scan", "Cancel scan", priority=True,
                tooltip="Cancel the running scan (previous results stay)"),
        Binding("question_mark", "help", "Help", key_display="?"),
        Binding("q", "quit", "Quit"),
        Binding("ctrl+t", "toggle_theme", "Light/dark", show=False),
    ]

    # The engine modules are imported (see on_mount); engine_error: they cannot be.
    engine_ready: var[bool] = var(False)
    engine_error: var[str | None] = var(None)
    # Loaded results (a backtest.heatmaps.store.StoredSweep; None: nothing on disk, not loaded
    # yet, or unreadable: see results_error).
    results: var[object | None] = var(None, always_update=True)
    results_error: var[str | None] = var(None)
    results_version: var[int] = var(0)  # bumped after every (re)load; screens watch it
    # The scan setup as the form holds it, and its validation.
    config: var[ScanConfig] = var(ScanConfig())
    validation: var[Validation] = var(PENDING)
    # The running scan.
    scan: var[ScanState] = var(ScanState(), always_update=True)
    # Regime rebuild: (underlying, fraction, message) while running, else None.
    regime_build: var[tuple[str, float, str] | None] = var(None, always_update=True)
    regime_version: var[int] = var(0)

    def __init__(
        self,
        base_dir: Path | None = None,
        data_dir: Path | None = None,
        regime_file: Path | None = None,
    ) -> None:
        super().__init__()
        self.base_dir = Path(base_dir) if base_dir is not None else default_base_dir()
        self.data_dir = Path(data_dir) if data_dir is not None else None
        self.regime_file = Path(regime_file) if regime_file is not None else None
        # Seams for tests and benchmarks: the engine entry points the workers call (None: the
        # engine's run_greg_sweetspot_sweep / build_regime_model, imported in the worker).
        self.sweep_function = None
        self.regime_builder = None
        self._cancel_event: threading.Event | None = None
        self._regime_cancel: threading.Event | None = None
        self._pending: dict[str, object] = {}  # actions asked for before the engine was ready
        self.engine_seconds: float | None = None  # how long the background import took

    @property
    def output_dir(self) -> Path:
        return output_dir_for(self.base_dir)

    @property
    def effective_data_dir(self) -> Path | None:
        """The real-data folder: the scan setup's, else --data-dir (None: the engine's default)."""
        text = (self.config.data_dir or "").strip()
        return Path(text).expanduser() if text else self.data_dir

    def on_mount(self) -> None:
        self.theme = DARK_THEME
        if all(name in sys.modules for name in ENGINE_MODULES):
            self._engine_loaded()  # already imported (tests, a second app): no need to wait
        else:
            self._engine_worker()

    # ------------------------------------------------------------------ the engine
    @work(thread=True, group="engine", name="engine", exit_on_error=False)
    def _engine_worker(self) -> None:
        started = time.monotonic()
        try:
            for name in ENGINE_MODULES:
                importlib.import_module(name)
        except Exception as exc:
            self.post_message(EngineFailed(f"{type(exc).__name__}: {one_line(exc)}"))
        else:
            self.post_message(EngineReady(time.monotonic() - started))

    def on_engine_ready(self, message: EngineReady) -> None:
        self.engine_seconds = message.seconds
        self._engine_loaded()

    def on_engine_failed(self, message: EngineFailed) -> None:
        self.engine_error = message.error
        self.results_error = f"The research engine cannot be loaded ({message.error})"
        self.results_version += 1
        self._pending.clear()
        self.notify(message.error, title="Engine not loaded", severity="error", timeout=20)

    def _engine_loaded(self) -> None:
        self.engine_ready = True
        self.set_config(self.config)
        self.load_results()
        pending, self._pending = self._pending, {}
        for action in pending.values():
            action()

    def _after_engine(self, kind: str, what: str, action) -> bool:
        """Before the engine is ready: remember ``action`` (one per ``kind``) and say so; True
        when it was deferred (or refused: the engine failed to load)."""
        if self.engine_ready:
            return False
        if self.engine_error is not None:
            self.notify(f"Cannot {what}: {self.engine_error}", title="Engine not loaded", severity="error")
            return True
        self._pending[kind] = action
        self.notify(f"Loading the research engine; will {what} as soon as it is ready.", title="One moment",
                    timeout=3)
        return True

    # ------------------------------------------------------------------ results
    def load_results(self) -> None:
        """(Re)read the results folder; a damaged set becomes ``results_error``."""
        from backtest.heatmaps.store import has_results, load_sweep_results
        from greg_core.errors import SweepResultsError

        results, error = None, None
        folder = self.output_dir
        try:
            found = has_results(folder)
        except OSError as exc:  # an unreadable base folder
            found, error = False, f"cannot read {folder}: {one_line(exc)}"
        if found:
            try:
                results = load_sweep_results(folder)
                # Touch what the screens use, so a malformed manifest fails here, once.
                _ = (results.underlyings, results.pairs, results.strategies, results.manifest["parameters"])
            except (SweepResultsError, OSError) as exc:
                results, error = None, one_line(exc)
            except Exception as exc:  # a manifest of the right format but wrong shape
                results, error = None, f"greg_heatmap_manifest.json is malformed ({type(exc).__name__}: {one_line(exc)})"
        self.results_error = error
        self.results = results
        self.results_version += 1

    # ------------------------------------------------------------------ navigation
    def action_show(self, mode: str) -> None:
        area = AREA_BY_MODE[mode]
        if area.needs_engine and self._after_engine("show", f"open {area.title}", lambda: self.switch_mode(mode)):
            return
        self.switch_mode(mode)

    async def action_quit(self) -> None:
        """Quit; a running scan is cancelled first and given a moment to stop between steps,
        so its files are never left half moved into place."""
        if self.scan.running and self._cancel_event is not None:
            self._cancel_event.set()
            self.scan = replace(self.scan, cancelling=True)
            self.notify("Cancelling the scan before quitting...", severity="warning")
        if self._regime_cancel is not None:
            self._regime_cancel.set()
        workers = [w for w in self.workers if w.group in ("sweep", "regimes") and w.is_running]
        if workers:
            deadline = time.monotonic() + 15.0
            while any(w.is_running for w in workers) and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
        self.exit()

    def action_help(self) -> None:
        if self._after_engine("help", "show the help", self.action_help):
            return
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def action_toggle_theme(self) -> None:
        self.theme = LIGHT_THEME if self.theme == DARK_THEME else DARK_THEME

    async def on_open_grid(self, message: OpenGrid) -> None:
        from greg_tui.screens.grid import GridScreen

        await self.switch_mode("grid")
        screen = self.screen
        if isinstance(screen, GridScreen):
            screen.show_target(message)

    # ------------------------------------------------------------------ scan setup
    def set_config(self, config: ScanConfig) -> Validation:
        """Store the setup and validate it (once the engine is loaded: until then it is kept
        as it is and checked when the engine arrives)."""
        if self.engine_ready:
            config = config.resolved(self.data_dir)
            self.config = config
            self.validation = validate_config(config)
            self.refresh_bindings()
        else:
            self.config = config
        return self.validation

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "cancel_scan":  # escape closes the help screen first
            return self.scan.running and not isinstance(self.screen, HelpScreen)
        if action == "run_scan" and not self.scan.running and not self.validation.ok and not self.validation.pending:
            return None  # shown disabled; the status strip says why
        return True

    # ------------------------------------------------------------------ the sweep
    def action_run_scan(self) -> None:
        if self.scan.running:
            self.notify("A scan is already running; wait for it or press escape to cancel it.",
                        title="Scan running", severity="warning")
            return
        if self._after_engine("run", "run the scan", self.action_run_scan):
            return
        validation = self.validation
        if not validation.ok or validation.params is None:
            self.notify(f"Fix the scan setup first: {validation.error}", title="Cannot run", severity="error")
            return
        self._cancel_event = threading.Event()
        self.scan = ScanState.start()
        self.refresh_bindings()
        self._sweep_worker(validation.params, validation.data_dir, self._cancel_event)

    def action_cancel_scan(self) -> None:
        if not self.scan.running or self._cancel_event is None:
            return
        if self.scan.committing:
            self.notify("The results are being moved into place; too late to cancel.", title="Finishing")
            return
        self._cancel_event.set()
        self.scan = replace(self.scan, cancelling=True)

    @work(thread=True, exclusive=True, group="sweep", name="sweep", exit_on_error=False)
    def _sweep_worker(self, params, data_dir: Path | None, cancel: threading.Event) -> None:
        from backtest.heatmaps.run import run_greg_sweetspot_sweep
        from greg_core.errors import MarketDataError, SweepCancelled, SweepConfigError

        started = time.monotonic()
        sweep = self.sweep_function or run_greg_sweetspot_sweep

        def progress(fraction: float, message: str) -> None:
            self.post_message(SweepProgress(float(fraction), str(message), time.monotonic()))

        try:
            path = sweep(
                self.base_dir,
                params.underlyings,
                params.metrics,
                params.strategies,
                params.x_bins,
                params.y_bins,
                params.min_env_frac,
                params.min_pass_frac,
                params.top_k,
                source=params.source,
                lookback_days=params.lookback_days,
                missing_policy=params.missing_policy,
                count_mode=params.count_mode,
                progress=progress,
                cancel=cancel,
                seed=params.seed,
                data_dir=data_dir,
                regime_file=self.regime_file,
            )
        except SweepCancelled:
            self.post_message(SweepStopped(time.monotonic() - started))
        except MarketDataError as exc:
            self.post_message(SweepFailed(
                f"No usable real data: {one_line(exc)}. Pick other underlyings, another data folder or "
                "the synthetic source in setup (3)."
            ))
        except (SweepConfigError, ValueError, OSError) as exc:
            self.post_message(SweepFailed(one_line(exc)))
        except Exception as exc:  # never a traceback in the terminal
            self.post_message(SweepFailed(f"{type(exc).__name__}: {one_line(exc)}"))
        else:
            self.post_message(SweepFinished(Path(path), time.monotonic() - started))

    def on_sweep_progress(self, message: SweepProgress) -> None:
        if self.scan.running:
            self.scan = self.scan.progressed(message.fraction, message.message, message.at)

    def _scan_ended(self) -> None:
        self.scan = replace(self.scan, running=False, cancelling=False, finished=time.monotonic())
        self._cancel_event = None
        self.refresh_bindings()

    def on_sweep_finished(self, message: SweepFinished) -> None:
        self._scan_ended()
        self.load_results()
        if self.results is None:
            self.notify(f"The scan finished but its results cannot be read: {self.results_error}",
                        title="Scan finished", severity="error", timeout=10)
            return
        from greg_tui.widgets.sweetspots.rows import rows_from_records

        per_underlying = Counter(row.underlying for row in rows_from_records(self.results.records))
        total = sum(per_underlying.values())
        detail = ", ".join(f"{u} {n}" for u, n in per_underlying.items())
        self.notify(f"{total} sweet spots found ({detail}) in {message.seconds:.1f}s.",
                    title="Scan finished", timeout=6)

    def on_sweep_failed(self, message: SweepFailed) -> None:
        self._scan_ended()
        self.notify(f"{message.error}\nPrevious results are unchanged.", title="Scan failed",
                    severity="error", timeout=12)

    def on_sweep_stopped(self, message: SweepStopped) -> None:
        self._scan_ended()
        self.notify("Scan cancelled; the previous results are unchanged.", title="Cancelled",
                    severity="warning")

    # ------------------------------------------------------------------ regimes
    def start_regime_build(self, underlying: str) -> None:
        if self.regime_build is not None:
            self.notify(f"Regimes for {self.regime_build[0]} are being rebuilt already.", severity="warning")
            return
        self._regime_cancel = threading.Event()
        self.regime_build = (underlying, 0.0, "loading real data")
        self._regime_worker(underlying, self._regime_cancel)

    def cancel_regime_build(self) -> bool:
        if self.regime_build is None or self._regime_cancel is None:
            return False
        self._regime_cancel.set()
        return True

    @work(thread=True, exclusive=True, group="regimes", name="regimes", exit_on_error=False)
    def _regime_worker(self, underlying: str, cancel: threading.Event) -> None:
        from backtest.regimes.builder import build_regime_model
        from backtest.sensors.sources import load_sensor_data
        from greg_core.errors import MarketDataError, RegimeFileError
        from synthetic.regime_model import save_regime_model

        started = time.monotonic()
        builder = self.regime_builder or build_regime_model
        try:
            data = load_sensor_data(underlying, source="history", data_dir=self.effective_data_dir)
            if data.sensors.empty:
                raise MarketDataError(f"the history data for {underlying} has no rows")
            self.post_message(RegimeBuildProgress(underlying, 0.02, f"clustering {data.n_samples} days"))

            def progress(fraction: float, message: str) -> None:
                if cancel.is_set():  # the builder calls this between calibration steps
                    raise _RegimeBuildCancelled
                self.post_message(RegimeBuildProgress(underlying, float(fraction), str(message)))

            model = builder(data.sensors, underlying, n_clusters=6, source=data.description, progress=progress)
            if cancel.is_set():
                raise _RegimeBuildCancelled
            path = save_regime_model(model, self.regime_file)
        except _RegimeBuildCancelled:
            self.post_message(RegimeBuildFailed(underlying, "rebuild cancelled; the regime file is unchanged"))
        except MarketDataError as exc:
            self.post_message(RegimeBuildFailed(
                underlying,
                f"No real data to rebuild from: {one_line(exc)}. Import daily bars + DVOL or harvest "
                "chains (greg-tui harvest), or start with --data-dir pointing at them.",
            ))
        except (RegimeFileError, ValueError, OSError) as exc:
            self.post_message(RegimeBuildFailed(underlying, one_line(exc)))
        except Exception as exc:
            self.post_message(RegimeBuildFailed(underlying, f"{type(exc).__name__}: {one_line(exc)}"))
        else:
            self.post_message(RegimeBuildDone(underlying, Path(path), time.monotonic() - started))

    def on_regime_build_progress(self, message: RegimeBuildProgress) -> None:
        if self.regime_build is not None:
            self.regime_build = (message.underlying, message.fraction, message.message)

    def on_regime_build_done(self, message: RegimeBuildDone) -> None:
        self.regime_build = None
        self.regime_version += 1
        self.notify(f"Regimes for {message.underlying} rebuilt in {message.seconds:.1f}s and saved to {message.path}.",
                    title="Regimes rebuilt", timeout=8)

    def on_regime_build_failed(self, message: RegimeBuildFailed) -> None:
        self.regime_build = None
        self.notify(message.error, title=f"Regimes for {message.underlying} not rebuilt", severity="error", timeout=12)
