"""Greg's decision waterfall: per-sample decisions (the bots table) and a vectorized twin.

Both evaluators read the same parsed spec (``backtest.selector.spec``) and share one
semantics (docs/selector.md), which the property tests check row by row:

* The first step whose condition holds picks the outcome (a strategy key or NO_TRADE).
* A sensor value is *missing* when it is absent, None, NaN, +-inf or not a number. A
  comparison is missing when any sensor it reads is missing.
* Missing policy ``strict`` (the spec's meaning): a missing comparison is False.
  ``ignore-missing``: a comparison on a sensor missing *in that sample* is *dropped* from its
  AND/OR group; a group left with nothing is False. This is three-valued logic (True / False
  / dropped); only comparisons can be dropped, every group yields True or False, and a
  dropped top-level comparison is False. A sample missing a *core* sensor
  (``CORE_SENSORS``: vrp_30d, the premium every strategy sells) is *not evaluable* under
  ignore-missing: it selects nothing, passes nothing and is never NO_TRADE; it is counted
  apart (``NOT_EVALUABLE``). Under ``strict`` every sample is evaluable.
* Per strategy: ``passes`` is its own step's condition under the policy, whatever earlier
  steps did; a strategy that passes but is not selected is *blocked by* the earlier step that
  matched. Its criteria are the comparisons of its condition; ``score`` is the fraction met
  (strict: missing criteria count as unmet; ignore-missing: they leave the denominator;
  0 when nothing is left).

Arithmetic is IEEE float64 in both paths (values are converted to float64 first), so
thresholds such as 0.8 compare identically in Python and in numpy.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from typing import Any, Literal, cast, get_args

import numpy as np
import pandas as pd

from backtest.selector.spec import (
    COMPARATORS,
    NO_TRADE,
    Abs,
    Always,
    And,
    Compare,
    Condition,
    Constant,
    Negate,
    Operand,
    Or,
    Scale,
    SelectorSpec,
    Sensor,
    comparison_sensors,
    fold,
    iter_comparisons,
    load_selector_spec,
    match_strategy,
)

__all__ = [
    "NO_TRADE",
    "NO_TRADE_LABEL",
    "NOT_EVALUABLE",
    "CORE_SENSORS",
    "MISSING_POLICIES",
    "MissingPolicy",
    "Criterion",
    "StrategyStatus",
    "StepCheck",
    "GregDecision",
    "SelectorFrame",
    "resolve_strategy",
    "strategy_label",
    "parse_missing_policy",
    "policy_note",
    "evaluate_sample",
    "evaluate_frame",
    "evaluate_greg_strategy_for_sample",
]

NO_TRADE_LABEL = "No trade"
NOT_EVALUABLE = "NOT_EVALUABLE"
NOT_EVALUABLE_LABEL = "Not evaluable"
# Under ignore-missing, a sample without these is not evaluable: dropping vrp_30d's comparisons
# would let a day without implied vol select a premium-selling strategy on trend rules alone.
CORE_SENSORS: tuple[str, ...] = ("vrp_30d",)

MissingPolicy = Literal["strict", "ignore-missing"]
MISSING_POLICIES: tuple[str, ...] = get_args(MissingPolicy)


def resolve_strategy(name: str, spec: SelectorSpec | None = None) -> str:
    """Strategy key for a key or label (case-insensitive, whitespace-tolerant)."""
    return (spec or load_selector_spec()).resolve_strategy(str(name))


def strategy_label(key: str, spec: SelectorSpec | None = None) -> str:
    """Display label for a strategy key (or NO_TRADE -> "No trade"); accepts labels too."""
    if key == NO_TRADE:
        return NO_TRADE_LABEL
    strategies = (spec or load_selector_spec()).strategies
    return strategies[resolve_strategy(key, spec)]


def parse_missing_policy(text: str) -> MissingPolicy:
    """'strict' or 'ignore-missing' (case-insensitive; '_' accepted for '-')."""
    folded = fold(str(text)).replace("_", "-")
    if folded in MISSING_POLICIES:
        return cast(MissingPolicy, folded)
    raise ValueError(
        f"unknown missing-sensor policy {text!r}; choose one of: {', '.join(MISSING_POLICIES)}"
    )


def policy_note(policy: str) -> str:
    """What a missing-sensor policy does, in one sentence (docs/selector.md)."""
    if policy == "ignore-missing":
        return (
            "ignore-missing drops comparisons on sensors missing in that sample; a sample without "
            f"{', '.join(CORE_SENSORS)} is not evaluable (counted apart, never NO_TRADE)"
        )
    return "strict: a comparison on a missing sensor is False"


# --------------------------------------------------------------------------- per sample


@dataclass(frozen=True)
class Criterion:
    """One comparison of a strategy's condition, as the bots table shows it."""

    text: str  # with thresholds as numbers, e.g. "ABS(skew_25d) < 4"
    sensor: str | None  # first sensor the comparison reads
    value: float | None  # left side evaluated (None when missing)
    op: str
    threshold: float | None  # right side evaluated (None when missing)
    ok: bool
    missing: bool


