"""The bottom layer: what every other package shares, importing nothing of ours.

* ``contract``: the raw market data contract (columns, IV bound) and the sensor names with
  their units (docs/sensors.md, docs/data-sources.md).
* ``errors``: every error greg-tui raises on purpose, under one base class ``GregError``.
* ``atomic_io``: file writes a reader or a crash never sees half done.
* ``realized_vol``: the one definition of realized volatility.
* ``formatting``: how numbers and percentages read in tables, Markdown and messages.
* ``settings``: where data, results and the regime file live (docs/architecture.md).

Imports go one way: ``greg_tui -> backtest -> synthetic -> greg_core``.
"""
