"""What the series screen draws from a loaded span: the series (a sensor, or an outcome), the
marks (a strategy's trade days, or the synthetic regime), the grid cell's days, and the
lines that explain them.

The grid cell is the grid area's: its underlying, pair and cursor cell, read from the grid
screen's public state (``grid_target``), its bin edges from the stored results
(``StoredSweep.grid``). A day is in the cell when its two sensors fall in the cell's bins by
the engine's own rule (``backtest.heatmaps.binning.bin_index``). Marks and cell days come
from sensors and decisions only; outcomes are drawn only as the series itself, labelled as
outcomes (docs/app.md "6 Series").
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from rich.text import Text
from textual.css.query import NoMatches

from backtest.heatmaps.binning import bin_index
from backtest.outcomes.structures import hedged_pnl_column, pnl_column
from greg_core.contract import SENSOR_INFO, SENSOR_NAMES
from greg_core.errors import SweepResultsError
from greg_core.formatting import fmt_num, fmt_range
from greg_tui.areas import GridTarget
from greg_tui.outcome_labels import UNITS
from greg_tui.widgets.selector.span import REGIME_COLUMN, MarketSpan
from greg_tui.widgets.sweetspots.rows import short_label
from greg_tui.widgets.timeseries.axes import epoch_seconds
from greg_tui.widgets.timeseries.layout import SeriesView

EDGE, PNL, HEDGED = "edge", "pnl", "pnl_hedged"  # the outcome series, after the sensors
SERIES: tuple[str, ...] = (*SENSOR_NAMES, EDGE, PNL, HEDGED)
TRADES, REGIME, NONE = "trades", "regime", "none"
MARKINGS: tuple[str, ...] = (TRADES, REGIME, NONE)


def is_outcome(series: str) -> bool:
    return series in (EDGE, PNL, HEDGED)


def outcome_days(span: MarketSpan, series: str, strategy_key: str) -> int:
    """The days after entry an outcome series needs: H for the edge, the structure's holding."""
    return span.horizon_days if series == EDGE else span.holding_days(strategy_key)


def series_column(span: MarketSpan, series: str, strategy_key: str) -> str:
    """The frame column of a series: a sensor, ``edge_{H}d``, ``pnl_{KEY}``, ``pnl_hedged_{KEY}``."""
    if series == EDGE:
        return span.edge_column
    if series == PNL:
        return pnl_column(strategy_key)
    if series == HEDGED:
        return hedged_pnl_column(strategy_key)
    return series


def series_unit(series: str) -> str:
    if series == EDGE:
        return UNITS["edge"]
    if series in (PNL, HEDGED):
        return UNITS["pnl"]
    info = SENSOR_INFO.get(series)
    return info.unit if info else ""


def series_values(span: MarketSpan, series: str, strategy_key: str) -> np.ndarray:
    column = series_column(span, series, strategy_key)
    frame = span.outcomes if is_outcome(series) else span.sensors
    if column not in frame.columns:
        return np.full(len(frame), np.nan)
    return frame[column].to_numpy(dtype=float)


def strategy_label(span: MarketSpan, key: str) -> str:
    keys = span.strategy_keys
    return short_label(span.strategy_labels[keys.index(key)]) if key in keys else key


def trade_days(span: MarketSpan, policy: str, strategy_key: str) -> np.ndarray:
    """True on the days Greg selects ``strategy_key`` (the waterfall's pick) under ``policy``."""
    decisions = span.decisions[policy]
    return decisions.selected == decisions.outcome_code(strategy_key)


def regime_ids(span: MarketSpan) -> np.ndarray:
    """The synthetic regime of each day (-1: none)."""
    values = span.sensors[REGIME_COLUMN].to_numpy(dtype=float)
    return np.where(np.isfinite(values), values, -1).astype(np.int64)


# ----------------------------------------------------------------------------- the grid cell


