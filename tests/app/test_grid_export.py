"""x on the grid writes the grid on screen as CSV, every cell with the layer shown (issue 12
#13), and i shows each sensor's definition and unit (#10)."""

from __future__ import annotations

import csv

import numpy as np

from greg_core.contract import SENSORS
from greg_tui.grid_export import GRID_CSV_HEADER, exports_dir_for
from greg_tui.screens.grid import GridScreen
from greg_tui.screens.sensors import SensorsScreen
from tests.app.support import make_app, screen_text


async def test_x_exports_the_grid_on_screen(results_base):
    app = make_app(results_base)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("2", "p")  # the pass-rate layer
        screen = app.screen
        assert isinstance(screen, GridScreen) and screen.layer == "pass"
        await pilot.press("x")
        await pilot.pause()
        folder = exports_dir_for(app.output_dir)
        files = list(folder.glob("*.csv"))
        assert len(files) == 1 and "_pass.csv" in files[0].name
        assert any(n[0] == "Grid exported" and str(files[0]) in n[1] for n in app.notes)
        with files[0].open(newline="") as stream:
            rows = list(csv.DictReader(stream))
        x_metric, y_metric = app.results.pairs[screen.pair_index]
        grid = app.results.grid(screen.underlying, x_metric, y_metric)
        column = app.results.strategy_index(screen.strategy_key)
        assert list(rows[0]) == list(GRID_CSV_HEADER)
        assert len(rows) == grid.counts.size  # every cell, empty ones too
        assert {r["layer"] for r in rows} == {"pass"} and {r["strategy_key"] for r in rows} == {screen.strategy_key}
        for row in rows:
            x, y = int(row["x_bin"]), int(row["y_bin"])
            assert int(row["count"]) == grid.counts[x, y]
            assert np.isclose(float(row["value"]), grid.pass_rate[column, x, y])
            assert np.isclose(float(row["x_low"]), grid.x_edges[x]) and np.isclose(float(row["y_high"]), grid.y_edges[y + 1])
        ranks = {(int(r["x_bin"]), int(r["y_bin"])): int(r["sweet_spot_rank"]) for r in rows if r["sweet_spot_rank"]}
        record = next((r for r in app.results.records if r.underlying == screen.underlying
                       and r.strategy_key == screen.strategy_key and (r.x_metric, r.y_metric) == (x_metric, y_metric)),
                      None)
        expected = {(s.x_bin, s.y_bin): n for n, s in enumerate(record.sweet_spots, 1)} if record else {}
        assert ranks == expected
        assert not list(app.output_dir.glob("grid_*"))  # never inside the results folder


async def test_i_shows_every_sensor_with_unit_and_definition(results_base):
    app = make_app(results_base)
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.press("i")
        assert isinstance(app.screen, SensorsScreen)
        text = screen_text(app)
        for sensor in SENSORS:
            line = next(line for line in text.splitlines() if f" {sensor.name} " in line)
            assert sensor.unit in line and sensor.description.split()[0] in line
        await pilot.press("i")
        assert not isinstance(app.screen, SensorsScreen)


async def test_at_80x24_the_sensor_list_scrolls_to_its_end(results_base):
    """The catalogue is taller than 80x24 allows: it scrolls with the keys, down to the note
    on units, inside the frame."""
    from textual.containers import VerticalScroll

    app = make_app(results_base)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("i")
        await pilot.pause()
        scroll = app.screen.query_one("#sensors-scroll", VerticalScroll)
        assert scroll.max_scroll_y > 0 and scroll.region.bottom <= 24
        await pilot.press("end")
        await pilot.pause()
        assert scroll.scroll_y == scroll.max_scroll_y
        assert "vol pts" in screen_text(app)
