"""Which real data the scan setup would read: per underlying, whether there is any, and per
sensor its first and last day and how many days have it.

The setup screen shows this before anything runs, so a folder without ETH says so at once
(not after BTC's half of the scan), with the engine's own coverage per sensor
(``SensorData.sensor_coverage``) and warnings (sources that never overlap: daily bars ending
in November, chain snapshots in December). Computed with ``load_sensor_data`` in a worker
(docs/app.md "Setup").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from rich.table import Table
from rich.text import Text

from greg_core.contract import SENSOR_NAMES


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
    warnings: tuple[str, ...]  # the engine's, one line each (e.g. sources that do not overlap)

    def sensor(self, name: str) -> SensorCoverage:
        return next(s for s in self.sensors if s.name == name)


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
    """Coverage of a ``backtest.sensors.sources.SensorData``, as the engine reports it."""
    summary = data.summary()  # one coverage scan for the sensors and the warnings
    sensors = tuple(SensorCoverage(name, entry["first"], entry["last"], entry["days"])
                    for name, entry in summary.coverage.items())
    span = data.span
    return UnderlyingCoverage(data.underlying, data.description, (span[0][:10], span[1][:10]) if span else None,
                              data.n_samples, sensors, tuple(summary.warnings))


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
    """Per sensor and underlying: first..last day (days with a value); none in dim."""
    table = Table(box=None, padding=(0, 2, 0, 0), header_style="bold", show_edge=False)
    table.add_column("sensor", no_wrap=True)
    for underlying, cover in check.coverage.items():
        span = f"{cover.span[0]}..{cover.span[1]}" if cover.span else "no rows"
        table.add_column(f"{underlying} {span}, {cover.samples} days", no_wrap=True)
    for name in SENSOR_NAMES:
        cells = [Text(cover.sensor(name).text, style="" if cover.sensor(name).days else "dim")
                 for cover in check.coverage.values()]
        table.add_row(name, *cells)
    return table
