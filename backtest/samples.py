"""Sensor frames per underlying and data source: what every heatmap and sweep consumes.

A ``SensorData`` carries the sensors *and* where they came from (source, span, samples), so
every output can say what data it was computed on. All sources go through
``backtest.sensors.compute_sensors``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from backtest.sensors import SENSOR_NAMES, compute_sensors
from synthetic.regime_model import RegimeModel, load_regime_model
from synthetic.universe import DEFAULT_DAYS, generate_market, seed_for

SYNTHETIC = "synthetic"


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

    def sensor_availability(self) -> dict[str, int]:
        """Non-missing samples per sensor (a DVOL-only history has no skew, for example)."""
        return {name: int(self.sensors[name].notna().sum()) for name in SENSOR_NAMES}


def synthetic_sensor_data(
    underlying: str,
    days: int | None = None,
    seed: int | None = None,
    model: RegimeModel | None = None,
) -> SensorData:
    """Sensors of the synthetic universe over ``days`` (warm-up computed, then dropped)."""
    days = DEFAULT_DAYS if days is None else int(days)
    model = model or load_regime_model(underlying)
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


def load_sensor_data(
    underlying: str,
    source: str = SYNTHETIC,
    lookback_days: int | None = None,
    seed: int | None = None,
) -> SensorData:
    """Sensors for ``underlying`` from ``source``; ``lookback_days`` keeps the last N days."""
    if lookback_days is not None and lookback_days < 1:
        raise ValueError(f"lookback_days must be >= 1, got {lookback_days}")
    if source == SYNTHETIC:
        return synthetic_sensor_data(underlying, lookback_days, seed=seed)
    raise ValueError(f"unknown data source {source!r} (choices: {SYNTHETIC})")
