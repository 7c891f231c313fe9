"""What happened next (issue 9): a day's forward outcomes in the selector, computed once per
loaded span (greg_tui.widgets.selector.span), "not known yet" where the future window is not
in the data, and the trust label (real data, or the synthetic model's realism verdict)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
from textual.widgets import Static

from backtest.regimes.realism import verdict_from_provenance
from backtest.selector.evaluate import evaluate_sample
from backtest.sensors.sources import SensorData
from greg_core.contract import RAW_COLUMNS, SENSOR_NAMES
from greg_tui.screens.selector import SelectorScreen
from greg_tui.widgets.selector.render import decision_table, next_outcome_text
from greg_tui.widgets.selector.span import SpanKey, load_span, outcome_trust_for, span_from_data
from synthetic.regime_model import load_regime_model
from tests.app.support import make_app, press_and_settle, rich_text, static_text, wait_until

HORIZON = 4
DAYS = 12
STEP = math.log(1.01)  # the closes alternate 100, 101: every log return is +-STEP


def zigzag_span():
    """12 days of closes 100, 101, 100, ... with iv_30d 60 (a real source): over any 4 days
    the returns are +a, -a, +a, -a, so RV = a * sqrt(4/3) (s.d., ddof=1) * sqrt(365) * 100."""
    index = pd.date_range("2025-01-01", periods=DAYS, freq="D", tz="UTC")
    frame = pd.DataFrame({c: np.nan for c in (*RAW_COLUMNS, *SENSOR_NAMES)}, index=index)
    close = np.where(np.arange(DAYS) % 2 == 0, 100.0, 101.0)
    for column in ("open", "high", "low", "close"):
        frame[column] = close
    frame["iv_30d"] = 60.0
    frame["vrp_30d"], frame["adx_14d"] = 5.0, 10.0
    data = SensorData("BTC", "csv", frame, "hand-made zigzag")
    return span_from_data(SpanKey("BTC", "csv", None, None, HORIZON), data)


def test_a_days_edge_is_iv_minus_the_vol_realized_after_it():
    span = zigzag_span()
    expected = 60.0 - STEP * math.sqrt(4 / 3) * math.sqrt(365) * 100  # 38.05 vol points
    first = span.next_outcome(0)
    assert first.known and first.edge is not None
    assert abs(first.edge - expected) < 1e-6 and abs(first.realized_vol - (60.0 - expected)) < 1e-6
    assert first.ends == pd.Timestamp("2025-01-05", tz="UTC")
    # Day 8 (Jan 8) closes its window on the last day; the 4 days after it do not.
    assert span.next_outcome(DAYS - 1 - HORIZON).known
    for position in range(DAYS - HORIZON, DAYS):
        outcome = span.next_outcome(position)
        assert not outcome.known and outcome.edge is None
        assert all(not s.known and s.pnl is None for s in outcome.structures.values()
                   if s.holding_days >= HORIZON)
    assert span.trust.label == "real outcomes" and not span.trust.model


def test_next_outcome_text_gives_the_edge_or_says_not_known_yet():
    span = zigzag_span()
    values = span.sensors.iloc[0].to_dict()
    decision = evaluate_sample(values, policy="ignore-missing")
    text = rich_text(next_outcome_text(span.next_outcome(0), decision, span.trust), width=160)
    assert "What happened next (4 days): real outcomes" in text
    assert "edge_4d +38.0 vol pts = iv_30d 60.0 at entry - realized vol 22.0 to 2025-01-05" in text
    last = rich_text(next_outcome_text(span.next_outcome(DAYS - 1), decision, span.trust), width=160)
    assert "edge_4d not known yet (to 2025-01-16; the data ends 2025-01-12)" in last
    # Each strategy's row says what its structure made (the straddle: a known, finite P&L).
    table = rich_text(decision_table(decision, outcome=span.next_outcome(0)), width=160)
    straddle = span.next_outcome(0).structures["STRATEGY_A_STRADDLE"]
    assert f"{straddle.pnl:+.2f}% of spot unhedged, {straddle.hedged:+.2f}% hedged" in table
    later = rich_text(decision_table(decision, outcome=span.next_outcome(DAYS - 1)), width=160)
    assert "not known yet" in later


def test_synthetic_outcomes_carry_the_realism_verdict(tmp_path: Path):
    data = SensorData("BTC", "synthetic", zigzag_span().sensors, "synthetic stand-in",
                      {"source": "synthetic", "regimes": "built-in"})
    model = load_regime_model("BTC", tmp_path / "none.json")  # the built-in model and its verdict
    verdict = verdict_from_provenance(model)
    trust = outcome_trust_for(data, model)
    assert trust.model and trust.label == verdict.label
    assert trust.label in ("model outcomes, realism: pass", "model outcomes, realism: fail")
    derived = outcome_trust_for(data, load_regime_model("ETH", tmp_path / "none.json"))
    assert derived.label == "model outcomes, realism: not judged (BTC-derived)" and "BTC-derived" in derived.realism


async def test_selector_shows_what_happened_next(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await press_and_settle(pilot, "5")
        screen = app.screen
        assert isinstance(screen, SelectorScreen)
        sensors = screen._span.sensors
        model = load_regime_model("BTC", app.regime_file)
        label = verdict_from_provenance(model).label
        # The latest day: its 30 days are not in the data.
        nxt = static_text(screen.query_one("#decision-next", Static), width=160)
        assert f"What happened next (30 days): {label}" in nxt and "edge_30d not known yet" in nxt
        # 40 days back: the edge, computed here from the closes and iv_30d by hand.
        for _ in range(40):
            await pilot.press("left_square_bracket")
        position = screen.position
        close = sensors["close"].to_numpy(dtype=float)
        returns = np.diff(np.log(close[position : position + 31]))
        edge = sensors["iv_30d"].iloc[position] - returns.std(ddof=1) * math.sqrt(365) * 100
        nxt = static_text(screen.query_one("#decision-next", Static), width=160)
        assert f"edge_30d {edge:+.1f} vol pts" in nxt, nxt
        assert f"to {sensors.index[position] + pd.Timedelta(days=30):%Y-%m-%d}" in nxt


def test_a_span_is_loaded_once_until_its_regime_file_changes(tmp_path: Path):
    regime_file = tmp_path / "greg_regimes.json"
    key = SpanKey("BTC", "synthetic", None, regime_file, 30, lookback_days=200)
    first = load_span(key)
    assert load_span(key) is first  # the selector and the series share it
    assert len(first.sensors) == 200 and first.horizon_days == 30
    assert list(first.outcomes.index) == list(first.sensors.index)
    regime_file.write_text("{}")  # a rebuilt (here: unusable) regime file: read again
    assert load_span(key) is not first


async def test_coming_back_after_the_regime_file_changed_reloads(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("5")
        await wait_until(pilot, lambda: getattr(app.screen, "_span", None) is not None, what="the span")
        screen = app.screen
        first = screen._span
        await pilot.press("1")
        await press_and_settle(pilot, "5")
        assert screen._span is first  # nothing changed: the same span, the same day
        await pilot.press("1")
        app.regime_file.write_text("{}")  # rebuilt meanwhile (here: unusable, so the defaults)
        await pilot.press("5")
        await wait_until(pilot, lambda: screen._span is not first, what="the reload")


def test_a_cancelled_load_stops_between_steps():
    data = zigzag_span().data
    assert span_from_data(SpanKey("BTC", "csv", None, None, HORIZON), data, cancelled=lambda: True) is None
