"""The grid's outcome layers (issue 9, "In the app"): the forward edge and the structure P&L
of the selected strategy's days per cell, drawn diverging around 0, thin cells muted and
marked; the cursor panel's figures and entry dates; the export; an older run without them."""

from __future__ import annotations

import csv
from dataclasses import replace

import numpy as np
import pytest
from rich.style import Style
from textual.widgets import Static

from backtest.heatmaps.outcome_cells import NO_TRADE_GROUP
from greg_core.formatting import fmt_signed
from greg_tui.areas import GridTarget
from greg_tui.grid_export import GRID_CSV_HEADER, exports_dir_for
from greg_tui.messages import ResultsRead
from greg_tui.screens.grid import GridScreen
from greg_tui.widgets.grid.heatmap import (
    DARK_PALETTE,
    LAYERS,
    LIGHT_PALETTE,
    SHADES,
    GridView,
    Heatmap,
    layout_for,
    render_grid,
)
from greg_tui.widgets.grid.outcomes import _dates, outcome_layer
from tests.app.support import make_app, screen_text, static_text


def _busiest_outcome_cell(app, underlying: str, pair: tuple[str, str]) -> tuple[str, tuple[int, int]]:
    """The strategy and cell with the most days with an edge outcome on this pair."""
    cells = app.results.cell_outcomes(underlying, *pair)
    strategies = [g for g in cells.groups if g != NO_TRADE_GROUP]
    g, x, y = np.unravel_index(int(np.argmax(cells.n[: len(strategies)])), cells.n[: len(strategies)].shape)
    return strategies[int(g)], (int(x), int(y))


async def _open_edge_layer(app, pilot):
    await pilot.press("2")
    await app.workers.wait_for_complete()
    screen = app.screen
    assert isinstance(screen, GridScreen)
    underlying, pair = app.results.underlyings[0], app.results.pairs[0]
    strategy, cell = _busiest_outcome_cell(app, underlying, pair)
    screen.show_target(GridTarget(underlying, strategy, pair, cell))
    await pilot.press("e")
    await pilot.pause()
    return screen, underlying, pair, strategy, cell


async def test_edge_layer_draws_each_cells_mean_and_the_panel_its_figures(results_base):
    app = make_app(results_base)
    async with app.run_test(size=(80, 24)) as pilot:
        screen, underlying, pair, strategy, (x, y) = await _open_edge_layer(app, pilot)
        assert screen.layer == "edge"
        view = screen.query_one(Heatmap).view
        cells = app.results.cell_outcomes(underlying, *pair)
        g = cells.group_index(strategy)
        present = cells.n[g] > 0
        assert view.diverging and np.array_equal(view.present, present)
        assert np.allclose(view.values[present], cells.mean[g][present])
        min_episodes = app.results.manifest["parameters"]["min_episodes"]
        assert np.array_equal(view.thin, (cells.episodes[g] < min_episodes) & present)
        # The side panel: what is shown and what it can be trusted for (synthetic source).
        title = static_text(screen.query_one("#grid-title", Static), 30)
        assert "model outcomes," in title and "realism:" in title and "edge" in title
        panel = static_text(screen.query_one("#grid-outcome", Static), 30)
        n, episodes = int(cells.n[g, x, y]), int(cells.episodes[g, x, y])
        assert f"n {n} days, {episodes} episode" in panel
        assert f"mean {fmt_signed(cells.mean[g, x, y])}" in panel
        assert "95% interval, Newey-West" in panel
        assert f"median {fmt_signed(cells.median[g, x, y])}" in panel
        assert f"p10 {fmt_signed(cells.p10[g, x, y])}" in panel and f"worst {fmt_signed(cells.worst[g, x, y])}" in panel
        assert ("~thin" in panel) == (episodes < min_episodes)
        r = cells.group_index(NO_TRADE_GROUP)
        if cells.n[r, x, y]:
            assert f"no-trade days {fmt_signed(cells.mean[r, x, y])} ({int(cells.n[r, x, y])})" in panel
            assert f"difference {fmt_signed(cells.mean[g, x, y] - cells.mean[r, x, y])}" in panel
        first = str(cells.entry_times(strategy, x, y)[0])[:10]
        assert f"began {first}" in panel
        legend = static_text(screen.query_one("#grid-legend", Static), 30)
        horizon = app.results.manifest["parameters"]["horizon_days"]
        assert f"edge_{horizon}d" in legend and "vol pts" in legend and f"next {horizon} days" in legend
        assert f"thin: < {min_episodes} episodes" in legend
        for line in screen_text(app).splitlines():
            assert len(line) <= 80


