"""The sweet-spot sweep (backtest.greg_sweetspots / backtest.sweep_results): outputs, sweet
spots against the naive per-sample reference, read-back, cancellation, validation, progress,
determinism."""

from __future__ import annotations

import csv
import itertools
import json
import re
import threading
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from backtest.heatmaps.binning import compute_pair_grid
from backtest.heatmaps.naive_reference import naive_sweep, naive_wilson
from backtest.heatmaps.options import DEFAULT_METRICS, DEFAULT_STRATEGIES
from backtest.heatmaps.outputs import GRIDS_NAME, MANIFEST_NAME
from backtest.heatmaps.run import run_greg_sweetspot_sweep
from backtest.heatmaps.store import load_sweep_results
from backtest.heatmaps.sweep import compute_sweep, validate_sweep_params
from backtest.selector.evaluate import evaluate_frame
from backtest.selector.spec import load_selector_spec
from backtest.sensors.sources import SensorData, load_sensor_data
from greg_core.errors import SweepCancelled, SweepConfigError, SweepResultsError

STRATEGY_LABELS = dict(load_selector_spec().strategies)
STRATEGY_KEYS = tuple(STRATEGY_LABELS)

CSV_HEADER = "underlying,x_metric,y_metric,x_low,x_high,y_low,y_high,count,occupancy_frac"
LOOKBACK = 400
SMALL = {"metrics": ["vrp_30d", "adx_14d", "skew_25d"], "lookback_days": 200, "x_bins": 6, "y_bins": 5}


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def assert_clean(output_dir: Path) -> None:
    hidden = [p.name for p in output_dir.iterdir() if p.name.startswith(".")]
    assert hidden == [], f"staging folders or temp files left behind: {hidden}"


@pytest.fixture(scope="module")
def default_run(tmp_path_factory):
    """The default sweep (2 underlyings x 28 pairs x 7 strategies, 20 x 20) on 400 days."""
    base = tmp_path_factory.mktemp("sweep")
    calls: list[tuple[float, str]] = []
    json_path = run_greg_sweetspot_sweep(base, lookback_days=LOOKBACK, progress=lambda f, m: calls.append((f, m)))
    return base, json_path, calls


# ------------------------------------------------------------------ files


def test_every_output_file_exists(default_run):
    base, json_path, _ = default_run
    output = base / "backtest" / "output"
    assert json_path == output / "greg_heatmap_sweetspots.json"
    pairs = list(itertools.combinations(DEFAULT_METRICS, 2))
    assert len(pairs) == 28
    expected = {f"env_heatmap_{u}_{x}_vs_{y}.csv" for u in ("BTC", "ETH") for x, y in pairs}
    expected |= {"greg_heatmap_sweetspots.json", "greg_heatmap_sweetspots.md", GRIDS_NAME, MANIFEST_NAME,
                 "greg_heatmap_scorecard.json"}
    assert {p.name for p in output.iterdir()} == expected
    assert_clean(output)


def test_env_csv_headers_and_rows(default_run):
    base, _, _ = default_run
    path = base / "backtest" / "output" / "env_heatmap_ETH_vrp_30d_vs_adx_14d.csv"
    text = path.read_text(encoding="utf-8")
    assert text.splitlines()[0] == CSV_HEADER
    rows = list(csv.DictReader(text.splitlines()))
    assert len(rows) == 400
    assert {(r["underlying"], r["x_metric"], r["y_metric"]) for r in rows} == {("ETH", "vrp_30d", "adx_14d")}
    assert sum(int(r["count"]) for r in rows) == LOOKBACK
    assert sum(float(r["occupancy_frac"]) for r in rows) == pytest.approx(1.0)
    assert float(rows[0]["x_low"]) < float(rows[-1]["x_high"])


