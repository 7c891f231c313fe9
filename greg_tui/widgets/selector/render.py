"""The selector's "bots table": one sample's sensors and every strategy's decision, and what
happened next (the day's forward outcomes, labelled as outcomes)."""

from __future__ import annotations

import math

from rich import box
from rich.table import Table
from rich.text import Text

from backtest.selector.evaluate import NO_TRADE, NOT_EVALUABLE, Criterion, GregDecision, StepCheck
from greg_core.contract import SENSOR_INFO
from greg_core.formatting import fmt_num
from greg_tui.widgets.selector.span import NextOutcome, StructureOutcome, Trust


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
COLOURS = {True: ("#5fd75f", "#ff6b6b", "#e5c07b"), False: ("#17602d", "#9b2743", "#7a4500")}


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


def decision_table(decision: GregDecision, dark: bool = True, outcome: NextOutcome | None = None) -> Table:
    """One row per strategy: name, its step, status and score (and, with ``outcome``, what its
    structure made afterwards); then each criterion with its threshold (in the rule text),
    the sample's value and a tick or cross."""
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
        structure = outcome.structures.get(status.key) if outcome is not None else None
        if structure is not None:
            name.append(f"\nnext {structure.holding_days}d: ", style="dim")
            name.append_text(structure_pnl(structure, unsure))
        criteria = Text("\n").join(criterion_text(c, dark) for c in status.criteria) if status.criteria else Text("-")
        table.add_row(name, criteria)
    return table


def _step_result(step: StepCheck, reached: bool, winner: bool, dark: bool, unevaluated: str | None = None) -> Text:
    good, bad, unsure = COLOURS[dark]
    text = Text()
    if unevaluated:
        text.append(f"not evaluated: {unevaluated}", style="dim")
        return text
    if not reached:
        text.append("not reached (an earlier step matched)" + ("; would match too" if step.matched and step.criteria
                                                               else ""), style="dim")
        return text
    if not step.criteria:  # "always"
        text.append("✓ matches every day", style=f"bold {good}" if winner else good)
        return text
    held = [c for c in step.criteria if c.ok]
    if step.matched:
        text.append("✓ fired: " if winner else "✓ holds: ", style=f"bold {good}")
        text.append_text(Text("; ").join(criterion_value(c) for c in held))
    else:
        failed = [c for c in step.criteria if not c.ok]
        text.append("✗ ", style=f"bold {bad}")
        text.append_text(Text("; ").join(criterion_value(c, unsure) for c in failed))
    return text


def criterion_value(criterion: Criterion, missing_style: str = "") -> Text:
    """'adx_14d > 35 (is 40.2)', or '(missing)'."""
    text = Text(criterion.text)
    if criterion.missing:
        text.append(" (missing)", style=f"italic {missing_style}")
    else:
        text.append(f" (is {fmt_value(criterion.value)})", style="italic")
    return text


def waterfall_table(decision: GregDecision, dark: bool = True) -> Table:
    """Every step in order: its rule, what it picks, and on this day whether it matched and
    which clauses fired (or failed); steps after the one that matched were not reached."""
    table = Table(expand=True, header_style="bold", pad_edge=False, box=box.SIMPLE_HEAD, show_edge=False,
                  title="The waterfall: first matching step wins", title_justify="left", title_style="bold")
    table.add_column("Step", ratio=2, overflow="fold")
    table.add_column("Rule -> outcome", ratio=4)
    table.add_column("This day", ratio=4)
    winner_seen = False
    for step in decision.steps:
        winner = step.name == decision.step_name and step.index == decision.step_index
        reached = not winner_seen and decision.evaluable
        outcome = "No trade" if step.outcome == NO_TRADE else step.outcome
        name = Text(f"{step.index} {step.name}", style="bold reverse" if winner else "bold" if reached else "dim")
        rule = Text(step.condition)
        rule.append(f" -> {outcome}", style="dim")
        unevaluated = None if decision.evaluable else f"{', '.join(decision.missing_core)} missing"
        table.add_row(name, rule, _step_result(step, reached, winner, dark, unevaluated))
        winner_seen = winner_seen or winner
    return table


# ----------------------------------------------------------------------------- what happened next


def fmt_pnl(value: float | None) -> str:
    """A structure's P&L in % of the entry spot (short premium positive)."""
    return "n/a" if value is None else f"{value:+.2f}%"


def structure_pnl(structure: StructureOutcome, unsure: str = "") -> Text:
    """'-1.12% of spot unhedged, +0.40% hedged', or 'not known yet'."""
    text = Text()
    if not structure.known:
        text.append("not known yet", style=f"italic {unsure}")
    elif structure.pnl is None and structure.hedged is None:
        text.append("n/a (a bar or an IV is missing)", style="italic")
    else:
        text.append(fmt_pnl(structure.pnl), style="bold")
        text.append(" of spot unhedged, ")
        text.append(fmt_pnl(structure.hedged), style="bold")
        text.append(" hedged")
    return text


def next_outcome_text(outcome: NextOutcome, decision: GregDecision, trust: Trust, dark: bool = True) -> Text:
    """What happened in the H days after the day shown: the forward edge (iv_30d at entry
    minus the vol realized over the next H days), the selected strategy's structure P&L
    unhedged and delta-hedged, and what these outcomes can be trusted for. Outcomes only:
    nothing here feeds the decision above. The latest days say "not known yet", never a guess."""
    good, bad, unsure = COLOURS[dark]
    horizon = outcome.horizon_days
    text = Text()
    text.append("What happened next", style="bold underline")
    text.append(f" ({horizon} days): ", style="bold")
    text.append(trust.label, style=f"bold {unsure}" if trust.model else "bold")
    text.append(f"\n  edge_{horizon}d ")
    if not outcome.known:
        text.append("not known yet", style=f"bold {unsure}")
        text.append(f" (to {outcome.ends:%Y-%m-%d}; the data ends {outcome.data_end:%Y-%m-%d})", style="italic")
    elif outcome.edge is None:
        text.append("n/a", style="bold")
        text.append(" (a bar or iv_30d is missing in the window)", style="italic")
    else:
        text.append(f"{outcome.edge:+.1f} vol pts", style=f"bold {good if outcome.edge > 0 else bad}")
        text.append(f" = iv_30d {fmt_num(outcome.iv_30d)} at entry - realized vol {fmt_num(outcome.realized_vol)}"
                    f" to {outcome.ends:%Y-%m-%d}", style="italic")
    text.append("\n  ")
    selected = outcome.structures.get(decision.selected_key)
    if selected is not None:
        text.append(decision.selected_label.removeprefix("Strategy "), style="bold")
        text.append(f" P&L over {selected.holding_days} days: ")
        text.append_text(structure_pnl(selected, unsure))
    elif decision.selected_key == NOT_EVALUABLE:
        text.append("Not evaluable: nothing selected", style="bold")
        text.append(" (each structure's P&L is in its row below)", style="dim")
    else:
        text.append("No trade: nothing sold", style="bold")
        text.append(" (each structure's P&L is in its row below)", style="dim")
    if trust.realism:
        text.append(f"\n  {trust.realism}", style="dim italic")
    return text
