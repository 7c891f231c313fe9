"""The realism judge (docs/synthetic.md): its statistics, its verdict, and the built-in model
measured against the real BTC history, so the universe cannot drift away from it unnoticed.

The full judge (5 seeds x 3,000 days, a classifier per seed) runs once per session on the
built-in model (~20 s)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from backtest.regimes.realism import (
    AUTOCORR_LAGS,
    AUTOCORR_TOLERANCE,
    CHECKS,
    KS_BOUNDS,
    REALISM_DAYS,
    REALISM_SEEDS,
    RealismReport,
    RealismRow,
    RealismVerdict,
    classifier_auc,
    edge_slope_on_vrp,
    forecast_coefficients,
    format_rows,
    load_real_reference,
    mean_run_length,
    measure_model,
    median_rows,
    realism_verdict,
    spearman,
    trade_minus_no_trade,
    verdict_from_provenance,
)
from synthetic.regime_model import default_regime_model

# Judged checks the built-in model fails today, with the worst statistic allowed before this
# test calls it a regression (docs/synthetic.md, "Known gaps"). None since the skewed vol
# shocks (KS iv_rank_6m was 0.166 against its 0.15 bound): every judged check must pass.
KNOWN_GAPS: dict[str, float] = {}
# The issue's figures for today's model before the forward-looking rewrite, which the judge
# must still call failures (the judge is not a rubber stamp).
ISSUE_BEFORE = {
    "edge_30d s.d.": 32.0,
    "edge_30d slope on z(vrp_30d)": 14.9,
    "future RV: trailing coef - IV coef": 0.73,
    "excess kurtosis of log returns": 27.0,
    "iv_30d 99th percentile": 170.0,
}


@pytest.fixture(scope="module")
def reference(real_dir: Path):
    return load_real_reference(real_dir / "btc_usd_daily_ohlcv.csv", real_dir / "btc_dvol_daily.csv")


@pytest.fixture(scope="module")
def report(reference) -> RealismReport:
    return measure_model(default_regime_model("BTC"), reference)


def test_acceptance_bounds_are_the_issues() -> None:
    bounds = {check.name: check.bound for check in CHECKS if check.origin == "issue 10"}
    assert bounds["edge_30d s.d."] == 0.25
    assert bounds["edge_30d autocorr lag 10"] == 0.15
    assert bounds["edge_30d slope on z(vrp_30d)"] == 1.0
    assert bounds["future RV: trailing coef - IV coef"] == 0.0
    assert bounds["excess kurtosis of log returns"] == 10.0
    assert bounds["iv_30d 99th percentile"] == 1.5
    assert KS_BOUNDS == {
        "vrp_30d": 0.15, "chop_factor_7d": 0.15, "iv_rank_6m": 0.15,
        "adx_14d": 0.20, "rsi_14d": 0.20, "price_vs_ma200": 0.20,
    }
    assert AUTOCORR_LAGS == (1, 10) and AUTOCORR_TOLERANCE == 0.1
    assert REALISM_SEEDS == (1, 2, 3, 4, 5) and REALISM_DAYS == 3000
    # Every judged check has a bound and says where it comes from.
    for check in CHECKS:
        assert check.origin in ("issue 10", "set here", "context")
        assert (check.bound is None) == (check.origin == "context")


def test_built_in_model_passes_the_judge_but_its_known_gaps(report: RealismReport) -> None:
    verdict = realism_verdict(report)
    rows = {row.check: row for row in verdict.rows}
    assert [row.check for row in verdict.rows] == [c.name for c in CHECKS]
    failing = {row.check for row in verdict.rows if not row.ok}
    assert failing <= set(KNOWN_GAPS), "\n" + format_rows(verdict.rows)
    for check, worst in KNOWN_GAPS.items():
        assert rows[check].statistic <= worst, f"{check} regressed:\n" + format_rows(verdict.rows)
    for row in verdict.rows:
        assert np.isfinite(row.statistic) and np.isfinite(row.real) and np.isfinite(row.synthetic), row.check
    # The judge would fail the old model's figures (issue 10's table).
    for check, old in ISSUE_BEFORE.items():
        real = rows[check].real
        old_row = RealismRow(check, real, old, 0.0, rows[check].bound, rows[check].rule)
        statistic = median_rows([[old_row]])[0]
        assert not statistic.ok, check


def test_stored_verdict_is_the_measured_one(report: RealismReport) -> None:
    """The built-in model carries the verdict it was built with; measuring it again gives the
    same figures (same seeds, same data), so the app can show the stored one."""
    stored = verdict_from_provenance(default_regime_model("BTC"))
    assert stored is not None
    measured = realism_verdict(report)
    assert stored.passed == measured.passed
    for a, b in zip(stored.rows, measured.rows, strict=True):
        assert a.check == b.check and a.ok == b.ok
        assert a.statistic == pytest.approx(b.statistic, abs=1e-5)
    assert measured.label == "model outcomes, realism: pass" and measured.passed
    assert "failing:" not in measured.summary()


def test_per_seed_rows_measure_the_same_real_history(report: RealismReport) -> None:
    assert list(report.per_seed) == list(REALISM_SEEDS)
    first, second = (report.per_seed[s] for s in REALISM_SEEDS[:2])
    assert [r.real for r in first if not r.check.startswith("classifier")] == [
        r.real for r in second if not r.check.startswith("classifier")
    ]
    assert [r.synthetic for r in first] != [r.synthetic for r in second]
    for rows in report.per_seed.values():
        assert all(0.0 <= r.statistic <= 1.0 + 1e-12 for r in rows if r.check.startswith("KS"))


def test_real_figures_are_the_issues(reference) -> None:
    """Issue 10's real column, recomputed by the judge's own statistics."""
    figures = reference.figures
    assert figures["edge_30d s.d."] == pytest.approx(13.3, abs=0.1)
    assert figures["edge_30d slope on z(vrp_30d)"] == pytest.approx(-1.5, abs=0.05)
    assert figures["edge_30d trade minus no-trade"] == pytest.approx(-5.3, abs=0.1)
    assert figures["future RV on IV: IV coef"] == pytest.approx(0.63, abs=0.01)
    assert figures["future RV on IV: trailing RV coef"] == pytest.approx(-0.21, abs=0.01)
    assert figures["excess kurtosis of log returns"] == pytest.approx(4.36, abs=0.01)
    assert figures["largest daily log move"] == pytest.approx(0.167, abs=0.001)
    assert figures["iv_30d 99th percentile"] == pytest.approx(80.1, abs=0.1)
    assert figures["autocorr of daily iv_30d changes"] == pytest.approx(-0.067, abs=0.001)
    assert figures["spearman iv_rank_6m x price_vs_ma200"] == pytest.approx(0.45, abs=0.01)
    assert figures["spearman iv_rank_6m x adx_14d"] == pytest.approx(0.36, abs=0.01)
    assert figures["mean run of sensor-labelled regime"] == pytest.approx(8.35, abs=0.01)


def test_verdict_roundtrips_through_json() -> None:
    rows = (
        RealismRow("KS x", 1.0, 2.0, 0.1, 0.15, "KS"),
        RealismRow("ctx", 1.0, np.nan, np.nan, None, "syn"),
    )
    verdict = RealismVerdict(True, rows, 3000, (1, 2), "real.csv")
    again = RealismVerdict.from_dict(verdict.to_dict())
    assert again.passed and again.days == 3000 and again.seeds == (1, 2) and again.reference == "real.csv"
    assert again.rows[0] == rows[0]
    assert np.isnan(again.rows[1].statistic) and again.rows[1].ok  # context rows never fail


def test_unreadable_stored_verdict_is_none() -> None:
    model = default_regime_model("ETH")
    assert verdict_from_provenance(model) is None  # BTC-derived: never judged on ETH data
    model.provenance = {"realism": {"passed": True}}
    assert verdict_from_provenance(model) is None


# ----------------------------------------------------------------------------- statistics


def test_median_rows_definition() -> None:
    def rows(ks: float, ac: float) -> list[RealismRow]:
        return [
            RealismRow("KS x", 1.0, 2.0 + ks, ks, 0.15, "KS"),
            RealismRow("ac", 0.9, ac, abs(ac - 0.9), 0.1, "|syn - real|"),
        ]

    median = median_rows([rows(0.1, 0.7), rows(0.2, 0.85), rows(0.3, 1.0)])
    assert median[0].statistic == pytest.approx(0.2) and median[0].ok is False
    # Other rows: the rule applied to the median synthetic figure (not a median distance).
    assert median[1].synthetic == pytest.approx(0.85)
    assert median[1].statistic == pytest.approx(0.05) and median[1].ok
    text = format_rows(median)
    assert "KS x" in text and "NO" in text and "yes" in text


def test_a_nan_statistic_fails_a_judged_row() -> None:
    assert not RealismRow("x", 1.0, np.nan, np.nan, 1.0, "syn").ok
    assert RealismRow("x", 1.0, np.nan, np.nan, None, "syn").ok


def test_mean_run_length() -> None:
    labels = pd.Series([0, 0, 1, 1, 1, pd.NA, 1, 2], dtype="Int64")
    # Runs: [0,0], [1,1,1], (gap), [1], [2] -> 7 labelled rows / 4 runs.
    assert mean_run_length(labels) == pytest.approx(7 / 4)
    assert np.isnan(mean_run_length(pd.Series([pd.NA, pd.NA], dtype="Int64")))


def test_edge_slope_and_forecast_coefficients_on_known_data() -> None:
    rng = np.random.default_rng(0)
    vrp = pd.Series(rng.normal(5, 10, 5000))
    edge = 2.0 + 0.3 * vrp + rng.normal(0, 1, 5000)
    assert edge_slope_on_vrp(edge, vrp) == pytest.approx(0.3 * vrp.std(), rel=0.02)
    iv, trailing = pd.Series(rng.normal(50, 10, 5000)), pd.Series(rng.normal(45, 12, 5000))
    forward = 3.0 + 0.8 * iv - 0.1 * trailing + rng.normal(0, 1, 5000)
    iv_coef, trailing_coef = forecast_coefficients(forward, iv, trailing)
    assert iv_coef == pytest.approx(0.8, abs=0.01) and trailing_coef == pytest.approx(-0.1, abs=0.01)


def test_spearman_and_classifier() -> None:
    rng = np.random.default_rng(1)
    x = pd.Series(rng.normal(size=500))
    assert spearman(x, x**3) == pytest.approx(1.0)
    columns = ["vrp_30d", "chop_factor_7d", "iv_rank_6m", "adx_14d", "rsi_14d", "price_vs_ma200",
               "iv_30d", "rv_30d", "rv_7d"]
    a = pd.DataFrame(rng.normal(size=(600, len(columns))), columns=columns)
    b = pd.DataFrame(rng.normal(size=(600, len(columns))), columns=columns)
    assert classifier_auc(a, b) == pytest.approx(0.5, abs=0.08)
    assert classifier_auc(a, b + 3.0) > 0.95


def test_trade_minus_no_trade_blanks_what_the_real_history_lacks() -> None:
    """The selector sees the same sensors on both sides: with skew blanked (ignore-missing drops it), a
    rule that needs skew is decided by its other comparisons, as on the real history."""
    n = 200
    sensors = pd.DataFrame({
        "vrp_30d": np.where(np.arange(n) < 100, 20.0, 0.0), "chop_factor_7d": 0.5, "adx_14d": 15.0,
        "iv_rank_6m": 0.5, "skew_25d": 10.0, "price_vs_ma200": -5.0, "rsi_14d": 50.0,
        "term_structure_spread": 0.0, "front_rv_iv_ratio": 1.0, "vrp_7d": 0.0,
    })
    edge = pd.Series(np.where(np.arange(n) < 100, -3.0, 1.0))
    # Days 0..99 trade (rich vrp, calm, no trend: straddle) and lose 3; the rest do not.
    assert trade_minus_no_trade(sensors, edge, ["skew_25d"]) == pytest.approx(-4.0)
    assert np.isnan(trade_minus_no_trade(sensors.iloc[100:], edge.iloc[100:], ["skew_25d"]))
