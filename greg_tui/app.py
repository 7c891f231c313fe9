"""greg-tui: the terminal research lab (Textual).

State lives on the app (results, scan setup, running scan) as reactives; screens and widgets
watch it. CPU work (reading results, the sweep, a regime rebuild) runs in thread workers
that only post messages (``greg_tui.messages``); the handlers here update the state on the UI
thread. A worker is cancelled through Textual (``Worker.cancel``); the engine polls
``worker.is_cancelled`` between steps. Errors become notifications or panels, never
tracebacks.

Areas (``greg_tui.areas``, one Textual mode each, so each keeps its own state): 1 sweet
spots, 2 grid, 3 setup, 4 regimes, 5 selector. ``r`` runs the scan from anywhere, ``escape``
cancels it, F5 reloads the results (they also reload by themselves when another process
publishes new ones), ``i`` shows what each sensor means, ctrl+p lists every command.

Startup (docs/app.md "Start-up"): importing this module imports Textual and the light
sweet-spot screen only. A thread worker then imports the results reader, reads the latest
results (the table fills), and imports the rest of the research engine; a key that needs the
engine meanwhile (another area, ``r``) is remembered and carried out once it is ready.
"""

from __future__ import annotations

import importlib
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import replace
from pathlib import Path

from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.reactive import var
from textual.screen import Screen
from textual.worker import get_current_worker

from backtest.heatmaps.progress import is_publishing
from greg_core.settings import default_base_dir, output_dir_for
from greg_tui.areas import AREA_BY_MODE, AREAS, HOME, RELOAD, GridTarget
from greg_tui.messages import (
    EngineFailed,
    EngineReady,
    RegimeBuildDone,
    RegimeBuildFailed,
    RegimeBuildProgress,
    ResultsRead,
    SweepFailed,
    SweepFinished,
    SweepProgress,
    SweepStopped,
)
from greg_tui.screens.help import HelpScreen
from greg_tui.screens.sensors import SensorsScreen
from greg_tui.themes import DARK, LIGHT, THEMES
from greg_tui.widgets.scan.config import PENDING, ScanConfig, Validation, validate_config
from greg_tui.widgets.scan.coverage import DataCheck, check_data, check_key
from greg_tui.widgets.scan.state import ScanState
from greg_tui.widgets.scan.status import TICK_SECONDS as PROGRESS_INTERVAL

# What reading stored results needs; imported first so the table fills before the rest loads.
RESULTS_MODULES: tuple[str, ...] = ("backtest.heatmaps.store",)
# The rest of the research engine (pandas, scipy) and the screens built on it.
ENGINE_MODULES: tuple[str, ...] = (
    "backtest.heatmaps.run",
    "backtest.sensors.sources",
    "synthetic.regime_model",
    *(area.module for area in AREAS if area.needs_engine),
)
RESULTS_POLL_SECONDS = 1.0  # how often the results folder is checked for a newer run
QUIT_GRACE_SECONDS = 15.0  # how long quitting waits for a cancelled scan or rebuild to stop

NAV = Binding.Group("Screens", compact=True)
DARK_THEME, LIGHT_THEME = DARK.name, LIGHT.name


def one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 400 else text[:397] + "..."


class _RegimeBuildCancelled(Exception):
    """Raised from the builder's progress callback to stop a rebuild between steps."""


