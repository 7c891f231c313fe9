"""Sweet-spot table features, damaged results, regimes, selector, help, themes and sizes."""

from __future__ import annotations

import json
from functools import partial

from rich.text import Text
from textual.widgets import DataTable, Static
from textual.widgets.data_table import ColumnKey

from backtest.heatmaps.outputs import GRIDS_NAME, JSON_NAME, MANIFEST_NAME
from backtest.regimes.builder import build_regime_model
from greg_core.settings import output_dir_for
from greg_tui.app import DARK_THEME, LIGHT_THEME
from greg_tui.screens.regimes import RegimesScreen
from greg_tui.screens.selector import SelectorScreen
from greg_tui.screens.sweetspots import SweetSpotsScreen
from greg_tui.widgets.grid.heatmap import DARK_PALETTE, LIGHT_PALETTE, Heatmap
from greg_tui.widgets.sweetspots.rows import ALL, COLUMN_KEYS, RowFilter
from greg_tui.widgets.sweetspots.table import SpotTable
from tests.app.support import make_app, press_and_settle, static_text


def _text(widget) -> str:
    return str(widget.render())


async def test_table_sorts_and_filters(results_base):
    app = make_app(results_base)
    async with app.run_test(size=(160, 40)) as pilot:
        await pilot.pause()
        table = app.screen.query_one(SpotTable)
        total = table.row_count
        scores = [r.sweetness for r in table.shown_rows]
        assert scores == sorted(scores, reverse=True)  # default: best score first
        assert "Score▼" in str(table.columns[ColumnKey("score")].label)
        table.sort_by("pass")  # pass rate, descending
        assert table.sort_column == "pass"
        passes = [r.pass_rate for r in table.shown_rows]
        assert passes == sorted(passes, reverse=True)
        shown = [str(table.get_row_at(i)[COLUMN_KEYS.index("pass")]) for i in range(3)]  # the table agrees
        assert shown == [f"{r.pass_rate * 100:.1f}" for r in table.shown_rows[:3]]
        assert table.cursor_row == 0 and table.current_row is table.shown_rows[0]
        await pilot.pause()
        detail = _text(app.screen.query_one("#spot-detail", Static))
        assert Text.from_markup(table.shown_rows[0].describe()).plain in detail
        await pilot.press("S")
        passes = [r.pass_rate for r in table.shown_rows]
        assert passes == sorted(passes)
        # Clicking a header sorts by it.
        table.post_message(DataTable.HeaderSelected(table, ColumnKey("count"), 0, table.columns[ColumnKey("count")].label))
        await pilot.pause()
        assert table.sort_column == "count"
        # Filters by key: underlying, strategy, metric; c clears.
        await pilot.press("u")
        first = app.results.underlyings[0]
        assert table.row_filter.underlying == first
        assert all(r.underlying == first for r in table.shown_rows) and table.row_count < total
        await pilot.press("m")
        metric = table.row_filter.metric
        assert metric != ALL and all(metric in (r.x_metric, r.y_metric) for r in table.shown_rows)
        await pilot.press("t")
        key = table.row_filter.strategy
        assert key != ALL and all(r.strategy_key == key for r in table.shown_rows)
        await pilot.press("c")
        await pilot.pause()
        assert table.row_filter == RowFilter() and table.row_count == total
        detail = _text(app.screen.query_one("#spot-detail", Static))
        assert "Wilson" in detail and "occupancy" in detail


async def test_corrupt_manifest_shows_error_panel(results_base):
    (output_dir_for(results_base) / MANIFEST_NAME).write_text("{not json", encoding="utf-8")
    app = make_app(results_base)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, SweetSpotsScreen) and screen.has_class("-error")
        panel = _text(screen.query_one("#spots-empty", Static))
        assert "cannot be read" in panel and MANIFEST_NAME in panel and "Press r" in panel
        await pilot.press("2")  # the grid says so too
        assert "No grid" in _text(app.screen.query_one("#grid-empty", Static))


