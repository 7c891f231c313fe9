"""Front module for the real-data loaders the requests name (docs/data-sources.md).

The code lives in ``backtest.data``: ``csv_history`` (daily bars + daily IV CSVs),
``chain`` (harvested Deribit option-chain snapshots), ``vol_history`` (hourly DVOL) and
``real_frame`` (all of them merged into one raw frame).
"""

from backtest.data.chain import load_harvested_chain
from backtest.data.csv_history import load_history_csv

__all__ = ["load_harvested_chain", "load_history_csv"]
