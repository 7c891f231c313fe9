"""Chain snapshots -> raw market data: real harvested files, and a synthetic surface whose
ATM and 25-delta IVs are known in closed form (the independent correctness check)."""

from __future__ import annotations

import math
import shutil
import time
import warnings
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from backtest.data.chain import (
    ChainFileWarning,
    list_snapshot_files,
    load_harvested_chain,
    load_harvested_chain_with_diagnostics,
    resample_snapshots,
)
from greg_core.contract import RAW_COLUMNS
from greg_core.errors import MarketDataError

REAL_SNAPSHOTS = 135
YEAR_SECONDS = 365.0 * 86400.0


# ------------------------------------------------------------------ helpers


def snapshot_path(root: Path, underlying: str, stamp: pd.Timestamp) -> Path:
    folder = root / "live_deribit" / underlying / f"{stamp:%Y}" / f"{stamp:%m}" / f"{stamp:%d}"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{underlying}_{stamp:%Y-%m-%d}_{stamp:%H%M}.parquet"


def real_files(real_dir: Path) -> list[Path]:
    return sorted((real_dir / "live_deribit" / "BTC").rglob("BTC_*.parquet"))


def copy_real(real_dir: Path, root: Path, count: int) -> list[Path]:
    """Copy the first ``count`` real snapshots into a harvester layout under ``root``."""
    copied = []
    for source in real_files(real_dir)[:count]:
        relative = source.relative_to(real_dir)
        target = root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(source, target)
        copied.append(target)
    return copied


def normal_cdf(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.vectorize(math.erf)(np.asarray(x, dtype=float) / math.sqrt(2.0)))


def forward_delta(forward, strike, years, sigma, call: bool) -> np.ndarray:
    root_t = sigma * np.sqrt(years)
    d1 = np.log(forward / strike) / root_t + 0.5 * root_t
    return normal_cdf(d1) if call else normal_cdf(d1) - 1.0


class Surface:
    """iv(K, T) = atm(T) + slope * x + curvature * x^2, x = ln(K/F) / sqrt(T) (decimals);
    atm(T)^2 T = a + b T is linear in T, so total-variance interpolation of ATM is exact."""

    def __init__(self, a: float, b: float, slope: float, curvature: float, spot: float):
        self.a, self.b, self.slope, self.curvature, self.spot = a, b, slope, curvature, spot

    def atm(self, years: float) -> float:
        return math.sqrt(self.a / years + self.b)

    def forward(self, years: float) -> float:
        return self.spot * math.exp(0.03 * years)  # contango, like Deribit futures

    def iv(self, strike, years: float) -> np.ndarray:
        x = np.log(np.asarray(strike) / self.forward(years)) / math.sqrt(years)
        return self.atm(years) + self.slope * x + self.curvature * x**2

    def wing_iv(self, years: float, call: bool) -> float:
        """IV (decimal) where the forward delta is +/-0.25, by bisection on the strike."""
        fwd, stdev = self.forward(years), self.atm(years) * math.sqrt(years)
        lo, hi = (0.0, 5 * stdev) if call else (-5 * stdev, 0.0)
        for _ in range(200):
            mid = 0.5 * (lo + hi)
            strike = fwd * math.exp(mid)
            delta = forward_delta(fwd, strike, years, self.iv(strike, years), call)
            too_central = abs(float(delta)) > 0.25
            # Moving away from the forward lowers |delta| on both wings.
            if call:
                lo, hi = (mid, hi) if too_central else (lo, mid)
            else:
                lo, hi = (lo, mid) if too_central else (mid, hi)
        return float(self.iv(fwd * math.exp(0.5 * (lo + hi)), years))


