"""Hourly DVOL history: the one reader of ``volatility_history/{u}_volatility_history.parquet``.

The harvester writes the file (``backtest.harvest.harvester``) with columns ``timestamp,
iv_30d, rv_30d, vrp_30d, currency, harvest_time`` (hourly Deribit DVOL; ``rv_30d`` is
Deribit's own 30-day historical vol, NaN where absent). Two views of it, one reader:

* ``read_volatility_history``: the stored rows as they are (typed, one row per hour, extra
  columns kept) for the harvester to merge new rows into;
* ``load_volatility_history``: the analysis view, ``iv_30d`` checked as an implied vol and
  Deribit's historical vol kept as ``deribit_rv_30d`` for reference only: our sensors compute
  realized vol themselves, from the closes, with one definition for every source.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from backtest.data.layout import vol_history_name, volatility_history_path
from backtest.data.parsing import check_iv_points, numeric_column, parse_utc_timestamps
from greg_core.errors import MarketDataError, one_line

VOLATILITY_HISTORY_ARROW_SCHEMA = pa.schema(
    [
        ("timestamp", pa.timestamp("ns", tz="UTC")),
        ("iv_30d", pa.float64()),
        ("rv_30d", pa.float64()),
        ("vrp_30d", pa.float64()),
        ("currency", pa.string()),
        ("harvest_time", pa.timestamp("us", tz="UTC")),
    ]
)
VOLATILITY_HISTORY_COLUMNS: tuple[str, ...] = tuple(VOLATILITY_HISTORY_ARROW_SCHEMA.names)


def typed_volatility_history(frame: pd.DataFrame) -> pd.DataFrame:
    """The stored columns with the file's types (timestamp ns UTC, harvest_time us UTC)."""
    typed = frame.copy()
    typed["timestamp"] = pd.to_datetime(typed["timestamp"], utc=True).dt.as_unit("ns")
    typed["harvest_time"] = pd.to_datetime(typed["harvest_time"], utc=True).dt.as_unit("us")
    typed["currency"] = typed["currency"].astype("str")
    for column in ("iv_30d", "rv_30d", "vrp_30d"):
        typed[column] = typed[column].astype("float64")
    return typed


def _read_columns(path: Path, required: tuple[str, ...], optional: tuple[str, ...] | None) -> pd.DataFrame:
    """The ``required`` and present ``optional`` columns (None: every other column) of the
    parquet at ``path``; raises ``MarketDataError`` naming the file for an unreadable file or
    a missing column."""
    try:
        parquet = pq.ParquetFile(path)
        names = parquet.schema_arrow.names
        for column in required:
            if column not in names:
                raise MarketDataError(
                    f"{path}: missing column '{column}' (found {', '.join(names) or 'none'})"
                )
        others = names if optional is None else optional
        wanted = [*required, *(c for c in others if c in names and c not in required)]
        return parquet.read(columns=wanted).to_pandas()
    # ValueError, KeyError, TypeError: damaged pandas metadata (a missing 'pandas_type', a
    # dtype name that does not exist) found by the corrupt-input property test.
    except (OSError, ValueError, KeyError, TypeError, pa.ArrowException) as exc:
        raise MarketDataError(f"{path}: not a readable parquet file ({one_line(exc, 200)})") from None


def read_volatility_history(path: Path) -> pd.DataFrame:
    """The stored hourly rows indexed by ``timestamp`` (a duplicated hour keeps its last row),
    every stored column kept; an empty frame when the file does not exist. Raises
    ``MarketDataError`` naming the file for anything unreadable or a missing column."""
    path = Path(path)
    if not path.exists():
        empty = pd.DataFrame({c: [] for c in VOLATILITY_HISTORY_COLUMNS})
        return typed_volatility_history(empty).set_index("timestamp")
    frame = typed_volatility_history(_read_columns(path, VOLATILITY_HISTORY_COLUMNS, None))
    return frame.drop_duplicates("timestamp", keep="last").set_index("timestamp")


def _existing_volatility_history(path_or_dir: str | Path, underlying: str) -> Path:
    """The parquet file to read for ``underlying``: ``path_or_dir`` itself when it is a file,
    else where the harvester writes it (``data_layout.volatility_history_path``), else
    ``{dir}/{u}_volatility_history.parquet``."""
    path = Path(path_or_dir)
    if path.is_file():
        return path
    if path.is_dir() and path.suffix == ".parquet":
        raise MarketDataError(f"{path}: is a folder, expected a parquet file")
    expected = volatility_history_path(path, underlying)
    for candidate in (expected, path / vol_history_name(underlying)):
        if candidate.is_file():
            return candidate
    raise MarketDataError(f"{expected}: file not found")


def _checked_iv(values: np.ndarray, path: Path) -> np.ndarray:
    check_iv_points(values, path, "iv_30d")
    return values


def load_volatility_history(path_or_dir: str | Path, underlying: str) -> pd.DataFrame:
    """Hourly DVOL history: UTC DatetimeIndex ``timestamp`` (sorted, unique; a duplicated hour
    keeps its last row), columns ``iv_30d`` (vol pts) and ``deribit_rv_30d`` (Deribit's own
    30-day historical vol, NaN where absent; reference only).

    Raises ``MarketDataError`` naming the file and the column when the file is not a parquet,
    lacks ``timestamp``/``iv_30d``, holds non-numeric vols, or belongs to another currency.
    """
    path = _existing_volatility_history(path_or_dir, underlying)
    frame = _read_columns(path, ("timestamp", "iv_30d"), ("rv_30d", "currency"))
    if frame.empty:
        raise MarketDataError(f"{path}: no data rows")
    if "currency" in frame.columns:
        currencies = {str(c).upper() for c in frame["currency"].dropna().unique()}
        if currencies and currencies != {underlying.upper()}:
            raise MarketDataError(
                f"{path}: column 'currency' is {', '.join(sorted(currencies))}, "
                f"expected {underlying.upper()}"
            )
    history = pd.DataFrame(
        {
            "iv_30d": _checked_iv(numeric_column(frame, "iv_30d", path), path),
            "deribit_rv_30d": (
                numeric_column(frame, "rv_30d", path) if "rv_30d" in frame.columns else np.nan
            ),
        },
        index=parse_utc_timestamps(frame["timestamp"], path, "timestamp"),
    )
    history = history[~history.index.duplicated(keep="last")].sort_index()
    history.attrs["source"] = f"vol_history:{path.name}"
    return history
