"""Forward outcomes in the sweep: per cell, per sweet spot, the scorecard, never in a bin."""

from __future__ import annotations

import json

import numpy as np
import pytest

from backtest.heatmaps.binning import Binning, axis_edges
from backtest.heatmaps.outputs import SCORECARD_NAME
from backtest.heatmaps.run import run_greg_sweetspot_sweep
from backtest.heatmaps.store import load_sweep_results
from backtest.heatmaps.sweep import compute_sweep, validate_sweep_params
from backtest.heatmaps.walk_forward import early_spots
from backtest.sensors.sources import load_sensor_data
from greg_core.settings import output_dir_for

METRICS = ["vrp_30d", "adx_14d", "iv_rank_6m"]
STRATEGIES = ["STRATEGY_A_STRANGLE", "STRATEGY_C_SHORT_PUT", "STRATEGY_D_IRON_BUTTERFLY"]


@pytest.fixture(scope="module")
def stored(tmp_path_factory):
    base = tmp_path_factory.mktemp("outcomes")
    run_greg_sweetspot_sweep(base, ["BTC"], METRICS, STRATEGIES, 10, 10, 0.0, 0.0, 3, lookback_days=2000)
    return load_sweep_results(output_dir_for(base))


def test_sweet_spot_blocks_are_the_stored_cells(stored):
    checked = 0
    for record in stored.records:
        edge = stored.cell_outcomes("BTC", record.x_metric, record.y_metric, "edge")
        pnl = stored.cell_outcomes("BTC", record.x_metric, record.y_metric, "pnl")
        g = edge.group_index(record.strategy_key)
        r = edge.group_index("NO_TRADE")
        for spot in record.sweet_spots:
            x, y = spot.x_bin, spot.y_bin
            block = spot.outcome
            assert block.measure == "edge_30d" and block.n == edge.n[g, x, y]
            assert block.episodes == edge.episodes[g, x, y] and block.thin == (edge.episodes[g, x, y] < 8)
            assert block.mean == pytest.approx(edge.mean[g, x, y])
            # Derived at the spot exactly as the cells' own properties derive them.
            for field, values in (("mean", edge.mean), ("median", edge.median), ("hit_rate", edge.hit_rate),
                                  ("ci_low", edge.ci_low), ("ci_high", edge.ci_high), ("worst", edge.worst)):
                assert getattr(block, field) == _json_number(values[g, x, y]), field
            assert block.no_trade_mean == _json_number(edge.mean[r, x, y])
            assert block.no_trade_n == edge.n[r, x, y]
            if block.mean is not None and block.no_trade_mean is not None:
                assert block.diff_vs_no_trade == pytest.approx(block.mean - block.no_trade_mean)
            assert spot.pnl.n == pnl.n[pnl.group_index(record.strategy_key), x, y]
            # The strategy's days in the cell are the ones counted for it there.
            assert block.n <= spot.selected_count
            checked += 1
    assert checked > 20


def _json_number(value: float) -> float | None:
    return None if np.isnan(value) else float(value)


def test_scorecard_file_partitions_the_days(stored):
    scorecard = json.loads((stored.output_dir / SCORECARD_NAME).read_text(encoding="utf-8"))
    btc = scorecard["underlyings"]["BTC"]
    assert btc["measure"] == "edge_30d" and btc["outcome_trust"].startswith("model outcomes")
    rows = {row["group"]: row for row in btc["rows"]}
    for row in rows.values():
        assert {"group", "days", "episodes", "mean", "ci_low", "ci_high", "hit_rate", "diff_vs_no_trade"} <= set(row)
    strategies = [key for key in rows if key.startswith("STRATEGY_")]
    assert len(strategies) == 7  # every strategy of the spec, swept or not
    assert sum(rows[k]["days"] for k in strategies) + rows["NO_TRADE"]["days"] == rows["ALL"]["days"]
    assert rows["SAFETY_FILTER"]["days"] + rows["DEFAULT"]["days"] == rows["NO_TRADE"]["days"]
    assert {row["sensor"] for row in btc["signals"]["rows"]} >= {"vrp_30d", "iv_rank_6m"}
    assert "clear |t| > 2" in scorecard["multiple_testing"]["sentence"]