async def test_layer_keys_cycle_through_the_outcome_layers(results_base):
    app = make_app(results_base)
    async with app.run_test(size=(120, 40)) as pilot:
        screen, *_ = await _open_edge_layer(app, pilot)
        await pilot.press("dollar_sign")
        assert screen.layer == "pnl"
        legend = static_text(screen.query_one("#grid-legend", Static), 40)
        assert "% of entry spot" in legend and "held to expiry" in legend
        assert "Structure P&L" in static_text(screen.query_one("#grid-outcome", Static), 40)
        await pilot.press("o")
        seen = []
        for _ in LAYERS:
            await pilot.press("v")
            seen.append(screen.layer)
        assert seen == [*LAYERS[1:], LAYERS[0]]
        # The other layers keep a one-line summary of the cell's edge.
        await pilot.press("p")
        assert "edge" in static_text(screen.query_one("#grid-outcome", Static), 40)


async def test_edge_layer_export_has_the_outcome_columns(results_base):
    app = make_app(results_base)
    async with app.run_test(size=(100, 30)) as pilot:
        screen, underlying, pair, strategy, (x, y) = await _open_edge_layer(app, pilot)
        await pilot.press("x")
        await pilot.pause()
        files = list(exports_dir_for(app.output_dir).glob("*_edge.csv"))
        assert len(files) == 1
        with files[0].open(newline="") as stream:
            rows = list(csv.DictReader(stream))
        assert list(rows[0]) == list(GRID_CSV_HEADER)
        cells = app.results.cell_outcomes(underlying, *pair)
        g = cells.group_index(strategy)
        row = next(r for r in rows if (int(r["x_bin"]), int(r["y_bin"])) == (x, y))
        assert np.isclose(float(row["value"]), cells.mean[g, x, y])
        assert int(row["edge_n"]) == cells.n[g, x, y] and int(row["edge_episodes"]) == cells.episodes[g, x, y]
        assert np.isclose(float(row["edge_ci_low"]), cells.ci_low[g, x, y]) or not np.isfinite(cells.ci_low[g, x, y])
        empty = next(r for r in rows if r["edge_n"] in ("", "0"))
        assert empty["value"] == "" and empty["edge_mean"] == ""


async def test_an_older_run_without_outcomes_keeps_the_other_layers(results_base):
    app = make_app(results_base)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("2")
        await app.workers.wait_for_complete()
        await pilot.press("e")
        screen = app.screen
        assert screen.layer == "edge"
        results = app.results
        older = replace(results, arrays={k: v for k, v in results.arrays.items() if "__edge__" not in k
                                         and "__pnl__" not in k}, scorecard=None)
        app.on_results_read(ResultsRead(older, None, app.results_token))
        await pilot.pause()
        assert screen.layer == "occupancy"  # back to a layer the run has
        await pilot.press("e")
        assert screen.layer == "occupancy"
        assert any(note[0] == "No outcomes" for note in app.notes)
        seen = set()
        for _ in LAYERS:
            await pilot.press("v")
            seen.add(screen.layer)
        assert seen == {"occupancy", "pass", "sweetness"}
        assert "model outcomes" not in static_text(screen.query_one("#grid-title", Static))


# ----------------------------------------------------------------------------- drawing