@dataclass(frozen=True)
class StrategyStatus:
    key: str
    label: str
    step_name: str
    step_index: str
    passes: bool
    selected: bool
    blocked_by: str | None  # the earlier step that matched, when this strategy passes too
    status: str  # "selected" | "blocked by STEP" | "fails" | "not evaluable"
    criteria: tuple[Criterion, ...]
    score: float


@dataclass(frozen=True)
class StepCheck:
    """One waterfall step on this sample: its rule (thresholds as numbers), whether it
    matched, and each comparison with its value (which clause fired, which failed)."""

    name: str
    index: str
    condition: str
    outcome: str
    matched: bool
    criteria: tuple[Criterion, ...]


@dataclass(frozen=True)
class GregDecision:
    selected_key: str  # strategy key, NO_TRADE or NOT_EVALUABLE
    selected_label: str
    step_name: str | None  # None only for a spec without a catch-all step when nothing matched
    step_index: str | None
    reasoning: str
    strategies: tuple[StrategyStatus, ...]
    policy: MissingPolicy = "strict"
    underlying: str | None = None
    missing_core: tuple[str, ...] = ()  # core sensors missing (ignore-missing: not evaluable)
    steps: tuple[StepCheck, ...] = ()  # every step in waterfall order

    @property
    def evaluable(self) -> bool:
        return not self.missing_core

    def status(self, strategy: str) -> StrategyStatus:
        """The status row of a strategy given by key or label."""
        position = match_strategy(strategy, ((row.key, row.label) for row in self.strategies))
        if position is None:
            raise KeyError(strategy)
        return self.strategies[position]

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly: plain dicts/lists, non-finite numbers as None."""
        return _json_friendly(asdict(self))


def _json_friendly(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _json_friendly(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_json_friendly(item) for item in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _finite_or_none(value: Any) -> float | None:
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


# The per-sample path runs in the bots table and in per-sample sweeps, so the spec is compiled
# once into closures (no tree walking, no text rendering per sample). Distinct comparisons get
# a slot; each sample evaluates every slot once and the conditions read slots.

SensorValues = Mapping[str, float | None]
OperandFn = Callable[[SensorValues], float | None]
ConditionFn = Callable[[list[bool | None]], bool | None]


def _compile_operand(node: Operand) -> OperandFn:
    """A closure computing the operand; it returns None when a sensor it reads is missing."""
    match node:
        case Constant(value=value):
            return lambda values: value
        case Sensor(name=name):
            return lambda values: values[name]
        case Abs(operand=inner):
            inner_fn = _compile_operand(inner)

            def absolute(values: SensorValues) -> float | None:
                x = inner_fn(values)
                return None if x is None else abs(x)

            return absolute
        case Negate(operand=inner):
            inner_fn = _compile_operand(inner)

            def negated(values: SensorValues) -> float | None:
                x = inner_fn(values)
                return None if x is None else -x

            return negated
        case Scale(operand=inner, factor=factor):
            inner_fn = _compile_operand(inner)

            def scaled(values: SensorValues) -> float | None:
                x = inner_fn(values)
                return None if x is None else x * factor

            return scaled
    raise TypeError(f"not an operand: {node!r}")


def _compile_condition(node: Condition, slot_of: Mapping[Compare, int]) -> ConditionFn:
    """A closure over per-slot truths (True / False / None = dropped) giving the node's truth."""
    match node:
        case Always():
            return lambda truths: True
        case Compare():
            slot = slot_of[node]
            return lambda truths: truths[slot]
        case And(children=children):
            parts = [_compile_condition(child, slot_of) for child in children]

            def all_kept(truths: list[bool | None]) -> bool:
                kept = [t for t in (part(truths) for part in parts) if t is not None]
                return bool(kept) and all(kept)

            return all_kept
        case Or(children=children):
            parts = [_compile_condition(child, slot_of) for child in children]

            def any_kept(truths: list[bool | None]) -> bool:
                kept = [t for t in (part(truths) for part in parts) if t is not None]
                return bool(kept) and any(kept)

            return any_kept
    raise TypeError(f"not a condition: {node!r}")


