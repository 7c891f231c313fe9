"""The occupancy grid: x_bins x y_bins cells in colour and Unicode shading, with axes.

Drawing (``render_grid``) is a pure function of a ``GridView``, a cursor, a ``Layout`` and a
palette, so it is tested without a terminal. The widget picks the layout from the space its
viewport offers: cells grow on a large terminal (up to 8 x 3 characters) and stay 2 x 1 on a
small one, where the viewport scrolls to keep the cursor visible.

Outcome layers (``edge``, ``pnl``) diverge around 0: losses in red, gains in green, the
shade by the size against a symmetric scale; a cell without an outcome is blank, a thin one
(fewer episodes than the run's minimum) is drawn in a muted colour and marked ``~``.

Reading the axes: the y axis runs from high (top) to low; each ``┤`` tick is the *upper*
edge of the row it sits on and the bottom line carries the lowest edge. On the x axis each
``┬`` tick is the *left* edge of the column starting there, the last tick the upper edge.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive
from textual.widget import Widget

from greg_core.formatting import fmt_num

SHADES = " ░▒▓█"
LAYERS: tuple[str, ...] = ("occupancy", "pass", "sweetness", "edge", "pnl")
OUTCOME_LAYERS: tuple[str, ...] = ("edge", "pnl")  # forward outcomes: they diverge around 0
LAYER_TITLES: dict[str, str] = {"occupancy": "occupancy", "pass": "pass rate", "sweetness": "sweetness",
                                "edge": "edge", "pnl": "P&L"}
THIN_CELL_MARK = "~"  # greg_tui.outcome_labels.THIN_MARK (kept here: this module imports no app code)
MAX_CELL_W, MAX_CELL_H = 8, 3


@dataclass(frozen=True)
class Palette:
    levels: tuple[str, str, str, str]  # colours of shade levels 1..4 (low..high)
    empty: str  # the dot of a cell no sample visited
    sweet: str  # sweet-spot mark
    axis: str
    cursor_fg: str
    loss: tuple[str, str, str, str]  # outcome layers: levels 1..4 below 0 (small..large loss)
    gain: tuple[str, str, str, str]  # and above 0
    thin: tuple[str, str]  # (loss, gain) colour of a thin cell: muted, whatever its size

    def level_style(self, level: int) -> Style:
        return Style(color=self.levels[level - 1]) if level > 0 else Style()

    def signed_colour(self, level: int, thin: bool) -> str:
        """The colour of an outcome cell of signed level -4..4 (0: neutral)."""
        if level == 0:
            return self.empty
        if thin:
            return self.thin[0] if level < 0 else self.thin[1]
        return (self.loss if level < 0 else self.gain)[abs(level) - 1]


# Outcome colours: red and green of rising strength, so sign reads by hue and size by both
# the shade glyph and the colour; thin cells are a grey-tinged red or green (both themes:
# contrast >= 2.5 against the background, the faintest full colour >= 3).
DARK_PALETTE = Palette(("#3e6f9e", "#35b779", "#b5de2b", "#fde725"), "#5c5c5c", "#ff5fd7", "#9a9a9a", "#000000",
                       loss=("#c0605a", "#e0524a", "#f4473c", "#ff6b5e"),
                       gain=("#5aa06e", "#4cbf68", "#41d95f", "#7cf08f"),
                       thin=("#a3625d", "#5c9470"))
# Light: on the light theme's #E0E0E0 background the faintest level still has a contrast of 2.9
# (shading is graphics, not text: tests/app/test_contrast.py leaves it out).
LIGHT_PALETTE = Palette(("#4a86c5", "#2f6fb0", "#123d73", "#0a2552"), "#808080", "#b5006e", "#555555", "#ffffff",
                        loss=("#c0504a", "#a8302a", "#8a1a16", "#650a08"),
                        gain=("#3f8f55", "#2a7a40", "#1a632f", "#0b4a1f"),
                        thin=("#a86a66", "#5a8c68"))


@dataclass(frozen=True, eq=False)
class GridView:
    """What to draw: one layer of one stored grid, and the sweet spots to mark."""

    x_metric: str
    y_metric: str
    x_edges: np.ndarray
    y_edges: np.ndarray
    counts: np.ndarray  # (nx, ny)
    values: np.ndarray  # (nx, ny) the layer
    layer: str
    scale_max: float  # the value drawn with the fullest shade
    sqrt_scale: bool = False  # shade by sqrt(value / max): skewed layers (occupancy) read better
    sweet: dict[tuple[int, int], int] = field(default_factory=dict)  # (x, y) -> rank
    # Outcome layers: values diverge around 0 (scale_max: the size drawn with the fullest
    # shade on either side); ``present`` cells have an outcome (the rest are blank), ``thin``
    # ones rest on too few episodes.
    diverging: bool = False
    present: np.ndarray | None = None  # (nx, ny) bool
    thin: np.ndarray | None = None  # (nx, ny) bool

    @property
    def nx(self) -> int:
        return int(self.counts.shape[0])

    @property
    def ny(self) -> int:
        return int(self.counts.shape[1])

    def level(self, x: int, y: int) -> int:
        """-1: no sample in the cell (blank); 0: samples but value 0 (dot); 1..4 shade levels."""
        if self.counts[x, y] <= 0:
            return -1
        value = float(self.values[x, y])
        if not math.isfinite(value) or value <= 0 or self.scale_max <= 0:
            return 0
        ratio = value / self.scale_max
        if self.sqrt_scale:
            ratio = math.sqrt(ratio)
        return max(1, min(4, math.ceil(ratio * 4 - 1e-9)))

    def signed_level(self, x: int, y: int) -> int | None:
        """Outcome layers: None for a cell without an outcome (blank), 0 for exactly 0, else the
        sign times the shade level 1..4 of ``|value| / scale_max`` (beyond the scale: 4)."""
        present = self.present if self.present is not None else self.counts > 0
        value = float(self.values[x, y])
        if not present[x, y] or not math.isfinite(value):
            return None
        if value == 0 or self.scale_max <= 0:
            return 0
        level = max(1, min(4, math.ceil(abs(value) / self.scale_max * 4 - 1e-9)))
        return level if value > 0 else -level

    def is_thin(self, x: int, y: int) -> bool:
        return bool(self.thin is not None and self.thin[x, y])

    def thresholds(self) -> list[float]:
        """Upper bound of each shade level 1..4."""
        return [self.scale_max * ((k / 4) ** 2 if self.sqrt_scale else k / 4) for k in (1, 2, 3, 4)]


@dataclass(frozen=True)
class Layout:
    label_w: int
    cell_w: int
    cell_h: int
    label_rows: int

    def grid_x(self, x: int) -> int:
        """Screen column where cell column ``x`` starts."""
        return self.label_w + 1 + x * self.cell_w


def layout_for(view: GridView, width: int, height: int) -> Layout:
    """The biggest cells that fit ``width`` x ``height`` (never smaller than 2 x 1)."""
    label_w = max(len(fmt_num(float(e))) for e in view.y_edges)
    cell_w = (width - label_w - 2) // max(view.nx, 1)
    cell_w = max(2, min(MAX_CELL_W, cell_w))
    label_rows = 2 if height >= view.ny + 3 else 1
    cell_h = (height - 1 - label_rows) // max(view.ny, 1)
    cell_h = max(1, min(MAX_CELL_H, cell_h, max(1, cell_w // 2)))
    return Layout(label_w, cell_w, cell_h, label_rows)


def content_size(view: GridView, layout: Layout) -> Size:
    width = layout.grid_x(view.nx) + 1
    return Size(width, view.ny * layout.cell_h + 1 + layout.label_rows)


def _cell_chars(view: GridView, x: int, y: int, layout: Layout, sub: int, cursor: bool, palette: Palette) -> Text:
    width = layout.cell_w
    middle = sub == (layout.cell_h - 1) // 2
    signed = view.signed_level(x, y) if view.diverging else None
    level = (abs(signed) if signed is not None else -1) if view.diverging else view.level(x, y)
    thin = view.diverging and signed is not None and view.is_thin(x, y)
    if view.diverging and signed is not None and signed != 0:
        body = [SHADES[level]] * width
        style = Style(color=palette.signed_colour(signed, thin))
    elif level < 0:  # no sample (no outcome): blank
        body = [" "] * width
        style = Style()
    elif level == 0:  # visited, value 0: a faint dot (middle line of the cell)
        body = [" "] * width
        if sub == (layout.cell_h - 1) // 2:
            body[(width - 1) // 2] = "·"
        style = Style(color=palette.empty)
    else:
        body = [SHADES[level]] * width
        style = palette.level_style(level)
    styles = [style] * width
    if thin and middle:  # marked at the right, where a 2-wide cell has room beside its shade
        body[-1] = THIN_CELL_MARK
    rank = view.sweet.get((x, y))
    if rank is not None and middle:
        mark = "◆" + (str(rank) if width >= 4 else "")
        start = max(0, (width - len(mark)) // 2) if width >= 3 else width - 1
        for offset, char in enumerate(mark[: width - start]):
            body[start + offset] = char
            styles[start + offset] = Style(color=palette.sweet, bold=True)
    if cursor:
        if view.diverging:
            bg = palette.signed_colour(signed, thin) if signed else palette.axis
        else:
            bg = palette.levels[level - 1] if level > 0 else palette.axis
        body[0], body[-1] = "[", "]"
        styles = [s + Style(bgcolor=bg) for s in styles]
        styles[0] = styles[-1] = Style(color=palette.cursor_fg, bgcolor=bg, bold=True)
    text = Text()
    for char, char_style in zip(body, styles, strict=True):
        text.append(char, char_style)
    return text


def render_grid(view: GridView, cursor: tuple[int, int], layout: Layout, palette: Palette) -> Text:
    """The whole grid with both axes as one Rich ``Text`` (see module docstring)."""
    cx, cy = cursor
    axis = Style(color=palette.axis)
    hot = Style(bold=True, reverse=True)
    lines: list[Text] = []
    for row in range(view.ny * layout.cell_h):
        y = view.ny - 1 - row // layout.cell_h
        sub = row % layout.cell_h
        line = Text()
        if sub == 0:
            line.append(fmt_num(float(view.y_edges[y + 1])).rjust(layout.label_w), hot if y == cy else Style())
            line.append("┤", axis)
        else:
            line.append(" " * layout.label_w)
            line.append("│", axis)
        for x in range(view.nx):
            line.append_text(_cell_chars(view, x, y, layout, sub, (x, y) == cursor, palette))
        lines.append(line)
    # x axis: corner with the lowest y edge, ticks, then staggered edge labels.
    line = Text(fmt_num(float(view.y_edges[0])).rjust(layout.label_w), hot if cy == 0 else Style())
    line.append("└", axis)
    for x in range(view.nx + 1):
        tick_style = Style(color=palette.sweet, bold=True) if x in (cx, cx + 1) else axis
        line.append("┬" if x < view.nx else "┘", tick_style)
        if x < view.nx:
            line.append("─" * (layout.cell_w - 1), axis)
    lines.append(line)
    label_lines = [[" "] * (layout.grid_x(view.nx) + 1) for _ in range(layout.label_rows)]
    label_styles: list[dict[int, Style]] = [{} for _ in range(layout.label_rows)]
    order = [cx, cx + 1] + [i for i in range(view.nx + 1) if i not in (cx, cx + 1)]
    placed: list[tuple[int, int, int, str, int]] = []
    for edge in order:
        text = fmt_num(float(view.x_edges[edge]))
        position = layout.grid_x(edge)
        if edge == view.nx:  # the upper edge ends at the last tick
            position = max(0, position + 1 - len(text))
        for row in range(layout.label_rows):
            if all(not (position < end + 1 and start < position + len(text) + 1)
                   for r, start, end, _t, _e in placed if r == row):
                placed.append((row, position, position + len(text), text, edge))
                break
    for row, start, _end, text, edge in placed:
        cells = label_lines[row]
        if start + len(text) > len(cells):
            cells.extend([" "] * (start + len(text) - len(cells)))
        for offset, char in enumerate(text):
            cells[start + offset] = char
        if edge in (cx, cx + 1):
            for offset in range(len(text)):
                label_styles[row][start + offset] = Style(color=palette.sweet, bold=True)
    for row in range(layout.label_rows):
        text = Text()
        for index, char in enumerate("".join(label_lines[row]).rstrip()):
            text.append(char, label_styles[row].get(index, Style()))
        lines.append(text)
    return Text("\n").join(lines)


class Heatmap(Widget, can_focus=True):
    """The grid widget; the cursor moves cell by cell (arrows or hjkl) or to a clicked cell."""

    DEFAULT_CSS = """
    Heatmap {
        width: auto;
        height: auto;
        &:focus {
            background-tint: $foreground 0%;
        }
    }
    """
    BINDINGS = [
        Binding("left,h", "move(-1, 0)", "Left", show=False),
        Binding("right,l", "move(1, 0)", "Right", show=False),
        Binding("up,k", "move(0, 1)", "Up", show=False),
        Binding("down,j", "move(0, -1)", "Down", show=False),
        Binding("home", "jump('home')", "First column", show=False),
        Binding("end", "jump('end')", "Last column", show=False),
        Binding("pageup", "jump('top')", "Top row", show=False),
        Binding("pagedown", "jump('bottom')", "Bottom row", show=False),
    ]

    view: reactive[GridView | None] = reactive(None, always_update=True, layout=True)
    cursor: reactive[tuple[int, int]] = reactive((0, 0))

    class CursorMoved(Message):
        def __init__(self, x: int, y: int) -> None:
            super().__init__()
            self.x, self.y = x, y

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._space = Size(80, 20)  # the space the parent offers, as last measured

    def on_mount(self) -> None:
        self.watch(self.app, "theme", lambda _theme: self.refresh(), init=False)

    @property
    def palette(self) -> Palette:
        theme = self.app.current_theme
        return DARK_PALETTE if theme is None or theme.dark else LIGHT_PALETTE

    @property
    def layout_now(self) -> Layout | None:
        if self.view is None:
            return None
        return layout_for(self.view, self._space.width, self._space.height)

    def get_content_width(self, container: Size, viewport: Size) -> int:
        # ``container`` is the space of the scrolling parent: size the cells to fill it.
        self._space = container
        layout = self.layout_now
        return content_size(self.view, layout).width if layout else 1

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        self._space = container
        layout = self.layout_now
        return content_size(self.view, layout).height if layout else 1

    def render(self) -> Text:
        layout = self.layout_now
        if self.view is None or layout is None:
            return Text("no grid")
        return render_grid(self.view, self.cursor, layout, self.palette)

    def cell_at(self, x: int, y: int) -> tuple[int, int] | None:
        """The cell drawn at content offset (x, y), None outside the cells (axes, labels)."""
        layout = self.layout_now
        if self.view is None or layout is None:
            return None
        column = (x - layout.grid_x(0)) // layout.cell_w if x >= layout.grid_x(0) else -1
        row = y // layout.cell_h
        if not (0 <= column < self.view.nx and 0 <= row < self.view.ny):
            return None
        return column, self.view.ny - 1 - row

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        cell = self.cell_at(offset.x, offset.y) if offset is not None else None
        if cell is not None:
            self.focus()
            self.cursor = cell

    def _validate_cursor(self, cursor: tuple[int, int]) -> tuple[int, int]:
        if self.view is None:
            return (0, 0)
        return (max(0, min(self.view.nx - 1, cursor[0])), max(0, min(self.view.ny - 1, cursor[1])))

    def watch_cursor(self, cursor: tuple[int, int]) -> None:
        self.post_message(self.CursorMoved(*cursor))
        self.call_after_refresh(self.scroll_cursor_visible)

    def watch_view(self) -> None:
        self.cursor = self._validate_cursor(self.cursor)
        self.call_after_refresh(self.scroll_cursor_visible)

    def cursor_region(self) -> Region | None:
        layout = self.layout_now
        if self.view is None or layout is None:
            return None
        x, y = self.cursor
        top = (self.view.ny - 1 - y) * layout.cell_h
        return Region(max(0, layout.grid_x(x) - layout.label_w - 1), top, layout.cell_w + layout.label_w + 1, layout.cell_h)

    def scroll_cursor_visible(self) -> None:
        region = self.cursor_region()
        if region is not None and self.parent is not None:
            self.parent.scroll_to_region(region.translate(self.virtual_region.offset), animate=False, immediate=True)

    def action_move(self, dx: int, dy: int) -> None:
        x, y = self.cursor
        self.cursor = (x + dx, y + dy)

    def action_jump(self, where: str) -> None:
        if self.view is None:
            return
        x, y = self.cursor
        self.cursor = {
            "home": (0, y),
            "end": (self.view.nx - 1, y),
            "top": (x, self.view.ny - 1),
            "bottom": (x, 0),
        }[where]
