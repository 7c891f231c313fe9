"""A SelectionList whose entries read as ticked or not without colour.

Textual's SelectionList draws the same "X" in every entry's toggle and shows the choice by
colour alone (a dim X on the panel colour vs a bright one), which a monochrome terminal, a
colour-blind reader or a screenshot in grey cannot tell apart. Here an unticked entry's
toggle is blank, so the X itself says "selected"; the colours stay as they are.
"""

from __future__ import annotations

from typing import TypeVar

from rich.segment import Segment
from textual.strip import Strip
from textual.widgets import SelectionList
from textual.widgets._toggle_button import ToggleButton
from textual.widgets.option_list import OptionDoesNotExist

UNTICKED = " "
T = TypeVar("T")


class CheckList(SelectionList[T]):
    """``SelectionList`` with a blank toggle on unselected entries."""

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
        # The toggle is three segments (left cap, the X, right cap) before the prompt.
        if len(segments) > 1 and segments[1].text == ToggleButton.BUTTON_INNER:
            segments[1] = Segment(UNTICKED, segments[1].style)
            return Strip(segments, strip.cell_length)
        return strip
