"""Forward outcomes of every entry day: the vol edge and each strategy structure's P&L
(docs/outcomes.md).

``forward_outcomes(raw, horizon_days)`` returns, on ``raw``'s index:

* ``edge_{H}d``: ``iv_30d(t) - RV(t+1..t+H)`` (``backtest.outcomes.edge``), vol points;
* ``pnl_{KEY}``: the strategy's structure (``backtest.outcomes.structures``) opened at the
  close of t on the entry smile and held to expiry (the calendar: to its front's expiry),
  in % of the entry spot, short premium positive;
* ``pnl_hedged_{KEY}``: the same structure delta-hedged at every bar's close (daily for
  daily bars) with the Black-Scholes delta at each leg's entry IV, hedge trades at the close;
* ``flat_smile``: True where the entry day had ``iv_30d`` but no 25-delta skew, so the wing
  legs were priced at ``iv_30d`` (``FLAT_SMILE_NOTE``).

An outcome is NaN when its future window (t .. t + holding period) is incomplete or holds a
missing bar (the rule of ``forward_edge``), or when an IV it needs is missing. Only the closes
t .. t + holding and the IVs at t (and, for the calendar's back leg, at its exit) enter.

Computation: all prices are taken relative to the entry spot (Black-Scholes is homogeneous of
degree one in spot and strike), so each entry day is a row of a (days x steps) matrix of
``S_{t+i} / S_t`` built as a strided view of the log closes. Entry days go in chunks of
``chunk_rows`` so memory stays bounded whatever the length. Calls and puts on one strike
share one set of normal CDFs: the put's premium, payoff and hedge follow from put-call
parity (``C - P = F - K`` with r = 0), which leaves the five H-day strikes and the two
calendar strikes as the only delta computations.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view

from backtest.outcomes.edge import DEFAULT_HORIZON_DAYS, edge_column, forward_edge
from backtest.outcomes.structures import (
    FLAT_SMILE_FALLBACK,
    FLAT_SMILE_NOTE,
    Structure,
    hedged_pnl_column,
    pnl_column,
    structures_for,
    term_vol,
)
from backtest.selector.spec import SelectorSpec, load_selector_spec
from backtest.sensors.pipeline import bars_per_day, regular_grid, window_bars
from greg_core.black_scholes import call_delta_paths, call_price, strike_for_delta
from greg_core.contract import VOL_COLUMNS
from greg_core.cores import worker_threads
from greg_core.realized_vol import DAYS_PER_YEAR

# 32,768 entry days x 31 steps of float64 is 8 MB per matrix; a chunk holds a handful.
DEFAULT_CHUNK_ROWS = 1 << 15
MAX_WORKERS = 4
FLAT_SMILE_COLUMN = "flat_smile"


def default_workers() -> int:
    """Threads for the chunks: the machine's cores, at most ``MAX_WORKERS``."""
    return worker_threads(MAX_WORKERS)


def outcome_columns(keys: Iterable[str], horizon_days: int = DEFAULT_HORIZON_DAYS, hedged: bool = True) -> list[str]:
    """The numeric outcome columns of ``forward_outcomes`` in order: edge, then per key the
    unhedged and (``hedged``) the hedged P&L."""
    keys = list(keys)
    return (
        [edge_column(horizon_days)]
        + [pnl_column(key) for key in keys]
        + ([hedged_pnl_column(key) for key in keys] if hedged else [])
    )


@dataclass(frozen=True)
class _StrikeLine:
    """Options on one strike within a holding period: the same delta rule, vol and tenor."""

    strike_delta: float | None
    vol_column: str
    tenor_days: int


@dataclass(frozen=True)
class _CallValues:
    """Per entry day, relative to the entry spot: strike, call premium at entry, call value at
    exit, and the hedge's gain sum_i delta_i (S_{i+1} - S_i) / S_0 over the holding period."""

    strike: np.ndarray
    premium: np.ndarray
    exit_value: np.ndarray
    hedge_gain: np.ndarray


