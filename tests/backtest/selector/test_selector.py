"""Greg selector: spec parsing, per-sample decisions, missing policies, and the vectorized twin.

Hand-made samples are built from CALM (a sample no step but DEFAULT accepts) so each test
states only the sensors that matter for it.
"""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backtest.selector.evaluate import (
    NOT_EVALUABLE,
    evaluate_frame,
    evaluate_greg_strategy_for_sample,
    evaluate_sample,
    parse_missing_policy,
    resolve_strategy,
    strategy_label,
)
from backtest.selector.spec import (
    DEFAULT_SPEC_PATH,
    NO_TRADE,
    Abs,
    Always,
    And,
    Compare,
    Constant,
    Negate,
    Or,
    Scale,
    Sensor,
    load_selector_spec,
    parse_condition,
    selector_spec_from_dict,
)
from greg_core.contract import SENSOR_NAMES
from greg_core.errors import SelectorSpecError

STRATEGY_LABELS = dict(load_selector_spec().strategies)
STRATEGY_KEYS = tuple(STRATEGY_LABELS)

SPEC = load_selector_spec()
V8 = json.loads(DEFAULT_SPEC_PATH.read_text())

CALM = {
    "adx_14d": 25.0,
    "chop_factor_7d": 0.7,
    "term_structure_spread": -1.0,
    "front_rv_iv_ratio": 1.0,
    "vrp_7d": 0.0,
    "iv_rank_6m": 0.5,
    "vrp_30d": 1.0,
    "skew_25d": 0.0,
    "rsi_14d": 50.0,
    "price_vs_ma200": 5.0,
}
STRADDLE = {**CALM, "vrp_30d": 16.0, "chop_factor_7d": 0.5, "adx_14d": 15.0, "skew_25d": 1.0}


def sample(**overrides: float | None) -> dict[str, float | None]:
    return {**CALM, **overrides}


def spec_with(**changes) -> dict:
    """A deep copy of the v8 spec dict with top-level/ calibration overrides."""
    data = copy.deepcopy(V8)
    for key, value in changes.items():
        if key in data["calibration"]:
            data["calibration"][key] = value
        else:
            data[key] = value
    return data


# --------------------------------------------------------------------------- spec & parser


def test_v8_spec_loads_every_step_in_order():
    assert [(s.index, s.name) for s in SPEC.steps] == [
        ("1", "SAFETY_FILTER"),
        ("2", "CALENDAR_CHECK"),
        ("3", "EXTREME_VOL_CHECK"),
        ("4", "STRADDLE_CHECK"),
        ("5", "STRANGLE_CHECK"),
        ("6", "ACCUMULATION_CHECK"),
        ("7a", "DIRECTIONAL_SPREAD_CHECK"),
        ("7b", "DIRECTIONAL_SPREAD_CHECK"),
        ("8", "DEFAULT"),
    ]
    assert [s.outcome for s in SPEC.steps] == [
        NO_TRADE,
        "STRATEGY_B_CALENDAR",
        "STRATEGY_D_IRON_BUTTERFLY",
        "STRATEGY_A_STRADDLE",
        "STRATEGY_A_STRANGLE",
        "STRATEGY_C_SHORT_PUT",
        "STRATEGY_F_BULL_PUT_SPREAD",
        "STRATEGY_F_BEAR_CALL_SPREAD",
        NO_TRADE,
    ]
    assert all(step.reasoning for step in SPEC.steps)
    assert isinstance(SPEC.steps[-1].condition_tree, Always)
    assert load_selector_spec() is SPEC  # cached


