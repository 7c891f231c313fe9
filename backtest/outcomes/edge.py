"""The forward vol edge: what selling 30-day implied vol at t earned against the vol realized
afterwards (docs/outcomes.md).

``edge_{H}d(t) = iv_30d(t) - RV(t+1..t+H)``, with RV the ``rv_30d`` sensor's definition
(sample s.d., ddof=1, of close-to-close log returns, annualized by sqrt(365 x bars per day),
x100) over the H days of returns *after* t. Vol points. NaN when the future window is
incomplete (the last H days of a sample) or holds a missing bar. Only the future path enters:
the value at t reads closes t..t+H and ``iv_30d`` at t, nothing that a sensor, a decision or
a bin at t could see.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from backtest.sensors.pipeline import bars_per_day, regular_grid, window_bars
from greg_core.contract import DEFAULT_HORIZON_DAYS
from greg_core.realized_vol import realized_vol


def edge_column(horizon_days: int) -> str:
    """The name of the edge column for a horizon: ``edge_30d``."""
    return f"edge_{int(horizon_days)}d"


def forward_realized_vol(close: pd.Series, horizon_days: int = DEFAULT_HORIZON_DAYS) -> pd.Series:
    """RV over the ``horizon_days`` after each bar, in vol points, on ``close``'s index.

    Missing bars of a regular series count as missing returns, so a window crossing one is
    NaN; the last ``horizon_days`` of bars are NaN (their future is not in the data)."""
    if horizon_days < 2:
        raise ValueError(f"horizon_days must be >= 2 (a s.d. needs two returns), got {horizon_days}")
    grid = regular_grid(close.index)
    full = close if grid is None else close.reindex(grid)
    per_day = bars_per_day(full.index)
    positive = full.astype("float64").where(full > 0)
    log_return = np.log(positive).diff()
    window = window_bars(horizon_days, per_day)
    # The trailing RV at t+H covers the returns t+1..t+H: shift it back by H bars.
    forward = realized_vol(log_return, window, per_day).shift(-window)
    return forward if grid is None else forward.reindex(close.index)


def forward_edge(raw: pd.DataFrame, horizon_days: int = DEFAULT_HORIZON_DAYS,
                 forward_rv: pd.Series | None = None) -> pd.Series:
    """``iv_30d(t) - RV(t+1..t+H)`` on ``raw``'s index (vol points), named ``edge_{H}d``.
    ``forward_rv``: ``forward_realized_vol(raw["close"], horizon_days)`` when the caller has it."""
    if forward_rv is None:
        forward_rv = forward_realized_vol(raw["close"], horizon_days)
    edge = raw["iv_30d"].astype("float64") - forward_rv
    return edge.rename(edge_column(horizon_days))
