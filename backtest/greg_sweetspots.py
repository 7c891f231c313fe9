"""Front module for the sweet-spot sweep the requests name (docs/heatmaps.md).

``run_greg_sweetspot_sweep`` lives in ``backtest.heatmaps.run`` and the defaults in
``backtest.heatmaps.options``; both are re-exported here under the requested names.
"""

from backtest.heatmaps.options import DEFAULT_METRICS, DEFAULT_STRATEGIES, DEFAULT_UNDERLYINGS
from backtest.heatmaps.run import run_greg_sweetspot_sweep

__all__ = ["DEFAULT_METRICS", "DEFAULT_STRATEGIES", "DEFAULT_UNDERLYINGS", "run_greg_sweetspot_sweep"]
