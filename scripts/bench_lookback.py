"""Benchmark: how long and how much memory a synthetic sweep takes per lookback, the figure
behind ``backtest.sensors.sources.MAX_LOOKBACK_DAYS``.

Usage: uv run python scripts/bench_lookback.py [--days 10000 100000 1000000]
Each lookback runs in its own process (a clean peak-memory figure): a default sweep (8
sensors, 7 strategies, 20 x 20) of BTC into a temporary folder; prints wall time and peak RSS.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile

import _paths

CHILD = """
import resource, sys, time
from backtest.heatmaps.run import run_greg_sweetspot_sweep
started = time.perf_counter()
run_greg_sweetspot_sweep(sys.argv[2], ["BTC"], lookback_days=int(sys.argv[1]))
peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(f"{time.perf_counter() - started:.1f} {peak_mb:.0f}")
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    args = parser.parse_args()
    print(f"{'lookback days':>14} {'wall s':>8} {'peak RSS MB':>12}")
    for days in args.days:
        with tempfile.TemporaryDirectory() as base:
            done = subprocess.run(
                [sys.executable, "-c", CHILD, str(days), base], capture_output=True, text=True,
                cwd=_paths.REPO_ROOT, check=True,
            )
        seconds, peak = done.stdout.split()
        print(f"{days:>14,} {float(seconds):>8.1f} {float(peak):>12.0f}")


if __name__ == "__main__":
    main()