@dataclass(frozen=True)
class _CriterionTemplate:
    slot: int
    text: str
    sensor: str | None
    op: str


@dataclass(frozen=True)
class _SamplePlan:
    sensors: tuple[str, ...]
    comparisons: tuple[tuple[OperandFn, OperandFn, Callable[[Any, Any], Any]], ...]
    step_conditions: tuple[ConditionFn, ...]
    step_criteria: tuple[tuple[_CriterionTemplate, ...], ...]  # per step, spec order
    step_texts: tuple[str, ...]  # each step's whole condition, rendered once per spec


def _build_sample_plan(spec: SelectorSpec) -> _SamplePlan:
    slot_of: dict[Compare, int] = {}
    for step in spec.steps:
        for comparison in iter_comparisons(step.condition_tree):
            slot_of.setdefault(comparison, len(slot_of))
    comparisons = tuple(
        (_compile_operand(c.left), _compile_operand(c.right), COMPARATORS[c.op]) for c in slot_of
    )
    step_criteria = []
    for step in spec.steps:
        templates = []
        for comparison in iter_comparisons(step.condition_tree):
            sensors = comparison_sensors(comparison)
            templates.append(
                _CriterionTemplate(
                    slot=slot_of[comparison],
                    text=comparison.to_text(resolved=True),
                    sensor=sensors[0] if sensors else None,
                    op=comparison.op,
                )
            )
        step_criteria.append(tuple(templates))
    return _SamplePlan(
        sensors=spec.sensors_used,
        comparisons=comparisons,
        step_conditions=tuple(_compile_condition(s.condition_tree, slot_of) for s in spec.steps),
        step_criteria=tuple(step_criteria),
        step_texts=tuple(s.condition_tree.to_text(resolved=True) for s in spec.steps),
    )


# Plans keyed by spec identity; the spec is kept alongside so its id cannot be reused.
_SAMPLE_PLANS: dict[int, tuple[SelectorSpec, _SamplePlan]] = {}


def _sample_plan(spec: SelectorSpec) -> _SamplePlan:
    entry = _SAMPLE_PLANS.get(id(spec))
    if entry is None or entry[0] is not spec:
        if len(_SAMPLE_PLANS) >= 32:  # specs loaded from files in a loop must not pile up
            _SAMPLE_PLANS.clear()
        entry = (spec, _build_sample_plan(spec))
        _SAMPLE_PLANS[id(spec)] = entry
    return entry[1]


def _score(ok: int, counted: int) -> float:
    return ok / counted if counted else 0.0


