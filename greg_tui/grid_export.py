"""``x`` on the grid: the grid on screen as a CSV, every cell with the layer shown.

The file goes to ``<base_dir>/backtest/exports/`` (next to the results folder, never inside
it: that folder holds exactly one run's files). One row per cell (x-major, then y, as the
heatmap CSVs), empty cells included; ``value`` is the cell's value in ``layer`` and the other
columns give every layer, so a spreadsheet can redraw any of them (docs/app.md). The forward
outcomes of the strategy's days in the cell (``edge_*``: edge_{H}d in vol points, with the
cell's NO_TRADE days; ``pnl_*``: the strategy's structure, % of entry spot) are blank where
the cell has none or the run has no outcomes.
"""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path

import numpy as np

from backtest.heatmaps.binning import PairGrid
from backtest.heatmaps.outcome_cells import NO_TRADE_GROUP, CellOutcomes
from greg_core.atomic_io import write_text_atomic
from greg_core.contract import DEFAULT_MIN_EPISODES
from greg_tui.widgets.grid.outcomes import has_group

# Per outcome measure: the cell's figures on the strategy's days (docs/outcomes.md "Per cell").
_MEASURE_FIELDS = ("n", "episodes", "mean", "ci_low", "ci_high", "median", "hit_rate", "p10", "worst", "thin")
OUTCOME_FIELDS: tuple[str, ...] = (
    *(f"edge_{name}" for name in _MEASURE_FIELDS), "no_trade_n", "no_trade_mean",
    *(f"pnl_{name}" for name in _MEASURE_FIELDS),
)

GRID_CSV_HEADER: tuple[str, ...] = (
    "underlying", "strategy_key", "strategy", "x_metric", "y_metric", "layer", "count_mode",
    "x_bin", "y_bin", "x_low", "x_high", "y_low", "y_high",
    "count", "pair_samples", "selected_count", "occupancy_frac", "strategy_pass_frac", "wilson_low",
    "avg_score", "sweetness", "value", "sweet_spot_rank",
    *OUTCOME_FIELDS,
)


def exports_dir_for(output_dir: Path) -> Path:
    return Path(output_dir).parent / "exports"


def grid_csv_name(underlying: str, strategy_key: str, x_metric: str, y_metric: str, layer: str) -> str:
    return f"grid_{underlying}_{strategy_key}_{x_metric}_vs_{y_metric}_{layer}.csv"


def _number(value: float) -> str:
    return "" if not math.isfinite(value) else repr(float(value))


def _measure_cells(cells: CellOutcomes | None, group: str, min_episodes: int, x: int, y: int) -> list[str]:
    if not has_group(cells, group):
        return [""] * len(_MEASURE_FIELDS)
    g = cells.group_index(group)
    if cells.n[g, x, y] == 0:
        return ["0", "0"] + [""] * (len(_MEASURE_FIELDS) - 2)
    values = [str(int(cells.n[g, x, y])), str(int(cells.episodes[g, x, y]))]
    values += [_number(float(getattr(cells, name)[g, x, y])) for name in _MEASURE_FIELDS[2:-1]]
    values.append("1" if cells.thin(min_episodes)[g, x, y] else "0")
    return values


def _outcome_cells(edge: CellOutcomes | None, pnl: CellOutcomes | None, group: str, min_episodes: int,
                   x: int, y: int) -> list[str]:
    no_trade = ["", ""]
    if edge is not None and NO_TRADE_GROUP in edge.groups:
        r = edge.group_index(NO_TRADE_GROUP)
        n = int(edge.n[r, x, y])
        no_trade = [str(n), _number(float(edge.mean[r, x, y])) if n else ""]
    return [*_measure_cells(edge, group, min_episodes, x, y), *no_trade,
            *_measure_cells(pnl, group, min_episodes, x, y)]


def _layer_values(grid: PairGrid, column: int, layer: str, edge: CellOutcomes | None, pnl: CellOutcomes | None,
                  group: str) -> np.ndarray:
    if layer in ("edge", "pnl"):
        cells = edge if layer == "edge" else pnl
        if not has_group(cells, group):
            return np.full(grid.shape, np.nan)
        return cells.mean[cells.group_index(group)]  # NaN where the cell has no outcome
    return {"occupancy": grid.occupancy, "pass": grid.pass_rate[column], "sweetness": grid.sweetness[column]}[layer]


def grid_csv_text(grid: PairGrid, column: int, *, underlying: str, strategy_key: str, strategy_label: str,
                  layer: str, count_mode: str, sweet: dict[tuple[int, int], int], edge: CellOutcomes | None = None,
                  pnl: CellOutcomes | None = None, min_episodes: int = DEFAULT_MIN_EPISODES) -> str:
    """The CSV text; ``edge`` / ``pnl``: the pair's outcomes per cell (None: blank columns)."""
    values = _layer_values(grid, column, layer, edge, pnl, strategy_key)
    stream = io.StringIO()
    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow(GRID_CSV_HEADER)
    nx, ny = grid.shape
    for x in range(nx):
        for y in range(ny):
            count = int(grid.counts[x, y])
            writer.writerow((
                underlying, strategy_key, strategy_label, grid.x_metric, grid.y_metric, layer, count_mode,
                x, y, _number(grid.x_edges[x]), _number(grid.x_edges[x + 1]),
                _number(grid.y_edges[y]), _number(grid.y_edges[y + 1]),
                count, grid.total_samples, int(grid.selected[column, x, y]),
                _number(grid.occupancy[x, y]), _number(grid.pass_rate[column, x, y]),
                _number(grid.wilson_low[column, x, y]) if count else "",
                _number(grid.avg_score[column, x, y]) if count else "",
                _number(grid.sweetness[column, x, y]), _number(float(np.asarray(values)[x, y])),
                sweet.get((x, y), ""),
                *_outcome_cells(edge, pnl, strategy_key, min_episodes, x, y),
            ))
    return stream.getvalue()


def write_grid_csv(output_dir: Path, grid: PairGrid, column: int, *, underlying: str, strategy_key: str,
                   strategy_label: str, layer: str, count_mode: str, sweet: dict[tuple[int, int], int],
                   edge: CellOutcomes | None = None, pnl: CellOutcomes | None = None, min_episodes: int = DEFAULT_MIN_EPISODES) -> Path:
    """Write the CSV (atomically) and return its path."""
    path = exports_dir_for(output_dir) / grid_csv_name(underlying, strategy_key, grid.x_metric, grid.y_metric, layer)
    text = grid_csv_text(grid, column, underlying=underlying, strategy_key=strategy_key,
                         strategy_label=strategy_label, layer=layer, count_mode=count_mode, sweet=sweet,
                         edge=edge, pnl=pnl, min_episodes=min_episodes)
    return write_text_atomic(path, text)
