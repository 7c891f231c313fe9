"""Random corruptions of the result files, fed to the loader (hypothesis): it either loads or
raises ``SweepResultsError`` (a ``GregError``) in one line, never anything else.

Each example damages one file of a published run: the manifest, the sweet-spot JSON, the
grids npz, the Markdown or a heatmap CSV. Damaged as found on disk, the checksum catches it;
"re-signed" (the manifest's SHA-256 updated to match, as a buggy writer would), the file's
own parsing has to.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backtest.heatmaps.outputs import GRIDS_NAME, JSON_NAME, MANIFEST_NAME, MARKDOWN_NAME
from backtest.heatmaps.store import load_sweep_results, write_sweep_outputs
from backtest.heatmaps.sweep import compute_sweep, validate_sweep_params
from greg_core.errors import SweepResultsError
from tests.backtest.data.test_corrupt_inputs import corruptions, loads_or_one_line_error

CSV_NAME = "env_heatmap_BTC_vrp_30d_vs_adx_14d.csv"


@pytest.fixture(scope="module")
def published(tmp_path_factory) -> Path:
    params = validate_sweep_params(["BTC"], ["vrp_30d", "adx_14d", "rsi_14d"], ["STRATEGY_A_STRADDLE"], 5, 4,
                                   0.005, 0.4, 3, lookback_days=200)
    out = tmp_path_factory.mktemp("published") / "backtest" / "output"
    write_sweep_outputs(compute_sweep(params), out)
    return out.resolve()  # the run folder itself


@given(
    name=st.sampled_from([MANIFEST_NAME, JSON_NAME, GRIDS_NAME, MARKDOWN_NAME, CSV_NAME]),
    damage=corruptions(),
    resign=st.booleans(),
)
@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_damaged_result_files_load_or_fail_in_one_line(published, tmp_path, name, damage, resign):
    folder = tmp_path / "run"
    shutil.rmtree(folder, ignore_errors=True)
    shutil.copytree(published, folder)
    target = folder / name
    target.write_bytes(damage(target.read_bytes()))
    if resign and name != MANIFEST_NAME:
        manifest = json.loads((folder / MANIFEST_NAME).read_text())
        manifest["sha256"][name] = hashlib.sha256(target.read_bytes()).hexdigest()
        (folder / MANIFEST_NAME).write_text(json.dumps(manifest))
    loaded = loads_or_one_line_error(lambda: load_sweep_results(folder))
    if loaded is not None:  # what loads is what the screens can use
        assert loaded.pairs and loaded.strategies and loaded.underlyings == ["BTC"]
        loaded.grid("BTC", "vrp_30d", "adx_14d")


def test_a_damaged_file_as_found_on_disk_is_caught_by_its_checksum(published, tmp_path):
    folder = tmp_path / "run"
    shutil.copytree(published, folder)
    (folder / CSV_NAME).write_bytes((folder / CSV_NAME).read_bytes()[:-5])
    with pytest.raises(SweepResultsError, match=f"{CSV_NAME} does not match"):
        load_sweep_results(folder)
