"""Speed and memory of the Greg sweet-spot sweep, compute only: the acceptance's proof.

Usage: uv run python scripts/bench_sweep.py [--big-samples N] [--naive-pairs K] [--naive-full]
                                            [--full-synthetic] [--repeats R]

Cases (default sweep: BTC + ETH, 8 metrics = 28 pairs, 7 strategies, 20 x 20 bins):

(a) 3 years of daily synthetic sensors per underlying. Sensors are loaded before timing; the
    timed part is ``compute_sweep`` on the loaded data: Greg's selector on every sample
    (``evaluate_frame``), every pair's grid for all strategies, and the sweet spots.
(b) The same on ``--big-samples`` (1,000,000) samples per underlying. By default they are
    drawn from a 50,000-day synthetic path in 30-day blocks with 0.5%-of-sd noise (fast);
    ``--full-synthetic`` generates that many days with the synthetic universe instead (slow).
    Peak memory: the process's maximum resident set (everything, data generation included)
    and, separately, what the sweep itself allocates on top of the loaded data (tracemalloc).
(c) The naive per-sample reference (``backtest.naive_reference``: per pair and strategy, per
    sample, bin it and call ``evaluate_greg_strategy_for_sample``) on the 3-year samples of
    (a), for the first ``--naive-pairs`` pairs (all 28 with ``--naive-full``), checked equal
    to the vectorized result, then extrapolated (linear in pairs, then in samples) and
    labelled so.
"""

from __future__ import annotations

import argparse
import math
import platform
import resource
import statistics
import sys
import time
import tracemalloc

import _paths  # noqa: F401
import numpy as np
import pandas as pd

from backtest.heatmaps.naive_reference import naive_sweep
from backtest.heatmaps.options import DEFAULT_METRICS, DEFAULT_STRATEGIES, DEFAULT_UNDERLYINGS
from backtest.heatmaps.sweep import compute_sweep, validate_sweep_params
from backtest.sensors.sources import SensorData, load_sensor_data
from greg_core.contract import SENSOR_NAMES

THREE_YEARS = 1095
MB = 1024 * 1024


def timed(function, repeats: int) -> tuple[float, float, object]:
    """(best, median, last result) over ``repeats`` runs."""
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
    return min(times), statistics.median(times), result


def resampled_sensor_data(underlying: str, n: int, base_days: int = 50_000, block: int = 30, seed: int = 1) -> SensorData:
    """``n`` samples drawn in ``block``-day runs from a ``base_days`` synthetic path, with
    noise of 0.5% of each sensor's sd (keeps holes as holes)."""
    base = load_sensor_data(underlying, lookback_days=base_days)
    values = base.sensors[list(SENSOR_NAMES)].to_numpy(dtype=float)
    rng = np.random.default_rng(seed)
    starts = rng.integers(0, len(values) - block, size=math.ceil(n / block))
    rows = (starts[:, None] + np.arange(block)[None, :]).ravel()[:n]
    sampled = values[rows]
    sampled += rng.standard_normal(sampled.shape) * (0.005 * np.nanstd(values, axis=0))
    index = pd.date_range(end="2025-12-31", periods=n, freq="D", unit="s", tz="UTC", name="timestamp")
    frame = pd.DataFrame(sampled, index=index, columns=list(SENSOR_NAMES))
    return SensorData(underlying, "synthetic", frame, f"{n:,} samples resampled from {base_days:,} synthetic days")