def evaluate_sample(
    metrics: Mapping[str, Any],
    spec: SelectorSpec | None = None,
    policy: MissingPolicy | str = "strict",
    *,
    underlying: str | None = None,
) -> GregDecision:
    """Greg's decision for one sensor snapshot, with every strategy's status and criteria.

    Under ``ignore-missing`` a snapshot missing a core sensor is not evaluable: its criteria
    are still shown, but it selects nothing and its ``selected_key`` is ``NOT_EVALUABLE``."""
    spec = spec or load_selector_spec()
    policy = parse_missing_policy(policy)
    ignore_missing = policy == "ignore-missing"
    plan = _sample_plan(spec)
    values = {name: _finite_or_none(metrics.get(name)) for name in plan.sensors}
    missing_core = tuple(
        name for name in CORE_SENSORS if ignore_missing and _finite_or_none(metrics.get(name)) is None
    )
    dropped: list[bool] = []

    sides: list[tuple[float | None, float | None]] = []
    missing: list[bool] = []
    holds: list[bool] = []  # the comparison is true with both sides present
    truths: list[bool | None] = []  # what the conditions see under the policy
    for left_fn, right_fn, compare in plan.comparisons:
        left, right = left_fn(values), right_fn(values)
        sides.append((left, right))
        if left is None or right is None:
            drop = ignore_missing
            missing.append(True)
            dropped.append(drop)
            holds.append(False)
            truths.append(None if drop else False)
        else:
            missing.append(False)
            dropped.append(False)
            holds.append(bool(compare(left, right)))
            truths.append(holds[-1])

    # A dropped top-level comparison is None here, hence "is True".
    matched = [condition(truths) is True for condition in plan.step_conditions]
    winner: int | None = matched.index(True) if True in matched and not missing_core else None

    def criteria_of(templates: tuple[_CriterionTemplate, ...]) -> tuple[Criterion, ...]:
        return tuple(
            Criterion(
                text=t.text,
                sensor=t.sensor,
                value=sides[t.slot][0],
                op=t.op,
                threshold=sides[t.slot][1],
                ok=holds[t.slot],
                missing=missing[t.slot],
            )
            for t in templates
        )

    # Each step's criteria once: a strategy's are its step's, and the steps list shows them all.
    step_criteria = [criteria_of(templates) for templates in plan.step_criteria]
    statuses = []
    for key, label in spec.strategies.items():
        position = spec.step_position_for(key)
        templates = plan.step_criteria[position]
        step = spec.steps[position]
        passes = matched[position] and not missing_core
        selected = winner == position
        # Only an earlier step can take a passing strategy's place (first match wins).
        blocked = passes and not selected and winner is not None and winner < position
        blocked_by = spec.steps[winner].name if blocked and winner is not None else None
        status = (
            "not evaluable" if missing_core
            else "selected" if selected else f"blocked by {blocked_by}" if blocked_by else "fails"
        )
        criteria = step_criteria[position]
        counted = sum(not dropped[t.slot] for t in templates)
        score = _score(sum(c.ok for c in criteria), counted)
        statuses.append(
            StrategyStatus(
                key,
                label,
                step.name,
                step.index,
                passes,
                selected,
                blocked_by,
                status,
                criteria,
                score,
            )
        )

    winning_step = None if winner is None else spec.steps[winner]
    if missing_core:
        selected_key, selected_label = NOT_EVALUABLE, NOT_EVALUABLE_LABEL
        reasoning = f"not evaluable: {', '.join(missing_core)} missing (ignore-missing needs it)"
    else:
        selected_key = NO_TRADE if winning_step is None else winning_step.outcome
        selected_label = NO_TRADE_LABEL if selected_key == NO_TRADE else spec.strategies[selected_key]
        reasoning = "no step matched" if winning_step is None else winning_step.reasoning
    return GregDecision(
        selected_key=selected_key,
        selected_label=selected_label,
        step_name=None if winning_step is None else winning_step.name,
        step_index=None if winning_step is None else winning_step.index,
        reasoning=reasoning,
        strategies=tuple(statuses),
        policy=policy,
        underlying=underlying,
        missing_core=missing_core,
        steps=tuple(
            StepCheck(step.name, step.index, plan.step_texts[position], step.outcome,
                      matched[position], step_criteria[position])
            for position, step in enumerate(spec.steps)
        ),
    )


