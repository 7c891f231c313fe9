"""Realism of the synthetic universe against the real BTC history (the foundation's acceptance).

Builds regimes from the real CSVs and simulates one 3000-day path per seed (~15-20 s): this is
the test that keeps the universe from drifting away from the real sensor distributions.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from backtest.regimes.realism import (
    AUTOCORR_LAGS,
    AUTOCORR_TOLERANCE,
    KS_BOUNDS,
    REALISM_SEEDS,
    RealismReport,
    RealismRow,
    format_rows,
    median_rows,
    realism_report,
    realism_rows,
)

EXPECTED_CHECKS = [f"KS {name}" for name in KS_BOUNDS] + [f"vrp_30d autocorr lag {lag}" for lag in AUTOCORR_LAGS]


@pytest.fixture(scope="module")
def report(real_dir: Path) -> RealismReport:
    return realism_report(real_dir / "btc_usd_daily_ohlcv.csv", real_dir / "btc_dvol_daily.csv")


def test_acceptance_bounds_are_the_issues() -> None:
    assert KS_BOUNDS == {
        "vrp_30d": 0.15, "chop_factor_7d": 0.15, "iv_rank_6m": 0.15,
        "adx_14d": 0.20, "rsi_14d": 0.20, "price_vs_ma200": 0.20,
    }
    assert AUTOCORR_LAGS == (1, 10) and AUTOCORR_TOLERANCE == 0.1


def test_median_over_seeds_passes_every_check(report: RealismReport) -> None:
    median = report.median
    assert [row.check for row in median] == EXPECTED_CHECKS
    failing = [f"{r.check}: {r.statistic:.3f} > {r.bound}" for r in median if not r.ok]
    assert not failing, "\n" + format_rows(median)
    for row in median:
        assert np.isfinite(row.statistic) and np.isfinite(row.real) and np.isfinite(row.synthetic)


def test_per_seed_rows_exist_for_each_seed(report: RealismReport) -> None:
    assert list(report.per_seed) == list(REALISM_SEEDS)
    for seed, rows in report.per_seed.items():
        assert [row.check for row in rows] == EXPECTED_CHECKS, seed
        assert all(0.0 <= row.statistic <= 1.0 + 1e-12 for row in rows if row.check.startswith("KS"))
    # Seeds are different paths, measured against the same real series.
    first, second = (report.per_seed[s] for s in REALISM_SEEDS[:2])
    assert [r.real for r in first] == [r.real for r in second]
    assert [r.synthetic for r in first] != [r.synthetic for r in second]


def test_report_measures_the_real_history(report: RealismReport) -> None:
    assert len(report.real) == 1360
    real_lag1 = next(r for r in report.median if r.check == "vrp_30d autocorr lag 1").real
    assert real_lag1 == pytest.approx(report.real["vrp_30d"].dropna().autocorr(1))
    assert report.model_provenance["samples_used"] == 919
    assert report.model_provenance["n_clusters"] == 6


def test_realism_rows_on_identical_data_are_perfect() -> None:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({name: rng.normal(size=300).cumsum() for name in KS_BOUNDS})
    rows = realism_rows(frame, frame.copy())
    assert [row.check for row in rows] == EXPECTED_CHECKS
    assert all(row.statistic == pytest.approx(0.0, abs=1e-12) and row.ok for row in rows)
    shifted = frame + 1000.0
    assert all(row.statistic == pytest.approx(1.0) and not row.ok for row in realism_rows(frame, shifted)[:6])


def test_median_rows_definition() -> None:
    def rows(ks: float, ac: float) -> list[RealismRow]:
        return [RealismRow("KS x", 1.0, 2.0 + ks, ks, 0.15), RealismRow("vrp_30d autocorr lag 1", 0.9, ac, abs(ac - 0.9), 0.1)]

    median = median_rows([rows(0.1, 0.7), rows(0.2, 0.85), rows(0.3, 1.0)])
    assert median[0].statistic == pytest.approx(0.2) and median[0].ok is False
    # Autocorrelation: distance of the median synthetic value to the real one (not a median distance).
    assert median[1].synthetic == pytest.approx(0.85)
    assert median[1].statistic == pytest.approx(0.05) and median[1].ok
    text = format_rows(median)
    assert "KS x" in text and "NO" in text and "yes" in text
