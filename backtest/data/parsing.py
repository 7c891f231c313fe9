"""Parsing helpers every real-data reader shares: timestamps, numbers, implied vols.

Each raises ``MarketDataError`` naming the file, the column and the first bad row, so a bad
file is reported in one line wherever it is read (docs/data-sources.md).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from greg_core.contract import MAX_IV_POINTS, PRICE_COLUMNS
from greg_core.errors import MarketDataError


def utc_timestamp(moment: Any) -> pd.Timestamp:
    """A UTC ``pd.Timestamp``; naive input is taken to be UTC already."""
    stamp = pd.Timestamp(moment)
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


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


def check_prices(prices: pd.DataFrame, where: str | Path, row_name: Callable[[int], str]) -> None:
    """Raise ``MarketDataError`` naming ``where``, the row and the column at the first price
    that is not finite and positive, or the first row (all four present) breaking
    ``high >= max(open, close) >= min(open, close) >= low``. ``prices`` has the columns
    open, high, low, close; ``row_name(position)`` names a row ("row 7", "bar 2025-12-11"). Missing
    values (NaN) are allowed: a source may lack a price, never hold a wrong one."""
    values = prices[list(PRICE_COLUMNS)].to_numpy(dtype="float64")
    with np.errstate(invalid="ignore"):
        bad = ~np.isnan(values) & ~(np.isfinite(values) & (values > 0))
    if bad.any():
        row, col = (int(i) for i in np.argwhere(bad)[0])
        raise MarketDataError(
            f"{where}: {row_name(row)}: column '{PRICE_COLUMNS[col]}' is {float(values[row, col])!r}, "
            "a price must be finite and > 0"
        )
    open_, high, low, close = (values[:, PRICE_COLUMNS.index(c)] for c in ("open", "high", "low", "close"))
    with np.errstate(invalid="ignore"):
        top, bottom = np.maximum(open_, close), np.minimum(open_, close)
        high_bad, low_bad = high < top, low > bottom
    broken = np.flatnonzero(high_bad | low_bad)
    if broken.size:
        row = int(broken[0])
        column, limit = ("high", "max(open, close)") if high_bad[row] else ("low", "min(open, close)")
        raise MarketDataError(
            f"{where}: {row_name(row)}: column '{column}' is {float(values[row, PRICE_COLUMNS.index(column)])!r}, "
            f"beyond {limit} (open {float(open_[row])!r}, close {float(close[row])!r}); "
            "need high >= max(open, close) >= min(open, close) >= low"
        )
