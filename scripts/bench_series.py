"""How fast the selector's and series' data and the series plot are: prints figures, asserts
nothing.

Usage: uv run python scripts/bench_series.py [--runs 5]

* span: ``load_span`` (sensors, ``forward_outcomes`` at H = 30, realized vol, decisions under
  each policy; greg_tui/widgets/selector/span.py) per source: the first load (cache emptied
  before each run) and a cached one (the other screen asking for the same key);
* plot: ``layout_for`` + ``render_plot`` of a synthetic series with trade marks and a
  highlight at 80x24's plot size (78 x 13) and 200x50's (198 x 39), for 1,095 days,
  100,000 days and 1,000,000 days (a random walk, so every column has a range to draw).

Each figure is the median of ``--runs``. Absolute times move with the machine's load.
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings

import _paths
import numpy as np
import pandas as pd


def median_seconds(function, runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def bench_spans(runs: int) -> None:
    from greg_tui.widgets.selector import span as span_module
    from greg_tui.widgets.selector.span import SpanKey, load_span

    data_dir = _paths.real_data_dir()
    keys = [SpanKey("BTC", "synthetic", None, None, 30)]
    if data_dir.is_dir():
        keys += [SpanKey("BTC", source, data_dir, None, 30) for source in ("history", "harvested")]
    else:
        print(f"(no real data at {data_dir}: synthetic only)")
    for key in keys:
        def first(key=key):
            span_module._cache.clear()
            return load_span(key)

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            cold = median_seconds(first, runs)
            days = len(load_span(key).sensors)
            warm = median_seconds(lambda key=key: load_span(key), runs)
        print(f"span {key.source:<10} {days:>7,} days: first load {cold:7.3f} s, cached {warm * 1000:7.2f} ms")


def bench_plot(runs: int) -> None:
    from greg_tui.widgets.timeseries.axes import epoch_seconds
    from greg_tui.widgets.timeseries.draw import DARK_PALETTE, render_plot
    from greg_tui.widgets.timeseries.layout import SeriesView, layout_for

    rng = np.random.default_rng(7)
    for days in (1_095, 100_000, 1_000_000):
        index = pd.date_range("1970-01-01", periods=days, freq="D", tz="UTC", unit="s")
        values = np.cumsum(rng.normal(size=days))
        values[rng.random(days) < 0.02] = np.nan
        marks = np.where(rng.random(days) < 0.05, 0, -1)
        highlight = rng.random(days) < 0.01
        view = SeriesView("vrp_30d", "vol pts", epoch_seconds(index), values, marks=marks, mark_name="trades",
                          highlight=highlight, band=(0.0, 1.0))
        for width, height in ((78, 13), (198, 39)):
            def draw(view=view, width=width, height=height):
                layout = layout_for(view, width, height)
                return render_plot(view, layout, view.n // 2, DARK_PALETTE)

            seconds = median_seconds(draw, runs)
            print(f"plot {days:>9,} days at {width}x{height}: {seconds * 1000:8.1f} ms per frame")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    bench_spans(args.runs)
    bench_plot(args.runs)


if __name__ == "__main__":
    main()