def test_v8_conditions_match_product_table_thresholds():
    resolved = {step.index: step.condition_tree.to_text(resolved=True) for step in SPEC.steps}
    assert resolved == {
        "1": "adx_14d > 35 OR chop_factor_7d > 0.85",
        "2": "term_structure_spread > 5 AND front_rv_iv_ratio < 0.8 AND vrp_7d > 5",
        "3": "iv_rank_6m > 0.8 AND vrp_30d > 10",
        "4": "vrp_30d > 15 AND chop_factor_7d < 0.6 AND adx_14d < 20 AND ABS(skew_25d) < 4",
        "5": "vrp_30d >= 10 AND chop_factor_7d < 0.8 AND adx_14d < 30 AND ABS(skew_25d) < 4",
        "6": "skew_25d > 4 AND price_vs_ma200 > 0 AND vrp_30d > 2",
        "7a": "skew_25d > 4 AND rsi_14d < 30 AND vrp_30d > 2",
        "7b": "skew_25d < -4 AND rsi_14d > 70 AND vrp_30d > 2",
        "8": "always",
    }
    # Calibration names survive for display.
    assert SPEC.steps[0].condition_tree.to_text() == SPEC.steps[0].condition_text


def test_calibration_block_is_flattened_with_dotted_names():
    assert SPEC.calibration["rsi_thresholds.lower"] == 30
    assert SPEC.calibration["rsi_thresholds.upper"] == 70
    assert SPEC.calibration["safety_chop_high"] == 0.85
    assert SPEC.calibration["iron_fly_iv_rank_min"] == 0.80
    assert len(SPEC.calibration) == 18
    assert set(SPEC.sensors_used) <= set(SENSOR_NAMES)


def test_tree_shapes():
    step_7b = SPEC.steps[7].condition_tree
    assert step_7b.children[0] == Compare(
        Sensor("skew_25d"), "<", Negate(Constant(4.0, "skew_neutral_threshold"))
    )
    straddle = SPEC.step_for("STRATEGY_A_STRADDLE").condition_tree
    assert straddle.children[3] == Compare(
        Abs(Sensor("skew_25d")), "<", Constant(4.0, "skew_neutral_threshold")
    )
    tree = parse_condition("adx_14d > 3 AND (vrp_30d > -2.5 OR (rv_7d * 2) <= .5)")
    assert tree == And(
        (
            Compare(Sensor("adx_14d"), ">", Constant(3.0)),
            Or(
                (
                    Compare(Sensor("vrp_30d"), ">", Constant(-2.5)),
                    Compare(Scale(Sensor("rv_7d"), 2.0), "<=", Constant(0.5)),
                )
            ),
        )
    )
    assert parse_condition("ALWAYS") == Always()
    assert parse_condition("adx_14d > 3 and rsi_14d == 50") == parse_condition(
        "adx_14d > 3 AND rsi_14d == 50"
    )


def load_error(step_name: str, condition: str) -> str:
    data = copy.deepcopy(V8)
    step = next(s for s in data["steps"] if s["name"] == step_name)
    step["condition"] = condition
    with pytest.raises(SelectorSpecError) as error:
        selector_spec_from_dict(data, source="test.json")
    return str(error.value)


def test_unknown_name_names_step_token_and_valid_sensors():
    message = load_error("STRADDLE_CHECK", "vrp_300d > 3")
    assert message.startswith("step STRADDLE_CHECK: unknown name 'vrp_300d' at column 1")
    assert "vrp_30d" in message and "valid sensors" in message


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ("adx_14d >> 3", "unknown operator '>>' at column 9"),
        ("(adx_14d > 3", "unbalanced '(' at column 1"),
        ("adx_14d > 3)", "unbalanced ')' at column 12"),
        ("adx_14d >", "missing operand at end of condition"),
        ("> 3", "found '>' at column 1"),
        ("adx_14d > 3 AND", "missing operand at end of condition"),
        ("ABS(skew_25d < 4", "expected ')' closing ABS( at column 1, found '<' at column 14"),
        ("adx_14d > 3 rsi_14d < 2", "found 'rsi_14d' at column 13"),
        ("adx_14d = 3", "unknown operator '='"),
        ("adx_14d % 3", "unexpected character '%' at column 9"),
        ("(adx_14d * rsi_14d) > 3", "'*' at column 10 needs a number"),
        ("", "missing or empty 'condition'"),
    ],
)
def test_syntax_errors_name_step_and_token(condition, expected):
    message = load_error("SAFETY_FILTER", condition)
    assert message.startswith("step SAFETY_FILTER: ")
    assert expected in message


