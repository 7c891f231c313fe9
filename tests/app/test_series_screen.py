"""The series area (6): a sensor or the forward edge over the loaded span, the days Greg
picked a strategy marked, the grid cell's days highlighted, a day cursor, and enter opening
the selector on that day (docs/app.md "6 Series")."""

from __future__ import annotations

import numpy as np
from textual.widgets import Static

from backtest.heatmaps.binning import bin_index
from backtest.selector.evaluate import evaluate_sample
from greg_core.contract import SENSOR_NAMES
from greg_tui.screens.grid import GridScreen
from greg_tui.screens.help import bindings_table
from greg_tui.screens.selector import SelectorScreen
from greg_tui.screens.timeseries import SeriesScreen
from greg_tui.widgets.grid.heatmap import Heatmap
from greg_tui.widgets.timeseries.plot import SeriesPlot
from tests.app.support import make_app, rich_text, screen_text, static_text, wait_until


def picked_days(sensors, key: str, policy: str = "strict") -> int:
    """Days on which Greg's per-sample decision (the selector screen's) selects ``key``."""
    rows = sensors[list(SENSOR_NAMES)].to_dict("records")
    return sum(evaluate_sample(row, policy=policy).selected_key == key for row in rows)


async def open_series(pilot, app) -> SeriesScreen:
    await pilot.press("6")
    await wait_until(pilot, lambda: isinstance(app.screen, SeriesScreen) and app.screen._span is not None,
                     what="the series to load")
    return app.screen


async def test_series_marks_the_picked_days_and_the_edge_is_an_outcome(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_series(pilot, app)
        span = screen._span
        n = len(span.sensors)
        key = screen.strategy_key
        expected = picked_days(span.sensors, key)
        legend = static_text(screen.query_one("#series-legend", Static))
        assert f"selected on {expected} of {n} days (policy strict)" in legend, legend
        text = screen_text(app)
        assert "vrp_30d (vol pts)" in text and "trades" in text  # legible at 80x24
        plot = screen.query_one(SeriesPlot)
        assert plot.cursor == n - 1 and f"(day {n}/{n})" in text
        # The edge: an outcome, labelled so; the last day's is not known yet.
        await pilot.press("e")
        head = static_text(screen.query_one("#series-head", Static))
        assert "edge_30d" in head and "OUTCOME" in head and span.trust.label in head
        cursor = static_text(screen.query_one("#series-cursor", Static))
        assert "edge_30d not known yet" in cursor
        # Home: the first day, whose edge is a number (the span's own, as the selector shows it).
        await pilot.press("home")
        cursor = static_text(screen.query_one("#series-cursor", Static))
        first_edge = span.next_outcome(0).edge
        assert f"(day 1/{n}): edge_30d {first_edge:.2f}" in cursor or f"{first_edge:.1f}" in cursor, cursor
        await pilot.press("right", "right")
        assert plot.cursor > 0
        # Another strategy: t; the count follows.
        await pilot.press("t")
        other = screen.strategy_key
        assert other != key
        legend = static_text(screen.query_one("#series-legend", Static))
        assert f"selected on {picked_days(span.sensors, other)} of {n} days" in legend
        # m: the synthetic regime of each column instead, counted per regime; then no marks.
        await pilot.press("m")
        legend = static_text(screen.query_one("#series-legend", Static))
        regimes = span.sensors["regime_id"].dropna().astype(int).value_counts()
        assert "0-9 regime" in legend and f"{regimes.index[0]}: {regimes.iloc[0]} days" in legend
        await pilot.press("m")
        assert "no marks (m)" in static_text(screen.query_one("#series-legend", Static))
        # Enter opens the cursor's day in the selector.
        stamp = span.sensors.index[plot.cursor]
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, SelectorScreen) and app.screen._span is not None,
                         what="the selector")
        await pilot.pause()
        assert f"{stamp:%Y-%m-%d}" in static_text(app.screen.query_one("#selector-head", Static))


async def test_opened_from_the_grid_the_cells_days_are_highlighted(results_base):
    app = make_app(results_base)
    async with app.run_test(size=(200, 50)) as pilot:
        await pilot.pause()
        await pilot.press("enter")  # the first sweet spot's cell on the grid
        await pilot.pause()
        grid = app.screen
        assert isinstance(grid, GridScreen)
        x, y = grid.query_one(Heatmap).cursor
        screen = await open_series(pilot, app)
        span = screen._span
        stored = app.results.grid(grid.underlying, *app.results.pairs[grid.pair_index])
        sensors = span.sensors
        days = ((bin_index(sensors[stored.x_metric].to_numpy(float), stored.x_edges) == x)
                & (bin_index(sensors[stored.y_metric].to_numpy(float), stored.y_edges) == y))
        # The span is the results' own data (their source, length and seed): the same days.
        assert len(sensors) == app.results.manifest["parameters"]["lookback_days"]
        assert int(days.sum()) == int(stored.counts[x, y]) > 0
        assert screen.window_note() == f"; the loaded results' {len(sensors)} days"
        legend = static_text(screen.query_one("#series-legend", Static))
        assert f": {int(days.sum())} days here" in legend and f"{int(stored.counts[x, y])} samples" in legend
        assert screen.strategy_key == grid.strategy_key  # the grid's strategy
        text = screen_text(app)
        assert any(line.strip().startswith("cell ") for line in text.splitlines())
        # x shows the cell's x sensor with the cell's range marked on the value axis (x toggles
        # between the cell's two sensors: when the screen opened on the x sensor, press twice).
        await pilot.press("x")
        if screen.series != stored.x_metric:
            await pilot.press("x")
        assert screen.series == stored.x_metric and "┃" in screen_text(app)
        # The cursor on a day in the cell says so.
        plot = screen.query_one(SeriesPlot)
        plot.set_cursor(int(np.flatnonzero(days)[-1]))
        await pilot.pause()
        assert "in the cell" in static_text(screen.query_one("#series-cursor", Static))


async def test_help_lists_the_series_keys(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: app.engine_ready, what="the engine")  # before the app closes
        text = rich_text(bindings_table(app), width=120)
    section = text.split("6 Series")[1]
    for key, what in (("e", "forward edge"), ("m", "trade days"), ("t", "Strategy"), ("⏎", "selector"),
                      ("←", "Earlier"), ("[", "one day earlier"), ("home", "First day")):
        assert any(line.split()[:1] == key.split()[:1] and what in line for line in section.splitlines()), (key, what)


async def test_series_text_is_readable_in_both_themes(results_base):
    from greg_tui.app import DARK_THEME, LIGHT_THEME
    from tests.app.test_contrast import low_contrast

    app = make_app(results_base)
    problems = {}
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("enter")  # a grid cell, so the cell strip and highlight are drawn
        await pilot.pause()
        screen = await open_series(pilot, app)
        for theme in (DARK_THEME, LIGHT_THEME):
            app.theme = theme
            for key in ("x", "e", "m", "m", "m"):  # marks: regime, none, trades
                await pilot.press(key)
                await pilot.pause()
                found = low_contrast(app)
                if found:
                    problems[(theme, key, screen.series)] = sorted(set(found))[:8]
    assert not problems, "\n".join(f"{where}: {found}" for where, found in problems.items())
