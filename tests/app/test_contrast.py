"""Text contrast, as WCAG defines it, on every screen in both themes: at least 4.5:1 between
each character of text and the background it is drawn on (issue 12 #9).

The colours are the ones the screen is drawn with (the compositor's segments, as
``App.export_screenshot`` reads them), so widget defaults, the theme's variables and our own
styles are all covered. Text is a segment with a letter or digit; block and box-drawing
glyphs (bars, borders, heatmap shading) are graphics. Dim text is blended towards its
background as Textual does for terminals without dim (``textual.filter.dim_color``).
"""

from __future__ import annotations

import unicodedata

from rich.color import Color
from textual.filter import dim_color

from greg_tui.app import DARK_THEME, LIGHT_THEME
from tests.app.support import make_app, press_and_settle, screen_lines, screen_text

MINIMUM = 4.5


def luminance(color: Color) -> float:
    def channel(value: int) -> float:
        value /= 255
        return value / 12.92 if value <= 0.03928 else ((value + 0.055) / 1.055) ** 2.4

    red, green, blue = color.get_truecolor()
    return 0.2126 * channel(red) + 0.7152 * channel(green) + 0.0722 * channel(blue)


def contrast(a: Color, b: Color) -> float:
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def is_text(text: str) -> bool:
    return any(unicodedata.category(char)[0] in "LN" for char in text)


def low_contrast(app) -> list[tuple[float, str, str, str]]:
    """(ratio, text, foreground, background) of every text segment below the minimum. Over a
    modal screen only its own box counts: what it shows faded behind it is not for reading."""
    screen = app.screen
    region = screen.query_one("Vertical").region if screen.is_modal else screen.region
    found = []
    for y, line in enumerate(screen_lines(app)):
        x = 0
        for segment in line:
            start, x = x, x + segment.cell_length
            style = segment.style
            inside = region.contains(start, y) and region.contains(x - 1, y)
            if style is None or not inside or not is_text(segment.text):
                continue
            foreground, background = style.color, style.bgcolor
            assert foreground is not None and background is not None, f"{segment.text!r} has no colour"
            if style.dim:
                foreground = dim_color(background, foreground)
            ratio = contrast(foreground, background)
            if ratio < MINIMUM:
                found.append((round(ratio, 2), segment.text.strip(), foreground.get_truecolor().hex,
                              background.get_truecolor().hex))
    return found


def test_contrast_formula():
    white, black = Color.parse("#ffffff"), Color.parse("#000000")
    assert abs(contrast(white, black) - 21.0) < 1e-9
    assert abs(contrast(Color.parse("#777777"), white) - 4.48) < 0.01  # the classic near miss
    assert contrast(Color.parse("#ffaf00"), Color.parse("#e0e0e0")) < 1.5  # the old light heading


async def test_every_screen_has_readable_text_in_both_themes(results_base):
    app = make_app(results_base)
    problems: dict[tuple[str, str], list] = {}
    async with app.run_test(size=(80, 24)) as pilot:
        for theme in (DARK_THEME, LIGHT_THEME):
            app.theme = theme
            for keys in (("1",), ("2",), ("e",), ("3",), ("4",), ("5",), ("7",), ("question_mark",), ("escape", "i"),
                         ("escape", "1", "down")):
                await press_and_settle(pilot, *keys)
                found = low_contrast(app)
                if found:
                    problems[(theme, "+".join(keys))] = sorted(set(found))[:8]
    assert not problems, "\n".join(f"{where}: {found}" for where, found in problems.items())


async def test_error_states_are_readable_in_both_themes(tmp_path):
    """The invalid-setup strip, the setup's error message and the empty-results panel."""
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        app.set_config(app.config.with_values(x_bins="abc"))
        problems = {}
        for theme in (DARK_THEME, LIGHT_THEME):
            app.theme = theme
            for key in ("1", "3"):
                await pilot.press(key)
                await pilot.pause()
                if key == "1":
                    assert "Scan setup not ready" in screen_text(app)
                found = low_contrast(app)
                if found:
                    problems[(theme, key)] = sorted(set(found))[:8]
        assert not problems, "\n".join(f"{where}: {found}" for where, found in problems.items())
