"""Realized volatility, the one definition shared by the sensor pipeline and the generator.

It lives in the bottom layer because the sensor pipeline (``backtest.sensors``) and the
synthetic generator both need it; it defines ``rv_7d``/``rv_30d`` in docs/sensors.md.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

DAYS_PER_YEAR = 365.0


def realized_vol(log_returns: pd.Series, window: int, bars_per_day: float = 1.0) -> pd.Series:
    """Sample stdev (ddof=1) of the last ``window`` log returns, annualized, in vol points.

    NaN until ``window`` returns exist and wherever the window holds a missing return.
    """
    annualize = np.sqrt(DAYS_PER_YEAR * bars_per_day) * 100.0
    return log_returns.rolling(window, min_periods=window).std(ddof=1) * annualize
