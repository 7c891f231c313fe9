"""``greg-tui harvest``: snapshot Deribit option chains and history into the data folder.

    greg-tui harvest --underlying BTC ETH [--data-dir data] [--interval 15m] [--once]
                     [--base-url URL]

Prints one line per underlying per round. Exit codes: 0 done (or stopped with Ctrl-C),
1 Deribit unreachable or (with ``--once``) an underlying failed, 2 bad arguments.
Errors are one plain line on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from urllib.parse import urlparse

from backtest.harvest.client import (
    BASE_URL_ENV_VAR,
    DeribitClient,
    DeribitOffline,
    resolve_base_url,
)
from backtest.harvest.harvester import harvest_loop, harvest_once

PROG = "greg-tui harvest"
DEFAULT_INTERVAL = "15m"
_INTERVAL = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|sec|m|min|h|hr)\s*$", re.IGNORECASE)
_UNIT_SECONDS = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "hr": 3600}
_UNDERLYING = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,15}$")
MIN_INTERVAL_SECONDS = 5.0  # below that the public rate limits bite and nothing changes


class _UsageError(Exception):
    """A bad command line; the message is the one line shown."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        # argparse would print the whole usage and exit; we want one line and a return code.
        raise _UsageError(message)


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
    parsed = urlparse(text)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise argparse.ArgumentTypeError(
            f"got {text!r}; use an http(s) URL such as https://www.deribit.com/api/v2"
        )
    return text.rstrip("/")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
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
        help=f"API base URL (default: ${BASE_URL_ENV_VAR} or {resolve_base_url(None)})",
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


def main(argv: list[str] | None = None) -> int:
    """Run the command; returns the exit code."""
    try:
        args = _parse(list(sys.argv[1:] if argv is None else argv))
    except _UsageError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    except SystemExit as exc:  # --help
        return int(exc.code or 0)

    rounds = 0
    try:
        with DeribitClient(base_url=args.base_url) as client:
            if args.once:
                report = harvest_once(client, args.underlying, _data_dir(args))
                print(report, flush=True)
                return 0 if report.ok else 1

            def show(report: object) -> None:
                nonlocal rounds
                rounds += 1
                print(report, flush=True)

            harvest_loop(client, args.underlying, _data_dir(args), args.interval, on_report=show)
            return 0
    except DeribitOffline as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"{PROG}: stopped (Ctrl-C) after {rounds} round(s)", flush=True)
        return 0