def test_json_records_shape_filters_and_ordering(default_run):
    _, json_path, _ = default_run
    records = json.loads(json_path.read_text(encoding="utf-8"))
    assert len(records) == 2 * 28 * 7
    combos = {(r["underlying"], r["strategy"], r["x_metric"], r["y_metric"]) for r in records}
    assert len(combos) == len(records)
    assert {r["strategy"] for r in records} == set(DEFAULT_STRATEGIES)
    found = 0
    for record in records:
        assert {"underlying", "strategy", "x_metric", "y_metric", "sweet_spots"} <= set(record)
        spots = record["sweet_spots"]
        assert len(spots) <= 5
        found += len(spots)
        sweetness = [s["sweetness"] for s in spots]
        assert sweetness == sorted(sweetness, reverse=True)
        for spot in spots:
            assert {"x_low", "x_high", "y_low", "y_high", "occupancy_frac", "strategy_pass_frac", "sweetness",
                    "count", "wilson_low"} <= set(spot)
            assert spot["occupancy_frac"] >= 0.005 and spot["strategy_pass_frac"] >= 0.4
            assert spot["sweetness"] == pytest.approx(spot["occupancy_frac"] * spot["strategy_pass_frac"])
            assert spot["count"] == round(spot["occupancy_frac"] * record["samples"])
            assert spot["wilson_low"] == pytest.approx(naive_wilson(spot["selected_count"], spot["count"]))
            assert spot["wilson_low"] <= spot["strategy_pass_frac"]
            assert spot["x_low"] < spot["x_high"] and spot["y_low"] < spot["y_high"]
    assert found > 50, "the default sweep should find sweet spots"


def test_markdown_reads_like_the_requested_sample(default_run):
    base, json_path, _ = default_run
    text = (base / "backtest" / "output" / "greg_heatmap_sweetspots.md").read_text(encoding="utf-8")
    assert text.startswith("# Greg Environment Sweet Spots – summary\n")
    assert "\n# Greg Environment Sweet Spots – BTC\n" in text
    assert "\n# Greg Environment Sweet Spots – ETH\n" in text
    assert "\n## Top 10 sweet spots overall\n" in text and "\n## Pairs left empty\n" in text
    sections = re.findall(r"^## (.+) – \((\w+), (\w+)\), n = (\d+)$", text, flags=re.MULTILINE)
    records = json.loads(json_path.read_text(encoding="utf-8"))
    with_spots = [(r["strategy"], r["x_metric"], r["y_metric"], str(r["samples"])) for r in records if r["sweet_spots"]]
    assert sorted(sections) == sorted(with_spots)
    assert "Top sweet spots (min_env_frac = 0.5%, min_pass_frac = 40%):" in text
    assert re.search(r"^1\. \w+ ∈ \[[-\d.]+, [-\d.]+\], \w+ ∈ \[[-\d.]+, [-\d.]+\]$", text, flags=re.MULTILINE)
    assert re.search(r"^   - occupancy ≈ \d+\.\d% \(\d+ of \d+\)$", text, flags=re.MULTILINE)
    assert re.search(r"^   - strategy pass rate ≈ \d+\.\d%", text, flags=re.MULTILINE)
    assert re.search(r"^   - score \(occupancy \* pass\) ≈ \d\.\d{3}$", text, flags=re.MULTILINE)


def test_manifest(default_run):
    base, _, _ = default_run
    output = base / "backtest" / "output"
    manifest = json.loads((output / MANIFEST_NAME).read_text(encoding="utf-8"))
    params = manifest["parameters"]
    assert params["underlyings"] == ["BTC", "ETH"] and params["metrics"] == list(DEFAULT_METRICS)
    assert [s["label"] for s in params["strategies"]] == list(DEFAULT_STRATEGIES)
    assert (params["x_bins"], params["y_bins"], params["top_k"]) == (20, 20, 5)
    assert (params["min_env_frac"], params["min_pass_frac"]) == (0.005, 0.4)
    assert params["source"] == "synthetic" and params["lookback_days"] == LOOKBACK
    assert params["missing_policy"] == "strict" and params["count_mode"] == "selected"
    for underlying in ("BTC", "ETH"):
        info = manifest["underlyings"][underlying]
        assert info["source"] == "synthetic" and info["description"]
        assert info["samples"] == LOOKBACK
        start, end = (pd.Timestamp(t) for t in info["span"])
        assert (end - start).days == LOOKBACK - 1
    assert manifest["compute_seconds"] >= 0 and manifest["total_seconds"] >= manifest["compute_seconds"]
    assert set(manifest["files"]) == {p.name for p in output.iterdir()}
    with np.load(output / GRIDS_NAME) as archive:
        assert archive["BTC__counts"].shape == (28, 20, 20)
        assert archive["ETH__selected"].shape == (28, 7, 20, 20)


