"""Environment occupancy and Greg strategy heatmaps (the requests' API)."""

from __future__ import annotations

from collections.abc import Iterator

from backtest.samples import SYNTHETIC, load_sensor_data
from backtest.sensors import SENSOR_NAMES

MetricSample = dict[str, float]


def load_metric_samples_for_underlying(
    underlying: str,
    lookback_days: int | None = None,
    source: str = SYNTHETIC,
) -> Iterator[MetricSample]:
    """Yield one sensor dict per bar for ``underlying`` (synthetic universe by default).

    Missing sensors are ``None``. The vectorized engine reads the same data as a DataFrame
    through ``backtest.samples.load_sensor_data``.
    """
    frame = load_sensor_data(underlying, source, lookback_days).sensors[list(SENSOR_NAMES)]
    for row in frame.itertuples(index=False):
        yield {name: (None if value != value else float(value)) for name, value in zip(SENSOR_NAMES, row, strict=True)}
