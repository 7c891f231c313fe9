"""Bad real data is refused in one line naming file, row and column (issue 13): impossible
prices, other separators, folders named like files, chain files whose names do not parse;
and the up-front availability check of a real-data run (issue 12, item 2)."""

from __future__ import annotations

import shutil
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from backtest.data.availability import real_data_availability
from backtest.data.chain import ChainFileWarning, list_snapshot_files, load_harvested_chain
from backtest.data.csv_history import load_iv_csv, load_ohlc_csv
from backtest.data.parsing import check_prices
from backtest.data.real_frame import build_real_raw_frame
from backtest.data.vol_history import load_volatility_history
from backtest.sensors.sources import check_data_available, require_data_available
from greg_core.contract import PRICE_COLUMNS
from greg_core.errors import ChainFileWarning as ChainWarningClass
from greg_core.errors import MarketDataError
from synthetic.universe import generate_market

GOOD_ROWS = [
    ("2024-01-01", 100.0, 110.0, 95.0, 105.0),
    ("2024-01-02", 105.0, 108.0, 101.0, 102.0),
    ("2024-01-03", 102.0, 104.0, 99.0, 103.0),
]


def write_bars(path: Path, rows, header="date,open,high,low,close", sep=",") -> Path:
    lines = [header.replace(",", sep)] + [sep.join(str(v) for v in row) for row in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def one_line(exc: pytest.ExceptionInfo) -> str:
    text = str(exc.value)
    assert "\n" not in text
    return text


# ------------------------------------------------------------------ prices


@pytest.mark.parametrize(
    ("row", "column", "fragment"),
    [
        (("2024-01-02", 105.0, 108.0, 101.0, -3.0), "close", "finite and > 0"),
        (("2024-01-02", 105.0, 108.0, 101.0, 0.0), "close", "finite and > 0"),
        (("2024-01-02", "inf", 108.0, 101.0, 102.0), "open", "finite and > 0"),
        (("2024-01-02", 105.0, 100.0, 101.0, 102.0), "high", "max(open, close)"),  # high < low
        (("2024-01-02", 105.0, 104.0, 101.0, 102.0), "high", "max(open, close)"),  # high < open
        (("2024-01-02", 105.0, 108.0, 103.0, 102.0), "low", "min(open, close)"),  # low > close
    ],
)
def test_a_bad_price_row_names_file_row_and_column(tmp_path, row, column, fragment):
    path = write_bars(tmp_path / "btc_usd_daily_ohlcv.csv", [GOOD_ROWS[0], row, GOOD_ROWS[2]])
    with pytest.raises(MarketDataError) as info:
        load_ohlc_csv(path)
    message = one_line(info)
    assert str(path) in message and "row 3" in message and f"'{column}'" in message and fragment in message


def test_all_zero_closes_are_refused_not_a_clean_empty_run(tmp_path):
    rows = [(d, 1.0, 1.0, 0.0, 0.0) for d in pd.date_range("2024-01-01", periods=50).strftime("%Y-%m-%d")]
    path = write_bars(tmp_path / "btc_usd_daily_ohlcv.csv", rows)
    with pytest.raises(MarketDataError, match="row 2: column 'low'"):
        load_ohlc_csv(path)
    with pytest.raises(MarketDataError, match="row 2"):
        build_real_raw_frame("BTC", data_dir=tmp_path)


def test_missing_prices_stay_allowed(tmp_path):
    path = write_bars(tmp_path / "bars.csv", [GOOD_ROWS[0], ("2024-01-02", "", "", "", 102.0), GOOD_ROWS[2]])
    bars = load_ohlc_csv(path)
    assert bars["open"].isna().sum() == 1 and bars["close"].notna().all()


def test_the_real_bars_and_the_synthetic_generator_pass_the_price_check(real_dir):
    load_ohlc_csv(real_dir / "btc_usd_daily_ohlcv.csv")
    for underlying in ("BTC", "ETH"):
        for seed in (1, 7, 2024):
            raw = generate_market(underlying, 1500, seed=seed).raw
            check_prices(raw[list(PRICE_COLUMNS)], f"synthetic {underlying}", lambda i: f"row {i}")


def test_chain_bars_are_price_checked_where_they_enter(real_dir, tmp_path, monkeypatch):
    """The chain's spot is positive by construction; the check is still where the chain
    enters the real frame (a bad bar would name the chain folder and the bar)."""
    import backtest.data.real_frame as real_frame

    source = sorted((real_dir / "live_deribit" / "BTC").rglob("BTC_*.parquet"))[0]
    target = tmp_path / source.relative_to(real_dir)
    target.parent.mkdir(parents=True)
    shutil.copy(source, target)
    real_frame_check = real_frame.check_prices
    seen = []

    def spy(prices, where, row_name):
        seen.append(str(where))
        real_frame_check(prices, where, row_name)
        broken = prices.copy()
        broken.iloc[0, broken.columns.get_loc("high")] = broken["low"].iloc[0] / 2
        real_frame_check(broken, where, row_name)

    monkeypatch.setattr(real_frame, "check_prices", spy)
    with pytest.raises(MarketDataError, match=r"bar 2025-12-11 00:00: column 'high'"):
        build_real_raw_frame("BTC", data_dir=tmp_path)
    assert seen and "live_deribit" in seen[0]


# ------------------------------------------------------------------ file shapes


@pytest.mark.parametrize(("sep", "word"), [(";", "';'"), ("\t", "tabs")])
def test_a_csv_with_another_separator_is_reported_as_such(tmp_path, sep, word):
    path = write_bars(tmp_path / "btc_usd_daily_ohlcv.csv", GOOD_ROWS, sep=sep)
    with pytest.raises(MarketDataError) as info:
        load_ohlc_csv(path)
    assert f"separated by {word}" in one_line(info) and "missing column" not in str(info.value)
    dvol = tmp_path / "btc_dvol_daily.csv"
    dvol.write_text("date;dvol_close\n2024-01-01;50,5\n", encoding="utf-8")
    with pytest.raises(MarketDataError, match="separated by ';'"):
        load_iv_csv(dvol)


def test_a_parser_error_is_one_line(tmp_path):
    path = tmp_path / "bars.csv"
    path.write_text('date,open,high,low,close\n2024-01-01,1,2,0.5,1\n"2024-01-02,1,2\n', encoding="utf-8")
    with pytest.raises(MarketDataError) as info:
        load_ohlc_csv(path)
    one_line(info)


def test_a_folder_named_like_the_hourly_parquet_is_named_once(tmp_path):
    write_bars(tmp_path / "btc_usd_daily_ohlcv.csv", GOOD_ROWS)
    folder = tmp_path / "volatility_history" / "btc_volatility_history.parquet"
    folder.mkdir(parents=True)
    with pytest.raises(MarketDataError) as info:
        build_real_raw_frame("BTC", data_dir=tmp_path)
    message = one_line(info)
    assert message == f"{folder}: is a folder, expected a file named btc_volatility_history.parquet"
    with pytest.raises(MarketDataError) as info:
        load_volatility_history(folder, "BTC")
    assert str(info.value).count("btc_volatility_history.parquet") == 1


def test_a_folder_named_like_the_daily_csv(tmp_path):
    (tmp_path / "btc_usd_daily_ohlcv.csv").mkdir()
    with pytest.raises(MarketDataError, match="is a folder"):
        build_real_raw_frame("BTC", data_dir=tmp_path)
    with pytest.raises(MarketDataError, match="is a folder"):
        load_ohlc_csv(tmp_path / "btc_usd_daily_ohlcv.csv")
    with pytest.raises(MarketDataError, match="is a folder"):
        build_real_raw_frame("BTC", ohlc_csv=tmp_path / "btc_usd_daily_ohlcv.csv")


# ------------------------------------------------------------------ chain file names


def test_chain_names_that_do_not_parse_are_skipped_with_a_warning(real_dir, tmp_path):
    source = sorted((real_dir / "live_deribit" / "BTC").rglob("BTC_*.parquet"))[:2]
    day = tmp_path / "live_deribit" / "BTC" / "2025" / "12" / "11"
    day.mkdir(parents=True)
    shutil.copy(source[0], day / source[0].name)  # an old HHMM name
    shutil.copy(source[1], day / "BTC_2025-12-11_003015.parquet")  # a new HHMMSS name
    shutil.copy(source[1], day / "BTC_2025-12-11_2460.parquet")  # 24:60 is no time
    shutil.copy(source[1], day / "BTC_2025-12-11_235960.parquet")  # second 60 neither
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        files = list_snapshot_files(tmp_path, "BTC")
        frame = load_harvested_chain(tmp_path, "BTC")
    names = [f.path.name for f in files]
    assert names == [source[0].name, "BTC_2025-12-11_003015.parquet"]
    assert files[1].named_time == pd.Timestamp("2025-12-11 00:30:15", tz="UTC")
    skipped = [str(w.message) for w in caught if issubclass(w.category, ChainFileWarning)]
    assert any("BTC_2025-12-11_2460.parquet: skipped" in m for m in skipped)
    assert any("BTC_2025-12-11_235960.parquet: skipped" in m for m in skipped)
    assert ChainFileWarning is ChainWarningClass
    assert len(frame) == 2


# ------------------------------------------------------------------ availability


def test_availability_names_what_is_missing_and_where_it_looked(tmp_path):
    write_bars(tmp_path / "btc_usd_daily_ohlcv.csv", GOOD_ROWS)
    (tmp_path / "eth_dvol_daily.csv").write_text("date,dvol_close\n2024-01-01,50\n", encoding="utf-8")
    btc = real_data_availability("btc", tmp_path, include_chain=False)
    assert btc.usable and set(btc.found) == {"ohlc_csv"}
    eth = real_data_availability("ETH", tmp_path, include_chain=True)
    assert not eth.usable and set(eth.found) == {"iv_csv"}
    assert eth.problem == (
        f"no ETH prices in {tmp_path}: looked for {tmp_path / 'eth_usd_daily_ohlcv.csv'}, "
        f"{tmp_path / 'history' / 'eth_usd_daily_ohlcv.csv'} and chain snapshots in {tmp_path / 'live_deribit' / 'ETH'}"
    )
    with pytest.raises(MarketDataError) as info:
        require_data_available(["BTC", "ETH"], "history", tmp_path)
    assert one_line(info).startswith("no ETH prices in")
    assert [a.usable for a in check_data_available(["BTC", "ETH"], "history", tmp_path)] == [True, False]
    assert check_data_available(["BTC", "ETH"], "synthetic", tmp_path) == []


def test_availability_of_a_missing_folder_and_of_chains_under_the_history_source(tmp_path, real_dir):
    missing = real_data_availability("BTC", tmp_path / "nope")
    assert missing.problem == f"no BTC data: the data folder {tmp_path / 'nope'} does not exist"
    source = sorted((real_dir / "live_deribit" / "BTC").rglob("BTC_*.parquet"))[0]
    target = tmp_path / source.relative_to(real_dir)
    target.parent.mkdir(parents=True)
    shutil.copy(source, target)
    assert real_data_availability("BTC", tmp_path, include_chain=True).found == {
        "chain": tmp_path / "live_deribit" / "BTC"
    }
    history = real_data_availability("BTC", tmp_path, include_chain=False)
    assert not history.usable and "the harvested source does" in history.problem


def test_the_real_folder_is_available_for_btc_only(real_dir):
    found = {a.underlying: a for a in check_data_available(["BTC", "ETH"], "harvested", real_dir)}
    assert found["BTC"].usable and set(found["BTC"].found) == {"ohlc_csv", "iv_csv", "vol_history", "chain"}
    assert not found["ETH"].usable and found["ETH"].found == {}
    assert np.all([p.exists() is False for p in found["ETH"].looked_in])
