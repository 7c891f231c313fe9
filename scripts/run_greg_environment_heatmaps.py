"""Greg environment heatmaps and sweet spots, headless (research only, no trades).

Usage:
    uv run python scripts/run_greg_environment_heatmaps.py \
      --underlying BTC \
      --metrics vrp_30d adx_14d iv_rank_6m skew_25d rsi_14d price_vs_ma200 \
      --strategies "Strategy A: ATM Straddle" "Strategy B: OTM Strangle" \
      --x-bins 20 --y-bins 20 --min-env-frac 0.005 --min-pass-frac 0.4

Also: --lookback-days N, --output-dir DIR (outputs in DIR/backtest/output, default .),
--source synthetic|history|harvested|FOLDER, --missing strict|ignore-missing,
--count-mode selected|passes, --top-k K. Same options as ``greg-tui --export``.
"""

from __future__ import annotations

import sys

import _paths  # noqa: F401

from greg_tui.cli import export_process

if __name__ == "__main__":
    sys.dont_write_bytecode = False  # as the greg-tui entry point: cache the bytecode once
    export_process(sys.argv[1:], prog="run_greg_environment_heatmaps.py")
