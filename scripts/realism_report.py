"""Realism of the synthetic universe against real BTC sensors.

Usage:
    uv run python scripts/realism_report.py [--ohlc CSV --iv CSV] [--days 3000] [--seeds 1 2 3 4 5]

Builds regimes from the real daily bars + DVOL (the shared files by default), simulates one
3000-day path per seed, and prints the KS / autocorrelation table for each seed and the
median over seeds (the acceptance reads the median; see backtest/realism.py).
Exit code 0 when every median check passes, 1 otherwise.
"""

from __future__ import annotations

import argparse
import sys

import _paths

from backtest.regimes.realism import REALISM_DAYS, REALISM_SEEDS, format_rows, realism_report


def main(argv: list[str] | None = None) -> int:
    real_dir = _paths.real_data_dir()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ohlc", default=real_dir / "btc_usd_daily_ohlcv.csv")
    parser.add_argument("--iv", default=real_dir / "btc_dvol_daily.csv")
    parser.add_argument("--days", type=int, default=REALISM_DAYS)
    parser.add_argument("--seeds", type=int, nargs="+", default=list(REALISM_SEEDS))
    args = parser.parse_args(argv)
    report = realism_report(args.ohlc, args.iv, args.days, tuple(args.seeds))
    prov = report.model_provenance
    print(
        f"regimes from {prov['source']}: {prov['n_clusters']} clusters on {prov['samples_used']} days "
        f"({prov['span'][0]} .. {prov['span'][1]}), phi_iv exponent {prov['phi_iv_exponent']:g}"
    )
    for seed, rows in report.per_seed.items():
        passed = sum(row.ok for row in rows)
        print(f"\nseed {seed}, {args.days} synthetic days: {passed}/{len(rows)} checks pass")
        print(format_rows(rows))
    median = report.median
    print(f"\nmedian over seeds {', '.join(map(str, report.per_seed))}")
    print(format_rows(median))
    return 0 if all(row.ok for row in median) else 1


if __name__ == "__main__":
    sys.exit(main())
