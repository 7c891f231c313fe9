"""Harvest Deribit option-chain snapshots and daily / hourly history into the data folder.

Files written (``U`` = underlying upper case, ``u`` = lower case), all atomically (a hidden
temp file in the same folder, then ``os.replace``) so a reader never sees half a file:

- ``live_deribit/{U}/{YYYY}/{MM}/{DD}/{U}_{YYYY-MM-DD}_{HHMMSS}.parquet``: one option-chain
  snapshot per harvest (the second in the name: rounds never overwrite each other; the
  readers still take the user's older ``_{HHMM}`` names), with exactly the columns and types of the user's existing harvester
  (``SNAPSHOT_COLUMNS``), so the readers of that layout take both alike;
- ``history/{u}_usd_daily_ohlcv.csv`` (``date,open,high,low,close,volume``, from the
  ``{U}-PERPETUAL`` daily chart) and ``history/{u}_dvol_daily.csv`` (``date,dvol_close``);
- ``volatility_history/{u}_volatility_history.parquet``: hourly DVOL as ``iv_30d``
  (``rv_30d`` / ``vrp_30d`` are left NaN: nothing here measures realized vol, and the
  product never invents a value).

History files are merged, never clobbered: union on the date / timestamp key, the newly
fetched value wins for a key it has (so the still-forming last bar is refreshed on every
run), an existing value survives where the new one is missing. The first run backfills
(400 days daily, 30 days hourly by default); later runs fetch from the last stored key on.
"""

from __future__ import annotations

import re
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from backtest.data.chain import DERIBIT_EXPIRY_HOUR_UTC
from backtest.data.csv_history import read_daily_table
from backtest.data.layout import (
    dvol_history_path,
    ohlcv_history_path,
    snapshot_path,
    volatility_history_path,
)
from backtest.data.parsing import utc_timestamp
from backtest.data.vol_history import (
    VOLATILITY_HISTORY_ARROW_SCHEMA,
    VOLATILITY_HISTORY_COLUMNS,
    read_volatility_history,
    typed_volatility_history,
)
from backtest.harvest.client import DeribitClient
from greg_core.atomic_io import atomic_write
from greg_core.errors import (
    DeribitConfigError,
    DeribitError,
    DeribitOffline,
    DeribitTimeout,
    HarvestDataError,
    MarketDataError,
)
from greg_core.locking import lock_inside, writer_lock

# -- snapshot schema (the user's harvester, column for column) -------------------------------
SNAPSHOT_ARROW_SCHEMA = pa.schema(
    [
        ("harvest_time", pa.timestamp("us", tz="UTC")),
        ("instrument_name", pa.string()),
        ("underlying", pa.string()),
        ("expiry", pa.string()),
        ("expiry_timestamp", pa.float64()),
        ("option_type", pa.string()),
        ("strike", pa.float64()),
        ("underlying_price", pa.float64()),
        ("mark_price", pa.float64()),
        ("best_bid_price", pa.float64()),
        ("best_ask_price", pa.float64()),
        ("bid_iv", pa.float64()),
        ("ask_iv", pa.float64()),
        ("mark_iv", pa.float64()),
        ("open_interest", pa.float64()),
        ("volume", pa.float64()),
        ("greek_delta", pa.float64()),
        ("greek_gamma", pa.float64()),
        ("greek_theta", pa.float64()),
        ("greek_vega", pa.float64()),
    ]
)
SNAPSHOT_COLUMNS: tuple[str, ...] = tuple(SNAPSHOT_ARROW_SCHEMA.names)
_SNAPSHOT_TEXT_COLUMNS = ("instrument_name", "underlying", "expiry", "option_type")

# Snapshot column <- book-summary field. Bid/ask IVs only exist in ticker-shaped rows; the
# book summary has neither them nor greeks, which then stay NaN (as in the user's files).
_NUMERIC_FIELDS: Mapping[str, str] = {
    "underlying_price": "underlying_price",
    "mark_price": "mark_price",
    "best_bid_price": "bid_price",
    "best_ask_price": "ask_price",
    "bid_iv": "bid_iv",
    "ask_iv": "ask_iv",
    "mark_iv": "mark_iv",
    "open_interest": "open_interest",
    "volume": "volume",
}
_GREEKS = ("delta", "gamma", "theta", "vega")