def test_shared_step_names_are_told_apart_by_index():
    message = load_error("DIRECTIONAL_SPREAD_CHECK", "rsi > 3")  # hits 7a, the first one
    assert message.startswith("step DIRECTIONAL_SPREAD_CHECK (7a): unknown name 'rsi'")


def test_unknown_outcome_and_duplicate_steps():
    data = copy.deepcopy(V8)
    data["steps"][3]["outcome"] = "STRATEGY_Z"
    with pytest.raises(
        SelectorSpecError, match="step STRADDLE_CHECK: unknown outcome 'STRATEGY_Z'"
    ):
        selector_spec_from_dict(data)

    data = copy.deepcopy(V8)
    data["steps"].insert(2, copy.deepcopy(data["steps"][1]))
    with pytest.raises(SelectorSpecError, match="duplicate step index '2'"):
        selector_spec_from_dict(data)

    data = copy.deepcopy(V8)
    data["steps"][4]["outcome"] = "STRATEGY_A_STRADDLE"
    with pytest.raises(
        SelectorSpecError, match="step STRANGLE_CHECK: duplicate step for STRATEGY_A_STRADDLE"
    ):
        selector_spec_from_dict(data)


def test_bad_calibration_is_rejected():
    with pytest.raises(
        SelectorSpecError, match="calibration 'safety_adx_high' must be a finite number"
    ):
        selector_spec_from_dict(spec_with(safety_adx_high="35"))
    with pytest.raises(  # too large for a float: not an OverflowError out of math.isfinite
        SelectorSpecError, match="calibration 'safety_adx_high' must be a finite number"
    ):
        selector_spec_from_dict(spec_with(safety_adx_high=10**400))


def test_bad_json_file_names_the_file(tmp_path: Path):
    path = tmp_path / "broken_spec.json"
    path.write_text('{"calibration": {"a": 1,}')
    with pytest.raises(SelectorSpecError, match="broken_spec.json is not valid JSON") as error:
        load_selector_spec(path)
    assert isinstance(error.value, ValueError)
    with pytest.raises(SelectorSpecError, match="cannot read selector spec .*missing.json"):
        load_selector_spec(tmp_path / "missing.json")


def test_spec_file_round_trip(tmp_path: Path):
    path = tmp_path / "custom.json"
    path.write_text(json.dumps(spec_with(version="custom", straddle_vrp_min=12)))
    custom = load_selector_spec(path)
    assert custom.version == "custom"
    assert custom.source == "custom.json"
    decision = evaluate_sample({**STRADDLE, "vrp_30d": 13.0}, custom)
    assert decision.selected_key == "STRATEGY_A_STRADDLE"
    assert evaluate_sample({**STRADDLE, "vrp_30d": 13.0}).selected_key == "STRATEGY_A_STRANGLE"


# --------------------------------------------------------------------------- labels & policy


def test_strategy_labels_and_resolution():
    assert STRATEGY_KEYS == (
        "STRATEGY_B_CALENDAR",
        "STRATEGY_D_IRON_BUTTERFLY",
        "STRATEGY_A_STRADDLE",
        "STRATEGY_A_STRANGLE",
        "STRATEGY_C_SHORT_PUT",
        "STRATEGY_F_BULL_PUT_SPREAD",
        "STRATEGY_F_BEAR_CALL_SPREAD",
    )
    assert STRATEGY_LABELS["STRATEGY_A_STRANGLE"] == "Strategy B: OTM Strangle"
    assert resolve_strategy("STRATEGY_A_STRADDLE") == "STRATEGY_A_STRADDLE"
    assert resolve_strategy("strategy_a_straddle") == "STRATEGY_A_STRADDLE"
    assert resolve_strategy("Strategy A: ATM Straddle") == "STRATEGY_A_STRADDLE"
    assert resolve_strategy("  strategy a:   atm STRADDLE ") == "STRATEGY_A_STRADDLE"
    assert resolve_strategy("Strategy B: OTM Strangle") == "STRATEGY_A_STRANGLE"
    assert strategy_label("STRATEGY_C_SHORT_PUT") == "Strategy C: Short Put Accumulation"
    assert strategy_label(NO_TRADE) == "No trade"
    with pytest.raises(ValueError, match="unknown strategy 'Strategy Z'; choose one of: ") as error:
        resolve_strategy("Strategy Z")
    assert "\n" not in str(error.value)
    assert "Strategy F: Bear Call Spread" in str(error.value)