def records_equal(fast: list[dict], naive: list[dict]) -> bool:
    if len(fast) != len(naive):
        return False
    for a, b in zip(fast, naive, strict=True):
        if [a[k] for k in ("underlying", "strategy_key", "x_metric", "y_metric", "samples")] != [
            b[k] for k in ("underlying", "strategy_key", "x_metric", "y_metric", "samples")
        ] or len(a["sweet_spots"]) != len(b["sweet_spots"]):
            return False
        for s, t in zip(a["sweet_spots"], b["sweet_spots"], strict=True):
            for key, value in t.items():
                if isinstance(value, int):
                    if s[key] != value:
                        return False
                elif not math.isclose(s[key], value, rel_tol=1e-12, abs_tol=1e-15):
                    return False
    return True


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--big-samples", type=int, default=1_000_000)
    parser.add_argument("--naive-pairs", type=int, default=3, help="pairs the naive reference runs (default 3)")
    parser.add_argument("--naive-full", action="store_true", help="run the naive reference on all 28 pairs")
    parser.add_argument("--full-synthetic", action="store_true", help="(b): generate the samples with the universe")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    underlyings = DEFAULT_UNDERLYINGS
    params = validate_sweep_params(underlyings, DEFAULT_METRICS, DEFAULT_STRATEGIES, 20, 20, 0.005, 0.4, 5)
    pairs = params.pairs
    work = f"{len(underlyings)} U x {len(pairs)} pairs x {len(params.strategies)} strategies, 20x20"
    print("Greg sweet-spot sweep benchmark: compute only (sensors loaded before timing)")
    print(f"{platform.processor() or platform.machine()}, Python {platform.python_version()}, "
          f"numpy {np.__version__}, pandas {pd.__version__}; default sweep = {work}")

    # ---------------------------------------------------------------- (a) 3 years
    small = {u: load_sensor_data(u, lookback_days=THREE_YEARS) for u in underlyings}
    best_a, median_a, result_a = timed(lambda: compute_sweep(params, data_by_underlying=small), args.repeats)

    # ---------------------------------------------------------------- (b) 1,000,000 samples
    n_big = args.big_samples
    start = time.perf_counter()
    if args.full_synthetic:
        big = {u: load_sensor_data(u, lookback_days=n_big) for u in underlyings}
        how = "synthetic universe"
    else:
        big = {u: resampled_sensor_data(u, n_big) for u in underlyings}
        how = "resampled from 50,000 synthetic days"
    generation = time.perf_counter() - start
    best_b, median_b, result_b = timed(lambda: compute_sweep(params, data_by_underlying=big), max(1, min(args.repeats, 3)))
    data_mb = sum(d.sensors.memory_usage(deep=True).sum() for d in big.values()) / MB
    tracemalloc.start()
    compute_sweep(params, data_by_underlying=big)
    sweep_peak_mb = tracemalloc.get_traced_memory()[1] / MB
    tracemalloc.stop()
    max_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / (MB if sys.platform == "darwin" else 1024)

    # ---------------------------------------------------------------- (c) naive reference
    naive_pairs = pairs if args.naive_full else pairs[: max(1, args.naive_pairs)]
    samples = {u: d.sensors[list(SENSOR_NAMES)].to_dict("records") for u, d in small.items()}
    start = time.perf_counter()
    naive = naive_sweep(samples, params.metrics, params.strategies, 20, 20, 0.005, 0.4, 5, pairs=naive_pairs)
    naive_measured = time.perf_counter() - start
    wanted = set(naive_pairs)
    fast_subset = [r for r in result_a.records if (r["x_metric"], r["y_metric"]) in wanted]
    identical = records_equal(fast_subset, naive["records"])
    naive_3y = naive_measured * len(pairs) / len(naive_pairs)
    naive_big = naive_3y * n_big / THREE_YEARS
    speedup_a = naive_3y / best_a
    speedup_b = naive_big / best_b

    # ---------------------------------------------------------------- table
    def status(ok: bool) -> str:
        return "PASS" if ok else "FAIL"

    extrapolated = "" if args.naive_full else f", extrapolated x{len(pairs)}/{len(naive_pairs)} pairs"
    rows = [
        ("(a) vectorized sweep, 3 years daily", f"{THREE_YEARS:,}", f"{best_a:.3f} s (median {median_a:.3f})",
         "< 1 s", status(best_a < 1.0)),
        (f"(b) vectorized sweep, {how}", f"{n_big:,}", f"{best_b:.2f} s (median {median_b:.2f})",
         "< 10 s", status(best_b < 10.0)),
        ("(b) peak memory: process max RSS", f"{n_big:,}", f"{max_rss_mb:,.0f} MB", "< 2048 MB",
         status(max_rss_mb < 2048)),
        ("    of which sweep allocations (tracemalloc)", f"{n_big:,}",
         f"{sweep_peak_mb:,.0f} MB (+{data_mb:,.0f} MB data)", "", ""),
        (f"(c) naive per-sample reference, {len(naive_pairs)} pairs, measured", f"{THREE_YEARS:,}",
         f"{naive_measured:.2f} s", "", ""),
        (f"(c) naive, all {len(pairs)} pairs{extrapolated}", f"{THREE_YEARS:,}", f"{naive_3y:.1f} s",
         ">= 100x", f"{status(speedup_a >= 100)} {speedup_a:,.0f}x vs (a)"),
        (f"(c) naive, extrapolated x{n_big:,}/{THREE_YEARS:,} samples", f"{n_big:,}",
         f"{naive_big:,.0f} s (~{naive_big / 3600:.1f} h)", ">= 100x", f"{status(speedup_b >= 100)} {speedup_b:,.0f}x vs (b)"),
    ]
    headers = ("case", "samples/U", "time / size", "target", "result")
    widths = [max(len(str(row[i])) for row in [headers, *rows]) for i in range(len(headers))]
    line = "  ".join("-" * w for w in widths)
    print()
    print("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)))
    print(line)
    for row in rows:
        print("  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
    print(line)
    n_spots_a = sum(len(r["sweet_spots"]) for r in result_a.records)
    n_spots_b = sum(len(r["sweet_spots"]) for r in result_b.records)
    print(f"sweet spots: {n_spots_a} (a), {n_spots_b} (b); {len(result_a.records)} records per run")
    print(f"naive and vectorized sweet spots on the {len(naive_pairs)} measured pairs x "
          f"{len(params.strategies)} strategies x {len(underlyings)} underlyings: "
          f"{'identical' if identical else 'DIFFERENT'}")
    print(f"(b) sample generation ({how}): {generation:.1f} s, not timed")
    checks = [best_a < 1.0, best_b < 10.0, max_rss_mb < 2048, speedup_a >= 100, speedup_b >= 100, identical]
    return 0 if all(checks) else 1


if __name__ == "__main__":
    sys.exit(main())
