"""``greg_heatmap_sweetspots.md``: the sweep's human-readable summary (docs/outputs.md).

It opens with a summary (the data and each sensor's coverage, warnings, did the decisions
pay: the scorecard, the sensor signals, the multiple-testing line and how many sweet spots
held up out of sample; the best sweet spots overall, the pairs left empty and why), then, per
underlying, per strategy and pair, the numbered ranges the requests' sample shows:
occupancy (a share of the pair's own samples, whose count heads the section), pass rate with
its Wilson 95% lower bound and sample count, the score, and what happened afterwards.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from backtest.heatmaps.outputs import outcome_trust
from backtest.heatmaps.sweep import SweepResult, UnderlyingSweep
from backtest.heatmaps.sweetspots import OutcomeBlock, SweetSpot, SweetSpotRecord
from backtest.selector.evaluate import CORE_SENSORS, strategy_label
from greg_core.formatting import finite_or_none, fmt_interval, fmt_num, fmt_pct, fmt_signed

TOP_OVERALL = 10


def markdown_summary(result: SweepResult) -> str:
    lines = summary_section(result)
    lines += outcome_section(result)
    for sweep in result.underlyings:
        lines += underlying_section(result, sweep)
    return "\n".join(lines).rstrip() + "\n"


def _range(low: float, high: float) -> str:
    return f"[{fmt_num(low)}, {fmt_num(high)}]"


def summary_section(result: SweepResult) -> list[str]:
    params = result.params
    lines = [
        "# Greg Environment Sweet Spots – summary",
        "",
        f"Research only: no trades are placed. Bins {params.x_bins}x{params.y_bins}; min occupancy "
        f"{fmt_pct(params.min_env_frac)}; min pass rate {params.min_pass_frac * 100:.0f}%; top {params.top_k} "
        f"per pair, ranked by {'the lower 95% bound of the forward edge' if params.rank_by == 'edge' else 'score'}; "
        f"bins {params.binning.describe()}; missing-sensor policy {params.missing_policy}; "
        f"counting {params.count_mode}; forward outcomes over {params.horizon_days} days.",
        "",
        "## Data",
        "",
        "| underlying | data | span | samples | not evaluable | bar gaps bridged / restarted |",
        "|---|---|---|---|---|---|",
    ]
    for sweep in result.underlyings:
        data, span = sweep.data, sweep.data.span
        gaps = f"{data.provenance.get('bridged_gaps', 0)} / {data.provenance.get('restarted_gaps', 0)}"
        lines.append(
            f"| {sweep.underlying} | {data.description} | "
            + (f"{span[0][:10]}..{span[1][:10]}" if span else "no data")
            + f" | {data.n_samples} | {sweep.not_evaluable} | {gaps} |"
        )
    lines += ["", "Sensor coverage (days with a value, first..last):", ""]
    lines += [
        "| sensor | " + " | ".join(s.underlying for s in result.underlyings) + " |",
        "|---|" + "---|" * len(result.underlyings),
    ]
    coverage = {s.underlying: s.data.coverage for s in result.underlyings}
    for name in params.metrics:
        cells = []
        for sweep in result.underlyings:
            entry = coverage[sweep.underlying][name]
            cells.append(f"{entry['days']} ({entry['first']}..{entry['last']})" if entry["days"] else "none")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    warnings = [f"{s.underlying}: {w}" for s in result.underlyings for w in s.data.warnings]
    if warnings:
        lines += ["", "**Warnings:**", "", *(f"- {w}" for w in warnings)]

    lines += [""]
    ranked = sorted(
        ((spot, record) for record in result.records for spot in record.sweet_spots),
        key=lambda item: (-item[0].sweetness, -item[0].count),
    )[:TOP_OVERALL]
    lines += [f"## Top {TOP_OVERALL} sweet spots overall", ""]
    if ranked:
        lines += ["Ranked by sweetness (occupancy x pass rate): where the market often is and Greg's rule "
                  "often fires, not where trading paid; the last column says what followed.", ""]
        lines += [
            "| # | underlying | strategy | x range | y range | occupancy | pass rate (Wilson low) | samples in cell / pair "
            "| forward edge on the strategy's days [95% CI] (days, episodes) |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for number, (spot, record) in enumerate(ranked, start=1):
            lines.append(
                f"| {number} | {record.underlying} | {record.strategy} | {record.x_metric} ∈ "
                f"{_range(spot.x_low, spot.x_high)} | {record.y_metric} ∈ {_range(spot.y_low, spot.y_high)} | "
                f"{fmt_pct(spot.occupancy_frac)} | {fmt_pct(spot.strategy_pass_frac)} "
                f"({fmt_pct(spot.wilson_low)}) | {spot.count} / {record.samples} | {_edge_cell(spot.outcome)} |"
            )
    elif params.rank_by == "edge":
        lines.append(
            f"No cell passed both thresholds with {params.min_episodes} or more independent episodes "
            "(ranking by the forward edge leaves thin cells out; a longer history or fewer bins helps)."
        )
    else:
        lines.append("No cell passed both thresholds.")

    lines += ["", "## Pairs left empty", ""]
    empty_any = False
    for sweep in result.underlyings:
        empty = [g for g in sweep.grids if g.total_samples == 0]
        if not empty:
            continue
        empty_any = True
        absent = set(sweep.absent_sensors)
        for grid in empty:
            reason = [m for m in (grid.x_metric, grid.y_metric) if m in absent]
            why = (
                f"{' and '.join(reason)} {'has' if len(reason) == 1 else 'have'} no data in this source"
                if reason else "no sample has both sensors"
            )
            lines.append(f"- {sweep.underlying} ({grid.x_metric}, {grid.y_metric}): {why}")
    if not empty_any:
        lines.append("None: every pair has samples.")
    return lines + [""]


def underlying_section(result: SweepResult, sweep: UnderlyingSweep) -> list[str]:
    params, data, span = result.params, sweep.data, sweep.data.span
    lines = [
        f"# Greg Environment Sweet Spots – {sweep.underlying}",
        "",
        f"Data: {data.description}; {data.n_samples} samples"
        + (f" from {span[0][:10]} to {span[1][:10]}" if span else "")
        + f". Missing-sensor policy: {params.missing_policy}; counting: {params.count_mode}. "
        "Research only: no trades are placed.",
        "",
    ]
    unavailable = [name for name in sweep.absent_sensors if name in params.metrics]
    if unavailable:
        lines += [f"Sensors with no data in this source: {', '.join(unavailable)}.", ""]
    if sweep.not_evaluable:
        lines += [
            f"Not evaluable: {sweep.not_evaluable} samples lack a core sensor "
            f"({', '.join(CORE_SENSORS)}); they are neither picks nor NO_TRADE.",
            "",
        ]
    for key in params.strategies:
        records = [r for r in result.records if r.underlying == sweep.underlying and r.strategy_key == key]
        for record in records:
            if record.sweet_spots:
                lines += record_section(record, params.min_env_frac, params.min_pass_frac)
        empty = [r for r in records if not r.sweet_spots]
        if empty:
            label = records[0].strategy if records else key
            lines += [f"{label}: no sweet spot in {len(empty)} of {len(records)} pairs.", ""]
    return lines


def record_section(record: SweetSpotRecord, min_env_frac: float, min_pass_frac: float) -> list[str]:
    lines = [
        f"## {record.strategy} – ({record.x_metric}, {record.y_metric}), n = {record.samples}",
        "",
        f"Top sweet spots (min_env_frac = {fmt_pct(min_env_frac)}, "
        f"min_pass_frac = {min_pass_frac * 100:.0f}%):",
        "",
    ]
    for number, spot in enumerate(record.sweet_spots, start=1):
        lines += spot_lines(number, record, spot)
    return lines


def spot_lines(number: int, record: SweetSpotRecord, spot: SweetSpot) -> list[str]:
    return [
        f"{number}. {record.x_metric} ∈ {_range(spot.x_low, spot.x_high)}, "
        f"{record.y_metric} ∈ {_range(spot.y_low, spot.y_high)}",
        f"   - occupancy ≈ {fmt_pct(spot.occupancy_frac)} ({spot.count} of {record.samples})",
        f"   - strategy pass rate ≈ {fmt_pct(spot.strategy_pass_frac)} "
        f"(Wilson 95% lower bound {fmt_pct(spot.wilson_low)}, {spot.count} samples)",
        f"   - score (occupancy * pass) ≈ {spot.sweetness:.3f}",
        *outcome_lines(spot.outcome, "forward edge", "vol pts"),
        *outcome_lines(spot.pnl, "structure P&L", "% of spot"),
        "",
    ]


def outcome_lines(block: OutcomeBlock | None, what: str, unit: str) -> list[str]:
    """One line of what happened after a sweet spot's days, for one measure."""
    if block is None or block.n == 0:
        return [] if block is None else [f"   - {what}: no day here has a complete future yet"]
    line = (
        f"   - {what} ({block.measure}): mean {fmt_signed(block.mean)} {unit} {fmt_interval(block.ci_low, block.ci_high)}, "
        f"median {fmt_signed(block.median)}, hit {fmt_pct(block.hit_rate, 0)}, worst {fmt_signed(block.worst)}; "
        f"{block.n} days, {block.episodes} episodes" + (" (thin)" if block.thin else "")
    )
    if block.no_trade_mean is not None:
        line += f"; no-trade days here {fmt_signed(block.no_trade_mean)} ({block.no_trade_n})"
    if block.oos_mean is not None:
        line += f"; later third {fmt_signed(block.oos_mean)} ({block.oos_n} days)"
    return [line]