# -- history files ----------------------------------------------------------------------------
OHLCV_COLUMNS: tuple[str, ...] = ("open", "high", "low", "close", "volume")
DVOL_COLUMNS: tuple[str, ...] = ("dvol_close",)
DEFAULT_DAILY_BACKFILL_DAYS = 400
DEFAULT_HOURLY_BACKFILL_DAYS = 30


# =============================================================================================
# Instrument names
# =============================================================================================
_MONTHS = {
    name: number
    for number, name in enumerate(
        ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"),
        start=1,
    )
}
# BTC-27MAR26-300000-C, BTC-2JAN26-91000-P, XRP_USDC-30AUG24-0d625-C ("d" = decimal point).
_OPTION_NAME = re.compile(
    r"^(?P<underlying>[A-Z0-9_]+)-(?P<day>\d{1,2})(?P<month>[A-Z]{3})(?P<year>\d{2})"
    r"-(?P<strike>\d+(?:d\d+)?)-(?P<type>[CP])$"
)


@dataclass(frozen=True)
class OptionInstrument:
    """What a Deribit option name says: underlying, expiry, strike, call or put."""

    name: str
    underlying: str
    expiry: date
    strike: float
    option_type: str  # "C" or "P"

    @property
    def expiry_timestamp(self) -> float:
        """Expiry as epoch seconds (08:00 UTC on the expiry date)."""
        moment = datetime(
            self.expiry.year, self.expiry.month, self.expiry.day, DERIBIT_EXPIRY_HOUR_UTC, tzinfo=UTC
        )
        return moment.timestamp()


def parse_instrument_name(name: Any) -> OptionInstrument | None:
    """The parts of an option name such as ``BTC-27MAR26-300000-C``; None if not an option."""
    if not isinstance(name, str):
        return None
    match = _OPTION_NAME.match(name.strip())
    if match is None or match["month"] not in _MONTHS:
        return None
    try:
        expiry = date(2000 + int(match["year"]), _MONTHS[match["month"]], int(match["day"]))
    except ValueError:  # e.g. 31FEB25
        return None
    return OptionInstrument(
        name=name.strip(),
        underlying=match["underlying"],
        expiry=expiry,
        strike=float(match["strike"].replace("d", ".")),
        option_type=match["type"],
    )


def unparseable_instruments(book_summary: Iterable[Mapping[str, Any]]) -> list[str]:
    """Instrument names of the rows ``snapshot_frame`` skips (not an option name)."""
    return [
        str(row.get("instrument_name"))
        for row in book_summary
        if parse_instrument_name(row.get("instrument_name")) is None
    ]


# =============================================================================================
# Snapshots
# =============================================================================================
def _number(value: Any) -> float:
    """Float of a JSON value; null / missing / junk -> NaN (never an invented 0)."""
    if value is None or isinstance(value, bool):
        return float("nan")
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("nan")


def snapshot_frame(book_summary: Iterable[Mapping[str, Any]], harvest_time: Any) -> pd.DataFrame:
    """Deribit book-summary rows (``kind=option``) as a snapshot in the user's harvester schema.

    Columns ``SNAPSHOT_COLUMNS`` in that order: UTC ``harvest_time`` (microseconds), text
    columns as strings, everything else float64; missing values (no bid, no greeks) are NaN.
    Rows whose name is not an option name are skipped (see ``unparseable_instruments``);
    a name repeated keeps its last row. Sorted by expiry, strike, call before put.
    """
    stamp = utc_timestamp(harvest_time).as_unit("us")
    records: dict[str, dict[str, Any]] = {}
    for row in book_summary:
        instrument = parse_instrument_name(row.get("instrument_name"))
        if instrument is None:
            continue
        greeks = row.get("greeks") if isinstance(row.get("greeks"), Mapping) else {}
        record: dict[str, Any] = {
            "instrument_name": instrument.name,
            "underlying": instrument.underlying,
            "expiry": instrument.expiry.isoformat(),
            "expiry_timestamp": instrument.expiry_timestamp,
            "option_type": instrument.option_type,
            "strike": instrument.strike,
        }
        record.update({column: _number(row.get(key)) for column, key in _NUMERIC_FIELDS.items()})
        record.update({f"greek_{g}": _number(greeks.get(g)) for g in _GREEKS})
        records[instrument.name] = record

    rows = sorted(
        records.values(), key=lambda r: (r["expiry_timestamp"], r["strike"], r["option_type"])
    )
    columns: dict[str, pd.Series] = {
        "harvest_time": pd.Series([stamp] * len(rows), dtype="datetime64[us, UTC]"),
    }
    for name in SNAPSHOT_COLUMNS[1:]:
        values = [r[name] for r in rows]
        dtype = "str" if name in _SNAPSHOT_TEXT_COLUMNS else "float64"
        columns[name] = pd.Series(values, dtype=dtype)
    return pd.DataFrame(columns, columns=list(SNAPSHOT_COLUMNS))


