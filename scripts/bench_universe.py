"""Benchmark: synthetic generation (and the sensors on it) per sample, at several lengths.

Usage: uv run python scripts/bench_universe.py [--days 3000 100000 1000000] [--repeat 3]

For each length, a fresh Python process imports the engine, generates one underlying's
market with the regime file in use (built-in defaults otherwise) and computes every sensor,
``--repeat`` times. Printed per length (medians):

* whole process: wall time of that process from start to exit (what a user waits), and its
  peak resident memory (``ru_maxrss`` of the child, as ``/usr/bin/time -v`` reports it);
* compute only: ``generate_market`` and ``compute_sensors`` wall times inside the process,
  and generation per sample in microseconds.

The child also checks the path: finite positive prices, every sensor defined after the
warm-up, timestamps strictly increasing by one day (the 1,000,000-day acceptance of
docs/synthetic.md).
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

SCRIPT = Path(__file__).resolve()


def child(days: int) -> None:
    started = time.perf_counter()
    import _paths  # noqa: F401
    import numpy as np

    from backtest.sensors.pipeline import compute_sensors
    from greg_core.contract import SENSOR_NAMES
    from synthetic.regime_model import load_regime_model
    from synthetic.universe import generate_market

    imported = time.perf_counter()
    model = load_regime_model("BTC")
    market = generate_market("BTC", days, seed=1, model=model)
    generated = time.perf_counter()
    sensors = compute_sensors(market.raw)
    computed = time.perf_counter()
    requested = sensors.iloc[market.warmup_bars :]
    prices = market.raw[["open", "high", "low", "close"]].to_numpy()
    steps = np.diff(market.raw.index.asi8)
    result = {
        "days": days,
        "import_s": imported - started,
        "generate_s": generated - imported,
        "sensors_s": computed - generated,
        "finite_prices": bool(np.isfinite(prices).all() and (prices > 0).all()),
        "sensors_defined": bool(requested[list(SENSOR_NAMES)].notna().all().all()),
        "timestamps_daily": bool((steps == steps[0]).all() and market.raw.index[0].year >= 1),
        "first_day": market.raw.index[0].date().isoformat(),
        "last_day": market.raw.index[-1].date().isoformat(),
        "regimes": model.source,
    }
    print(json.dumps(result))


def run(days: int) -> tuple[float, float, dict]:
    """(wall s, peak RSS MB, the child's figures) of one fresh process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    out = subprocess.run(
        [sys.executable, str(SCRIPT), "--child", str(days)], check=True, capture_output=True, text=True
    )
    wall = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    # ru_maxrss of children is the largest of any child so far: only a new maximum is this one's.
    rss_mb = peak / 1024 if peak > before else float("nan")
    return wall, rss_mb, json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, nargs="+", default=[3000, 100_000, 1_000_000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return
    print(f"{'days':>9} {'process s':>10} {'peak MB':>8} {'import s':>9} {'generate s':>11} "
          f"{'us/day':>7} {'sensors s':>10}  checks")
    # Largest first: ru_maxrss of children only reports a new maximum.
    for days in sorted(args.days, reverse=True):
        runs = [run(days) for _ in range(args.repeat)]
        figures = [r[2] for r in runs]
        peak = max((r[1] for r in runs if r[1] == r[1]), default=float("nan"))
        generate = statistics.median(f["generate_s"] for f in figures)
        checks = figures[0]
        ok = all(checks[k] for k in ("finite_prices", "sensors_defined", "timestamps_daily"))
        print(
            f"{days:>9} {statistics.median(r[0] for r in runs):>10.2f} {peak:>8.0f} "
            f"{statistics.median(f['import_s'] for f in figures):>9.2f} {generate:>11.3f} "
            f"{generate / days * 1e6:>7.2f} {statistics.median(f['sensors_s'] for f in figures):>10.2f}  "
            f"{'ok' if ok else 'FAILED'} ({checks['first_day']} .. {checks['last_day']})"
        )
    print(f"regimes: {figures[0]['regimes']}")


if __name__ == "__main__":
    main()
