"""Keys and mouse (issue 12 #11): ctrl+d inside a text field, enter on a list, clicking grid
cells, and the app's commands in the command palette."""

from __future__ import annotations

import inspect

from textual.widgets import Input, SelectionList

from greg_tui.screens.grid import GridScreen
from greg_tui.screens.setup import SetupScreen
from greg_tui.widgets.grid.heatmap import Heatmap
from tests.app.support import make_app, screen_text


async def test_ctrl_d_restores_the_defaults_from_inside_a_text_field(results_base):
    app = make_app(results_base)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("3")
        assert isinstance(app.screen, SetupScreen)
        bins = app.screen.query_one("#x_bins", Input)
        bins.focus()
        bins.value = ""
        await pilot.press("7")
        await pilot.pause()
        assert app.config.x_bins == "7"
        await pilot.press("ctrl+d")
        await pilot.pause()
        assert bins.value == "20" and app.config.x_bins == "20" and app.validation.ok


async def test_enter_on_a_list_moves_on_and_space_ticks(results_base):
    app = make_app(results_base)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("3")
        underlyings = app.screen.query_one("#underlyings", SelectionList)
        assert app.screen.focused is underlyings
        before = list(underlyings.selected)
        await pilot.press("enter")
        assert list(underlyings.selected) == before  # no surprise toggle
        assert app.screen.focused is app.screen.query_one("#metrics")
        await pilot.press("shift+tab", "space")
        assert len(underlyings.selected) == len(before) - 1


async def test_clicking_a_grid_cell_moves_the_cursor_there(results_base):
    app = make_app(results_base)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("2")
        await pilot.pause()
        heatmap = app.screen.query_one(Heatmap)
        layout = heatmap.layout_now
        target = (3, heatmap.view.ny - 2)  # column 3, second row from the top
        offset = (layout.grid_x(target[0]) + 1, (heatmap.view.ny - 1 - target[1]) * layout.cell_h)
        await pilot.click(Heatmap, offset=offset)
        await pilot.pause()
        assert heatmap.cursor == target
        assert f"cell {target[0] + 1},{target[1] + 1}" in screen_text(app)
        await pilot.click(Heatmap, offset=(0, 0))  # the y axis labels: not a cell
        assert heatmap.cursor == target


async def _run_command(app, pilot, title: str) -> None:
    command = next(c for c in app.get_system_commands(app.screen) if c.title == title)
    result = command.callback()
    if inspect.isawaitable(result):
        await result
    await pilot.pause()


async def test_command_palette_has_the_apps_commands(results_base):
    app = make_app(results_base)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        titles = [c.title for c in app.get_system_commands(app.screen)]
        for expected in ("Go to Sweet spots", "Go to Grid", "Go to Setup", "Go to Regimes", "Go to Selector",
                         "Run scan", "Reload results", "Sensors", "Jump to underlying ETH",
                         "Jump to strategy Strategy D: Iron Butterfly", "Jump to pair vrp_30d / adx_14d"):
            assert expected in titles, expected
        assert "Export current grid" not in titles  # only on the grid
        await _run_command(app, pilot, "Jump to pair vrp_30d / rsi_14d")
        screen = app.screen
        assert isinstance(screen, GridScreen)
        assert app.results.pairs[screen.pair_index] == ("vrp_30d", "rsi_14d")
        await _run_command(app, pilot, "Jump to underlying ETH")
        assert screen.underlying == "ETH" and app.results.pairs[screen.pair_index] == ("vrp_30d", "rsi_14d")
        await _run_command(app, pilot, "Jump to strategy Strategy D: Iron Butterfly")
        assert screen.strategy_key == "STRATEGY_D_IRON_BUTTERFLY"
        assert "Export current grid" in [c.title for c in app.get_system_commands(app.screen)]
        await _run_command(app, pilot, "Go to Regimes")
        assert type(app.screen).__name__ == "RegimesScreen"
        # The palette itself lists them.
        await pilot.press("ctrl+p")
        await pilot.press(*"jump to pair")
        await pilot.pause(0.5)
        assert "Jump to pair" in screen_text(app)
