"""CSV history import: the raw market data contract (docs/data-sources.md) and clear errors."""

from __future__ import annotations

import csv
import math
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from backtest.data.csv_history import load_history_csv, load_iv_csv, load_ohlc_csv
from greg_core.contract import PRICE_COLUMNS, RAW_COLUMNS
from greg_core.errors import MarketDataError

OHLC_NAME = "btc_usd_daily_ohlcv.csv"
DVOL_NAME = "btc_dvol_daily.csv"


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def _read_rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


# ----------------------------------------------------------------------------- real files


@pytest.fixture(scope="module")
def real_raw(real_dir: Path) -> pd.DataFrame:
    return load_history_csv(real_dir / OHLC_NAME, real_dir / DVOL_NAME)


def test_real_history_has_contract_shape(real_raw: pd.DataFrame) -> None:
    assert list(real_raw.columns) == list(RAW_COLUMNS)
    assert len(real_raw) == 1360
    index = real_raw.index
    assert isinstance(index, pd.DatetimeIndex)
    assert str(index.tz) == "UTC"
    assert index.is_unique and index.is_monotonic_increasing
    assert (index == index.normalize()).all(), "daily bars sit at UTC midnight"
    assert index[0] == pd.Timestamp("2022-02-19", tz="UTC")
    assert index[-1] == pd.Timestamp("2025-11-09", tz="UTC")
    assert all(real_raw[c].dtype == np.float64 for c in RAW_COLUMNS)


def test_real_prices_match_the_file(real_dir: Path, real_raw: pd.DataFrame) -> None:
    rows = _read_rows(real_dir / OHLC_NAME)
    assert len(rows) == len(real_raw)
    for row, (stamp, bar) in zip(rows, real_raw.iterrows(), strict=True):
        assert stamp.date().isoformat() == row["date"]
        for column in PRICE_COLUMNS:
            assert bar[column] == float(row[column])


def test_real_iv_comes_from_dvol_on_matching_dates_only(real_dir: Path, real_raw: pd.DataFrame) -> None:
    dvol = {row["date"]: float(row["dvol_close"]) for row in _read_rows(real_dir / DVOL_NAME)}
    matched = 0
    for stamp, value in real_raw["iv_30d"].items():
        expected = dvol.get(stamp.date().isoformat())
        if expected is None:
            assert math.isnan(value), f"iv_30d invented on {stamp.date()}"
        else:
            assert value == expected
            matched += 1
    assert matched == 1100  # DVOL starts 2022-11-06; its missing day is after the bars end
    assert real_raw.loc[:"2022-11-05", "iv_30d"].isna().all()
    # The history files cannot supply these: they stay NaN, never invented.
    for column in ("iv_7d", "iv_25d_put", "iv_25d_call"):
        assert real_raw[column].isna().all()


def test_without_iv_file_iv_is_nan(real_dir: Path) -> None:
    raw = load_history_csv(real_dir / OHLC_NAME)
    assert len(raw) == 1360
    assert raw[["iv_30d", "iv_7d", "iv_25d_put", "iv_25d_call"]].isna().all().all()
    assert raw["close"].notna().all()


def test_real_dvol_series(real_dir: Path) -> None:
    iv = load_iv_csv(real_dir / DVOL_NAME)
    assert len(iv) == 1102
    assert str(iv.index.tz) == "UTC"
    assert pd.Timestamp("2025-11-11", tz="UTC") not in iv.index  # the missing day stays missing
    assert iv.loc[pd.Timestamp("2022-11-06", tz="UTC")] == 56.76


# ----------------------------------------------------------------------------- shapes


def test_yahoo_style_header_uses_close_not_adj_close(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "yahoo.csv",
        "Date,Open,High,Low,Close,Adj Close,Volume\n"
        "2024-01-01,10,12,9,11,99,1000\n"
        "2024-01-02,11,13,10,12,98,1100\n",
    )
    raw = load_history_csv(path)
    assert list(raw.index) == list(pd.date_range("2024-01-01", periods=2, freq="D", tz="UTC"))
    assert raw["open"].tolist() == [10.0, 11.0]
    assert raw["high"].tolist() == [12.0, 13.0]
    assert raw["low"].tolist() == [9.0, 10.0]
    assert raw["close"].tolist() == [11.0, 12.0]
    assert list(raw.columns) == list(RAW_COLUMNS)


def test_epoch_millisecond_dates(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "ms.csv",
        "timestamp,open,high,low,close\n1704067200000,1,2,0.5,1.5\n1704153600000,1.5,2,1,1.8\n",
    )
    raw = load_ohlc_csv(path)
    assert list(raw.index) == list(pd.date_range("2024-01-01", periods=2, freq="D", tz="UTC"))


def test_unsorted_rows_come_out_in_time_order(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "unsorted.csv",
        "date,open,high,low,close\n2024-01-03,3,3,3,3\n2024-01-01,1,1,1,1\n2024-01-02,2,2,2,2\n",
    )
    raw = load_history_csv(path)
    assert raw.index.is_monotonic_increasing
    assert raw["close"].tolist() == [1.0, 2.0, 3.0]