def synthetic_chain(
    surface: Surface,
    harvest: pd.Timestamp,
    expiry_days: list[float],
    sides: tuple[str, ...] = ("C", "P"),
    greek_delta_offset: float | None = None,
) -> pd.DataFrame:
    """A harvester-shaped chain: strikes every 0.1 standard deviation over +-4, offset so no
    strike sits exactly on the forward."""
    rows = []
    for days in expiry_days:
        years = days / 365.0
        expiry = harvest + pd.Timedelta(days=days)
        fwd, stdev = surface.forward(years), surface.atm(years) * math.sqrt(years)
        steps = np.arange(-40, 41) + 0.37
        strikes = fwd * np.exp(steps * 0.1 * stdev)
        ivs = surface.iv(strikes, years)
        for option_type in sides:
            call = option_type == "C"
            delta = forward_delta(fwd, strikes, years, ivs, call)
            for strike, iv, dlt in zip(strikes, ivs, delta, strict=True):
                rows.append(
                    {
                        "harvest_time": harvest,
                        "instrument_name": f"BTC-{expiry:%d%b%y}-{strike:.0f}-{option_type}",
                        "underlying": "BTC",
                        "expiry": f"{expiry:%Y-%m-%d}",
                        "expiry_timestamp": expiry.timestamp(),
                        "option_type": option_type,
                        "strike": strike,
                        "underlying_price": fwd,
                        "mark_price": np.nan,
                        "mark_iv": iv * 100.0,
                        "greek_delta": (
                            np.nan if greek_delta_offset is None else dlt + greek_delta_offset
                        ),
                    }
                )
    frame = pd.DataFrame(rows)
    frame["harvest_time"] = frame["harvest_time"].astype("datetime64[us, UTC]")
    return frame


def write_chain(root: Path, frame: pd.DataFrame, stamp: pd.Timestamp) -> Path:
    path = snapshot_path(root, "BTC", stamp)
    frame.to_parquet(path, index=False)
    return path


def total_variance_interpolation(t_lo, iv_lo, t_hi, iv_hi, target) -> float:
    w = iv_lo**2 * t_lo + (iv_hi**2 * t_hi - iv_lo**2 * t_lo) * (target - t_lo) / (t_hi - t_lo)
    return math.sqrt(w / target)


HARVEST = pd.Timestamp("2025-01-15 12:34:56", tz="UTC")
SKEWED = Surface(a=0.0004, b=0.16, slope=-0.10, curvature=0.25, spot=100_000.0)


# -------------------------------------------------------- synthetic surface


def test_flat_surface_recovers_its_vol(tmp_path):
    flat = Surface(a=0.0, b=0.55**2, slope=0.0, curvature=0.0, spot=50_000.0)
    write_chain(tmp_path, synthetic_chain(flat, HARVEST, [0.4, 3, 10, 20, 40, 90]), HARVEST)
    frame = load_harvested_chain(tmp_path, "BTC")
    assert len(frame) == 1
    row = frame.iloc[0]
    for column in ("iv_30d", "iv_7d", "iv_25d_put", "iv_25d_call"):
        assert row[column] == pytest.approx(55.0, abs=1e-6), column


@pytest.mark.parametrize(
    "expiry_days",
    [
        pytest.param([0.5, 2, 5, 9, 14, 21, 45, 90, 180], id="bracketed"),
        pytest.param([0.5, 1.5, 7, 16, 30, 60], id="exact-tenors"),
    ],
)
def test_skewed_surface_recovers_atm_and_25_delta(tmp_path, expiry_days):
    write_chain(tmp_path, synthetic_chain(SKEWED, HARVEST, expiry_days), HARVEST)
    result = load_harvested_chain_with_diagnostics(tmp_path, "BTC")
    row = result.frame.iloc[0]

    # ATM total variance is linear in T by construction, so the 7/30-day truth is exact.
    assert row["iv_7d"] == pytest.approx(100 * SKEWED.atm(7 / 365), abs=0.1)
    assert row["iv_30d"] == pytest.approx(100 * SKEWED.atm(30 / 365), abs=0.1)

    # 25-delta truth: bisection on the surface at each bracketing expiry, then total variance.
    # (Time to expiry is measured from the harvest second; the expiries are whole days.)
    target = 30 / 365
    usable = [d / 365 for d in expiry_days if d >= 1.0]
    t_lo = max(t for t in usable if t <= target)
    t_hi = min(t for t in usable if t >= target)
    for call, column in ((False, "iv_25d_put"), (True, "iv_25d_call")):
        lo, hi = SKEWED.wing_iv(t_lo, call), SKEWED.wing_iv(t_hi, call)
        truth = lo if t_lo == t_hi else total_variance_interpolation(t_lo, lo, t_hi, hi, target)
        assert row[column] == pytest.approx(100 * truth, abs=0.1), column
    assert row["iv_25d_put"] - row["iv_25d_call"] > 2.0  # the surface is put-skewed

    # Spot is the median underlying_price of the live quotes.
    chain = synthetic_chain(SKEWED, HARVEST, expiry_days)
    assert row["close"] == pytest.approx(chain["underlying_price"].median())
    diagnostics = result.snapshots.iloc[0]
    assert diagnostics["expiries_too_short"] == 1  # the 12-hour expiry
    assert diagnostics["expiries_used"] == len(expiry_days) - 1


