"""The scorecard of one underlying drawn for the scorecard screen (issue 9): what happened
after each group's days (every evaluable day, trade / no-trade, each strategy, each blocking
step), each strategy's own structure P&L, the signals (forward edge on each standardized
sensor), the multiple-testing line and the walk-forward count.

Reads ``StoredSweep.scorecard`` (greg_heatmap_scorecard.json, docs/outputs.md) as stored:
no statistic is recomputed here. Units and definitions: docs/outcomes.md.
"""

from __future__ import annotations

from collections.abc import Mapping

from rich.table import Table
from rich.text import Text

from greg_core.formatting import fmt_interval, fmt_pct, fmt_signed
from greg_tui.markup import escape
from greg_tui.outcome_labels import THIN_MARK, THIN_STYLE, UNITS

# The non-strategy groups, in words (a blocking step keeps its waterfall name).
GROUP_WORDS: dict[str, str] = {"ALL": "every day", "TRADE": "trade days", "NO_TRADE": "no-trade days"}


def group_label(row: Mapping, labels: Mapping[str, str]) -> str:
    """'every day', 'B Strangle' (``labels``: strategy key -> short label), or for a
    waterfall step that ended in no trade 'SAFETY_FILTER (no trade)'."""
    group = str(row.get("group", "?"))
    if group in GROUP_WORDS:
        return GROUP_WORDS[group]
    if row.get("kind") == "step":
        return f"{group} (no trade)"
    return labels.get(group, group)


def _table(title: str) -> Table:
    return Table(box=None, padding=(0, 1, 0, 0), header_style="bold", show_edge=False, title=title,
                 title_justify="left", title_style="bold")


def _cell(text: str, thin: bool) -> Text:
    return Text(text, style=THIN_STYLE if thin else "")


def _t(value: object) -> str:
    text = fmt_signed(value)
    return "" if text == "-" else f"(t {text})"


def group_table(card: Mapping, labels: Mapping[str, str]) -> Table:
    """One row per group with days: days, episodes, mean edge, its 95% interval, hit rate and
    the difference to the no-trade days with its HAC t; thin groups in italic and marked."""
    measure = str(card.get("measure", "edge"))
    table = _table(f"Forward edge ({escape(measure)}, {UNITS['edge']}) by group")
    for header, justify in (("group", "left"), ("days", "right"), ("ep", "right"), ("mean", "right"),
                            ("95% NW", "right"), ("hit", "right"), ("vs no-trade", "right")):
        table.add_column(header, justify=justify, no_wrap=True)
    empty = [group_label(row, labels) for row in card.get("rows") or [] if not row.get("days")]
    if empty:
        table.caption = f"no days: {escape(', '.join(empty))}"
        table.caption_justify = "left"
    for row in card.get("rows") or []:
        if not row.get("days"):
            continue
        thin = bool(row.get("thin"))
        diff = "" if row.get("group") == "NO_TRADE" else f"{fmt_signed(row.get('diff_vs_no_trade'))} {_t(row.get('diff_t'))}"
        table.add_row(
            _cell(group_label(row, labels), thin),
            _cell(str(row["days"]), thin),
            _cell(f"{row.get('episodes', 0)}{THIN_MARK if thin else ''}", thin),
            _cell(fmt_signed(row.get("mean")), thin),
            _cell(fmt_interval(row.get("ci_low"), row.get("ci_high"), missing="-"), thin),
            _cell(fmt_pct(row.get("hit_rate"), 0), thin),
            _cell(diff.strip(), thin),
        )
    return table


def pnl_table(card: Mapping, labels: Mapping[str, str]) -> Table | None:
    """Each strategy's own structure held to expiry (% of entry spot), against the same
    structure on the no-trade days; None when the run has no P&L rows."""
    rows = [row for row in card.get("pnl_rows") or [] if row.get("days")]
    if not rows:
        return None
    table = _table(f"Structure P&L held to expiry ({UNITS['pnl']})")
    for header, justify in (("strategy", "left"), ("H", "right"), ("days", "right"), ("ep", "right"),
                            ("mean", "right"), ("95% NW", "right"), ("hit", "right"), ("worst", "right"),
                            ("vs no-trade", "right")):
        table.add_column(header, justify=justify, no_wrap=True)
    for row in rows:
        thin = bool(row.get("thin"))
        table.add_row(
            _cell(group_label(row, labels), thin),
            _cell(f"{row.get('horizon_days', '?')}d", thin),
            _cell(str(row["days"]), thin),
            _cell(f"{row.get('episodes', 0)}{THIN_MARK if thin else ''}", thin),
            _cell(fmt_signed(row.get("mean"), 2), thin),
            _cell(fmt_interval(row.get("ci_low"), row.get("ci_high"), 2, missing="-"), thin),
            _cell(fmt_pct(row.get("hit_rate"), 0), thin),
            _cell(fmt_signed(row.get("worst"), 2), thin),
            _cell(f"{fmt_signed(row.get('diff_vs_no_trade'), 2)} {_t(row.get('diff_t'))}".strip(), thin),
        )
    return table


