"""Build Greg-sensor regimes for one underlying and save them to data/greg_regimes.json.

Usage:
    uv run python scripts/build_greg_regimes_from_harvester.py --underlying BTC
        [--n-clusters 6] [--ohlc CSV --iv CSV] [--data-dir DIR] [--output data/greg_regimes.json]

Data: ``--ohlc`` daily bars (date,open,high,low,close[,volume] or Yahoo style) with an
optional ``--iv`` daily 30-day IV history (date,dvol_close); or ``--data-dir`` holding what
``greg-tui harvest`` writes (history CSVs, hourly DVOL, option-chain snapshots). Without
either, the shared real BTC files (GREG_REAL_DATA_DIR or ../shared/data/real) are used.

Steps: sensors with backtest.sensors.compute_sensors -> KMeans regimes on standardized
sensors -> per-regime parameters -> Markov transition matrix -> IV persistence calibrated by
simulation -> written into the regime file (other underlyings in it are kept).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import _paths

from backtest.data.csv_history import load_history_csv
from backtest.regimes.builder import build_regime_model
from backtest.sensors.pipeline import compute_sensors
from greg_core.errors import FolderBusyError, GregError
from greg_core.locking import lock_for
from greg_core.settings import default_regime_file
from greg_tui.command_line import (
    EXIT_FAILED,
    EXIT_USAGE,
    OneLineParser,
    print_error,
    warnings_as_lines,
)
from synthetic.regime_model import save_regime_model

# A second builder (or the app saving regimes) waits this long for the regime file.
LOCK_WAIT_SECONDS = 60.0


def _load_raw(args: argparse.Namespace):
    if args.ohlc:
        return load_history_csv(args.ohlc, args.iv), f"{Path(args.ohlc).name}" + (f" + {Path(args.iv).name}" if args.iv else "")
    if args.data_dir:
        from backtest.data.real_frame import build_real_raw_frame

        raw, provenance = build_real_raw_frame(args.underlying, data_dir=args.data_dir)
        return raw, f"harvested data in {args.data_dir}"
    real = _paths.real_data_dir()
    name = args.underlying.lower()
    return (
        load_history_csv(real / f"{name}_usd_daily_ohlcv.csv", real / f"{name}_dvol_daily.csv"),
        f"{name}_usd_daily_ohlcv.csv + {name}_dvol_daily.csv",
    )


def _why_unwritable(path: Path, exc: OSError) -> str:
    blocker = next((p for p in Path(path).parents if p.exists() and not p.is_dir()), None)
    return f"{blocker} is a file, not a folder" if blocker is not None else str(exc.strerror or exc)


def _fingerprint(path: Path) -> tuple | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    return (stat.st_ino, stat.st_mtime_ns, stat.st_size)


def main(argv: list[str] | None = None) -> int:
    parser = OneLineParser(description=__doc__.splitlines()[0])
    parser.add_argument("--underlying", required=True, help="e.g. BTC or ETH")
    parser.add_argument("--n-clusters", type=int, default=6)
    parser.add_argument("--ohlc", help="daily OHLC CSV")
    parser.add_argument("--iv", help="daily 30-day IV CSV (e.g. DVOL)")
    parser.add_argument("--data-dir", help="folder written by greg-tui harvest")
    parser.add_argument("--output", type=Path, default=None)
    args = parser.parse_args(argv)
    if args.n_clusters < 1:
        print_error(f"--n-clusters must be >= 1, got {args.n_clusters}")
        return EXIT_USAGE
    if args.iv and not args.ohlc:
        print_error("--iv needs --ohlc")
        return EXIT_USAGE
    args.underlying = args.underlying.upper()
    started = time.perf_counter()
    regime_file = args.output or default_regime_file()
    before = _fingerprint(regime_file)
    try:
        with warnings_as_lines():
            raw, source = _load_raw(args)
            sensors = compute_sensors(raw)
            print(f"{args.underlying}: {len(sensors)} rows of sensors from {source}; clustering and calibrating...",
                  file=sys.stderr, flush=True)
            model = build_regime_model(sensors, args.underlying, args.n_clusters, source=source)
            # One writer at a time: the file is read, changed (this underlying) and written back.
            with lock_for(regime_file, wait_seconds=LOCK_WAIT_SECONDS, on_wait=lambda m: print(m, file=sys.stderr)):
                path = save_regime_model(model, regime_file)
    except FolderBusyError as exc:
        print_error(exc)
        return EXIT_FAILED
    except (GregError, ValueError) as exc:  # bad or missing data, a corrupt regime file
        print_error(exc)
        return EXIT_USAGE
    except OSError as exc:  # the regime file cannot be written (read-only folder, parent is a file)
        print_error(f"cannot write the regime file {regime_file}: {_why_unwritable(regime_file, exc)}; it is unchanged")
        return EXIT_FAILED
    except KeyboardInterrupt:  # say what is true: the file is written in one atomic step
        state = "is unchanged" if _fingerprint(regime_file) == before else "was already written"
        print(f"cancelled: {regime_file} {state}", file=sys.stderr)
        return 130
    prov = model.provenance
    print(f"{args.underlying}: {model.n_regimes} regimes from {source}")
    print(f"  clustered on {', '.join(prov['cluster_columns'])}; {prov['samples_used']} days used "
          f"({prov['span'][0]} .. {prov['span'][1]}), {prov['rows_left_out']} left out (missing sensors)")
    if prov["cluster_columns_unavailable"]:
        print(f"  not in this data: {', '.join(prov['cluster_columns_unavailable'])} (template defaults kept)")
    stationary, dwell = model.stationary(), model.dwell_times()
    for regime_id, regime in model.regimes.items():
        print(f"  {regime_id}: {regime.name:<24} rv {regime.mu_rv_30d:5.1f}  vrp {regime.mu_vrp_30d:+.2f}  "
              f"phi_iv {regime.phi_iv:.3f}  share {stationary[regime_id]:.1%}  dwell {dwell[regime_id]:.1f} d")
    print(f"wrote {path} in {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