def _outcome_view() -> GridView:
    counts = np.array([[5, 5], [5, 0], [5, 5]])
    values = np.array([[-8.0, 2.0], [0.0, np.nan], [8.0, np.nan]])
    present = np.array([[True, True], [True, False], [True, False]])
    thin = np.array([[False, True], [False, False], [False, False]])
    return GridView(
        x_metric="vrp_30d", y_metric="adx_14d",
        x_edges=np.array([0.0, 10.0, 20.0, 30.0]), y_edges=np.array([5.0, 15.0, 25.0]),
        counts=counts, values=values, layer="edge", scale_max=8.0, diverging=True, present=present, thin=thin,
    )


def test_signed_levels_are_symmetric_and_blank_without_an_outcome():
    view = _outcome_view()
    assert view.signed_level(0, 0) == -4 and view.signed_level(2, 0) == 4
    assert view.signed_level(0, 1) == 1  # +2 of a scale of 8: the first level
    assert view.signed_level(1, 0) == 0  # exactly 0: neutral
    assert view.signed_level(1, 1) is None and view.signed_level(2, 1) is None  # no outcome: blank


@pytest.mark.parametrize("palette", [DARK_PALETTE, LIGHT_PALETTE])
def test_outcome_cells_are_red_for_loss_green_for_gain_and_thin_ones_muted_and_marked(palette):
    view = _outcome_view()
    layout = layout_for(view, 40, 10)
    text = render_grid(view, (1, 1), layout, palette)
    lines = text.plain.splitlines()
    middle = (layout.cell_h - 1) // 2  # the sub-row carrying the marks
    top_row, bottom_row = middle, layout.cell_h + middle  # cells y=1, then y=0
    bottom, top = lines[bottom_row], lines[top_row]

    def colour_of(char: str, row: int) -> str:
        line = text.split("\n")[row]
        for span in line.spans:
            if char in line.plain[span.start:span.end]:
                return Style.parse(str(span.style)).color.name
        raise AssertionError(char)

    assert SHADES[4] in bottom and bottom.count(SHADES[4]) >= 2 * layout.cell_w - 2
    assert colour_of(SHADES[4], bottom_row) == palette.loss[3]  # -8 at x=0 comes first
    line = text.split("\n")[bottom_row]
    full = {Style.parse(str(span.style)).color.name for span in line.spans
            if SHADES[4] in line.plain[span.start:span.end]}
    assert full == {palette.loss[3], palette.gain[3]} and palette.loss[3] != palette.gain[3]
    assert "~" in top and SHADES[1] in top  # the thin +2 cell: lightest shade, marked
    assert colour_of("~", top_row) == palette.thin[1]
    assert "·" in bottom  # the cell at exactly 0


def test_entry_dates_fill_two_lines_then_say_how_many_more():
    times = np.array(["2023-01-05", "2023-02-10", "2023-03-15", "2023-04-20", "2023-05-25", "2023-07-01"],
                     dtype="datetime64[ns]")
    lines = _dates(times, 28)
    assert len(lines) == 2 and all(len(line) <= 28 for line in lines)
    assert lines[0].startswith("began 2023-01-05") and lines[-1].endswith("more")
    shown = sum(line.count("-") // 2 for line in lines)
    assert f"+{len(times) - shown} more" in lines[-1]
    assert _dates(times[:2], 28) == ["began 2023-01-05 2023-02-10"]


def test_the_scale_is_the_95th_percentile_of_the_sizes(results_base):
    from backtest.heatmaps.store import load_sweep_results
    from greg_core.settings import output_dir_for

    results = load_sweep_results(output_dir_for(results_base))
    cells = results.cell_outcomes(results.underlyings[0], *results.pairs[0])
    layer = outcome_layer(cells, cells.groups[0], 8)
    sizes = np.abs(layer.values[layer.present])
    assert np.isclose(layer.scale_max, np.quantile(sizes, 0.95)) or not sizes.size
