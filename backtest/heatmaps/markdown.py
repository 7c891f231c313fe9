"""``greg_heatmap_sweetspots.md``: the sweep's human-readable summary (docs/outputs.md).

Per underlying, per strategy and pair: numbered ranges with occupancy, pass rate (with its
Wilson 95% lower bound and sample count) and score, as the requests' sample shows.
"""

from __future__ import annotations

from backtest.heatmaps.sweep import SweepResult
from backtest.selector.evaluate import CORE_SENSORS
from greg_core.formatting import fmt_num, fmt_pct


def markdown_summary(result: SweepResult) -> str:
    params = result.params
    lines: list[str] = []
    for sweep in result.underlyings:
        data = sweep.data
        span = data.span
        lines += [
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
            empty = [f"({r.x_metric}, {r.y_metric})" for r in records if not r.sweet_spots]
            for record in records:
                if not record.sweet_spots:
                    continue
                lines += [
                    f"## {record.strategy} – ({record.x_metric}, {record.y_metric})",
                    "",
                    f"Top sweet spots (min_env_frac = {fmt_pct(params.min_env_frac)}, "
                    f"min_pass_frac = {params.min_pass_frac * 100:.0f}%):",
                    "",
                ]
                for number, spot in enumerate(record.sweet_spots, start=1):
                    lines += [
                        f"{number}. {record.x_metric} ∈ [{fmt_num(spot.x_low)}, {fmt_num(spot.x_high)}], "
                        f"{record.y_metric} ∈ [{fmt_num(spot.y_low)}, {fmt_num(spot.y_high)}]",
                        f"   - occupancy ≈ {fmt_pct(spot.occupancy_frac)}",
                        f"   - strategy pass rate ≈ {fmt_pct(spot.strategy_pass_frac)} "
                        f"(Wilson 95% lower bound {fmt_pct(spot.wilson_low)}, {spot.count} samples)",
                        f"   - score (occupancy * pass) ≈ {spot.sweetness:.3f}",
                        "",
                    ]
            if empty:
                label = records[0].strategy if records else key
                lines += [f"{label}: no sweet spot in {len(empty)} of {len(records)} pairs.", ""]
    return "\n".join(lines).rstrip() + "\n"
