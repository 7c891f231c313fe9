"""Helpers shared by the app's Pilot tests (no tests here; the fixtures are in conftest.py).

Every app under test gets a tmp ``base_dir`` and a tmp regime file, so nothing touches the
repository's ``data/`` or ``backtest/output``. A small sweep (400 synthetic days) is computed
once per session and copied where a test needs results already on disk.
"""

from __future__ import annotations

import io
import time
from pathlib import Path

from rich.console import Console
from rich.segment import Segment

from backtest.heatmaps.run import run_greg_sweetspot_sweep
from greg_core.settings import output_dir_for
from greg_tui.app import GregApp

SMALL_LOOKBACK = 400


def screen_lines(app) -> list[list[Segment]]:
    """The terminal as the user sees it: per row, its segments (text and resolved style).
    Read from the screen's compositor, as ``App.export_screenshot`` does."""
    update = app.screen._compositor.render_update(full=True, screen_stack=app._background_screens)
    return [[segment for strip in line for segment in strip] for line in update.strips]


def screen_text(app) -> str:
    """The terminal as plain text, one line per row."""
    return "\n".join("".join(segment.text for segment in line) for line in screen_lines(app))


def rich_text(renderable, width: int = 200) -> str:
    """A Rich renderable (or markup) as plain text at ``width``."""
    console = Console(width=width, record=True, file=io.StringIO())
    console.print(renderable)
    return console.export_text()


def static_text(widget, width: int = 200) -> str:
    """What a Static holds (markup or a Rich renderable) as plain text at ``width``."""
    return rich_text(widget.content, width)


def make_app(base: Path, **kwargs) -> GregApp:
    app = GregApp(base_dir=base, regime_file=base / "greg_regimes.json", **kwargs)
    app.notes = []  # every notification, as (title, message, severity)
    original = app.notify

    def recording_notify(message, *, title="", severity="information", **rest):
        app.notes.append((title, str(message), severity))
        return original(message, title=title, severity=severity, **rest)

    app.notify = recording_notify
    return app


def small_app(base: Path) -> GregApp:
    """An app whose setup runs the small sweep (fast)."""
    app = make_app(base)
    app.set_config(app.config.with_values(lookback_days=str(SMALL_LOOKBACK)))
    return app


async def wait_for_scan(pilot, app: GregApp, timeout: float = 60.0) -> None:
    """Until the running scan ended and its messages were handled."""
    await wait_until(pilot, lambda: not app.scan.running, timeout, "the scan to end")


async def press_and_settle(pilot, *keys: str) -> None:
    """Press ``keys``, then wait until the app's workers are done and their messages handled
    (opening an area, a reload, a rebuild)."""
    await pilot.press(*keys)
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def wait_until(pilot, predicate, timeout: float = 30.0, what: str = "the condition") -> None:
    """Pause until ``predicate()`` holds (a cancelled thread worker keeps running after its
    Textual worker is cancelled, so tests wait for the app state, not for the workers)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await pilot.pause(0.02)
    await pilot.pause()


def slow_sweep(delay: float):
    """The real sweep, slowed down at every progress step (to test cancel / double r)."""

    def sweep(*args, progress=None, **kwargs):
        def slowed(fraction, message):
            time.sleep(delay)
            if progress is not None:
                progress(fraction, message)

        return run_greg_sweetspot_sweep(*args, progress=slowed, **kwargs)

    return sweep


def output_snapshot(base: Path) -> dict[str, tuple[bytes, int]]:
    folder = output_dir_for(base)
    return {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted(folder.iterdir()) if p.is_file()}


ABSENT = ("skew_25d", "term_structure_spread")  # sensors the "history-like" source lacks


def write_absent_sensor_results(base: Path, days: int = 300) -> None:
    """A sweep on BTC whose source lacks skew and term structure altogether (like a daily
    DVOL history), written by the engine itself: its manifest has absent_sensors and
    pair_samples, and the pairs on those sensors have no samples."""
    from backtest.heatmaps.store import write_sweep_outputs
    from backtest.heatmaps.sweep import compute_sweep, validate_sweep_params
    from backtest.sensors.sources import SensorData, load_sensor_data

    data = load_sensor_data("BTC", "synthetic", days)
    sensors = data.sensors.copy()
    sensors.loc[:, list(ABSENT)] = float("nan")
    history_like = SensorData("BTC", "history", sensors, "test history without skew or term structure")
    params = validate_sweep_params(
        ("BTC",), ("vrp_30d", "adx_14d", "skew_25d", "term_structure_spread"),
        ("STRATEGY_A_STRADDLE", "STRATEGY_F_BULL_PUT_SPREAD"), 12, 12, 0.005, 0.4, 2, "synthetic", days, "strict", "selected",
    )
    result = compute_sweep(params, data_by_underlying={"BTC": history_like})
    write_sweep_outputs(result, output_dir_for(base))
