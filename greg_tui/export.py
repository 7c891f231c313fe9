"""Headless sweep: ``greg-tui --export`` and ``scripts/run_greg_environment_heatmaps.py``.

One argument parser for both (the requests' flags plus ``--output-dir``/``--base-dir``,
``--source``, ``--missing``, ``--count-mode``, ``--top-k``, ``--data-dir``). Bad values and
bad or missing data exit with code 2 and one line naming the problem (and the valid choices);
nothing is written. Exit codes: ``greg_tui.command_line``. On a terminal a progress bar runs;
otherwise plain progress lines are printed.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

# Light imports only: a run that must fail on its input (a missing underlying, a bad value)
# fails before the engine (pandas, scipy, scikit-learn) is loaded.
from backtest.data.availability import SOURCES, require_data_available, validate_source
from backtest.heatmaps import options
from backtest.heatmaps.options import MAX_LOOKBACK_DAYS
from greg_core.errors import (
    FolderBusyError,
    GregError,
    PublishInterrupted,
    SweepCancelled,
)
from greg_core.settings import default_base_dir, output_dir_for
from greg_tui.command_line import (
    EXIT_FAILED,
    EXIT_OK,
    EXIT_USAGE,
    OneLineParser,
    interrupted_exit_code,
    print_error,
    sigterm_as_interrupt,
    warnings_as_lines,
)


def lookback_days_argument(text: str) -> int:
    """``--lookback-days``: a whole number of days from 1 to ``MAX_LOOKBACK_DAYS`` (``1e5``
    is accepted as 100000)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"got {text!r}; give a whole number of days") from None
    if not math.isfinite(value) or value != int(value) or not 1 <= value <= MAX_LOOKBACK_DAYS:
        raise argparse.ArgumentTypeError(
            f"got {text!r}; give a whole number of days from 1 to {MAX_LOOKBACK_DAYS:,}"
        )
    return int(value)


def _missing_policies() -> str:
    """The policies for ``--help``; only then is the selector (which loads pandas) imported."""
    if not {"-h", "--help"} & set(sys.argv[1:]):
        return "strict (default) or ignore-missing; --help lists them"
    from backtest.selector.evaluate import MISSING_POLICIES

    return " | ".join(MISSING_POLICIES)


def add_sweep_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--underlying", action="extend", nargs="+", metavar="U",
                        help=f"underlying(s), repeatable (default: {' '.join(options.DEFAULT_UNDERLYINGS)})")
    parser.add_argument("--metrics", nargs="+", metavar="M",
                        help=f"sensor names (default: the curated {len(options.DEFAULT_METRICS)})")
    parser.add_argument("--strategies", nargs="+", metavar="S",
                        help=f"strategy labels or keys (default: all {len(options.DEFAULT_STRATEGY_KEYS)})")
    parser.add_argument("--x-bins", type=int, default=options.DEFAULT_X_BINS)
    parser.add_argument("--y-bins", type=int, default=options.DEFAULT_Y_BINS)
    parser.add_argument("--min-env-frac", type=float, default=options.DEFAULT_MIN_ENV_FRAC,
                        help=f"min occupancy (0..1, default {options.DEFAULT_MIN_ENV_FRAC:g})")
    parser.add_argument("--min-pass-frac", type=float, default=options.DEFAULT_MIN_PASS_FRAC,
                        help=f"min pass rate (0..1, default {options.DEFAULT_MIN_PASS_FRAC:g})")
    parser.add_argument("--top-k", type=int, default=options.DEFAULT_TOP_K)
    parser.add_argument("--horizon", type=int, default=options.DEFAULT_HORIZON_DAYS,
                        help=f"forward outcome horizon in days (default {options.DEFAULT_HORIZON_DAYS})")
    parser.add_argument("--min-episodes", type=int, default=options.DEFAULT_MIN_EPISODES,
                        help=f"fewer independent episodes than this mark a cell thin (default {options.DEFAULT_MIN_EPISODES})")
    parser.add_argument("--rank-by", default=options.DEFAULT_RANK_BY,
                        help="sweetness (occupancy x pass rate, default) | edge (lower 95%% bound of the forward edge)")
    parser.add_argument("--bin-mode", default=options.DEFAULT_BIN_MODE,
                        help="equal (equal-width, default) | quantile (equal-count bins)")
    parser.add_argument("--clip-pct", type=float, default=options.DEFAULT_CLIP_PCT,
                        help="percent of each tail left outside the axis range, e.g. 0.5 (default 0: none)")
    parser.add_argument("--lookback-days", type=lookback_days_argument, default=None,
                        help=f"synthetic: days generated (default 1095); real: last N days (at most {MAX_LOOKBACK_DAYS:,})")
    parser.add_argument("--source", default=options.DEFAULT_SOURCE, help=f"{' | '.join(SOURCES)} | a data folder")
    parser.add_argument("--data-dir", type=Path, default=None,
                        help="real data folder (default: $GREG_DATA_DIR, else data/ in the checkout; see greg-tui --where)")
    parser.add_argument("--missing", default=options.DEFAULT_MISSING_POLICY,
                        help="missing-sensor policy: " + _missing_policies())
    parser.add_argument("--count-mode", default=options.DEFAULT_COUNT_MODE,
                        help="selected (waterfall winner) | passes (own condition)")
    parser.add_argument("--seed", type=int, default=None, help="synthetic universe seed (default: per underlying)")
    parser.add_argument("--output-dir", "--base-dir", dest="base_dir", type=Path, default=None,
                        help="base folder; outputs go to BASE/backtest/output (default: $GREG_BASE_DIR, else the "
                             "checkout, else the user data folder; see greg-tui --where)")
    parser.add_argument("--quiet", action="store_true", help="no progress output")


