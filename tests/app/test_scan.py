"""Pilot tests: running, re-running, cancelling and failing scans; setup validation."""

from __future__ import annotations

from textual.widgets import Input, SelectionList, Static

from backtest.heatmaps.progress import PUBLISHING
from backtest.heatmaps.run import run_greg_sweetspot_sweep
from greg_core.settings import output_dir_for
from greg_tui.screens.setup import SetupScreen
from greg_tui.screens.sweetspots import SweetSpotsScreen
from greg_tui.widgets.scan.status import ScanStatus
from greg_tui.widgets.sweetspots.table import SpotTable
from tests.app.support import (
    make_app,
    output_snapshot,
    slow_sweep,
    small_app,
    wait_for_scan,
    wait_until,
)


def _text(widget: Static) -> str:
    return str(widget.render())


async def test_start_empty_run_default_scan_fills_table(tmp_path):
    """Start with nothing on disk, press r (default parameters), see rows and a notification."""
    app = make_app(tmp_path)
    reported: list[tuple[float, str]] = []

    def recording_sweep(*args, progress, **kwargs):
        def recorded(fraction, message):
            reported.append((fraction, message))
            progress(fraction, message)

        return run_greg_sweetspot_sweep(*args, progress=recorded, **kwargs)

    app.sweep_function = recording_sweep
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, SweetSpotsScreen)
        assert screen.has_class("-empty")
        empty = _text(screen.query_one("#spots-empty", Static))
        assert "No sweet-spot results yet" in empty and "press r" in empty.lower()
        assert "greg-tui --export" in empty
        await pilot.press("r")
        await wait_for_scan(pilot, app)
        table = screen.query_one(SpotTable)
        assert table.row_count > 0
        assert not screen.has_class("-empty")
        assert app.results.manifest["parameters"]["lookback_days"] is None  # the default sweep
        assert app.results.manifest["parameters"]["x_bins"] == 20
        found = [n for n in app.notes if n[0] == "Scan finished"]
        assert found and f"{table.row_count} sweet spots found" in found[0][1]
        summary = _text(screen.query_one("#spots-summary", Static))
        assert "synthetic" in summary and "sweet spots" in summary
        assert len(reported) >= 10
        # The engine's progress covers writing the files (0.85..1), and the bar follows it.
        assert any(f >= 0.85 and m.startswith("writing") for f, m in reported)
        assert any(m.startswith("moving") for _f, m in reported) and reported[-1][0] == 1.0
        assert app.scan.engine_fraction == 1.0


async def test_second_r_while_running_only_says_so_and_keys_work(tmp_path):
    app = small_app(tmp_path)
    app.sweep_function = slow_sweep(0.08)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("r")
        await pilot.pause(0.2)
        assert app.scan.running
        workers_before = len([w for w in app.workers if w.group == "sweep"])
        await pilot.press("r")
        assert any(n[0] == "Scan running" and "already running" in n[1] for n in app.notes)
        assert len([w for w in app.workers if w.group == "sweep"]) == workers_before
        # The UI keeps handling keys while the scan runs: switch screens and back.
        await pilot.press("4")
        assert type(app.screen).__name__ == "RegimesScreen"
        assert app.screen.query_one(ScanStatus).has_class("-running")
        await pilot.press("1")
        assert isinstance(app.screen, SweetSpotsScreen)
        assert app.scan.running, "the scan should still be running (keys handled during it)"
        status = app.screen.query_one(ScanStatus)
        assert status.has_class("-running")
        await pilot.pause(0.2)  # a few of its 15 Hz repaints
        assert "Scanning" in _text(status.query_one("#scan-message"))
        assert "elapsed" in _text(status.query_one("#scan-times"))
        await pilot.press("escape")
        await wait_for_scan(pilot, app)


