"""Statistics for overlapping forward outcomes (docs/outcomes.md "Statistics").

Entries less than H days apart share most of their future, so a day count overstates the
evidence. Two corrections, both here:

* **Episodes**: the number of non-overlapping entries, greedily: take the first entry, skip
  until H days after it, take the next, repeat (``episode_mask``; per series or for many
  chains at once, keyed by e.g. (cell, group)). ``episodes_reference`` is the plain-Python
  definition the tests hold the vectorized one to.
* **Newey-West** (Bartlett kernel, H-1 lags) standard errors on the daily calendar: with
  ``u_t`` a day's contribution to an estimate (for a mean over the days of a group,
  ``u_t = 1_g(t) (x_t - mean)``, so ``Var(mean) = S / n_g^2``)::

      S = sum_{|L| <= lags} w_L sum_t u_t u_{t-L},   w_L = 1 - |L| / (lags + 1)

  Pairs are matched by calendar distance, so days outside the group or missing from the data
  contribute nothing (``u_t = 0``). ``newey_west_reference`` is the double loop.

``OutcomeSummary`` / ``summarize_outcomes`` give the figures every output shows for a set of
days (95% interval = mean +- 1.96 Newey-West SE, a normal approximation), ``walk_forward_split``
the earlier-two-thirds / later-third split, ``benjamini_hochberg`` the false-discovery flags.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

from greg_core.normal import normal_cdf

MICROSECONDS_PER_DAY = 86_400 * 10**6
Z_95 = 1.959963984540054  # two-sided 95% normal quantile
# The frontier walk switches to a pointer walk in Python when this few chains are still open:
# a long single chain would otherwise cost one round of numpy calls per episode.
_FEW_CHAINS = 16
# The most (key, sample) entries one vectorized pass over many keys holds at once. Passes cost
# ~130 bytes an entry in temporaries (tracemalloc, a 1,000,000-day pair's cells): the default
# sweep (1,095 days) goes through in one pass, a 1,000,000-day span one pair or one sensor at a
# time, so its memory stays bounded.
MAX_BATCH_ENTRIES = 1_000_000


def batches(sizes: Sequence[int], limit: int = MAX_BATCH_ENTRIES) -> list[slice]:
    """Consecutive runs of items whose ``sizes`` add up to at most ``limit`` (an item larger
    than ``limit`` is a run of its own): per-key statistics are independent, so callers
    compute each run in one pass and concatenate."""
    runs, start, total = [], 0, 0
    for i, size in enumerate(sizes):
        if i > start and total + size > limit:
            runs.append(slice(start, i))
            start, total = i, 0
        total += size
    if start < len(sizes):
        runs.append(slice(start, len(sizes)))
    return runs


def json_ready(value: Any) -> Any:
    """Plain JSON types: dicts/lists/str/int/float/bool/None, non-finite floats as None."""
    if isinstance(value, dict):
        return {str(key): json_ready(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [json_ready(item) for item in value]
    if isinstance(value, np.bool_ | bool):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        number = float(value)
        return number if math.isfinite(number) else None
    return value


def day_numbers(index: pd.Index) -> np.ndarray:
    """Calendar day of each row (days since 1970-01-01, UTC) for a DatetimeIndex; the row
    positions for any other index (rows are then taken as consecutive days)."""
    if isinstance(index, pd.DatetimeIndex):
        stamps = index.tz_convert("UTC") if index.tz is not None else index
        return stamps.as_unit("us").asi8 // MICROSECONDS_PER_DAY  # us: any year a span can start in
    return np.arange(len(index), dtype=np.int64)


# --------------------------------------------------------------------------- episodes


def episodes_reference(days: Sequence[int], horizon_days: int) -> list[int]:
    """The definition, one entry at a time: the days taken as non-overlapping episodes."""
    taken: list[int] = []
    for day in sorted(set(int(d) for d in days)):
        if not taken or day >= taken[-1] + horizon_days:
            taken.append(day)
    return taken


def episode_mask(
    days: np.ndarray, horizon_days: int, keys: np.ndarray | None = None
) -> np.ndarray:
    """True at the samples taken as episodes: per key, the first day, then the first day at
    least ``horizon_days`` after the last one taken, and so on.

    ``days``: integer calendar days (``day_numbers``); ``keys``: integer chain ids (e.g. a
    (cell, group) code), None for one chain. Any order; a repeated (key, day) is taken once
    (its first occurrence). Cost: one sort plus one vectorized round per episode of the
    longest chain, with the last few long chains walked along next-entry pointers."""
    days = np.asarray(days, dtype=np.int64)
    n = len(days)
    taken = np.zeros(n, dtype=bool)
    if n == 0:
        return taken
    if horizon_days < 1:
        raise ValueError(f"horizon_days must be >= 1, got {horizon_days}")
    keys = np.zeros(n, dtype=np.int64) if keys is None else np.asarray(keys, dtype=np.int64)
    if len(keys) != n:
        raise ValueError(f"keys ({len(keys)}) and days ({n}) differ in length")

    # One sorted int64 code per sample: key-major, then day; a key's codes stay below the next
    # key's even after adding the horizon, so "code + H" never lands in another key by itself.
    low = int(days.min())
    span = int(days.max()) - low + horizon_days + 1
    key_low = int(keys.min())
    if (int(keys.max()) - key_low + 1) * span >= 2**62:
        raise ValueError("too many keys x days for one int64 code")
    codes = keys - key_low  # in place from here: a long span's pass holds a million codes
    codes *= span
    codes += days
    codes -= low
    order = None if np.all(codes[1:] >= codes[:-1]) else _sort_order(codes)
    if order is not None:
        codes = codes[order]
    chain = codes // span
    heads = np.flatnonzero(np.r_[True, chain[1:] != chain[:-1]])
    # Each sample's successor: the first sample at least H days later (maybe in a later chain).
    # Sorted queries let searchsorted walk the array nearly linearly.
    following = np.searchsorted(codes, codes + horizon_days, side="left")

    taken_sorted = np.zeros(n, dtype=bool)
    frontier = heads
    while len(frontier) >= _FEW_CHAINS:
        taken_sorted[frontier] = True
        nxt = following[frontier]
        inside = nxt < n
        nxt, frontier = nxt[inside], frontier[inside]
        frontier = nxt[chain[nxt] == chain[frontier]]
    if len(frontier):
        # Few chains left, possibly long: walk their pointers in plain Python, reading only
        # the pointers walked (a memoryview gives Python ints without converting the chain).
        chain_end = np.r_[heads[1:], n][np.searchsorted(heads, frontier, side="right") - 1]
        successor = memoryview(np.ascontiguousarray(following, dtype=np.int64))
        walked = []
        for first, end in zip(frontier.tolist(), chain_end.tolist(), strict=True):
            position = first
            while position < end:
                walked.append(position)
                position = successor[position]
        taken_sorted[walked] = True
    if order is None:
        return taken_sorted
    taken[order] = taken_sorted
    return taken


def _sort_order(codes: np.ndarray) -> np.ndarray:
    """``argsort(codes, kind="stable")``; a counting sort when the codes are distinct and
    dense (the usual (key, day) grid), else ``stable_key_order``'s radix passes (both linear
    instead of n log n where the codes allow)."""
    n = len(codes)
    size = int(codes.max()) + 1
    if size <= 4 * n:
        present = np.zeros(size, dtype=bool)
        present[codes] = True
        if int(np.count_nonzero(present)) == n:  # distinct: each code's rank is its slot
            order = np.empty(n, dtype=np.int64)
            order[np.cumsum(present)[codes] - 1] = np.arange(n)
            return order
    return stable_key_order(codes)


def stable_key_order(keys: np.ndarray) -> np.ndarray:
    """``np.argsort(keys, kind="stable")`` for non-negative integer keys: below 2**32 as two
    16-bit radix passes (numpy sorts 16-bit integers by radix, in linear time), about 2.5x
    faster than the comparison sort on the millions of (pair, group, cell) keys of a long
    span; any other keys by the comparison sort."""
    keys = np.asarray(keys)
    if len(keys) == 0 or keys.dtype.kind not in "iu" or int(keys.min()) < 0 or int(keys.max()) >= 2**32:
        return np.argsort(keys, kind="stable")
    if keys.dtype.itemsize < 4:  # int8/int16/uint8/uint16: the masks below need a wider type
        keys = keys.astype(np.int64)
    order = np.argsort((keys & 0xFFFF).astype(np.uint16), kind="stable")
    if int(keys.max()) < 2**16:
        return order
    return order[np.argsort((keys[order] >> 16).astype(np.uint16), kind="stable")]


def count_episodes(days: np.ndarray, horizon_days: int) -> int:
    """Non-overlapping entries among ``days`` (one chain)."""
    return int(episode_mask(days, horizon_days).sum())


def count_episodes_by_key(
    keys: np.ndarray, days: np.ndarray, horizon_days: int, n_keys: int | None = None
) -> np.ndarray:
    """Episodes per key for keys coded 0..n_keys-1 (keys with no sample count 0)."""
    keys = np.asarray(keys, dtype=np.int64)
    taken = episode_mask(days, horizon_days, keys)
    length = int(keys.max()) + 1 if n_keys is None and len(keys) else (n_keys or 0)
    return np.bincount(keys[taken], minlength=length)


def quantiles_by_key(keys: np.ndarray, values: np.ndarray, n_keys: int, counts: np.ndarray,
                      quantiles: Sequence[float], ranks: np.ndarray | None = None) -> list[np.ndarray]:
    """Per key, numpy's default (linear) quantile of its values; NaN for an empty key.

    ``ranks``: each value's rank in an ascending sort of the values (any ties' order), when
    the caller has one to share (many pairs group the same samples): the (key, value) order
    is then one linear radix pass over ``key x ranks + rank`` instead of a sort."""
    keys = np.asarray(keys)
    size = int(ranks.max()) + 1 if ranks is not None and len(keys) else 0
    if size and (int(keys.max()) + 1) * size < 2**32:
        codes = keys.astype(np.uint32)  # 4 bytes a code: a long span's pass holds a million
        codes *= np.uint32(size)
        codes += ranks.astype(np.uint32)
        order = stable_key_order(codes)
    else:
        # Sorted by (key, value): by value, then stably by key (ties keep the value order).
        by_value = np.argsort(values)
        order = by_value[stable_key_order(keys[by_value])]
    ordered = values[order]
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    out = []
    for q in quantiles:
        position = starts + q * np.maximum(counts - 1, 0)
        below = np.floor(position).astype(np.int64)
        above = np.minimum(below + 1, starts + np.maximum(counts - 1, 0))
        if len(ordered):
            low, high = ordered[np.minimum(below, len(ordered) - 1)], ordered[np.minimum(above, len(ordered) - 1)]
            fraction = position - below
            with np.errstate(invalid="ignore", over="ignore"):  # (high - low) may overflow where unused
                # At a whole position the value itself (the minimum for q = 0): never inf x 0.
                result = np.where(fraction > 0, low + (high - low) * fraction, low)
        else:
            result = np.zeros(n_keys)
        out.append(np.where(counts > 0, result, np.nan))
    return out


# --------------------------------------------------------------------------- Newey-West


def bartlett_sum(u: np.ndarray, days: np.ndarray, lags: int) -> float:
    """``sum_{|L| <= lags} (1 - |L| / (lags + 1)) sum_t u_t u_{t-L}`` with t, t-L calendar days.

    ``u`` holds the contributions of the days in ``days`` (distinct integers, any order); a
    day absent from ``days`` contributes 0. Non-negative (the Bartlett kernel is positive
    semi-definite)."""
    u = np.asarray(u, dtype=float)
    return float(bartlett_by_key(u, days, np.zeros(len(u), dtype=np.int64), lags, 1)[0])


def bartlett_by_key(u: np.ndarray, days: np.ndarray, keys: np.ndarray, lags: int, n_keys: int) -> np.ndarray:
    """Per key, ``sum_{|L| <= lags} (1 - |L| / (lags + 1)) sum_t u_t u_{t-L}`` over calendar
    days (a day without a sample counts u = 0), for many keys at once, in O(n log n).

    The Bartlett sum equals ``sum_t M_t^2 / (lags + 1)`` with ``M_t`` the sum of the u of the
    last ``lags + 1`` days up to t. ``M`` only changes where a sample enters its window (its
    day) or leaves it (``lags + 1`` days later), so the sum is one pass over those events:
    each constant stretch of ``M`` contributes its length times ``M^2``."""
    u = np.asarray(u, dtype=float)
    if lags < 0:
        raise ValueError(f"lags must be >= 0, got {lags}")
    if len(u) == 0:
        return np.zeros(n_keys)
    keys = np.asarray(keys, dtype=np.int64)
    days = np.asarray(days, dtype=np.int64)
    if len(u) > BARTLETT_CHUNK and bool(np.all(keys[1:] >= keys[:-1])):
        # Keys are independent: a long input sorted by key goes in runs of whole keys, so
        # the event arrays (ten of twice the input's length) stay a few tens of MB.
        cuts = np.searchsorted(keys, keys[np.arange(BARTLETT_CHUNK, len(keys), BARTLETT_CHUNK)], side="left")
        bounds = np.unique(np.concatenate(([0], cuts, [len(keys)])))
        total = np.zeros(n_keys)
        for lo, hi in zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True):
            if keys[lo] == keys[hi - 1]:  # one key: its days on a dense grid, less memory than events
                total[keys[lo]] += _bartlett_dense(u[lo:hi], days[lo:hi], lags)
            else:
                total += _bartlett_events(u[lo:hi], days[lo:hi], keys[lo:hi], lags, n_keys)
        return total
    return _bartlett_events(u, days, keys, lags, n_keys)


def _bartlett_dense(u: np.ndarray, days: np.ndarray, lags: int) -> float:
    """``bartlett_by_key`` of one key: ``M_t`` (the u of the last ``lags + 1`` days up to t)
    as a difference of cumulative sums on the key's span of days, then ``sum M_t^2 / (lags + 1)``.
    Three arrays of the span's length, where the events take about ten of twice the samples';
    a key of the 1,000,000 days of a long sweep is dense, so this is the smaller."""
    width = lags + 1
    low = int(days.min())
    size = int(days.max()) - low + 1 + width  # M returns to 0 ``width`` days after the last sample
    level = np.cumsum(np.bincount(days - low, weights=u, minlength=size))
    level[width:] -= level[:-width].copy()
    return float(np.dot(level, level)) / width


# Entries per pass of ``bartlett_by_key`` on a long input sorted by key.
BARTLETT_CHUNK = 1 << 18


def _bartlett_events(u: np.ndarray, days: np.ndarray, keys: np.ndarray, lags: int, n_keys: int) -> np.ndarray:
    """``bartlett_by_key`` in one pass over the entry and exit events of every sample."""
    width = lags + 1
    event_key = np.concatenate((keys, keys))
    event_day = np.concatenate((days, days + width))
    event_delta = np.concatenate((u, -u))
    # One int64 code per event, key-major then day; a stable sort keeps the lexsort order.
    # When the samples come sorted by (key, day), the codes are two sorted runs and the
    # sort (timsort) is a linear merge.
    low = int(event_day.min())
    span = int(event_day.max()) - low + 1
    codes = event_key * span + (event_day - low)
    order = np.argsort(codes, kind="stable")
    event_key, event_day, event_delta = event_key[order], event_day[order], event_delta[order]
    running = np.cumsum(event_delta)
    first = np.empty(len(event_key), dtype=bool)
    first[0] = True
    np.not_equal(event_key[1:], event_key[:-1], out=first[1:])
    # M within each key: the running sum since the key's first event (rounding residue of the
    # keys before it, whose events sum to zero, is taken off).
    start = np.maximum.accumulate(np.where(first, np.arange(len(running)), 0))
    level = running - (running[start] - event_delta[start])
    length = np.empty(len(event_day), dtype=np.int64)
    length[:-1] = np.diff(event_day)
    length[-1] = 0
    length[:-1][first[1:]] = 0  # the last event of a key closes it: M is 0 after
    return np.bincount(event_key, weights=length * level * level, minlength=n_keys) / width


@dataclass(frozen=True)
class MeanEstimate:
    """Per key: samples, mean and its Newey-West standard error (NaN below 2 samples)."""

    n: np.ndarray
    mean: np.ndarray
    se: np.ndarray


def newey_west_by_key(
    keys: np.ndarray, days: np.ndarray, values: np.ndarray, lags: int, n_keys: int | None = None,
    *, sums: tuple[np.ndarray, np.ndarray] | None = None,
) -> MeanEstimate:
    """Mean and Newey-West SE of ``values`` per key (codes 0..n_keys-1), all keys at once.

    Non-finite values are left out. ``days`` must be distinct within a key. ``sums``: each
    key's count and sum of ``values`` when the caller has them (its values all finite), so
    they are not counted again."""
    keys = np.asarray(keys, dtype=np.int64)
    days = np.asarray(days, dtype=np.int64)
    values = np.asarray(values, dtype=float)
    length = int(keys.max()) + 1 if n_keys is None and len(keys) else (n_keys or 0)
    if sums is None:
        finite = np.isfinite(values)
        if not finite.all():  # (a long span's cells are all finite: no copies of three 8 MB arrays)
            keys, days, values = keys[finite], days[finite], values[finite]
        sums = np.bincount(keys, minlength=length), np.bincount(keys, weights=values, minlength=length)
    n, total = sums
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = total / n
        u = values - mean[keys]
        variance = bartlett_by_key(u, days, keys, lags, length)
        se = np.where(n >= 2, np.sqrt(np.maximum(variance, 0.0)) / n, np.nan)
    return MeanEstimate(n, mean, se)


def newey_west_se(
    values: np.ndarray, days: np.ndarray, lags: int, mask: np.ndarray | None = None
) -> float:
    """Newey-West SE of the mean of ``values`` over the days in ``mask`` (all days when None).

    Days without a finite value count as outside the subset. NaN below 2 samples."""
    values = np.asarray(values, dtype=float)
    days = np.asarray(days, dtype=np.int64)
    inside = np.isfinite(values) if mask is None else np.isfinite(values) & np.asarray(mask, bool)
    n = int(inside.sum())
    if n < 2:
        return math.nan
    x = values[inside]
    return math.sqrt(bartlett_sum(x - x.mean(), days[inside], lags)) / n


def newey_west_reference(
    values: Sequence[float], days: Sequence[int], lags: int, mask: Sequence[bool] | None = None
) -> float:
    """The formula as written, in plain Python: a double loop over the subset's days."""
    picked = [
        (int(d), float(v))
        for d, v, m in zip(days, values, mask if mask is not None else [True] * len(days), strict=True)
        if m and math.isfinite(float(v))
    ]
    n = len(picked)
    if n < 2:
        return math.nan
    mean = sum(v for _, v in picked) / n
    total = 0.0
    for day_a, value_a in picked:
        for day_b, value_b in picked:
            distance = abs(day_a - day_b)
            if distance <= lags:
                total += (1.0 - distance / (lags + 1.0)) * (value_a - mean) * (value_b - mean)
    return math.sqrt(total) / n


