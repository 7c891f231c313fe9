"""Fixtures of the app's Pilot tests: stored results computed once per session."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from backtest.heatmaps.run import run_greg_sweetspot_sweep
from tests.app.support import SMALL_LOOKBACK, write_absent_sensor_results


@pytest.fixture(scope="session")
def stored_results(tmp_path_factory) -> Path:
    """A base dir holding the results of a small sweep (computed once)."""
    base = tmp_path_factory.mktemp("stored")
    run_greg_sweetspot_sweep(base, lookback_days=SMALL_LOOKBACK, top_k=1)  # ~250 rows, quick tables
    return base


@pytest.fixture
def results_base(stored_results: Path, tmp_path: Path) -> Path:
    """A fresh base dir with a copy of the small sweep's results."""
    base = tmp_path / "base"
    shutil.copytree(stored_results, base)
    return base


@pytest.fixture(scope="session")
def absent_results(tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("absent")
    write_absent_sensor_results(base)
    return base
