"""``?``: every key binding, by area, read from the bindings themselves."""

from __future__ import annotations

from collections.abc import Sequence

from rich.table import Table
from rich.text import Text
from textual.binding import Binding

from greg_tui.areas import AREAS
from greg_tui.screens.panel import InfoPanel


def _key_name(app, binding: Binding) -> str:
    if binding.key_display:
        return binding.key_display
    return " ".join(app.get_key_display(Binding(key, binding.action)) for key in binding.key.split(","))


def _rows(app, bindings, extra: tuple[tuple[str, str], ...],
          listed: Sequence[tuple[str, str]] = ()) -> list[tuple[str, str]]:
    """(key, what it does) per binding with a description, each (key, description) once;
    rows already ``listed`` (an app key a screen re-binds only to keep it off its footer) left out."""
    rows: list[tuple[str, str]] = []
    for binding in bindings:
        if not isinstance(binding, Binding) or binding.system:
            continue
        description = binding.tooltip or binding.description
        row = (_key_name(app, binding), description)
        if description and row not in rows and row not in listed and all(d != description for _k, d in rows):
            rows.append(row)
    return rows + list(extra)


def bindings_table(app) -> Table:
    """Every key: the app's, then each area's (its screen's bindings, the bindings of the
    widgets it lists in ``HELP_WIDGETS`` and the keys in its ``HELP_EXTRA``)."""
    table = Table(box=None, show_header=False, padding=(0, 2, 0, 0), expand=True)
    table.add_column("key", style="bold", width=16)
    table.add_column("does", ratio=1)
    everywhere = _rows(app, app.BINDINGS, ())
    sections = [("Everywhere", everywhere)]
    for area in AREAS:
        screen = area.screen_class()
        bindings = list(screen.BINDINGS)
        for widget in screen.HELP_WIDGETS:
            bindings += widget.BINDINGS
        sections.append((f"{area.key} {area.title}", _rows(app, bindings, screen.HELP_EXTRA, everywhere)))
    for title, rows in sections:
        table.add_row(Text(title, style="bold underline"), "")
        for key, description in rows:
            table.add_row(key, description)
        table.add_row("", "")
    return table


class HelpScreen(InfoPanel):
    """Every key binding, by area, over any screen."""

    PANEL_ID = "help"
    BINDINGS = [
        Binding("escape,q,question_mark", "dismiss", "Close help"),
    ]

    def title_text(self) -> str:
        return "[b]greg-tui keys[/b]  [dim](escape, q or ? closes)[/dim]"

    def body(self) -> Table:
        return bindings_table(self.app)

    def foot_text(self) -> str:
        return ("[dim]Research only: nothing here places trades. Results live in "
                f"{self.app.output_dir}; the same sweep runs headless with greg-tui --export.[/dim]")
