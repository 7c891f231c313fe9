"""Harvested Deribit option-chain snapshots -> the raw market data contract.

The user's harvester writes one parquet file per chain snapshot (docs/data-sources.md "Option-chain
snapshots")::

    {data_dir}/live_deribit/{U}/{YYYY}/{MM}/{DD}/{U}_{YYYY-MM-DD}_{HHMMSS}.parquet

(older harvests, the user's files included, name them ``_{HHMM}``; both are read). Each snapshot becomes one row of the raw market data frame (``RAW_COLUMNS``, vol points):

* ``open = high = low = close`` = spot, the median ``underlying_price`` of the snapshot's live
  quotes. Deribit quotes each expiry against its own synthetic future, so this is a blend of
  near-dated forwards: within a few basis points of the index for the short expiries that
  dominate the row count, which is all a daily close-to-close sensor needs.
* ``iv_30d`` / ``iv_7d``: ATM IV of every expiry (interpolated at the expiry's forward, in
  log-moneyness, between the nearest strikes below and above it, each strike carrying its
  out-of-the-money option's ``mark_iv``), then interpolated between the two expiries that
  bracket 7 / 30 days linearly in total variance ``w = iv^2 T``.
* ``iv_25d_put`` / ``iv_25d_call``: per expiry, the IV where the Black-Scholes forward delta
  (r = 0, forward = the expiry's ``underlying_price``, vol = ``mark_iv``) of the OTM puts /
  calls crosses -0.25 / +0.25 (linear interpolation in delta between the bracketing quotes),
  then the same total-variance interpolation to 30 days.

Choices worth knowing:

* Tenors outside the listed expiries use flat IV extrapolation (the nearest usable expiry's
  IV): extrapolating a total-variance slope beyond the data invents term structure.
* Expiries with less than ``MIN_EXPIRY_DAYS`` (1 day) to go are not used for the 7/30-day
  interpolation: their total variance is ~0 so they carry almost no information about a
  7-day vol, their marks are dominated by intraday noise (event hours, pinning) and their
  deltas collapse towards 0/1, so a 25-delta strike falls between two listed strikes far
  apart in delta. Deribit lists daily expiries, so a 2-7 day expiry always remains.
* Quotes are dropped and counted per reason: no ``mark_iv``; ``mark_iv <= 0`` or ``> 500``;
  expired (``expiry_timestamp <= harvest time``); incomplete (no strike / forward / expiry /
  option type). Each quote counts under the first reason that applies, in that order.
* ``greek_delta``, when the harvester filled it, is only a cross-check of our own delta (its
  maximum absolute difference is recorded per snapshot and a warning is raised above
  ``DELTA_CROSSCHECK_TOLERANCE``); Deribit's greeks are often missing, and a source that is
  sometimes there must not change the numbers.
* A file that cannot be read, lacks the required columns or has no rows is skipped with a
  ``ChainFileWarning`` naming it; the rest still loads. Files outside ``start``/``end`` are
  never opened (the folder and file names carry the date).

Diagnostics: ``load_harvested_chain_with_diagnostics`` returns a ``ChainLoadResult`` (frame,
per-snapshot diagnostics, skipped files). ``load_harvested_chain`` returns only the frame.
The diagnostics are deliberately not stored in ``frame.attrs``: pandas deep-copies attrs on
every operation and compares them in ``concat``, which a DataFrame value breaks.

The whole computation is vectorized over all snapshots at once (one concatenated quote
table, numpy/pandas group-bys keyed by snapshot and expiry); there is no Python loop per quote
or per snapshot beyond reading the files.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from backtest.data.layout import CHAIN_FOLDER
from backtest.data.parsing import utc_timestamp
from greg_core.black_scholes import option_delta
from greg_core.contract import MAX_IV_POINTS, PRICE_COLUMNS, RAW_COLUMNS, VOL_COLUMNS
from greg_core.errors import ChainFileWarning, MarketDataError, one_line

SECONDS_PER_YEAR = 365.0 * 86400.0  # ACT/365, time measured in seconds
SHORT_TENOR_DAYS = 7.0
LONG_TENOR_DAYS = 30.0
WING_DELTA = 0.25
MIN_EXPIRY_DAYS = 1.0
MAX_MARK_IV = MAX_IV_POINTS
DELTA_CROSSCHECK_TOLERANCE = 0.05
# Deribit options expire at 08:00 UTC on their expiry date (the harvester uses it too); here
# it is used only when a file has `expiry` but no timestamp.
DERIBIT_EXPIRY_HOUR_UTC = 8
SUPPORTED_BARS: dict[str, str] = {"1h": "1h", "1d": "1D"}

REQUIRED_COLUMNS: tuple[str, ...] = ("strike", "option_type", "underlying_price", "mark_iv")
# Read only what the computation needs; `expiry` is a fallback for `expiry_timestamp`.
_WANTED_COLUMNS: tuple[str, ...] = (
    "harvest_time",
    "expiry_timestamp",
    "expiry",
    *REQUIRED_COLUMNS,
    "greek_delta",
)
DROP_REASONS: tuple[str, ...] = ("no_mark_iv", "bad_mark_iv", "expired", "incomplete")
_IO_THREADS = 4  # parquet decoding releases the GIL; a small pool overlaps file IO


@dataclass(frozen=True)
class SnapshotFile:
    """One harvester file and the time its name carries (UTC; seconds, or minutes for
    names of older harvests)."""

    path: Path
    named_time: pd.Timestamp


@dataclass(frozen=True)
class SkippedFile:
    path: Path
    reason: str


@dataclass(frozen=True)
class ChainLoadResult:
    """What ``load_harvested_chain_with_diagnostics`` found.

    ``frame``: the raw market data frame (per snapshot, or per bar).
    ``snapshots``: per-snapshot diagnostics indexed by harvest time: ``file``, ``rows``,
    ``dropped_<reason>`` for each of ``DROP_REASONS``, ``rows_used``, ``expiries_listed``,
    ``expiries_used`` (>= 1 day and with an ATM IV), ``expiries_too_short``, ``spot`` and
    ``max_abs_delta_diff`` (vs ``greek_delta``; NaN when the file has no greeks).
    """

    frame: pd.DataFrame
    snapshots: pd.DataFrame
    skipped_files: tuple[SkippedFile, ...]
    files_found: int
    chain_dir: Path
    bar: str | None

    def summary(self) -> dict:
        """JSON-ready totals for a run manifest."""
        dropped = {r: int(self.snapshots[f"dropped_{r}"].sum()) for r in DROP_REASONS}
        index = self.snapshots.index
        return {
            "chain_dir": str(self.chain_dir),
            "bar": self.bar or "snapshot",
            "files_found": self.files_found,
            "snapshots_loaded": len(self.snapshots),
            "files_skipped": [
                {"file": str(s.path), "reason": s.reason} for s in self.skipped_files
            ],
            "quotes_read": int(self.snapshots["rows"].sum()),
            "quotes_used": int(self.snapshots["rows_used"].sum()),
            "quotes_dropped": dropped,
            "first_snapshot": index.min().isoformat() if len(index) else None,
            "last_snapshot": index.max().isoformat() if len(index) else None,
            "rows": len(self.frame),
        }


# --------------------------------------------------------------------------- files


def _bounds(start: object, end: object) -> tuple[pd.Timestamp | None, pd.Timestamp | None]:
    """Inclusive [start, end] in UTC. A date-only end (midnight) means the whole day."""
    lower = None if start is None else utc_timestamp(start)
    upper = None
    if end is not None:
        upper = utc_timestamp(end)
        date_only = isinstance(end, date) and not isinstance(end, datetime)
        if date_only or upper == upper.normalize():
            upper = upper.normalize() + pd.Timedelta(days=1) - pd.Timedelta(1, "ns")
    if lower is not None and upper is not None and lower > upper:
        raise ValueError(f"start {lower} is after end {upper}")
    return lower, upper


def resolve_chain_dir(data_dir: str | Path, underlying: str) -> Path:
    """The ``live_deribit/{U}`` folder under ``data_dir`` (also accepts that folder itself,
    or ``live_deribit``)."""
    root = Path(data_dir)
    symbol = underlying.upper()
    if (root / CHAIN_FOLDER / symbol).is_dir():
        return root / CHAIN_FOLDER / symbol
    if root.name == CHAIN_FOLDER and (root / symbol).is_dir():
        return root / symbol
    if root.name.upper() == symbol and root.is_dir():
        return root
    raise MarketDataError(f"{root / CHAIN_FOLDER / symbol}: no harvested option-chain folder")


def _numbered_dirs(folder: Path, digits: int) -> list[tuple[int, Path]]:
    found = []
    for child in folder.iterdir():
        if child.is_dir() and len(child.name) == digits and child.name.isdigit():
            found.append((int(child.name), child))
    return sorted(found)


def _named_time(pattern: re.Pattern, path: Path) -> pd.Timestamp | None:
    """The UTC time a snapshot's name carries (``HHMMSS``, or ``HHMM`` of older harvests),
    None when the name does not follow the layout or is not a real time (``_2460``)."""
    match = pattern.match(path.name)
    if match is None:
        return None
    clock = match.group(2)
    try:
        return pd.Timestamp(
            datetime.strptime(f"{match.group(1)} {clock}", "%Y-%m-%d %H%M%S" if len(clock) == 6 else "%Y-%m-%d %H%M"),
            tz="UTC",
        )
    except ValueError:
        return None


def list_snapshot_files(
    data_dir: str | Path, underlying: str, start: object = None, end: object = None
) -> list[SnapshotFile]:
    """Snapshot files in time order, pruned by the folder and file names (nothing is opened).

    A name may carry the minute only (older harvests), so a bound with seconds is applied
    exactly after reading (``load_harvested_chain``); here the pruning is conservative. A
    file whose name does not parse (``BTC_2025-12-11_2460.parquet``) is skipped with a
    ``ChainFileWarning``, like an unreadable one.
    """
    chain_dir = resolve_chain_dir(data_dir, underlying)
    symbol = underlying.upper()
    lower, upper = _bounds(start, end)
    first_day = lower.date() if lower is not None else date.min
    last_day = upper.date() if upper is not None else date.max
    first_month, last_month = (first_day.year, first_day.month), (last_day.year, last_day.month)
    name_pattern = re.compile(
        rf"^{re.escape(symbol)}_(\d{{4}}-\d{{2}}-\d{{2}})_(\d{{4}}|\d{{6}})\.parquet$"
    )

    files: list[SnapshotFile] = []
    for year, year_dir in _numbered_dirs(chain_dir, 4):
        if not first_day.year <= year <= last_day.year:
            continue
        for month, month_dir in _numbered_dirs(year_dir, 2):
            if not first_month <= (year, month) <= last_month:
                continue
            for day, day_dir in _numbered_dirs(month_dir, 2):
                try:
                    folder_day = date(year, month, day)
                except ValueError:
                    continue
                if not first_day <= folder_day <= last_day:
                    continue
                for path in sorted(day_dir.glob("*.parquet")):
                    if path.name.startswith("."):
                        continue  # a writer's hidden temp file, not a snapshot
                    named = _named_time(name_pattern, path)
                    if named is None:
                        warnings.warn(
                            f"{path}: skipped, name is not "
                            f"{symbol}_YYYY-MM-DD_HHMMSS.parquet (or _HHMM) with a real date and time",
                            ChainFileWarning,
                            stacklevel=2,
                        )
                        continue
                    if lower is not None and named < lower.floor("min"):
                        continue
                    if upper is not None and named > upper:
                        continue
                    files.append(SnapshotFile(path, named))
    return sorted(files, key=lambda f: (f.named_time, f.path.name))


# ------------------------------------------------------------------------- reading


@dataclass(frozen=True)
class _Snapshot:
    file: SnapshotFile
    harvest_ns: int
    expiry_s: np.ndarray
    strike: np.ndarray
    forward: np.ndarray
    mark_iv: np.ndarray
    is_call: np.ndarray
    known_type: np.ndarray
    greek_delta: np.ndarray


def _as_float(table: pa.Table, name: str) -> np.ndarray:
    try:
        column = pc.cast(table.column(name), pa.float64())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise ValueError(f"column '{name}' is not numeric") from exc
    return column.to_numpy()


def _epoch_seconds(values: np.ndarray) -> np.ndarray:
    # Harvester stores seconds; Deribit's API speaks milliseconds. Tell them apart by size.
    finite = values[np.isfinite(values)]
    return values / 1000.0 if finite.size and np.nanmedian(finite) > 1e11 else values


def _expiry_seconds(table: pa.Table) -> np.ndarray:
    if "expiry_timestamp" in table.column_names:
        return _epoch_seconds(_as_float(table, "expiry_timestamp"))
    stamps = pd.to_datetime(table.column("expiry").to_pandas(), utc=True, errors="coerce")
    stamps = stamps + pd.Timedelta(hours=DERIBIT_EXPIRY_HOUR_UTC)
    seconds = stamps.to_numpy(dtype="datetime64[ns]").astype("int64") / 1e9
    return np.where(stamps.isna().to_numpy(), np.nan, seconds)


def _harvest_ns(table: pa.Table, fallback: pd.Timestamp) -> int:
    """Latest harvest_time in the file (UTC ns); the file-name time when absent or unusable."""
    if "harvest_time" not in table.column_names:
        return fallback.value
    column = table.column("harvest_time")
    try:
        if pa.types.is_timestamp(column.type):
            latest = pc.max(pc.cast(column, pa.int64())).as_py()
            stamp = (
                None if latest is None else pd.Timestamp(latest, unit=column.type.unit, tz="UTC")
            )
        elif pa.types.is_integer(column.type) or pa.types.is_floating(column.type):
            latest = pc.max(column).as_py()
            unit = "ms" if latest is not None and latest > 1e11 else "s"
            stamp = None if latest is None else pd.Timestamp(latest, unit=unit, tz="UTC")
        else:
            latest = pc.max(pc.cast(column, pa.string())).as_py()
            stamp = None if latest is None else utc_timestamp(latest)
    except (ValueError, TypeError, pa.ArrowException):
        stamp = None
    return fallback.value if stamp is None or pd.isna(stamp) else stamp.as_unit("ns").value


def _read_snapshot(file: SnapshotFile) -> _Snapshot | SkippedFile:
    try:
        parquet = pq.ParquetFile(file.path)
        names = set(parquet.schema_arrow.names)
        missing = [c for c in REQUIRED_COLUMNS if c not in names]
        if "expiry_timestamp" not in names and "expiry" not in names:
            missing.append("expiry_timestamp")
        if missing:
            return SkippedFile(file.path, f"missing column(s) {', '.join(missing)}")
        # One file is ~700 rows: arrow's own thread pool costs more than it saves here.
        table = parquet.read(columns=[c for c in _WANTED_COLUMNS if c in names], use_threads=False)
        if table.num_rows == 0:
            return SkippedFile(file.path, "no rows")
        option_type = pc.utf8_upper(
            pc.utf8_slice_codeunits(pc.cast(table.column("option_type"), pa.string()), 0, 1)
        )
        is_call = pc.fill_null(pc.equal(option_type, "C"), False).to_numpy(zero_copy_only=False)
        is_put = pc.fill_null(pc.equal(option_type, "P"), False).to_numpy(zero_copy_only=False)
        delta = (
            _as_float(table, "greek_delta")
            if "greek_delta" in names
            else np.full(table.num_rows, np.nan)
        )
        return _Snapshot(
            file=file,
            harvest_ns=_harvest_ns(table, file.named_time),
            expiry_s=_expiry_seconds(table),
            strike=_as_float(table, "strike"),
            forward=_as_float(table, "underlying_price"),
            mark_iv=_as_float(table, "mark_iv"),
            is_call=is_call,
            known_type=is_call | is_put,
            greek_delta=delta,
        )
    except (OSError, ValueError, TypeError, pa.ArrowException) as exc:
        return SkippedFile(file.path, f"unreadable parquet ({type(exc).__name__}: {one_line(exc, 200)})")


def _read_all(files: list[SnapshotFile]) -> list[_Snapshot | SkippedFile]:
    if len(files) < 8:
        return [_read_snapshot(f) for f in files]
    with ThreadPoolExecutor(max_workers=_IO_THREADS) as pool:
        return list(pool.map(_read_snapshot, files))


# ---------------------------------------------------------------------- the surface


def _quote_table(snapshots: list[_Snapshot]) -> pd.DataFrame:
    """All quotes of all snapshots in one frame, ``snap`` = position in ``snapshots``."""
    sizes = [len(s.strike) for s in snapshots]
    snap = np.repeat(np.arange(len(snapshots), dtype=np.int64), sizes)
    harvest_s = np.array([s.harvest_ns for s in snapshots], dtype=np.int64) / 1e9
    return pd.DataFrame(
        {
            "snap": snap,
            "harvest_s": harvest_s[snap],
            "expiry_s": np.concatenate([s.expiry_s for s in snapshots]),
            "strike": np.concatenate([s.strike for s in snapshots]),
            "forward": np.concatenate([s.forward for s in snapshots]),
            "mark_iv": np.concatenate([s.mark_iv for s in snapshots]),
            "is_call": np.concatenate([s.is_call for s in snapshots]),
            "known_type": np.concatenate([s.known_type for s in snapshots]),
            "greek_delta": np.concatenate([s.greek_delta for s in snapshots]),
        }
    )


def _drop_reasons(quotes: pd.DataFrame) -> np.ndarray:
    """Per quote: index into DROP_REASONS of the first reason that applies, -1 if usable."""
    iv = quotes["mark_iv"].to_numpy()
    no_iv = ~np.isfinite(iv)
    bad_iv = ~no_iv & ((iv <= 0.0) | (iv > MAX_MARK_IV))
    expired = quotes["expiry_s"].to_numpy() <= quotes["harvest_s"].to_numpy()
    strike, forward = quotes["strike"].to_numpy(), quotes["forward"].to_numpy()
    incomplete = ~(
        np.isfinite(strike)
        & (strike > 0)
        & np.isfinite(forward)
        & (forward > 0)
        & np.isfinite(quotes["expiry_s"].to_numpy())
        & quotes["known_type"].to_numpy()
    )
    reason = np.full(len(quotes), -1, dtype=np.int64)
    # Assign in reverse so the first listed reason wins.
    for code, mask in reversed(list(enumerate((no_iv, bad_iv, expired, incomplete)))):
        reason[mask] = code
    # NaN expiry compares False above, so an expiry-less quote lands in "incomplete".
    return reason


def _interpolate_linear(x0, y0, x1, y1, x):
    """Linear interpolation; where the two abscissae coincide, y0."""
    span = x1 - x0
    with np.errstate(invalid="ignore", divide="ignore"):
        weight = np.where(span != 0, (x - x0) / np.where(span != 0, span, 1.0), 0.0)
    return y0 + weight * (y1 - y0)


def _bracket(
    frame: pd.DataFrame, group: str, x: str, target: float | np.ndarray, columns: Iterable[str]
) -> pd.DataFrame:
    """Per group, the row with the largest ``x <= target`` (suffix _lo) and the smallest
    ``x >= target`` (suffix _hi). ``frame`` must be sorted by (group, x)."""
    columns = [x, *columns]
    below = frame.loc[frame[x].to_numpy() <= target].groupby(group)[columns].last()
    above = frame.loc[frame[x].to_numpy() >= target].groupby(group)[columns].first()
    return below.add_suffix("_lo").join(above.add_suffix("_hi"), how="outer")


def _atm_iv_by_expiry(quotes: pd.DataFrame, forward: np.ndarray) -> np.ndarray:
    """ATM IV (vol pts) per expiry group, NaN when the forward is not inside the strikes."""
    by_strike = (
        quotes.groupby(["expiry_id", "strike", "is_call"])["mark_iv"]
        .mean()
        .unstack("is_call")
        .reindex(columns=[False, True])
    )
    expiry_id = by_strike.index.get_level_values("expiry_id").to_numpy()
    strike = by_strike.index.get_level_values("strike").to_numpy()
    put_iv, call_iv = by_strike[False].to_numpy(), by_strike[True].to_numpy()
    fwd = forward[expiry_id]
    # The OTM option is the liquid one (call above the forward, put below); fall back to
    # whichever side is quoted.
    otm_iv = np.where(
        strike >= fwd,
        np.where(np.isfinite(call_iv), call_iv, put_iv),
        np.where(np.isfinite(put_iv), put_iv, call_iv),
    )
    # Rows come out of groupby sorted by (expiry, strike), hence by log-moneyness too.
    smile = pd.DataFrame(
        {"expiry_id": expiry_id, "log_moneyness": np.log(strike / fwd), "iv": otm_iv}
    )
    sides = _bracket(smile, "expiry_id", "log_moneyness", 0.0, ["iv"])
    atm = _interpolate_linear(
        sides["log_moneyness_lo"].to_numpy(),
        sides["iv_lo"].to_numpy(),
        sides["log_moneyness_hi"].to_numpy(),
        sides["iv_hi"].to_numpy(),
        0.0,
    )
    out = np.full(len(forward), np.nan)
    out[sides.index.to_numpy()] = atm
    return out


def _forward_delta(quotes: pd.DataFrame, forward: np.ndarray, years: np.ndarray) -> np.ndarray:
    """Black-Scholes forward delta (r = 0) of every quote at its own mark_iv."""
    expiry_id = quotes["expiry_id"].to_numpy()
    fwd, t = forward[expiry_id], years[expiry_id]
    vol = quotes["mark_iv"].to_numpy() / 100.0
    return option_delta(fwd, quotes["strike"].to_numpy(), vol, t, quotes["is_call"].to_numpy())


def _wing_iv_by_expiry(
    quotes: pd.DataFrame, delta: np.ndarray, forward: np.ndarray, calls: bool
) -> np.ndarray:
    """IV (vol pts) where the OTM calls' delta is +0.25 (or the OTM puts' -0.25), per expiry;
    NaN when no quotes bracket that delta (no extrapolation in delta)."""
    is_call = quotes["is_call"].to_numpy()
    strike = quotes["strike"].to_numpy()
    fwd = forward[quotes["expiry_id"].to_numpy()]
    otm = (is_call & (strike > fwd)) if calls else (~is_call & (strike < fwd))
    wing = pd.DataFrame(
        {
            "expiry_id": quotes["expiry_id"].to_numpy()[otm],
            "abs_delta": np.abs(delta[otm]),
            "iv": quotes["mark_iv"].to_numpy()[otm],
        }
    )
    wing = wing[np.isfinite(wing["abs_delta"].to_numpy())].sort_values(
        ["expiry_id", "abs_delta"], kind="stable"
    )
    sides = _bracket(wing, "expiry_id", "abs_delta", WING_DELTA, ["iv"])
    iv = _interpolate_linear(
        sides["abs_delta_lo"].to_numpy(),
        sides["iv_lo"].to_numpy(),
        sides["abs_delta_hi"].to_numpy(),
        sides["iv_hi"].to_numpy(),
        WING_DELTA,
    )
    out = np.full(len(forward), np.nan)
    out[sides.index.to_numpy()] = iv
    return out


def _term_interpolate(expiries: pd.DataFrame, column: str, tenor_years: float) -> pd.Series:
    """Per snapshot, ``column`` (vol pts) at ``tenor_years``: linear in total variance between
    the bracketing expiries, flat IV beyond the first / last usable expiry."""
    usable = expiries.loc[np.isfinite(expiries[column].to_numpy()), ["snap", "years", column]]
    sides = _bracket(usable, "snap", "years", tenor_years, [column])
    t_lo, t_hi = sides["years_lo"].to_numpy(), sides["years_hi"].to_numpy()
    iv_lo, iv_hi = sides[f"{column}_lo"].to_numpy(), sides[f"{column}_hi"].to_numpy()
    variance = _interpolate_linear(t_lo, iv_lo**2 * t_lo, t_hi, iv_hi**2 * t_hi, tenor_years)
    interpolated = np.sqrt(np.maximum(variance, 0.0) / tenor_years)
    # Flat extrapolation: only one side exists when the tenor is outside the expiries.
    value = np.where(np.isnan(t_lo), iv_hi, np.where(np.isnan(t_hi), iv_lo, interpolated))
    return pd.Series(value, index=sides.index)


def _surface(snapshots: list[_Snapshot]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per-snapshot raw columns and diagnostics (both positionally indexed by snapshot)."""
    n = len(snapshots)
    quotes = _quote_table(snapshots)
    reason = _drop_reasons(quotes)
    diagnostics = pd.DataFrame(
        {"rows": np.bincount(quotes["snap"].to_numpy(), minlength=n)}, index=pd.RangeIndex(n)
    )
    for code, name in enumerate(DROP_REASONS):
        diagnostics[f"dropped_{name}"] = np.bincount(
            quotes["snap"].to_numpy()[reason == code], minlength=n
        )
    diagnostics["rows_used"] = np.bincount(quotes["snap"].to_numpy()[reason < 0], minlength=n)

    # Spot does not need a usable IV: every live quote with a forward counts.
    forward_all = quotes["forward"].to_numpy()
    live_priced = (
        np.isfinite(forward_all)
        & (forward_all > 0)
        & (quotes["expiry_s"].to_numpy() > quotes["harvest_s"].to_numpy())
    )
    spot = quotes.loc[live_priced].groupby("snap")["forward"].median().reindex(range(n))

    usable = quotes.loc[reason < 0].reset_index(drop=True)
    usable["expiry_id"] = usable.groupby(["snap", "expiry_s"], sort=True).ngroup()
    expiries = usable.groupby("expiry_id").agg(
        snap=("snap", "first"),
        expiry_s=("expiry_s", "first"),
        harvest_s=("harvest_s", "first"),
        forward=("forward", "median"),
    )
    forward = expiries["forward"].to_numpy()
    years = (expiries["expiry_s"].to_numpy() - expiries["harvest_s"].to_numpy()) / SECONDS_PER_YEAR
    expiries["years"] = years
    expiries["atm"] = _atm_iv_by_expiry(usable, forward)
    delta = _forward_delta(usable, forward, years)
    expiries["put25"] = _wing_iv_by_expiry(usable, delta, forward, calls=False)
    expiries["call25"] = _wing_iv_by_expiry(usable, delta, forward, calls=True)

    too_short = years < MIN_EXPIRY_DAYS / 365.0
    expiries = expiries.sort_values(["snap", "years"], kind="stable")
    term = expiries.loc[~too_short[expiries.index.to_numpy()]]

    diagnostics["expiries_listed"] = expiries.groupby("snap").size().reindex(range(n), fill_value=0)
    diagnostics["expiries_used"] = (
        term.loc[np.isfinite(term["atm"])].groupby("snap").size().reindex(range(n), fill_value=0)
    )
    diagnostics["expiries_too_short"] = (
        expiries.loc[too_short[expiries.index.to_numpy()]]
        .groupby("snap")
        .size()
        .reindex(range(n), fill_value=0)
    )
    diagnostics["spot"] = spot.to_numpy()

    given = usable["greek_delta"].to_numpy()
    has_greek = np.isfinite(given)
    gap = pd.Series(np.abs(delta[has_greek] - given[has_greek]))
    diagnostics["max_abs_delta_diff"] = (
        gap.groupby(usable["snap"].to_numpy()[has_greek]).max().reindex(range(n)).to_numpy()
    )

    raw = pd.DataFrame(index=pd.RangeIndex(n))
    for column in PRICE_COLUMNS:
        raw[column] = spot.to_numpy()
    raw["iv_30d"] = _term_interpolate(term, "atm", LONG_TENOR_DAYS / 365.0).reindex(range(n))
    raw["iv_7d"] = _term_interpolate(term, "atm", SHORT_TENOR_DAYS / 365.0).reindex(range(n))
    raw["iv_25d_put"] = _term_interpolate(term, "put25", LONG_TENOR_DAYS / 365.0).reindex(range(n))
    raw["iv_25d_call"] = _term_interpolate(term, "call25", LONG_TENOR_DAYS / 365.0).reindex(
        range(n)
    )
    return raw[list(RAW_COLUMNS)].astype("float64"), diagnostics


