"""Hourly DVOL history, and the combined real raw frame with its provenance."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pandas as pd
import pytest

from backtest.data.chain import load_harvested_chain
from backtest.data.csv_history import load_iv_csv, load_ohlc_csv
from backtest.data.real_frame import PRECEDENCE, build_real_raw_frame
from backtest.data.vol_history import load_volatility_history
from backtest.sensors.pipeline import compute_sensors
from greg_core.contract import RAW_COLUMNS
from greg_core.errors import MarketDataError

HOURLY_ROWS = 4321


def hourly_path(real_dir):
    return real_dir / "volatility_history" / "btc_volatility_history.parquet"


# ---------------------------------------------------------------- vol history


def test_volatility_history_loads_hourly_utc(real_dir):
    history = load_volatility_history(real_dir, "btc")
    assert list(history.columns) == ["iv_30d", "deribit_rv_30d"]
    assert len(history) == HOURLY_ROWS
    assert isinstance(history.index, pd.DatetimeIndex) and str(history.index.tz) == "UTC"
    assert history.index.name == "timestamp"
    assert history.index.is_monotonic_increasing and history.index.is_unique
    assert (history.index.to_series().diff().dropna() == pd.Timedelta(hours=1)).all()
    assert history["iv_30d"].between(10, 200).all()
    # Deribit's RV is kept for reference only; it is NaN during its first month.
    assert history["deribit_rv_30d"].isna().any() and history["deribit_rv_30d"].notna().any()
    assert history.index[0] == pd.Timestamp("2025-06-15 22:00", tz="UTC")


def test_volatility_history_accepts_the_file_or_its_folders(real_dir):
    by_root = load_volatility_history(real_dir, "BTC")
    by_folder = load_volatility_history(real_dir / "volatility_history", "BTC")
    by_file = load_volatility_history(hourly_path(real_dir), "BTC")
    pd.testing.assert_frame_equal(by_root, by_folder)
    pd.testing.assert_frame_equal(by_root, by_file)


def test_missing_history_file(tmp_path):
    with pytest.raises(MarketDataError, match="eth_volatility_history.parquet"):
        load_volatility_history(tmp_path, "ETH")


def test_bad_history_files_name_file_and_column(real_dir, tmp_path):
    not_parquet = tmp_path / "garbage.parquet"
    not_parquet.write_bytes(b"definitely not parquet")
    with pytest.raises(MarketDataError, match="garbage.parquet.*not a readable parquet"):
        load_volatility_history(not_parquet, "BTC")

    original = pd.read_parquet(hourly_path(real_dir))
    foreign = tmp_path / "foreign.parquet"
    original.drop(columns=["iv_30d"]).to_parquet(foreign)
    with pytest.raises(MarketDataError, match="foreign.parquet: missing column 'iv_30d'"):
        load_volatility_history(foreign, "BTC")

    text_vol = tmp_path / "text_vol.parquet"
    broken = original.head(5).astype({"iv_30d": "str"})
    broken.loc[2, "iv_30d"] = "high"
    broken.to_parquet(text_vol)
    with pytest.raises(MarketDataError, match="text_vol.parquet: column 'iv_30d' is not numeric"):
        load_volatility_history(text_vol, "BTC")

    with pytest.raises(MarketDataError, match="column 'currency' is BTC, expected ETH"):
        load_volatility_history(hourly_path(real_dir), "ETH")


# ----------------------------------------------------------- combined real frame


@pytest.fixture(scope="module")
def combined(real_dir):
    return build_real_raw_frame("BTC", data_dir=real_dir)


def test_combined_frame_shape(combined):
    raw, _ = combined
    assert list(raw.columns) == list(RAW_COLUMNS)
    assert str(raw.index.tz) == "UTC" and raw.index.name == "timestamp"
    assert raw.index.is_monotonic_increasing and raw.index.is_unique
    assert (raw.index == raw.index.normalize()).all()  # daily bars at UTC midnight
    assert raw["close"].notna().all()  # no invented rows: every row has a close
    assert (raw["high"] >= raw["low"]).all()


def test_combined_precedence(real_dir, combined):
    raw, _ = combined
    bars = load_ohlc_csv(real_dir / "btc_usd_daily_ohlcv.csv")
    daily_dvol = load_iv_csv(real_dir / "btc_dvol_daily.csv")
    hourly = load_volatility_history(real_dir, "BTC")["iv_30d"]
    chain = load_harvested_chain(real_dir, "BTC", bar="1d")

    # OHLC: bars CSV wherever it has the day; chain days beyond it.
    pd.testing.assert_frame_equal(
        raw.loc[bars.index, ["open", "high", "low", "close"]],
        bars[["open", "high", "low", "close"]],
        check_freq=False,
    )
    pd.testing.assert_frame_equal(
        raw.loc[chain.index, ["open", "high", "low", "close"]],
        chain[["open", "high", "low", "close"]],
        check_freq=False,
    )
    # iv_30d: the chain's ATM where the chain exists, although DVOL exists there too ...
    for day in chain.index:
        assert raw.at[day, "iv_30d"] == chain.at[day, "iv_30d"]
        assert hourly[hourly.index.floor("D") == day].iloc[-1] != raw.at[day, "iv_30d"]
    # ... else the last hourly DVOL of the day, even where the daily CSV also has the day ...
    day = pd.Timestamp("2025-07-01", tz="UTC")
    assert day in daily_dvol.index
    assert raw.at[day, "iv_30d"] == hourly[hourly.index.floor("D") == day].iloc[-1]
    # ... else the daily DVOL CSV.
    day = pd.Timestamp("2024-01-02", tz="UTC")
    assert raw.at[day, "iv_30d"] == daily_dvol[day]
    # Chain-only columns.
    for column in ("iv_7d", "iv_25d_put", "iv_25d_call"):
        assert raw[column].notna().sum() == len(chain)
        assert (raw.loc[chain.index, column] == chain[column]).all()


def test_hourly_dvol_close_matches_the_daily_csv(real_dir):
    """The alignment the precedence relies on: last hourly DVOL of a day ~ that day's close."""
    hourly = load_volatility_history(real_dir, "BTC")["iv_30d"]
    last_of_day = hourly.groupby(hourly.index.floor("D")).last()
    daily = load_iv_csv(real_dir / "btc_dvol_daily.csv")
    gap = (last_of_day - daily).dropna().abs()
    assert len(gap) > 100
    assert gap.median() < 0.05


