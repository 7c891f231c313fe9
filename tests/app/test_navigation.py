"""The five areas (one definition read by the modes, keys, tabs and help), mouse clicks on
the tabs, escape, and the help screen's list of keys."""

from __future__ import annotations

from rich.console import Console

from greg_tui.app import GregApp
from greg_tui.areas import AREAS
from greg_tui.screens.help import HelpScreen, bindings_table
from greg_tui.screens.setup import SetupScreen
from greg_tui.screens.sweetspots import SweetSpotsScreen
from greg_tui.widgets.chrome import AreaTab
from tests.app.support import make_app


def _help_text(app) -> str:
    console = Console(width=100, record=True)
    console.print(bindings_table(app))
    return console.export_text()


def test_the_areas_are_defined_once():
    assert list(GregApp.MODES) == [area.mode for area in AREAS]
    keys = {b.key: b.action for b in GregApp.BINDINGS if b.action.startswith("show(")}
    assert keys == {area.key: area.action for area in AREAS}
    for area in AREAS:
        assert area.mode == area.screen_class().MODE


async def test_clicking_an_area_tab_shows_that_area(results_base):
    app = make_app(results_base)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        tabs = list(app.screen.query(AreaTab))
        assert [t.area for t in tabs] == list(AREAS)
        assert [t.has_class("-active") for t in tabs] == [True] + [False] * (len(AREAS) - 1)
        for area in AREAS[1:] + AREAS[:1]:
            tab = next(t for t in app.screen.query(AreaTab) if t.area == area)
            await pilot.click(tab)
            await pilot.pause()
            assert type(app.screen).__name__ == area.screen_name
            active = [t.area for t in app.screen.query(AreaTab) if t.has_class("-active")]
            assert active == [area]


async def test_escape_in_setup_leaves_the_field_not_the_screen(results_base):
    app = make_app(results_base)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("3")
        assert isinstance(app.screen, SetupScreen)
        app.screen.query_one("#x_bins").focus()
        await pilot.press("escape")
        assert isinstance(app.screen, SetupScreen) and app.screen.focused is None
        await pilot.press("escape")
        assert isinstance(app.screen, SetupScreen)
        await pilot.press("2", "escape")  # other areas: escape goes back to the start screen
        assert isinstance(app.screen, SweetSpotsScreen)


async def test_help_lists_each_key_once_per_area(results_base):
    app = make_app(results_base)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        text = _help_text(app)
        for area in AREAS:
            assert f"{area.key} {area.title}" in text
        spots = text.split("1 Sweet spots")[1].split("2 Grid")[0]
        assert spots.count("Open grid") == 1
        for expected in ("Run the scan", "Cancel the running scan", "Layer", "Rebuild", "Quit", "click a cell"):
            assert expected in text
        await pilot.press("escape")
        assert isinstance(app.screen, SweetSpotsScreen)
