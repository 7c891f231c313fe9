"""The one sensor pipeline: raw market data in, Greg sensors out, for every data source.

Definitions and units: docs/sensors.md (names and units in ``greg_core.contract``). Windows are stated in days and
converted to bars from the frame's bar length, so daily frames use exactly 7/30/14/182/200
bars. Warm-up rows, and rows whose window touches a missing input, are NaN, never zero.

ADX and RSI follow Wilder exactly as TA-Lib computes them (SMA seed, then Wilder smoothing)
so they agree with ``talib.ADX``/``talib.RSI``; the recursions run through
``scipy.signal.lfilter``, and a gap in the inputs restarts the indicator's warm-up after it.
Two degenerate cases differ on purpose: a flat market (no true range, or no directional
movement) counts as DX = 0, i.e. "no trend" (TA-Lib holds the last ADX instead), and an RSI
with neither gains nor losses is NaN (TA-Lib prints 0, which the selector would read as
oversold).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.signal import lfilter

from greg_core.contract import RAW_COLUMNS, SENSOR_NAMES
from greg_core.realized_vol import realized_vol

IV_RANK_DAYS = 182
MA_DAYS = 200
WILDER_PERIOD_DAYS = 14


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
    """y[0] = keep * seed + gain * x[0]; y[k] = keep * y[k-1] + gain * x[k]."""
    if len(x) == 0:
        return x
    out, _ = lfilter([gain], [1.0, -keep], x, zi=[keep * seed])
    return out


def _contiguous_runs(valid: np.ndarray) -> list[tuple[int, int]]:
    """[start, stop) of each run of True in ``valid``."""
    edges = np.diff(np.concatenate(([0], valid.astype(np.int8), [0])))
    return list(zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1), strict=True))


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


def _per_run(valid: np.ndarray, fn, *columns: np.ndarray) -> np.ndarray:
    out = np.full(len(valid), np.nan)
    for start, stop in _contiguous_runs(valid):
        out[start:stop] = fn(*(c[start:stop] for c in columns))
    return out


def wilder_rsi(close: np.ndarray, period: int = 14) -> np.ndarray:
    close = np.asarray(close, dtype="float64")
    return _per_run(np.isfinite(close), lambda c: _rsi_run(c, period), close)


def wilder_adx(high: np.ndarray, low: np.ndarray, close: np.ndarray, period: int = 14) -> np.ndarray:
    high, low, close = (np.asarray(a, dtype="float64") for a in (high, low, close))
    valid = np.isfinite(high) & np.isfinite(low) & np.isfinite(close)
    return _per_run(valid, lambda h, lo, c: _adx_run(h, lo, c, period), high, low, close)


def regular_grid(index: pd.Index) -> pd.DatetimeIndex | None:
    """The full bar grid when ``index`` is a regular bar series with missing bars, else None.

    A missing day must not become one long "daily" return: sensors are computed on the full
    grid (missing bars as NaN inputs, so windows touching them are NaN and ADX/RSI restart)
    and only the original rows are returned. Irregular indexes (raw chain snapshots) are left
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
    iv_low = iv_30d.rolling(w_rank, min_periods=w_rank).min()
    iv_high = iv_30d.rolling(w_rank, min_periods=w_rank).max()
    w_ma = window_bars(MA_DAYS, per_day)
    sma = close.rolling(w_ma, min_periods=w_ma).mean()
    period = window_bars(WILDER_PERIOD_DAYS, per_day)

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
    return result
