"""``greg-tui harvest``: snapshot Deribit option chains and history into the data folder.

    greg-tui harvest --underlying BTC ETH [--data-dir data] [--interval 15m] [--once]
                     [--base-url URL]

Prints one line per underlying per round: on stdout when it succeeded, on stderr when it
failed. Exit codes (``greg_tui.command_line``): 0 done (or stopped with Ctrl-C); 1 Deribit
unreachable or timed out, another harvester holds the data folder, or (with ``--once``) an
underlying failed on Deribit's side; 2 bad arguments, a malformed base URL (``--base-url`` /
``$GREG_DERIBIT_BASE_URL``), or (with ``--once``) a local data file that cannot be merged
into. Errors are one plain line on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from backtest.harvest.client import (
    BASE_URL_ENV_VAR,
    DEFAULT_BASE_URL,
    DeribitClient,
    DeribitOffline,
    check_base_url,
)
from backtest.harvest.harvester import HarvestReport, harvest_loop, harvest_once
from greg_core.errors import DeribitConfigError, FolderBusyError
from greg_tui.command_line import (
    EXIT_FAILED,
    EXIT_OK,
    EXIT_USAGE,
    OneLineParser,
    print_error,
    warnings_as_lines,
)

PROG = "greg-tui harvest"
DEFAULT_INTERVAL = "15m"
_INTERVAL = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|sec|m|min|h|hr)\s*$", re.IGNORECASE)
_UNIT_SECONDS = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "hr": 3600}
_UNDERLYING = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,15}$")
# Below that the public rate limits bite and nothing changes; it also keeps the names of a
# loop's snapshots (to the second) unique.
MIN_INTERVAL_SECONDS = 5.0


def parse_interval(text: str) -> float:
    """``30s`` / ``5m`` / ``15m`` / ``1h`` -> seconds."""
    match = _INTERVAL.match(text)
    if match is None:
        raise argparse.ArgumentTypeError(f"got {text!r}; use a number and a unit: 30s, 5m, 15m, 1h")
    seconds = float(match[1]) * _UNIT_SECONDS[match[2].lower()]
    if seconds < MIN_INTERVAL_SECONDS:
        raise argparse.ArgumentTypeError(
            f"got {text!r}; the shortest interval is {MIN_INTERVAL_SECONDS:g}s"
        )
    return seconds


def _underlying(text: str) -> str:
    if not _UNDERLYING.match(text):
        raise argparse.ArgumentTypeError(f"got {text!r}; use a currency code such as BTC or ETH")
    return text.upper()


def _base_url(text: str) -> str:
    try:
        return check_base_url(text)
    except DeribitConfigError:
        raise argparse.ArgumentTypeError(f"got {text!r}; use an http(s) URL such as {DEFAULT_BASE_URL}") from None


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog=PROG,
        description="Harvest Deribit option-chain snapshots and daily/hourly history "
        "(public API, no key).",
    )
    parser.add_argument(
        "--underlying",
        nargs="+",
        type=_underlying,
        default=["BTC", "ETH"],
        metavar="U",
        help="underlyings to harvest (default: BTC ETH)",
    )
    parser.add_argument(
        "--data-dir", default=None,
        help="data folder (default: $GREG_DATA_DIR, else the repository's data/, where sweeps look)",
    )
    parser.add_argument(
        "--interval",
        type=parse_interval,
        default=parse_interval(DEFAULT_INTERVAL),
        help=f"time between rounds: 30s, 5m, 15m, 1h (default: {DEFAULT_INTERVAL})",
    )
    parser.add_argument("--once", action="store_true", help="one round, then exit")
    parser.add_argument(
        "--base-url",
        type=_base_url,
        default=None,
        help=f"API base URL (default: ${BASE_URL_ENV_VAR} or {DEFAULT_BASE_URL})",
    )
    return parser


def _parse(argv: list[str]) -> argparse.Namespace:
    if argv and argv[0] == "harvest":  # accept being handed the sub-command too
        argv = argv[1:]
    return build_parser().parse_args(argv)


def _data_dir(args) -> Path:
    """The same default folder the sweep reads (``greg_core.settings.default_data_dir``)."""
    from greg_core.settings import default_data_dir

    return Path(args.data_dir) if args.data_dir else default_data_dir()


def print_report(report: HarvestReport) -> None:
    """Succeeded underlyings on stdout, failed ones on stderr."""
    done, failed = report.lines_by_outcome()
    for line in done:
        print(line, flush=True)
    for line in failed:
        print(line, file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    """Run the command; returns the exit code."""
    try:
        args = _parse(list(sys.argv[1:] if argv is None else argv))
    except SystemExit as exc:  # a bad argument (one line printed) or --help
        return int(exc.code or 0)

    rounds = 0
    try:
        with warnings_as_lines(), DeribitClient(base_url=args.base_url) as client:
            if args.once:
                report = harvest_once(client, args.underlying, _data_dir(args))
                print_report(report)
                return EXIT_OK if report.ok else EXIT_USAGE if report.data_errors else EXIT_FAILED

            def show(report: HarvestReport) -> None:
                nonlocal rounds
                rounds += 1
                print_report(report)

            harvest_loop(client, args.underlying, _data_dir(args), args.interval, on_report=show)
            return EXIT_OK
    except DeribitConfigError as exc:
        print_error(exc, PROG)
        return EXIT_USAGE
    except (DeribitOffline, FolderBusyError) as exc:
        print_error(exc, PROG)
        return EXIT_FAILED
    except OSError as exc:  # the data folder cannot be created or written
        print_error(f"{exc.strerror or exc} ({exc.filename or _data_dir(args)})", PROG)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print(f"{PROG}: stopped (Ctrl-C) after {rounds} round(s)", flush=True)
        return EXIT_OK
