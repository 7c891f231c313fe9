"""The grid's outcome layers: the values drawn per cell, the cursor cell's outcome figures and
the diverging legend (docs/app.md "2 Grid", docs/outcomes.md "Per cell").

Pure functions of a ``CellOutcomes`` (``StoredSweep.cell_outcomes``), tested without a
terminal. A layer shows one measure on the selected strategy's days: ``edge`` (edge_{H}d,
vol points) or ``pnl`` (the strategy's own structure held to expiry, % of entry spot).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from backtest.heatmaps.outcome_cells import NO_TRADE_GROUP, CellOutcomes
from greg_core.formatting import fmt_interval, fmt_pct, fmt_signed
from greg_tui.outcome_labels import THIN_MARK, UNITS
from greg_tui.widgets.grid.heatmap import SHADES, GridView, Palette

SCALE_QUANTILE = 0.95  # the fullest shade: this quantile of |mean| over the cells shown
DATE_LINES = 2  # entry dates shown before "+N more"


@dataclass(frozen=True)
class OutcomeLayer:
    """What an outcome layer draws for one strategy: per cell the mean, which cells have an
    outcome, which are thin, and the size drawn with the fullest shade."""

    values: np.ndarray  # (nx, ny) mean, NaN where no outcome
    present: np.ndarray  # (nx, ny) bool
    thin: np.ndarray  # (nx, ny) bool
    scale_max: float


def outcome_layer(cells: CellOutcomes, group: str, min_episodes: int) -> OutcomeLayer:
    """The layer of ``group`` (a strategy key): a symmetric scale, the 95th percentile of
    |mean| over the cells with an outcome (so one extreme thin cell does not wash out the
    rest; beyond it the shade stays full)."""
    index = cells.group_index(group)
    present = cells.n[index] > 0
    values = cells.mean[index]  # NaN where the cell has no outcome
    sizes = np.abs(values[present])
    scale = float(np.quantile(sizes, SCALE_QUANTILE)) if sizes.size else 0.0
    if scale <= 0 and sizes.size:
        scale = float(sizes.max())
    return OutcomeLayer(values, present, cells.thin(min_episodes)[index] & present, scale)


def has_group(cells: CellOutcomes | None, group: str) -> bool:
    return cells is not None and group in cells.groups


def _dates(times: np.ndarray, width: int, first: str = "began") -> list[str]:
    """``first`` and the entry dates filled into at most ``DATE_LINES`` lines of ``width``;
    the dates that do not fit become "+N more"."""
    dates = [str(t) for t in times.astype("datetime64[D]")]
    for shown in range(len(dates), -1, -1):
        tokens = [first, *dates[:shown]] + ([f"+{len(dates) - shown} more"] if shown < len(dates) else [])
        lines = [tokens[0]]
        for token in tokens[1:]:
            if len(lines[-1]) + 1 + len(token) <= width:
                lines[-1] += " " + token
            else:
                lines.append(token)
        if len(lines) <= DATE_LINES:
            return lines
    return [f"{first} {len(dates)} dates"]


def outcome_text(cells: CellOutcomes | None, group: str, x: int, y: int, *, kind: str, min_episodes: int,
                 horizon_days: int, width: int = 28) -> str:
    """The cursor cell's figures for ``group``'s days (markup): n, episodes, mean with its
    95% Newey-West interval, median, hit rate, p10, worst; the cell's NO_TRADE days and the
    difference (the edge); when the episodes began."""
    unit = UNITS[kind]
    held = f"{horizon_days}d" if kind == "edge" else "to expiry"
    title = "Forward edge" if kind == "edge" else "Structure P&L"
    head = f"[b]{title}[/b] [dim]{unit}, {held}[/dim]"
    if not has_group(cells, group):
        return head + "\nnot in these results (this strategy has no " + ("outcomes" if kind == "edge" else "structure") + ")"
    g = cells.group_index(group)
    n, episodes = int(cells.n[g, x, y]), int(cells.episodes[g, x, y])
    if n == 0:
        lines = [head, "no day of this strategy here has an outcome"]
    else:
        thin = bool(cells.thin(min_episodes)[g, x, y])
        se = float(cells.se[g, x, y])
        interval = fmt_interval(cells.ci_low[g, x, y], cells.ci_high[g, x, y],
                                missing="(one episode: no interval)" if np.isnan(se) else "no interval")
        lines = [
            head,
            f"n {n} days, {episodes} episode{'s' if episodes != 1 else ''}"
            + (f" [b]{THIN_MARK}thin[/b]" if thin else ""),
            f"mean [b]{fmt_signed(cells.mean[g, x, y])}[/b] {interval}",
            "[dim]  95% interval, Newey-West[/dim]",
            f"median {fmt_signed(cells.median[g, x, y])}  hit {fmt_pct(cells.hit_rate[g, x, y], 0)}",
            f"p10 {fmt_signed(cells.p10[g, x, y])}  worst {fmt_signed(cells.worst[g, x, y])}",
        ]
        if thin:
            lines.append(f"[dim]thin: fewer than {min_episodes} episodes[/dim]")
    if kind == "edge" and NO_TRADE_GROUP in cells.groups:
        r = cells.group_index(NO_TRADE_GROUP)
        n_none = int(cells.n[r, x, y])
        if n_none:
            lines.append(f"no-trade days {fmt_signed(cells.mean[r, x, y])} ({n_none})")
            if n:
                lines.append(f"difference {fmt_signed(cells.mean[g, x, y] - cells.mean[r, x, y])}")
        else:
            lines.append("no no-trade day here")
    if n:
        times = cells.entry_times(group, x, y)
        if len(times):
            lines += _dates(times, width)
    return "\n".join(lines)


def outcome_legend(view: GridView, palette: Palette, *, kind: str, horizon_days: int, min_episodes: int) -> str:
    """The measure, its unit and horizon, the signed shade levels and the marks."""
    if kind == "edge":
        what = (f"[b]cell[/b]: mean [b]edge_{horizon_days}d[/b] of the strategy's days, vol pts "
                f"(iv_30d minus the vol realized over the next {horizon_days} days)")
    else:
        what = ("[b]cell[/b]: mean [b]P&L[/b] of the strategy's structure, % of entry spot, short premium "
                "positive, held to expiry unhedged")
    bounds = [view.scale_max * k / 4 for k in (0, 1, 2, 3)]  # lower edge of each level 1..4

    def item(level: int, sign: int) -> str:
        colour = palette.signed_colour(sign * level, False)
        edge = bounds[level - 1]
        text = ("<0" if sign < 0 else ">0") if level == 1 else ("<" if sign < 0 else ">") + fmt_signed(sign * edge,
                                                                                                       _digits(edge))
        return f"[{colour}]{SHADES[level] * 2}[/]{text}"

    losses = " ".join(item(level, -1) for level in (4, 3, 2, 1))
    gains = " ".join(item(level, 1) for level in (1, 2, 3, 4))
    return (
        f"{what}\n{losses}\n{gains}\n"
        f"[{palette.thin[1]}]▒{THIN_MARK}[/] thin: < {min_episodes} episodes\n"
        f"[{palette.sweet}]◆[/] sweet spot  blank: none"
    )


def _digits(value: float) -> int:
    return 0 if abs(value) >= 10 else 1 if abs(value) >= 1 else 2


def outcome_summary_line(cells: CellOutcomes | None, group: str, x: int, y: int, min_episodes: int) -> str | None:
    """One line for the other layers: the cell's mean edge on the strategy's days."""
    if not has_group(cells, group):
        return None
    g = cells.group_index(group)
    n = int(cells.n[g, x, y])
    if n == 0:
        return "[dim]edge: no outcome here (e: edge layer)[/dim]"
    episodes = int(cells.episodes[g, x, y])
    mark = THIN_MARK if cells.thin(min_episodes)[g, x, y] else ""
    return f"edge {fmt_signed(cells.mean[g, x, y])}{mark} vol pts, {episodes} ep [dim](e)[/dim]"