def test_outcomes_never_change_bins_or_picks(tmp_path):
    """The same sweep with another horizon: other outcomes, the very same grids and spots."""
    data = {"BTC": load_sensor_data("BTC", lookback_days=1200)}
    common = (["BTC"], METRICS, STRATEGIES, 10, 10, 0.005, 0.3, 3)
    short = compute_sweep(validate_sweep_params(*common, horizon_days=10), data_by_underlying=data)
    long = compute_sweep(validate_sweep_params(*common, horizon_days=60), data_by_underlying=data)
    for a, b in zip(short.underlyings[0].grids, long.underlyings[0].grids, strict=True):
        np.testing.assert_array_equal(a.counts, b.counts)
        np.testing.assert_array_equal(a.selected, b.selected)
    for a, b in zip(short.records, long.records, strict=True):
        assert [(s.x_bin, s.y_bin, s.count) for s in a.sweet_spots] == [(s.x_bin, s.y_bin, s.count) for s in b.sweet_spots]
    assert short.records[0].sweet_spots[0].outcome.measure == "edge_10d"
    assert short.underlyings[0].scorecard.row("ALL").mean != long.underlyings[0].scorecard.row("ALL").mean


def test_rank_by_edge_leaves_thin_cells_out_and_orders_by_the_lower_bound():
    data = {"BTC": load_sensor_data("BTC", lookback_days=6000)}
    params = validate_sweep_params(["BTC"], METRICS, STRATEGIES, 10, 10, 0.005, 0.3, 5, rank_by="edge")
    result = compute_sweep(params, data_by_underlying=data)
    spots = [record.sweet_spots for record in result.records if record.sweet_spots]
    assert spots
    for ranked in spots:
        assert not any(s.outcome.thin for s in ranked)
        bounds = [s.outcome.ci_low for s in ranked]
        assert bounds == sorted(bounds, reverse=True)


def test_early_spots_measure_the_later_third_inside_their_cell():
    """The later third is counted in the early grid's cells as every grid bins them: a value
    on an inner edge belongs to the cell that starts there (never to two cells)."""
    rng = np.random.default_rng(3)
    n = 900
    x, y = rng.uniform(-2, 2, n), rng.uniform(-2, 2, n)
    inner_edge = axis_edges(x[:570], 4)[3]  # the early grid's edge between its last two columns
    x[600::7] = inner_edge  # later samples exactly on it
    counted = (x > 0)[:, None]  # the "strategy" trades when x > 0
    scores = counted.astype(float)
    edge = rng.normal(5, 10, n)
    days = np.arange(n)
    in_sample, out_of_sample = days < 570, days >= 600
    found = early_spots(
        [(x, y, "x", "y")], counted, scores, in_sample, out_of_sample, edge, [edge * 0.1],
        x_bins=4, y_bins=4, binning=Binning(), min_env_frac=0.0, min_pass_frac=0.5, top_k=8,
    )[0][0]
    assert len(found) == 8  # every cell with x > 0
    for spot in found:
        # Half-open cells; no later sample reaches the early range's top edge here.
        in_x = (x >= spot.x_low) & (x < spot.x_high)
        in_y = (y >= spot.y_low) & (y < spot.y_high)
        inside = out_of_sample & counted[:, 0] & in_x & in_y
        assert spot.oos_edge_n == inside.sum() > 0
        assert spot.oos_edge_mean == pytest.approx(edge[inside].mean())
        assert spot.oos_pnl_mean == pytest.approx(0.1 * edge[inside].mean())
    on_edge = [s for s in found if s.x_low == inner_edge]
    assert on_edge, "a spot starting at the edge the later samples sit on"


