"""Compute time of the forward-outcome layer: forward_outcomes, episodes and Newey-West.

Usage: uv run python scripts/bench_outcomes.py [--sizes 1100,100000,1000000] [--keys 3200]
       [--workers N] [--seed S]

Inputs are synthetic daily paths (GBM closes, random IVs with skew and a 7-day IV, a missing
day every ~500) so every structure is priced. Figures are compute only (no file I/O), best of
a few repeats for the small sizes; "peak" is the largest extra memory traced while
forward_outcomes runs (numpy buffers included), beyond its input.
"""

from __future__ import annotations

import argparse
import time
import tracemalloc
from collections.abc import Callable

import numpy as np
import pandas as pd
from scipy.special import ndtr

from backtest.outcomes import forward_outcomes
from backtest.outcomes.forward import default_workers
from backtest.outcomes.stats import (
    count_episodes,
    count_episodes_by_key,
    newey_west_by_key,
    newey_west_se,
    summarize_outcomes,
)


def synthetic_raw(days: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    index = pd.date_range("1800-01-01", periods=days, freq="D", tz="UTC")
    close = 30_000 * np.exp(np.cumsum(rng.normal(0, 0.03, days)))
    iv = rng.uniform(35, 95, days)
    raw = pd.DataFrame(
        {
            "open": close,
            "high": close * 1.01,
            "low": close * 0.99,
            "close": close,
            "iv_30d": iv,
            "iv_7d": iv * rng.uniform(0.8, 1.2, days),
            "iv_25d_put": iv + rng.uniform(0, 8, days),
            "iv_25d_call": iv - rng.uniform(-2, 4, days),
        },
        index=index,
    )
    missing = rng.choice(days, size=max(1, days // 500), replace=False)
    return raw.drop(index[missing])


def best_of(fn: Callable[[], object], repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - started)
    return best


def repeats_for(size: int) -> int:
    return 20 if size <= 10_000 else 3 if size <= 200_000 else 1


def bench_forward(size: int, seed: int, workers: int) -> None:
    raw = synthetic_raw(size, seed)
    forward_outcomes(raw.iloc[: min(len(raw), 2_000)], workers=workers)  # warm imports and caches
    seconds = best_of(lambda: forward_outcomes(raw, workers=workers), repeats_for(size))
    tracemalloc.start()
    out = forward_outcomes(raw, workers=workers)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    result_mb = out.memory_usage(deep=True).sum() / 2**20
    print(
        f"forward_outcomes  {size:>9,} days  workers {workers}  {seconds:8.3f} s  "
        f"({seconds / size * 1e6:5.2f} us/day)  peak {peak / 2**20:7.1f} MB "
        f"(result {result_mb:.1f} MB)"
    )


def bench_normal_cdf() -> None:
    """The floor: forward_outcomes is bound by N(d1), one per hedge day per strike (five
    H-day strikes x 30 + two calendar strikes x 7 = 164 per entry day at H = 30)."""
    values = np.random.default_rng(0).normal(0, 2, 4_000_000)
    seconds = best_of(lambda: ndtr(values), 3)
    per_value = seconds / len(values)
    print(
        f"ndtr alone: {per_value * 1e9:.1f} ns per value -> {164 * per_value * 1e6:.2f} us per entry "
        f"day on one core, {164 * per_value * 1e6:.1f} s per 1,000,000 days (the hedging floor)"
    )


def bench_stats(size: int, keys: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    days = np.arange(size, dtype=np.int64)
    values = rng.normal(size=size)
    repeats = repeats_for(size)
    one_chain = best_of(lambda: count_episodes(days, 30), repeats)
    # Many chains: `size` samples spread over `keys` keys (e.g. grid cells x groups), each key
    # on distinct days of a span of max(size / keys, 1100) days, in the order a sweep gives them.
    span = max(size // keys * 2, 1_100)
    slots = rng.choice(keys * span, size=size, replace=False)
    key_codes, key_days = slots // span, slots % span
    shuffle = rng.permutation(size)
    key_codes, key_days = key_codes[shuffle], key_days[shuffle]
    many_chains = best_of(lambda: count_episodes_by_key(key_codes, key_days, 30, keys), repeats)
    nw_one = best_of(lambda: newey_west_se(values, days, 29), repeats)
    nw_mask = best_of(lambda: newey_west_se(values, days, 29, days % 3 == 0), repeats)
    nw_keys = best_of(lambda: newey_west_by_key(key_codes, key_days, values, 29, keys), repeats)
    summary = best_of(lambda: summarize_outcomes(values, days, 30), repeats)
    print(
        f"stats             {size:>9,} samples  episodes: 1 chain {one_chain * 1e3:8.2f} ms, "
        f"{keys:,} keys {many_chains * 1e3:8.2f} ms | Newey-West: series {nw_one * 1e3:7.2f} ms, "
        f"subset {nw_mask * 1e3:7.2f} ms, {keys:,} keys {nw_keys * 1e3:8.2f} ms | "
        f"OutcomeSummary {summary * 1e3:7.2f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1100,100000,1000000")
    parser.add_argument("--keys", type=int, default=3_200)
    parser.add_argument("--workers", type=int, default=None, help="threads (default: cores, max 4)")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    workers = default_workers() if args.workers is None else args.workers
    bench_normal_cdf()
    for size in sizes:
        bench_forward(size, args.seed, workers)
    for size in sizes:
        bench_stats(size, args.keys, args.seed)


if __name__ == "__main__":
    main()
