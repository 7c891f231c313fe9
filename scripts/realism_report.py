"""Realism of the synthetic universe against the real BTC history: the judge's table.

Usage:
    uv run python scripts/realism_report.py [--ohlc CSV --iv CSV] [--regime-file FILE | --build]
        [--underlying BTC] [--days 3000] [--seeds 1 2 3 4 5] [--per-seed]

The model judged is the regime file's (``--regime-file``, default: the regime file in use,
else the built-in defaults), or with ``--build`` one built now from the same CSVs (about a
minute). One path per seed is simulated and every check of backtest/regimes/realism.py is
printed for the median over seeds (``--per-seed`` adds each seed's table), with its bound
(docs/synthetic.md). Exit code 0 when every judged check passes, 1 otherwise, 2 for bad input.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

import _paths

from backtest.regimes.realism import (
    REALISM_DAYS,
    REALISM_SEEDS,
    format_rows,
    load_real_reference,
    measure_model,
    realism_verdict,
)
from greg_core.errors import GregError
from synthetic.regime_model import load_regime_model


def main(argv: list[str] | None = None) -> int:
    real_dir = _paths.real_data_dir()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ohlc", type=Path, default=real_dir / "btc_usd_daily_ohlcv.csv")
    parser.add_argument("--iv", type=Path, default=real_dir / "btc_dvol_daily.csv")
    parser.add_argument("--underlying", default="BTC")
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--regime-file", type=Path, default=None)
    source.add_argument("--build", action="store_true", help="build the model from the CSVs first")
    parser.add_argument("--days", type=int, default=REALISM_DAYS)
    parser.add_argument("--seeds", type=int, nargs="+", default=list(REALISM_SEEDS))
    parser.add_argument("--per-seed", action="store_true")
    args = parser.parse_args(argv)
    if args.days < 400:
        print(f"error: --days must be at least 400 (sensors and the forward edge need it), got {args.days}",
              file=sys.stderr)
        return 2
    try:
        reference = load_real_reference(args.ohlc, args.iv)
        if args.build:
            from backtest.regimes.builder import build_regime_model

            model = build_regime_model(reference.sample.sensors, args.underlying, source=reference.source, judge=False)
        else:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                model = load_regime_model(args.underlying, args.regime_file)
            for warning in caught:
                print(f"note: {' '.join(str(warning.message).split())}", file=sys.stderr)
    except (GregError, ValueError) as exc:
        print(f"error: {' '.join(str(exc).split())}", file=sys.stderr)
        return 2
    report = measure_model(model, reference, args.days, tuple(args.seeds))
    print(f"model: {model.label}, regimes from {model.source}")
    print(f"real: {reference.source}, {len(reference.sample.raw)} days; synthetic: {args.days} days x seeds "
          f"{', '.join(map(str, args.seeds))}")
    if args.per_seed:
        for seed, rows in report.per_seed.items():
            print(f"\nseed {seed}, {args.days} synthetic days")
            print(format_rows(rows))
    verdict = realism_verdict(report)
    print(f"\nmedian over seeds {', '.join(map(str, report.per_seed))}")
    print(format_rows(verdict.rows))
    print(f"\n{verdict.summary()}  ->  {verdict.label}")
    return 0 if verdict.passed else 1


if __name__ == "__main__":
    sys.exit(main())
