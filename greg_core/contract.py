"""The raw market data contract and the sensor catalogue: names every layer shares.

Raw market data (docs/data-sources.md): a UTC, time-indexed frame, one row per bar, with
columns ``RAW_COLUMNS``; vols are annualized percentage points. A source that cannot supply
a column leaves it NaN; rows are never invented for missing days.

Sensors (docs/sensors.md): ``SENSORS`` lists each sensor's name, unit and one-line
definition in the order every output uses. ``backtest.sensors.pipeline`` computes them. Plain Python: the app imports this before the
research engine (numpy, pandas) has loaded.
"""

from __future__ import annotations

from dataclasses import dataclass

PRICE_COLUMNS: tuple[str, ...] = ("open", "high", "low", "close")
VOL_COLUMNS: tuple[str, ...] = ("iv_30d", "iv_7d", "iv_25d_put", "iv_25d_call")
RAW_COLUMNS: tuple[str, ...] = PRICE_COLUMNS + VOL_COLUMNS

# Implied vol in annualized vol points: anything <= 0 or above this is not an IV (a price
# column read by mistake, or a broken quote). One bound for CSVs, DVOL history, chains and
# the synthetic universe.
MAX_IV_POINTS = 500.0


@dataclass(frozen=True)
class SensorInfo:
    name: str
    unit: str
    description: str


SENSORS: tuple[SensorInfo, ...] = (
    SensorInfo("rv_7d", "vol pts", "7-day close-to-close realized vol"),
    SensorInfo("rv_30d", "vol pts", "30-day close-to-close realized vol"),
    SensorInfo("vrp_30d", "vol pts", "iv_30d - rv_30d"),
    SensorInfo("vrp_7d", "vol pts", "iv_7d - rv_7d"),
    SensorInfo("front_rv_iv_ratio", "ratio", "rv_7d / iv_7d"),
    SensorInfo("chop_factor_7d", "ratio", "rv_7d / iv_30d (< 0.6 calm)"),
    SensorInfo("iv_rank_6m", "0..1", "iv_30d rank in its trailing 182-day range"),
    SensorInfo("term_structure_spread", "vol pts", "iv_7d - iv_30d"),
    SensorInfo("skew_25d", "vol pts", "iv_25d_put - iv_25d_call (positive = puts richer)"),
    SensorInfo("adx_14d", "0..100", "Wilder ADX(14)"),
    SensorInfo("rsi_14d", "0..100", "Wilder RSI(14)"),
    SensorInfo("price_vs_ma200", "%", "(close / SMA200 - 1) x 100"),
)
SENSOR_NAMES: tuple[str, ...] = tuple(s.name for s in SENSORS)
SENSOR_INFO: dict[str, SensorInfo] = {s.name: s for s in SENSORS}


# Forward outcomes (docs/outcomes.md): the default horizon in days, and how few independent
# episodes make a figure "thin". Here, at the bottom, so the outcome layer and the sweep's light
# options module share one definition.
DEFAULT_HORIZON_DAYS = 30
DEFAULT_MIN_EPISODES = 8
