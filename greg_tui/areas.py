"""The app's areas, defined once.

The App's modes and number keys, the top bar's tabs, the help screen's sections and the
command palette all read ``AREAS``. A screen module is imported only when its area is first
shown (the sweet-spot screen is light; the others need the research engine: docs/app.md).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from textual.binding import Binding

if TYPE_CHECKING:
    from textual.screen import Screen

# The reload key, defined once: the app's, and re-bound unlisted (``hidden_from_footer``) by a
# screen whose own keys fill an 80-column footer.
RELOAD = Binding("f5", "reload", "Reload", key_display="F5", tooltip="Read the results folder again")


def hidden_from_footer(binding: Binding) -> Binding:
    """An app key as a screen binding that works the same but is not in the footer."""
    return replace(binding, action=f"app.{binding.action}", show=False)


@dataclass(frozen=True)
class Area:
    key: str  # the number key that shows it
    mode: str  # its Textual mode name
    title: str
    module: str  # the module of its screen class
    screen_name: str
    needs_engine: bool = True  # its screen imports the research engine (pandas, numpy)

    @property
    def action(self) -> str:
        return f"show('{self.mode}')"

    def screen_class(self) -> type[Screen]:
        return getattr(importlib.import_module(self.module), self.screen_name)

    def make_screen(self) -> Screen:
        return self.screen_class()()


AREAS: tuple[Area, ...] = (
    Area("1", "spots", "Sweet spots", "greg_tui.screens.sweetspots", "SweetSpotsScreen", needs_engine=False),
    Area("2", "grid", "Grid", "greg_tui.screens.grid", "GridScreen"),
    Area("3", "setup", "Setup", "greg_tui.screens.setup", "SetupScreen"),
    Area("4", "regimes", "Regimes", "greg_tui.screens.regimes", "RegimesScreen"),
    Area("5", "selector", "Selector", "greg_tui.screens.selector", "SelectorScreen"),
    Area("6", "series", "Series", "greg_tui.screens.timeseries", "SeriesScreen"),
    Area("7", "scorecard", "Scorecard", "greg_tui.screens.scorecard", "ScorecardScreen"),
)
AREA_BY_MODE: dict[str, Area] = {area.mode: area for area in AREAS}
HOME = AREAS[0]  # the start screen; escape on another area comes back here


@dataclass(frozen=True)
class GridTarget:
    """What the grid area should show (from the table, the command palette); None keeps the
    grid's current choice."""

    underlying: str | None = None
    strategy_key: str | None = None
    pair: tuple[str, str] | None = None
    cell: tuple[int, int] | None = None  # (x_bin, y_bin) for the cursor
    layer: str | None = None