class _Progress:
    """Rich progress bar on a terminal, else a plain line each time the step changes."""

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet
        self.bar = None
        self.last_prefix = ""
        self.last_decile = -1
        if not quiet and sys.stderr.isatty():
            from rich.progress import (
                BarColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )

            self.bar = Progress(
                TextColumn("[bold]{task.description}"), BarColumn(), TextColumn("{task.percentage:>5.1f}%"),
                TimeElapsedColumn(), TimeRemainingColumn(), transient=True,
            )
            self.task = self.bar.add_task("sweep", total=1.0)

    def __enter__(self):
        if self.bar is not None:
            self.bar.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """Take the bar off the terminal (before the summary is printed); idempotent."""
        if self.bar is not None:
            self.bar.stop()
            self.bar = None

    def __call__(self, fraction: float, message: str) -> None:
        if self.quiet:
            if message.startswith("waiting"):  # a pause needs explaining even when quiet
                print(message, file=sys.stderr, flush=True)
            return
        if self.bar is not None:
            self.bar.update(self.task, completed=fraction, description=message)
            return
        prefix = message.split(":")[0]
        decile = int(fraction * 10)
        if prefix != self.last_prefix or decile != self.last_decile or fraction >= 1.0:
            self.last_prefix, self.last_decile = prefix, decile
            print(f"[{fraction:6.1%}] {message}", file=sys.stderr, flush=True)


# The results folder this process's current export has published to (None before): what a
# signal arriving after the run but before the process ends reports (``truthful_late_signals``).
_published_to: Path | None = None


def published_to() -> Path | None:
    return _published_to


def run_export(args: argparse.Namespace) -> int:
    global _published_to
    _published_to = None  # this run's, not an earlier one's in the same process
    started = time.perf_counter()
    if args.base_dir is None:
        args.base_dir = default_base_dir()
    if args.data_dir is not None and not args.data_dir.is_dir():
        print_error(f"--data-dir {args.data_dir} is not a folder")
        return EXIT_USAGE
    before = _last_published(args.base_dir)
    try:
        # Before loading the engine: a real source lacking an underlying fails here, in
        # milliseconds, writing nothing (an unknown source is left to the engine's message).
        try:
            source = validate_source(args.source)
        except ValueError:
            source = None
        if source is not None:
            require_data_available(args.underlying or options.DEFAULT_UNDERLYINGS, source, args.data_dir)
        from backtest.heatmaps.run import run_greg_sweetspot_sweep

        with sigterm_as_interrupt(), warnings_as_lines(), _Progress(args.quiet) as progress:
            json_path = run_greg_sweetspot_sweep(
                args.base_dir,
                underlyings=args.underlying or options.DEFAULT_UNDERLYINGS,
                metrics=args.metrics or options.DEFAULT_METRICS,
                strategies=args.strategies or options.DEFAULT_STRATEGIES,
                x_bins=args.x_bins, y_bins=args.y_bins,
                min_env_frac=args.min_env_frac, min_pass_frac=args.min_pass_frac, top_k=args.top_k,
                source=args.source, lookback_days=args.lookback_days, missing_policy=args.missing,
                count_mode=args.count_mode, seed=args.seed, data_dir=args.data_dir, progress=progress,
                bin_mode=args.bin_mode, clip_pct=args.clip_pct, horizon_days=args.horizon,
                min_episodes=args.min_episodes, rank_by=args.rank_by,
            )
            progress.close()
            # After the progress display is closed: a late signal's immediate exit never leaves it drawn.
            _published_to = output_dir_for(args.base_dir)
            if not args.quiet:
                _print_summary(output_dir_for(args.base_dir), json_path, time.perf_counter() - started)
    except (SweepCancelled, KeyboardInterrupt) as exc:
        # Say what is true: the interruption may have come after the switch to the new set.
        if isinstance(exc, PublishInterrupted) and exc.published or _last_published(args.base_dir) != before:
            print(f"interrupted: the new results were already published in {output_dir_for(args.base_dir)}",
                  file=sys.stderr)
        else:
            print("cancelled: nothing written, previous results left intact", file=sys.stderr)
        return interrupted_exit_code(exc)
    except FolderBusyError as exc:
        print_error(exc)
        return EXIT_FAILED
    except GregError as exc:  # bad parameters, bad or missing data, an unusable regime file
        print_error(exc)
        return EXIT_USAGE
    except BrokenPipeError:  # the summary's reader stopped early (`| head`): the entry point's to handle
        raise
    except OSError as exc:  # disk full, no permission: nothing was published (unless the summary failed)
        where = f" ({exc.filename})" if exc.filename else ""
        if _last_published(args.base_dir) != before:  # as for an interruption: did this run publish?
            print_error(f"the results were published in {output_dir_for(args.base_dir)}, but their summary could not be read: "
                        f"{exc.strerror or exc}{where}")
            return EXIT_FAILED
        print_error(f"cannot write the results to {output_dir_for(args.base_dir)}: {exc.strerror or exc}{where}; "
                    "nothing written, previous results left intact")
        return EXIT_FAILED
    return EXIT_OK


