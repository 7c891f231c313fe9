"""Data coverage in the app (which sensors a source has, samples per pair), the scan setup's
data source and folder, the regime file passed through to the engine, tampered result sets,
the readable selection lists, and the deferred engine import (a fast first frame)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from textual.widgets import Input, Select, SelectionList, Static

from backtest.heatmaps.outputs import GRIDS_NAME, JSON_NAME, MANIFEST_NAME
from backtest.sensors.sources import SOURCES
from greg_core.settings import output_dir_for
from greg_tui.screens.grid import GridScreen
from greg_tui.screens.selector import SelectorScreen
from greg_tui.screens.setup import SetupScreen
from greg_tui.widgets.grid.heatmap import Heatmap
from tests.app.support import ABSENT, make_app, press_and_settle, small_app, wait_for_scan


def _text(widget) -> str:
    return str(widget.render())


async def test_summary_and_grid_show_data_coverage(absent_results):
    app = make_app(absent_results)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        summary = _text(app.screen.query_one("#spots-summary", Static))  # narrow: still there
        assert "no data in this source" in summary and "missing policy strict" in summary
        await pilot.resize_terminal(120, 40)
        summary = _text(app.screen.query_one("#spots-summary", Static))
        assert "test history without skew or term structure" in summary
        assert "300 samples" in summary and ".." in summary  # samples and span
        assert f"no data in this source: {', '.join(ABSENT)}" in summary
        assert "strict: a comparison on a missing sensor is False" in summary  # the manifest's note
        await pilot.press("2")
        screen = app.screen
        assert isinstance(screen, GridScreen)
        await pilot.pause()
        # The first pair (vrp_30d, adx_14d) has every sample.
        assert not screen.has_class("-nodata")
        assert "samples 300 of 300" in _text(screen.query_one("#grid-title", Static))
        # The next pair reads skew_25d, which this source lacks: a message, not an empty grid.
        await pilot.press("n")
        await pilot.pause()
        assert screen.has_class("-nodata")
        assert not screen.query_one(Heatmap).display or not screen.query_one(Heatmap).region.area
        message = _text(screen.query_one("#grid-nodata", Static))
        assert "no samples: skew_25d is not in this source" in message
        title = _text(screen.query_one("#grid-title", Static))
        assert "samples 0 of 300" in title and "300 lack x or y" in title
        assert "skew_25d is not in this source" in _text(screen.query_one("#grid-cell", Static))
        assert screen.check_action("move", ()) is False
        # Both metrics absent.
        for _ in range(4):
            await pilot.press("n")
        await pilot.pause()
        assert "skew_25d and term_structure_spread are not in this source" in _text(
            screen.query_one("#grid-nodata", Static))
        await pilot.press("n")  # back to the first pair: the grid again
        await pilot.pause()
        assert not screen.has_class("-nodata") and screen.query_one(Heatmap).view is not None


async def test_setup_offers_sources_and_validates_the_data_folder(tmp_path):
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    app = make_app(tmp_path, data_dir=data_dir)
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.press("3")
        screen = app.screen
        assert isinstance(screen, SetupScreen)
        source = screen.query_one("#source", Select)
        assert [value for _label, value in source._options] == list(SOURCES)
        folder = screen.query_one("#data_dir", Input)
        assert folder.value == str(data_dir)  # --data-dir is the default
        # The lists read without colour: a ticked entry shows X, an unticked one a blank.
        underlyings = screen.query_one("#underlyings", SelectionList)
        underlyings.deselect("ETH")
        await pilot.pause()
        assert underlyings.render_line(0).text.startswith("▐X▌ BTC")
        assert underlyings.render_line(1).text.startswith("▐ ▌ ETH")
        underlyings.select("ETH")
        source.value = "history"
        await pilot.pause()
        assert app.validation.ok and app.validation.data_dir == data_dir
        folder.value = str(tmp_path / "nowhere")
        await pilot.pause()
        assert not app.validation.ok and app.validation.field == "data_dir"
        message = _text(screen.query_one("#setup-message", Static))
        assert "does not exist" in message and "nowhere" in message
        assert folder.has_class("-invalid")
        await pilot.click("#run")  # the Run button says why instead of doing nothing
        assert any(n[0] == "Cannot run the scan yet" and "does not exist" in n[1] for n in app.notes)
        assert not app.scan.running and app.screen.focused is folder
        # Synthetic data needs no folder: the same value is fine there.
        source.value = "synthetic"
        await pilot.pause()
        assert app.validation.ok
        # The selector follows the setup's source and folder.
        source.value = "history"
        folder.value = str(data_dir)
        await pilot.pause()
        await press_and_settle(pilot, "escape", "5")  # leave the folder field, then go to the selector
        assert isinstance(app.screen, SelectorScreen) and app.screen.source == "history"
        head = _text(app.screen.query_one("#selector-head", Static))
        assert "No usable history data" in head and str(data_dir) in head


def test_unset_data_folder_defaults_to_the_engines():
    from greg_core.settings import default_data_dir
    from greg_tui.widgets.scan.config import ScanConfig

    assert ScanConfig().resolved().data_dir == str(default_data_dir())
    assert ScanConfig().resolved(Path("/x")).data_dir == "/x"


async def test_regime_file_reaches_the_sweep_and_the_selector(tmp_path):
    from synthetic.regime_model import default_regime_model, save_regime_model

    app = small_app(tmp_path)
    save_regime_model(default_regime_model("BTC"), app.regime_file)
    app.set_config(app.config.with_values(underlyings=("BTC",), metrics=("vrp_30d", "adx_14d", "rsi_14d")))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("r")
        await wait_for_scan(pilot, app)
        description = app.results.manifest["underlyings"]["BTC"]["description"]
        assert f"regimes: {app.regime_file}" in description
        await press_and_settle(pilot, "5")
        assert str(app.regime_file) in _text(app.screen.query_one("#selector-head", Static))


async def test_a_tampered_result_set_shows_the_error_panel(absent_results, tmp_path):
    base = tmp_path / "base"
    shutil.copytree(absent_results, base)  # a small set: quick reloads
    folder = output_dir_for(base)
    app = make_app(base)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert app.results is not None
        for name in (GRIDS_NAME, JSON_NAME):
            original = (folder / name).read_bytes()
            middle = len(original) // 2
            (folder / name).write_bytes(original[:middle] + bytes([original[middle] ^ 0x01]) + original[middle + 1:])
            app.load_results()
            await pilot.pause()
            screen = app.screen
            assert app.results is None and screen.has_class("-error")
            panel = _text(screen.query_one("#spots-empty", Static))
            assert f"{name} does not match {MANIFEST_NAME}" in panel and "run the scan again" in panel
            (folder / name).write_bytes(original)
        app.load_results()
        await pilot.pause()
        assert app.results is not None and not app.screen.has_class("-error")


def test_manifest_summary_handles_old_manifests():
    from greg_tui.widgets.sweetspots.summary import manifest_summary

    old = {"parameters": {"missing_policy": "ignore-missing"}, "sweet_spots": 3,
           "underlyings": {"BTC": {"source": "history", "samples": 10, "span": None,
                                   "sensor_availability": {"skew_25d": 0, "vrp_30d": 10}}}}
    text = manifest_summary(json.loads(json.dumps(old)), wide=False)
    assert "no data in this source:[/b] skew_25d" in text and "ignore-missing" in text
    assert "no data" in manifest_summary({"underlyings": {"ETH": {}}})


async def test_setup_shows_per_sensor_coverage_and_missing_underlyings(tmp_path, real_dir):
    """Issue 12 #1/#2, app side: per sensor first..last day and days present; sources that never
    meet (chains in December, bars until November) flagged; ETH without data refused before
    anything runs, naming the folder."""
    from tests.app.support import static_text, wait_until

    app = make_app(tmp_path, data_dir=real_dir)
    async with app.run_test(size=(120, 50)) as pilot:
        await pilot.press("3")
        app.set_config(app.config.with_values(source="harvested"))
        await wait_until(pilot, lambda: app.data_check is not None, what="the data check")
        check = app.data_check
        assert set(check.coverage) == {"BTC"} and "ETH" in check.errors
        btc = check.coverage["BTC"]
        assert btc.sensor("vrp_30d").first == "2022-11-06" and btc.sensor("vrp_30d").days == 1100
        assert btc.sensor("skew_25d").days == 2 and btc.sensor("skew_25d").first == "2025-12-11"
        assert any("do not overlap" in w for w in btc.warnings)
        panel = static_text(app.screen.query_one("#setup-coverage", Static), width=160)
        assert "Data per sensor" in panel and "2022-11-06.." in panel and "(1100)" in panel
        assert "option-chain snapshots (2025-12-11..2025-12-12) do not overlap" in panel
        assert "ETH: no usable data" in panel and str(real_dir) in panel
        message = _text(app.screen.query_one("#setup-message", Static))
        assert f"no ETH prices in {real_dir}: looked for" in message  # the engine's own check
        app.screen.set_focus(None)
        await pilot.press("r")
        assert not app.scan.running and any(n[0] == "Cannot run the scan yet" for n in app.notes)
        await pilot.press("1")  # every screen's status strip says it too
        assert "no ETH prices in" in str(app.screen.query_one("#scan-message").render())
        await pilot.press("3")
        # BTC alone is ready.
        app.set_config(app.config.with_values(underlyings=("BTC",)))
        await wait_until(pilot, lambda: app.data_check is not None and app.data_check.key[2] == ("BTC",),
                         what="the new check")
        assert app.run_problem() is None
        assert "✓ Ready" in _text(app.screen.query_one("#setup-message", Static))


def test_results_header_shows_sparse_sensors_and_the_engines_warnings():
    from greg_tui.widgets.sweetspots.summary import manifest_summary

    manifest = {"parameters": {"missing_policy": "strict"}, "sweet_spots": 1, "underlyings": {"BTC": {
        "source": "harvested", "samples": 1362, "span": ["2022-02-19", "2025-12-12"],
        "sensor_availability": {"vrp_30d": 1100, "skew_25d": 2, "vrp_7d": 0},
        "sensor_coverage": {"skew_25d": {"days": 2, "first": "2025-12-11", "last": "2025-12-12"}},
        "warnings": ["the daily bars (2022-02-19..2025-11-09) and the option-chain snapshots "
                     "(2025-12-11..2025-12-12) do not overlap"]}}}
    text = manifest_summary(manifest, wide=False)
    assert "no data in this source:[/b] vrp_7d" in text
    assert "sparse:[/b] skew_25d 2 of 1362 (2025-12-11..2025-12-12)" in text
    assert "⚠ the daily bars (2022-02-19..2025-11-09) and the option-chain snapshots" in text