# ------------------------------------------------------------------------------ bars


def resample_snapshots(per_snapshot: pd.DataFrame, bar: str) -> pd.DataFrame:
    """Snapshot rows -> bars labelled by the bar start (UTC).

    OHLC are the OHLC of the snapshot spots inside the bar (open first, high max, low min,
    close last): the snapshots only sample spot, so this is a lower bound on the true range,
    but it is the best the chain can say. Each vol column is the last snapshot in the bar that
    has a value (the latest surface; a missing wing in the very last snapshot does not blank
    the whole bar). Bars without any snapshot are not created.
    """
    key = _bar_frequency(bar)
    if per_snapshot.empty:
        return per_snapshot.copy()
    grouped = per_snapshot.groupby(per_snapshot.index.floor(key))
    spot = grouped["close"]
    bars = pd.DataFrame(
        {"open": spot.first(), "high": spot.max(), "low": spot.min(), "close": spot.last()}
    )
    vols = grouped[list(VOL_COLUMNS)].last()
    bars = bars.join(vols)[list(RAW_COLUMNS)]
    bars.index.name = "timestamp"
    return bars


def _bar_frequency(bar: str) -> str:
    try:
        return SUPPORTED_BARS[bar.lower()]
    except (KeyError, AttributeError):
        raise ValueError(
            f"unsupported bar {bar!r}: use None (one row per snapshot) or one of "
            f"{', '.join(SUPPORTED_BARS)}"
        ) from None