def test_flat_extrapolation_outside_the_listed_expiries(tmp_path):
    write_chain(tmp_path, synthetic_chain(SKEWED, HARVEST, [14, 21]), HARVEST)
    row = load_harvested_chain(tmp_path, "BTC").iloc[0]
    assert row["iv_7d"] == pytest.approx(100 * SKEWED.atm(14 / 365), abs=0.05)
    assert row["iv_30d"] == pytest.approx(100 * SKEWED.atm(21 / 365), abs=0.05)


def test_one_sided_chain_uses_the_side_that_exists(tmp_path):
    calls_only = synthetic_chain(SKEWED, HARVEST, [2, 5, 9, 21, 45], sides=("C",))
    write_chain(tmp_path, calls_only, HARVEST)
    row = load_harvested_chain(tmp_path, "BTC").iloc[0]
    assert row["iv_30d"] == pytest.approx(100 * SKEWED.atm(30 / 365), abs=0.1)
    assert np.isnan(row["iv_25d_put"])  # no OTM puts: the wing is left out, not invented
    assert np.isfinite(row["iv_25d_call"])


def test_greek_delta_is_only_a_cross_check(tmp_path):
    expiries = [2, 5, 9, 21, 45]
    plain = synthetic_chain(SKEWED, HARVEST, expiries)
    matching = synthetic_chain(SKEWED, HARVEST, expiries, greek_delta_offset=0.0)
    skewed_greeks = synthetic_chain(SKEWED, HARVEST, expiries, greek_delta_offset=0.2)
    results = {}
    for name, frame in (("plain", plain), ("matching", matching), ("off", skewed_greeks)):
        root = tmp_path / name
        write_chain(root, frame, HARVEST)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            results[name] = load_harvested_chain_with_diagnostics(root, "BTC")
        results[name + "_warned"] = any("greek_delta" in str(w.message) for w in caught)

    assert np.isnan(results["plain"].snapshots["max_abs_delta_diff"].iloc[0])
    assert results["matching"].snapshots["max_abs_delta_diff"].iloc[0] < 1e-6
    assert results["off"].snapshots["max_abs_delta_diff"].iloc[0] == pytest.approx(0.2, abs=1e-6)
    assert not results["matching_warned"] and results["off_warned"]
    # The numbers never depend on the file's greeks.
    pd.testing.assert_frame_equal(results["plain"].frame, results["off"].frame)


# ------------------------------------------------------------ dropped quotes


def test_bad_quotes_are_dropped_and_counted(real_dir, tmp_path):
    source = real_files(real_dir)[10]
    clean = pd.read_parquet(source)
    template = clean.iloc[[0]]
    injected = pd.concat([template] * 6, ignore_index=True)
    injected["mark_iv"] = [np.nan, 0.0, 600.0, -3.0, 45.0, 45.0]
    harvest = clean["harvest_time"].max()
    injected.loc[4, "expiry_timestamp"] = harvest.timestamp() - 3600.0  # expired an hour ago
    injected.loc[5, "option_type"] = "X"  # neither call nor put
    dirty = pd.concat([clean, injected], ignore_index=True)
    stamp = pd.Timestamp(harvest).floor("min")
    write_chain(tmp_path / "clean", clean, stamp)
    write_chain(tmp_path / "dirty", dirty, stamp)

    reference = load_harvested_chain_with_diagnostics(tmp_path / "clean", "BTC")
    result = load_harvested_chain_with_diagnostics(tmp_path / "dirty", "BTC")
    counts = result.snapshots.iloc[0]
    assert counts["rows"] == len(clean) + 6
    assert counts["dropped_no_mark_iv"] == 1
    assert counts["dropped_bad_mark_iv"] == 3  # 0, 600 and a negative mark
    assert counts["dropped_expired"] == 1
    assert counts["dropped_incomplete"] == 1
    assert counts["rows_used"] == len(clean)
    assert result.summary()["quotes_dropped"] == {
        "no_mark_iv": 1,
        "bad_mark_iv": 3,
        "expired": 1,
        "incomplete": 1,
    }
    vols = ["iv_30d", "iv_7d", "iv_25d_put", "iv_25d_call"]
    pd.testing.assert_frame_equal(result.frame[vols], reference.frame[vols])