def test_progress_fractions_increase_to_one(default_run):
    _, _, calls = default_run
    fractions = [f for f, _ in calls]
    assert len(calls) >= 2 * 28
    assert all(0.0 <= f <= 1.0 for f in fractions)
    assert fractions == sorted(fractions)
    assert len(set(fractions)) >= 2 * 28  # it moves at every pair
    assert fractions[-1] == 1.0
    assert all(isinstance(m, str) and m for _, m in calls)


# ------------------------------------------------------------------ results against references


def test_stored_grids_reproduce_a_fresh_computation(default_run):
    base, _, _ = default_run
    stored = load_sweep_results(base / "backtest" / "output")
    assert stored.underlyings == ["BTC", "ETH"]
    keys = [s["key"] for s in stored.strategies]
    for underlying, (x_metric, y_metric) in [("BTC", ("vrp_30d", "adx_14d")), ("ETH", ("skew_25d", "rsi_14d"))]:
        sensors = load_sensor_data(underlying, lookback_days=LOOKBACK).sensors
        decisions = evaluate_frame(sensors)
        columns = [decisions.strategy_keys.index(k) for k in keys]
        counted = decisions.selected[:, None] == np.asarray(columns)[None, :]
        fresh = compute_pair_grid(
            sensors[x_metric].to_numpy(), sensors[y_metric].to_numpy(), counted, decisions.scores[:, columns], 20, 20
        )
        for grid in (stored.grid(underlying, x_metric, y_metric), stored.grid(underlying, y_metric, x_metric)):
            assert (grid.x_metric, grid.y_metric) == (x_metric, y_metric)
            for field in ("x_edges", "y_edges", "counts", "selected", "score_sum"):
                assert np.array_equal(getattr(grid, field), getattr(fresh, field)), field
            assert (grid.total_samples, grid.outside, grid.missing) == (fresh.total_samples, 0, 0)
    with pytest.raises(SweepResultsError):
        stored.grid("BTC", "vrp_30d", "vrp_7d")
    assert stored.strategy_index("STRATEGY_F_BEAR_CALL_SPREAD") == 6


def holey_sensor_data(underlying: str, days: int, seed: int) -> SensorData:
    data = load_sensor_data(underlying, lookback_days=days, seed=seed)
    frame = data.sensors.copy()
    rng = np.random.default_rng(seed)
    for name in ("vrp_30d", "adx_14d", "skew_25d", "rsi_14d", "chop_factor_7d", "iv_rank_6m"):
        frame.loc[rng.random(len(frame)) < 0.06, name] = rng.choice([np.nan, np.inf, -np.inf])
    return SensorData(underlying, data.source, frame, "synthetic with holes")


def compare_records(got: list[dict], expected: list[dict]) -> None:
    assert len(got) == len(expected)
    for record, ref in zip(got, expected, strict=True):
        for key in ("underlying", "strategy", "strategy_key", "x_metric", "y_metric", "samples"):
            assert record[key] == ref[key], key
        assert len(record["sweet_spots"]) == len(ref["sweet_spots"]), (record, ref)
        for spot, ref_spot in zip(record["sweet_spots"], ref["sweet_spots"], strict=True):
            # The reference knows the requests' algorithm; outcomes are the engine's addition.
            assert set(spot) - set(ref_spot) == {"outcome", "pnl"} and set(ref_spot) <= set(spot)
            for key, value in ref_spot.items():
                if isinstance(value, int):
                    assert spot[key] == value, key
                else:
                    assert spot[key] == pytest.approx(value, rel=1e-12, abs=1e-15), key


@pytest.mark.parametrize(("policy", "count_mode"), [("strict", "selected"), ("ignore-missing", "passes"),
                                                    ("ignore-missing", "selected"), ("strict", "passes")])