def evaluate_greg_strategy_for_sample(
    metrics: Mapping[str, Any],
    underlying: str,
    spec: SelectorSpec | None = None,
    policy: MissingPolicy | str = "strict",
) -> GregDecision:
    """The entry point the heatmap request names. The rules are the same for every underlying;
    ``underlying`` is only recorded on the decision."""
    return evaluate_sample(metrics, spec, policy, underlying=underlying)


# --------------------------------------------------------------------------- vectorized


@dataclass(frozen=True, eq=False)  # array fields: element-wise == would be misleading
class SelectorFrame:
    """Decisions for n rows at once.

    * ``step_position[i]``: index into ``steps`` of the first matching step (-1: none matched,
      possible only for a spec without a catch-all step).
    * ``selected[i]``: index into ``outcomes`` = strategy keys in spec order, then NO_TRADE,
      then NOT_EVALUABLE (so NO_TRADE is ``len(strategy_keys)``). With the v8 spec:
      0 STRATEGY_B_CALENDAR, 1 STRATEGY_D_IRON_BUTTERFLY, 2 STRATEGY_A_STRADDLE,
      3 STRATEGY_A_STRANGLE, 4 STRATEGY_C_SHORT_PUT, 5 STRATEGY_F_BULL_PUT_SPREAD,
      6 STRATEGY_F_BEAR_CALL_SPREAD, 7 NO_TRADE, 8 NOT_EVALUABLE.
    * ``evaluable[i]``: False where ignore-missing found a core sensor missing; such rows
      select NOT_EVALUABLE, pass nothing and have step position -1.
    * ``passes`` / ``scores``: shape (n, n_strategies), columns in ``strategy_keys`` order.
    * ``matched``: shape (n, n_steps), whether each step's condition holds.
    """

    policy: MissingPolicy
    strategy_keys: tuple[str, ...]
    strategy_labels: tuple[str, ...]
    outcomes: tuple[str, ...]
    step_names: tuple[str, ...]
    step_indexes: tuple[str, ...]
    step_position: np.ndarray
    selected: np.ndarray
    passes: np.ndarray
    scores: np.ndarray
    matched: np.ndarray
    evaluable: np.ndarray

    def __len__(self) -> int:
        return len(self.selected)

    def outcome_code(self, key: str) -> int:
        """Code of a strategy (key or label, resolved against this frame's keys), NO_TRADE or
        NOT_EVALUABLE."""
        if key in (NO_TRADE, NOT_EVALUABLE):
            return self.outcomes.index(key)
        code = match_strategy(key, zip(self.strategy_keys, self.strategy_labels, strict=True))
        if code is not None:
            return code
        choices = ", ".join(self.outcomes)
        raise ValueError(f"unknown strategy {key!r}; choose one of: {choices}")

    def selected_mask(self, key: str) -> np.ndarray:
        """Rows where ``key`` (strategy key/label or NO_TRADE) is Greg's pick."""
        return self.selected == self.outcome_code(key)

    def selected_keys(self) -> np.ndarray:
        """Selected outcome per row as an object array of keys."""
        return np.asarray(self.outcomes, dtype=object)[self.selected]

    def selected_step_names(self) -> np.ndarray:
        """Name of the deciding step per row (None where nothing matched)."""
        names = np.asarray([*self.step_names, None], dtype=object)
        return names[self.step_position]

    def passes_for(self, key: str) -> np.ndarray:
        return self.passes[:, self.outcome_code(key)]

    def scores_for(self, key: str) -> np.ndarray:
        return self.scores[:, self.outcome_code(key)]


