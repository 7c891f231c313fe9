"""Which real data the scan setup would read: per underlying, whether there is any, and per
sensor its first and last day and how many days have it.

The setup screen shows this before anything runs, so a folder without ETH says so at once
(not after BTC's half of the scan), and sources that never overlap (daily bars ending in
November, chain snapshots in December) show as sensors whose days do not meet. Computed from
the engine's own ``load_sensor_data`` in a worker (docs/app.md "Setup").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from rich.table import Table
from rich.text import Text

from greg_core.contract import SENSOR_NAMES

CORE_SENSOR = "vrp_30d"  # the sensor every pair is compared against for overlap


@dataclass(frozen=True)
class SensorCoverage:
    name: str
    first: str | None  # YYYY-MM-DD of the first day with a value
    last: str | None
    days: int

    @property
    def text(self) -> str:
        return f"{self.first}..{self.last} ({self.days})" if self.days else "none"


@dataclass(frozen=True)
class UnderlyingCoverage:
    underlying: str
    description: str
    span: tuple[str, str] | None
    samples: int
    sensors: tuple[SensorCoverage, ...]

    def sensor(self, name: str) -> SensorCoverage:
        return next(s for s in self.sensors if s.name == name)

    def apart(self) -> list[SensorCoverage]:
        """Sensors with data that never overlaps the core sensor's days (they cannot share a
        sample with it: every pair with it is empty)."""
        core = self.sensor(CORE_SENSOR)
        if not core.days:
            return []
        return [s for s in self.sensors if s.days and s.name != CORE_SENSOR
                and (s.last < core.first or s.first > core.last)]


@dataclass(frozen=True)
class DataCheck:
    """The outcome for one (source, folder, underlyings, lookback) setup."""

    key: tuple
    coverage: dict[str, UnderlyingCoverage]
    errors: dict[str, str]  # underlying -> why it has no usable data

    @property
    def problem(self) -> str | None:
        if not self.errors:
            return None
        return "; ".join(f"{u}: {error}" for u, error in self.errors.items())


def check_key(source: str, data_dir: Path | None, underlyings: Sequence[str], lookback_days: int | None) -> tuple:
    return (source, str(data_dir) if data_dir is not None else None, tuple(underlyings), lookback_days)


def coverage_of(data) -> UnderlyingCoverage:
    """Coverage of a ``backtest.sensors.sources.SensorData``."""
    frame = data.sensors
    sensors = []
    for name in SENSOR_NAMES:
        column = frame[name] if name in frame.columns else None
        present = column.dropna() if column is not None else None
        if present is None or present.empty:
            sensors.append(SensorCoverage(name, None, None, 0))
        else:
            sensors.append(SensorCoverage(name, f"{present.index[0]:%Y-%m-%d}", f"{present.index[-1]:%Y-%m-%d}",
                                          int(len(present))))
    span = data.span
    return UnderlyingCoverage(data.underlying, data.description, (span[0][:10], span[1][:10]) if span else None,
                              data.n_samples, tuple(sensors))


def check_data(source: str, data_dir: Path | None, underlyings: Sequence[str],
               lookback_days: int | None) -> DataCheck:
    """Load each underlying's sensors as the sweep would (slow-ish: call it in a worker)."""
    from backtest.sensors.sources import load_sensor_data
    from greg_core.errors import GregError

    coverage, errors = {}, {}
    for underlying in underlyings:
        try:
            data = load_sensor_data(underlying, source, lookback_days, data_dir=data_dir)
        except (GregError, OSError, ValueError) as exc:
            errors[underlying] = " ".join(str(exc).split())
            continue
        if data.sensors.empty:
            errors[underlying] = f"the {source} data has no rows"
            continue
        coverage[underlying] = coverage_of(data)
    return DataCheck(check_key(source, data_dir, underlyings, lookback_days), coverage, errors)


def coverage_table(check: DataCheck) -> Table:
    """Per sensor and underlying: first..last day (days with a value); a sensor whose days
    never meet vrp_30d's is marked."""
    table = Table(box=None, padding=(0, 2, 0, 0), header_style="bold", show_edge=False)
    table.add_column("sensor", no_wrap=True)
    for underlying, cover in check.coverage.items():
        span = f"{cover.span[0]}..{cover.span[1]}" if cover.span else "no rows"
        table.add_column(f"{underlying} {span}, {cover.samples} days", no_wrap=True)
    apart = {u: {s.name for s in cover.apart()} for u, cover in check.coverage.items()}
    for name in SENSOR_NAMES:
        cells = []
        for underlying, cover in check.coverage.items():
            sensor = cover.sensor(name)
            style = "dim" if not sensor.days else "bold" if name in apart[underlying] else ""
            mark = " ⚠ apart from vrp_30d" if name in apart[underlying] else ""
            cells.append(Text(sensor.text + mark, style=style))
        table.add_row(name, *cells)
    return table
