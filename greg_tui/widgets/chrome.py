"""The top navigation strip every screen shares: app name, the areas (greg_tui/areas.py), help hint."""

from __future__ import annotations

from textual import events
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Label

from greg_tui.areas import AREAS, Area


class AreaTab(Label):
    """One area's tab; a click shows the area (as its number key does)."""

    DEFAULT_CSS = """
    AreaTab {
        padding: 0 1;
        color: $foreground-muted;
        &:hover {
            background: $boost;
            color: $foreground;
        }
        &.-active {
            background: $block-cursor-background;
            color: $block-cursor-foreground;
            text-style: bold;
        }
    }
    """

    def __init__(self, area: Area, active: bool) -> None:
        super().__init__(f"[b]{area.key}[/b] {area.title}", classes="-active" if active else None)
        self.area = area

    async def on_click(self, event: events.Click) -> None:
        event.stop()
        await self.app.run_action(self.area.action)


class TopBar(Horizontal):
    """``greg-tui | 1 Sweet spots  2 Grid ...       ? help ^p commands`` (the name hides when
    narrow: greg_tui.tcss)"""

    DEFAULT_CSS = """
    TopBar {
        dock: top;
        height: 1;
        background: $panel;
        color: $foreground;
        #app-name {
            text-style: bold;
            color: $text-accent;
            padding: 0 1;
        }
        #top-help {
            dock: right;
            padding: 0 1;
            color: $foreground-muted;
        }
    }
    """

    def __init__(self, active: str) -> None:
        super().__init__(id="top-bar")
        self.active = active

    def compose(self) -> ComposeResult:
        yield Label("greg-tui", id="app-name")
        for area in AREAS:
            yield AreaTab(area, area.mode == self.active)
        yield Label("[b]?[/b] help [b]^p[/b] commands", id="top-help")
