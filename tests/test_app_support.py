"""Helpers shared by the app's Pilot tests (no tests here).

Every app under test gets a tmp ``base_dir`` and a tmp regime file, so nothing touches the
repository's ``data/`` or ``backtest/output``. A small sweep (400 synthetic days) is computed
once per session and copied where a test needs results already on disk.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest

from backtest.greg_sweetspots import run_greg_sweetspot_sweep
from backtest.sweep_results import output_dir_for
from greg_tui.app import GregApp

SMALL_LOOKBACK = 400


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
    deadline = time.monotonic() + timeout
    await app.workers.wait_for_complete()
    while app.scan.running and time.monotonic() < deadline:
        await pilot.pause(0.02)
    await pilot.pause()
    assert not app.scan.running, "scan did not finish"


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


@pytest.fixture(scope="session")
def stored_results(tmp_path_factory) -> Path:
    """A base dir holding the results of a small sweep (computed once)."""
    base = tmp_path_factory.mktemp("stored")
    run_greg_sweetspot_sweep(base, lookback_days=SMALL_LOOKBACK, top_k=2)  # ~300 rows, quick tables
    return base


@pytest.fixture
def results_base(stored_results: Path, tmp_path: Path) -> Path:
    """A fresh base dir with a copy of the small sweep's results."""
    base = tmp_path / "base"
    shutil.copytree(stored_results, base)
    return base
