"""Setup's binning and outcome fields (bin mode, clip percent, horizon, min episodes, rank
by): defaults from backtest.heatmaps.options, checked in the form, and carried into the run
(its manifest records them)."""

from __future__ import annotations

from textual.widgets import Input, Select

from backtest.heatmaps import options
from greg_tui.screens.setup import SetupScreen
from greg_tui.widgets.scan.config import ScanConfig
from tests.app.support import small_app, wait_for_scan


def test_form_defaults_are_the_engines():
    config = ScanConfig()
    assert config.bin_mode == options.DEFAULT_BIN_MODE and config.rank_by == options.DEFAULT_RANK_BY
    assert float(config.clip_pct) == options.DEFAULT_CLIP_PCT
    assert int(config.horizon_days) == options.DEFAULT_HORIZON_DAYS
    assert int(config.min_episodes) == options.DEFAULT_MIN_EPISODES


async def test_outcome_and_binning_fields_are_checked_and_reach_the_run(tmp_path):
    app = small_app(tmp_path)
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.press("3")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, SetupScreen)
        field = screen.query_one("#horizon_days", Input)
        field.value = "1"
        await pilot.pause()
        assert app.validation.field == "horizon_days" and "from 2 to" in app.validation.error
        assert field.has_class("-invalid")
        field.value = "20"
        clip = screen.query_one("#clip_pct", Input)
        clip.value = "30"
        await pilot.pause()
        assert app.validation.field == "clip_pct" and "between 0 and 25" in app.validation.error
        clip.value = "1"
        episodes = screen.query_one("#min_episodes", Input)
        episodes.value = "0"
        await pilot.pause()
        assert app.validation.field == "min_episodes"
        episodes.value = "5"
        screen.query_one("#bin_mode", Select).value = "quantile"
        screen.query_one("#rank_by", Select).value = "edge"
        await pilot.pause()
        params = app.validation.params
        assert app.validation.ok, app.validation.error
        assert (params.binning.mode, params.binning.clip_pct, params.horizon_days, params.min_episodes,
                params.rank_by) == ("quantile", 1.0, 20, 5, "edge")
        screen.set_focus(None)
        await pilot.press("r")
        await wait_for_scan(pilot, app)
        recorded = app.results.manifest["parameters"]
        assert (recorded["bin_mode"], recorded["clip_pct"], recorded["horizon_days"], recorded["min_episodes"],
                recorded["rank_by"]) == ("quantile", 1.0, 20, 5, "edge")
        # ctrl+d: every field back to the engine's defaults.
        await pilot.press("ctrl+d")
        await pilot.pause()
        assert screen.query_one("#bin_mode", Select).value == options.DEFAULT_BIN_MODE
        assert screen.query_one("#horizon_days", Input).value == str(options.DEFAULT_HORIZON_DAYS)
        assert app.validation.params.horizon_days == options.DEFAULT_HORIZON_DAYS
