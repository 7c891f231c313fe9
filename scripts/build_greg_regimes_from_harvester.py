"""Build Greg-sensor regimes for one underlying and save them to data/greg_regimes.json.

Usage:
    uv run python scripts/build_greg_regimes_from_harvester.py --underlying BTC
        [--n-clusters 6] [--ohlc CSV --iv CSV] [--data-dir DIR] [--output data/greg_regimes.json]
        [--no-judge]

Data: ``--ohlc`` daily bars (date,open,high,low,close[,volume] or Yahoo style) with an
optional ``--iv`` daily 30-day IV history (date,dvol_close); or ``--data-dir`` holding what
``greg-tui harvest`` writes (history CSVs, hourly DVOL, option-chain snapshots). Without
either, the shared real files for the underlying (GREG_REAL_DATA_DIR or ../shared/data/real)
are used.

Steps (docs/synthetic.md): sensors with backtest.sensors.compute_sensors -> KMeans regimes on
standardized sensors -> per-regime parameters -> Markov transition matrix -> vol dynamics and
IV noise calibrated by simulation (about a minute) -> the realism judge (5 paths of 3,000
days against the same history; its verdict is stored with the model) -> written into the
regime file (other underlyings in it are kept). Bad input or an output that cannot be
written: one line on stderr, exit 2, nothing written.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import _paths

from backtest.data.csv_history import load_history_csv
from backtest.regimes.builder import build_regime_model
from backtest.regimes.realism import verdict_from_provenance
from backtest.sensors.pipeline import compute_sensors
from greg_core.errors import GregError
from greg_core.settings import default_regime_file
from synthetic.regime_model import check_save_target, save_regime_model


def _load_raw(args: argparse.Namespace):
    if args.ohlc:
        return load_history_csv(args.ohlc, args.iv), f"{Path(args.ohlc).name}" + (f" + {Path(args.iv).name}" if args.iv else "")
    if args.data_dir:
        from backtest.data.real_frame import build_real_raw_frame

        raw, _provenance = build_real_raw_frame(args.underlying, data_dir=args.data_dir)
        return raw, f"harvested data in {args.data_dir}"
    real = _paths.real_data_dir()
    name = args.underlying.lower()
    return (
        load_history_csv(real / f"{name}_usd_daily_ohlcv.csv", real / f"{name}_dvol_daily.csv"),
        f"{name}_usd_daily_ohlcv.csv + {name}_dvol_daily.csv",
    )


def _unwritable_reason(path: Path) -> str | None:
    """Why ``path`` cannot be written, found before the slow build (None if it looks fine)."""
    for folder in path.parents:
        if folder.exists():
            if not folder.is_dir():
                return f"{folder} is a file, not a folder"
            return None
    return None


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text or type(exc).__name__


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--underlying", required=True, help="e.g. BTC or ETH")
    parser.add_argument("--n-clusters", type=int, default=6)
    parser.add_argument("--ohlc", help="daily OHLC CSV")
    parser.add_argument("--iv", help="daily 30-day IV CSV (e.g. DVOL)")
    parser.add_argument("--data-dir", help="folder written by greg-tui harvest")
    parser.add_argument("--output", type=Path, default=None)
    parser.add_argument("--no-judge", action="store_true", help="skip the realism judge (faster)")
    args = parser.parse_args(argv)
    if args.n_clusters < 1:
        print(f"error: --n-clusters must be >= 1, got {args.n_clusters}", file=sys.stderr)
        return 2
    if args.iv and not args.ohlc:
        print("error: --iv needs --ohlc", file=sys.stderr)
        return 2
    args.underlying = args.underlying.upper()
    output = args.output or default_regime_file()
    if reason := _unwritable_reason(output):
        print(f"error: cannot write {output}: {reason}", file=sys.stderr)
        return 2
    started = time.perf_counter()
    try:
        check_save_target(output)  # a corrupt regime file is refused before the long build
        raw, source = _load_raw(args)
        sensors = compute_sensors(raw)
        print(f"{args.underlying}: {len(sensors)} rows of sensors from {source}; clustering and calibrating...",
              file=sys.stderr, flush=True)
        model = build_regime_model(sensors, args.underlying, args.n_clusters, source=source, judge=not args.no_judge)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            path = save_regime_model(model, output)
        for warning in caught:
            print(f"note: {_one_line(warning.message)}", file=sys.stderr)
    except (GregError, ValueError) as exc:
        print(f"error: {_one_line(exc)}", file=sys.stderr)
        return 2
    except OSError as exc:  # the output's folder is read-only, or its parent is a file
        target = exc.filename or output
        print(f"error: cannot write {target}: {exc.strerror or _one_line(exc)}", file=sys.stderr)
        return 2
    prov = model.provenance
    print(f"{args.underlying}: {model.n_regimes} regimes from {source}")
    print(f"  clustered on {', '.join(prov['cluster_columns'])}; {prov['samples_used']} days used "
          f"({prov['span'][0]} .. {prov['span'][1]}), {prov['rows_left_out']} left out (missing sensors)")
    if prov["cluster_columns_unavailable"]:
        print(f"  not in this data: {', '.join(prov['cluster_columns_unavailable'])} (assumed shapes kept)")
    d = model.dynamics
    print(f"  vol dynamics: persistence {d.persistence:.4f}, spikes {d.news_persistence:.4f}, "
          f"vol of vol {d.vol_of_vol:.4f}, news {d.news_square:.4f}/{d.news_signed:+.4f}, "
          f"trend {d.trend_feedback:+.3f}, t dof {d.t_dof:.2f}")
    stationary, dwell = model.stationary(), model.dwell_times()
    for regime_id, regime in model.regimes.items():
        print(f"  {regime_id}: {regime.name:<26} rv {regime.mu_rv_30d:5.1f}  vrp {regime.mu_vrp_30d:+.3f}  "
              f"phi_iv {regime.phi_iv:.3f}  drift {regime.drift_annual:+.2f}  share {stationary[regime_id]:.1%}  "
              f"dwell {dwell[regime_id]:.1f} d")
    verdict = verdict_from_provenance(model)
    if verdict is not None:
        print(f"  {verdict.summary()}")
    print(f"wrote {path} in {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