# ------------------------------------------------------------- real snapshots


@pytest.fixture(scope="module")
def real_load(real_dir):
    """All real snapshots, loaded once for the module, with the load time."""
    started = time.perf_counter()
    result = load_harvested_chain_with_diagnostics(real_dir, "BTC")
    return result, time.perf_counter() - started


def test_all_real_snapshots_load_fast(real_load):
    result, elapsed = real_load
    frame = result.frame
    assert elapsed < 5.0
    assert result.files_found == REAL_SNAPSHOTS and not result.skipped_files
    assert list(frame.columns) == list(RAW_COLUMNS)
    assert isinstance(frame.index, pd.DatetimeIndex) and str(frame.index.tz) == "UTC"
    assert frame.index.name == "timestamp"
    assert frame.index.is_monotonic_increasing and frame.index.is_unique
    assert frame.notna().all().all()
    assert frame["close"].between(50_000, 200_000).all()
    assert (frame["open"] == frame["close"]).all() and (frame["high"] == frame["low"]).all()
    assert (result.snapshots["expiries_used"] >= 8).all()


def test_one_row_per_real_snapshot_at_its_harvest_time(real_dir, real_load):
    frame = real_load[0].frame
    harvest_times = sorted(
        pq.read_table(path, columns=["harvest_time"]).column(0).to_pandas().max()
        for path in real_files(real_dir)
    )
    assert len(frame) == REAL_SNAPSHOTS
    assert list(frame.index) == harvest_times


def test_real_atm_30d_is_close_to_dvol(real_dir):
    hourly = load_harvested_chain(real_dir, "BTC", bar="1h")
    dvol = pd.read_parquet(
        real_dir / "volatility_history" / "btc_volatility_history.parquet"
    ).set_index("timestamp")["iv_30d"]
    gap = (dvol.reindex(hourly.index) - hourly["iv_30d"]).dropna()
    assert len(gap) >= 10
    assert gap.abs().max() < 4.0  # within a few vol points
    assert gap.mean() > 0  # DVOL (variance-swap style) sits above ATM


def test_real_skew_and_term_spread_are_sane(real_load):
    frame = real_load[0].frame
    skew = frame["iv_25d_put"] - frame["iv_25d_call"]
    term = frame["iv_7d"] - frame["iv_30d"]
    assert np.isfinite(skew).all() and np.isfinite(term).all()
    assert skew.between(-15, 20).all()
    assert term.between(-15, 15).all()
    assert frame[["iv_30d", "iv_7d"]].stack().between(10, 200).all()


def test_daily_and_hourly_bars(real_dir, real_load):
    snapshots = real_load[0].frame
    daily = load_harvested_chain(real_dir, "BTC", bar="1d")
    assert list(daily.index) == [
        pd.Timestamp("2025-12-11", tz="UTC"),
        pd.Timestamp("2025-12-12", tz="UTC"),
    ]
    for day, bar in daily.iterrows():
        inside = snapshots[snapshots.index.floor("D") == day]
        assert bar["open"] == inside["close"].iloc[0]
        assert bar["high"] == inside["close"].max()
        assert bar["low"] == inside["close"].min()
        assert bar["close"] == inside["close"].iloc[-1]
        for column in ("iv_30d", "iv_7d", "iv_25d_put", "iv_25d_call"):
            assert bar[column] == inside[column].iloc[-1]

    hourly = resample_snapshots(snapshots, "1H")
    hours = snapshots.index.floor("h").unique()
    assert list(hourly.index) == list(hours)
    assert (hourly["high"] >= hourly["low"]).all()
    with pytest.raises(ValueError, match="unsupported bar"):
        load_harvested_chain(real_dir, "BTC", bar="5min")