# --------------------------------------------------------------------------- summaries


@dataclass(frozen=True)
class OutcomeSummary:
    """An outcome over a set of days.

    ``n``: days with an outcome; ``episodes``: non-overlapping entries among them (H days
    apart); ``mean``, ``median``, ``hit_rate`` (share > 0), ``p10`` (10th percentile),
    ``worst`` (minimum); ``se``: Newey-West (Bartlett, H-1 lags) SE of the mean on the daily
    calendar; ``ci_low``/``ci_high``: the 95% interval mean +- 1.96 se (normal approximation).
    NaN statistics where ``n`` is 0, and NaN ``se``/interval below 2 episodes (the days of
    one episode are one bet). Few episodes make the interval optimistic: callers mark groups
    under a minimum (8 by default) as thin."""

    n: int
    episodes: int
    mean: float
    median: float
    hit_rate: float
    p10: float
    worst: float
    se: float
    ci_low: float
    ci_high: float
    horizon_days: int

    def to_json(self) -> dict[str, Any]:
        return json_ready(asdict(self))


def summarize_outcomes(
    values: np.ndarray, days: np.ndarray, horizon_days: int, mask: np.ndarray | None = None
) -> OutcomeSummary:
    """``OutcomeSummary`` of ``values`` over the days in ``mask`` (all when None)."""
    values = np.asarray(values, dtype=float)
    days = np.asarray(days, dtype=np.int64)
    inside = np.isfinite(values) if mask is None else np.isfinite(values) & np.asarray(mask, bool)
    x, picked_days = values[inside], days[inside]
    n = len(x)
    if n == 0:
        nan = math.nan
        return OutcomeSummary(0, 0, nan, nan, nan, nan, nan, nan, nan, nan, horizon_days)
    mean = float(x.mean())
    episodes = count_episodes(picked_days, horizon_days)
    # One episode is one bet: its days' scatter says nothing about another bet's outcome.
    se = newey_west_se(x, picked_days, horizon_days - 1) if episodes >= 2 else math.nan
    return OutcomeSummary(
        n=n,
        episodes=episodes,
        mean=mean,
        median=float(np.median(x)),
        hit_rate=float((x > 0).mean()),
        p10=float(np.quantile(x, 0.10)),
        worst=float(x.min()),
        se=se,
        ci_low=mean - Z_95 * se,
        ci_high=mean + Z_95 * se,
        horizon_days=horizon_days,
    )


