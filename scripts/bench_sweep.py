"""How long a user waits for the Greg sweet-spot sweep, and what the engine alone costs.

Usage: uv run python scripts/bench_sweep.py [--repeats 5] [--naive-pairs 3] [--naive-full]
                                            [--big-days 100000] [--million] [--skip-process]

Figures, each printed with what it measures (benchmarks print figures; no test times anything):

1. Whole process, as a user runs it: ``uv run greg-tui --export`` (the default sweep: BTC and
   ETH, 28 pairs, 7 strategies, 20x20, forward outcomes, every file) against
   ``uv run python -c "import numpy, pandas"``, median of ``--repeats`` runs each,
   alternating. Target: at most 2x.
2. The default sweep in-process: the whole run (``run_greg_sweetspot_sweep``: synthetic data,
   sensors, selector, grids, outcomes, every file) and the compute alone (``compute_sweep`` on
   loaded sensors) with its phases; the outcome layer's share of the compute (target <= 30%),
   the sweet spots' outcome blocks (built while ranking) counted on the outcome side.
3. The naive per-sample algorithm (``backtest.heatmaps.naive_reference``) on the same 3 years,
   measured on ``--naive-pairs`` pairs and extrapolated to 28 (labelled so; ``--naive-full``
   runs all 28): the whole run's speed-up. Target: >= 40x.
4. ``--big-days`` (100,000) days per underlying: whole run in-process against the naive time
   extrapolated linearly in samples. Target: >= 600x.
5. ``--million``: ``uv run greg-tui --export --lookback-days 1000000`` under ``/usr/bin/time -v``:
   its peak resident memory (target < 1 GB) and wall time.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import _paths  # noqa: F401
import numpy as np
import pandas as pd

from backtest.heatmaps.naive_reference import naive_sweep
from backtest.heatmaps.options import DEFAULT_METRICS, DEFAULT_STRATEGIES, DEFAULT_UNDERLYINGS
from backtest.heatmaps.run import run_greg_sweetspot_sweep
from backtest.heatmaps.sweep import compute_sweep, validate_sweep_params
from backtest.heatmaps.sweetspots import sweet_spots
from backtest.sensors.sources import load_sensor_data
from greg_core.contract import SENSOR_NAMES

THREE_YEARS = 1095
REPO = Path(__file__).resolve().parents[1]


def best_and_median(function, repeats: int) -> tuple[float, float]:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return min(times), statistics.median(times)


def outcome_blocks_seconds(result, params, repeats: int) -> float:
    """Seconds the sweet spots' outcome blocks add to ranking every pair's sweet spots."""
    def rank(with_outcomes: bool) -> None:
        for sweep in result.underlyings:
            for grid, edge, pnl in zip(sweep.grids, sweep.edge_cells, sweep.pnl_cells, strict=True):
                extra = dict(strategy_keys=params.strategies, edge=edge, pnl=pnl) if with_outcomes else {}
                sweet_spots(grid, params.min_env_frac, params.min_pass_frac, params.top_k, **extra)

    with_blocks, _ = best_and_median(lambda: rank(True), repeats)
    without, _ = best_and_median(lambda: rank(False), repeats)
    return max(with_blocks - without, 0.0)


def wall(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, cwd=REPO, check=True, capture_output=True)
    return time.perf_counter() - started


def whole_process(repeats: int) -> tuple[float, float]:
    """Medians of ``uv run greg-tui --export`` and ``uv run python -c 'import numpy, pandas'``."""
    with tempfile.TemporaryDirectory() as base:
        export = ["uv", "run", "greg-tui", "--export", "--quiet", "--base-dir", base]
        baseline = ["uv", "run", "python", "-c", "import numpy, pandas"]
        wall(export)  # the first run compiles and caches bytecode; a user pays it once
        wall(baseline)
        exports, baselines = [], []
        for _ in range(repeats):
            exports.append(wall(export))
            baselines.append(wall(baseline))
    return statistics.median(exports), statistics.median(baselines)


def peak_memory(days: int) -> tuple[float, float]:
    """(max RSS in MB, wall seconds) of a default-sweep export over ``days`` per underlying."""
    with tempfile.TemporaryDirectory() as base:
        command = ["/usr/bin/time", "-v", "uv", "run", "greg-tui", "--export", "--quiet",
                   "--lookback-days", str(days), "--base-dir", base]
        started = time.perf_counter()
        result = subprocess.run(command, cwd=REPO, capture_output=True, text=True)
        seconds = time.perf_counter() - started
    found = re.search(r"Maximum resident set size \(kbytes\): (\d+)", result.stderr)
    if result.returncode != 0 or not found:
        raise SystemExit(f"the 1,000,000-day export failed: {result.stderr.strip().splitlines()[-1:]}")
    return int(found.group(1)) / 1024, seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--naive-pairs", type=int, default=3)
    parser.add_argument("--naive-full", action="store_true")
    parser.add_argument("--big-days", type=int, default=100_000)
    parser.add_argument("--million", action="store_true", help="also measure a 1,000,000-day export's memory")
    parser.add_argument("--skip-process", action="store_true", help="leave out the uv-run whole-process figures")
    args = parser.parse_args()

    print(f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"numpy {np.__version__}, pandas {pd.__version__}; load average {os.getloadavg()[0]:.1f}")
    rows: list[tuple[str, str, str]] = []

    if not args.skip_process:
        export, baseline = whole_process(args.repeats)
        rows.append(("1. uv run greg-tui --export (whole process, median)", f"{export:.2f} s", ""))
        rows.append(("   uv run python -c 'import numpy, pandas' (median)", f"{baseline:.2f} s", ""))
        rows.append(("   ratio (target <= 2.0)", f"{export / baseline:.2f}x", "PASS" if export <= 2 * baseline else "FAIL"))

    params = validate_sweep_params(DEFAULT_UNDERLYINGS, DEFAULT_METRICS, DEFAULT_STRATEGIES, 20, 20, 0.005, 0.4, 5)
    with tempfile.TemporaryDirectory() as base:
        whole_best, whole_median = best_and_median(lambda: run_greg_sweetspot_sweep(Path(base)), args.repeats)
    small = {u: load_sensor_data(u, lookback_days=THREE_YEARS) for u in DEFAULT_UNDERLYINGS}
    results = []
    compute_best, _ = best_and_median(lambda: results.append(compute_sweep(params, data_by_underlying=small)), args.repeats)
    fastest = min(results, key=lambda r: r.compute_seconds)
    phases = dict(fastest.phase_seconds)
    # The sweet spots' outcome blocks are built inside the "grids" phase: measured apart here
    # (the same ranking with and without them) and moved to the outcome side.
    blocks = outcome_blocks_seconds(fastest, params, args.repeats)
    phases["grids"] = phases.get("grids", 0.0) - blocks
    phases["outcomes"] = phases.get("outcomes", 0.0) + blocks
    outcome_share = phases["outcomes"] / max(sum(v for k, v in phases.items() if k != "outcomes"), 1e-9)
    rows.append(("2. default sweep, whole run in-process (best)", f"{whole_best:.3f} s", f"median {whole_median:.3f}"))
    rows.append(("   compute only (best), phases of that run", f"{compute_best:.3f} s",
                 ", ".join(f"{k} {v:.3f}" for k, v in phases.items())))
    rows.append(("   outcome layer / rest of compute (target <= 30%)", f"{outcome_share:.0%}",
                 "PASS" if outcome_share <= 0.30 else "FAIL"))

    pairs = params.pairs
    naive_pairs = pairs if args.naive_full else pairs[: max(1, args.naive_pairs)]
    samples = {u: d.sensors[list(SENSOR_NAMES)].to_dict("records") for u, d in small.items()}
    started = time.perf_counter()
    naive_sweep(samples, params.metrics, params.strategies, 20, 20, 0.005, 0.4, 5, pairs=naive_pairs)
    naive_measured = time.perf_counter() - started
    naive_3y = naive_measured * len(pairs) / len(naive_pairs)
    label = "measured" if args.naive_full else f"measured on {len(naive_pairs)} pairs, x{len(pairs)}/{len(naive_pairs)}"
    rows.append((f"3. naive per-sample sweep, 3 years ({label})", f"{naive_3y:.1f} s", ""))
    speedup = naive_3y / whole_best
    rows.append(("   whole run speed-up (target >= 40x)", f"{speedup:,.0f}x", "PASS" if speedup >= 40 else "FAIL"))

    with tempfile.TemporaryDirectory() as base:
        big_best, _ = best_and_median(
            lambda: run_greg_sweetspot_sweep(Path(base), lookback_days=args.big_days), 1
        )
    naive_big = naive_3y * args.big_days / THREE_YEARS
    big_speedup = naive_big / big_best
    rows.append((f"4. {args.big_days:,} days per underlying, whole run in-process", f"{big_best:.2f} s", ""))
    rows.append((f"   naive, extrapolated x{args.big_days:,}/{THREE_YEARS:,} samples", f"{naive_big:,.0f} s", ""))
    rows.append(("   speed-up (target >= 600x)", f"{big_speedup:,.0f}x", "PASS" if big_speedup >= 600 else "FAIL"))

    if args.million:
        rss, seconds = peak_memory(1_000_000)
        rows.append(("5. --export --lookback-days 1000000 (BTC+ETH): peak RSS", f"{rss:,.0f} MB",
                     "PASS" if rss < 1024 else "FAIL"))
        rows.append(("   its wall time", f"{seconds:.1f} s", ""))

    width = max(len(r[0]) for r in rows)
    for name, value, note in rows:
        print(f"{name.ljust(width)}  {value:>12}  {note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
