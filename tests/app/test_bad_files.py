"""A damaged regime file or a manifest of the right format but the wrong shape never crashes
the app: the screen that reads it says what is wrong (issue 13 items 5 and 7)."""

from __future__ import annotations

import json

import pytest
from textual.widgets import Static

from backtest.heatmaps.outputs import MANIFEST_NAME
from greg_core.settings import output_dir_for
from greg_tui.screens.grid import GridScreen
from greg_tui.screens.regimes import RegimesScreen
from tests.app.support import make_app, static_text

BAD_REGIME_FILES = {
    "invalid UTF-8": b"\xff\xfe\x00garbage",
    "nested too deeply": b"[" * 100_000,
    "skew value not a number": None,  # built from the defaults below
    "drift NaN": None,
}


def _regime_file_bytes(case: str) -> bytes:
    if BAD_REGIME_FILES[case] is not None:
        return BAD_REGIME_FILES[case]
    from synthetic.regime_model import FORMAT_NAME, FORMAT_VERSION, default_regime_model

    model = default_regime_model("BTC").to_dict()
    regime = model["regimes"]["0"]
    if case == "drift NaN":
        regime["drift_annual"] = float("nan")
    else:
        first = next(iter(regime["skew_template"]))
        regime["skew_template"][first] = "abc"
    payload = {"format": FORMAT_NAME, "version": FORMAT_VERSION, "underlyings": {"BTC": model}}
    return json.dumps(payload).encode()


@pytest.mark.parametrize("case", list(BAD_REGIME_FILES))
async def test_a_bad_regime_file_gives_the_defaults_on_the_regimes_screen(tmp_path, case):
    app = make_app(tmp_path, data_dir=tmp_path / "empty")
    app.regime_file.write_bytes(_regime_file_bytes(case))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("4")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, RegimesScreen)
        provenance = static_text(screen.query_one("#regime-provenance", Static))
        assert "built-in defaults" in provenance and "unusable" in provenance, provenance
        assert "mu_rv_30d" in static_text(screen.query_one("#regime-table", Static))
        await pilot.press("u")  # the other underlying reads the same file
        await pilot.pause()
        assert screen.underlying == "ETH"


async def test_a_manifest_of_the_wrong_shape_is_named_on_the_grid(results_base):
    manifest_path = output_dir_for(results_base) / MANIFEST_NAME
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    manifest["pairs"] = "oops"
    manifest_path.write_text(json.dumps(manifest), encoding="utf-8")
    app = make_app(results_base)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert app.results is None and "'pairs'" in app.results_error
        await pilot.press("2")
        await pilot.pause()
        assert isinstance(app.screen, GridScreen)
        panel = static_text(app.screen.query_one("#grid-empty", Static))
        assert "No grid" in panel and "'pairs'" in panel and "Press r" in panel