def _column(frame: pd.DataFrame, name: str, n: int) -> np.ndarray:
    """A sensor column as float64 with NaN for anything missing; absent column -> all NaN.

    float64 matters: comparing float32 data with 0.8 would round the threshold to float32
    and disagree with the per-sample path."""
    if name not in frame.columns:
        return np.full(n, np.nan)
    column = frame[name]
    if isinstance(column, pd.DataFrame):
        raise ValueError(f"sensor column {name!r} appears more than once")
    if column.dtype == np.float64:
        return column.to_numpy()  # the common case: no copy
    if column.dtype == object or isinstance(column.dtype, pd.StringDtype):
        column = pd.to_numeric(column, errors="coerce")
    return column.to_numpy(dtype=np.float64, na_value=np.nan)


@dataclass(frozen=True)
class _ColumnComparison:
    ok: np.ndarray  # holds with both sides present
    present: np.ndarray | None  # every sensor it reads is present; None = no sensor read
    missing: np.ndarray | None  # where ignore-missing drops it (= ~present)


class _FrameEvaluator:
    """Whole-column evaluation; every distinct operand and comparison is computed once."""

    def __init__(
        self,
        frame: pd.DataFrame,
        sensors: tuple[str, ...],
        policy: MissingPolicy,
    ):
        self.n = len(frame)
        self.ignore_missing = policy == "ignore-missing"
        self.values = {name: _column(frame, name, self.n) for name in sensors}
        self.present = {name: np.isfinite(values) for name, values in self.values.items()}
        self.operands: dict[Operand, np.ndarray | float] = {}
        self.comparisons: dict[Compare, _ColumnComparison] = {}

    def operand(self, node: Operand) -> np.ndarray | float:
        cached = self.operands.get(node)
        if cached is not None:
            return cached
        match node:
            case Constant(value=value):
                result: np.ndarray | float = value
            case Sensor(name=name):
                result = self.values[name]
            case Abs(operand=inner):
                result = np.abs(self.operand(inner))
            case Negate(operand=inner):
                result = np.negative(self.operand(inner))
            case Scale(operand=inner, factor=factor):
                result = np.multiply(self.operand(inner), factor)
            case _:
                raise TypeError(f"not an operand: {node!r}")
        self.operands[node] = result
        return result

    def comparison(self, node: Compare) -> _ColumnComparison:
        cached = self.comparisons.get(node)
        if cached is not None:
            return cached
        present: np.ndarray | None = None
        for name in comparison_sensors(node):
            present = self.present[name] if present is None else present & self.present[name]
        holds = COMPARATORS[node.op](self.operand(node.left), self.operand(node.right))
        ok = np.broadcast_to(np.asarray(holds, dtype=bool), (self.n,))
        # Non-finite sensors would compare as NaN/inf; mask them so ok means "met".
        ok = ok & present if present is not None else ok.copy()
        result = _ColumnComparison(ok, present, None if present is None else ~present)
        self.comparisons[node] = result
        return result

    def truth(self, node: Condition) -> tuple[np.ndarray, np.ndarray | None]:
        """(value, dropped); dropped None means nowhere. Value is False wherever the node is
        dropped, so a caller can use it directly as "matches"."""
        match node:
            case Always():
                return np.ones(self.n, dtype=bool), None
            case Compare():
                result = self.comparison(node)
                return result.ok, result.missing if self.ignore_missing else None
            case And(children=children):
                all_kept_true = np.ones(self.n, dtype=bool)
                anything_kept: np.ndarray | None = None  # None = every row kept something
                children_truths = [self.truth(child) for child in children]
                if any(dropped is None for _, dropped in children_truths):
                    for value, dropped in children_truths:
                        all_kept_true &= value if dropped is None else value | dropped
                    return all_kept_true, None
                anything_kept = np.zeros(self.n, dtype=bool)
                for value, dropped in children_truths:
                    all_kept_true &= value | dropped
                    anything_kept |= ~dropped
                return all_kept_true & anything_kept, None
            case Or(children=children):
                any_kept_true = np.zeros(self.n, dtype=bool)
                for child in children:
                    value, _dropped = self.truth(child)
                    any_kept_true |= value  # value is already False where dropped
                return any_kept_true, None
        raise TypeError(f"not a condition: {node!r}")

    def score(self, node: Condition) -> np.ndarray:
        # Counts stay small integers (uint8 adds are cheap); one division at the end gives
        # exactly the float the per-sample path computes with ok / counted.
        ok_count = np.zeros(self.n, dtype=np.uint8)
        always_counted = 0
        counted_where_present: np.ndarray | None = None
        for comparison in iter_comparisons(node):
            result = self.comparison(comparison)
            ok_count += result.ok
            if self.ignore_missing and result.missing is not None:
                if counted_where_present is None:
                    counted_where_present = np.zeros(self.n, dtype=np.uint8)
                counted_where_present += ~result.missing
            else:
                always_counted += 1
        if counted_where_present is None:
            return ok_count / always_counted if always_counted else np.zeros(self.n)
        counted_where_present += np.uint8(always_counted)
        return np.divide(
            ok_count, counted_where_present, out=np.zeros(self.n), where=counted_where_present > 0
        )


