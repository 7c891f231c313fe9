"""The data sources by name, and which real data a folder holds, found by names only.

The readers (``backtest.data.real_frame``) and the up-front check of a run
(``require_data_available``, called by ``run_greg_sweetspot_sweep`` and ``--export``) use
this one definition of where each source is looked for (``backtest.data.layout``), so a run
that would fail on a missing underlying fails before any work, naming what is missing and
where it looked. Nothing is opened: a few ``stat`` calls per underlying. This module
imports neither pandas nor the engine, so a command line can check before loading them
(docs/data-sources.md, "Validation"). ``backtest.sensors.sources`` re-exports the names.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from backtest.data.layout import (
    CHAIN_FOLDER,
    HISTORY_FOLDER,
    VOL_HISTORY_FOLDER,
    dvol_csv_name,
    ohlcv_csv_name,
    readable_candidates,
    vol_history_name,
)
from greg_core.errors import MarketDataError
from greg_core.settings import default_data_dir

SYNTHETIC = "synthetic"
HISTORY = "history"
HARVESTED = "harvested"
SOURCES: tuple[str, ...] = (SYNTHETIC, HISTORY, HARVESTED)

# The sources a daily bar's close can come from: without one of them there is no row.
PRICE_SOURCES = ("ohlc_csv", "chain")
SOURCE_LABELS = {
    "ohlc_csv": "daily bars CSV",
    "iv_csv": "daily DVOL CSV",
    "vol_history": "hourly DVOL parquet",
    "chain": "option-chain snapshots",
}


def find_file(root: Path, name: str, folder: str) -> Path | None:
    """The first of ``root/name``, ``root/folder/name`` that is a file; ``MarketDataError``
    when one of them is a folder (a folder named like the file is a mistake worth saying,
    not a reason to look inside it)."""
    for candidate in readable_candidates(root, name, folder):
        if candidate.is_dir():
            raise MarketDataError(f"{candidate}: is a folder, expected a file named {name}")
        if candidate.is_file():
            return candidate
    return None


def chain_folder(root: Path, underlying: str) -> Path:
    return Path(root) / CHAIN_FOLDER / underlying.upper()


def has_snapshot_files(folder: Path) -> bool:
    """True when ``folder`` holds at least one visible parquet file (stops at the first)."""
    if not folder.is_dir():
        return False
    return any(not p.name.startswith(".") for p in folder.rglob("*.parquet"))


@dataclass(frozen=True)
class DataAvailability:
    """What ``folder`` holds for ``underlying``: ``found`` maps each source present
    ("ohlc_csv", "iv_csv", "vol_history", "chain") to its path; ``looked_in`` lists every
    place a price source was looked for; ``problem`` is the one-line reason the underlying
    cannot be used (None when it can)."""

    underlying: str
    folder: Path
    include_chain: bool
    found: dict[str, Path] = field(default_factory=dict)
    looked_in: tuple[Path, ...] = ()
    problem: str | None = None

    @property
    def usable(self) -> bool:
        return self.problem is None

    def describe(self) -> str:
        """One line: what was found, or what is missing."""
        if self.problem is not None:
            return self.problem
        return f"{self.underlying}: " + ", ".join(SOURCE_LABELS[k] for k in self.found)


def real_data_availability(underlying: str, folder: Path, include_chain: bool = True) -> DataAvailability:
    """What real data ``folder`` holds for ``underlying`` (see ``DataAvailability``). A run
    needs a price source: the daily bars CSV, or (``include_chain``) chain snapshots."""
    symbol = underlying.upper()
    folder = Path(folder)
    looked = [*readable_candidates(folder, ohlcv_csv_name(symbol), HISTORY_FOLDER)]
    if include_chain:
        looked.append(chain_folder(folder, symbol))
    if not folder.is_dir():
        problem = f"no {symbol} data: the data folder {folder} does not exist"
        return DataAvailability(symbol, folder, include_chain, {}, tuple(looked), problem)
    found: dict[str, Path] = {}
    try:
        for kind, name, sub in (
            ("ohlc_csv", ohlcv_csv_name(symbol), HISTORY_FOLDER),
            ("iv_csv", dvol_csv_name(symbol), HISTORY_FOLDER),
            ("vol_history", vol_history_name(symbol), VOL_HISTORY_FOLDER),
        ):
            path = find_file(folder, name, sub)
            if path is not None:
                found[kind] = path
    except MarketDataError as exc:
        return DataAvailability(symbol, folder, include_chain, found, tuple(looked), str(exc))
    if include_chain and has_snapshot_files(chain_folder(folder, symbol)):
        found["chain"] = chain_folder(folder, symbol)
    problem = None
    if not any(kind in found for kind in PRICE_SOURCES):
        problem = f"no {symbol} prices in {folder}: looked for {looked[0]}, {looked[1]}"
        if include_chain:
            problem += f" and chain snapshots in {looked[2]}"
        elif has_snapshot_files(chain_folder(folder, symbol)):
            problem += " (the history source reads no chain snapshots; the harvested source does)"
    return DataAvailability(symbol, folder, include_chain, found, tuple(looked), problem)


# ------------------------------------------------------------------ per source


def validate_source(source: str) -> str:
    """A known source name, or an existing folder; raises ValueError listing the choices."""
    text = str(source).strip()
    if text.lower() in SOURCES:
        return text.lower()
    if text and Path(text).expanduser().is_dir():
        return str(Path(text).expanduser())
    raise ValueError(f"unknown data source {source!r}; choose one of: {', '.join(SOURCES)}, or a data folder")


def real_data_folder(source: str, data_dir: Path | None = None) -> tuple[Path, str]:
    """The folder a real source reads and its kind (``history`` or ``harvested``): the
    source itself when it is a folder, else ``data_dir``, else the default data folder."""
    folder = Path(source) if source not in SOURCES else Path(data_dir) if data_dir else default_data_dir()
    return folder, HISTORY if source == HISTORY else HARVESTED


def check_data_available(
    underlyings: Sequence[str], source: str, data_dir: Path | None = None
) -> list[DataAvailability]:
    """Per underlying, what real data ``source`` finds (``DataAvailability``: ``usable``,
    ``found``, ``looked_in``, ``problem``); empty for the synthetic source, which is always
    there. Looks at names only: cheap enough for a setup screen to call on every change.
    Raises ValueError for an unknown source."""
    source = validate_source(source)
    if source == SYNTHETIC:
        return []
    folder, kind = real_data_folder(source, data_dir)
    return [real_data_availability(u, folder, include_chain=kind == HARVESTED) for u in underlyings]


def require_data_available(underlyings: Sequence[str], source: str, data_dir: Path | None = None) -> None:
    """Raise ``MarketDataError`` (one line: what is missing and where it looked) unless every
    underlying has real data for ``source``; run before any work."""
    problems = [a.problem for a in check_data_available(underlyings, source, data_dir) if not a.usable]
    if problems:
        more = f" (and {len(problems) - 1} more underlying(s) without data)" if len(problems) > 1 else ""
        raise MarketDataError(problems[0] + more)
