"""The grid's side panel: what is shown, the cursor cell's numbers, and the legend."""

from __future__ import annotations

from backtest.heatmaps.binning import PairGrid
from greg_core.formatting import fmt_num, fmt_pct
from greg_tui.markup import escape
from greg_tui.outcome_labels import OutcomeTrust
from greg_tui.widgets.grid.heatmap import LAYER_TITLES, OUTCOME_LAYERS, SHADES, GridView, Palette
from greg_tui.widgets.sweetspots.rows import short_label
from greg_tui.widgets.sweetspots.summary import absent_sensors


def title_text(underlying: str, strategy_label: str, grid: PairGrid, layer: str, pair_no: int, pairs: int,
               strategy_no: int, strategies: int, count_mode: str, info: dict | None = None,
               trust: OutcomeTrust | None = None) -> str:
    """What is shown; ``trust``: what the run's outcomes are (None: the run has none), on its
    own line ("model outcomes, realism: fail"), and the market as its data names it."""
    layer_title = LAYER_TITLES[layer]
    if layer != "occupancy":
        layer_title += " [dim](" + ("picked" if count_mode == "selected" else "own rule") + ")[/dim]"
    market = trust.market if trust is not None else underlying
    text = (
        f"[b]{escape(market)}[/b] {escape(short_label(strategy_label))} [dim]{strategy_no}/{strategies}[/dim]\n"
        f"x [b]{escape(grid.x_metric)}[/b]\ny [b]{escape(grid.y_metric)}[/b]\n"
        f"[dim]pair {pair_no}/{pairs}[/dim] [b]{layer_title}[/b]\n"
        + samples_text(grid, info)
    )
    if trust is not None and (layer in OUTCOME_LAYERS or trust.synthetic):
        # "model outcomes, realism: fail" is a column wider than the narrow panel: break it after the kind.
        kind, _comma, verdict = trust.label.partition(", ")
        label = f"{escape(kind)},\n{escape(verdict)}" if verdict else escape(kind)
        text += f"\n[b]{label}[/b]" if trust.synthetic else f"\n[dim]{label}[/dim]"
    return text


def samples_text(grid: PairGrid, info: dict | None) -> str:
    """How many of the underlying's samples this pair has (both metrics present)."""
    info = info or {}
    total = info.get("samples")
    line = f"samples [b]{grid.total_samples}[/b]" + (f" of {total}" if isinstance(total, int) else "")
    notes = []
    if grid.missing:
        notes.append(f"{grid.missing} lack x or y")
    if grid.outside:
        notes.append(f"{grid.outside} outside the range")
    return line + (f" [dim]({', '.join(notes)})[/dim]" if notes else "")


def no_samples_reason(grid: PairGrid, info: dict | None) -> str:
    """Why a pair has no sample: a metric the source lacks, or no sample with both."""
    info = info or {}
    absent = absent_sensors(info) or []
    lacking = [m for m in (grid.x_metric, grid.y_metric) if m in absent]
    if lacking:
        verb = "is" if len(lacking) == 1 else "are"
        return f"no samples: {' and '.join(lacking)} {verb} not in this source"
    availability = info.get("sensor_availability") or {}
    if grid.x_metric in availability and grid.y_metric in availability:
        return (f"no samples: no sample has both {grid.x_metric} ({availability[grid.x_metric]} samples) "
                f"and {grid.y_metric} ({availability[grid.y_metric]} samples)")
    return "no samples: no sample has both metrics"


def cell_text(grid: PairGrid, column: int, x: int, y: int, rank: int | None, compact: bool = False) -> str:
    """The cursor cell's ranges and counts; ``compact`` (an outcome layer, whose figures come
    first): count and pass rate on two lines."""
    count = int(grid.counts[x, y])
    selected = int(grid.selected[column, x, y])
    occupancy = float(grid.occupancy[x, y])
    pass_rate = float(grid.pass_rate[column, x, y])
    wilson = float(grid.wilson_low[column, x, y])
    avg = float(grid.avg_score[column, x, y])
    nx, ny = grid.counts.shape
    lines = [
        f"[b]cell[/b] {x + 1},{y + 1} [dim]of {nx}x{ny}[/dim]",
        f"x {fmt_num(float(grid.x_edges[x]))} .. {fmt_num(float(grid.x_edges[x + 1]))}",
        f"y {fmt_num(float(grid.y_edges[y]))} .. {fmt_num(float(grid.y_edges[y + 1]))}",
    ]
    if compact:
        lines.append(f"count {count} of {grid.total_samples} ({fmt_pct(occupancy, 1)})")
        if count:
            lines.append(f"pass {fmt_pct(pass_rate)} ({selected}/{count}) W≥{fmt_pct(wilson, 0)}")
        if rank is not None:
            lines.append(f"[b]◆ sweet spot #{rank}[/b]")
        return "\n".join(lines)
    lines += [
        f"count {count} of {grid.total_samples}",
        f"occupancy {fmt_pct(occupancy, 2)}",
    ]
    if count:
        lines += [
            f"pass rate {fmt_pct(pass_rate)} ({selected}/{count})",
            f"Wilson 95% low {fmt_pct(wilson)}",
            f"avg score {fmt_pct(avg, 0)} of criteria",
            f"sweetness {occupancy * pass_rate:.4f}",
        ]
    else:
        lines += ["pass rate - (no samples)"]
    if rank is not None:
        lines.append(f"[b]◆ sweet spot #{rank}[/b]")
    return "\n".join(lines)


def legend_text(view: GridView, palette: Palette) -> str:
    bounds = view.thresholds()

    def value(v: float) -> str:
        if view.layer == "sweetness":
            return f"{v:.2g}"
        return f"{v * 100:.2g}%" if v < 0.1 else f"{v * 100:.0f}%"

    items = [f"[{palette.levels[i]}]{SHADES[i + 1] * 2}[/] ≤{value(bounds[i]):<6}" for i in range(4)]
    shades = f"{items[0]} {items[1]}\n{items[2]} {items[3]}"
    zero = f"[{palette.empty}]·[/] 0  " if view.layer != "occupancy" else ""
    return (
        f"{shades}\n"
        f"{zero}blank: no samples\n"
        f"[{palette.sweet}]◆[/] sweet spot  [b]\\[][/b] cursor"
    )
