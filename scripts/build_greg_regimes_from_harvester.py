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
written: one line on stderr, nothing written (exit 2 for bad input, 1 for an output that
cannot be written or is held by another writer; 130 when interrupted).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import _paths

from backtest.data.csv_history import load_history_csv
from backtest.regimes.builder import build_regime_model
from backtest.regimes.realism import verdict_from_provenance
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
from synthetic.regime_model import check_save_target, save_regime_model

# A second builder (or the app saving regimes) waits this long for the regime file.
LOCK_WAIT_SECONDS = 60.0


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


def _blocking_file(path: Path) -> Path | None:
    """The nearest existing ancestor of ``path`` when it is a file (None: the folders are fine)."""
    for folder in Path(path).parents:
        if folder.exists():
            return None if folder.is_dir() else folder
    return None


def _unwritable_reason(path: Path) -> str | None:
    """Why ``path`` cannot be written, found before the slow build: its nearest existing
    ancestor is a file, or a folder this process may not write (read-only, no permission)."""
    if (blocker := _blocking_file(path)) is not None:
        return f"{blocker} is a file, not a folder"
    folder = next((f for f in Path(path).parents if f.exists()), None)
    if folder is not None and not os.access(folder, os.W_OK | os.X_OK):
        return f"the folder {folder} is not writable"
    return None


def _why_unwritable(path: Path, exc: OSError) -> str:
    blocker = _blocking_file(path)
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
    parser.add_argument("--no-judge", action="store_true", help="skip the realism judge (faster)")
    args = parser.parse_args(argv)
    if args.n_clusters < 1:
        print_error(f"--n-clusters must be >= 1, got {args.n_clusters}")
        return EXIT_USAGE
    if args.iv and not args.ohlc:
        print_error("--iv needs --ohlc")
        return EXIT_USAGE
    args.underlying = args.underlying.upper()
    regime_file = args.output or default_regime_file()
    if (reason := _unwritable_reason(regime_file)) is not None:  # found before the slow build
        print_error(f"cannot write the regime file {regime_file}: {reason}; it is unchanged")
        return EXIT_FAILED
    started = time.perf_counter()
    before = _fingerprint(regime_file)
    try:
        with warnings_as_lines():
            check_save_target(regime_file)  # a corrupt regime file is refused before the long build
            raw, source = _load_raw(args)
            sensors = compute_sensors(raw)
            print(f"{args.underlying}: {len(sensors)} rows of sensors from {source}; clustering and calibrating...",
                  file=sys.stderr, flush=True)
            model = build_regime_model(sensors, args.underlying, args.n_clusters, source=source,
                                       judge=not args.no_judge)
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
        print(f"  not in this data: {', '.join(prov['cluster_columns_unavailable'])} (assumed shapes kept)")
    d = model.dynamics
    print(f"  vol dynamics: persistence {d.persistence:.4f}, spikes {d.news_persistence:.4f}, "
          f"vol of vol {d.vol_of_vol:.4f}, news {d.news_square:.4f}/{d.news_signed:+.4f}, "
          f"trend {d.trend_feedback:+.3f}, t dof {d.t_dof:.2f}, vol-shock skewness {d.vol_shock_skew:.2f}")
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
