"""``x`` on the grid: the grid on screen as a CSV, every cell with the layer shown.

The file goes to ``<base_dir>/backtest/exports/`` (next to the results folder, never inside
it: that folder holds exactly one run's files). One row per cell (x-major, then y, as the
heatmap CSVs), empty cells included; ``value`` is the cell's value in ``layer`` and the other
columns give every layer, so a spreadsheet can redraw any of them (docs/app.md).
"""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path

import numpy as np

from backtest.heatmaps.binning import PairGrid
from greg_core.atomic_io import write_text_atomic

GRID_CSV_HEADER: tuple[str, ...] = (
    "underlying", "strategy_key", "strategy", "x_metric", "y_metric", "layer", "count_mode",
    "x_bin", "y_bin", "x_low", "x_high", "y_low", "y_high",
    "count", "pair_samples", "selected_count", "occupancy_frac", "strategy_pass_frac", "wilson_low",
    "avg_score", "sweetness", "value", "sweet_spot_rank",
)


def exports_dir_for(output_dir: Path) -> Path:
    return Path(output_dir).parent / "exports"


def grid_csv_name(underlying: str, strategy_key: str, x_metric: str, y_metric: str, layer: str) -> str:
    return f"grid_{underlying}_{strategy_key}_{x_metric}_vs_{y_metric}_{layer}.csv"


def _number(value: float) -> str:
    return "" if not math.isfinite(value) else repr(float(value))


def grid_csv_text(grid: PairGrid, column: int, *, underlying: str, strategy_key: str, strategy_label: str,
                  layer: str, count_mode: str, sweet: dict[tuple[int, int], int]) -> str:
    layers = {
        "occupancy": grid.occupancy,
        "pass": grid.pass_rate[column],
        "sweetness": grid.sweetness[column],
    }
    values = layers[layer]
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
            ))
    return stream.getvalue()


def write_grid_csv(output_dir: Path, grid: PairGrid, column: int, *, underlying: str, strategy_key: str,
                   strategy_label: str, layer: str, count_mode: str, sweet: dict[tuple[int, int], int]) -> Path:
    """Write the CSV (atomically) and return its path."""
    path = exports_dir_for(output_dir) / grid_csv_name(underlying, strategy_key, grid.x_metric, grid.y_metric, layer)
    text = grid_csv_text(grid, column, underlying=underlying, strategy_key=strategy_key,
                         strategy_label=strategy_label, layer=layer, count_mode=count_mode, sweet=sweet)
    return write_text_atomic(path, text)
