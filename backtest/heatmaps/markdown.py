"""``greg_heatmap_sweetspots.md``: the sweep's human-readable summary (docs/outputs.md).

It opens with a summary (the data and each sensor's coverage, warnings, the best sweet spots
overall, the pairs left empty and why), then, per underlying, per strategy and pair, the
numbered ranges the requests' sample shows: occupancy (a share of the pair's own samples,
whose count heads the section), pass rate with its Wilson 95% lower bound and sample count,
and the score.
"""

from __future__ import annotations

from backtest.heatmaps.sweep import SweepResult, UnderlyingSweep
from backtest.heatmaps.sweetspots import SweetSpot, SweetSpotRecord
from backtest.selector.evaluate import CORE_SENSORS
from greg_core.formatting import fmt_num, fmt_pct

TOP_OVERALL = 10


def markdown_summary(result: SweepResult) -> str:
    lines = summary_section(result)
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
        f"per pair; bins {params.binning.describe()}; missing-sensor policy {params.missing_policy}; "
        f"counting {params.count_mode}.",
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
    coverage = {s.underlying: s.data.sensor_coverage() for s in result.underlyings}
    for name in params.metrics:
        cells = []
        for sweep in result.underlyings:
            entry = coverage[sweep.underlying][name]
            cells.append(f"{entry['days']} ({entry['first']}..{entry['last']})" if entry["days"] else "none")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    warnings = [f"{s.underlying}: {w}" for s in result.underlyings for w in s.data.warnings]
    if warnings:
        lines += ["", "**Warnings:**", "", *(f"- {w}" for w in warnings)]

    ranked = sorted(
        ((spot, record) for record in result.records for spot in record.sweet_spots),
        key=lambda item: (-item[0].sweetness, -item[0].count),
    )[:TOP_OVERALL]
    lines += ["", f"## Top {TOP_OVERALL} sweet spots overall", ""]
    if ranked:
        lines += [
            "| # | underlying | strategy | x range | y range | occupancy | pass rate (Wilson low) | samples in cell / pair |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for number, (spot, record) in enumerate(ranked, start=1):
            lines.append(
                f"| {number} | {record.underlying} | {record.strategy} | {record.x_metric} ∈ "
                f"{_range(spot.x_low, spot.x_high)} | {record.y_metric} ∈ {_range(spot.y_low, spot.y_high)} | "
                f"{fmt_pct(spot.occupancy_frac)} | {fmt_pct(spot.strategy_pass_frac)} "
                f"({fmt_pct(spot.wilson_low)}) | {spot.count} / {record.samples} |"
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
        "",
    ]
