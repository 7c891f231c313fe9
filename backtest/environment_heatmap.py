"""Front module for the heatmap API the requests name (docs/heatmaps.md).

The code lives in ``backtest.heatmaps.cells`` (cells, CSV, samples) and
``backtest.selector.evaluate`` (the per-sample decision); this module re-exports the
requested names.
"""

from backtest.heatmaps.cells import (
    HeatmapCell,
    MetricSample,
    StrategyHeatmapCell,
    compute_environment_heatmap,
    compute_strategy_heatmap_for_pair,
    load_metric_samples_for_underlying,
    save_heatmap_csv,
)
from backtest.selector.evaluate import GregDecision, evaluate_greg_strategy_for_sample

__all__ = [
    "GregDecision",
    "HeatmapCell",
    "MetricSample",
    "StrategyHeatmapCell",
    "compute_environment_heatmap",
    "compute_strategy_heatmap_for_pair",
    "evaluate_greg_strategy_for_sample",
    "load_metric_samples_for_underlying",
    "save_heatmap_csv",
]
