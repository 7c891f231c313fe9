"""``i``: what each sensor means and its unit (``greg_core.contract.SENSORS``; docs/sensors.md)."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from greg_core.contract import SENSORS


def sensors_table() -> Table:
    table = Table(box=None, padding=(0, 2, 0, 0), expand=True, header_style="bold")
    table.add_column("sensor", no_wrap=True)
    table.add_column("unit", no_wrap=True)
    table.add_column("definition", ratio=1)
    for sensor in SENSORS:
        table.add_row(Text(sensor.name, style="bold"), sensor.unit, sensor.description)
    return table


class SensorsScreen(ModalScreen):
    """The sensor catalogue, over any screen."""

    DEFAULT_CSS = """
    SensorsScreen {
        align: center middle;
        background: $background 60%;
        #sensors-box {
            width: 90%;
            max-width: 100;
            height: auto;
            max-height: 90%;
            border: round $primary;
            background: $surface;
            padding: 0 1;
        }
        #sensors-title, #sensors-table, #sensors-foot {
            height: auto;
        }
        #sensors-title {
            margin: 0 0 1 0;
        }
        #sensors-scroll {
            height: auto;
            max-height: 70vh;  /* inside the box's 90%: the list scrolls (keys, wheel) at 80x24 */
        }
    }
    """
    BINDINGS = [Binding("escape,q,i", "dismiss", "Close")]

    def compose(self) -> ComposeResult:
        with Vertical(id="sensors-box"):
            yield Static("[b]Sensors[/b]  [dim](escape, q or i closes)[/dim]", id="sensors-title")
            with VerticalScroll(id="sensors-scroll"):
                yield Static(sensors_table(), id="sensors-table")
                yield Static(
                    "vol pts: annualized volatility points (iv 60 and rv 50 give vrp +10). Daily bars; "
                    "warm-up rows without a full window are missing, never zero (docs/sensors.md).",
                    id="sensors-foot",
                )
