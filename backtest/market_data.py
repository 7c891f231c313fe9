"""Raw market data: the contract every source produces, and the CSV history importer.

The contract (PRODUCT.md "Raw market data contract"): a UTC, time-indexed frame, one row per
bar, with columns ``RAW_COLUMNS``; vols are annualized percentage points. A source that cannot
supply a column leaves it NaN; rows are never invented for missing days.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd

PRICE_COLUMNS: tuple[str, ...] = ("open", "high", "low", "close")
VOL_COLUMNS: tuple[str, ...] = ("iv_30d", "iv_7d", "iv_25d_put", "iv_25d_call")
RAW_COLUMNS: tuple[str, ...] = PRICE_COLUMNS + VOL_COLUMNS

_DATE_HEADERS = ("date", "timestamp", "time", "datetime", "day")
# Header names accepted for the 30-day implied vol column of an IV history file.
_IV_HEADERS = ("iv_30d", "dvol_close", "dvol", "close", "iv", "value")


# Implied vol in annualized vol points: anything <= 0 or above this is not an IV (a price
# column read by mistake, or a broken quote). One bound for CSVs, DVOL history and chains.
MAX_IV_POINTS = 500.0


class MarketDataError(ValueError):
    """A market data file that cannot be read; the message names the file and the column."""


def empty_raw_frame(index: pd.DatetimeIndex | None = None) -> pd.DataFrame:
    """A contract-shaped frame of NaN on ``index`` (UTC)."""
    index = pd.DatetimeIndex([], tz="UTC") if index is None else index
    return pd.DataFrame(np.nan, index=index, columns=list(RAW_COLUMNS), dtype="float64")


def _read_csv(path: Path) -> pd.DataFrame:
    try:
        frame = pd.read_csv(path)
    except FileNotFoundError:
        raise MarketDataError(f"{path}: file not found") from None
    except pd.errors.EmptyDataError:
        raise MarketDataError(f"{path}: file is empty") from None
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise MarketDataError(f"{path}: not a readable CSV ({exc})") from None
    frame.columns = [str(c).strip().lower().replace(" ", "_") for c in frame.columns]
    if frame.empty:
        raise MarketDataError(f"{path}: no data rows")
    return frame


def parse_utc_timestamps(values: pd.Series, path: Path, column: str, row_offset: int = 0) -> pd.DatetimeIndex:
    """UTC timestamps (microsecond unit, so indexes from different sources align) from date
    strings or epoch numbers (milliseconds when large, else seconds). An unparseable value
    raises ``MarketDataError`` naming the file, the column and the first bad row
    (``row_offset`` turns positions into the file's own row numbers)."""
    if pd.api.types.is_numeric_dtype(values):
        unit = "ms" if values.abs().max() > 1e11 else "s"
        stamps = pd.to_datetime(values, unit=unit, utc=True, errors="coerce")
    else:
        stamps = pd.to_datetime(values, utc=True, errors="coerce", format="mixed")
    bad = stamps.isna()
    if bad.any():
        first = int(np.flatnonzero(bad.to_numpy())[0])
        raise MarketDataError(
            f"{path}: column '{column}' has {int(bad.sum())} unparseable value(s), "
            f"first at row {first + row_offset}: {values.iloc[first]!r}"
        )
    return pd.DatetimeIndex(stamps, name="timestamp").as_unit("us")


def numeric_column(frame: pd.DataFrame, column: str, path: Path, row_offset: int = 0) -> np.ndarray:
    """A float64 column; a non-numeric value raises ``MarketDataError`` naming file, column, row."""
    values = pd.to_numeric(frame[column], errors="coerce")
    bad = values.isna() & frame[column].notna()
    if bad.any():
        first = int(np.flatnonzero(bad.to_numpy())[0])
        raise MarketDataError(
            f"{path}: column '{column}' is not numeric at row {first + row_offset}: "
            f"{frame[column].iloc[first]!r}"
        )
    return values.to_numpy(dtype="float64")


def check_iv_points(values: np.ndarray, path: Path, column: str, row_offset: int = 0) -> None:
    """Raise ``MarketDataError`` unless every present value is an IV in vol points (0, 500]."""
    with np.errstate(invalid="ignore"):
        bad = np.isfinite(values) & ((values <= 0) | (values > MAX_IV_POINTS))
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        raise MarketDataError(
            f"{path}: column '{column}' is not an implied vol in vol points at row {first + row_offset}: "
            f"{float(values[first])!r} (expected 0 < IV <= {MAX_IV_POINTS:g}; is this a price column?)"
        )


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


def load_ohlc_csv(path: str | Path) -> pd.DataFrame:
    """Daily OHLC bars from a CSV (``date,open,high,low,close[,volume]`` or Yahoo style)."""
    path = Path(path)
    frame = _read_csv(path)
    index = _daily_utc_index(frame, path)
    missing = [c for c in PRICE_COLUMNS if c not in frame.columns]
    if missing:
        raise MarketDataError(f"{path}: missing column '{missing[0]}' (need open, high, low, close)")
    prices = pd.DataFrame(
        {c: numeric_column(frame, c, path, _CSV_ROW) for c in PRICE_COLUMNS}, index=index
    )
    prices.index.name = "timestamp"
    return _dedupe_dates(prices, path)


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
