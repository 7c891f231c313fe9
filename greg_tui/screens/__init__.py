"""The app's screens, one per area (sweet spots, grid, setup, regimes, selector) plus help."""
