"""The occupancy grid: opening it from the table, moving the cursor, layers, switching, and
the pure drawing function."""

from __future__ import annotations

import numpy as np
from textual.widgets import Static

from greg_tui.screens.grid import GridScreen
from greg_tui.widgets.grid.heatmap import (
    DARK_PALETTE,
    LIGHT_PALETTE,
    SHADES,
    GridView,
    Heatmap,
    layout_for,
    render_grid,
)
from greg_tui.widgets.sweetspots.table import SpotTable
from tests.app.support import make_app


def _text(widget) -> str:
    return str(widget.render())


async def test_enter_opens_the_spots_grid_and_cursor_moves(results_base):
    app = make_app(results_base)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        table = app.screen.query_one(SpotTable)
        assert table.row_count > 0
        await pilot.press("down")
        spot = table.current_row
        await pilot.press("enter")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, GridScreen)
        heatmap = screen.query_one(Heatmap)
        assert heatmap.cursor == (spot.x_bin, spot.y_bin)
        assert screen.underlying == spot.underlying and screen.strategy_key == spot.strategy_key
        assert (heatmap.view.x_metric, heatmap.view.y_metric) == (spot.x_metric, spot.y_metric)
        assert screen.layer == "pass"
        cell_panel = screen.query_one("#grid-cell", Static)
        before = _text(cell_panel)
        assert "sweet spot #" in before
        assert f"{spot.count} of" in before
        # Move: right (l), up (arrow), then check both the cursor and the side panel changed.
        start = heatmap.cursor
        await pilot.press("l")
        await pilot.press("up")
        await pilot.pause()
        expected = (min(start[0] + 1, heatmap.view.nx - 1), min(start[1] + 1, heatmap.view.ny - 1))
        assert heatmap.cursor == expected
        after = _text(cell_panel)
        assert after != before
        assert f"cell {expected[0] + 1},{expected[1] + 1}" in after
        await pilot.press("h", "j")
        await pilot.pause()
        assert heatmap.cursor == start
        # At 80x24 a 20x20 grid fits without vertical scrolling.
        viewport = screen.query_one("#grid-viewport")
        assert viewport.max_scroll_y == 0
        assert heatmap.view.nx == 20 and heatmap.view.ny == 20


async def test_layers_pairs_strategies_underlyings(results_base):
    app = make_app(results_base)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("2")
        screen = app.screen
        assert isinstance(screen, GridScreen)
        heatmap = screen.query_one(Heatmap)
        title = screen.query_one("#grid-title", Static)
        assert screen.layer == "occupancy"
        assert "occupancy" in _text(title)
        await pilot.press("v")
        assert screen.layer == "pass" and "pass rate" in _text(title)
        await pilot.press("w")
        assert screen.layer == "sweetness" and heatmap.view.layer == "sweetness"
        await pilot.press("o")
        assert screen.layer == "occupancy"
        first_pair = (heatmap.view.x_metric, heatmap.view.y_metric)
        await pilot.press("n")
        assert (heatmap.view.x_metric, heatmap.view.y_metric) != first_pair
        await pilot.press("N")
        assert (heatmap.view.x_metric, heatmap.view.y_metric) == first_pair
        strategy = screen.strategy_key
        await pilot.press("t")
        assert screen.strategy_key != strategy
        underlying = screen.underlying
        await pilot.press("u")
        assert screen.underlying != underlying
        assert screen.underlying in _text(title)
        # Occupancy sums to the samples inside the grid.
        grid = app.results.grid(screen.underlying, heatmap.view.x_metric, heatmap.view.y_metric)
        assert abs(grid.occupancy.sum() - 1.0) < 1e-9
        await pilot.press("escape")
        assert type(app.screen).__name__ == "SweetSpotsScreen"


async def test_grid_uses_a_large_terminal(results_base):
    app = make_app(results_base)
    async with app.run_test(size=(200, 50)) as pilot:
        await pilot.press("2")
        await pilot.pause()
        heatmap = app.screen.query_one(Heatmap)
        layout = heatmap.layout_now
        assert layout.cell_w >= 4 and layout.cell_h >= 2
        assert heatmap.size.width > 120


def _view() -> GridView:
    counts = np.zeros((3, 2), dtype=int)
    counts[0, 0], counts[2, 1], counts[1, 0] = 10, 30, 5
    values = counts / counts.sum()
    return GridView(
        x_metric="vrp_30d", y_metric="adx_14d",
        x_edges=np.array([0.0, 10.0, 20.0, 30.0]), y_edges=np.array([5.0, 15.0, 25.0]),
        counts=counts, values=values, layer="occupancy", scale_max=float(values.max()),
        sweet={(2, 1): 1},
    )


def test_render_grid_axes_and_shading():
    view = _view()
    layout = layout_for(view, 40, 10)
    text = render_grid(view, (0, 0), layout, DARK_PALETTE).plain
    lines = text.splitlines()
    # y from high to low: the first row carries the top edge (25), the axis line the lowest (5).
    assert lines[0].lstrip().startswith("25")
    assert lines[(view.ny - 1) * layout.cell_h].lstrip().startswith("15")
    axis = lines[view.ny * layout.cell_h]
    assert axis.lstrip().startswith("5") and "└" in axis and "┬" in axis
    labels = "\n".join(lines[view.ny * layout.cell_h + 1:])
    for edge in ("0", "10", "20", "30"):
        assert edge in labels
    assert "◆" in text  # the sweet spot (2, 1) in the top row
    assert "◆" in lines[(layout.cell_h - 1) // 2]
    assert SHADES[4] in lines[0]  # the busiest cell has the fullest shade
    assert "[" in text and "]" in text  # the cursor


def test_render_grid_small_space_keeps_minimum_cells():
    view = _view()
    layout = layout_for(view, 5, 3)
    assert layout.cell_w == 2 and layout.cell_h == 1
    text = render_grid(view, (1, 0), layout, LIGHT_PALETTE).plain
    assert len(text.splitlines()) == view.ny + 1 + layout.label_rows