def test_sweep_matches_naive_reference_on_data_with_holes(policy, count_mode):
    strategies = ["Strategy B: OTM Strangle", "STRATEGY_C_SHORT_PUT", "Strategy D: Iron Butterfly", "Strategy B: Calendar Spread"]
    metrics = ["vrp_30d", "skew_25d", "adx_14d"]
    data = {"BTC": holey_sensor_data("BTC", 300, seed=5)}
    params = validate_sweep_params(
        ["BTC"], metrics, strategies, 6, 5, 0.01, 0.2, 3, missing_policy=policy, count_mode=count_mode
    )
    result = compute_sweep(params, data_by_underlying=data)
    samples = {"BTC": data["BTC"].sensors.to_dict("records")}
    reference = naive_sweep(samples, metrics, strategies, 6, 5, 0.01, 0.2, 3, policy=policy, count_mode=count_mode)
    compare_records([r.to_json() for r in result.records], reference["records"])
    assert sum(len(r.sweet_spots) for r in result.records) > 5
    for grid in result.underlyings[0].grids:
        env = reference["env"][("BTC", grid.x_metric, grid.y_metric)]
        assert grid.missing == env["missing"] > 0
        assert grid.counts.ravel().tolist() == [c["count"] for c in env["cells"]]
        assert grid.x_edges.tolist() == env["x_edges"]


def test_top_k_and_filters_are_applied():
    data = {"ETH": load_sensor_data("ETH", lookback_days=300)}
    loose = compute_sweep(validate_sweep_params(["ETH"], SMALL["metrics"], DEFAULT_STRATEGIES, 5, 5, 0.0, 0.0, 50),
                          data_by_underlying=data)
    tight = compute_sweep(validate_sweep_params(["ETH"], SMALL["metrics"], DEFAULT_STRATEGIES, 5, 5, 0.05, 0.6, 2),
                          data_by_underlying=data)
    for wide, narrow in zip(loose.records, tight.records, strict=True):
        # Without filters: every non-empty cell where the strategy is counted or not.
        assert all(s.count > 0 for s in wide.sweet_spots)
        expected = [s for s in wide.sweet_spots if s.occupancy_frac >= 0.05 and s.strategy_pass_frac >= 0.6][:2]
        assert list(narrow.sweet_spots) == expected


# ------------------------------------------------------------------ cancellation, validation


def test_cancellation_leaves_previous_results_untouched(tmp_path):
    run_greg_sweetspot_sweep(tmp_path, ["BTC"], **SMALL)
    output = tmp_path / "backtest" / "output"
    before = snapshot(output)
    event = threading.Event()
    seen: list[float] = []

    def progress(fraction: float, message: str) -> None:
        seen.append(fraction)
        if fraction >= 0.5:
            event.set()

    with pytest.raises(SweepCancelled):
        run_greg_sweetspot_sweep(tmp_path, ["BTC", "ETH"], SMALL["metrics"], x_bins=9, y_bins=9,
                                 lookback_days=250, progress=progress, cancel=event)
    assert 0.5 <= max(seen) < 1.0
    assert snapshot(output) == before
    assert_clean(output)
    with pytest.raises(SweepCancelled):  # a callable works too, and cancelling at once
        run_greg_sweetspot_sweep(tmp_path, ["ETH"], SMALL["metrics"], lookback_days=250, cancel=lambda: True)
    assert snapshot(output) == before
    assert_clean(output)


