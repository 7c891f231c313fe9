"""The scorecard screen's pieces: its tables drawn from the stored scorecard."""
