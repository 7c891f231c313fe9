"""Heatmaps and sweet spots (docs/heatmaps.md, docs/outputs.md).

``binning`` (2-D grids, all strategies in one pass), ``cells`` (the requests' cell API and
CSV), ``options`` (defaults and choices), ``sweetspots`` (the typed records and the ranking),
``sweep`` (every grid and sweet spot in memory), ``outputs`` and ``markdown`` (what each file
holds), ``store`` (publishing and reading back), ``progress`` (the publish step's messages),
``run`` (compute + write in one call) and ``naive_reference`` (the plain-Python oracle of the
tests).
"""
