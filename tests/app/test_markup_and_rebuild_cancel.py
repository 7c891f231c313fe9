"""Regressions found in review: markup characters in a setup error, and a regime rebuild
that is cancelled (or abandoned by quitting) must not write the regime file."""

from __future__ import annotations

import threading
from functools import partial

from textual.widgets import Input

from backtest.regimes.builder import build_regime_model
from greg_tui.screens.setup import SetupScreen
from tests.app.support import make_app, wait_until


async def start_rebuild(pilot, started: threading.Event) -> None:
    """Open the regimes screen, press b, and wait until the builder is running."""
    await pilot.press("4")
    await pilot.press("b")
    for _ in range(200):
        if started.is_set():
            return
        await pilot.pause(0.05)
    raise AssertionError("the regime builder never started")


async def test_markup_characters_in_a_setup_value_are_shown_not_crashing(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.press("3")
        assert isinstance(app.screen, SetupScreen)
        bins = app.screen.query_one("#x_bins", Input)
        bins.focus()
        bins.value = ""
        await pilot.press("[", "b")
        await pilot.pause()
        assert not app.validation.ok
        assert "'[b' is not a whole number" in app.validation.error
        await pilot.press("escape")  # back to the sweet spots, where the status strip shows it
        await pilot.pause()
        assert app.is_running


async def test_cancelled_regime_rebuild_leaves_the_file_alone(tmp_path, real_dir):
    app = make_app(tmp_path, data_dir=real_dir)
    started = threading.Event()
    release = threading.Event()

    def slow_builder(*args, progress=None, **kwargs):
        started.set()
        release.wait(10)
        progress(0.5, "calibrating")  # the app's callback stops the build here
        return build_regime_model(*args, calibrate=False, **kwargs)

    app.regime_builder = slow_builder
    async with app.run_test(size=(120, 40)) as pilot:
        await start_rebuild(pilot, started)
        assert app.cancel_regime_build()
        release.set()
        await wait_until(pilot, lambda: app.regime_build is None, what="the rebuild to stop")
        assert not app.regime_file.exists()
        assert any("cancelled" in n[1] for n in app.notes), app.notes


async def test_quitting_during_a_rebuild_cancels_it(tmp_path, real_dir):
    app = make_app(tmp_path, data_dir=real_dir)
    started = threading.Event()

    def slow_builder(*args, progress=None, **kwargs):
        started.set()
        for step in range(100):
            progress(step / 100, "calibrating")
            threading.Event().wait(0.02)
        return partial(build_regime_model, calibrate=False)(*args, **kwargs)

    app.regime_builder = slow_builder
    async with app.run_test(size=(120, 40)) as pilot:
        await start_rebuild(pilot, started)
        await app.action_quit()
        assert app.is_running  # it waits for the rebuild to stop between two steps...
        await wait_until(pilot, lambda: app.regime_build is None, what="the rebuild to stop")
        assert app.return_code == 0  # ...then quits by itself
    assert not app.regime_file.exists()
