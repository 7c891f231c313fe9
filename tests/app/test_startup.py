"""Start-up: the first frame needs Textual only, the results fill the table as soon as the
results reader is imported (before the rest of the engine), keys pressed meanwhile are
carried out later, and an engine that cannot load is reported."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

from textual.widgets import Static

from greg_tui.screens.grid import GridScreen
from greg_tui.screens.sweetspots import SweetSpotsScreen
from greg_tui.widgets.sweetspots.table import SpotTable
from tests.app.support import make_app, wait_until

GATE_MODULE = "greg_test_engine_gate"


def _text(widget) -> str:
    return str(widget.render())


def test_importing_the_app_leaves_the_engine_for_later():
    """The first frame needs Textual only: pandas, scipy and the engine load afterwards."""
    code = ("import sys, greg_tui.app; print(sorted(m for m in ('pandas', 'scipy', 'numpy', 'sklearn', "
            "'backtest.heatmaps.store', 'backtest.heatmaps.run') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parents[2], env={**os.environ, "PYTHONPATH": ""})
    assert out.stdout.strip() == "[]", out.stdout + out.stderr


def _gated_engine(tmp_path: Path, monkeypatch) -> threading.Event:
    """Make the engine's last import wait until the returned event is set."""
    import greg_tui.app as app_module

    gate = threading.Event()
    monkeypatch.setitem(sys.modules, "greg_test_gate_event", gate)
    (tmp_path / f"{GATE_MODULE}.py").write_text("import sys\nsys.modules['greg_test_gate_event'].wait(30)\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(app_module, "ENGINE_MODULES", app_module.ENGINE_MODULES + (GATE_MODULE,))
    return gate


async def test_results_show_before_the_engine_and_keys_wait_for_it(results_base, tmp_path, monkeypatch):
    gate = _gated_engine(tmp_path, monkeypatch)
    app = make_app(results_base)
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            screen = app.screen
            assert isinstance(screen, SweetSpotsScreen)
            table = screen.query_one(SpotTable)
            await wait_until(pilot, lambda: table.row_count > 0, what="the table to fill")
            assert not app.engine_ready  # the rest of the engine is still importing
            await pilot.press("2")  # needs the engine: remembered
            assert isinstance(app.screen, SweetSpotsScreen)
            assert any(n[0] == "One moment" for n in app.notes)
            gate.set()
            await wait_until(pilot, lambda: app.engine_ready, what="the engine")
            await wait_until(pilot, lambda: isinstance(app.screen, GridScreen), what="the grid")
    finally:
        gate.set()
        sys.modules.pop(GATE_MODULE, None)


async def test_empty_folder_says_loading_then_how_to_start(tmp_path, monkeypatch):
    gate = _gated_engine(tmp_path, monkeypatch)
    app = make_app(tmp_path / "base")
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_until(pilot, lambda: app.results_loaded > 0, what="the folder to be read")
            panel = app.screen.query_one("#spots-empty", Static)
            assert "No sweet-spot results yet" in _text(panel) and not app.engine_ready
            gate.set()
            await wait_until(pilot, lambda: app.engine_ready, what="the engine")
            assert "No sweet-spot results yet" in _text(panel)
    finally:
        gate.set()
        sys.modules.pop(GATE_MODULE, None)


async def test_engine_that_cannot_load_is_reported(tmp_path, monkeypatch):
    import greg_tui.app as app_module

    monkeypatch.setattr(app_module, "ENGINE_MODULES", ("no_such_engine_module_here",))
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: app.engine_error is not None, what="the engine error")
        panel = _text(app.screen.query_one("#spots-empty", Static))
        assert "research engine cannot be loaded" in panel and "no_such_engine_module_here" in panel
        await pilot.press("r")
        assert any(n[0] == "Engine not loaded" and "Cannot run the scan" in n[1] for n in app.notes)