def grid_target(app) -> GridTarget | None:
    """The grid area's current underlying, strategy, pair and cursor cell, read from its
    screen's public reactives and its heatmap's cursor (None before the grid was shown, or
    without results)."""
    from greg_tui.screens.grid import GridScreen
    from greg_tui.widgets.grid.heatmap import Heatmap

    results = app.results
    try:
        stack = app.get_screen_stack("grid")
    except KeyError:
        return None
    screen = next((s for s in stack if isinstance(s, GridScreen)), None)
    if screen is None or results is None or not screen.underlying or not 0 <= screen.pair_index < len(results.pairs):
        return None
    try:
        heatmap = screen.query_one(Heatmap)
    except NoMatches:
        return None
    if heatmap.view is None:  # nothing drawn: no cell under the cursor
        return None
    x, y = heatmap.cursor
    return GridTarget(underlying=screen.underlying, strategy_key=screen.strategy_key,
                      pair=results.pairs[screen.pair_index], cell=(int(x), int(y)))


@dataclass(frozen=True, eq=False)
class CellDays:
    """The grid cell's days in the span (``days``: per day), its ranges, and how many samples
    the stored grid holds there (its own data: the results')."""

    target: GridTarget
    x_metric: str
    y_metric: str
    x_range: tuple[float, float]
    y_range: tuple[float, float]
    days: np.ndarray | None  # None: the cell is another underlying's
    grid_count: int
    results_source: str

    @property
    def count(self) -> int:
        return int(self.days.sum()) if self.days is not None else 0

    def band(self, series: str) -> tuple[float, float] | None:
        """The cell's range of ``series`` when it is one of the cell's sensors."""
        if series == self.x_metric:
            return self.x_range
        if series == self.y_metric:
            return self.y_range
        return None

    def describe(self) -> str:
        return (f"{self.x_metric} {fmt_range(*self.x_range)} x {self.y_metric} {fmt_range(*self.y_range)}")


def cell_days(span: MarketSpan, results, target: GridTarget | None) -> CellDays | None:
    """The days of ``span`` in the grid cell ``target`` (None: no cell, or no stored grid)."""
    if results is None or target is None or target.pair is None or target.cell is None or not target.underlying:
        return None
    try:
        grid = results.grid(target.underlying, *target.pair)
    except SweepResultsError:
        return None
    x, y = target.cell
    if not (0 <= x < len(grid.x_edges) - 1 and 0 <= y < len(grid.y_edges) - 1):
        return None
    days = None
    if target.underlying == span.key.underlying:
        sensors = span.sensors
        columns = [sensors[m].to_numpy(dtype=float) if m in sensors.columns else np.full(len(sensors), np.nan)
                   for m in (grid.x_metric, grid.y_metric)]
        days = (bin_index(columns[0], grid.x_edges) == x) & (bin_index(columns[1], grid.y_edges) == y)
    source = str((results.manifest.get("parameters") or {}).get("source", "?"))
    return CellDays(
        target, grid.x_metric, grid.y_metric,
        (float(grid.x_edges[x]), float(grid.x_edges[x + 1])), (float(grid.y_edges[y]), float(grid.y_edges[y + 1])),
        days, int(grid.counts[x, y]), source,
    )


# ----------------------------------------------------------------------------- the view


def build_view(span: MarketSpan, series: str, strategy_key: str, policy: str, marking: str,
               cell: CellDays | None) -> SeriesView:
    """The plot's data. Trade days and regimes come from decisions and the regime column,
    the cell's days from sensors: none of them reads an outcome."""
    marks, mark_name, regimes = None, "", False
    if marking == TRADES:
        marks = np.where(trade_days(span, policy, strategy_key), 0, -1)
        mark_name = "trades"
    elif marking == REGIME and span.has_regimes():
        marks, mark_name, regimes = regime_ids(span), "regime", True
    highlight = cell.days if cell is not None else None
    return SeriesView(
        title=series_column(span, series, strategy_key),
        unit=series_unit(series),
        times=epoch_seconds(span.sensors.index),
        values=series_values(span, series, strategy_key),
        marks=marks,
        mark_name=mark_name,
        regimes=regimes,
        highlight=highlight,
        band=cell.band(series) if cell is not None and highlight is not None else None,
    )


