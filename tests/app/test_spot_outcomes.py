"""The sweet-spot table's outcome columns (issue 9, "In the app"): each spot's forward edge,
episodes, hit rate and later-third mean as stored, thin spots marked and set apart (italic), the run's
outcome label and walk-forward count in the header; legible at 80x24; an older run without
outcomes and a real-data run."""

from __future__ import annotations

import json
from dataclasses import replace

from rich.text import Text
from textual.widgets import Static

from backtest.heatmaps.store import JSON_NAME, SCORECARD_NAME
from greg_core.formatting import fmt_signed
from greg_core.settings import output_dir_for
from greg_tui.messages import ResultsRead
from greg_tui.widgets.sweetspots.table import SpotTable
from tests.app.support import make_app, static_text


def _stored_spots(base) -> list[tuple[dict, dict]]:
    """(record, spot) of the sweet-spot JSON, read directly (not through the app)."""
    records = json.loads((output_dir_for(base) / JSON_NAME).read_text(encoding="utf-8"))
    return [(record, spot) for record in records for spot in record["sweet_spots"]]


def _card(base) -> dict:
    return json.loads((output_dir_for(base) / SCORECARD_NAME).read_text(encoding="utf-8"))


def _expected_held_up(base) -> tuple[int, int]:
    """(chosen with later-third days, of them beating the later third's no-trade mean)."""
    card = _card(base)
    baseline = {u: c["walk_forward"]["later_third_no_trade_mean"] for u, c in card["underlyings"].items()}
    chosen = beat = 0
    for record, spot in _stored_spots(base):
        block = spot["outcome"]
        if block["oos_mean"] is not None and block["oos_n"]:
            chosen += 1
            beat += block["oos_mean"] > baseline[record["underlying"]]
    return chosen, beat


def _cells(table: SpotTable, row_index: int) -> dict[str, object]:
    return dict(zip((c.key for c in table.shown_columns), table.get_row_at(row_index), strict=True))


async def test_outcome_columns_show_each_spots_stored_figures_at_80x24(results_base):
    stored = {(r["underlying"], r["strategy_key"], r["x_metric"], r["y_metric"], s["x_bin"], s["y_bin"]): s
              for r, s in _stored_spots(results_base)}
    app = make_app(results_base)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        table = app.screen.query_one(SpotTable)
        assert table.narrow and [c.key for c in table.shown_columns] == [
            "underlying", "strategy", "pair", "score", "edge", "episodes", "hit", "oos", "count"]
        thin_seen = solid_seen = False
        baselines = {u: c["walk_forward"]["later_third_no_trade_mean"]
                     for u, c in _card(results_base)["underlyings"].items()}
        marks = 0
        for index, row in enumerate(table.shown_rows):
            block = stored[(row.underlying, row.strategy_key, row.x_metric, row.y_metric, row.x_bin, row.y_bin)]["outcome"]
            cells = _cells(table, index)
            if block["n"] == 0:
                assert str(cells["edge"]) == "-"
                continue
            edge = fmt_signed(block["mean"]) + ("~" if block["thin"] else "")
            assert str(cells["edge"]) == edge
            assert str(cells["episodes"]) == str(block["episodes"])
            assert str(cells["hit"]) == f"{block['hit_rate'] * 100:.0f}"
            # The later third's mean, ✓ when it beat that third's no-trade days (held up).
            if block["oos_mean"] is None:
                assert str(cells["oos"]) == "-"
            else:
                held = block["oos_n"] > 0 and block["oos_mean"] > baselines[row.underlying]
                assert str(cells["oos"]) == fmt_signed(block["oos_mean"]) + ("✓" if held else "")
                marks += held
            # Thin spots: their outcome figures italic, the rest of the row as usual.
            assert isinstance(cells["edge"], Text) == block["thin"]
            if block["thin"]:
                thin_seen = True
                assert "italic" in str(cells["edge"].style) and not isinstance(cells["count"], Text)
            else:
                solid_seen = True
        assert thin_seen  # the small fixture run has thin spots (and maybe solid ones)
        del solid_seen
        # The header: model outcomes of a synthetic run, and the walk-forward count.
        summary = static_text(app.screen.query_one("#spots-summary", Static), 78)
        assert "model outcomes, realism:" in summary
        chosen, beat = _expected_held_up(results_base)
        assert marks == beat  # every spot that held up is marked, and only those
        assert f"held up out of sample: {beat} of {chosen}" in " ".join(summary.split())
        # The detail line: the first spot's edge with its interval, episodes and hit.
        first = table.shown_rows[0]
        detail = " ".join(static_text(app.screen.query_one("#spot-detail", Static), 78).split())
        if first.outcome is not None and first.outcome.n:
            assert f"edge {fmt_signed(first.outcome.mean)} vol pts" in detail
            assert f"{first.outcome.n} days, {first.outcome.episodes} ep" in detail


async def test_sorting_by_edge_puts_thin_spots_and_those_without_an_outcome_last(results_base):
    app = make_app(results_base)
    async with app.run_test(size=(160, 40)) as pilot:
        await pilot.pause()
        table = app.screen.query_one(SpotTable)
        assert "interval" in [c.key for c in table.shown_columns]  # wide: the 95% interval too
        table.sort_by("edge")
        rows = table.shown_rows
        means = [r.outcome.mean if r.outcome is not None and r.outcome.n else None for r in rows]
        readable = [r.outcome.mean for r in rows if r.outcome is not None and r.outcome.n and not r.outcome.thin]
        thin = [r.outcome.mean for r in rows if r.outcome is not None and r.outcome.n and r.outcome.thin]
        assert readable == sorted(readable, reverse=True) and thin == sorted(thin, reverse=True)
        # Spots with enough episodes first, then the thin ones, then those without an outcome.
        assert means[: len(readable) + len(thin)] == readable + thin
        summary = " ".join(static_text(app.screen.query_one("#spots-summary", Static)).split())
        assert "beat the later third's no-trade days" in summary


async def test_a_run_without_outcomes_shows_dashes_and_no_label(results_base):
    app = make_app(results_base)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        results = app.results
        records = [replace(r, sweet_spots=[replace(s, outcome=None, pnl=None) for s in r.sweet_spots])
                   for r in results.records]
        manifest = {k: v for k, v in results.manifest.items() if k != "outcome_groups"}
        older = replace(results, records=records, manifest=manifest, scorecard=None)
        app.on_results_read(ResultsRead(older, None, app.results_token))
        await pilot.pause()
        table = app.screen.query_one(SpotTable)
        assert table.row_count and all(str(_cells(table, 0)[k]) == "-" for k in ("edge", "episodes", "hit", "oos"))
        summary = static_text(app.screen.query_one("#spots-summary", Static))
        assert "held up" not in summary and "outcomes" not in summary
        detail = static_text(app.screen.query_one("#spot-detail", Static))
        assert "edge" not in detail and "occ" in detail


async def test_a_real_data_run_says_real_outcomes(absent_results):
    app = make_app(absent_results)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        summary = static_text(app.screen.query_one("#spots-summary", Static))
        assert "real outcomes" in summary and "model outcomes" not in summary
