"""The requests' heatmap API over the vectorized core: cells, strategy cells, CSV.

The functions and dataclasses keep the requested names and signatures (re-exported by the
front module ``backtest.environment_heatmap``); underneath they convert the samples to arrays
once and call ``backtest.heatmaps.binning`` for the binning and
``backtest.selector.evaluate.evaluate_frame`` for the decisions (docs/heatmaps.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from backtest.heatmaps.binning import PairGrid, compute_pair_grid
from backtest.heatmaps.options import CountMode, parse_count_mode, validate_metric
from backtest.selector.evaluate import evaluate_frame, parse_missing_policy, resolve_strategy
from backtest.sensors.sources import SYNTHETIC, load_sensor_data
from greg_core.atomic_io import write_text_atomic
from greg_core.contract import SENSOR_NAMES

MetricSample = dict[str, float]
CSV_HEADER = ("underlying", "x_metric", "y_metric", "x_low", "x_high", "y_low", "y_high", "count", "occupancy_frac")


@dataclass
class HeatmapCell:
    x_low: float
    x_high: float
    y_low: float
    y_high: float
    count: int
    occupancy_frac: float  # count / total_samples


@dataclass
class StrategyHeatmapCell(HeatmapCell):
    total_samples_in_cell: int
    strategy_selected_count: int
    strategy_pass_frac: float  # strategy_selected_count / total_samples_in_cell if > 0 else 0.0
    avg_score: float | None = None


def load_metric_samples_for_underlying(
    underlying: str,
    lookback_days: int | None = None,
    source: str = SYNTHETIC,
) -> Iterator[MetricSample]:
    """Yield one sensor dict per bar for ``underlying`` (synthetic universe by default).

    Missing sensors are ``None``. The vectorized engine reads the same data as a DataFrame
    through ``backtest.sensors.sources.load_sensor_data``.
    """
    frame = load_sensor_data(underlying, source, lookback_days).sensors[list(SENSOR_NAMES)]
    for row in frame.itertuples(index=False):
        yield {name: (None if value != value else float(value)) for name, value in zip(SENSOR_NAMES, row, strict=True)}


def samples_to_frame(samples: Iterable[MetricSample] | pd.DataFrame) -> pd.DataFrame:
    """A float frame of the sensor columns (absent keys and None become NaN)."""
    if isinstance(samples, pd.DataFrame):
        frame = samples.reset_index(drop=True)  # rows are positional (a sensor frame is time-indexed)
    else:
        frame = pd.DataFrame.from_records(list(samples))
    columns = {name: pd.to_numeric(frame[name], errors="coerce") if name in frame.columns else np.nan for name in SENSOR_NAMES}
    return pd.DataFrame(columns, index=range(len(frame))).astype("float64")


def grid_cells(grid: PairGrid, strategy: int | None = None) -> list[HeatmapCell] | list[StrategyHeatmapCell]:
    """The flat cell list (x-major, then y), every cell present, empty ones too."""
    occupancy = grid.occupancy
    pass_rate = grid.pass_rate
    avg_score = grid.avg_score
    x_bins, y_bins = grid.shape
    cells: list = []
    for ix in range(x_bins):
        for iy in range(y_bins):
            base = dict(
                x_low=float(grid.x_edges[ix]),
                x_high=float(grid.x_edges[ix + 1]),
                y_low=float(grid.y_edges[iy]),
                y_high=float(grid.y_edges[iy + 1]),
                count=int(grid.counts[ix, iy]),
                occupancy_frac=float(occupancy[ix, iy]),
            )
            if strategy is None:
                cells.append(HeatmapCell(**base))
            else:
                score = avg_score[strategy, ix, iy]
                cells.append(
                    StrategyHeatmapCell(
                        **base,
                        total_samples_in_cell=base["count"],
                        strategy_selected_count=int(grid.selected[strategy, ix, iy]),
                        strategy_pass_frac=float(pass_rate[strategy, ix, iy]),
                        avg_score=None if np.isnan(score) else float(score),
                    )
                )
    return cells


def compute_environment_heatmap(
    samples: Iterable[MetricSample],
    x_metric: str,
    y_metric: str,
    x_bins: int = 20,
    y_bins: int = 20,
    x_range: tuple[float, float] | None = None,
    y_range: tuple[float, float] | None = None,
) -> list[HeatmapCell]:
    """Build a 2D occupancy histogram for (x_metric, y_metric), independent of any strategy.

    Samples missing either metric are skipped; without an explicit range the data's range is
    widened by 5% on each side. Returns every cell with its count and occupancy_frac.
    """
    validate_metric(x_metric)
    validate_metric(y_metric)
    frame = samples_to_frame(samples)
    no_strategies = np.zeros((len(frame), 0))
    grid = compute_pair_grid(
        frame[x_metric].to_numpy(), frame[y_metric].to_numpy(), no_strategies.astype(bool), no_strategies,
        x_bins, y_bins, x_range, y_range, x_metric, y_metric,
    )
    return grid_cells(grid)


def compute_strategy_heatmap_for_pair(
    samples: Iterable[MetricSample],
    x_metric: str,
    y_metric: str,
    strategy_name: str,
    underlying: str,
    x_bins: int = 20,
    y_bins: int = 20,
    x_range: tuple[float, float] | None = None,
    y_range: tuple[float, float] | None = None,
    *,
    policy: str = "strict",
    count_mode: CountMode = "selected",
) -> list[StrategyHeatmapCell]:
    """Per cell: occupancy (environment only) and how often Greg selects ``strategy_name``
    (key or label) there. ``count_mode="passes"`` counts the strategy's own condition instead,
    whatever earlier waterfall steps decided. ``underlying`` is recorded by callers; Greg's
    rules are the same for every underlying.
    """
    validate_metric(x_metric)
    validate_metric(y_metric)
    key = resolve_strategy(strategy_name)
    parse_count_mode(count_mode)
    frame = samples_to_frame(samples)
    decisions = evaluate_frame(frame, policy=parse_missing_policy(policy))
    column = decisions.strategy_keys.index(key)
    counted = (decisions.selected == column) if count_mode == "selected" else decisions.passes[:, column]
    grid = compute_pair_grid(
        frame[x_metric].to_numpy(), frame[y_metric].to_numpy(),
        np.asarray(counted, dtype=bool)[:, None], decisions.scores[:, [column]],
        x_bins, y_bins, x_range, y_range, x_metric, y_metric,
    )
    return grid_cells(grid, strategy=0)


def _csv_text(underlying: str, x_metric: str, y_metric: str, rows: Iterable[tuple[str, ...]]) -> str:
    """The requested CSV: the header, then one row per cell from its already formatted
    (x_low, x_high, y_low, y_high, count, occupancy_frac) texts; floats as Python's repr."""
    prefix = f"{underlying},{x_metric},{y_metric},"
    return _with_header([prefix + ",".join(row) for row in rows])