def held_up(result: SweepResult) -> tuple[int, int, int]:
    """(sweet spots, of them chosen on the earlier two thirds too with later-third days, of
    those whose later-third mean edge beat the later third's no-trade days)."""
    baseline = {s.underlying: s.walk_forward.get("later_third_no_trade_mean") for s in result.underlyings}
    return held_up_counts(result.records, baseline)


def held_up_counts(records: Iterable[SweetSpotRecord], baseline: Mapping[str, float | None]) -> tuple[int, int, int]:
    """``held_up`` for stored results (the app): ``baseline`` is each underlying's later-third
    no-trade mean edge (the scorecard's ``walk_forward.later_third_no_trade_mean``)."""
    total = chosen = beat = 0
    for record in records:
        for spot in record.sweet_spots:
            total += 1
            verdict = spot_held_up(spot.outcome, baseline.get(record.underlying))
            chosen += verdict is not None
            beat += bool(verdict)
    return total, chosen, beat


def spot_held_up(block: OutcomeBlock | None, reference: float | None) -> bool | None:
    """Whether one sweet spot held up out of sample: None when it was not chosen on the earlier
    two thirds too or has no later-third days; else whether its later-third mean edge beat
    ``reference``, the later third's no-trade mean (False when that is unknown)."""
    if block is None or block.oos_mean is None or block.oos_n == 0:
        return None
    return reference is not None and block.oos_mean > reference


