"""The scorecard area (issue 9, "In the app"): per underlying, each group's forward edge with
its interval and difference to the no-trade days, the structures' P&L, the signals and both
multiple-testing lines, the walk-forward count, the outcome label; an older run without a
scorecard says so."""

from __future__ import annotations

import json
from dataclasses import replace

from textual.widgets import Static

from backtest.heatmaps.store import JSON_NAME, SCORECARD_NAME
from greg_core.formatting import fmt_interval, fmt_signed
from greg_core.settings import output_dir_for
from greg_tui.areas import AREA_BY_MODE
from greg_tui.messages import ResultsRead
from greg_tui.screens.scorecard import ScorecardScreen
from tests.app.support import make_app, press_and_settle, screen_text, static_text

KEY = AREA_BY_MODE["scorecard"].key


def _card(base) -> dict:
    return json.loads((output_dir_for(base) / SCORECARD_NAME).read_text(encoding="utf-8"))


def _line(text: str, starts: str) -> str:
    return next(line for line in text.splitlines() if line.strip().startswith(starts))


def _part(app, name: str, width: int = 78) -> str:
    return static_text(app.screen.query_one(f"#scorecard-{name}", Static), width)


async def _open(app, pilot) -> ScorecardScreen:
    await press_and_settle(pilot, KEY)
    assert isinstance(app.screen, ScorecardScreen)
    return app.screen


async def test_scorecard_shows_the_stored_rows_of_each_underlying_at_80x24(results_base):
    stored = _card(results_base)
    app = make_app(results_base)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _open(app, pilot)
        for underlying in app.results.underlyings:
            if screen.underlying != underlying:
                await pilot.press("u")
                await pilot.pause()
            card = stored["underlyings"][underlying]
            head = " ".join(_part(app, "head").split())
            assert f"Scorecard for {underlying}: model outcomes, realism:" in head
            assert f"{card['total_days']} days" in head and f"fewer than {card['min_episodes']} episodes" in head
            groups = _part(app, "groups")
            rows = {row["group"]: row for row in card["rows"]}
            trade = rows["TRADE"]
            line = _line(groups, "trade days")
            assert line.split()[2:4] == [str(trade["days"]), str(trade["episodes"]) + ("~" if trade["thin"] else "")]
            assert fmt_signed(trade["mean"]) in line and fmt_interval(trade["ci_low"], trade["ci_high"]) in line
            assert f"{fmt_signed(trade['diff_vs_no_trade'])} (t {fmt_signed(trade['diff_t'])})" in line
            assert str(rows["NO_TRADE"]["days"]) in _line(groups, "no-trade days")
            thin = [row for row in card["rows"] if row["thin"] and row["days"] and row["kind"] == "strategy"]
            for row in thin:  # thin strategies marked (the small run has some)
                label = next(s["label"] for s in app.results.strategies if s["key"] == row["group"])
                short = label.removeprefix("Strategy ").split(":")[0]
                assert any(f"{row['episodes']}~" in ln for ln in groups.splitlines() if ln.strip().startswith(short))
            signals = _part(app, "signals", 120)
            with_days = [s for s in card["signals"]["rows"] if s["n"]]
            first = with_days[0]
            line = _line(signals, first["sensor"])
            assert fmt_signed(first["slope"]) in line and fmt_signed(first["slope_t"]) in line
            tests = " ".join(_part(app, "tests").split())
            assert f"of {len(with_days)} clear |t| > 2" in tests
            assert stored["multiple_testing"]["sentence"] in tests
            walk = " ".join(_part(app, "walk").split())
            assert fmt_signed(card["walk_forward"]["later_third_no_trade_mean"]) in walk
            # The held-up count, recomputed from the sweet-spot file.
            records = json.loads((output_dir_for(results_base) / JSON_NAME).read_text(encoding="utf-8"))
            base = card["walk_forward"]["later_third_no_trade_mean"]
            spots = [s["outcome"] for r in records if r["underlying"] == underlying for s in r["sweet_spots"]]
            chosen = [o for o in spots if o["oos_mean"] is not None and o["oos_n"]]
            beat = sum(o["oos_mean"] > base for o in chosen)
            assert f"of {len(spots)} sweet spots, {len(chosen)} were also chosen" in walk
            assert f"{beat} held up" in walk
        for line in screen_text(app).splitlines():
            assert len(line) <= 80


async def test_an_older_run_without_a_scorecard_says_so(results_base):
    app = make_app(results_base)
    async with app.run_test(size=(80, 24)) as pilot:
        await _open(app, pilot)
        older = replace(app.results, scorecard=None)
        app.on_results_read(ResultsRead(older, None, app.results_token))
        await pilot.pause()
        assert "This run has no scorecard" in _part(app, "head")
        assert not app.screen.query_one("#scorecard-groups", Static).display
        await pilot.press("u")  # still nothing to show, and no error
        await pilot.pause()
        assert "This run has no scorecard" in _part(app, "head")