def write_snapshot(
    frame: pd.DataFrame, data_dir: str | Path, underlying: str, harvest_time: Any
) -> Path:
    """Write a ``snapshot_frame`` atomically to its place in the layout; returns the path."""
    table = pa.Table.from_pandas(
        frame[list(SNAPSHOT_COLUMNS)], schema=SNAPSHOT_ARROW_SCHEMA, preserve_index=False
    )
    target = snapshot_path(data_dir, underlying, utc_timestamp(harvest_time))
    return atomic_write(target, lambda tmp: pq.write_table(table, tmp))


# =============================================================================================
# History: pure conversions and merges
# =============================================================================================
def daily_ohlcv_rows(candles: pd.DataFrame) -> pd.DataFrame:
    """Chart candles -> ``open..volume`` indexed by ``date`` ("YYYY-MM-DD", UTC day)."""
    frame = candles.assign(date=candles["timestamp"].dt.strftime("%Y-%m-%d"))
    frame = frame.drop_duplicates("date", keep="last").set_index("date")
    return frame[list(OHLCV_COLUMNS)].astype("float64")


def daily_dvol_rows(candles: pd.DataFrame) -> pd.DataFrame:
    """Daily DVOL candles -> ``dvol_close`` indexed by ``date``."""
    frame = candles.assign(date=candles["timestamp"].dt.strftime("%Y-%m-%d"))
    frame = frame.drop_duplicates("date", keep="last").set_index("date")
    return frame[["close"]].rename(columns={"close": "dvol_close"}).astype("float64")


def hourly_volatility_rows(candles: pd.DataFrame, currency: str, harvest_time: Any) -> pd.DataFrame:
    """Hourly DVOL candles -> volatility-history rows (``rv_30d``/``vrp_30d`` NaN)."""
    n = len(candles)
    frame = pd.DataFrame(
        {
            "timestamp": candles["timestamp"].reset_index(drop=True),
            "iv_30d": candles["close"].reset_index(drop=True),
            "rv_30d": np.full(n, np.nan),
            "vrp_30d": np.full(n, np.nan),
            "currency": [currency.upper()] * n,
            "harvest_time": [utc_timestamp(harvest_time)] * n,
        }
    )
    return typed_volatility_history(frame)


def merge_new_wins(existing: pd.DataFrame, new: pd.DataFrame) -> pd.DataFrame:
    """Union on the index, sorted; a new non-missing value replaces the stored one."""
    if existing.empty:
        return new.sort_index()
    if new.empty:
        return existing.sort_index()
    merged = new.combine_first(existing)
    ordered = list(new.columns) + [c for c in existing.columns if c not in new.columns]
    return merged[ordered].sort_index()


def read_daily_csv(path: Path, columns: Sequence[str]) -> pd.DataFrame:
    """A stored daily history CSV indexed by ``date`` string; empty frame if absent. Read by
    the loaders' own reader (``read_daily_table``), so both agree on what a valid file is."""
    if not path.exists():
        return pd.DataFrame(columns=list(columns), index=pd.Index([], name="date", dtype="str"))
    try:
        frame = read_daily_table(path, columns, allow_empty=True)
    except MarketDataError as exc:
        raise HarvestDataError(f"{exc}; left untouched") from None
    frame.index = pd.Index(frame.index.strftime("%Y-%m-%d"), name="date", dtype="str")
    return frame


def merge_daily_csv(path: Path, new_rows: pd.DataFrame, float_format: str | None = None) -> int:
    """Merge ``new_rows`` (indexed by date) into the CSV at ``path``; returns rows added."""
    existing = read_daily_csv(path, list(new_rows.columns))
    merged = merge_new_wins(existing, new_rows)
    merged.index.name = "date"
    atomic_write(path, lambda tmp: merged.to_csv(tmp, float_format=float_format))
    return len(merged) - len(existing)