def test_combined_provenance(combined):
    raw, provenance = combined
    json.dumps(provenance)  # manifest-ready
    assert provenance["underlying"] == "BTC" and provenance["bar"] == "1d"
    assert provenance["rows"] == len(raw)
    assert provenance["start"] == "2022-02-19T00:00:00+00:00"
    assert provenance["end"] == "2025-12-12T00:00:00+00:00"
    assert set(provenance["sources"]) == {"ohlc_csv", "iv_csv", "vol_history", "chain"}
    assert provenance["sources"]["chain"]["snapshots_loaded"] == 135
    assert provenance["precedence"]["iv_30d"] == ["chain", "vol_history", "iv_csv"]
    assert provenance["precedence"] == {k: list(v) for k, v in PRECEDENCE.items()}

    columns = provenance["columns"]
    assert columns["close"]["ohlc_csv"]["rows"] == 1360
    assert columns["close"]["chain"] == {
        "rows": 2,
        "start": "2025-12-11T00:00:00+00:00",
        "end": "2025-12-12T00:00:00+00:00",
    }
    iv = columns["iv_30d"]
    assert iv["chain"]["rows"] == 2
    assert iv["vol_history"]["start"] == "2025-06-15T00:00:00+00:00"
    assert iv["vol_history"]["end"] == "2025-11-09T00:00:00+00:00"
    assert iv["iv_csv"]["start"] == "2022-11-06T00:00:00+00:00"
    assert iv["iv_csv"]["end"] == "2025-06-14T00:00:00+00:00"
    assert sum(s["rows"] for s in iv.values()) == raw["iv_30d"].notna().sum()
    assert set(columns["iv_7d"]) == {"chain"}
    # The hourly DVOL on the chain days, and the CSV on the hourly DVOL days, lost.
    assert provenance["overridden"]["iv_30d"] == {"vol_history": 2, "iv_csv": 148}
    # DVOL days after the last daily bar and before the chain have no close: dropped.
    assert provenance["dropped_without_close"]["vol_history"] > 0


def test_combined_frame_feeds_the_sensor_pipeline(combined):
    raw, _ = combined
    sensors = compute_sensors(raw)
    last = sensors.iloc[-1]
    assert np.isfinite(last["skew_25d"]) and np.isfinite(last["term_structure_spread"])


def test_explicit_sources_and_hourly_bars(real_dir):
    raw, provenance = build_real_raw_frame(
        "BTC",
        vol_history=hourly_path(real_dir),
        chain_dir=real_dir,
        ohlc_csv=real_dir / "btc_usd_daily_ohlcv.csv",
        bar="1h",
    )
    assert provenance["sources"]["ohlc_csv"]["used"] is False
    assert set(provenance["columns"]["close"]) == {"chain"}
    assert set(provenance["columns"]["iv_30d"]) == {"chain"}
    chain_hours = load_harvested_chain(real_dir, "BTC", bar="1h")
    pd.testing.assert_index_equal(raw.index, chain_hours.index)


def test_combined_without_sources_is_an_error(tmp_path):
    with pytest.raises(MarketDataError, match="no real data source"):
        build_real_raw_frame("BTC", data_dir=tmp_path)
    with pytest.raises(MarketDataError, match="not found"):
        build_real_raw_frame("BTC", ohlc_csv=tmp_path / "missing.csv")
    with pytest.raises(ValueError, match="unsupported bar"):
        build_real_raw_frame("BTC", data_dir=tmp_path, bar="1w")


def test_iv_only_sources_have_no_rows(real_dir):
    with pytest.raises(MarketDataError, match="no 1d bar has a close"):
        build_real_raw_frame("BTC", iv_csv=real_dir / "btc_dvol_daily.csv")


def test_empty_harvest_folder_under_data_dir_is_recorded_not_fatal(real_dir, tmp_path):
    shutil.copy(real_dir / "btc_usd_daily_ohlcv.csv", tmp_path)
    (tmp_path / "live_deribit" / "BTC").mkdir(parents=True)
    raw, provenance = build_real_raw_frame("BTC", data_dir=tmp_path)
    assert len(raw) == 1360
    assert provenance["sources"]["chain"]["used"] is False
    assert "no option-chain snapshot files" in provenance["sources"]["chain"]["reason"]
    assert raw["iv_30d"].isna().all()  # no IV source: left NaN, never invented
    with pytest.raises(MarketDataError, match="no option-chain snapshot files"):
        build_real_raw_frame("BTC", data_dir=tmp_path, chain_dir=tmp_path)
