"""The selector's "bots table": one sample's sensors and every strategy's decision."""

from __future__ import annotations

import math

from rich import box
from rich.table import Table
from rich.text import Text

from backtest.selector.evaluate import Criterion, GregDecision
from greg_core.contract import SENSOR_INFO
from greg_core.formatting import fmt_num


def fmt_value(value: float | None) -> str:
    """A sensor reading or criterion value; prices keep their thousands separator."""
    number = value if isinstance(value, int | float) else None
    if number is not None and math.isfinite(number) and abs(number) >= 1000:
        return f"{number:,.0f}"
    return fmt_num(value, missing="missing")


def sensor_rows(values: dict[str, float | None]) -> list[tuple[Text, Text, Text]]:
    rows = []
    for name, value in values.items():
        info = SENSOR_INFO.get(name)
        text = fmt_value(value)
        rows.append((
            Text(name),
            Text(text, style="dim italic" if text == "missing" else "", justify="right"),
            Text(info.unit if info else "", style="dim"),
        ))
    return rows


# (ok, failed, missing/passing-but-blocked) colours readable on each theme's background.
COLOURS = {True: ("#5fd75f", "#ff6b6b", "#e5c07b"), False: ("#1b7f2a", "#b3261e", "#8a5a00")}


def criterion_text(criterion: Criterion, dark: bool = True) -> Text:
    good, bad, unsure = COLOURS[dark]
    if criterion.missing:
        mark, style = "?", unsure
    elif criterion.ok:
        mark, style = "✓", good
    else:
        mark, style = "✗", bad
    text = Text()
    text.append(f"{mark} ", style=f"bold {style}")
    text.append(criterion.text)
    text.append(f"  is {fmt_value(criterion.value)}", style="italic" if not criterion.missing else unsure)
    return text


def decision_header(decision: GregDecision) -> Text:
    text = Text()
    text.append("Greg selects: ", style="bold")
    text.append(decision.selected_label, style="bold reverse" if decision.selected_key != "NO_TRADE" else "bold")
    if decision.step_name:
        text.append(f"  at step {decision.step_index} {decision.step_name}")
    text.append(f"  (missing policy {decision.policy})", style="dim")
    if decision.reasoning:
        text.append(f"\n{decision.reasoning}", style="italic")
    return text


def decision_table(decision: GregDecision, dark: bool = True) -> Table:
    """One row per strategy: name, its step, status and score; then each criterion with its
    threshold (in the rule text), the sample's value and a tick or cross."""
    table = Table(expand=True, show_lines=True, header_style="bold", pad_edge=False, box=box.ROUNDED)
    table.add_column("Strategy / step / status", ratio=2, min_width=22)
    table.add_column("Criteria (rule, sample value)", ratio=3)
    good, _bad, unsure = COLOURS[dark]
    for status in decision.strategies:
        if status.selected:
            badge = Text("● selected", style=f"bold {good}")
        elif status.passes and status.blocked_by:
            badge = Text(f"◐ passes, blocked by {status.blocked_by}", style=unsure)
        elif status.passes:
            badge = Text("◐ passes", style=unsure)
        else:
            badge = Text("✗ fails", style="dim")
        name = Text(status.label.removeprefix("Strategy "), style="bold")
        name.append(f"\nstep {status.step_index} {status.step_name}\n", style="dim")
        name.append_text(badge)
        name.append(f"  score {status.score * 100:.0f}%")
        criteria = Text("\n").join(criterion_text(c, dark) for c in status.criteria) if status.criteria else Text("-")
        table.add_row(name, criteria)
    return table
