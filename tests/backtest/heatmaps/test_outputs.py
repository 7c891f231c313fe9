"""The fast writers produce exactly the text of the plain ones (byte-identical outputs)."""

from __future__ import annotations

import json

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from backtest.heatmaps.binning import compute_pair_grid
from backtest.heatmaps.cells import grid_cells, grid_csv_text, heatmap_csv_text
from backtest.heatmaps.outputs import records_json_text
from backtest.heatmaps.sweep import SweepResult
from backtest.heatmaps.sweetspots import OutcomeBlock, SweetSpot, SweetSpotRecord

finite = st.floats(min_value=-1e12, max_value=1e12, allow_nan=False)  # sensor-like magnitudes
any_float = st.floats(allow_nan=True, allow_infinity=True)
text = st.text(max_size=12)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(finite, finite), min_size=0, max_size=60),
    st.integers(1, 6),
    st.integers(1, 6),
)
def test_grid_csv_equals_the_cell_list_csv(points, x_bins, y_bins):
    x = np.array([p[0] for p in points], dtype=float)
    y = np.array([p[1] for p in points], dtype=float)
    flags = np.zeros((len(points), 1), dtype=bool)
    grid = compute_pair_grid(x, y, flags, flags.astype(float), x_bins, y_bins, x_metric="a", y_metric="b")
    cells_text = heatmap_csv_text(grid_cells(grid), "a", "b", "BTC")
    if grid.total_samples:
        assert grid_csv_text(grid, "BTC") == cells_text
    else:  # an empty pair is the header alone: no made-up bins
        assert grid_csv_text(grid, "BTC") == cells_text.splitlines(keepends=True)[0]


maybe_float = st.none() | st.floats(allow_nan=False, allow_infinity=False)
blocks = st.none() | st.builds(
    OutcomeBlock, text, maybe_float, maybe_float, maybe_float, maybe_float, maybe_float,
    st.integers(0, 10**6), st.integers(0, 10**4), maybe_float, st.booleans(),
)
spots = st.builds(
    SweetSpot, any_float, any_float, any_float, any_float, any_float, any_float, any_float,
    st.integers(0, 10**6), st.integers(0, 10**6), any_float, any_float, st.integers(0, 500), st.integers(0, 500),
    blocks, blocks,
)
records = st.builds(
    SweetSpotRecord, text, text, text, text, text, st.integers(0, 10**7), st.lists(spots, max_size=3).map(tuple)
)


@settings(max_examples=80, deadline=None)
@given(st.lists(records, max_size=5))
def test_records_json_equals_json_dumps_with_indent(items):
    result = SweepResult(params=None, underlyings=[], records=items, compute_seconds=0.0)  # type: ignore[arg-type]
    assert records_json_text(result) == json.dumps([r.to_json() for r in items], indent=2)


def test_npz_stores_large_arrays_and_deflates_small_ones(tmp_path, monkeypatch):
    """Large arrays (a long span's episode entries) are stored, not deflated (deflating them
    took most of a 1,000,000-day export's writing); every array reads back the same."""
    import zipfile

    import numpy as np

    from backtest.heatmaps import store

    monkeypatch.setattr(store, "NPZ_STORE_FROM_BYTES", 1_000)
    arrays = {"small": np.arange(10), "large": np.arange(1_000, dtype=np.int64)}
    path = tmp_path / "grids.npz"
    with open(path, "wb") as stream:
        store.save_npz(stream, arrays)
    with zipfile.ZipFile(path) as archive:
        kinds = {info.filename: info.compress_type for info in archive.infolist()}
    assert kinds == {"small.npy": zipfile.ZIP_DEFLATED, "large.npy": zipfile.ZIP_STORED}
    with np.load(path) as loaded:
        for name, array in arrays.items():
            np.testing.assert_array_equal(loaded[name], array)
