"""Results written by another process appear by themselves, the age label stays current,
and F5 reloads on demand (issue 12 #3)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from backtest.heatmaps.run import run_greg_sweetspot_sweep
from greg_tui.screens import sweetspots as sweetspots_module
from greg_tui.widgets.sweetspots import summary as summary_module
from greg_tui.widgets.sweetspots.table import SpotTable
from tests.app.support import SMALL_LOOKBACK, make_app, screen_text, static_text, wait_until


async def test_results_published_by_another_run_appear(results_base):
    app = make_app(results_base)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        before = app.results
        rows_before = app.screen.query_one(SpotTable).row_count
        assert "F5 Reload" in screen_text(app)  # the reload key is on screen
        # Another process (here: the engine called directly) publishes a different sweep.
        run_greg_sweetspot_sweep(results_base, ("BTC",), ("vrp_30d", "adx_14d"), lookback_days=SMALL_LOOKBACK,
                                 top_k=2)
        await wait_until(pilot, lambda: app.results is not before, timeout=20, what="the reload")
        assert app.results.underlyings == ["BTC"] and len(app.results.pairs) == 1
        table = app.screen.query_one(SpotTable)
        assert table.row_count != rows_before and all(r.underlying == "BTC" for r in table.shown_rows)
        assert any(n[0] == "New results" and "written by another run" in n[1] for n in app.notes)


async def test_f5_reloads_without_a_notice(results_base):
    app = make_app(results_base)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        loads = app.results_loaded
        await pilot.press("f5")
        await wait_until(pilot, lambda: app.results_loaded > loads, what="the reload")
        assert app.results is not None
        assert not [n for n in app.notes if n[0] == "New results"]  # asked for: no notice


async def test_the_age_label_stays_current(results_base, monkeypatch):
    monkeypatch.setattr(sweetspots_module, "AGE_REFRESH_SECONDS", 0.1)
    app = make_app(results_base)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        summary = app.screen.query_one("#spots-summary")
        assert "7 min ago" not in static_text(summary)  # the session's results are fresher
        created = datetime.strptime(app.results.manifest["created_at"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)

        class Later(datetime):
            @classmethod
            def now(cls, tz=None):
                return created + timedelta(minutes=7)

        monkeypatch.setattr(summary_module, "datetime", Later)
        await wait_until(pilot, lambda: "7 min ago" in static_text(summary), timeout=5, what="the age to move")
