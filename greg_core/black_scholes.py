"""Black-Scholes with r = 0 and forward = spot: prices, deltas and strikes for a delta
(docs/outcomes.md "Pricing"). The one definition: the forward outcomes price their structures
with it and the chain loader finds its 25-delta strikes with it.

Units: ``vol`` is a decimal annual volatility (0.6 for 60 vol points), ``years`` is ACT/365
time to expiry, ``forward`` and ``strike`` are in the same currency (or both relative to the
entry spot, as ``backtest.outcomes.structures`` uses them). Every function is a numpy ufunc
composition: scalars and arrays broadcast.

With r = 0 there is no discounting and the forward is the spot::

    d1 = (ln(F / K) + vol^2 T / 2) / (vol sqrt(T)),  d2 = d1 - vol sqrt(T)
    call = F N(d1) - K N(d2),  put = K N(-d2) - F N(-d1)   (so call - put = F - K)
    call delta = N(d1),  put delta = N(d1) - 1

At expiry (T = 0) or with zero vol the price is the intrinsic value and the delta is 1 (call)
/ -1 (put) strictly in the money, 0 out of it, and N(0) = 1/2 (call) / -1/2 (put) at the
strike. N is ``greg_core.normal.normal_cdf`` (Cephes' ndtr without importing scipy).
"""

from __future__ import annotations

import numpy as np

from greg_core.normal import normal_cdf as ndtr
from greg_core.normal import normal_ppf as ndtri

ArrayLike = float | np.ndarray


def d1_from_log_moneyness(log_moneyness: ArrayLike, vol_root: ArrayLike) -> np.ndarray:
    """``ln(F/K) / (vol sqrt(T)) + vol sqrt(T) / 2`` from ``ln(F/K)`` and ``vol sqrt(T)``.

    With no time value left (``vol sqrt(T) = 0``) the limit: +inf in the money, -inf out of
    it, 0 at the strike (so N(d1) is 1, 0 or 1/2). NaN inputs stay NaN."""
    log_moneyness = np.asarray(log_moneyness, dtype=float)
    vol_root = np.asarray(vol_root, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = log_moneyness / vol_root + 0.5 * vol_root
    expired = vol_root == 0
    if np.any(expired):
        limit = np.where(log_moneyness > 0, np.inf, np.where(log_moneyness < 0, -np.inf, 0.0))
        limit = np.where(np.isnan(log_moneyness), np.nan, limit)
        out = np.where(expired, limit, out)
    return out


def d1(forward: ArrayLike, strike: ArrayLike, vol: ArrayLike, years: ArrayLike) -> np.ndarray:
    """``(ln(F/K) + vol^2 T / 2) / (vol sqrt(T))``; +-inf at T = 0 or vol = 0 (0 at F = K)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        log_moneyness = np.log(np.divide(forward, strike))
    return d1_from_log_moneyness(log_moneyness, np.multiply(vol, np.sqrt(years)))


def call_price(forward: ArrayLike, strike: ArrayLike, vol: ArrayLike, years: ArrayLike) -> np.ndarray:
    """Undiscounted Black-Scholes call, ``F N(d1) - K N(d2)``; intrinsic at T = 0."""
    vol_root = np.multiply(vol, np.sqrt(years))
    first = d1(forward, strike, vol, years)
    second = np.where(vol_root > 0, first - vol_root, first)
    price = np.multiply(forward, ndtr(first)) - np.multiply(strike, ndtr(second))
    # Deep out of the money the difference can round below zero.
    return np.maximum(price, 0.0)


def put_price(forward: ArrayLike, strike: ArrayLike, vol: ArrayLike, years: ArrayLike) -> np.ndarray:
    """Undiscounted Black-Scholes put, ``K N(-d2) - F N(-d1)``; intrinsic at T = 0."""
    vol_root = np.multiply(vol, np.sqrt(years))
    first = d1(forward, strike, vol, years)
    second = np.where(vol_root > 0, first - vol_root, first)
    price = np.multiply(strike, ndtr(-second)) - np.multiply(forward, ndtr(-first))
    return np.maximum(price, 0.0)


def option_price(
    forward: ArrayLike, strike: ArrayLike, vol: ArrayLike, years: ArrayLike, is_call: ArrayLike
) -> np.ndarray:
    """Call where ``is_call`` else put."""
    return np.where(
        is_call, call_price(forward, strike, vol, years), put_price(forward, strike, vol, years)
    )


def call_delta(forward: ArrayLike, strike: ArrayLike, vol: ArrayLike, years: ArrayLike) -> np.ndarray:
    """``N(d1)``: dC/dF."""
    return ndtr(d1(forward, strike, vol, years))


def put_delta(forward: ArrayLike, strike: ArrayLike, vol: ArrayLike, years: ArrayLike) -> np.ndarray:
    """``N(d1) - 1``: dP/dF."""
    return call_delta(forward, strike, vol, years) - 1.0


def option_delta(
    forward: ArrayLike, strike: ArrayLike, vol: ArrayLike, years: ArrayLike, is_call: ArrayLike
) -> np.ndarray:
    """Call delta where ``is_call`` else put delta."""
    delta = call_delta(forward, strike, vol, years)
    return np.where(is_call, delta, delta - 1.0)


def strike_for_delta(forward: ArrayLike, delta: ArrayLike, vol: ArrayLike, years: ArrayLike) -> np.ndarray:
    """The strike whose Black-Scholes delta at ``vol`` is ``delta``.

    ``delta`` in (0, 1) is a call delta (0.25: the 25-delta call, above the forward);
    ``delta`` in (-1, 0) is a put delta (-0.25: the 25-delta put, below the forward). From
    ``N(d1) = delta`` (calls) or ``N(d1) = 1 + delta`` (puts)::

        K = F exp(-d1 vol sqrt(T) + vol^2 T / 2)

    NaN for a delta outside (-1, 0) U (0, 1)."""
    delta = np.asarray(delta, dtype=float)
    call_equivalent = np.where(delta > 0, delta, 1.0 + delta)
    valid = (delta != 0) & (np.abs(delta) < 1)
    with np.errstate(invalid="ignore"):
        target_d1 = np.where(valid, ndtri(call_equivalent), np.nan)
    vol_root = np.multiply(vol, np.sqrt(years))
    return np.multiply(forward, np.exp(-target_d1 * vol_root + 0.5 * vol_root**2))


def call_delta_paths(log_moneyness: np.ndarray, vol: np.ndarray, years: np.ndarray) -> np.ndarray:
    """Call deltas N(d1) along price paths: row j is one option (vol ``vol[j]``), column i a
    time with ``years[i]`` left to expiry, ``log_moneyness[j, i] = ln(F_ji / K_j)``.

    The hedging loop of ``forward_outcomes`` runs this on (entry days x steps) matrices, so it
    spends as few passes over memory as it can: it requires ``years > 0`` and ``vol > 0``
    (NaN vol gives NaN), the case ``d1_from_log_moneyness`` handles in general."""
    vol_root = np.multiply.outer(np.asarray(vol, dtype=float), np.sqrt(years))
    out = np.divide(log_moneyness, vol_root)
    vol_root *= 0.5
    out += vol_root
    return ndtr(out, out=out)