def outcome_section(result: SweepResult) -> list[str]:
    """Did it pay? The scorecard, signals, multiple testing and the walk-forward count."""
    if not any(s.scorecard for s in result.underlyings):
        return []
    params = result.params
    lines = [
        f"## Did it pay? Forward outcomes over {params.horizon_days} days",
        "",
        f"Edge = iv_30d minus the vol realized over the next {params.horizon_days} days (vol pts); "
        "intervals: 95%, Newey-West (Bartlett, H-1 lags), so overlapping windows are not counted as "
        f"independent; episodes = non-overlapping entries; thin = fewer than {params.min_episodes} episodes.",
        "",
    ]
    for sweep in result.underlyings:
        card = sweep.scorecard
        if card is None:
            continue
        lines += [
            f"### {sweep.underlying}: {outcome_trust(sweep.data)}",
            "",
            "| group | days | episodes | mean edge [95% CI] | hit | vs no-trade (t) |",
            "|---|---|---|---|---|---|",
        ]
        for row in card.rows:
            if row.days == 0:
                continue
            diff = "" if row.group == "NO_TRADE" else f"{fmt_signed(row.diff_vs_no_trade)} ({fmt_signed(row.diff_t)})"
            lines.append(
                f"| {_group_name(row)} | {row.days} | {row.episodes}{' (thin)' if row.thin else ''} | "
                f"{fmt_signed(row.mean)} {fmt_interval(row.ci_low, row.ci_high)} | "
                f"{fmt_pct(row.hit_rate, 0)} | {diff} |"
            )
        pnl_rows = [] if sweep.pnl_scorecard is None else [r for r in sweep.pnl_scorecard.rows if r.days]
        if pnl_rows:
            priced = " Wings are priced as the note below says." if card.notes else ""
            lines += ["", f"Each strategy's own structure (P&L held to expiry, % of entry spot).{priced}", "",
                      "| strategy | days | episodes | mean [95% CI] | hit | worst | vs same structure on no-trade days (t) |",
                      "|---|---|---|---|---|---|---|"]
            for row in pnl_rows:
                lines.append(
                    f"| {_group_name(row)} | {row.days} | {row.episodes}{' (thin)' if row.thin else ''} | "
                    f"{fmt_signed(row.mean, 2)} {fmt_interval(row.ci_low, row.ci_high, 2)} | "
                    f"{fmt_pct(row.hit_rate, 0)} | {fmt_signed(row.worst, 2)} | "
                    f"{fmt_signed(row.diff_vs_no_trade, 2)} ({fmt_signed(row.diff_t)}) |"
                )
        if sweep.signals is not None:
            lines += ["", "Signals: the edge on each standardized sensor (every day with both):", "",
                      "| sensor | days | episodes | edge per sd (t) | R² |", "|---|---|---|---|---|"]
            for signal in sweep.signals.rows:
                if signal.n == 0:
                    continue
                lines.append(
                    f"| {signal.sensor} | {signal.n} | {signal.episodes} | "
                    f"{fmt_signed(signal.slope)} ({fmt_signed(signal.slope_t)}) | "
                    f"{'-' if finite_or_none(signal.r2) is None else f'{signal.r2:.3f}'} |"
                )
        for note in card.notes:
            lines += ["", f"Note: {note}"]
        lines.append("")
    if result.multiple_testing is not None:
        lines += [f"Multiple testing (cells that are not thin): {result.multiple_testing.sentence()}.", ""]
    total, chosen, beat = held_up(result)
    lines += [
        f"Out of sample: of {total} sweet spots, {chosen} were also chosen on the earlier two thirds of the "
        f"span and had days in the later third; {beat} of those beat the later third's no-trade days.",
        "",
    ]
    return lines


def _edge_cell(block: OutcomeBlock | None) -> str:
    """A sweet spot's forward edge in one table cell: mean, interval, days and episodes."""
    if block is None or finite_or_none(block.mean) is None:
        return "no outcome"
    thin = ", thin" if block.thin else ""
    return (f"{fmt_signed(block.mean)} {fmt_interval(block.ci_low, block.ci_high)} "
            f"({block.n} d, {block.episodes} ep{thin})")


def _group_name(row) -> str:
    """A scorecard row's group as a trader reads it: a strategy by its label (its key
    ``STRATEGY_A_STRANGLE`` is labelled "Strategy B: OTM Strangle", docs/selector.md), a
    waterfall step as the step that ended in no trade."""
    if row.kind == "strategy":
        return strategy_label(row.group)
    if row.kind == "step":
        return f"{row.group} (step, no trade)"
    return row.group
