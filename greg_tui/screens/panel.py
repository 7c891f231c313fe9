"""A read-only panel over any screen (help ``?``, sensors ``i``): a title line, a scrolling
body and a foot note in a framed box, closed by escape, q or the key that opened it."""

from __future__ import annotations

from rich.console import RenderableType
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static


class InfoPanel(ModalScreen):
    """Subclasses set ``PANEL_ID`` (the prefix of the parts' ids: ``{id}-box``, ``-title``,
    ``-scroll``, ``-table``, ``-foot``), ``BINDINGS`` and the three texts. The box fits its
    content up to 90% of the screen; the body scrolls (keys, wheel) when it does not fit."""

    DEFAULT_CSS = """
    InfoPanel {
        align: center middle;
        background: $background 60%;
        .panel-box {
            width: 90%;
            max-width: 100;
            height: auto;
            max-height: 90%;
            border: round $primary;
            background: $surface;
            padding: 0 1;
        }
        .panel-title, .panel-body, .panel-foot {
            height: auto;
        }
        .panel-title {
            margin: 0 0 1 0;
        }
        .panel-scroll {
            height: auto;
            max-height: 70vh;  /* inside the box's 90%: the body scrolls at 80x24 */
        }
    }
    """
    PANEL_ID = "panel"

    def title_text(self) -> str:
        raise NotImplementedError

    def body(self) -> RenderableType:
        raise NotImplementedError

    def foot_text(self) -> str:
        raise NotImplementedError

    def compose(self) -> ComposeResult:
        part = self.PANEL_ID
        with Vertical(id=f"{part}-box", classes="panel-box"):
            yield Static(self.title_text(), id=f"{part}-title", classes="panel-title")
            with VerticalScroll(id=f"{part}-scroll", classes="panel-scroll"):
                yield Static(self.body(), id=f"{part}-table", classes="panel-body")
                yield Static(self.foot_text(), id=f"{part}-foot", classes="panel-foot")
