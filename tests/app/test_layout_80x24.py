"""Everything reachable and legible at 80x24 (issue 12 #8), asserted on the text as drawn:
the table's key columns and sort arrow, setup's Run button and status, the selector's
footer, the regimes' phi_skew and skew template; and n per pair next to each sweet spot (#4)."""

from __future__ import annotations

from rich.console import Console
from textual.widgets import Button

from greg_tui.screens.help import bindings_table
from greg_tui.widgets.sweetspots.table import SpotTable
from tests.app.support import make_app, press_and_settle, screen_text, wait_until


def _row(text: str, starts: str) -> str:
    return next(line for line in text.splitlines() if line.strip().startswith(starts))


async def test_sweet_spot_table_at_80x24(results_base):
    app = make_app(results_base)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        text = screen_text(app)
        header = _row(text, "Und")
        # The narrow column set, whole: the spot, its score, what happened after its days.
        for column in ("Strategy", "Pair", "Score▼", "Edge", "Ep", "Hit%", "OOS", "n/N"):
            assert column in header, header
        assert header.rstrip().endswith("n/N")  # the last column is not cut
        table = app.screen.query_one(SpotTable)
        assert table.virtual_size.width <= table.scrollable_content_region.width  # nothing to scroll to
        assert "s Score ▼" in text  # the sort, outside the table too
        first = table.shown_rows[0]
        row = _row(text.split(header, 1)[1], first.underlying)  # the first row under the header
        assert f"{first.count}/{first.pair_samples}" in row
        assert f"of the pair's {first.pair_samples}" in " ".join(text.split())  # the detail line says it
        await pilot.press("s")  # sorting by another column moves the arrow
        text = screen_text(app)
        assert "Edge▼" in _row(text, "Und") and "s Edge ▼" in text
        for _ in range(4):  # every narrow column's arrow is on screen in turn
            await pilot.press("s")
            assert "▼" in _row(screen_text(app), "Und")
        for line in text.splitlines():
            assert len(line) <= 80


async def test_setup_run_button_and_status_are_on_screen_at_80x24(results_base):
    app = make_app(results_base)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("3")
        await pilot.pause()
        # Drawn once the footer is (a loaded machine may take more than one pause).
        await wait_until(pilot, lambda: "^d Defaults" in screen_text(app).splitlines()[-1], what="the footer")
        run = app.screen.query_one("#run", Button)
        assert run.region.bottom <= 24 - 1 and run.region.area > 0  # above the footer
        text = screen_text(app)
        assert "Run scan" in text and "✓ Ready" in text
        assert "^d Defaults" in text.splitlines()[-1]


async def test_selector_footer_and_regimes_columns_at_80x24(results_base):
    app = make_app(results_base)
    async with app.run_test(size=(80, 24)) as pilot:
        await press_and_settle(pilot, "5")
        footer = screen_text(app).splitlines()[-1]
        for key in ("u Underlying", "c Source", "p Policy", "[]", "g Date", "r Run", "? Help", "q Quit"):
            assert key in footer, footer
        await pilot.press("4")
        await pilot.pause()
        text = screen_text(app)
        assert "phi_skew" in text and "mu_vrp_30d" in text and "%RV (pts)" in text
        assert "Skew template" in text


async def test_grid_footer_keeps_quit_and_f5_still_reloads_at_80x24(results_base):
    app = make_app(results_base)
    async with app.run_test(size=(80, 24)) as pilot:
        await press_and_settle(pilot, "2")
        await wait_until(pilot, lambda: "Layer" in screen_text(app).splitlines()[-1], what="the grid's footer")
        footer = screen_text(app).splitlines()[-1]
        for key in ("v Layer", "e Edge", "n Pair", "t Strategy", "u Underlying", "x Export", "? Help", "q Quit"):
            assert key in footer, footer
        assert "F5" not in footer  # unlisted on the grid, where its own keys fill the line
        loads = app.results_loaded
        await pilot.press("f5")
        await wait_until(pilot, lambda: app.results_loaded > loads, what="the reload")
    console = Console(width=100, record=True)
    console.print(bindings_table(app))
    assert console.export_text().count("Read the results folder again") == 1  # listed once, under Everywhere