def _stored_volatility_history(path: Path) -> pd.DataFrame:
    try:
        return read_volatility_history(path)
    except MarketDataError as exc:
        raise HarvestDataError(f"{exc}; left untouched") from None


def merge_volatility_history(path: Path, new_rows: pd.DataFrame) -> int:
    """Merge hourly rows (as from ``hourly_volatility_rows``) into the parquet; rows added."""
    existing = _stored_volatility_history(path)
    merged = merge_new_wins(existing, new_rows.set_index("timestamp")).reset_index()
    merged = typed_volatility_history(merged)
    extra = [c for c in merged.columns if c not in VOLATILITY_HISTORY_COLUMNS]
    merged = merged[list(VOLATILITY_HISTORY_COLUMNS) + extra]
    if extra:  # keep a user's extra columns rather than drop their data
        table = pa.Table.from_pandas(merged, preserve_index=False)
    else:
        table = pa.Table.from_pandas(
            merged, schema=VOLATILITY_HISTORY_ARROW_SCHEMA, preserve_index=False
        )
    atomic_write(path, lambda tmp: pq.write_table(table, tmp))
    return len(merged) - len(existing)


def fetch_start(
    last_stored: pd.Timestamp | None, now: pd.Timestamp, backfill: pd.Timedelta, floor: str
) -> pd.Timestamp:
    """Where a history fetch starts: the last stored bar (re-fetched, it may have been still
    forming), or ``backfill`` before ``now`` on a first run."""
    if last_stored is None or pd.isna(last_stored):
        return (now - backfill).floor(floor)
    return min(utc_timestamp(last_stored), now)


# =============================================================================================
# History: fetching
# =============================================================================================
@dataclass(frozen=True)
class HistoryUpdate:
    """New rows (new dates / hours, not refreshed ones) per history file."""

    daily_ohlcv_rows_added: int = 0
    daily_dvol_rows_added: int = 0
    hourly_dvol_rows_added: int = 0

    @property
    def total(self) -> int:
        return (
            self.daily_ohlcv_rows_added + self.daily_dvol_rows_added + self.hourly_dvol_rows_added
        )


