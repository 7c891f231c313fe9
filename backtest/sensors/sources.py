"""Sensor frames per underlying and data source: what every heatmap and sweep consumes.

A ``SensorData`` carries the sensors *and* where they came from (source, span, samples), so
every output can say what data it was computed on. All sources go through
``backtest.sensors.pipeline.compute_sensors`` (docs/data-sources.md).

Sources:

* ``synthetic``: the regime-driven universe (``synthetic.universe``); offline, always there.
* ``history``: imported/harvested daily bars + DVOL (CSV, and hourly DVOL parquet when
  present) in the data folder; no skew or term structure (those sensors are missing).
* ``harvested``: the same plus the harvested option-chain snapshots, which add iv_7d and the
  25-delta IVs on the days they cover.
* a folder path: everything found in that folder, as ``harvested``.

The data folder is ``data_dir``, else ``greg_core.settings.default_data_dir()``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from backtest.data.availability import (
    HARVESTED,
    HISTORY,
    SOURCES,
    SYNTHETIC,
    check_data_available,
    real_data_folder,
    require_data_available,
    validate_source,
)
from backtest.sensors.pipeline import compute_sensors
from greg_core.contract import SENSOR_NAMES
from synthetic.regime_model import RegimeModel, load_regime_model
from synthetic.universe import DEFAULT_DAYS, generate_market, seed_for

__all__ = [
    "HARVESTED", "HISTORY", "SOURCES", "SYNTHETIC", "SensorData", "check_data_available", "load_sensor_data",
    "real_data_folder", "real_sensor_data", "require_data_available", "synthetic_sensor_data", "validate_source",
]


@dataclass(frozen=True)
class DataSummary:
    """What every output says about the data a sweep read, without holding its rows (a
    1,000,000-day frame is released as soon as its grids are computed)."""

    underlying: str
    source: str
    description: str
    provenance: dict
    n_samples: int
    span: tuple[str, str] | None
    coverage: dict[str, dict]  # per sensor: days with a value, first and last date

    def sensor_availability(self) -> dict[str, int]:
        """Non-missing samples per sensor (a DVOL-only history has no skew, for example)."""
        return {name: entry["days"] for name, entry in self.coverage.items()}

    def absent_sensors(self) -> list[str]:
        """Sensors this source lacks altogether (sorted)."""
        return sorted(name for name, entry in self.coverage.items() if entry["days"] == 0)

    @property
    def warnings(self) -> list[str]:
        """What a user must know about this data before trusting it (sources that do not
        overlap, ...), one line each."""
        return list(self.provenance.get("warnings", []))


@dataclass
class SensorData:
    underlying: str
    source: str
    sensors: pd.DataFrame
    description: str
    provenance: dict = field(default_factory=dict)

    @property
    def n_samples(self) -> int:
        return len(self.sensors)

    @property
    def span(self) -> tuple[str, str] | None:
        if self.sensors.empty:
            return None
        return (self.sensors.index[0].isoformat(), self.sensors.index[-1].isoformat())

    def sensor_coverage(self) -> dict[str, dict]:
        """Per sensor: the days it has a value, and the first and last of them (ISO dates;
        None when it has none). A history with two days of option chains shows skew on 2 of
        1,362 days here, where a count of absent sensors would call it available."""
        coverage = {}
        index = self.sensors.index
        for name in SENSOR_NAMES:
            present = np.flatnonzero(self.sensors[name].notna().to_numpy())  # positions, not a new index
            coverage[name] = {
                "days": int(len(present)),
                "first": index[present[0]].date().isoformat() if len(present) else None,
                "last": index[present[-1]].date().isoformat() if len(present) else None,
            }
        return coverage

    def summary(self) -> DataSummary:
        return DataSummary(
            self.underlying, self.source, self.description, self.provenance, self.n_samples, self.span,
            self.sensor_coverage(),
        )

    def sensor_availability(self) -> dict[str, int]:
        return self.summary().sensor_availability()

    def absent_sensors(self) -> list[str]:
        return self.summary().absent_sensors()

    @property
    def warnings(self) -> list[str]:
        return list(self.provenance.get("warnings", []))  # as DataSummary.warnings, without the coverage scan


def synthetic_sensor_data(
    underlying: str,
    days: int | None = None,
    seed: int | None = None,
    model: RegimeModel | None = None,
    regime_file: Path | None = None,
) -> SensorData:
    """Sensors of the synthetic universe over ``days`` (warm-up computed, then dropped);
    regimes from ``model``, else ``regime_file`` (default ``greg_core.settings.default_regime_file()``)."""
    days = DEFAULT_DAYS if days is None else int(days)
    model = model or load_regime_model(underlying, regime_file)
    market = generate_market(underlying, days, seed=seed, model=model)
    sensors = compute_sensors(market.raw).iloc[market.warmup_bars :]
    seed = seed_for(underlying) if seed is None else seed
    return SensorData(
        underlying=underlying.upper(),
        source=SYNTHETIC,
        sensors=sensors,
        description=f"synthetic universe, seed {seed}, regimes: {model.source}",
        provenance={"source": SYNTHETIC, "seed": seed, "days": days, "regimes": model.source},
    )


def real_sensor_data(
    underlying: str,
    source: str = HISTORY,
    data_dir: Path | None = None,
    lookback_days: int | None = None,
) -> SensorData:
    """Sensors from real data in a folder (``history``: bars + DVOL; ``harvested`` or a path:
    plus chain snapshots). Sensors are computed on the whole history, then the last
    ``lookback_days`` days are kept, so warm-up windows use the older data."""
    # Imported here: the real-data readers pull in pyarrow, which a synthetic run never needs.
    from backtest.data.real_frame import build_real_raw_frame

    folder, kind = real_data_folder(source, data_dir)
    raw, provenance = build_real_raw_frame(underlying, data_dir=folder, include_chain=kind == HARVESTED)
    sensors = compute_sensors(raw)
    gaps = {name: int(sensors.attrs.get(name, 0)) for name in ("bridged_gaps", "restarted_gaps")}
    if lookback_days is not None and len(sensors):
        start = sensors.index[-1] - pd.Timedelta(days=int(lookback_days) - 1)
        sensors = sensors[sensors.index >= start.floor("D")]
    used = [name for name, entry in provenance.get("sources", {}).items() if entry.get("used")]
    return SensorData(
        underlying=underlying.upper(),
        source=kind if source in SOURCES else str(folder),
        sensors=sensors,
        description=f"{kind} data in {folder} ({', '.join(used) or 'no source'})",
        provenance={
            "source": kind, "data_dir": str(folder), "lookback_days": lookback_days, **provenance,
            **gaps,  # gaps in the bars over the whole history: bridged by ADX/RSI, or restarting them
        },
    )


def load_sensor_data(
    underlying: str,
    source: str = SYNTHETIC,
    lookback_days: int | None = None,
    seed: int | None = None,
    data_dir: Path | None = None,
    regime_file: Path | None = None,
) -> SensorData:
    """Sensors for ``underlying`` from ``source``; ``lookback_days`` keeps the last N days
    (synthetic: generates N days from the regimes in ``regime_file``)."""
    if lookback_days is not None and lookback_days < 1:
        raise ValueError(f"lookback_days must be >= 1, got {lookback_days}")
    source = validate_source(source)
    if source == SYNTHETIC:
        return synthetic_sensor_data(underlying, lookback_days, seed=seed, regime_file=regime_file)
    return real_sensor_data(underlying, source, data_dir, lookback_days)