def read_results(folder: Path) -> ResultsRead:
    """Read the results folder (any thread); a damaged set becomes an error line. The
    version token is taken before reading, so a run published meanwhile is noticed later."""
    from backtest.heatmaps.store import has_results, load_sweep_results, results_version
    from greg_core.errors import SweepResultsError

    token = results_version(folder)
    try:
        found = has_results(folder)
    except OSError as exc:  # an unreadable base folder
        return ResultsRead(None, f"cannot read {folder}: {one_line(exc)}", token)
    if not found:
        return ResultsRead(None, None, token)
    try:
        results = load_sweep_results(folder)
        # Touch what the screens use, so a malformed manifest fails here, once.
        _ = (results.underlyings, results.pairs, results.strategies, results.manifest["parameters"])
    except (SweepResultsError, OSError) as exc:
        return ResultsRead(None, one_line(exc), token)
    except Exception as exc:  # a manifest of the right format but wrong shape
        return ResultsRead(None, f"greg_heatmap_manifest.json is malformed ({type(exc).__name__}: {one_line(exc)})",
                           token)
    return ResultsRead(results, None, token)


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
        Binding("r", "run_scan", "Run", tooltip="Run the scan set up in Setup (3)"),
        # ctrl+r also works inside a text field (where r types an r); the footer shows one of them.
        Binding("ctrl+r", "run_scan", "Run", priority=True, tooltip="Run the scan (also inside a text field)"),
        Binding("escape", "cancel_scan", "Cancel scan", priority=True,
                tooltip="Cancel the running scan (previous results stay)"),
        RELOAD,
        Binding("i", "sensors", "Sensors", show=False, tooltip="What each sensor means, and its unit"),
        Binding("question_mark", "help", "Help", key_display="?", tooltip="Every key (this list)"),
        Binding("q", "quit", "Quit"),
        Binding("ctrl+t", "toggle_theme", "Light/dark", show=False),
    ]

    # The engine modules are imported (see on_mount); engine_error: they cannot be.
    engine_ready: var[bool] = var(False)
    engine_error: var[str | None] = var(None)
    # Loaded results (a backtest.heatmaps.store.StoredSweep; None: nothing on disk, not read
    # yet, or unreadable: see results_error). results_loaded counts the (re)loads; screens
    # watch it.
    results: var[object | None] = var(None, always_update=True)
    results_error: var[str | None] = var(None)
    results_loaded: var[int] = var(0)
    # The scan setup as the form holds it, and its validation.
    config: var[ScanConfig] = var(ScanConfig())
    validation: var[Validation] = var(PENDING)
    # What real data the setup would read (None: synthetic, or not checked yet).
    data_check: var[DataCheck | None] = var(None)
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
        self.sweep_function: Callable | None = None
        self.regime_builder: Callable | None = None
        self.results_token: tuple | None = None  # results_version() of the results shown
        self.quitting = False  # quit asked while a scan or rebuild was stopping
        self._pending: dict[str, Callable[[], object]] = {}  # asked for before the engine was ready
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
        for theme in THEMES:
            self.register_theme(theme)
        self.theme = DARK_THEME
        self.set_interval(RESULTS_POLL_SECONDS, self._poll_results)
        if all(name in sys.modules for name in RESULTS_MODULES + ENGINE_MODULES):
            self._engine_loaded()  # already imported (tests, a second app): no need to wait
            self.load_results()
        else:
            self._results_worker(self.output_dir)

    # ------------------------------------------------------------------ the engine
    # Two steps, so the results are on screen as early as the imports allow: import the
    # results reader and read the folder; once the table is drawn, import the rest (the
    # sweep, sensors, regimes, the other screens) while the user reads it.
    @work(thread=True, group="engine", name="results reader", exit_on_error=False)
    def _results_worker(self, folder: Path) -> None:
        try:
            for name in RESULTS_MODULES:
                importlib.import_module(name)
        except Exception as exc:
            self.post_message(EngineFailed(f"{type(exc).__name__}: {one_line(exc)}"))
        else:
            read = read_results(folder)
            read.first = True
            self.post_message(read)

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
        if self.results is None:
            self.results_error = f"The research engine cannot be loaded ({message.error})"
            self.results_loaded += 1
        self._pending.clear()
        self.notify(message.error, title="Engine not loaded", severity="error", timeout=20)

    def _engine_loaded(self) -> None:
        self.engine_ready = True
        self.set_config(self.config)
        pending, self._pending = self._pending, {}
        for action in pending.values():
            self.call_later(action)  # awaited when it is a coroutine

    def _after_engine(self, kind: str, what: str, action: Callable[[], object]) -> bool:
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
        """(Re)read the results folder now, on this thread."""
        self.on_results_read(read_results(self.output_dir))

    def on_results_read(self, message: ResultsRead) -> None:
        self.results_token = message.token
        self.results_error = message.error
        self.results = message.results
        self.results_loaded += 1
        if message.first:  # the start-up read: the rest of the engine once this is drawn
            self.call_after_refresh(self._engine_worker)

    def _poll_results(self) -> None:
        """Reload when another process (``--export``, a second app) published new results."""
        if self.results_loaded == 0 or "backtest.heatmaps.store" not in sys.modules or self.scan.running:
            return  # not read once yet, or a scan of ours is about to publish
        from backtest.heatmaps.store import results_version

        if results_version(self.output_dir) != self.results_token and not self._reloading():
            self._reload_worker(self.output_dir, announce=True)

    def _reloading(self) -> bool:
        return any(w.group == "results" and w.is_running for w in self.workers)

    @work(thread=True, exclusive=True, group="results", name="results", exit_on_error=False)
    def _reload_worker(self, folder: Path, announce: bool) -> None:
        read = read_results(folder)
        if announce and read.results is not None:
            spots = read.results.manifest.get("sweet_spots", "?")
            self.call_from_thread(self.notify, f"{spots} sweet spots, written by another run.", title="New results")
        self.post_message(read)

    def action_reload(self) -> None:
        if self.scan.running:
            self.notify("A scan is running; its results load when it finishes.", title="Scan running")
            return
        if "backtest.heatmaps.store" not in sys.modules:
            self.notify("The results reader is still loading; they appear in a moment.", title="One moment")
            return
        self._reload_worker(self.output_dir, announce=False)

    # ------------------------------------------------------------------ navigation
    def action_show(self, mode: str) -> None:
        area = AREA_BY_MODE[mode]
        if area.needs_engine and self._after_engine("show", f"open {area.title}", lambda: self.switch_mode(mode)):
            return
        self.switch_mode(mode)

    async def open_grid(self, target: GridTarget) -> None:
        """Show the grid area on ``target`` (from the table, the command palette)."""
        if self._after_engine("show", "open the grid", lambda: self.open_grid(target)):
            return
        from greg_tui.screens.grid import GridScreen

        await self.switch_mode("grid")
        if isinstance(self.screen, GridScreen):
            self.screen.show_target(target)

    def action_help(self) -> None:
        if self._after_engine("help", "show the help", self.action_help):
            return
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def action_sensors(self) -> None:
        if not isinstance(self.screen, SensorsScreen):
            self.push_screen(SensorsScreen())

    def action_toggle_theme(self) -> None:
        self.theme = LIGHT_THEME if self.theme == DARK_THEME else DARK_THEME

    # ------------------------------------------------------------------ quitting
    async def action_quit(self) -> None:
        """Quit; a running scan or rebuild is cancelled first and the app exits once it has
        stopped between two steps (its files are never left half moved into place)."""
        busy = self.scan.running or self.regime_build is not None
        if not busy:
            self.exit()
            return
        self.quitting = True
        if self.scan.running and not self.scan.committing:
            self._cancel_sweep()
        self.workers.cancel_group(self, "regimes")
        self.notify("Stopping the running work before quitting...", severity="warning")
        self.set_timer(QUIT_GRACE_SECONDS, self.exit)

    def _quit_if_idle(self) -> None:
        if self.quitting and not self.scan.running and self.regime_build is None:
            self.exit()

    # ------------------------------------------------------------------ scan setup
    def set_config(self, config: ScanConfig) -> Validation:
        """Store the setup and validate it (once the engine is loaded: until then it is kept
        as it is and checked when the engine arrives)."""
        if self.engine_ready:
            config = config.resolved(self.data_dir)
            self.config = config
            self.validation = validate_config(config)
            self._check_data_later()
            self.refresh_bindings()
        else:
            self.config = config
        return self.validation

    def _data_key(self) -> tuple | None:
        """The real data the valid setup would read (None: synthetic, or an invalid setup)."""
        params = self.validation.params
        if params is None or params.source == "synthetic":
            return None
        return check_key(params.source, self.validation.data_dir, params.underlyings, params.lookback_days)

    def _check_data_later(self) -> None:
        key = self._data_key()
        if key is None:
            self.data_check = None
        elif self.data_check is None or self.data_check.key != key:
            params = self.validation.params
            self._data_check_worker(params.source, self.validation.data_dir, params.underlyings, params.lookback_days)

    @work(thread=True, exclusive=True, group="data-check", name="data-check", exit_on_error=False)
    def _data_check_worker(self, source: str, data_dir: Path | None, underlyings, lookback_days) -> None:
        check = check_data(source, data_dir, underlyings, lookback_days)
        self.call_from_thread(self._data_checked, check)

    def _data_checked(self, check: DataCheck) -> None:
        if check.key == self._data_key():  # not a setup changed meanwhile
            self.data_check = check

    def run_problem(self) -> str | None:
        """Why ``r`` cannot run the scan now (None: it can)."""
        validation = self.validation
        if not validation.ok or validation.params is None:
            return validation.error or "the scan setup is not valid"
        if validation.missing_data:
            return "; ".join(validation.missing_data)
        check = self.data_check
        if check is not None and check.key == self._data_key() and check.problem:
            return f"no usable {validation.params.source} data for {check.problem}"
        return None

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "cancel_scan":  # escape closes a modal screen first
            return self.scan.running and not self.screen.is_modal
        return True

    # ------------------------------------------------------------------ the sweep
    def action_run_scan(self) -> None:
        if self.scan.running:
            self.notify("A scan is already running; wait for it or press escape to cancel it.",
                        title="Scan running", severity="warning")
            return
        if self._after_engine("run", "run the scan", self.action_run_scan):
            return
        problem = self.run_problem()
        if problem is not None:
            self.notify(f"{problem}. Fix it in setup (3); the scan runs once it is valid.",
                        title="Cannot run the scan yet", severity="error")
            from greg_tui.screens.setup import SetupScreen

            if isinstance(self.screen, SetupScreen):
                self.screen.show_problem(self.validation)
            return
        self.scan = ScanState.start()
        self._sweep_worker(self.validation.params, self.validation.data_dir)

    def action_cancel_scan(self) -> None:
        if not self.scan.running:
            return
        if self.scan.committing:
            self.notify("The results are being moved into place; too late to cancel.", title="Finishing")
            return
        self._cancel_sweep()

    def _cancel_sweep(self) -> None:
        self.workers.cancel_group(self, "sweep")
        self.scan = replace(self.scan, cancelling=True)

    @work(thread=True, exclusive=True, group="sweep", name="sweep", exit_on_error=False)
    def _sweep_worker(self, params, data_dir: Path | None) -> None:
        from backtest.heatmaps.run import run_greg_sweetspot_sweep
        from greg_core.errors import MarketDataError, SweepCancelled, SweepConfigError

        worker = get_current_worker()
        started = time.monotonic()
        sweep = self.sweep_function or run_greg_sweetspot_sweep
        last_post = [0.0]

        def progress(fraction: float, message: str) -> None:
            # At most one message per repaint of the status strip (what it cannot show costs
            # the sweep thread the GIL), but always the commit (too late to cancel from then).
            now = time.monotonic()
            if now - last_post[0] >= PROGRESS_INTERVAL or is_publishing(message):
                last_post[0] = now
                self.post_message(SweepProgress(float(fraction), str(message), now))

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
                bin_mode=params.binning.mode,
                clip_pct=params.binning.clip_pct,
                horizon_days=params.horizon_days,
                min_episodes=params.min_episodes,
                rank_by=params.rank_by,
                progress=progress,
                cancel=lambda: worker.is_cancelled,
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
        self._quit_if_idle()

    def on_sweep_finished(self, message: SweepFinished) -> None:
        self._scan_ended()
        self.load_results()
        if self.results is None:
            self.notify(f"The scan finished but its results cannot be read: {self.results_error}",
                        title="Scan finished", severity="error", timeout=10)
            return
        self.notify(finished_text(self.results), title="Scan finished", timeout=6)

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
        self.regime_build = (underlying, 0.0, "loading real data")
        self._regime_worker(underlying)

    def cancel_regime_build(self) -> bool:
        if self.regime_build is None:
            return False
        self.workers.cancel_group(self, "regimes")
        return True

    @work(thread=True, exclusive=True, group="regimes", name="regimes", exit_on_error=False)
    def _regime_worker(self, underlying: str) -> None:
        from backtest.regimes.builder import build_regime_model
        from backtest.sensors.sources import load_sensor_data
        from greg_core.errors import MarketDataError, RegimeFileError
        from synthetic.regime_model import save_regime_model

        worker = get_current_worker()
        started = time.monotonic()
        builder = self.regime_builder or build_regime_model
        try:
            data = load_sensor_data(underlying, source="history", data_dir=self.effective_data_dir)
            if data.sensors.empty:
                raise MarketDataError(f"the history data for {underlying} has no rows")
            self.post_message(RegimeBuildProgress(underlying, 0.02, f"clustering {data.n_samples} days"))

            def progress(fraction: float, message: str) -> None:
                if worker.is_cancelled:  # the builder calls this between calibration steps
                    raise _RegimeBuildCancelled
                self.post_message(RegimeBuildProgress(underlying, float(fraction), str(message)))

            model = builder(data.sensors, underlying, n_clusters=6, source=data.description, progress=progress)
            if worker.is_cancelled:
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
        self._quit_if_idle()

    def on_regime_build_failed(self, message: RegimeBuildFailed) -> None:
        self.regime_build = None
        self.notify(message.error, title=f"Regimes for {message.underlying} not rebuilt", severity="error", timeout=12)
        self._quit_if_idle()

    # ------------------------------------------------------------------ command palette
    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        for area in AREAS:
            yield SystemCommand(f"Go to {area.title}", f"Show the {area.title} area (key {area.key})",
                                lambda area=area: self.action_show(area.mode))
        yield SystemCommand("Run scan", "Run the scan set up in Setup (key r)", self.action_run_scan)
        if self.scan.running:
            yield SystemCommand("Cancel scan", "Stop the running scan; previous results stay (escape)",
                                self.action_cancel_scan)
        yield SystemCommand("Reload results", "Read the results folder again (F5)", self.action_reload)
        yield SystemCommand("Sensors", "What each sensor means and its unit (key i)", self.action_sensors)
        results = self.results
        if results is None or not self.engine_ready:
            return
        from greg_tui.screens.grid import GridScreen

        if isinstance(screen, GridScreen):
            yield SystemCommand("Export current grid", "Write the grid on screen as CSV with its layer (key x)",
                                screen.action_export)
        for underlying in results.underlyings:
            yield SystemCommand(f"Jump to underlying {underlying}", "Show its grid",
                                lambda u=underlying: self.open_grid(GridTarget(underlying=u)), discover=False)
        for strategy in results.strategies:
            yield SystemCommand(f"Jump to strategy {strategy['label']}", f"{strategy['key']}: show its grid",
                                lambda k=strategy["key"]: self.open_grid(GridTarget(strategy_key=k)), discover=False)
        for pair in results.pairs:
            yield SystemCommand(f"Jump to pair {pair[0]} / {pair[1]}", "Show this pair's grid",
                                lambda p=pair: self.open_grid(GridTarget(pair=p)), discover=False)


def finished_text(results) -> str:
    """The 'scan finished' notice: sweet spots per underlying and the run's duration as the
    manifest records it (the same figure the results header shows)."""
    manifest = results.manifest
    per_underlying = {u: 0 for u in results.underlyings}
    for record in results.records:
        per_underlying[record.underlying] = per_underlying.get(record.underlying, 0) + len(record.sweet_spots)
    seconds = manifest.get("total_seconds")
    took = f" in {seconds:.1f}s" if isinstance(seconds, int | float) else ""
    total = sum(per_underlying.values())
    if total == 0:
        params = manifest.get("parameters", {})
        return (f"No sweet spot found{took}: no cell has occupancy >= {float(params.get('min_env_frac', 0)) * 100:g}% "
                f"and pass rate >= {float(params.get('min_pass_frac', 0)) * 100:g}%. Loosen them in setup (3).")
    detail = ", ".join(f"{u} {n}" for u, n in per_underlying.items())
    return f"{total} sweet spots found ({detail}){took}."
