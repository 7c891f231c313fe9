"""``?``: every key binding, by area, read from the bindings themselves."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

EXTRA: dict[str, list[tuple[str, str]]] = {
    "Sweet spots": [("click a header", "sort by that column (again: reverse)"), ("↑ ↓ pgup pgdn", "move in the table")],
    "Grid": [("← ↓ ↑ →", "move the cursor (same as h j k l)"), ("home end pgup pgdn", "jump to an edge of the grid")],
    "Setup": [("tab / shift+tab", "next / previous field"), ("space", "toggle a list entry"),
              ("enter (in a field)", "run the scan")],
}


def _key_name(app, binding: Binding) -> str:
    if binding.key_display:
        return binding.key_display
    return " ".join(app.get_key_display(Binding(key, binding.action)) for key in binding.key.split(","))


def bindings_table(app) -> Table:
    from greg_tui.screens.grid import GridScreen
    from greg_tui.screens.regimes import RegimesScreen
    from greg_tui.screens.selector import SelectorScreen
    from greg_tui.screens.setup import SetupScreen
    from greg_tui.screens.sweetspots import SweetSpotsScreen
    from greg_tui.widgets.sweetspots.table import SpotTable

    table = Table(box=None, show_header=False, padding=(0, 2, 0, 0), expand=True)
    table.add_column("key", style="bold", width=16)
    table.add_column("does", ratio=1)
    sections = [
        ("Everywhere", app.BINDINGS),
        ("Sweet spots", SweetSpotsScreen.BINDINGS + SpotTable.BINDINGS),
        ("Grid", GridScreen.BINDINGS),
        ("Setup", SetupScreen.BINDINGS),
        ("Regimes", RegimesScreen.BINDINGS),
        ("Selector", SelectorScreen.BINDINGS),
    ]
    for title, bindings in sections:
        table.add_row(Text(title, style="bold underline"), "")
        seen = set()
        for binding in bindings:
            if not isinstance(binding, Binding) or binding.system:
                continue
            description = binding.description or binding.tooltip
            if binding.action in seen or not description:
                continue
            seen.add(binding.action)
            if title == "Everywhere" and binding.action == "cancel_scan":
                description = "Cancel the running scan (previous results stay)"
            table.add_row(_key_name(app, binding), description)
        for key, description in EXTRA.get(title, []):
            table.add_row(key, description)
        table.add_row("", "")
    return table


class HelpScreen(ModalScreen):
    BINDINGS = [
        Binding("escape,q,question_mark", "dismiss", "Close help"),
    ]

    def compose(self) -> ComposeResult:
        with Vertical(id="help-box"):
            yield Static("[b]greg-tui keys[/b]  [dim](escape, q or ? closes)[/dim]", id="help-title")
            with VerticalScroll(id="help-scroll"):
                yield Static(bindings_table(self.app), id="help-table")
                yield Static(
                    "[dim]Research only: nothing here places trades. Results live in "
                    f"{self.app.output_dir}; the same sweep runs headless with greg-tui --export.[/dim]",
                    id="help-foot",
                )