def test_failed_write_leaves_previous_results_untouched(tmp_path, monkeypatch):
    import backtest.heatmaps.store as sweep_results

    run_greg_sweetspot_sweep(tmp_path, ["BTC"], **SMALL)
    output = tmp_path / "backtest" / "output"
    before = snapshot(output)

    def broken(result):
        raise OSError("disk full")

    monkeypatch.setattr(sweep_results, "markdown_summary", broken)
    with pytest.raises(OSError, match="disk full"):
        run_greg_sweetspot_sweep(tmp_path, ["ETH"], **SMALL)
    assert snapshot(output) == before
    assert_clean(output)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"metrics": ["vrp_30d", "vol_of_vol"]}, "unknown metric"),
        ({"metrics": ["vrp_30d"]}, "two distinct metrics"),
        ({"strategies": ["Strategy Z: Moon"]}, "unknown strategy"),
        ({"x_bins": 0}, "x_bins"),
        ({"y_bins": -3}, "y_bins"),
        ({"x_bins": 2.5}, "x_bins"),
        ({"min_env_frac": -0.01}, "min_env_frac"),
        ({"min_pass_frac": 1.5}, "min_pass_frac"),
        ({"min_pass_frac": float("nan")}, "min_pass_frac"),
        ({"top_k": 0}, "top_k"),
        ({"underlyings": []}, "underlying"),
        ({"underlyings": ["BTC/USD"]}, "underlying"),
        ({"missing_policy": "lenient"}, "missing-sensor policy"),
        ({"count_mode": "everything"}, "count mode"),
        ({"source": "bloomberg"}, "data source"),
        ({"lookback_days": 0}, "lookback_days"),
    ],
)
def test_invalid_parameters_raise_before_writing(tmp_path, overrides, message):
    kwargs = {"underlyings": ["BTC"], "lookback_days": 200, **overrides}
    with pytest.raises(SweepConfigError, match=message) as info:
        run_greg_sweetspot_sweep(tmp_path, **kwargs)
    assert "\n" not in str(info.value)
    assert list(tmp_path.iterdir()) == []


def test_error_messages_list_the_valid_choices():
    with pytest.raises(SweepConfigError) as info:
        validate_sweep_params(["BTC"], ["vrp_30d", "nope"], DEFAULT_STRATEGIES, 20, 20, 0.1, 0.1, 5)
    assert all(name in str(info.value) for name in DEFAULT_METRICS)
    with pytest.raises(SweepConfigError) as info:
        validate_sweep_params(["BTC"], DEFAULT_METRICS, ["nope"], 20, 20, 0.1, 0.1, 5)
    assert all(label in str(info.value) for label in DEFAULT_STRATEGIES)


# ------------------------------------------------------------------ determinism, names


def test_two_runs_are_identical(tmp_path):
    outputs = []
    for name in ("one", "two"):
        run_greg_sweetspot_sweep(tmp_path / name, ["BTC", "ETH"], **SMALL)
        outputs.append(snapshot(tmp_path / name / "backtest" / "output"))
    one, two = outputs
    assert one.keys() == two.keys()
    for name in one:
        if name not in (MANIFEST_NAME, GRIDS_NAME):  # those carry timestamps
            assert one[name] == two[name], name
    with np.load(tmp_path / "one" / "backtest" / "output" / GRIDS_NAME) as a, \
            np.load(tmp_path / "two" / "backtest" / "output" / GRIDS_NAME) as b:
        assert a.files == b.files and all(np.array_equal(a[k], b[k], equal_nan=True) for k in a.files)


def test_strategies_by_key_or_label(tmp_path):
    labels = list(STRATEGY_LABELS.values())[:3]
    keys = list(STRATEGY_KEYS)[:3]
    shouty = [label.upper() for label in labels]
    texts = []
    for name, strategies in (("labels", labels), ("keys", keys), ("upper", shouty)):
        path = run_greg_sweetspot_sweep(tmp_path / name, ["ETH"], strategies=strategies, **SMALL)
        texts.append(path.read_text(encoding="utf-8"))
    assert texts[0] == texts[1] == texts[2]
    assert {r["strategy"] for r in json.loads(texts[0])} == set(labels)


def test_policy_and_count_mode_are_recorded(tmp_path):
    run_greg_sweetspot_sweep(tmp_path, ["BTC"], missing_policy="ignore_missing", count_mode="passes", **SMALL)
    output = tmp_path / "backtest" / "output"
    manifest = json.loads((output / MANIFEST_NAME).read_text(encoding="utf-8"))
    assert manifest["parameters"]["missing_policy"] == "ignore-missing"
    assert manifest["parameters"]["count_mode"] == "passes"
    markdown = (output / "greg_heatmap_sweetspots.md").read_text(encoding="utf-8")
    assert "Missing-sensor policy: ignore-missing; counting: passes." in markdown