def test_parse_missing_policy():
    assert parse_missing_policy("strict") == "strict"
    assert parse_missing_policy(" Ignore_Missing ") == "ignore-missing"
    with pytest.raises(ValueError, match="choose one of: strict, ignore-missing"):
        parse_missing_policy("lenient")
    with pytest.raises(ValueError):
        evaluate_sample(CALM, policy="lenient")


# --------------------------------------------------------------------------- per-sample decisions


@pytest.mark.parametrize(
    ("metrics", "key", "step_index"),
    [
        (sample(adx_14d=40.0), NO_TRADE, "1"),
        (sample(chop_factor_7d=0.9), NO_TRADE, "1"),
        (
            sample(term_structure_spread=6.0, front_rv_iv_ratio=0.5, vrp_7d=6.0),
            "STRATEGY_B_CALENDAR",
            "2",
        ),
        (sample(iv_rank_6m=0.9, vrp_30d=12.0), "STRATEGY_D_IRON_BUTTERFLY", "3"),
        (STRADDLE, "STRATEGY_A_STRADDLE", "4"),
        (sample(vrp_30d=12.0, skew_25d=2.0), "STRATEGY_A_STRANGLE", "5"),
        (sample(skew_25d=5.0, price_vs_ma200=3.0, vrp_30d=3.0), "STRATEGY_C_SHORT_PUT", "6"),
        (
            sample(skew_25d=5.0, price_vs_ma200=-3.0, rsi_14d=25.0, vrp_30d=3.0),
            "STRATEGY_F_BULL_PUT_SPREAD",
            "7a",
        ),
        (sample(skew_25d=-5.0, rsi_14d=75.0, vrp_30d=3.0), "STRATEGY_F_BEAR_CALL_SPREAD", "7b"),
        (CALM, NO_TRADE, "8"),
        # Boundaries: strict inequalities exclude the threshold, >= includes it.
        ({**STRADDLE, "vrp_30d": 15.0}, "STRATEGY_A_STRANGLE", "5"),
        (sample(vrp_30d=10.0), "STRATEGY_A_STRANGLE", "5"),
        (sample(vrp_30d=12.0, skew_25d=4.0), NO_TRADE, "8"),
        (sample(adx_14d=35.0, chop_factor_7d=0.85), NO_TRADE, "8"),
        (sample(skew_25d=-4.0, rsi_14d=75.0, vrp_30d=3.0), NO_TRADE, "8"),
    ],
)
def test_each_step_and_outcome(metrics, key, step_index):
    decision = evaluate_sample(metrics)
    assert (decision.selected_key, decision.step_index) == (key, step_index)
    step = next(s for s in SPEC.steps if s.index == step_index)
    assert decision.step_name == step.name
    assert decision.reasoning == step.reasoning
    assert decision.selected_label == ("No trade" if key == NO_TRADE else STRATEGY_LABELS[key])
    selected = [s.key for s in decision.strategies if s.selected]
    assert selected == ([] if key == NO_TRADE else [key])


def test_statuses_selected_blocked_and_failing():
    decision = evaluate_sample(STRADDLE)
    straddle = decision.status("STRATEGY_A_STRADDLE")
    assert (straddle.passes, straddle.selected, straddle.status, straddle.blocked_by) == (
        True,
        True,
        "selected",
        None,
    )
    strangle = decision.status("Strategy B: OTM Strangle")
    assert (strangle.passes, strangle.selected, strangle.blocked_by) == (
        True,
        False,
        "STRADDLE_CHECK",
    )
    assert strangle.status == "blocked by STRADDLE_CHECK"
    calendar = decision.status("STRATEGY_B_CALENDAR")
    assert (calendar.passes, calendar.status, calendar.blocked_by) == (False, "fails", None)
    assert [s.key for s in decision.strategies] == list(STRATEGY_KEYS)

    # The straddle's own condition still holds, but an earlier step wins.
    fly = evaluate_sample({**STRADDLE, "iv_rank_6m": 0.9})
    assert fly.selected_key == "STRATEGY_D_IRON_BUTTERFLY"
    assert fly.status("STRATEGY_A_STRADDLE").status == "blocked by EXTREME_VOL_CHECK"

    put = evaluate_sample(sample(skew_25d=5.0, price_vs_ma200=3.0, vrp_30d=3.0, adx_14d=40.0))
    assert put.selected_key == NO_TRADE and put.step_name == "SAFETY_FILTER"
    assert put.status("STRATEGY_C_SHORT_PUT").blocked_by == "SAFETY_FILTER"