def _with_header(lines: list[str]) -> str:
    """The CSV text: the requested header, then ``lines`` (each a whole row)."""
    return "\n".join([",".join(CSV_HEADER), *lines]) + "\n"


def heatmap_csv_text(cells: list[HeatmapCell], x_metric: str, y_metric: str, underlying: str) -> str:
    """The CSV text of a flat cell list (``save_heatmap_csv``)."""
    rows = (
        (repr(c.x_low), repr(c.x_high), repr(c.y_low), repr(c.y_high), str(c.count), repr(c.occupancy_frac))
        for c in cells
    )
    return _csv_text(underlying, x_metric, y_metric, rows)


def grid_csv_text(grid: PairGrid, underlying: str) -> str:
    """The same text as ``heatmap_csv_text(grid_cells(grid), ...)`` straight from the arrays
    (x-major, then y, every cell), what a sweep writes for each pair. Each edge is formatted
    once, and each occupancy once per distinct count (occupancy is count / total).

    A pair without a single sample (a sensor the source lacks) is the header alone: its bins
    would be made up (0..1 by default), and a grid of zeros would read as "never there"."""
    if grid.total_samples == 0:
        return _csv_text(underlying, grid.x_metric, grid.y_metric, ())
    x_text = [repr(edge) for edge in grid.x_edges.tolist()]
    y_text = [repr(edge) for edge in grid.y_edges.tolist()]
    counts = grid.counts.tolist()
    total = grid.total_samples
    # A row is (x bin part)(y bin part)(count part): each part is built once and joined per cell.
    prefix = f"{underlying},{grid.x_metric},{grid.y_metric},"
    x_parts = [f"{prefix}{low},{high}," for low, high in zip(x_text[:-1], x_text[1:], strict=True)]
    y_parts = [f"{low},{high}," for low, high in zip(y_text[:-1], y_text[1:], strict=True)]
    count_parts = {n: f"{n},{n / total!r}" for n in {n for column in counts for n in column}}
    lines: list[str] = []
    for x_part, column in zip(x_parts, counts, strict=True):
        lines.extend([x_part + y_part + count_parts[n] for y_part, n in zip(y_parts, column, strict=True)])
    return _with_header(lines)


def save_heatmap_csv(
    cells: list[HeatmapCell],
    output_path: Path,
    x_metric: str,
    y_metric: str,
    underlying: str,
) -> None:
    """Save a heatmap grid to CSV with headers:
    underlying, x_metric, y_metric, x_low, x_high, y_low, y_high, count, occupancy_frac
    (written to a temp file, then renamed)."""
    write_text_atomic(Path(output_path), heatmap_csv_text(cells, x_metric, y_metric, underlying))
