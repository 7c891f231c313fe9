"""The app's two themes: Textual's dark and light ones, with the text colours that fell short
of WCAG's 4.5:1 contrast replaced (tests/app/test_contrast.py measures every screen).

What changed and why (measured on the Textual defaults at 80x24): in both themes the block
cursor, the active tab and primary buttons (light text on #0178D4, 3.8:1) get a darker blue; in the light theme
the footer keys (#0178D4 on #D0D0D0, 2.9:1), muted text (3.8:1), headings in the accent
orange (3.3:1; the old #ffaf00 was 1.2:1), success green (3.8:1), error red and placeholders
get darker shades of the same hues.
"""

from __future__ import annotations

from dataclasses import replace

from textual.theme import BUILTIN_THEMES, Theme

CURSOR_BLUE = "#0a5aa0"  # white text on it: 6.9:1

DARK = replace(
    BUILTIN_THEMES["textual-dark"],
    name="greg-dark",
    primary=CURSOR_BLUE,  # primary buttons: light text on it
    variables={
        **BUILTIN_THEMES["textual-dark"].variables,
        "block-cursor-background": CURSOR_BLUE,
        "block-cursor-foreground": "#ffffff",
        "foreground-muted": "#a8a8a8",
        "text-disabled": "#9a9a9a",
    },
)
LIGHT = replace(
    BUILTIN_THEMES["textual-light"],
    name="greg-light",
    variables={
        **BUILTIN_THEMES["textual-light"].variables,
        "block-cursor-background": CURSOR_BLUE,
        "block-cursor-foreground": "#ffffff",
        "footer-key-foreground": "#004578",
        "foreground-muted": "#454545",
        "text-disabled": "#505050",
        "text-accent": "#7a4500",
        "text-success": "#17602d",
        "text-error": "#9b2743",
        "text-warning": "#7a4500",
        "text-primary": "#004578",
    },
)
THEMES: tuple[Theme, ...] = (DARK, LIGHT)
