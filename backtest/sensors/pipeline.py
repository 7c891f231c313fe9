"""The one sensor pipeline: raw market data in, Greg sensors out, for every data source.

Definitions and units: docs/sensors.md (names and units in ``greg_core.contract``). Windows
are stated in days and converted to bars from the frame's bar length, so daily frames use
exactly 7/30/14/182/200 bars. Warm-up rows are NaN, never zero.

Missing bars (docs/sensors.md "Gaps"): a realized-vol window that touches one is NaN (a
missing day must not become one long "daily" return); the 182-day IV range and the 200-day
average need at least 90% of their days; ADX and RSI bridge a gap of up to
``MAX_BRIDGED_BARS`` missing bars (the rows on either side are taken as consecutive bars, as
TA-Lib and charting platforms do on the rows as given) and restart their warm-up after a
longer one. ``compute_sensors`` counts both kinds of gap in ``attrs``.

ADX and RSI follow Wilder exactly as TA-Lib computes them (SMA seed, then Wilder smoothing)
so they agree with ``talib.ADX``/``talib.RSI``; the recursions are exponential smoothings
(pandas ``ewm(adjust=False)``, no scipy). Two degenerate cases differ on purpose: a flat market (no true range, or no directional
movement) counts as DX = 0, i.e. "no trend" (TA-Lib holds the last ADX instead), and an RSI
with neither gains nor losses is NaN (TA-Lib prints 0, which the selector would read as
oversold).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from greg_core.contract import RAW_COLUMNS, SENSOR_NAMES
from greg_core.realized_vol import realized_vol

IV_RANK_DAYS = 182
MA_DAYS = 200
WILDER_PERIOD_DAYS = 14
# A long window is defined when at least this share of its bars is present.
MIN_WINDOW_COVERAGE = 0.9
# ADX/RSI take the rows around a gap of up to this many missing bars as consecutive.
MAX_BRIDGED_BARS = 3


def bars_per_day(index: pd.Index) -> float:
    """Bars per day from the median spacing of a DatetimeIndex (1.0 for daily or unknown)."""
    if not isinstance(index, pd.DatetimeIndex) or len(index) < 2:
        return 1.0
    step = pd.Series(index).diff().median()
    if pd.isna(step) or step <= pd.Timedelta(0):
        return 1.0
    return pd.Timedelta(days=1) / step


def window_bars(days: float, per_day: float) -> int:
    return max(1, int(round(days * per_day)))


def _wilder_smooth(x: np.ndarray, seed: float, keep: float, gain: float) -> np.ndarray:
    """y[0] = keep * seed + gain * x[0]; y[k] = keep * y[k-1] + gain * x[k].

    As an exponential smoothing with alpha = 1 - keep of ``[seed', x...]``, scaled by
    gain / alpha (Wilder's averages have gain = alpha, his running sums gain = 1)."""
    if len(x) == 0:
        return x
    alpha = 1.0 - keep
    scale = gain / alpha
    inputs = np.concatenate(([seed / scale], x))
    smoothed = pd.Series(inputs).ewm(alpha=alpha, adjust=False).mean().to_numpy()
    return smoothed[1:] * scale


def _bridged_runs(valid: np.ndarray, max_gap: int) -> list[np.ndarray]:
    """Positions of the valid rows, split where more than ``max_gap`` rows in a row are
    invalid: each run is computed as one consecutive series."""
    positions = np.flatnonzero(valid)
    if len(positions) == 0:
        return []
    breaks = np.flatnonzero(np.diff(positions) > max_gap + 1) + 1
    return np.split(positions, breaks)


def gap_counts(valid: np.ndarray, max_gap: int = MAX_BRIDGED_BARS) -> tuple[int, int]:
    """(bridged, restarting) gaps among the valid rows: runs of invalid rows between valid
    ones of at most / more than ``max_gap`` rows."""
    positions = np.flatnonzero(valid)
    missing = np.diff(positions) - 1
    return int(((missing > 0) & (missing <= max_gap)).sum()), int((missing > max_gap).sum())


def _rsi_run(close: np.ndarray, period: int) -> np.ndarray:
    out = np.full(len(close), np.nan)
    if len(close) <= period:
        return out
    change = np.diff(close)
    gains = np.where(change > 0, change, 0.0)
    losses = np.where(change < 0, -change, 0.0)
    keep = 1.0 - 1.0 / period
    avg_gain = np.empty(len(change) - period + 1)
    avg_loss = np.empty_like(avg_gain)
    avg_gain[0] = gains[:period].mean()
    avg_loss[0] = losses[:period].mean()
    avg_gain[1:] = _wilder_smooth(gains[period:], avg_gain[0], keep, 1.0 / period)
    avg_loss[1:] = _wilder_smooth(losses[period:], avg_loss[0], keep, 1.0 / period)
    total = avg_gain + avg_loss
    with np.errstate(invalid="ignore", divide="ignore"):
        out[period:] = np.where(total > 0, 100.0 * avg_gain / total, np.nan)
    return out


def _adx_run(high: np.ndarray, low: np.ndarray, close: np.ndarray, period: int) -> np.ndarray:
    out = np.full(len(close), np.nan)
    if len(close) < 2 * period:
        return out
    up = np.diff(high)
    down = -np.diff(low)
    plus_dm = np.where((up > 0) & (up > down), up, 0.0)
    minus_dm = np.where((down > 0) & (up < down), down, 0.0)
    true_range = np.maximum.reduce(
        [high[1:] - low[1:], np.abs(high[1:] - close[:-1]), np.abs(low[1:] - close[:-1])]
    )
    keep = 1.0 - 1.0 / period
    seed = period - 1  # TA-Lib seeds the smoothed sums with the first period-1 moves.

    def smoothed(moves: np.ndarray) -> np.ndarray:
        return _wilder_smooth(moves[seed:], moves[:seed].sum(), keep, 1.0)

    s_tr, s_plus, s_minus = smoothed(true_range), smoothed(plus_dm), smoothed(minus_dm)
    with np.errstate(invalid="ignore", divide="ignore"):
        plus_di = np.where(s_tr > 0, 100.0 * s_plus / s_tr, 0.0)
        minus_di = np.where(s_tr > 0, 100.0 * s_minus / s_tr, 0.0)
        di_sum = plus_di + minus_di
        dx = np.where(di_sum > 0, 100.0 * np.abs(plus_di - minus_di) / di_sum, 0.0)
    # dx[0] belongs to bar `period`; the first ADX (bar 2*period-1) is the mean of `period` DX.
    adx = np.empty(len(dx) - period + 1)
    adx[0] = dx[:period].mean()
    adx[1:] = _wilder_smooth(dx[period:], adx[0], keep, 1.0 / period)
    out[2 * period - 1 :] = adx
    return out


def _per_run(valid: np.ndarray, max_gap: int, fn, *columns: np.ndarray) -> np.ndarray:
    out = np.full(len(valid), np.nan)
    for rows in _bridged_runs(valid, max_gap):
        out[rows] = fn(*(c[rows] for c in columns))
    return out


def wilder_rsi(close: np.ndarray, period: int = 14, max_gap: int = MAX_BRIDGED_BARS) -> np.ndarray:
    """Wilder RSI; NaN entries are missing bars (bridged up to ``max_gap`` in a row)."""
    close = np.asarray(close, dtype="float64")
    return _per_run(np.isfinite(close), max_gap, lambda c: _rsi_run(c, period), close)


def wilder_adx(
    high: np.ndarray, low: np.ndarray, close: np.ndarray, period: int = 14, max_gap: int = MAX_BRIDGED_BARS
) -> np.ndarray:
    """Wilder ADX; rows with a NaN input are missing bars (bridged up to ``max_gap`` in a row)."""
    high, low, close = (np.asarray(a, dtype="float64") for a in (high, low, close))
    valid = np.isfinite(high) & np.isfinite(low) & np.isfinite(close)
    return _per_run(valid, max_gap, lambda h, lo, c: _adx_run(h, lo, c, period), high, low, close)


def regular_grid(index: pd.Index) -> pd.DatetimeIndex | None:
    """The full bar grid when ``index`` is a regular bar series with missing bars, else None.

    A missing day must not become one long "daily" return: sensors are computed on the full
    grid (missing bars as NaN inputs; see the module's gap rules) and only the original rows
    are returned. Irregular indexes (raw chain snapshots) are left
    as they are.
    """
    if not isinstance(index, pd.DatetimeIndex) or len(index) < 3 or not index.is_monotonic_increasing:
        return None
    steps = np.diff(index.asi8)
    step = int(np.median(steps))
    if step <= 0 or np.all(steps == step) or np.any((index.asi8 - index.asi8[0]) % step):
        return None
    return pd.date_range(index[0], index[-1], freq=pd.Timedelta(step, unit=index.unit), name=index.name)


def _finite(series: pd.Series) -> pd.Series:
    return series.replace([np.inf, -np.inf], np.nan)


def compute_sensors(raw: pd.DataFrame) -> pd.DataFrame:
    """Every Greg sensor for a raw market data frame, vectorized.

    Returns a frame on the same index with the raw columns first (so a row carries what it
    was computed from), then ``SENSOR_NAMES``, then any extra columns of ``raw`` (such as a
    synthetic ``regime_id``). Columns missing from ``raw`` are treated as all-NaN; missing
    bars in a regular series count as missing inputs (see ``regular_grid``).
    ``attrs["bridged_gaps"]`` / ``attrs["restarted_gaps"]`` count the gaps in the price bars
    that ADX/RSI bridged or restarted after.
    """
    grid = regular_grid(raw.index)
    frame = raw.copy() if grid is None else raw.reindex(grid)
    for column in RAW_COLUMNS:
        if column not in frame.columns:
            frame[column] = np.nan
    frame[list(RAW_COLUMNS)] = frame[list(RAW_COLUMNS)].astype("float64")
    per_day = bars_per_day(frame.index)

    close = frame["close"].where(frame["close"] > 0)
    log_return = np.log(close).diff()
    w7, w30 = window_bars(7, per_day), window_bars(30, per_day)
    rv_7d = realized_vol(log_return, w7, per_day)
    rv_30d = realized_vol(log_return, w30, per_day)

    iv_30d, iv_7d = frame["iv_30d"], frame["iv_7d"]
    w_rank = window_bars(IV_RANK_DAYS, per_day)
    iv_low, iv_high = _long_window(iv_30d, w_rank, "min"), _long_window(iv_30d, w_rank, "max")
    w_ma = window_bars(MA_DAYS, per_day)
    sma = _long_window(close, w_ma, "mean")
    period = window_bars(WILDER_PERIOD_DAYS, per_day)
    bars_valid = (frame["high"].notna() & frame["low"].notna() & close.notna()).to_numpy()

    sensors = pd.DataFrame(
        {
            "rv_7d": rv_7d,
            "rv_30d": rv_30d,
            "vrp_30d": iv_30d - rv_30d,
            "vrp_7d": iv_7d - rv_7d,
            "front_rv_iv_ratio": _finite(rv_7d / iv_7d.where(iv_7d > 0)),
            "chop_factor_7d": _finite(rv_7d / iv_30d.where(iv_30d > 0)),
            "iv_rank_6m": _finite((iv_30d - iv_low) / (iv_high - iv_low).where(iv_high > iv_low)),
            "term_structure_spread": iv_7d - iv_30d,
            "skew_25d": frame["iv_25d_put"] - frame["iv_25d_call"],
            "adx_14d": wilder_adx(frame["high"], frame["low"], close, period),
            "rsi_14d": wilder_rsi(close.to_numpy(), period),
            "price_vs_ma200": _finite((close / sma - 1.0) * 100.0),
        },
        index=frame.index,
    )
    extras = [c for c in frame.columns if c not in RAW_COLUMNS and c not in SENSOR_NAMES]
    result = pd.concat([frame[list(RAW_COLUMNS)], sensors, frame[extras]], axis=1)
    if grid is not None:
        result = result.loc[raw.index]
    result.attrs = dict(raw.attrs)
    result.attrs["bridged_gaps"], result.attrs["restarted_gaps"] = gap_counts(bars_valid)
    return result


def _long_window(series: pd.Series, window: int, how: str) -> pd.Series:
    """A rolling min/max/mean over ``window`` bars that tolerates missing bars inside the
    window (at least ``MIN_WINDOW_COVERAGE`` of them present) but not a short history: the
    window must lie wholly after the series' first value, so the warm-up stays ``window``."""
    needed = max(1, math.ceil(MIN_WINDOW_COVERAGE * window))
    values = getattr(series.rolling(window, min_periods=needed), how)()
    present = series.notna().to_numpy()
    if not present.any():
        return values
    started = np.arange(len(series)) >= int(np.argmax(present)) + window - 1
    return values.where(started)
