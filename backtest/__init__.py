"""The research engine (docs/architecture.md). One subpackage per concern, imports one way:

    data/      raw market data: the CSV, chain and hourly-DVOL readers, the merged real frame,
               the data folder's layout
    harvest/   the Deribit public-API client and the harvester (the only network code)
    sensors/   the one sensor pipeline, and sensor frames per source (synthetic or real)
    selector/  the Greg rule language, its JSON spec and the evaluators
    heatmaps/  binning, sweet spots, the sweep, its output files and their reader
    regimes/   building a regime model from real sensors; the realism report

``environment_heatmap``, ``greg_sweetspots`` and ``market_data`` are the front modules the
original requests name; they re-export the code that lives in the subpackages.
"""
