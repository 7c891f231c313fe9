"""The CSV history importer: daily bars and a daily 30-day IV history -> raw market data.

Produces the raw market data contract (``greg_core.contract``, docs/data-sources.md): a UTC,
time-indexed frame, one row per bar, vols in annualized percentage points. Columns a file
cannot supply stay NaN; rows are never invented for missing days.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from backtest.data.parsing import (
    check_iv_points,
    check_prices,
    numeric_column,
    parse_utc_timestamps,
)
from greg_core.contract import PRICE_COLUMNS, RAW_COLUMNS
from greg_core.errors import MarketDataError

_DATE_HEADERS = ("date", "timestamp", "time", "datetime", "day")
# Header names accepted for the 30-day implied vol column of an IV history file.
_IV_HEADERS = ("iv_30d", "dvol_close", "dvol", "close", "iv", "value")


def empty_raw_frame(index: pd.DatetimeIndex | None = None) -> pd.DataFrame:
    """A contract-shaped frame of NaN on ``index`` (UTC)."""
    index = pd.DatetimeIndex([], tz="UTC") if index is None else index
    return pd.DataFrame(np.nan, index=index, columns=list(RAW_COLUMNS), dtype="float64")


def _other_separator(path: Path) -> str | None:
    """The separator the header line uses when it is not a comma (';' or a tab), else None."""
    try:
        with open(path, "rb") as stream:
            header = stream.readline(4096).decode("utf-8", "replace")
    except OSError:
        return None
    for separator, name in ((";", "';'"), ("\t", "tabs")):
        if header.count(separator) > header.count(","):
            return name
    return None


def _read_csv(path: Path, allow_empty: bool = False) -> pd.DataFrame:
    if path.is_dir():
        raise MarketDataError(f"{path}: is a folder, expected a CSV file")
    separator = _other_separator(path)
    if separator is not None:
        raise MarketDataError(
            f"{path}: columns are separated by {separator}; expected a comma-separated file "
            "(export it as CSV with ',' between columns and '.' as decimal point)"
        )
    try:
        frame = pd.read_csv(path)
    except FileNotFoundError:
        raise MarketDataError(f"{path}: file not found") from None
    except pd.errors.EmptyDataError:
        raise MarketDataError(f"{path}: file is empty") from None
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as exc:
        raise MarketDataError(f"{path}: not a readable CSV ({' '.join(str(exc).split())[:200]})") from None
    except OSError as exc:
        raise MarketDataError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    frame.columns = [str(c).strip().lower().replace(" ", "_") for c in frame.columns]
    if frame.empty and not allow_empty:
        raise MarketDataError(f"{path}: no data rows")
    return frame


# A CSV's first data row is line 2 (after the header).
_CSV_ROW = 2


def _daily_utc_index(frame: pd.DataFrame, path: Path) -> pd.DatetimeIndex:
    date_col = next((c for c in _DATE_HEADERS if c in frame.columns), None)
    if date_col is None:
        raise MarketDataError(
            f"{path}: missing column 'date' (expected one of {', '.join(_DATE_HEADERS)})"
        )
    return parse_utc_timestamps(frame[date_col], path, date_col, _CSV_ROW).floor("D")


def _dedupe_dates(frame: pd.DataFrame, path: Path) -> pd.DataFrame:
    duplicated = frame.index.duplicated(keep="last")
    if duplicated.any():
        dates = sorted({d.date().isoformat() for d in frame.index[duplicated]})
        shown = ", ".join(dates[:5]) + (" ..." if len(dates) > 5 else "")
        warnings.warn(
            f"{path}: {int(duplicated.sum())} duplicate date row(s) ({shown}); kept the last of each",
            stacklevel=3,
        )
        frame = frame[~duplicated]
    return frame.sort_index()


def _daily_rows(path: Path, columns: Sequence[str], need: str | None, allow_empty: bool) -> pd.DataFrame:
    """The float64 ``columns`` of a daily CSV in the file's row order, indexed by UTC day."""
    frame = _read_csv(path, allow_empty=allow_empty)
    index = _daily_utc_index(frame, path)
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise MarketDataError(f"{path}: missing column '{missing[0]}'" + (f" ({need})" if need else ""))
    table = pd.DataFrame({c: numeric_column(frame, c, path, _CSV_ROW) for c in columns}, index=index)
    table.index.name = "timestamp"
    return table


def read_daily_table(
    path: str | Path, columns: Sequence[str], *, need: str | None = None, allow_empty: bool = False
) -> pd.DataFrame:
    """The float64 ``columns`` of a daily CSV indexed by UTC midnight (``timestamp``), sorted,
    one row per date (a duplicated date keeps its last row, with a warning). The one reader of
    daily history files, for the loaders and the harvester alike. ``need`` words the missing
    column message; ``allow_empty`` accepts a header-only file."""
    path = Path(path)
    return _dedupe_dates(_daily_rows(path, columns, need, allow_empty), path)


def load_ohlc_csv(path: str | Path) -> pd.DataFrame:
    """Daily OHLC bars from a CSV (``date,open,high,low,close[,volume]`` or Yahoo style).
    Every price is checked (``check_prices``): a bad row is an error naming file, row, column."""
    path = Path(path)
    table = _daily_rows(path, PRICE_COLUMNS, "need open, high, low, close", False)
    check_prices(table, path, lambda position: f"row {position + _CSV_ROW}")
    return _dedupe_dates(table, path)


def load_iv_csv(path: str | Path) -> pd.Series:
    """A daily 30-day implied vol series (e.g. Deribit DVOL ``date,dvol_close``), vol points."""
    path = Path(path)
    frame = _read_csv(path)
    index = _daily_utc_index(frame, path)
    column = next((c for c in _IV_HEADERS if c in frame.columns), None)
    if column is None:
        raise MarketDataError(
            f"{path}: missing column 'dvol_close' (expected one of {', '.join(_IV_HEADERS)})"
        )
    values = numeric_column(frame, column, path, _CSV_ROW)
    check_iv_points(values, path, column, _CSV_ROW)
    series = pd.Series(values, index=index, name="iv_30d")
    series.index.name = "timestamp"
    return _dedupe_dates(series.to_frame(), path)["iv_30d"]


def load_history_csv(ohlc_csv: str | Path, iv_csv: str | Path | None = None) -> pd.DataFrame:
    """Raw market data frame from daily OHLC bars and, optionally, a daily 30-day IV history.

    Rows are the OHLC file's dates (UTC midnight); ``iv_30d`` is taken from ``iv_csv`` on the
    same dates (NaN where that file has no value). Columns the files cannot supply (``iv_7d``,
    the 25-delta IVs) stay NaN. Duplicate dates keep the last row with a warning; missing days
    stay missing.
    """
    prices = load_ohlc_csv(ohlc_csv)
    raw = empty_raw_frame(prices.index)
    raw[list(PRICE_COLUMNS)] = prices[list(PRICE_COLUMNS)]
    if iv_csv is not None:
        raw["iv_30d"] = load_iv_csv(iv_csv).reindex(raw.index)
    raw.attrs["source"] = f"history:{Path(ohlc_csv).name}" + (
        f"+{Path(iv_csv).name}" if iv_csv is not None else ""
    )
    return raw