def test_duplicate_dates_keep_last_and_warn(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "dups.csv",
        "date,open,high,low,close\n"
        "2024-01-01,1,1,1,1\n"
        "2024-01-02,2,2,2,2\n"
        "2024-01-02,5,6,4,5.5\n"
        "2024-01-03,3,3,3,3\n",
    )
    with pytest.warns(UserWarning, match="duplicate") as record:
        raw = load_history_csv(path)
    message = str(record[0].message)
    assert "dups.csv" in message and "2024-01-02" in message
    assert len(raw) == 3 and raw.index.is_unique
    assert raw.loc[pd.Timestamp("2024-01-02", tz="UTC")].loc[list(PRICE_COLUMNS)].tolist() == [5.0, 6.0, 4.0, 5.5]


def test_duplicate_iv_dates_keep_last_and_warn(tmp_path: Path) -> None:
    ohlc = _write(tmp_path / "o.csv", "date,open,high,low,close\n2024-01-01,1,1,1,1\n2024-01-02,2,2,2,2\n")
    iv = _write(tmp_path / "iv.csv", "date,dvol_close\n2024-01-01,50\n2024-01-01,55\n2024-01-02,60\n")
    with pytest.warns(UserWarning, match="iv.csv"):
        raw = load_history_csv(ohlc, iv)
    assert raw["iv_30d"].tolist() == [55.0, 60.0]


def test_clean_file_does_not_warn(tmp_path: Path) -> None:
    path = _write(tmp_path / "ok.csv", "date,open,high,low,close\n2024-01-01,1,1,1,1\n")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        load_history_csv(path)


def test_missing_days_are_not_invented(tmp_path: Path) -> None:
    ohlc = _write(
        tmp_path / "gap.csv",
        "date,open,high,low,close\n2024-01-01,1,1,1,1\n2024-01-02,2,2,2,2\n2024-01-05,5,5,5,5\n",
    )
    iv = _write(tmp_path / "iv.csv", "date,dvol_close\n2024-01-01,50\n2024-01-03,53\n2024-01-05,55\n")
    raw = load_history_csv(ohlc, iv)
    assert [d.day for d in raw.index] == [1, 2, 5]
    # IV only where both files have the date; 2024-01-03 (IV only) adds no row.
    assert raw["iv_30d"].iloc[0] == 50.0
    assert math.isnan(raw["iv_30d"].iloc[1])
    assert raw["iv_30d"].iloc[2] == 55.0


def test_blank_cell_stays_missing(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "blank.csv", "date,open,high,low,close\n2024-01-01,1,1,1,1\n2024-01-02,2,2,2,\n"
    )
    raw = load_history_csv(path)
    assert math.isnan(raw["close"].iloc[1])
    assert raw["open"].iloc[1] == 2.0


# ----------------------------------------------------------------------------- errors


def _error(load, path: Path) -> str:
    with pytest.raises(MarketDataError) as info:
        load(path)
    message = str(info.value)
    assert str(path) in message, f"error does not name the file: {message}"
    return message


def test_missing_column_named(tmp_path: Path) -> None:
    path = _write(tmp_path / "nolow.csv", "date,open,high,close\n2024-01-01,1,2,1.5\n")
    assert "'low'" in _error(load_history_csv, path)


def test_missing_date_column_named(tmp_path: Path) -> None:
    path = _write(tmp_path / "nodate.csv", "open,high,low,close\n1,2,0.5,1.5\n")
    assert "date" in _error(load_history_csv, path)


def test_non_numeric_value_named(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "text.csv", "date,open,high,low,close\n2024-01-01,1,2,0.5,1.5\n2024-01-02,1,2,0.5,abc\n"
    )
    message = _error(load_history_csv, path)
    assert "'close'" in message and "abc" in message


def test_empty_file(tmp_path: Path) -> None:
    _error(load_history_csv, _write(tmp_path / "empty.csv", ""))


def test_header_only(tmp_path: Path) -> None:
    _error(load_history_csv, _write(tmp_path / "header.csv", "date,open,high,low,close\n"))


def test_bad_date_named(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "baddate.csv",
        "date,open,high,low,close\n2024-01-01,1,2,0.5,1.5\nnot-a-date,1,2,0.5,1.5\n",
    )
    message = _error(load_history_csv, path)
    assert "'date'" in message and "not-a-date" in message


def test_missing_file(tmp_path: Path) -> None:
    _error(load_history_csv, tmp_path / "absent.csv")


def test_iv_file_with_unknown_header(tmp_path: Path) -> None:
    ohlc = _write(tmp_path / "o.csv", "date,open,high,low,close\n2024-01-01,1,2,0.5,1.5\n")
    iv = _write(tmp_path / "weird.csv", "date,foo\n2024-01-01,50\n")
    with pytest.raises(MarketDataError) as info:
        load_history_csv(ohlc, iv)
    assert str(iv) in str(info.value)
    assert "dvol_close" in str(info.value)


def test_iv_file_non_numeric(tmp_path: Path) -> None:
    iv = _write(tmp_path / "ivtext.csv", "date,dvol_close\n2024-01-01,high\n")
    assert "'dvol_close'" in _error(load_iv_csv, iv)


def test_market_data_error_is_a_value_error() -> None:
    # Callers (scripts, the app) catch ValueError for every bad-input case.
    assert issubclass(MarketDataError, ValueError)
