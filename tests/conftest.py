"""Shared fixtures: where the real market data lives, and the policy when it is absent."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]


def real_data_dir() -> Path | None:
    configured = os.environ.get("GREG_REAL_DATA_DIR")
    candidate = Path(configured) if configured else REPO_ROOT.parent / "shared" / "data" / "real"
    return candidate if candidate.is_dir() else None


@pytest.fixture(scope="session")
def real_dir() -> Path:
    """The real data folder; skips the test when absent, fails when CI requires it."""
    found = real_data_dir()
    if found is None:
        message = "real data not found (set GREG_REAL_DATA_DIR or provide ../shared/data/real)"
        if os.environ.get("GREG_REQUIRE_REAL_DATA") == "1":
            pytest.fail(message + " and GREG_REQUIRE_REAL_DATA=1")
        pytest.skip(message)
    return found


@pytest.fixture(autouse=True)
def _results_never_in_the_checkout(tmp_path_factory, monkeypatch):
    """A test that forgets ``--base-dir`` writes into a temporary folder, not the repository."""
    monkeypatch.setenv("GREG_BASE_DIR", str(tmp_path_factory.mktemp("default-base")))