# --------------------------------------------------------------------------- walk-forward, BH


@dataclass(frozen=True)
class WalkForwardSplit:
    """Days chosen on (``in_sample``: the earlier two thirds, minus the last H days before
    the cut so no in-sample outcome reads a return after it) and days evaluated on
    (``out_of_sample``: from ``cut_day`` on)."""

    cut_day: int
    in_sample: np.ndarray
    out_of_sample: np.ndarray


def walk_forward_split(
    days: np.ndarray, horizon_days: int, in_sample_share: float = 2.0 / 3.0
) -> WalkForwardSplit:
    """Split a span by date: ``cut = first + share x (last - first)`` (calendar days)."""
    days = np.asarray(days, dtype=np.int64)
    if not 0.0 < in_sample_share < 1.0:
        raise ValueError(f"in_sample_share must be in (0, 1), got {in_sample_share}")
    if len(days) == 0:
        empty = np.zeros(0, dtype=bool)
        return WalkForwardSplit(0, empty, empty)
    first, last = int(days.min()), int(days.max())
    cut = first + int(math.ceil(in_sample_share * (last - first)))
    return WalkForwardSplit(cut, days + horizon_days <= cut, days >= cut)


def two_sided_p(t_stats: np.ndarray) -> np.ndarray:
    """Normal two-sided p-value of t statistics (NaN stays NaN)."""
    return 2.0 * normal_cdf(-np.abs(np.asarray(t_stats, dtype=float)))


def benjamini_hochberg(p_values: np.ndarray, alpha: float = 0.05) -> np.ndarray:
    """Benjamini-Hochberg discoveries at false-discovery rate ``alpha``: reject the k smallest
    p-values, k the largest rank with ``p_(k) <= alpha k / m`` (m = finite p-values; NaN is
    never a discovery)."""
    p = np.asarray(p_values, dtype=float)
    flags = np.zeros(p.shape, dtype=bool)
    finite = np.flatnonzero(np.isfinite(p))
    m = len(finite)
    if m == 0:
        return flags
    order = finite[np.argsort(p[finite], kind="stable")]
    passing = np.flatnonzero(p[order] <= alpha * np.arange(1, m + 1) / m)
    if len(passing):
        flags[order[: passing[-1] + 1]] = True
    return flags