def _last_published(base_dir: Path) -> str | None:
    """The run this process last published into the results folder (None: none, or the
    engine is not even loaded)."""
    store = sys.modules.get("backtest.heatmaps.store")
    return store.published_by_this_process(output_dir_for(base_dir)) if store is not None else None


def _scorecards(output_dir: Path) -> dict:
    """Each underlying's card of the scorecard file just written (empty: none, or unreadable)."""
    from backtest.heatmaps.outputs import SCORECARD_NAME

    try:
        cards = json.loads((output_dir / SCORECARD_NAME).read_text(encoding="utf-8"))["underlyings"]
    except (OSError, ValueError, KeyError, TypeError):
        return {}
    return cards if isinstance(cards, dict) else {}


def _did_it_pay(card: dict | None) -> list[str]:
    """The scorecard's headline for one underlying: trade days against no-trade days."""
    if not isinstance(card, dict):
        return []
    rows = {row["group"]: row for row in card.get("rows", [])}
    trade, no_trade = rows.get("TRADE"), rows.get("NO_TRADE")
    if not trade or not no_trade or trade.get("mean") is None or no_trade.get("mean") is None:
        return []
    diff, t = trade.get("diff_vs_no_trade"), trade.get("diff_t")
    return [
        f"{card.get('outcome_trust', '').split(':')[0]}: {card['measure']} on trade days {trade['mean']:+.1f} vol pts "
        f"({trade['days']} days, {trade['episodes']} episodes) vs no-trade {no_trade['mean']:+.1f}; "
        f"difference {diff:+.1f}" + (f" (HAC t {t:+.1f})" if t is not None else "")
    ]


def _print_summary(output_dir: Path, json_path: Path, seconds: float) -> None:
    from backtest.heatmaps.outputs import MANIFEST_NAME

    manifest = json.loads((output_dir / MANIFEST_NAME).read_text(encoding="utf-8"))
    cards = _scorecards(output_dir)  # read once, not once per underlying
    print(f"wrote {len(manifest['files'])} files to {output_dir}")
    print(f"  sweet spots: {json_path}")
    print(f"  summary:     {output_dir / 'greg_heatmap_sweetspots.md'}")
    for underlying, info in manifest["underlyings"].items():
        span = info["span"]
        print(f"  {underlying}: {info['samples']} samples"
              + (f" {span[0][:10]} .. {span[1][:10]}" if span else "")
              + f", {info['sweet_spots']} sweet spots ({info['description']})")
        if info.get("absent_sensors"):
            empty = sum(1 for n in info["pair_samples"].values() if n == 0)
            print(f"    no data in this source for {', '.join(info['absent_sensors'])}: "
                  f"{empty} of {len(info['pair_samples'])} pairs have no samples")
        for line in _did_it_pay(cards.get(underlying)):
            print(f"    {line}")
    print(f"{manifest['sweet_spots']} sweet spots in {seconds:.2f} s "
          f"(compute {manifest['compute_seconds']:.2f} s); research only, no trades")


def main(argv: list[str] | None = None, prog: str | None = None) -> int:
    parser = OneLineParser(prog=prog, description="Run the Greg sweet-spot sweep and write its outputs.")
    add_sweep_arguments(parser)
    return run_export(parser.parse_args(argv))
