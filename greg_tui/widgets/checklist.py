"""A SelectionList whose entries read as ticked or not without colour, and where ``enter``
does not toggle by surprise.

Textual's SelectionList draws the same "X" in every entry's toggle and shows the choice by
colour alone (a dim X on the panel colour vs a bright one), which a monochrome terminal, a
colour-blind reader or a screenshot in grey cannot tell apart. Here an unticked entry's
toggle is blank, so the X itself says "selected"; the colours stay as they are. ``space``
(and a click) ticks; ``enter`` moves to the next field, as it does in a form.
"""

from __future__ import annotations

from typing import TypeVar

from rich.segment import Segment
from textual.binding import Binding
from textual.strip import Strip
from textual.widgets import SelectionList
from textual.widgets.option_list import OptionDoesNotExist

UNTICKED = " "
T = TypeVar("T")


class CheckList(SelectionList[T]):
    """``SelectionList`` with a blank toggle on unselected entries."""

    BINDINGS = [Binding("enter", "app.focus_next", "Next field", show=False)]

    def render_line(self, y: int) -> Strip:
        strip = super().render_line(y)
        _, scroll_y = self.scroll_offset
        try:
            selection = self.get_option_at_index(scroll_y + y)
        except OptionDoesNotExist:
            return strip
        if selection.value in self.selected:
            return strip
        segments = list(strip)
        # SelectionList puts the toggle first: left cap, the mark, right cap, then the prompt.
        if len(segments) > 3 and segments[1].cell_length == 1:
            segments[1] = Segment(UNTICKED, segments[1].style)
            return Strip(segments, strip.cell_length)
        return strip