async def test_truncated_grids_and_bad_records_show_error_panel(results_base):
    grids = output_dir_for(results_base) / GRIDS_NAME
    grids.write_bytes(grids.read_bytes()[: grids.stat().st_size // 2])
    app = make_app(results_base)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert app.results is None and GRIDS_NAME in app.results_error
        assert GRIDS_NAME in _text(app.screen.query_one("#spots-empty", Static))
        # A fresh scan replaces the damaged files.
        app.set_config(app.config.with_values(lookback_days="300"))
        await press_and_settle(pilot, "r")
        assert app.results is not None and app.results_error is None
    (output_dir_for(results_base) / JSON_NAME).write_text(json.dumps({"not": "a list"}), encoding="utf-8")
    app = make_app(results_base)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert JSON_NAME in app.results_error


async def test_regimes_screen_shows_default_model_and_rebuild_without_data(tmp_path):
    app = make_app(tmp_path, data_dir=tmp_path / "empty")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("4")
        screen = app.screen
        assert isinstance(screen, RegimesScreen)
        provenance = _text(screen.query_one("#regime-provenance", Static))
        assert "built-in defaults" in provenance and str(app.regime_file) in provenance
        params = static_text(screen.query_one("#regime-table", Static))
        for header in ("mu_rv_30d", "mu_vrp_30d", "%RV (pts)", "phi_iv", "phi_skew"):
            assert header in params
        assert params.count("%") >= 7  # share and mu_vrp_30d in percent
        skew = static_text(screen.query_one("#regime-skew", Static))
        assert "% of ATM IV" in skew and "d 0.25" in skew
        assert "dwell" in static_text(screen.query_one("#regime-matrix", Static))
        await pilot.press("u")
        assert screen.underlying == "ETH"
        await press_and_settle(pilot, "b")
        errors = [n for n in app.notes if n[2] == "error"]
        assert errors and "No real data" in errors[0][1]
        assert not app.regime_file.exists()


async def test_regime_rebuild_from_real_data_writes_the_tmp_file(tmp_path, real_dir):
    app = make_app(tmp_path, data_dir=real_dir)
    app.regime_builder = partial(build_regime_model, calibrate=False)  # fast: skip phi_iv search
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("4")
        await press_and_settle(pilot, "b")
        assert app.regime_file.exists(), app.notes
        assert any(n[0] == "Regimes rebuilt" for n in app.notes)
        provenance = _text(app.screen.query_one("#regime-provenance", Static))
        assert str(app.regime_file) in provenance and "built" in provenance


async def test_selector_screen_shows_a_decision(tmp_path):
    app = make_app(tmp_path, data_dir=tmp_path / "empty")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("5")
        screen = app.screen
        assert isinstance(screen, SelectorScreen)
        await app.workers.wait_for_complete()
        await pilot.pause()
        head = _text(screen.query_one("#decision-head", Static))
        assert "Greg selects:" in head
        table = screen.query_one("#sensor-table", DataTable)
        assert table.row_count == 12
        units = {str(table.get_row_at(i)[2]) for i in range(table.row_count)}
        assert "vol pts" in units and "0..100" in units
        decision = screen.query_one("#decision-table", Static).render()
        assert decision is not None
        first_head = _text(screen.query_one("#selector-head", Static))
        assert "latest day with data" in first_head
        await pilot.press("left_square_bracket")
        assert "1 before the latest day with data" in _text(screen.query_one("#selector-head", Static))
        await pilot.press("p")
        assert screen.policy == "ignore-missing"
        assert "ignore-missing" in _text(screen.query_one("#decision-head", Static))
        # Without real data, the history source says so.
        await press_and_settle(pilot, "c")  # synthetic -> history
        assert "No usable history data" in _text(screen.query_one("#selector-head", Static))


async def _tour(app, pilot, keys=("1", "2", "3", "4", "5")) -> None:
    for key in keys:
        await pilot.press(key)
    await app.workers.wait_for_complete()
    await pilot.pause()


async def test_every_screen_renders_at_80x24_and_200x50_in_both_themes(results_base):
    """One app, resized (each area re-lays out for the new size), in both themes."""
    app = make_app(results_base)
    async with app.run_test(size=(80, 24)) as pilot:
        for size, theme in (((80, 24), DARK_THEME), ((200, 50), LIGHT_THEME)):
            await pilot.resize_terminal(*size)
            app.theme = theme
            await _tour(app, pilot)
            assert app.size == size
            if size == (80, 24):  # once is enough: ctrl+t toggles light/dark
                await pilot.press("ctrl+t")
                assert app.theme != theme
                await _tour(app, pilot, ("5",))  # the screens choosing their own colours
            await _tour(app, pilot, ("2",))
            heatmap = app.screen.query_one(Heatmap)
            assert heatmap.palette is (DARK_PALETTE if app.theme == DARK_THEME else LIGHT_PALETTE)
            assert app.screen.query_one("#grid-side").region.right <= size[0]
    assert not [n for n in app.notes if n[2] == "error"], app.notes
