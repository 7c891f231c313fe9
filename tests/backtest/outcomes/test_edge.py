"""The forward vol edge against a plain loop, and its use of the future only."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from backtest.data.csv_history import load_history_csv
from backtest.outcomes.edge import edge_column, forward_edge, forward_realized_vol


def plain_forward_edge(close: list[float], iv: list[float], horizon: int) -> list[float]:
    """The definition, one sample at a time (docs/outcomes.md)."""
    out = []
    for t in range(len(close)):
        window = close[t : t + horizon + 1]
        if len(window) < horizon + 1 or any(c is None or not math.isfinite(c) for c in window):
            out.append(math.nan)
            continue
        returns = [math.log(b / a) for a, b in zip(window[:-1], window[1:], strict=True)]
        mean = sum(returns) / horizon
        sd = math.sqrt(sum((r - mean) ** 2 for r in returns) / (horizon - 1))
        out.append(iv[t] - sd * math.sqrt(365.0) * 100.0)
    return out


def frame(n: int, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.03, n)))
    index = pd.date_range("2024-01-01", periods=n, freq="D", tz="UTC")
    return pd.DataFrame({"close": close, "iv_30d": rng.uniform(30, 80, n)}, index=index)


@pytest.mark.parametrize("horizon", [2, 7, 30])
def test_edge_matches_the_definition(horizon):
    raw = frame(120)
    got = forward_edge(raw, horizon)
    expected = plain_forward_edge(raw["close"].tolist(), raw["iv_30d"].tolist(), horizon)
    assert got.name == edge_column(horizon) == f"edge_{horizon}d"
    np.testing.assert_allclose(got.to_numpy(), expected, rtol=0, atol=1e-9, equal_nan=True)
    assert got.iloc[-horizon:].isna().all() and got.iloc[: -horizon].notna().all()


def test_a_missing_bar_blanks_every_window_that_crosses_it():
    raw = frame(80).drop(pd.Timestamp("2024-02-10", tz="UTC"))
    edge = forward_edge(raw, 7)
    gap = raw.index.get_loc(pd.Timestamp("2024-02-11", tz="UTC"))
    # Windows ending after the gap and starting before it: t = gap-7 .. gap-1 (the bar before).
    assert edge.iloc[gap - 7 : gap].isna().all()
    assert edge.iloc[gap - 8 : gap - 7].notna().all() and edge.iloc[gap : gap + 5].notna().all()


def test_only_the_future_enters():
    raw = frame(100)
    base = forward_edge(raw, 10)
    changed = raw.copy()
    changed.iloc[:50, changed.columns.get_loc("close")] *= 1.7  # rewrite the past before t=50
    # The edge at t >= 50 reads closes t..t+10 only: unchanged (up to the rolling sum's rounding).
    np.testing.assert_allclose(forward_edge(changed, 10).iloc[50:], base.iloc[50:], rtol=0, atol=1e-9)
    assert not np.allclose(forward_edge(changed, 10).iloc[40:49], base.iloc[40:49])


def test_horizon_must_allow_a_standard_deviation():
    with pytest.raises(ValueError, match="horizon_days must be >= 2"):
        forward_realized_vol(frame(10)["close"], 1)


def test_real_btc_edge_agrees_with_the_plain_loop(real_dir):
    raw = load_history_csv(real_dir / "btc_usd_daily_ohlcv.csv", real_dir / "btc_dvol_daily.csv")
    got = forward_edge(raw, 30)
    expected = plain_forward_edge(raw["close"].tolist(), raw["iv_30d"].tolist(), 30)
    np.testing.assert_allclose(got.to_numpy(), expected, rtol=0, atol=1e-6, equal_nan=True)
    with_outcome = got.dropna()
    assert len(with_outcome) > 1000
    assert 5 < with_outcome.mean() < 11  # about +7.9 vol pts over 2022-11..2025-11
