"""The time axis of the series plot: datetimes as float seconds, equal time slots, and
calendar date ticks that fit the width (docs/app.md "6 Series")."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

UNITS_PER_SECOND = {"s": 1.0, "ms": 1e3, "us": 1e6, "ns": 1e9}


def epoch_seconds(index: pd.DatetimeIndex) -> np.ndarray:
    """A datetime index as float seconds since 1970 (UTC), the unit of ``SeriesView.times``
    (any resolution: a 1,000,000-day synthetic span is beyond nanoseconds' range)."""
    return index.asi8 / UNITS_PER_SECOND[index.unit]


def nice_step(span: float, count: int) -> float:
    """A 1, 2, 2.5 or 5 x 10^k step giving about ``count`` intervals over ``span``."""
    raw = span / max(count, 1)
    if not math.isfinite(raw) or raw <= 0:
        return 1.0
    magnitude = 10 ** math.floor(math.log10(raw))
    for multiple in (1, 2, 2.5, 5, 10):
        if multiple * magnitude >= raw:
            return multiple * magnitude
    return 10 * magnitude


def time_slots(times: np.ndarray, t0: float, t1: float, slots: int) -> np.ndarray:
    """The slot 0..slots-1 of each time when [t0, t1] is cut into ``slots`` equal slices."""
    if t1 <= t0:
        return np.zeros(len(times), dtype=np.int64)
    position = (np.asarray(times, dtype=np.float64) - t0) / (t1 - t0) * slots
    return np.clip(position.astype(np.int64), 0, slots - 1)


# (pandas frequency, label format, its length in days): the date ticks' candidate steps.
DATE_STEPS: tuple[tuple[str, str, float], ...] = (
    ("D", "%m-%d", 1), ("W-MON", "%m-%d", 7), ("MS", "%Y-%m", 30.4), ("QS", "%Y-%m", 91.3),
    ("2QS", "%Y-%m", 182.6), ("YS", "%Y", 365.2), ("2YS", "%Y", 730.5), ("5YS", "%Y", 1826),
    ("10YS", "%Y", 3652), ("50YS", "%Y", 18262), ("100YS", "%Y", 36524), ("500YS", "%Y", 182621),
)
SECONDS_PER_DAY = 86400.0


def date_ticks(t0: float, t1: float, plot_w: int) -> tuple[tuple[int, str], ...]:
    """(character column, label) of the date ticks: the finest calendar step whose labels fit
    without touching (a step is only generated when its tick count can fit)."""
    start = pd.Timestamp(t0, unit="s", tz="UTC")
    stop = pd.Timestamp(t1, unit="s", tz="UTC")
    days = (t1 - t0) / SECONDS_PER_DAY
    for freq, fmt, step_days in DATE_STEPS:
        if days / step_days > plot_w / 4:  # labels are at least 4 characters apart
            continue
        try:
            stamps = pd.date_range(start.normalize(), stop, freq=freq)
        except (ValueError, OverflowError, pd.errors.OutOfBoundsDatetime):
            continue
        stamps = stamps[stamps >= start]
        if len(stamps) == 0:
            break
        columns = time_slots(epoch_seconds(stamps), t0, t1, 2 * plot_w) // 2
        labels = [f"{s:{fmt}}" for s in stamps]
        width = max(len(label) for label in labels) + 1
        if len(columns) < 2 or int(np.min(np.diff(columns))) >= width:
            return tuple((int(column), label) for column, label in zip(columns, labels, strict=True)
                         if column + len(label) <= plot_w)
    return ((0, f"{start:%Y-%m-%d}"),)