def test_start_end_filtering(real_dir, real_load):
    everything = real_load[0].frame
    second_day = load_harvested_chain(real_dir, "BTC", start="2025-12-12")
    first_day = load_harvested_chain(real_dir, "BTC", end=date(2025, 12, 11))
    assert len(first_day) + len(second_day) == len(everything)
    assert (second_day.index.floor("D") == pd.Timestamp("2025-12-12", tz="UTC")).all()
    assert (first_day.index.floor("D") == pd.Timestamp("2025-12-11", tz="UTC")).all()

    start = pd.Timestamp("2025-12-11 18:30", tz="UTC")
    end = pd.Timestamp("2025-12-11 19:00:30")  # naive = UTC, exact to the second
    window = load_harvested_chain(real_dir, "BTC", start=start, end=end)
    expected = everything[
        (everything.index >= start) & (everything.index <= end.tz_localize("UTC"))
    ]
    pd.testing.assert_frame_equal(window, expected)

    with pytest.raises(MarketDataError, match="no option-chain snapshot files"):
        load_harvested_chain(real_dir, "BTC", start="2026-01-01")


def test_files_outside_the_range_are_never_opened(real_dir, tmp_path):
    copy_real(real_dir, tmp_path, 3)
    corrupt = snapshot_path(tmp_path, "BTC", pd.Timestamp("2025-12-10 10:00", tz="UTC"))
    corrupt.write_bytes(b"not a parquet file")
    assert len(list_snapshot_files(tmp_path, "BTC", start="2025-12-11")) == 3
    with warnings.catch_warnings():
        warnings.simplefilter("error", ChainFileWarning)
        frame = load_harvested_chain(tmp_path, "BTC", start="2025-12-11")
    assert len(frame) == 3


def test_corrupt_and_foreign_files_are_skipped_with_a_warning(real_dir, tmp_path):
    copy_real(real_dir, tmp_path, 4)
    corrupt = snapshot_path(tmp_path, "BTC", pd.Timestamp("2025-12-11 20:59", tz="UTC"))
    corrupt.write_bytes(b"PAR1 this is not really parquet")
    foreign = snapshot_path(tmp_path, "BTC", pd.Timestamp("2025-12-11 21:59", tz="UTC"))
    pd.DataFrame({"timestamp": [1, 2], "price": [3.0, 4.0]}).to_parquet(foreign)
    empty = snapshot_path(tmp_path, "BTC", pd.Timestamp("2025-12-11 22:59", tz="UTC"))
    pd.read_parquet(real_files(real_dir)[0]).iloc[:0].to_parquet(empty)

    with pytest.warns(ChainFileWarning) as caught:
        result = load_harvested_chain_with_diagnostics(tmp_path, "BTC")
    messages = [str(w.message) for w in caught]
    assert any(corrupt.name in m and "unreadable" in m for m in messages)
    assert any(foreign.name in m and "missing column" in m and "mark_iv" in m for m in messages)
    assert any(empty.name in m and "no rows" in m for m in messages)
    assert len(result.frame) == 4
    skipped = {s.path.name for s in result.skipped_files}
    assert skipped == {corrupt.name, foreign.name, empty.name}
    assert result.files_found == 7
    assert len(result.summary()["files_skipped"]) == 3


def test_no_files_is_an_error_naming_the_folder(tmp_path):
    with pytest.raises(MarketDataError, match="live_deribit"):
        load_harvested_chain(tmp_path, "BTC")
    (tmp_path / "live_deribit" / "BTC").mkdir(parents=True)
    with pytest.raises(MarketDataError, match=str(tmp_path / "live_deribit" / "BTC")):
        load_harvested_chain(tmp_path, "BTC")


def test_only_unreadable_files_is_an_error(tmp_path):
    bad = snapshot_path(tmp_path, "BTC", pd.Timestamp("2025-12-11 10:00", tz="UTC"))
    bad.write_bytes(b"garbage")
    with pytest.warns(ChainFileWarning), pytest.raises(MarketDataError, match="unreadable"):
        load_harvested_chain(tmp_path, "BTC")
