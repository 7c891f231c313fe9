"""The selector screen: each waterfall step's rule and the clause that fired (issue 12 #10),
the latest day with data as the default and going to a date (#12), and the decision's
waterfall itself (backtest.selector.evaluate.StepCheck)."""

from __future__ import annotations

import pandas as pd
from textual.widgets import Input, Static

from backtest.selector.evaluate import evaluate_sample
from greg_tui.screens.selector import SelectorScreen, latest_with_data, position_on_or_before
from tests.app.support import make_app, press_and_settle, screen_text, static_text


def test_the_decision_carries_each_steps_rule_and_clauses():
    decision = evaluate_sample({"adx_14d": 40.0, "chop_factor_7d": 0.5, "vrp_30d": 3.0})
    first = decision.steps[0]
    assert (first.index, first.name, first.matched) == ("1", "SAFETY_FILTER", True)
    assert first.condition == "adx_14d > 35 OR chop_factor_7d > 0.85"
    assert [(c.text, c.ok, c.value) for c in first.criteria] == [
        ("adx_14d > 35", True, 40.0), ("chop_factor_7d > 0.85", False, 0.5)]
    assert [s.index for s in decision.steps] == ["1", "2", "3", "4", "5", "6", "7a", "7b", "8"]
    assert decision.steps[-1].matched and decision.steps[-1].criteria == ()  # DEFAULT: always
    # A strategy's criteria are its step's.
    status = decision.status("STRATEGY_A_STRADDLE")
    assert status.criteria == decision.steps[3].criteria


def test_latest_day_with_data_and_dates():
    index = pd.date_range("2025-11-01", periods=5, freq="D", tz="UTC")
    frame = pd.DataFrame({"vrp_30d": [1, 2, 3, None, None], "adx_14d": [1, 2, 3, 4, None]}, index=index)
    assert latest_with_data(frame) == 2  # the last day with both
    assert position_on_or_before(frame, "2025-11-03") == 2
    assert position_on_or_before(frame, "2025-12-30") == 4
    assert position_on_or_before(frame, "2020-01-01") == 0
    for bad in ("", "not a date"):
        try:
            position_on_or_before(frame, bad)
        except ValueError:
            continue
        raise AssertionError(f"{bad!r} accepted")


async def test_selector_shows_the_waterfall_and_goes_to_a_date(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await press_and_settle(pilot, "5")
        screen = app.screen
        assert isinstance(screen, SelectorScreen)
        steps = static_text(screen.query_one("#decision-steps", Static), width=160)
        assert "The waterfall" in steps and "1 SAFETY_FILTER" in steps and "8 DEFAULT" in steps
        assert "adx_14d > 35 OR chop_factor_7d > 0.85" in steps
        decision_step = static_text(screen.query_one("#decision-head", Static))
        step_line = decision_step.split("at step ")[1].split()[1]  # the name of the step that fired
        fired = next(line for line in steps.splitlines() if step_line in line)
        assert "✓ fired:" in fired or "matches every day" in fired
        assert "(is " in steps or "matches every day" in fired  # the clause's value
        # g, a date, enter: that day.
        await pilot.press("g")
        field = screen.query_one("#selector-date", Input)
        assert screen.focused is field
        field.value = ""
        await pilot.press(*"2025-06-15", "enter")
        await pilot.pause()
        assert "2025-06-15" in static_text(screen.query_one("#selector-head", Static))
        assert screen.focused is screen.query_one("#selector-body") and not screen.has_class("-dating")
        await pilot.press("end")
        assert "latest day with data" in static_text(screen.query_one("#selector-head", Static))
        # A bad date says so and keeps the field open; escape closes it, not the screen.
        await pilot.press("g")
        field.value = "junk"
        await pilot.press("enter")
        assert any(n[0] == "Go to date" for n in app.notes) and screen.has_class("-dating")
        await pilot.press("escape")
        assert isinstance(app.screen, SelectorScreen) and not screen.has_class("-dating")


async def test_harvested_source_opens_on_the_latest_day_with_data(tmp_path, real_dir):
    """Harvested chains end weeks after the daily bars: the days after carry almost no
    sensor, so the screen opens on the last daily bar, not on the last snapshot."""
    app = make_app(tmp_path, data_dir=real_dir)
    async with app.run_test(size=(120, 40)) as pilot:
        app.set_config(app.config.with_values(source="harvested"))
        await press_and_settle(pilot, "5")
        head = static_text(app.screen.query_one("#selector-head", Static))
        assert "2025-11-" in head and "latest day with data" in head, head
        await pilot.press("right_square_bracket", "right_square_bracket")
        assert "after the latest day with data" in screen_text(app)


def test_a_day_without_the_core_sensor_says_so_in_the_waterfall():
    from greg_tui.widgets.selector.render import waterfall_table
    from tests.app.support import rich_text

    decision = evaluate_sample({"adx_14d": 12.0}, policy="ignore-missing")
    assert not decision.evaluable
    text = rich_text(waterfall_table(decision), width=160)
    assert "not evaluated: vrp_30d missing" in text and "fired" not in text


async def test_at_80x24_the_page_scrolls_back_to_the_verdict(tmp_path):
    """pgdn reads the waterfall below the fold; home brings the verdict back (the sensor table
    never takes the page's keys)."""
    from textual.containers import VerticalScroll

    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await press_and_settle(pilot, "5")
        body = app.screen.query_one("#selector-body", VerticalScroll)
        assert body.max_scroll_y > 0  # the page is taller than the terminal

        async def page_down_then_home(*before: str) -> None:
            await pilot.press(*before, "pagedown", "pagedown")
            await pilot.pause()
            assert body.scroll_y > 0
            await pilot.press("home")
            await pilot.pause()
            assert body.scroll_y == 0

        await page_down_then_home("tab", "tab")
        # After going to a date the page keys still work (the closed field left no focus).
        day = f"{app.screen._span.sensors.index[-40]:%Y-%m-%d}"
        await pilot.press("g", *(["backspace"] * 10), *day, "enter")
        await pilot.pause()
        await page_down_then_home()
        assert static_text(app.screen.query_one("#decision-head", Static)).strip()