async def test_cancel_keeps_previous_results(results_base):
    before = output_snapshot(results_base)
    assert before
    app = small_app(results_base)
    app.sweep_function = slow_sweep(0.05)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        rows_before = app.screen.query_one(SpotTable).row_count
        await pilot.press("r")
        await pilot.pause(0.3)
        assert app.scan.running
        await pilot.press("escape")
        await wait_for_scan(pilot, app)
        assert any(n[0] == "Cancelled" for n in app.notes)
        assert output_snapshot(results_base) == before  # same bytes, same mtimes
        assert not [p for p in output_dir_for(results_base).iterdir() if p.name.startswith(".staging")]
        assert app.screen.query_one(SpotTable).row_count == rows_before


async def test_invalid_setup_value_blocks_the_run(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.press("3")
        screen = app.screen
        assert isinstance(screen, SetupScreen)
        bins = screen.query_one("#x_bins", Input)
        bins.focus()
        bins.value = ""
        await pilot.press("a", "b", "c")
        await pilot.pause()
        assert not app.validation.ok
        message = _text(screen.query_one("#setup-message", Static))
        assert "X bins" in message and "'abc' is not a whole number" in message
        assert bins.has_class("-invalid")
        await pilot.press("ctrl+r")  # in the field: says why, stays in the field
        assert any(n[0] == "Cannot run the scan yet" and "'abc' is not a whole number" in n[1] for n in app.notes)
        assert screen.focused is bins
        await pilot.press("escape")  # leaves the field, not the screen
        assert isinstance(app.screen, SetupScreen) and screen.focused is None
        app.notes.clear()
        await pilot.press("r")
        await pilot.pause()
        assert not app.scan.running and not [w for w in app.workers if w.group == "sweep"]
        assert any(n[0] == "Cannot run the scan yet" for n in app.notes)
        assert screen.focused is bins  # r took the user to the field at fault
        bins.blur()
        # The status strip on other screens says why.
        await pilot.press("1")
        strip = app.screen.query_one(ScanStatus)
        assert strip.has_class("-invalid")
        assert "not ready" in _text(strip.query_one("#scan-message"))
        # An engine-level rule (two metrics at least) is checked too.
        await pilot.press("3")
        bins = app.screen.query_one("#x_bins", Input)
        bins.value = "12"
        await pilot.pause()
        assert app.validation.ok
        metrics = app.screen.query_one("#metrics", SelectionList)
        metrics.deselect_all()
        metrics.select("vrp_30d")
        await pilot.pause()
        assert not app.validation.ok and "two metrics" in app.validation.error
        metrics.select("adx_14d")
        await pilot.pause()
        assert app.validation.ok and app.validation.params.metrics == ("vrp_30d", "adx_14d")
        assert app.validation.params.x_bins == 12
        # Percent fields: range checked, stored as fractions.
        field = app.screen.query_one("#min_pass_pct", Input)
        field.value = "140"
        await pilot.pause()
        assert "between 0 and 100" in app.validation.error
        field.value = "35"
        await pilot.pause()
        assert app.validation.ok and abs(app.validation.params.min_pass_frac - 0.35) < 1e-12


async def test_scan_without_real_data_is_refused_before_any_work(tmp_path):
    """A real-data source: a missing data folder blocks the run inline; an existing folder
    without data for the underlyings is found by the setup's data check, and r names what is
    missing and where it looked, before any work."""
    app = make_app(tmp_path, data_dir=tmp_path / "no-data")
    async with app.run_test(size=(80, 24)) as pilot:
        app.set_config(app.config.with_values(source="history"))
        await pilot.pause()
        assert not app.validation.ok and app.validation.field == "data_dir"
        assert "does not exist" in app.validation.error
        (tmp_path / "no-data").mkdir()
        app.set_config(app.config)
        assert app.validation.ok and app.validation.data_dir == tmp_path / "no-data"
        # The engine's availability check (file names only) says so at once...
        assert [p.split(":")[0] for p in app.validation.missing_data] == [
            f"no BTC prices in {tmp_path / 'no-data'}", f"no ETH prices in {tmp_path / 'no-data'}"]
        await pilot.press("r")
        await pilot.pause()
        assert not app.scan.running and not [w for w in app.workers if w.group == "sweep"]
        refused = [n for n in app.notes if n[0] == "Cannot run the scan yet"]
        assert refused and f"no BTC prices in {tmp_path / 'no-data'}" in refused[0][1]
        assert "looked for" in refused[0][1] and "setup (3)" in refused[0][1]
        # ...and the setup's coverage check (loading the sensors) agrees.
        await wait_until(pilot, lambda: app.data_check is not None, what="the data check")
        assert set(app.data_check.errors) == {"BTC", "ETH"}
        assert app.results is None and isinstance(app.screen, SweetSpotsScreen)


async def test_scan_error_is_shown_not_raised(tmp_path):
    """An engine error during the scan becomes an error notification; results untouched."""
    from greg_core.errors import MarketDataError

    def failing_sweep(*args, **kwargs):
        raise MarketDataError("the bars CSV for BTC has no close column")

    app = small_app(tmp_path)
    app.sweep_function = failing_sweep
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("r")
        await wait_for_scan(pilot, app)
        errors = [n for n in app.notes if n[2] == "error"]
        assert errors and "No usable real data" in errors[0][1] and "no close column" in errors[0][1]
        assert "setup (3)" in errors[0][1]
        assert app.results is None and isinstance(app.screen, SweetSpotsScreen)


async def test_quit_during_a_scan_cancels_it_cleanly(results_base):
    before = output_snapshot(results_base)
    app = small_app(results_base)
    app.sweep_function = slow_sweep(0.05)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("r")
        await pilot.pause(0.3)
        assert app.scan.running
        await pilot.press("question_mark")
        await pilot.press("escape")  # closes help; the scan keeps running
        assert app.scan.running and not app.scan.cancelling
        await pilot.press("q")
        await pilot.pause()
    assert output_snapshot(results_base) == before
    assert not [p for p in output_dir_for(results_base).iterdir() if p.name.startswith(".staging")]


def test_progress_follows_the_engine_through_writing():
    from greg_tui.widgets.scan.state import ScanState, overall_fraction

    state = ScanState.start()
    assert overall_fraction(state) == 0.0 and not state.committing
    half = state.progressed(0.5, "BTC: x vs y (3/28), 7 strategies", 1.0)
    assert overall_fraction(half) == 0.5
    writing = half.progressed(0.9, "writing env_heatmap_BTC_vrp_30d_vs_adx_14d.csv", 2.0)
    assert not writing.committing and overall_fraction(writing) == 0.9
    moving = writing.progressed(0.99, PUBLISHING, 3.0)
    assert moving.committing
    done = moving.progressed(1.0, "wrote 9 files", 4.0)
    assert done.committing and overall_fraction(done) < 1.0  # until it ended


def test_remaining_time_counts_down_without_jumps():
    """The estimate is the whole run's pace so far; what is shown counts down with the clock
    and moves a quarter of the way to a new estimate, so a change of pace (fast computing,
    then slower writing: once 1.2 s left, then 6.9 s left) drifts instead of jumping."""
    from greg_tui.widgets.scan.state import RemainingEstimate

    estimate = RemainingEstimate(0.0)
    assert estimate.update(0.5, 0.05) is None  # too early to say
    assert abs(estimate.update(1.0, 0.5) - 1.0) < 1e-9  # elapsed x (1 - f) / f
    # Half a second later nothing moved (a slow file): the raw estimate doubles to 2.0 s...
    shown = estimate.update(1.5, 0.5)
    counted_down = 1.0 - 0.5
    assert abs(shown - (counted_down + 0.25 * (1.5 - counted_down))) < 1e-9  # ...the shown 0.75 s
    # Steady pace: it converges on the raw estimate and never goes below zero.
    for step in range(1, 40):
        now = 1.5 + 0.1 * step
        shown = estimate.update(now, min(0.5 + 0.01 * step, 0.999))
        assert shown >= 0
    raw = now * (1 - 0.89) / 0.89
    assert abs(shown - raw) < 0.25 * raw  # it follows the estimate


def test_stylesheet_ships_inside_the_package():
    from pathlib import Path

    import greg_tui
    from greg_tui.app import GregApp

    assert (Path(greg_tui.__file__).parent / GregApp.CSS_PATH).is_file()