def test_straddle_blocked_by_safety_filter_with_tighter_calibration():
    # With v8 thresholds a straddle market can never trip the safety filter (adx < 20 vs
    # > 35), so tighten the filter to see the block.
    tight = selector_spec_from_dict(spec_with(safety_adx_high=10))
    decision = evaluate_sample(STRADDLE, tight)
    assert decision.step_name == "SAFETY_FILTER"
    straddle = decision.status("STRATEGY_A_STRADDLE")
    assert straddle.passes and not straddle.selected
    assert straddle.status == "blocked by SAFETY_FILTER"


def test_criteria_and_score():
    decision = evaluate_sample({**STRADDLE, "skew_25d": -6.0, "adx_14d": 22.0})
    straddle = decision.status("STRATEGY_A_STRADDLE")
    assert [
        (c.text, c.sensor, c.value, c.op, c.threshold, c.ok, c.missing) for c in straddle.criteria
    ] == [
        ("vrp_30d > 15", "vrp_30d", 16.0, ">", 15.0, True, False),
        ("chop_factor_7d < 0.6", "chop_factor_7d", 0.5, "<", 0.6, True, False),
        ("adx_14d < 20", "adx_14d", 22.0, "<", 20.0, False, False),
        ("ABS(skew_25d) < 4", "skew_25d", 6.0, "<", 4.0, False, False),
    ]
    assert straddle.score == 0.5 and not straddle.passes
    bear = decision.status("STRATEGY_F_BEAR_CALL_SPREAD")
    assert bear.criteria[0].text == "skew_25d < -4"
    assert (bear.criteria[0].value, bear.criteria[0].threshold, bear.criteria[0].ok) == (
        -6.0,
        -4.0,
        True,
    )
    assert bear.score == pytest.approx(2 / 3)


def test_as_dict_is_json_friendly():
    decision = evaluate_greg_strategy_for_sample(
        sample(skew_25d=None), "BTC", policy="ignore-missing"
    )
    data = decision.as_dict()
    assert data["underlying"] == "BTC" and data["policy"] == "ignore-missing"
    text = json.dumps(data, allow_nan=False)
    assert json.loads(text)["strategies"][2]["criteria"][3]["value"] is None


# --------------------------------------------------------------------------- missing policies


def test_missing_skew_strict_fails_straddle():
    for missing in (None, math.nan, math.inf, -math.inf, "n/a"):
        decision = evaluate_sample({**STRADDLE, "skew_25d": missing})
        straddle = decision.status("STRATEGY_A_STRADDLE")
        assert not straddle.passes
        assert straddle.criteria[3].missing and not straddle.criteria[3].ok
        assert straddle.score == 0.75  # missing counts as unmet
        assert decision.selected_key == NO_TRADE


def test_missing_skew_ignore_missing_passes_on_remaining_criteria():
    metrics = {k: v for k, v in STRADDLE.items() if k != "skew_25d"}  # absent key = missing
    decision = evaluate_sample(metrics, policy="ignore-missing")
    straddle = decision.status("STRATEGY_A_STRADDLE")
    assert straddle.passes and straddle.selected
    assert straddle.score == 1.0  # the missing criterion leaves the denominator
    assert decision.policy == "ignore-missing"


