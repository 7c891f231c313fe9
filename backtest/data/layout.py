"""The data folder's layout, in one place: where the harvester writes and the loaders read.

    {data_dir}/live_deribit/{U}/{YYYY}/{MM}/{DD}/{U}_{YYYY-MM-DD}_{HHMMSS}.parquet chain snapshots
    {data_dir}/history/{u}_usd_daily_ohlcv.csv                                    daily bars
    {data_dir}/history/{u}_dvol_daily.csv                                         daily DVOL close
    {data_dir}/volatility_history/{u}_volatility_history.parquet                  hourly DVOL

Readers also accept the two CSVs directly in ``{data_dir}`` (the layout of the shared real
data and of hand-made imports), and snapshot names with ``{HHMM}`` only (older harvests).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

CHAIN_FOLDER = "live_deribit"
HISTORY_FOLDER = "history"
VOL_HISTORY_FOLDER = "volatility_history"


def ohlcv_csv_name(underlying: str) -> str:
    return f"{underlying.lower()}_usd_daily_ohlcv.csv"


def dvol_csv_name(underlying: str) -> str:
    return f"{underlying.lower()}_dvol_daily.csv"


def vol_history_name(underlying: str) -> str:
    return f"{underlying.lower()}_volatility_history.parquet"


def snapshot_path(data_dir: str | Path, underlying: str, harvest_time: pd.Timestamp) -> Path:
    """Where the snapshot harvested at ``harvest_time`` (UTC) lives; the name carries the
    second, so rounds at most a few seconds apart never share a file."""
    import pandas as pd  # here: the rest of the layout is read by checks that load no pandas

    stamp = pd.Timestamp(harvest_time)
    u = underlying.upper()
    return (
        Path(data_dir) / CHAIN_FOLDER / u / f"{stamp:%Y}" / f"{stamp:%m}" / f"{stamp:%d}"
        / f"{u}_{stamp:%Y-%m-%d}_{stamp:%H%M%S}.parquet"
    )


def ohlcv_history_path(data_dir: str | Path, underlying: str) -> Path:
    return Path(data_dir) / HISTORY_FOLDER / ohlcv_csv_name(underlying)


def dvol_history_path(data_dir: str | Path, underlying: str) -> Path:
    return Path(data_dir) / HISTORY_FOLDER / dvol_csv_name(underlying)


def volatility_history_path(data_dir: str | Path, underlying: str) -> Path:
    return Path(data_dir) / VOL_HISTORY_FOLDER / vol_history_name(underlying)


def readable_candidates(data_dir: str | Path, name: str, folder: str = HISTORY_FOLDER) -> tuple[Path, Path]:
    """The places a reader looks for ``name``: the data folder itself, then its subfolder."""
    root = Path(data_dir)
    return root / name, root / folder / name
