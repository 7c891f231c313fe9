"""Throughput of the Greg selector: vectorized evaluate_frame vs per-sample evaluate_sample.

Usage: uv run python scripts/bench_selector.py [--frame-rows N] [--sample-rows N] [--seed S]

Rows are random but plausible sensor values (with ~2% NaN) so every waterfall step fires.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from backtest.selector.evaluate import evaluate_frame, evaluate_sample
from backtest.selector.spec import load_selector_spec

# (low, high) of a uniform draw per sensor: wide enough to cross every v8 threshold.
SENSOR_RANGES: dict[str, tuple[float, float]] = {
    "rv_7d": (10, 120),
    "rv_30d": (10, 120),
    "vrp_30d": (-20, 30),
    "vrp_7d": (-20, 30),
    "front_rv_iv_ratio": (0.2, 1.6),
    "chop_factor_7d": (0.2, 1.4),
    "iv_rank_6m": (0, 1),
    "term_structure_spread": (-15, 15),
    "skew_25d": (-10, 10),
    "adx_14d": (5, 60),
    "rsi_14d": (10, 90),
    "price_vs_ma200": (-40, 60),
}


def random_sensor_frame(rows: int, seed: int, nan_fraction: float = 0.02) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    columns = {}
    for name, (low, high) in SENSOR_RANGES.items():
        values = rng.uniform(low, high, rows)
        values[rng.random(rows) < nan_fraction] = np.nan
        columns[name] = values
    return pd.DataFrame(columns)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frame-rows", type=int, default=1_000_000)
    parser.add_argument("--sample-rows", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeats", type=int, default=3, help="best of N for evaluate_frame")
    args = parser.parse_args()

    spec = load_selector_spec()
    frame = random_sensor_frame(args.frame_rows, args.seed)
    for policy in ("strict", "ignore-missing"):
        best = float("inf")
        for _ in range(args.repeats):
            start = time.perf_counter()
            result = evaluate_frame(frame, spec, policy)
            best = min(best, time.perf_counter() - start)
        picks = pd.Series(result.selected_keys()).value_counts(normalize=True)
        print(
            f"evaluate_frame   [{policy:>14}] {args.frame_rows:>9,} rows in {best:.3f} s "
            f"-> {args.frame_rows / best:,.0f} rows/s"
        )
        print(
            "    outcome shares: " + ", ".join(f"{key} {share:.1%}" for key, share in picks.items())
        )

    records = frame.head(args.sample_rows).to_dict("records")
    for policy in ("strict", "ignore-missing"):
        start = time.perf_counter()
        for record in records:
            evaluate_sample(record, spec, policy)
        elapsed = time.perf_counter() - start
        print(
            f"evaluate_sample  [{policy:>14}] {len(records):>9,} rows in {elapsed:.3f} s "
            f"-> {len(records) / elapsed:,.0f} rows/s"
        )


if __name__ == "__main__":
    main()
