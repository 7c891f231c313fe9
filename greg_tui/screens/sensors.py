"""``i``: what each sensor means and its unit (``greg_core.contract.SENSORS``; docs/sensors.md)."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.binding import Binding

from greg_core.contract import SENSORS
from greg_tui.screens.panel import InfoPanel


def sensors_table() -> Table:
    table = Table(box=None, padding=(0, 2, 0, 0), expand=True, header_style="bold")
    table.add_column("sensor", no_wrap=True)
    table.add_column("unit", no_wrap=True)
    table.add_column("definition", ratio=1)
    for sensor in SENSORS:
        table.add_row(Text(sensor.name, style="bold"), sensor.unit, sensor.description)
    return table


class SensorsScreen(InfoPanel):
    """The sensor catalogue, over any screen."""

    PANEL_ID = "sensors"
    BINDINGS = [Binding("escape,q,i", "dismiss", "Close")]

    def title_text(self) -> str:
        return "[b]Sensors[/b]  [dim](escape, q or i closes)[/dim]"

    def body(self) -> Table:
        return sensors_table()

    def foot_text(self) -> str:
        return ("vol pts: annualized volatility points (iv 60 and rv 50 give vrp +10). Daily bars; "
                "warm-up rows without a full window are missing, never zero (docs/sensors.md).")
