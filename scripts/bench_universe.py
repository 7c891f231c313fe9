"""Benchmark: synthetic universe generation + the sensor pipeline.

Usage: uv run python scripts/bench_universe.py [--years 10] [--repeat 5]
Prints the best and median wall time of generating N years of daily data for one underlying
and computing every sensor on it (the foundation issue's speed figure).
"""

from __future__ import annotations

import argparse
import statistics
import time

import _paths  # noqa: F401

from backtest.sensors.pipeline import compute_sensors
from synthetic.regime_model import load_regime_model
from synthetic.universe import generate_market


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--years", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    days = args.years * 365
    model = load_regime_model("BTC")
    generate_market("BTC", 30, seed=0, model=model)  # warm imports and caches
    gen, sens, total = [], [], []
    for seed in range(args.repeat):
        t0 = time.perf_counter()
        market = generate_market("BTC", days, seed=seed, model=model)
        t1 = time.perf_counter()
        compute_sensors(market.raw)
        t2 = time.perf_counter()
        gen.append(t1 - t0)
        sens.append(t2 - t1)
        total.append(t2 - t0)
    print(f"{args.years} years = {days} days (+{market.warmup_bars} warm-up), regimes: {model.source}")
    print(f"{'step':<20} {'best s':>8} {'median s':>9}")
    for name, values in (("generate", gen), ("compute_sensors", sens), ("total", total)):
        print(f"{name:<20} {min(values):>8.4f} {statistics.median(values):>9.4f}")


if __name__ == "__main__":
    main()