def test_group_whose_only_comparisons_are_missing_is_false():
    # Safety filter: both comparisons missing -> the OR group is empty -> False (no block).
    metrics = {**STRADDLE, "adx_14d": None, "chop_factor_7d": None}
    decision = evaluate_sample(metrics, policy="ignore-missing")
    assert decision.step_name != "SAFETY_FILTER"
    # Iron fly: both of its sensors missing -> empty AND group -> False.
    fly = evaluate_sample(sample(iv_rank_6m=None, vrp_30d=None), policy="ignore-missing")
    assert not fly.status("STRATEGY_D_IRON_BUTTERFLY").passes
    assert fly.status("STRATEGY_D_IRON_BUTTERFLY").score == 0.0


def test_nested_group_left_empty_is_false_not_dropped():
    data = spec_with()
    data["steps"][1]["condition"] = "vrp_7d > 5 AND (rsi_14d > 90 OR adx_14d > 90)"
    spec = selector_spec_from_dict(data)
    metrics = sample(vrp_7d=6.0, rsi_14d=None, adx_14d=None)
    # The inner OR has nothing left -> False, so the AND is False.
    assert not evaluate_sample(metrics, spec, "ignore-missing").status("STRATEGY_B_CALENDAR").passes
    # Flat AND: the missing comparison is simply dropped.
    data["steps"][1]["condition"] = "vrp_7d > 5 AND rsi_14d > 90"
    flat = selector_spec_from_dict(data)
    assert evaluate_sample(metrics, flat, "ignore-missing").status("STRATEGY_B_CALENDAR").passes
    for candidate in (spec, flat):
        frame = evaluate_frame(pd.DataFrame([metrics]), candidate, "ignore-missing")
        expected = evaluate_sample(metrics, candidate, "ignore-missing")
        assert (
            frame.passes_for("STRATEGY_B_CALENDAR")[0]
            == expected.status("STRATEGY_B_CALENDAR").passes
        )


def test_top_level_single_comparison_dropped_is_false():
    data = spec_with()
    data["steps"][1]["condition"] = "vrp_7d > 5"
    spec = selector_spec_from_dict(data)
    metrics = sample(vrp_7d=None)
    assert not evaluate_sample(metrics, spec, "ignore-missing").status("STRATEGY_B_CALENDAR").passes
    assert not evaluate_frame(pd.DataFrame([metrics]), spec, "ignore-missing").passes[0, 0]


# --------------------------------------------------------------------------- vectorized


def test_frame_matches_hand_made_samples():
    rows = [
        CALM,
        STRADDLE,
        sample(adx_14d=40.0),
        sample(iv_rank_6m=0.9, vrp_30d=12.0),
        sample(skew_25d=-5.0, rsi_14d=75.0, vrp_30d=3.0),
    ]
    frame = evaluate_frame(pd.DataFrame(rows))
    assert list(frame.selected_keys()) == [
        NO_TRADE,
        "STRATEGY_A_STRADDLE",
        NO_TRADE,
        "STRATEGY_D_IRON_BUTTERFLY",
        "STRATEGY_F_BEAR_CALL_SPREAD",
    ]
    assert list(frame.selected_step_names()) == [
        "DEFAULT",
        "STRADDLE_CHECK",
        "SAFETY_FILTER",
        "EXTREME_VOL_CHECK",
        "DIRECTIONAL_SPREAD_CHECK",
    ]
    assert frame.selected.tolist() == [7, 2, 7, 1, 6]
    assert frame.outcomes[7] == NO_TRADE
    assert frame.selected_mask("Strategy A: ATM Straddle").tolist() == [
        False,
        True,
        False,
        False,
        False,
    ]
    assert frame.selected_mask(NO_TRADE).sum() == 2
    assert frame.passes.shape == frame.scores.shape == (5, 7)
    assert frame.passes_for("STRATEGY_A_STRANGLE")[1]  # passes, though blocked by the straddle
    assert frame.policy == "strict"


def test_frame_missing_column_is_all_missing():
    rows = pd.DataFrame([STRADDLE, STRADDLE]).drop(columns="skew_25d")
    assert (evaluate_frame(rows).selected_keys() == NO_TRADE).all()
    relaxed = evaluate_frame(rows, policy="ignore-missing")
    assert (relaxed.selected_keys() == "STRATEGY_A_STRADDLE").all()
    assert (relaxed.scores_for("STRATEGY_A_STRADDLE") == 1.0).all()


