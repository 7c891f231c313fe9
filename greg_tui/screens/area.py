"""What every area's screen shares: the top bar, the scan status strip and the footer around
its own body, ``escape`` back to the start screen, and what the help screen lists for it."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer

from greg_tui.areas import HOME
from greg_tui.widgets.chrome import TopBar
from greg_tui.widgets.scan.status import ScanStatus


class AreaScreen(Screen):
    """An area's screen; subclasses set ``MODE`` and compose their body in ``compose_body``."""

    MODE: ClassVar[str]
    # For the help screen: widgets whose own bindings belong to this area, and keys that are
    # not bindings (mouse, the widgets' built-in keys), as (key, what it does).
    HELP_WIDGETS: ClassVar[tuple[type, ...]] = ()
    HELP_EXTRA: ClassVar[tuple[tuple[str, str], ...]] = ()
    BINDINGS = [Binding("escape", "home", "Back", show=False)]

    def compose(self) -> ComposeResult:
        yield TopBar(self.MODE)
        yield from self.compose_body()
        yield ScanStatus()
        # The palette's ctrl+p is in the top bar: the footer keeps its width for keys.
        yield Footer(compact=True, show_command_palette=False)

    def compose_body(self) -> ComposeResult:
        raise NotImplementedError

    def action_home(self) -> None:
        if HOME.mode != self.MODE:
            self.app.switch_mode(HOME.mode)