def _ms(stamp: pd.Timestamp) -> int:
    return int(stamp.value // 1_000_000)


def _last_daily(frame: pd.DataFrame) -> pd.Timestamp | None:
    return None if frame.empty else pd.Timestamp(max(frame.index), tz="UTC")


def update_history(
    client: DeribitClient,
    underlying: str,
    data_dir: str | Path,
    now: Any = None,
    daily_backfill_days: int = DEFAULT_DAILY_BACKFILL_DAYS,
    hourly_backfill_days: int = DEFAULT_HOURLY_BACKFILL_DAYS,
) -> HistoryUpdate:
    """Bring the three history files of ``underlying`` up to ``now``.

    First run: ``daily_backfill_days`` of daily bars and DVOL, ``hourly_backfill_days`` of
    hourly DVOL. Later runs: from the last stored date / hour on. Each file is merged and
    written on its own, so a failure half-way leaves every file whole.
    """
    u = underlying.upper()
    now = utc_timestamp(now if now is not None else pd.Timestamp.now(tz="UTC"))
    end_ms = _ms(now)
    daily_backfill = pd.Timedelta(days=daily_backfill_days)

    ohlcv_path = ohlcv_history_path(data_dir, u)
    start = fetch_start(
        _last_daily(read_daily_csv(ohlcv_path, OHLCV_COLUMNS)), now, daily_backfill, "D"
    )
    candles = client.chart_data(f"{u}-PERPETUAL", _ms(start), end_ms, resolution="1D")
    ohlcv_added = merge_daily_csv(ohlcv_path, daily_ohlcv_rows(candles), float_format="%.6f")

    dvol_path = dvol_history_path(data_dir, u)
    start = fetch_start(
        _last_daily(read_daily_csv(dvol_path, DVOL_COLUMNS)), now, daily_backfill, "D"
    )
    candles = client.volatility_index(u, _ms(start), end_ms, resolution="1D")
    dvol_added = merge_daily_csv(dvol_path, daily_dvol_rows(candles))

    hourly_path = volatility_history_path(data_dir, u)
    stored = _stored_volatility_history(hourly_path)
    last_hour = None if stored.empty else stored.index.max()
    start = fetch_start(last_hour, now, pd.Timedelta(days=hourly_backfill_days), "h")
    candles = client.volatility_index(u, _ms(start), end_ms, resolution="3600")
    hourly_added = merge_volatility_history(
        hourly_path, hourly_volatility_rows(candles, u, harvest_time=now)
    )
    return HistoryUpdate(ohlcv_added, dvol_added, hourly_added)


# =============================================================================================
# Harvest rounds
# =============================================================================================
@dataclass
class UnderlyingHarvest:
    """What one round did for one underlying."""

    underlying: str
    snapshot_path: Path | None = None
    instruments: int = 0
    skipped_rows: int = 0
    index_price: float | None = None
    history: HistoryUpdate | None = None
    error: str | None = None
    offline: bool = False
    timed_out: bool = False
    data_error: bool = False  # a local file is at fault (corrupt history file), not Deribit

    @property
    def history_rows_added(self) -> int:
        return self.history.total if self.history is not None else 0

    def summary_line(self) -> str:
        parts = [f"{self.underlying}:"]
        if self.snapshot_path is not None:
            skipped = f" ({self.skipped_rows} skipped)" if self.skipped_rows else ""
            parts.append(f"{self.instruments} instruments{skipped} -> {self.snapshot_path}")
            if self.index_price is not None:
                parts.append(f"index {self.index_price:,.2f}")
        if self.history is not None:
            h = self.history
            parts.append(
                f"history +{h.total} rows (daily bars +{h.daily_ohlcv_rows_added}, "
                f"DVOL days +{h.daily_dvol_rows_added}, DVOL hours +{h.hourly_dvol_rows_added})"
            )
        if self.error is not None:
            parts.append(f"FAILED: {self.error}")
        return " ".join(parts[:1]) + " " + "; ".join(parts[1:])


@dataclass
class HarvestReport:
    """One harvest round: a result per underlying, in the order asked."""

    harvest_time: pd.Timestamp
    underlyings: list[UnderlyingHarvest] = field(default_factory=list)

    @property
    def errors(self) -> dict[str, str]:
        return {r.underlying: r.error for r in self.underlyings if r.error is not None}

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def data_errors(self) -> bool:
        """Some underlying failed because of a local data file (bad input: exit code 2)."""
        return any(r.data_error for r in self.underlyings)

    def lines(self) -> list[str]:
        stamp = f"{self.harvest_time:%Y-%m-%d %H:%M:%S} UTC"
        return [f"[{stamp}] {r.summary_line()}" for r in self.underlyings]

    def lines_by_outcome(self) -> tuple[list[str], list[str]]:
        """(lines of underlyings that succeeded, lines of those that failed): the command
        line prints the first on stdout, the second on stderr."""
        stamp = f"{self.harvest_time:%Y-%m-%d %H:%M:%S} UTC"
        done = [f"[{stamp}] {r.summary_line()}" for r in self.underlyings if r.error is None]
        failed = [f"[{stamp}] {r.summary_line()}" for r in self.underlyings if r.error is not None]
        return done, failed

    def __str__(self) -> str:
        return "\n".join(self.lines())


def _describe(exc: Exception) -> str:
    if isinstance(exc, DeribitError | HarvestDataError | OSError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"  # unexpected: keep the type for the bug report


def harvest_underlying(
    client: DeribitClient,
    underlying: str,
    data_dir: str | Path,
    harvest_time: pd.Timestamp,
    with_history: bool = True,
) -> UnderlyingHarvest:
    """Snapshot (and history update) for one underlying; failures land in ``.error``."""
    result = UnderlyingHarvest(underlying=underlying.upper())
    try:
        summary = client.book_summary_options(result.underlying)
        index_price = client.index_price(result.underlying)
        frame = snapshot_frame(summary, harvest_time)
        result.skipped_rows = len(unparseable_instruments(summary))
        if frame.empty:
            raise HarvestDataError(
                f"no option instruments for {result.underlying} in the book summary"
            )
        result.snapshot_path = write_snapshot(frame, data_dir, result.underlying, harvest_time)
        result.instruments = len(frame)
        result.index_price = index_price
        if with_history:
            result.history = update_history(client, result.underlying, data_dir, now=harvest_time)
    except DeribitConfigError:
        raise  # the same for every underlying: not a per-underlying failure
    except DeribitOffline as exc:
        result.error, result.offline = str(exc), True
        result.timed_out = isinstance(exc, DeribitTimeout)
    except (HarvestDataError, MarketDataError) as exc:
        result.error, result.data_error = str(exc), True
    except Exception as exc:  # one underlying failing must not stop the others
        result.error = _describe(exc)
    return result


def harvest_lock(data_dir: str | Path):
    """The data folder's harvest lock (``greg_core.locking``): one harvester per folder. A
    second one is refused at once with ``FolderBusyError`` naming the first."""
    return writer_lock(lock_inside(Path(data_dir), "harvest"), f"the data folder {data_dir}")


def harvest_once(
    client: DeribitClient,
    underlyings: Sequence[str],
    data_dir: str | Path,
    now: Any = None,
    with_history: bool = True,
) -> HarvestReport:
    """One round (holding ``harvest_lock``); see ``harvest_round``."""
    with harvest_lock(data_dir):
        return harvest_round(client, underlyings, data_dir, now, with_history)


def harvest_round(
    client: DeribitClient,
    underlyings: Sequence[str],
    data_dir: str | Path,
    now: Any = None,
    with_history: bool = True,
) -> HarvestReport:
    """One round over ``underlyings``: snapshot + history each, failures kept per underlying.
    The caller holds ``harvest_lock``.

    Once Deribit proved unreachable (after the client's retries), the remaining underlyings
    of the round are marked offline without being tried: the retries already took long
    enough, and the next round tries again. Raises ``DeribitOffline`` only when Deribit could
    not be reached for any underlying and nothing at all was written.
    """
    harvest_time = utc_timestamp(now if now is not None else pd.Timestamp.now(tz="UTC"))
    report = HarvestReport(harvest_time=harvest_time)
    unreachable: str | None = None
    for underlying in underlyings:
        if unreachable is not None:
            skipped = UnderlyingHarvest(underlying.upper(), error=unreachable, offline=True)
            report.underlyings.append(skipped)
            continue
        result = harvest_underlying(client, underlying, data_dir, harvest_time, with_history)
        report.underlyings.append(result)
        if result.offline:
            unreachable = f"not tried, Deribit unreachable ({result.error})"
    if report.underlyings and all(
        r.offline and r.snapshot_path is None for r in report.underlyings
    ):
        first = report.underlyings[0]
        error = DeribitTimeout if first.timed_out else DeribitOffline
        raise error(f"{first.error} (no data was written)", client.base_url, reason=first.error or "")
    return report


def _print_to_stderr(message: str) -> None:
    print(message, file=sys.stderr)


def harvest_loop(
    client: DeribitClient,
    underlyings: Sequence[str],
    data_dir: str | Path,
    interval_seconds: float,
    stop_event: threading.Event | None = None,
    on_report: Callable[[HarvestReport], Any] = print,
    on_offline: Callable[[str], Any] = _print_to_stderr,
    max_rounds: int | None = None,
) -> int:
    """Harvest every ``interval_seconds`` (measured start to start) until ``stop_event`` is set
    (or ``max_rounds`` rounds ran); returns the number of rounds. Holds ``harvest_lock`` the
    whole time.

    If Deribit has never been reached in this loop, ``DeribitOffline`` propagates (most likely
    no network or a wrong URL: better said at once). After that, an offline round is reported
    through ``on_offline`` and the loop carries on, riding out a temporary outage.
    """
    if interval_seconds <= 0:
        raise ValueError("interval_seconds must be > 0")
    stop_event = stop_event or threading.Event()
    rounds, reached = 0, False
    with harvest_lock(data_dir):
        while not stop_event.is_set():
            started = time.monotonic()
            try:
                report = harvest_round(client, underlyings, data_dir)
            except DeribitOffline as exc:
                if not reached:
                    raise
                on_offline(f"{exc}; next try in {interval_seconds:g}s")
            else:
                reached = True
                on_report(report)
            rounds += 1
            if max_rounds is not None and rounds >= max_rounds:
                break
            stop_event.wait(max(0.0, interval_seconds - (time.monotonic() - started)))
    return rounds
