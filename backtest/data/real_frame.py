"""The one real raw frame per underlying, built from every real source in a data folder.

Daily bars CSV + daily DVOL CSV + hourly DVOL + harvested chain snapshots -> one raw market
data frame (``RAW_COLUMNS``) plus a JSON-ready provenance dict that says which source
supplied each column on how many rows, and which precedence applied (docs/data-sources.md).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from backtest.data.availability import find_file
from backtest.data.chain import SUPPORTED_BARS, load_harvested_chain_with_diagnostics
from backtest.data.csv_history import empty_raw_frame, load_iv_csv, load_ohlc_csv
from backtest.data.layout import (
    CHAIN_FOLDER,
    HISTORY_FOLDER,
    VOL_HISTORY_FOLDER,
    dvol_csv_name,
    ohlcv_csv_name,
    vol_history_name,
)
from backtest.data.parsing import check_prices
from backtest.data.vol_history import load_volatility_history
from greg_core.contract import PRICE_COLUMNS, RAW_COLUMNS
from greg_core.errors import MarketDataError

# Precedence per column, highest first (see build_real_raw_frame for why).
PRECEDENCE: dict[str, tuple[str, ...]] = {
    "open/high/low/close": ("ohlc_csv", "chain"),
    "iv_30d": ("chain", "vol_history", "iv_csv"),
    "iv_7d": ("chain",),
    "iv_25d_put": ("chain",),
    "iv_25d_call": ("chain",),
}



# ------------------------------------------------------------------ combined frame


def _span(index: pd.Index) -> dict:
    if len(index) == 0:
        return {"rows": 0, "start": None, "end": None}
    return {
        "rows": int(len(index)),
        "start": index.min().isoformat(),
        "end": index.max().isoformat(),
    }


def _first_existing(root: Path | None, name: str, folder: str) -> Path | None:
    return None if root is None else find_file(root, name, folder)


def _required(path: str | Path | None, what: str, folder: bool = False) -> Path | None:
    if path is None:
        return None
    path = Path(path)
    if not path.exists():
        raise MarketDataError(f"{path}: {what} not found")
    if not folder and path.is_dir():
        raise MarketDataError(f"{path}: is a folder, expected the {what} file")
    return path


def _column_provenance(origin: pd.Series) -> dict:
    """Per source label: rows and date span of the rows it supplied."""
    return {
        str(label): _span(origin.index[(origin == label).to_numpy()])
        for label in pd.unique(origin.dropna())
    }


def build_real_raw_frame(
    underlying: str,
    data_dir: str | Path | None = None,
    ohlc_csv: str | Path | None = None,
    iv_csv: str | Path | None = None,
    vol_history: str | Path | None = None,
    chain_dir: str | Path | None = None,
    bar: str = "1d",
    include_chain: bool = True,
) -> tuple[pd.DataFrame, dict]:
    """One raw market data frame for ``underlying`` from every real source, plus provenance.

    Sources (each optional; ``data_dir`` fills in the ones not given, from the shared real
    data layout or the harvester's: ``{u}_usd_daily_ohlcv.csv`` or
    ``history/{u}_usd_daily_ohlcv.csv``, ``{u}_dvol_daily.csv`` or ``history/{u}_dvol_daily.csv``,
    ``volatility_history/{u}_volatility_history.parquet``, ``live_deribit/{U}/...``):

    * ``ohlc_csv``: daily bars; ``iv_csv``: daily DVOL close;
    * ``vol_history``: hourly DVOL (``load_volatility_history``);
    * ``chain_dir``: harvested chain snapshots (``load_harvested_chain_with_diagnostics``).

    Precedence where sources overlap, row by row:

    * open/high/low/close: the daily bars CSV, because it has the true daily high and low;
      chain snapshots only sample spot every few minutes (their high/low understate the range,
      which biases ADX). Days with no bar but with chain snapshots take the OHLC of the
      snapshot spots. The four prices of a row always come from one source.
    * iv_30d: the chain's own 30-day ATM IV where the chain has a value, because it comes from
      the same surface as iv_7d and the 25-delta IVs (so term spread and the IV/RV ratios are
      internally consistent); else the hourly DVOL (last hour of the bar); else the daily DVOL
      CSV. Note DVOL is a variance-swap style index and sits ~2 vol pts above ATM IV, so
      iv_30d steps where the source changes; provenance records where that happens.
    * iv_7d, iv_25d_put, iv_25d_call: chain only (no other source has them); NaN elsewhere.

    Rows: bars of ``bar`` ("1d" default, UTC midnight labels; "1h" uses only the hourly and
    chain sources, the daily files cannot fill hours) where at least a close exists, from the
    bars CSV or the chain. No row is invented: an IV-only day is dropped and counted.

    Returns ``(frame, provenance)``; provenance is JSON-ready: ``underlying``, ``bar``,
    ``rows``/``start``/``end``, ``sources`` (path and span of each source, used or not),
    ``columns`` (per column, per source: rows and span supplied), ``precedence`` (the rule per
    column, highest first), ``overridden`` (rows where a lower-precedence source had a value
    that was not used) and ``dropped_without_close`` (per source, bars with a value but no
    close). Raises ``MarketDataError`` when no source is available, an explicitly given source
    cannot be read, or no row has a close (``include_chain=False`` ignores chain snapshots
    under ``data_dir``: the "history" source); a chain folder found under ``data_dir`` that holds
    no usable snapshot is recorded as unused instead (an empty harvest is a normal state).
    """
    symbol = underlying.upper()
    frequency = SUPPORTED_BARS.get(str(bar).lower())
    if frequency is None:
        raise ValueError(f"unsupported bar {bar!r}: use one of {', '.join(SUPPORTED_BARS)}")
    daily = frequency == "1D"

    root = Path(data_dir) if data_dir is not None else None
    ohlc_path = _required(ohlc_csv, "daily bars CSV") or _first_existing(root, ohlcv_csv_name(symbol), HISTORY_FOLDER)
    iv_path = _required(iv_csv, "daily DVOL CSV") or _first_existing(root, dvol_csv_name(symbol), HISTORY_FOLDER)
    vol_path = _required(vol_history, "volatility history") or _first_existing(
        root, vol_history_name(symbol), VOL_HISTORY_FOLDER
    )
    chain_root = _required(chain_dir, "chain folder", folder=True) or (
        root if include_chain and root is not None and (root / CHAIN_FOLDER / symbol).is_dir() else None
    )
    if not any((ohlc_path, iv_path, vol_path, chain_root)):
        raise MarketDataError(
            f"{root or 'no data_dir'}: no real data source for {symbol} "
            "(daily bars CSV, DVOL CSV, volatility history or chain snapshots)"
        )

    sources: dict[str, dict] = {}
    candidates: dict[str, pd.DataFrame] = {}  # source -> bar-indexed frame of what it offers

    if ohlc_path is not None:
        entry: dict = {"path": str(ohlc_path)}
        if daily:
            bars = load_ohlc_csv(ohlc_path)
            candidates["ohlc_csv"] = bars[list(PRICE_COLUMNS)]
            entry.update(_span(bars.index), used=True)
        else:
            entry.update(used=False, reason="daily bars cannot fill hourly rows")
        sources["ohlc_csv"] = entry
    if iv_path is not None:
        entry = {"path": str(iv_path)}
        if daily:
            iv = load_iv_csv(iv_path)
            candidates["iv_csv"] = iv.to_frame("iv_30d")
            entry.update(_span(iv.index), used=True)
        else:
            entry.update(used=False, reason="daily DVOL cannot fill hourly rows")
        sources["iv_csv"] = entry
    if vol_path is not None:
        hourly = load_volatility_history(vol_path, symbol)["iv_30d"].dropna()
        # Last hour of each bar: the hourly candle labelled 23:00 closes at midnight, which
        # is what the daily DVOL CSV calls that day's close.
        per_bar = hourly.groupby(hourly.index.floor(frequency)).last()
        per_bar.index.name = "timestamp"
        candidates["vol_history"] = per_bar.to_frame("iv_30d")
        sources["vol_history"] = {"path": str(vol_path), **_span(hourly.index), "used": True}
    if chain_root is not None:
        try:
            chain = load_harvested_chain_with_diagnostics(chain_root, symbol, bar=bar)
        except MarketDataError as exc:
            # An explicit chain_dir must load; a harvest folder found under data_dir may
            # legitimately hold nothing usable yet (the harvester just started).
            if chain_dir is not None:
                raise
            sources["chain"] = {"path": str(chain_root), "used": False, "reason": str(exc)}
        else:
            # Spot is a median of positive forwards, so this holds by construction; checked
            # anyway, as every price entering the frame is.
            check_prices(chain.frame, chain.chain_dir, lambda i: f"bar {chain.frame.index[i]:%Y-%m-%d %H:%M}")
            candidates["chain"] = chain.frame
            summary = chain.summary()
            summary["bar_rows"] = summary.pop("rows")  # "rows" elsewhere means source rows
            sources["chain"] = {"path": summary.pop("chain_dir"), **summary, "used": True}

    # Rows: every bar with a close from a price source.
    with_close = [
        frame.index[frame["close"].notna().to_numpy()]
        for name, frame in candidates.items()
        if name in ("ohlc_csv", "chain")
    ]
    index = pd.DatetimeIndex([], tz="UTC")
    for part in with_close:
        index = index.union(part)
    index = pd.DatetimeIndex(index, name="timestamp").as_unit("us")
    if len(index) == 0:
        raise MarketDataError(
            f"{symbol}: no {bar} bar has a close (need the daily bars CSV or chain snapshots)"
        )

    raw = empty_raw_frame(index)
    raw.index.name = "timestamp"
    columns: dict[str, dict] = {}
    overridden: dict[str, dict[str, int]] = {}
    dropped: dict[str, int] = {}

    def fill(targets: list[str], rule: str, key_column: str) -> pd.Series:
        """Fill ``targets`` row by row from the first source in ``PRECEDENCE[rule]`` whose
        ``key_column`` has a value; returns the per-row source label."""
        origin = pd.Series(None, index=index, dtype="object")
        for name in PRECEDENCE[rule]:
            if name not in candidates:
                continue
            offered = candidates[name].reindex(index)
            has = offered[key_column].notna()
            take = has & origin.isna()
            if (has & ~take).any():
                overridden.setdefault(rule, {})[name] = int((has & ~take).sum())
            raw.loc[take, targets] = offered.loc[take, targets].to_numpy()
            origin[take] = name
        return origin

    price_origin = fill(list(PRICE_COLUMNS), "open/high/low/close", "close")
    for column in PRICE_COLUMNS:
        columns[column] = _column_provenance(price_origin)
    for column in ("iv_30d", "iv_7d", "iv_25d_put", "iv_25d_call"):
        columns[column] = _column_provenance(fill([column], column, column))

    for name, frame in candidates.items():
        offered = frame.index[frame.notna().any(axis=1).to_numpy()]
        outside = offered.difference(index)
        if len(outside):
            dropped[name] = int(len(outside))

    raw = raw[list(RAW_COLUMNS)]
    raw.attrs["source"] = f"real:{symbol}:" + "+".join(candidates)
    warnings = overlap_warnings(candidates)
    provenance = {
        "underlying": symbol,
        "bar": bar,
        **_span(index),
        "sources": sources,
        "columns": columns,
        "precedence": {column: list(order) for column, order in PRECEDENCE.items()},
        "overridden": overridden,
        "dropped_without_close": dropped,
        "warnings": warnings,
    }
    return raw, provenance


SOURCE_NAMES: dict[str, str] = {
    "ohlc_csv": "the daily bars",
    "iv_csv": "the daily DVOL",
    "vol_history": "the hourly DVOL",
    "chain": "the option-chain snapshots",
}


def overlap_warnings(candidates: dict[str, pd.DataFrame]) -> list[str]:
    """One line per pair of sources whose date spans do not overlap: their values never meet
    on one row, so the sensors that combine them (VRP from IV and RV, skew next to ADX...)
    are missing where the user may expect them."""
    spans = {
        name: (frame.index.min(), frame.index.max()) for name, frame in candidates.items() if len(frame)
    }
    names = list(spans)
    found = []
    for i, first in enumerate(names):
        for second in names[i + 1 :]:
            (a0, a1), (b0, b1) = spans[first], spans[second]
            if a1 < b0 or b1 < a0:
                found.append(
                    f"{SOURCE_NAMES.get(first, first)} ({a0:%Y-%m-%d}..{a1:%Y-%m-%d}) and "
                    f"{SOURCE_NAMES.get(second, second)} ({b0:%Y-%m-%d}..{b1:%Y-%m-%d}) do not overlap"
                )
    return found