def signal_table(card: Mapping) -> Table | None:
    """Per sensor: the slope of the forward edge on the standardized sensor (vol pts per s.d.)
    with its Newey-West t and R², and the mean edge in each sensor quintile (low to high)."""
    signals = card.get("signals") or {}
    rows = [row for row in signals.get("rows") or [] if row.get("n")]
    if not rows:
        return None
    table = _table("Signals: forward edge per sensor s.d. (Newey-West t)")
    for header, justify in (("sensor", "left"), ("days", "right"), ("ep", "right"), ("slope", "right"),
                            ("t", "right"), ("R²", "right"), ("by quintile, low..high", "left")):
        table.add_column(header, justify=justify, no_wrap=True)
    for row in rows:
        t = row.get("slope_t")
        strong = isinstance(t, int | float) and abs(t) > 2
        r2 = row.get("r2")
        quintiles = " ".join(fmt_signed(q.get("mean")) for q in row.get("quintiles") or [])
        table.add_row(
            Text(str(row.get("sensor", "?")), style="bold" if strong else ""),
            str(row["n"]),
            str(row.get("episodes", "")),
            fmt_signed(row.get("slope")),
            Text(fmt_signed(t), style="bold" if strong else ""),
            "-" if not isinstance(r2, int | float) else f"{r2:.3f}",
            quintiles,
        )
    return table


def signals_note(card: Mapping) -> str | None:
    """The multiple-testing line of the signals: how many sensors clear |t| > 2 against what
    chance alone gives for that many tests (``backtest.outcomes.scorecard.multiple_testing``)."""
    from backtest.outcomes.scorecard import (
        multiple_testing,  # the screen runs with the engine loaded
    )

    t_stats = [row.get("slope_t") for row in (card.get("signals") or {}).get("rows") or [] if row.get("n")]
    t_stats = [float(t) if isinstance(t, int | float) else float("nan") for t in t_stats]
    if not t_stats:
        return None
    return f"Signals, multiple testing: {multiple_testing(t_stats).sentence()}"


def head_text(underlying: str, card: Mapping, trust: str | None) -> str:
    """Which underlying, what its outcomes are, the horizon and the day counts."""
    lines = [
        f"Scorecard for [b]{escape(underlying)}[/b]"
        + (f": [b]{escape(trust)}[/b]" if trust else ""),
        f"{card.get('horizon_days', '?')}-day horizon, {card.get('total_days', '?')} days, "
        f"{card.get('not_evaluable_days', 0)} not evaluable, "
        f"{card.get('evaluable_without_outcome', 0)} without a complete future yet; "
        f"thin ({THIN_MARK}, italic): fewer than {card.get('min_episodes', '?')} episodes",
        f"[dim]interval {escape(str(card.get('interval', '95% Newey-West')))}; "
        "episodes: non-overlapping entries; docs/outcomes.md defines both[/dim]",
    ]
    return "\n".join(lines)


def walk_forward_text(card: Mapping, held_up: tuple[int, int, int] | None) -> str | None:
    """The walk-forward check of the sweet spots: chosen on the earlier two thirds, judged on
    the later third against that third's no-trade days."""
    walk = card.get("walk_forward") or {}
    if not walk and held_up is None:
        return None
    cut = str(walk.get("cut") or "?")[:10]
    text = (f"[b]Walk-forward[/b] (cut {escape(cut)}): later third's no-trade days "
            f"{fmt_signed(walk.get('later_third_no_trade_mean'))} {UNITS['edge']} "
            f"({walk.get('later_third_no_trade_n', '?')} days)")
    if held_up is not None:
        total, chosen, beat = held_up
        text += (f"; of {total} sweet spots, {chosen} were also chosen on the earlier two thirds with "
                 f"later-third days, [b]{beat} held up[/b] (beat those no-trade days)")
    return text
