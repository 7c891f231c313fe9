"""The top navigation strip every screen shares: app name, the five areas, help hint."""

from __future__ import annotations

from textual import events
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Label

AREAS: tuple[tuple[str, str, str], ...] = (
    ("1", "spots", "Sweet spots"),
    ("2", "grid", "Grid"),
    ("3", "setup", "Setup"),
    ("4", "regimes", "Regimes"),
    ("5", "selector", "Selector"),
)


class AreaTab(Label):
    def __init__(self, key: str, mode: str, title: str, active: bool) -> None:
        super().__init__(f"[b]{key}[/b] {title}", classes="area-tab" + (" -active" if active else ""))
        self.mode = mode

    def on_click(self, event: events.Click) -> None:
        event.stop()
        self.app.run_action(f"show('{self.mode}')")


class TopBar(Horizontal):
    """``greg-tui | 1 Sweet spots  2 Grid ...                ? help``"""

    def __init__(self, active: str) -> None:
        super().__init__(id="top-bar")
        self.active = active

    def compose(self) -> ComposeResult:
        yield Label("greg-tui", id="app-name")
        for key, mode, title in AREAS:
            yield AreaTab(key, mode, title, mode == self.active)
        yield Label("[b]?[/b] help  [b]q[/b] quit", id="top-help")
