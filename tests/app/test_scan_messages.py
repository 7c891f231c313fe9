"""What the app says about a scan: progress coalesced (can_replace), too late to cancel once
the files move, one duration per run, and no '0 sweet spots found ()' (issues 11 #4, 12 #12)."""

from __future__ import annotations

import time

from greg_tui.app import GregApp, finished_text
from greg_tui.messages import SweepProgress
from tests.app.support import make_app, slow_sweep, small_app, wait_for_scan, wait_until


async def test_queued_progress_messages_collapse_into_the_latest(results_base, monkeypatch):
    handled: list[str] = []
    original = GregApp.on_sweep_progress

    def spy(self, message):
        handled.append(message.message)
        original(self, message)

    monkeypatch.setattr(GregApp, "on_sweep_progress", spy)
    app = make_app(results_base)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        app.scan = app.scan.start()
        for step in range(200):  # queued before the app handles any of them
            app.post_message(SweepProgress(step / 200, f"step {step}", time.monotonic()))
        await pilot.pause()
        assert handled == ["step 199"]
        assert app.scan.message == "step 199"


async def test_escape_once_the_files_move_says_too_late(results_base):
    app = small_app(results_base)

    def sweep_that_commits(*args, progress=None, **kwargs):
        from backtest.heatmaps.run import run_greg_sweetspot_sweep

        def slowed(fraction, message):
            progress(fraction, message)
            if message.startswith("moving"):
                time.sleep(0.8)  # a slow disk: the moment to press escape

        return run_greg_sweetspot_sweep(*args, progress=slowed, **kwargs)

    app.sweep_function = sweep_that_commits
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("r")
        await wait_until(pilot, lambda: app.scan.committing, what="the commit")
        await pilot.press("escape")
        assert any(n[0] == "Finishing" and "too late to cancel" in n[1] for n in app.notes)
        await wait_for_scan(pilot, app)
        assert any(n[0] == "Scan finished" for n in app.notes)


async def test_one_duration_per_run_and_a_clear_zero(tmp_path):
    app = small_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("r")
        await wait_for_scan(pilot, app)
        seconds = app.results.manifest["total_seconds"]
        notice = next(n[1] for n in app.notes if n[0] == "Scan finished")
        assert f"in {seconds:.1f}s" in notice
        summary = str(app.screen.query_one("#spots-summary").render())
        assert f"in {seconds:.1f}s" in summary  # the header shows the same figure
        # Thresholds nothing can meet: a sentence, not "0 sweet spots found ()".
        app.set_config(app.config.with_values(min_pass_pct="100", min_occupancy_pct="90"))
        await pilot.press("r")
        await wait_for_scan(pilot, app)
        notice = [n[1] for n in app.notes if n[0] == "Scan finished"][-1]
        assert notice.startswith("No sweet spot found") and "()" not in notice
        assert "occupancy >= 90%" in notice and "pass rate >= 100%" in notice
        assert finished_text(app.results) == notice


async def test_cancel_goes_through_the_worker(results_base):
    app = small_app(results_base)
    app.sweep_function = slow_sweep(0.05)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("r")
        await wait_until(pilot, lambda: app.scan.engine_fraction > 0, what="progress")
        worker = next(w for w in app.workers if w.group == "sweep")
        await pilot.press("escape")
        assert worker.is_cancelled  # the engine polls worker.is_cancelled between steps
        await wait_for_scan(pilot, app)
        assert any(n[0] == "Cancelled" for n in app.notes)