def series_title(span: MarketSpan, series: str, strategy_key: str) -> Text:
    """The series and its unit; an outcome says it is one, over which days, and its trust."""
    text = Text()
    column = series_column(span, series, strategy_key)
    text.append(column, style="bold")
    text.append(f" ({series_unit(series)})")
    horizon = span.horizon_days
    if series == EDGE:
        text.append(f"  OUTCOME: iv_30d minus the vol realized over the {horizon} days after each day", style="italic")
    elif series in (PNL, HEDGED):
        how = "delta-hedged daily" if series == HEDGED else "unhedged"
        days = outcome_days(span, series, strategy_key)
        text.append(f"  OUTCOME: {strategy_label(span, strategy_key)} opened each day, {how}, closed {days} days later",
                    style="italic")
    else:
        info = SENSOR_INFO.get(series)
        if info is not None:
            text.append(f"  {info.description}", style="dim")
    if is_outcome(series):
        text.append(f"; {span.trust.label}; the last {outcome_days(span, series, strategy_key)} days are not known yet",
                    style="italic")
    return text


def legend_text(span: MarketSpan, view: SeriesView, strategy_key: str, policy: str, marking: str,
                cell: CellDays | None, has_results: bool) -> Text:
    """What the strips under the plot mean, with their counts."""
    text = Text()
    if view.marks is not None and not view.regimes:
        days = int((view.marks >= 0).sum())
        text.append("▁▄█ trades", style="bold")
        text.append(f": {strategy_label(span, strategy_key)} selected on {days} of {view.n} days (policy {policy})")
    elif view.regimes:
        counts = np.bincount(view.marks[view.marks >= 0]) if (view.marks >= 0).any() else np.array([])
        text.append("0-9 regime", style="bold")
        text.append(": the synthetic universe's regime (most days in each column); "
                    + ", ".join(f"{k}: {n} days" for k, n in enumerate(counts) if n))
    elif marking == REGIME:
        text.append("no regimes: only the synthetic source has them", style="dim")
    else:
        text.append("no marks (m)", style="dim")
    text.append("\n")
    if cell is None:
        text.append("no grid cell: " + ("put the grid's cursor on a cell (2)" if has_results
                                         else "run a scan (r), then pick a cell on the grid (2)"), style="dim")
    elif cell.days is None:
        text.append(f"grid cell {cell.describe()} is {cell.target.underlying}'s; this is {span.key.underlying}",
                    style="dim")
    else:
        text.append("▁▄█ cell", style="bold")
        text.append(f": grid cell {cell.describe()}: {cell.count} days here (the grid's {cell.results_source} "
                    f"results: {cell.grid_count} samples)")
    return text


def cursor_text(span: MarketSpan, view: SeriesView, row: int, series: str, strategy_key: str,
                cell: CellDays | None) -> Text:
    """The day under the cursor: its value, whether it is a trade day and in the cell."""
    stamp = span.sensors.index[row]
    value = view.values[row]
    text = Text()
    text.append(f"▲ {stamp:%Y-%m-%d}", style="bold")
    text.append(f" (day {row + 1}/{view.n}): {view.title} ")
    if np.isfinite(value):
        text.append(f"{fmt_num(float(value))} {view.unit}", style="bold")
    elif is_outcome(series) and not span.known(row, outcome_days(span, series, strategy_key)):
        text.append("not known yet", style="bold")
    else:
        text.append("missing", style="italic")
    if view.marks is not None and view.marks[row] >= 0:
        text.append(f"; regime {view.marks[row]}" if view.regimes else f"; {strategy_label(span, strategy_key)} selected")
    if cell is not None and cell.days is not None and cell.days[row]:
        text.append("; in the cell")
    text.append("  (⏎ selector)", style="dim")
    return text
