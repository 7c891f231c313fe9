"""Load every harvested chain snapshot, time it, and compare the chain's 30-day ATM IV to DVOL.

Usage: uv run python scripts/bench_chain_load.py [--data-dir DIR] [--underlying BTC] [--repeat N]

DIR defaults to $GREG_REAL_DATA_DIR, else ../shared/data/real relative to the repository root.
Prints: files, quotes, load seconds (import time excluded, best and first of N runs); the
30-day ATM IV vs the hourly DVOL in volatility_history/{u}_volatility_history.parquet at the
same hours (chain 1h bars = last snapshot of the hour; DVOL candle of that hour); and the
min/max/mean of the 25-delta skew (put - call) and the 7d - 30d term spread.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import pandas as pd
from _paths import real_data_dir

from backtest.data.chain import load_harvested_chain_with_diagnostics, resample_snapshots
from backtest.data.vol_history import load_volatility_history


def describe(series: pd.Series) -> str:
    return f"min {series.min():+.2f}  max {series.max():+.2f}  mean {series.mean():+.2f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=real_data_dir())
    parser.add_argument("--underlying", default="BTC")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs (best is reported)")
    args = parser.parse_args(argv)

    timings = []
    for _ in range(max(1, args.repeat)):
        started = time.perf_counter()
        result = load_harvested_chain_with_diagnostics(args.data_dir, args.underlying)
        timings.append(time.perf_counter() - started)
    snapshots = result.frame
    summary = result.summary()
    print(f"chain folder      {result.chain_dir}")
    print(
        f"files             {summary['files_found']} found, {summary['snapshots_loaded']} loaded, "
        f"{len(summary['files_skipped'])} skipped"
    )
    print(
        f"quotes            {summary['quotes_read']} read, {summary['quotes_used']} used, "
        f"dropped {summary['quotes_dropped']}"
    )
    print(f"span              {summary['first_snapshot']} .. {summary['last_snapshot']}")
    print(
        f"load seconds      best {min(timings):.3f}  first {timings[0]:.3f}  "
        f"({len(timings)} run(s); read + surface, imports excluded)"
    )

    hourly = resample_snapshots(snapshots, "1h")
    dvol = load_volatility_history(args.data_dir, args.underlying)["iv_30d"]
    gap = (dvol.reindex(hourly.index) - hourly["iv_30d"]).dropna()
    print()
    print(f"30d ATM IV vs DVOL at the same hours ({len(gap)} hours, DVOL - ATM, vol pts)")
    print(
        f"  mean {gap.mean():+.2f}  mean |diff| {gap.abs().mean():.2f}  max |diff| {gap.abs().max():.2f}"
    )
    print(f"  ATM 30d {describe(hourly.loc[gap.index, 'iv_30d'])}")
    print(f"  DVOL    {describe(dvol.loc[gap.index])}")

    skew = snapshots["iv_25d_put"] - snapshots["iv_25d_call"]
    term = snapshots["iv_7d"] - snapshots["iv_30d"]
    print()
    print(f"over {len(snapshots)} snapshots, vol pts")
    print(f"  25d skew (put - call)     {describe(skew)}")
    print(f"  term spread (7d - 30d)    {describe(term)}")
    print(f"  iv_30d                    {describe(snapshots['iv_30d'])}")
    print(f"  iv_7d                     {describe(snapshots['iv_7d'])}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
