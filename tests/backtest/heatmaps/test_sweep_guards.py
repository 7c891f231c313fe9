"""Sweep behaviour a daily user relies on: bounded inputs, one run's files in the folder,
mixed sets refused, and no premium-selling picks on real days without implied vol."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from backtest.heatmaps.options import DEFAULT_METRICS, DEFAULT_STRATEGIES
from backtest.heatmaps.outputs import GRIDS_NAME, JSON_NAME, MANIFEST_NAME
from backtest.heatmaps.run import run_greg_sweetspot_sweep
from backtest.heatmaps.store import load_sweep_results
from backtest.heatmaps.sweep import validate_sweep_params
from backtest.selector.evaluate import evaluate_frame
from backtest.sensors.sources import load_sensor_data
from greg_core.errors import SweepConfigError, SweepResultsError
from greg_core.settings import output_dir_for


def params(**overrides):
    base = dict(
        underlyings=["BTC"], metrics=DEFAULT_METRICS, strategies=DEFAULT_STRATEGIES, x_bins=20, y_bins=20,
        min_env_frac=0.005, min_pass_frac=0.4, top_k=5,
    )
    base.update(overrides)
    return base


@pytest.mark.parametrize(
    ("override", "fragment"),
    [({"seed": -1}, "seed"), ({"x_bins": 501}, "x_bins"), ({"y_bins": 10**5}, "y_bins")],
)
def test_out_of_range_seed_and_bins_are_config_errors(override, fragment):
    with pytest.raises(SweepConfigError, match=fragment):
        validate_sweep_params(**params(**override))


def test_a_narrower_run_removes_the_previous_runs_heatmaps(tmp_path: Path):
    run_greg_sweetspot_sweep(tmp_path, underlyings=["BTC", "ETH"], metrics=["vrp_30d", "adx_14d", "rsi_14d"], lookback_days=120)
    out = output_dir_for(tmp_path)
    assert len(list(out.glob("env_heatmap_*.csv"))) == 6
    run_greg_sweetspot_sweep(tmp_path, underlyings=["BTC"], metrics=["vrp_30d", "adx_14d"], lookback_days=120)
    assert sorted(p.name for p in out.glob("env_heatmap_*.csv")) == ["env_heatmap_BTC_vrp_30d_vs_adx_14d.csv"]
    manifest = json.loads((out / MANIFEST_NAME).read_text())
    assert set(manifest["files"]) == {p.name for p in out.iterdir() if not p.name.startswith(".")}


@pytest.mark.parametrize("name", [JSON_NAME, GRIDS_NAME])
def test_a_set_mixed_by_an_interrupted_move_is_refused(tmp_path: Path, name: str):
    run_greg_sweetspot_sweep(tmp_path, underlyings=["BTC"], metrics=["vrp_30d", "adx_14d"], lookback_days=120)
    out = output_dir_for(tmp_path)
    load_sweep_results(out)  # the complete set reads back
    data = bytearray((out / name).read_bytes())
    data[-1] ^= 0xFF
    (out / name).write_bytes(bytes(data))
    with pytest.raises(SweepResultsError, match="does not match"):
        load_sweep_results(out)


def test_ignore_missing_never_picks_on_real_days_without_implied_vol(real_dir: Path):
    data = load_sensor_data("BTC", "history", data_dir=real_dir)
    absent = [name for name, n in data.sensor_availability().items() if n == 0]
    assert set(absent) == {"vrp_7d", "front_rv_iv_ratio", "term_structure_spread", "skew_25d"}
    decisions = evaluate_frame(data.sensors, policy="ignore-missing")
    no_iv = data.sensors["vrp_30d"].isna().to_numpy()
    assert no_iv.sum() > 200  # the bars start 9 months before DVOL
    # Days without implied vol are not evaluable: neither a pick nor NO_TRADE.
    assert set(decisions.selected_keys()[no_iv]) == {"NOT_EVALUABLE"}
    assert not decisions.evaluable[no_iv].any() and decisions.evaluable[~no_iv].all()
    # On days with IV, dropping the sensors missing that day lets strategies through.
    assert (decisions.selected_keys()[~no_iv] != "NO_TRADE").sum() > 100


def test_coverage_warnings_and_empty_pairs_are_reported(real_dir: Path, tmp_path: Path):
    """Harvested chains of 2025-12 beside bars ending 2025-11: the user is told, per sensor, how
    many days have a value, that the sources never overlap, and which pairs are empty and why."""
    harvested = load_sensor_data("BTC", "harvested", data_dir=real_dir)
    coverage = harvested.sensor_coverage()
    assert coverage["skew_25d"]["days"] == 2 and coverage["skew_25d"]["first"] == "2025-12-11"
    assert coverage["vrp_30d"]["days"] > 1000
    assert any("option-chain snapshots (2025-12-11..2025-12-12)" in w and "do not overlap" in w
               for w in harvested.warnings)

    run_greg_sweetspot_sweep(
        tmp_path, ["BTC"], ["vrp_30d", "skew_25d", "rsi_14d"], ["STRATEGY_C_SHORT_PUT"],
        source="history", data_dir=real_dir, missing_policy="ignore-missing",
    )
    out = output_dir_for(tmp_path)
    manifest = json.loads((out / MANIFEST_NAME).read_text(encoding="utf-8"))
    info = manifest["underlyings"]["BTC"]
    assert info["sensor_coverage"]["skew_25d"] == {"days": 0, "first": None, "last": None}
    assert info["not_evaluable"] == info["samples"] - info["sensor_coverage"]["vrp_30d"]["days"]
    empty_csv = (out / "env_heatmap_BTC_vrp_30d_vs_skew_25d.csv").read_text(encoding="utf-8")
    assert empty_csv == "underlying,x_metric,y_metric,x_low,x_high,y_low,y_high,count,occupancy_frac\n"
    full_csv = (out / "env_heatmap_BTC_vrp_30d_vs_rsi_14d.csv").read_text(encoding="utf-8")
    assert len(full_csv.splitlines()) == 1 + 20 * 20
    markdown = (out / "greg_heatmap_sweetspots.md").read_text(encoding="utf-8")
    assert "- BTC (vrp_30d, skew_25d): skew_25d has no data in this source" in markdown
    assert "| skew_25d | none |" in markdown and "| vrp_30d | 1100 (2022-11-06..2025-11-09) |" in markdown


def test_a_long_span_loads_with_small_arrays_mapped_and_computes_with_them_in_the_heap(monkeypatch):
    """On a very long span the allocator maps arrays from 1 MB while an underlying's data
    loads (its one-off arrays go back to the OS) and from 8 MB while the grids and outcomes
    reuse their working arrays, also after a failed load (greg_core.memory); a short span
    leaves glibc alone."""
    from backtest.heatmaps import sweep as sweep_module
    from greg_core import memory

    events = []
    real_load = sweep_module.load_sensor_data
    monkeypatch.setattr(memory, "map_arrays_from", lambda size: events.append(("threshold", size)))
    monkeypatch.setattr(sweep_module, "load_sensor_data",
                        lambda *args, **kwargs: events.append(("load",)) or real_load(*args, **kwargs))
    monkeypatch.setattr(sweep_module, "evaluate_frame",
                        lambda *args, _real=sweep_module.evaluate_frame, **kwargs: events.append(("compute",))
                        or _real(*args, **kwargs))
    short = validate_sweep_params(**params(underlyings=["BTC", "ETH"], metrics=["vrp_30d", "adx_14d"],
                                           lookback_days=120))
    sweep_module.compute_sweep(short)
    assert not [event for event in events if event[0] == "threshold"]
    events.clear()
    monkeypatch.setattr(sweep_module, "LONG_SPAN_DAYS", 120)
    sweep_module.compute_sweep(short)
    loading, working = ("threshold", memory.LOADING_BLOCK_BYTES), ("threshold", memory.WORKING_BLOCK_BYTES)
    assert events == [loading, ("load",), working, ("compute",)] * 2
    events.clear()

    def failing_load(*args, **kwargs):
        events.append(("load",))
        raise SweepConfigError("no data")

    monkeypatch.setattr(sweep_module, "load_sensor_data", failing_load)
    with pytest.raises(SweepConfigError):
        sweep_module.compute_sweep(short)
    assert events == [loading, ("load",), working]  # the working setting is what stays