def test_frame_of_zero_rows():
    frame = evaluate_frame(pd.DataFrame(columns=list(SENSOR_NAMES), dtype=float))
    assert len(frame) == 0 and frame.passes.shape == (0, 7)


NEAR_THRESHOLD = sorted(
    {
        v
        for c in SPEC.calibration.values()
        for v in (c, -c, np.nextafter(c, np.inf), np.nextafter(c, -np.inf))
    }
)
MISSING_VALUES = [None, math.nan, math.inf, -math.inf]
value_strategy = st.one_of(
    st.sampled_from(NEAR_THRESHOLD),
    st.sampled_from(MISSING_VALUES),
    st.floats(min_value=-100, max_value=100, allow_nan=False),
    st.floats(allow_nan=True, allow_infinity=True),
)


@st.composite
def sensor_rows(draw):
    n_rows = draw(st.integers(min_value=1, max_value=12))
    present = draw(st.sets(st.sampled_from(SPEC.sensors_used), min_size=len(SPEC.sensors_used) - 3))
    rows = [{name: draw(value_strategy) for name in sorted(present)} for _ in range(n_rows)]
    as_object = draw(st.booleans())  # exercise both float64 and object columns
    return rows, as_object


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sensor_rows(), st.sampled_from(["strict", "ignore-missing"]))
def test_frame_and_sample_agree(rows_and_kind, policy):
    rows, as_object = rows_and_kind
    frame = pd.DataFrame(rows, columns=sorted(rows[0]))
    if as_object:
        frame = frame.astype(object)
    result = evaluate_frame(frame, policy=policy)
    for i, row in enumerate(rows):
        decision = evaluate_sample(row, policy=policy)
        assert result.selected_keys()[i] == decision.selected_key
        assert bool(result.evaluable[i]) == decision.evaluable
        position = int(result.step_position[i])
        if decision.evaluable:
            assert (SPEC.steps[position].name, SPEC.steps[position].index) == (
                decision.step_name,
                decision.step_index,
            )
        else:
            assert position == -1
        assert result.passes[i].tolist() == [s.passes for s in decision.strategies]
        assert result.scores[i].tolist() == [s.score for s in decision.strategies]


def test_frame_rejects_unknown_strategy_names():
    frame = evaluate_frame(pd.DataFrame([CALM]))
    with pytest.raises(ValueError, match="unknown strategy 'Strategy Z'; choose one of: "):
        frame.selected_mask("Strategy Z")


def test_ignore_missing_decides_per_sample_and_needs_the_core():
    # skew is missing on this row: its comparisons are dropped, the straddle day still sells.
    row = dict(STRADDLE, skew_25d=None)
    decision = evaluate_sample(row, policy="ignore-missing")
    assert decision.evaluable and decision.selected_key == "STRATEGY_A_STRADDLE"
    # Without vrp_30d (no implied vol) the day is not evaluable: no pick, no pass, not NO_TRADE.
    no_iv = dict(STRADDLE, skew_25d=None, vrp_30d=None)
    blind = evaluate_sample(no_iv, policy="ignore-missing")
    assert blind.selected_key == NOT_EVALUABLE and not blind.evaluable
    assert blind.missing_core == ("vrp_30d",) and "vrp_30d" in blind.reasoning
    assert not any(s.passes or s.selected for s in blind.strategies)
    assert {s.status for s in blind.strategies} == {"not evaluable"}
    frame = evaluate_frame(pd.DataFrame([row, no_iv]), policy="ignore-missing")
    assert frame.selected_keys().tolist() == [decision.selected_key, NOT_EVALUABLE]
    assert frame.evaluable.tolist() == [True, False]
    assert not frame.passes[1].any() and frame.step_position[1] == -1
    assert not frame.selected_mask(NO_TRADE)[1] and frame.selected_mask(NOT_EVALUABLE)[1]
    # strict keeps the spec's meaning: every row evaluable, a missing comparison is False.
    strict = evaluate_frame(pd.DataFrame([row, no_iv]), policy="strict")
    assert strict.evaluable.all() and strict.selected_keys()[1] == NO_TRADE