# ------------------------------------------------------------------------------- API


def load_harvested_chain_with_diagnostics(
    data_dir: str | Path,
    underlying: str,
    start: object = None,
    end: object = None,
    bar: str | None = None,
) -> ChainLoadResult:
    """Load the harvested snapshots of ``underlying`` into the raw market data contract.

    ``data_dir`` holds ``live_deribit/{U}/...`` (the folder ``live_deribit/{U}`` itself is
    accepted too). ``start``/``end`` (str, date, datetime or Timestamp; naive = UTC) are
    inclusive; a date-only end covers its whole day. ``bar``: None for one row per snapshot
    (index = harvest time), "1h" or "1d" for bars (see ``resample_snapshots``).

    Raises ``MarketDataError`` when no snapshot file exists in the range or none is readable.
    """
    if bar is not None:
        _bar_frequency(bar)
    chain_dir = resolve_chain_dir(data_dir, underlying)
    lower, upper = _bounds(start, end)
    files = list_snapshot_files(data_dir, underlying, start, end)
    if not files:
        span = "" if start is None and end is None else f" between {start} and {end}"
        raise MarketDataError(f"{chain_dir}: no option-chain snapshot files{span}")

    snapshots: list[_Snapshot] = []
    skipped: list[SkippedFile] = []
    for outcome in _read_all(files):
        if isinstance(outcome, SkippedFile):
            warnings.warn(
                f"{outcome.path}: skipped, {outcome.reason}", ChainFileWarning, stacklevel=2
            )
            skipped.append(outcome)
            continue
        stamp = outcome.harvest_ns
        if (lower is not None and stamp < lower.value) or (
            upper is not None and stamp > upper.value
        ):
            continue  # the file name matched the range, the exact harvest time does not
        snapshots.append(outcome)
    if not snapshots:
        reason = "unreadable" if skipped else "outside the requested range"
        raise MarketDataError(
            f"{chain_dir}: none of the {len(files)} snapshot file(s) is usable ({reason})"
        )

    raw, diagnostics = _surface(snapshots)
    # Microseconds: the harvester's resolution, and what the CSV loaders produce, so frames
    # from different sources align without a unit mismatch.
    index = pd.DatetimeIndex(
        pd.to_datetime([s.harvest_ns for s in snapshots], unit="ns", utc=True), name="timestamp"
    ).as_unit("us")
    raw.index = index
    diagnostics.index = index
    diagnostics.insert(0, "file", [s.file.path.name for s in snapshots])
    order = np.argsort(index.to_numpy(), kind="stable")
    raw, diagnostics = raw.iloc[order], diagnostics.iloc[order]

    duplicated = raw.index.duplicated(keep="last")
    if duplicated.any():
        names = ", ".join(diagnostics["file"][duplicated].tolist()[:5])
        warnings.warn(
            f"{chain_dir}: {int(duplicated.sum())} snapshot(s) share a harvest time with a later "
            f"file ({names}); kept the last",
            ChainFileWarning,
            stacklevel=2,
        )
        raw = raw[~duplicated]

    worst_gap = diagnostics["max_abs_delta_diff"].max()  # NaN when no file has greeks
    if worst_gap > DELTA_CROSSCHECK_TOLERANCE:
        warnings.warn(
            f"{chain_dir}: Black-Scholes delta differs from the files' greek_delta by up to "
            f"{worst_gap:.3f} (tolerance {DELTA_CROSSCHECK_TOLERANCE}); our delta is used",
            ChainFileWarning,
            stacklevel=2,
        )

    frame = raw if bar is None else resample_snapshots(raw, bar)
    frame.attrs["source"] = f"deribit_chain:{underlying.upper()}" + (f":{bar}" if bar else "")
    return ChainLoadResult(
        frame=frame,
        snapshots=diagnostics,
        skipped_files=tuple(skipped),
        files_found=len(files),
        chain_dir=chain_dir,
        bar=bar,
    )


def load_harvested_chain(
    data_dir: str | Path,
    underlying: str,
    start: object = None,
    end: object = None,
    bar: str | None = None,
) -> pd.DataFrame:
    """The raw market data frame of ``load_harvested_chain_with_diagnostics`` (same args)."""
    return load_harvested_chain_with_diagnostics(data_dir, underlying, start, end, bar).frame