def test_real_history_says_real_outcomes(real_dir, tmp_path):
    run_greg_sweetspot_sweep(
        tmp_path, ["BTC"], METRICS, STRATEGIES, 10, 10, source="history", data_dir=real_dir,
        missing_policy="ignore-missing",
    )
    manifest = json.loads((output_dir_for(tmp_path) / "greg_heatmap_manifest.json").read_text(encoding="utf-8"))
    assert manifest["underlyings"]["BTC"]["outcome_trust"].startswith("real outcomes")
    scorecard = json.loads((output_dir_for(tmp_path) / SCORECARD_NAME).read_text(encoding="utf-8"))
    rows = {row["group"]: row for row in scorecard["underlyings"]["BTC"]["rows"]}
    assert rows["ALL"]["days"] == 1070  # entry days with a complete 30-day future and DVOL
    assert rows["TRADE"]["diff_vs_no_trade"] < 0  # on real BTC the picks earned less edge


def test_each_cell_lists_when_its_episodes_began(stored):
    """The app shows a cell's episodes by entry date: stored per (group, cell), H days apart."""
    record = next(r for r in stored.records if r.sweet_spots)
    spot = record.sweet_spots[0]
    edge = stored.cell_outcomes("BTC", record.x_metric, record.y_metric, "edge")
    entries = edge.entry_times(record.strategy_key, spot.x_bin, spot.y_bin)
    assert len(entries) == spot.outcome.episodes > 0
    gaps = np.diff(entries).astype("timedelta64[D]").astype(int)
    assert (gaps >= 30).all()
    assert str(entries[0])[:4].isdigit()


def test_early_spots_of_many_pairs_are_each_pairs_own(monkeypatch):
    """The early spots of pairs sharing metrics (each metric's samples split and binned once
    for all of them) are the spots each pair gets alone, also when the later third's means
    go a pair per pass (a long span's path)."""
    import backtest.heatmaps.walk_forward as walk_forward
    from backtest.outcomes import stats

    rng = np.random.default_rng(4)
    n = 600
    metrics = {name: rng.uniform(-2, 2, n) for name in "abc"}
    metrics["c"][::9] = np.nan  # holes: the pairs with "c" bin "a" and "b" on other edges
    pairs = [(metrics[x], metrics[y], x, y) for x, y in (("a", "b"), ("a", "c"), ("b", "c"))]
    counted = np.column_stack([metrics["a"] > 0, metrics["b"] < 0.5])
    edge = rng.normal(5, 10, n)
    days = np.arange(n)
    rest = (counted, counted.astype(float), days < 380, days >= 410, edge, [edge * 0.1, edge * 0.2])
    options = dict(x_bins=4, y_bins=4, binning=Binning(), min_env_frac=0.0, min_pass_frac=0.5, top_k=8)
    together = early_spots(pairs, *rest, **options)
    alone = [early_spots([pair], *rest, **options)[0] for pair in pairs]
    assert together == alone and len(together) == 3
    assert all(spots for per_pair in together for spots in per_pair)  # every column has spots to compare
    assert any(spot.oos_edge_n for per_pair in together for spots in per_pair for spot in spots)
    monkeypatch.setattr(walk_forward, "batches", lambda sizes: stats.batches(sizes, limit=1))
    assert early_spots(pairs, *rest, **options) == together


def test_has_outcomes_agrees_with_cell_outcomes(stored):
    """One answer to "does this run hold per-cell outcomes?": an earlier dense layout (per-field
    arrays, no shape) reads as none, as cell_outcomes reads it."""
    from dataclasses import replace

    assert stored.has_outcomes
    dense = replace(stored, arrays={k: v for k, v in stored.arrays.items() if not k.endswith("__shape")})
    record = stored.records[0]
    assert not dense.has_outcomes
    assert dense.cell_outcomes(record.underlying, record.x_metric, record.y_metric) is None