def forward_outcomes(
    raw: pd.DataFrame,
    horizon_days: int = DEFAULT_HORIZON_DAYS,
    *,
    spec: SelectorSpec | None = None,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    workers: int | None = None,
    hedged: bool = True,
) -> pd.DataFrame:
    """Edge and per-strategy P&L (unhedged and delta-hedged) of every entry day of ``raw``.

    ``hedged=False`` leaves out the delta-hedged columns: the hedge's deltas along every path
    are nine tenths of the work, and a sweep reads only the unhedged P&L.

    ``raw`` follows the raw market data contract (``greg_core.contract``); absent vol columns
    count as missing. The strategy keys come from ``spec`` (default: the bundled selector).
    Columns: ``outcome_columns(keys, horizon_days)`` then ``flat_smile``; ``attrs`` carries
    ``horizon_days``, ``flat_smile_days`` and ``outcome_notes`` (sentences for outputs).
    """
    horizon_days = int(horizon_days)
    if horizon_days < 2:
        raise ValueError(f"horizon_days must be >= 2 (a s.d. needs two returns), got {horizon_days}")
    if chunk_rows < 1:
        raise ValueError(f"chunk_rows must be >= 1, got {chunk_rows}")
    if "close" not in raw.columns:
        raise ValueError("raw market data has no 'close' column")
    keys = (spec or load_selector_spec()).strategy_keys
    structures = structures_for(keys)

    # Work on the full bar grid (a missing bar is a NaN close, so windows crossing it are
    # incomplete) but write results straight into rows of ``raw``.
    grid = regular_grid(raw.index)
    per_day = bars_per_day(raw.index if grid is None else grid)
    if grid is None:
        n, grid_rows = len(raw), None
    else:
        n = len(grid)
        grid_rows = ((raw.index.asi8 - grid.asi8[0]) // (grid.asi8[1] - grid.asi8[0])).astype(np.intp)
    log_close = np.log(_on_grid(_positive(raw, "close"), grid_rows, n))
    vols = {column: _on_grid(_positive(raw, column), grid_rows, n) / 100.0 for column in VOL_COLUMNS}
    # A day needs both 25-delta vols for a smile; without them every wing is priced flat.
    has_skew = np.isfinite(vols["iv_25d_put"]) & np.isfinite(vols["iv_25d_call"])
    flat_smile = np.isfinite(vols["iv_30d"]) & ~has_skew
    for column, fallback in FLAT_SMILE_FALLBACK.items():
        vols[column] = np.where(has_skew, vols[column], vols[fallback])

    # One (rows of raw x columns) block that the DataFrame wraps without a copy.
    names = outcome_columns(keys, horizon_days, hedged)[1:]
    block = np.full((len(raw), len(names)), np.nan)
    raw_row = None
    if grid_rows is not None:
        raw_row = np.full(n, -1, dtype=np.intp)  # grid position -> row of raw (-1: missing bar)
        raw_row[grid_rows] = np.arange(len(raw))
    by_holding: dict[int, list[str]] = {}
    for key, structure in structures.items():
        if structure is not None:
            by_holding.setdefault(structure.holding_days(horizon_days), []).append(key)
    for holding_days, group in by_holding.items():
        _fill_group(
            _Writer(block, {name: position for position, name in enumerate(names)}, raw_row),
            {key: structures[key] for key in group},  # type: ignore[misc]
            holding_days,
            horizon_days,
            log_close,
            vols,
            per_day,
            chunk_rows,
            default_workers() if workers is None else workers,
            hedged,
        )

    frame = pd.DataFrame(block, index=raw.index, columns=names, copy=False)
    frame[FLAT_SMILE_COLUMN] = flat_smile if grid_rows is None else flat_smile[grid_rows]
    frame.insert(0, edge_column(horizon_days), forward_edge(raw, horizon_days).to_numpy())

    notes = []
    flat_days = int(frame[FLAT_SMILE_COLUMN].sum())
    if flat_days:
        notes.append(f"{FLAT_SMILE_NOTE}: {flat_days} of {len(frame)} days")
    unmatched = [key for key, structure in structures.items() if structure is None]
    if unmatched:
        notes.append(f"no option structure for {', '.join(unmatched)}: its P&L is empty")
    frame.attrs = {
        **dict(raw.attrs),
        "horizon_days": horizon_days,
        "flat_smile_days": flat_days,
        "outcome_notes": notes,
    }
    return frame


@dataclass(frozen=True)
class _Writer:
    """Writes a chunk of grid positions into the result block's rows of ``raw``."""

    block: np.ndarray
    position: Mapping[str, int]
    raw_row: np.ndarray | None  # None: the grid is raw's own index

    def write(self, column: str, start: int, values: np.ndarray) -> None:
        target = self.block[:, self.position[column]]
        if self.raw_row is None:
            target[start : start + len(values)] = values
            return
        rows = self.raw_row[start : start + len(values)]
        present = rows >= 0
        target[rows[present]] = values[present]


def _on_grid(values: np.ndarray, grid_rows: np.ndarray | None, n: int) -> np.ndarray:
    """``values`` (rows of raw) placed on the full grid of ``n`` bars, NaN at missing bars."""
    if grid_rows is None:
        return values
    out = np.full(n, np.nan)
    out[grid_rows] = values
    return out


def _positive(frame: pd.DataFrame, column: str) -> np.ndarray:
    """A column as float64 with NaN where absent, missing or not positive."""
    if column not in frame.columns:
        return np.full(len(frame), np.nan)
    values = pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
    return np.where(values > 0, values, np.nan)


def _fill_group(
    writer: _Writer,
    structures: Mapping[str, Structure],
    holding_days: int,
    horizon_days: int,
    log_close: np.ndarray,
    vols: Mapping[str, np.ndarray],
    per_day: float,
    chunk_rows: int,
    workers: int,
    hedged: bool = True,
) -> None:
    """P&L of the structures that share one holding period, chunk by chunk of entry days.

    Chunks write disjoint rows of the result; numpy and ``ndtr`` release the GIL, so
    ``workers`` threads run chunks side by side with identical results."""
    n = len(log_close)
    steps = window_bars(holding_days, per_day)
    if n <= steps:
        return
    legs = [
        (key, leg, _StrikeLine(leg.strike_delta, leg.vol_column, s.tenor_days(leg, horizon_days)))
        for key, s in structures.items()
        for leg in s.legs
    ]
    lines = list(dict.fromkeys(line for _, _, line in legs))
    windows = sliding_window_view(log_close, steps + 1)  # row t: log closes t .. t+steps
    # Missing closes up to each bar: a window is complete when none falls inside it.
    missing_before = np.concatenate(([0], np.cumsum(~np.isfinite(log_close))))

    def fill(start: int) -> None:
        stop = min(start + chunk_rows, n - steps)
        complete = missing_before[start + steps + 1 : stop + steps + 1] == missing_before[start:stop]
        if hedged:
            log_growth = windows[start:stop] - windows[start:stop, :1]  # ln(S_{t+i} / S_t)
            growth = np.exp(log_growth)
            path = _Path(log_growth, np.diff(growth, axis=1), growth[:, -1])
        else:  # held to expiry: only the last close of each window matters, not the path
            path = _Path(None, None, np.exp(windows[start:stop, -1] - windows[start:stop, 0]))
        final = path.final
        calls = {line: _call_values(line, path, steps, vols, start, stop, per_day) for line in lines}
        unhedged = {key: np.zeros(stop - start) for key in structures}
        hedged_pnl = {key: np.zeros(stop - start) for key in structures}
        for key, leg, line in legs:
            call = calls[line]
            premium, exit_value, hedge_gain = call.premium, call.exit_value, call.hedge_gain
            if leg.option == "put":  # put-call parity, r = 0: P = C - (F - K)
                premium = premium - (1.0 - call.strike)
                exit_value = exit_value - (final - call.strike)
                hedge_gain = hedge_gain - (final - 1.0)
            unhedged[key] += leg.position * (exit_value - premium)
            hedged_pnl[key] += leg.position * (exit_value - premium - hedge_gain)
        for key in structures:
            writer.write(pnl_column(key), start, np.where(complete, 100.0 * unhedged[key], np.nan))
            if hedged:
                writer.write(hedged_pnl_column(key), start, np.where(complete, 100.0 * hedged_pnl[key], np.nan))

    starts = range(0, n - steps, chunk_rows)
    if workers > 1 and len(starts) > 1:
        with ThreadPoolExecutor(min(workers, len(starts))) as pool:
            list(pool.map(fill, starts))
    else:
        for start in starts:
            fill(start)


@dataclass(frozen=True)
class _Path:
    """The spot path after each entry day of a chunk, relative to the entry close:
    ``log_growth`` (rows x steps+1) and ``moves`` (rows x steps, the daily changes) for the
    hedge, None when unhedged; ``final``, the growth at the exit."""

    log_growth: np.ndarray | None
    moves: np.ndarray | None
    final: np.ndarray


def _call_values(
    line: _StrikeLine,
    path: _Path,
    steps: int,
    vols: Mapping[str, np.ndarray],
    start: int,
    stop: int,
    per_day: float,
) -> _CallValues:
    """A call on the line's strike for entry days start..stop-1, relative to entry spot
    (the hedge's gain only when ``path`` carries the path)."""
    final = path.final
    vol = vols[line.vol_column][start:stop]
    tenor_years = line.tenor_days / DAYS_PER_YEAR
    if line.strike_delta is None:
        strike = np.ones(stop - start)
    else:
        strike = strike_for_delta(1.0, line.strike_delta, vol, tenor_years)
    premium = call_price(1.0, strike, vol, tenor_years)

    if path.log_growth is not None and path.moves is not None:
        log_moneyness = path.log_growth[:, :steps]
        if line.strike_delta is not None:
            log_moneyness = log_moneyness - np.log(strike)[:, None]
        # Delta at each hedge time i = 0..steps-1 (the close of t+i), at the entry vol.
        years_left = tenor_years - np.arange(steps) / (DAYS_PER_YEAR * per_day)
        deltas = call_delta_paths(log_moneyness, vol, years_left)
        hedge_gain = np.einsum("ij,ij->i", deltas, path.moves)
    else:
        hedge_gain = np.zeros(stop - start)

    remaining_days = line.tenor_days - steps / per_day
    if remaining_days <= 0:
        exit_value = np.maximum(final - strike, 0.0)
    else:
        # A leg that outlives the holding period (the calendar's back month) is marked at the
        # ATM vol of its remaining tenor on the exit day's 7d/30d term structure.
        exit_vol = term_vol(
            vols["iv_7d"][start + steps : stop + steps],
            vols["iv_30d"][start + steps : stop + steps],
            remaining_days,
        )
        exit_value = call_price(final, strike, exit_vol, remaining_days / DAYS_PER_YEAR)
    return _CallValues(strike, premium, exit_value, hedge_gain)