def evaluate_frame(
    sensors: pd.DataFrame,
    spec: SelectorSpec | None = None,
    policy: MissingPolicy | str = "strict",
) -> SelectorFrame:
    """Greg's decision for every row of a sensor frame (rows are positional; index ignored).

    Missing sensor columns count as all-missing; non-numeric values count as missing.
    """
    spec = spec or load_selector_spec()
    policy = parse_missing_policy(policy)
    n = len(sensors)
    evaluator = _FrameEvaluator(sensors, spec.sensors_used, policy)
    evaluable = np.ones(n, dtype=bool)
    if evaluator.ignore_missing:
        for name in CORE_SENSORS:
            evaluable &= np.isfinite(_column(sensors, name, n))

    n_steps = len(spec.steps)
    n_strategies = len(spec.strategies)
    # Built step-major (each row of these buffers is one contiguous column write) and exposed
    # transposed, so the public arrays are (n, k) views without a copy.
    matched_by_step = np.empty((n_steps, n), dtype=bool)
    for position, step in enumerate(spec.steps):
        matched_by_step[position] = evaluator.truth(step.condition_tree)[0]

    # First match wins: walk the steps backwards so the earliest matching step writes last.
    step_position = np.full(n, -1, dtype=np.int16)
    for position in range(n_steps - 1, -1, -1):
        step_position[matched_by_step[position]] = position

    outcomes = (*spec.outcomes, NOT_EVALUABLE)
    codes_by_step = [outcomes.index(step.outcome) for step in spec.steps]
    no_trade_code = n_strategies
    # Position -1 (nothing matched) picks the trailing NO_TRADE entry.
    step_to_code = np.asarray([*codes_by_step, no_trade_code], dtype=np.int16)
    selected = step_to_code[step_position]
    not_evaluable = ~evaluable
    if not_evaluable.any():
        step_position[not_evaluable] = -1
        selected[not_evaluable] = outcomes.index(NOT_EVALUABLE)

    passes_by_strategy = np.empty((n_strategies, n), dtype=bool)
    scores_by_strategy = np.empty((n_strategies, n), dtype=np.float64)
    for column, key in enumerate(spec.strategies):
        position = spec.step_position_for(key)
        passes_by_strategy[column] = matched_by_step[position] & evaluable
        scores_by_strategy[column] = evaluator.score(spec.steps[position].condition_tree)
    matched, passes, scores = matched_by_step.T, passes_by_strategy.T, scores_by_strategy.T

    return SelectorFrame(
        policy=policy,
        strategy_keys=spec.strategy_keys,
        strategy_labels=tuple(spec.strategies.values()),
        outcomes=outcomes,
        step_names=tuple(step.name for step in spec.steps),
        step_indexes=tuple(step.index for step in spec.steps),
        step_position=step_position,
        selected=selected,
        passes=passes,
        scores=scores,
        matched=matched,
        evaluable=evaluable,
    )
