"""The Greg selector's JSON rule spec, parsed once into an immutable expression tree.

The language is documented in docs/selector.md. A spec file (the bundled one is
``greg_selector_v8.json``) has a ``calibration`` block of
named thresholds (nested objects give dotted names such as ``rsi_thresholds.lower``), a
``strategies`` block (key -> display label) and an ordered list of ``steps``, each with a
``condition`` string, an ``outcome`` (a strategy key or ``NO_TRADE``) and a ``reasoning``.

Condition grammar (keywords are case-insensitive)::

    condition  := "always" | or_expr
    or_expr    := and_expr ("OR" and_expr)*
    and_expr   := term ("AND" term)*
    term       := "(" or_expr ")" | comparison
    comparison := operand (">" | ">=" | "<" | "<=" | "==") operand
    operand    := NUMBER | SENSOR | CALIBRATION_NAME
                | "ABS" "(" product ")" | "(" product ")"
    product    := operand ["*" operand]          (one side must be a number/calibration name)

Conditions are never ``eval``-ed: they are tokenized and parsed by recursive descent into the
frozen dataclasses below. Calibration names are resolved to numbers at load time, but the
``Constant`` keeps the name so the tree can be shown as written. Any problem (unknown name,
bad syntax, unknown outcome, duplicate step, unreadable JSON) raises ``SelectorSpecError`` at
load, naming the step and the offending token.

Evaluation lives in ``backtest.selector.evaluate``; this module only knows the language.
"""

from __future__ import annotations

import difflib
import json
import math
import operator
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Any

from greg_core.checks import is_finite_number
from greg_core.contract import SENSOR_NAMES
from greg_core.errors import SelectorSpecError
from greg_core.formatting import fmt_threshold

DEFAULT_SPEC_PATH = Path(__file__).with_name("greg_selector_v8.json")
NO_TRADE = "NO_TRADE"
# The comparison operators of the language and what each computes (per sample and per column).
COMPARATORS: Mapping[str, Callable[[Any, Any], Any]] = MappingProxyType(
    {">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le, "==": operator.eq}
)
COMPARISON_OPS: tuple[str, ...] = tuple(COMPARATORS)
ALWAYS_WORDS = frozenset({"always", "true"})


def fold(text: str) -> str:
    """Case- and whitespace-insensitive form used to match user input."""
    return " ".join(str(text).split()).casefold()


def match_strategy(name: str, keys_and_labels: Iterable[tuple[str, str]]) -> int | None:
    """Position of the (key, label) pair that ``name`` names (key or label, folded)."""
    wanted = fold(name)
    for position, (key, label) in enumerate(keys_and_labels):
        if wanted in (fold(key), fold(label)):
            return position
    return None


# --------------------------------------------------------------------------- expression tree


@dataclass(frozen=True)
class Sensor:
    """A sensor column, e.g. ``vrp_30d``; its value comes from the sample at evaluation."""

    name: str

    def to_text(self, resolved: bool = False) -> str:
        return self.name


@dataclass(frozen=True)
class Constant:
    """A number; ``name`` is the calibration name it was written as (None for a literal)."""

    value: float
    name: str | None = None

    def to_text(self, resolved: bool = False) -> str:
        if self.name is not None and not resolved:
            return self.name
        return fmt_threshold(self.value)


@dataclass(frozen=True)
class Abs:
    """``ABS(x)``."""

    operand: Operand

    def to_text(self, resolved: bool = False) -> str:
        return f"ABS({self.operand.to_text(resolved)})"


@dataclass(frozen=True)
class Negate:
    """``(x * -1)``, kept apart from ``Scale`` because the spec writes negative thresholds so."""

    operand: Operand

    def to_text(self, resolved: bool = False) -> str:
        if resolved and isinstance(self.operand, Constant):
            return fmt_threshold(-self.operand.value)
        return f"({self.operand.to_text(resolved)} * -1)"


@dataclass(frozen=True)
class Scale:
    """``(x * factor)``; ``factor_name`` is the calibration name of the factor, if any."""

    operand: Operand
    factor: float
    factor_name: str | None = None

    def to_text(self, resolved: bool = False) -> str:
        if resolved and isinstance(self.operand, Constant):
            return fmt_threshold(self.operand.value * self.factor)
        factor = Constant(self.factor, self.factor_name).to_text(resolved)
        return f"({self.operand.to_text(resolved)} * {factor})"


Operand = Sensor | Constant | Abs | Negate | Scale


@dataclass(frozen=True)
class Compare:
    """``left op right``; the leaf of every condition and one criterion in the bots table."""

    left: Operand
    op: str
    right: Operand

    def to_text(self, resolved: bool = False) -> str:
        return f"{self.left.to_text(resolved)} {self.op} {self.right.to_text(resolved)}"


@dataclass(frozen=True)
class And:
    children: tuple[Condition, ...]

    def to_text(self, resolved: bool = False) -> str:
        return " AND ".join(_grouped(child, resolved) for child in self.children)


@dataclass(frozen=True)
class Or:
    children: tuple[Condition, ...]

    def to_text(self, resolved: bool = False) -> str:
        return " OR ".join(_grouped(child, resolved) for child in self.children)


@dataclass(frozen=True)
class Always:
    """The DEFAULT step's condition: matches every sample."""

    def to_text(self, resolved: bool = False) -> str:
        return "always"


Condition = Or | And | Compare | Always


def _grouped(node: Condition, resolved: bool) -> str:
    # A nested group must keep its parentheses: under ignore-missing a group is a unit.
    text = node.to_text(resolved)
    return f"({text})" if isinstance(node, And | Or) else text


def operand_sensors(node: Operand) -> Iterator[str]:
    """Sensor names an operand reads, left to right."""
    match node:
        case Sensor(name=name):
            yield name
        case Abs(operand=inner) | Negate(operand=inner) | Scale(operand=inner):
            yield from operand_sensors(inner)
        case Constant():
            return


def comparison_sensors(node: Compare) -> tuple[str, ...]:
    """Distinct sensors a comparison reads (a missing one makes the comparison missing)."""
    names = [*operand_sensors(node.left), *operand_sensors(node.right)]
    return tuple(dict.fromkeys(names))


def iter_comparisons(node: Condition) -> Iterator[Compare]:
    """Every comparison of a condition in reading order (repeats kept: each is a criterion)."""
    match node:
        case Compare():
            yield node
        case And(children=children) | Or(children=children):
            for child in children:
                yield from iter_comparisons(child)
        case Always():
            return


def condition_sensors(node: Condition) -> tuple[str, ...]:
    names: list[str] = []
    for comparison in iter_comparisons(node):
        names.extend(comparison_sensors(comparison))
    return tuple(dict.fromkeys(names))


# --------------------------------------------------------------------------- tokenizer

_NUMBER_RE = re.compile(r"-?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")
_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*")
_OPERATOR_RE = re.compile(r"[<>=!]+")
_KEYWORDS = {"AND", "OR", "ABS"}
_PUNCTUATION = {"(": "LPAREN", ")": "RPAREN", "*": "STAR"}


@dataclass(frozen=True)
class Token:
    kind: str  # NUMBER NAME OP LPAREN RPAREN STAR AND OR ABS END
    text: str
    column: int  # 1-based position in the condition string
    number: float | None = None


class _SyntaxProblem(Exception):
    """Raised inside the parser; the loader turns it into a SelectorSpecError with context."""


def _describe(token: Token) -> str:
    return "end of condition" if token.kind == "END" else f"'{token.text}' at column {token.column}"


def tokenize(text: str) -> list[Token]:
    """Split a condition into tokens; always ends with an END token."""
    tokens: list[Token] = []
    position = 0
    while position < len(text):
        char = text[position]
        column = position + 1
        if char.isspace():
            position += 1
            continue
        number = _NUMBER_RE.match(text, position)
        # '-' only ever starts a number: the grammar has no binary minus.
        if number and (char.isdigit() or char in "-."):
            value = float(number.group())
            if not math.isfinite(value):
                raise _SyntaxProblem(f"number '{number.group()}' out of range at column {column}")
            tokens.append(Token("NUMBER", number.group(), column, value))
            position = number.end()
            continue
        name = _NAME_RE.match(text, position)
        if name:
            word = name.group()
            kind = word.upper() if word.upper() in _KEYWORDS else "NAME"
            tokens.append(Token(kind, word, column))
            position = name.end()
            continue
        operator = _OPERATOR_RE.match(text, position)
        if operator:
            op = operator.group()
            if op not in COMPARISON_OPS:
                raise _SyntaxProblem(
                    f"unknown operator '{op}' at column {column} (use one of {' '.join(COMPARISON_OPS)})"
                )
            tokens.append(Token("OP", op, column))
            position = operator.end()
            continue
        if char in _PUNCTUATION:
            tokens.append(Token(_PUNCTUATION[char], char, column))
            position += 1
            continue
        raise _SyntaxProblem(f"unexpected character '{char}' at column {column}")
    tokens.append(Token("END", "", len(text) + 1))
    return tokens


# --------------------------------------------------------------------------- parser


class _Parser:
    """Recursive descent over the token list; names are resolved as they are read."""

    def __init__(self, tokens: list[Token], calibration: Mapping[str, float]):
        self.tokens = tokens
        self.position = 0
        self.calibration = calibration

    # -- token helpers
    def peek(self) -> Token:
        return self.tokens[self.position]

    def advance(self) -> Token:
        token = self.tokens[self.position]
        self.position += 1
        return token

    def expect(self, kind: str, what: str) -> Token:
        token = self.peek()
        if token.kind != kind:
            raise _SyntaxProblem(f"expected {what}, found {_describe(token)}")
        return self.advance()

    # -- grammar
    def parse(self) -> Condition:
        node = self.parse_or()
        token = self.peek()
        if token.kind == "RPAREN":
            raise _SyntaxProblem(f"unbalanced ')' at column {token.column} (no matching '(')")
        if token.kind != "END":
            raise _SyntaxProblem(f"expected AND, OR or end of condition, found {_describe(token)}")
        return node

    def parse_or(self) -> Condition:
        children = [self.parse_and()]
        while self.peek().kind == "OR":
            self.advance()
            children.append(self.parse_and())
        return children[0] if len(children) == 1 else Or(tuple(children))

    def parse_and(self) -> Condition:
        children = [self.parse_term()]
        while self.peek().kind == "AND":
            self.advance()
            children.append(self.parse_term())
        return children[0] if len(children) == 1 else And(tuple(children))

    def parse_term(self) -> Condition:
        token = self.peek()
        if token.kind == "LPAREN" and self._parenthesis_holds_condition():
            self.advance()
            node = self.parse_or()
            self.expect("RPAREN", f"')' closing the '(' at column {token.column}")
            return node
        return self.parse_comparison()

    def _parenthesis_holds_condition(self) -> bool:
        """'(' opens either a sub-condition or an operand such as ``(x * -1)``.

        Decide by looking inside the matching parentheses: a comparison operator, AND or OR
        at the first nesting level means a sub-condition.
        """
        opening = self.peek()
        depth = 0
        holds_condition = False
        for token in self.tokens[self.position :]:
            if token.kind == "LPAREN":
                depth += 1
            elif token.kind == "RPAREN":
                depth -= 1
                if depth == 0:
                    return holds_condition
            elif depth == 1 and token.kind in ("OP", "AND", "OR"):
                holds_condition = True
        raise _SyntaxProblem(f"unbalanced '(' at column {opening.column} (no matching ')')")

    def parse_comparison(self) -> Compare:
        left = self.parse_operand()
        token = self.peek()
        if token.kind != "OP":
            raise _SyntaxProblem(
                f"expected a comparison operator ({' '.join(COMPARISON_OPS)}), found {_describe(token)}"
            )
        self.advance()
        right = self.parse_operand()
        return Compare(left, token.text, right)

    def parse_operand(self) -> Operand:
        token = self.peek()
        if token.kind == "NUMBER":
            self.advance()
            assert token.number is not None
            return Constant(token.number)
        if token.kind == "NAME":
            self.advance()
            return self.resolve_name(token)
        if token.kind == "ABS":
            self.advance()
            self.expect("LPAREN", f"'(' after ABS at column {token.column}")
            inner = self.parse_product()
            self.expect("RPAREN", f"')' closing ABS( at column {token.column}")
            return Abs(inner)
        if token.kind == "LPAREN":
            self.advance()
            inner = self.parse_product()
            self.expect("RPAREN", f"')' closing the '(' at column {token.column}")
            return inner
        if token.kind == "END":
            raise _SyntaxProblem("missing operand at end of condition")
        raise _SyntaxProblem(
            f"expected a number, sensor, calibration name, ABS(...) or '(', found {_describe(token)}"
        )

    def parse_product(self) -> Operand:
        left = self.parse_operand()
        if self.peek().kind != "STAR":
            return left
        star = self.advance()
        right = self.parse_operand()
        if isinstance(right, Constant):
            operand, factor = left, right
        elif isinstance(left, Constant):
            operand, factor = right, left
        else:
            raise _SyntaxProblem(
                f"'*' at column {star.column} needs a number or calibration name on one side"
            )
        if factor.name is None and factor.value == -1:
            return Negate(operand)
        return Scale(operand, factor.value, factor.name)

    def resolve_name(self, token: Token) -> Operand:
        name = token.text
        if name in SENSOR_NAMES:
            return Sensor(name)
        if name in self.calibration:
            return Constant(self.calibration[name], name)
        known = [*SENSOR_NAMES, *self.calibration]
        close = difflib.get_close_matches(name, known, n=1)
        hint = f"did you mean '{close[0]}'? " if close else ""
        raise _SyntaxProblem(
            f"unknown name '{name}' at column {token.column} ({hint}valid sensors: "
            f"{', '.join(SENSOR_NAMES)}; calibration names: {', '.join(self.calibration) or 'none'})"
        )


def parse_condition(
    text: str, calibration: Mapping[str, float] | None = None, *, where: str = "condition"
) -> Condition:
    """Parse one condition string; errors read ``{where}: {problem}``."""
    if not isinstance(text, str) or not text.strip():
        raise SelectorSpecError(f"{where}: empty condition")
    if text.strip().lower() in ALWAYS_WORDS:
        return Always()
    try:
        return _Parser(tokenize(text), calibration or {}).parse()
    except _SyntaxProblem as problem:
        raise SelectorSpecError(f"{where}: {problem}") from None


# --------------------------------------------------------------------------- the spec


@dataclass(frozen=True)
class SelectorStep:
    """One waterfall step; ``index`` is the spec's own numbering ("1", ..., "7a", "7b", "8")."""

    name: str
    index: str
    condition_text: str
    condition_tree: Condition
    outcome: str
    reasoning: str

    @property
    def label(self) -> str:
        return f"{self.name} ({self.index})"


@dataclass(frozen=True)
class SelectorSpec:
    """A loaded spec. ``calibration`` is flattened (dotted names) and read-only."""

    name: str
    version: str
    source: str
    calibration: Mapping[str, float]
    strategies: Mapping[str, str]  # key -> label, spec order
    steps: tuple[SelectorStep, ...]
    sensors_used: tuple[str, ...]
    _strategy_positions: Mapping[str, int] = field(repr=False, compare=False, default_factory=dict)

    @property
    def strategy_keys(self) -> tuple[str, ...]:
        return tuple(self.strategies)

    @property
    def outcomes(self) -> tuple[str, ...]:
        """Strategy keys in spec order, then NO_TRADE; ``SelectorFrame.selected`` indexes this."""
        return (*self.strategies, NO_TRADE)

    def step_position_for(self, strategy_key: str) -> int:
        """Position in ``steps`` of the step that selects ``strategy_key``."""
        return self._strategy_positions[strategy_key]

    def step_for(self, strategy_key: str) -> SelectorStep:
        return self.steps[self.step_position_for(strategy_key)]

    def find_strategy(self, name: str) -> str | None:
        """The key of the strategy named ``name`` (key or label, case- and
        whitespace-insensitive), None when there is none."""
        position = match_strategy(name, self.strategies.items())
        return None if position is None else self.strategy_keys[position]

    def resolve_strategy(self, name: str) -> str:
        """Like ``find_strategy``, but an unknown name raises ``ValueError`` listing the choices."""
        key = self.find_strategy(name)
        if key is None:
            choices = "; ".join(f'{key} ("{label}")' for key, label in self.strategies.items())
            raise ValueError(f"unknown strategy {name!r}; choose one of: {choices}")
        return key


_IDENTIFIER_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def _flatten_calibration(block: Any, source: str, prefix: str = "") -> dict[str, float]:
    if not isinstance(block, Mapping):
        raise SelectorSpecError(
            f"{source}: calibration '{prefix.rstrip('.') or 'block'}' must be an object"
        )
    flat: dict[str, float] = {}
    for key, value in block.items():
        if not isinstance(key, str) or not _IDENTIFIER_RE.match(key):
            raise SelectorSpecError(
                f"{source}: calibration name '{prefix}{key}' is not an identifier"
            )
        name = prefix + key
        if isinstance(value, Mapping):
            flat.update(_flatten_calibration(value, source, name + "."))
        elif is_finite_number(value):
            if name in SENSOR_NAMES:
                raise SelectorSpecError(f"{source}: calibration name '{name}' shadows a sensor")
            flat[name] = float(value)
        else:
            raise SelectorSpecError(
                f"{source}: calibration '{name}' must be a finite number, got {value!r}"
            )
    return flat


def _text_field(entry: Mapping[str, Any], key: str, where: str) -> str:
    value = entry.get(key)
    if isinstance(value, int) and not isinstance(value, bool) and key == "index":
        return str(value)  # "index": 1 is as clear as "index": "1"
    if not isinstance(value, str) or not value.strip():
        raise SelectorSpecError(f"{where}: missing or empty '{key}'")
    return value.strip()


def selector_spec_from_dict(data: Any, source: str = "<spec>") -> SelectorSpec:
    """Validate and parse an already-decoded spec; every error names ``source`` and the step."""
    if not isinstance(data, Mapping):
        raise SelectorSpecError(f"{source}: the spec must be a JSON object")
    for section in ("calibration", "strategies", "steps"):
        if section not in data:
            raise SelectorSpecError(f"{source}: missing '{section}' block")
    calibration = _flatten_calibration(data["calibration"], source)

    strategies_block = data["strategies"]
    if not isinstance(strategies_block, Mapping) or not strategies_block:
        raise SelectorSpecError(
            f"{source}: 'strategies' must be a non-empty object of key -> label"
        )
    strategies: dict[str, str] = {}
    seen_labels: dict[str, str] = {}
    for key, label in strategies_block.items():
        if not _IDENTIFIER_RE.match(key) or key == NO_TRADE:
            raise SelectorSpecError(f"{source}: invalid strategy key '{key}'")
        if not isinstance(label, str) or not label.strip():
            raise SelectorSpecError(f"{source}: strategy {key} needs a non-empty label")
        folded = " ".join(label.split()).casefold()
        if folded in seen_labels or folded in {k.casefold() for k in strategies_block}:
            raise SelectorSpecError(f"{source}: strategy label '{label}' is not unique")
        seen_labels[folded] = key
        strategies[key] = label.strip()

    steps_block = data["steps"]
    if not isinstance(steps_block, list) or not steps_block:
        raise SelectorSpecError(f"{source}: 'steps' must be a non-empty list")
    names = [entry.get("name") for entry in steps_block if isinstance(entry, Mapping)]
    steps: list[SelectorStep] = []
    seen_indexes: set[str] = set()
    strategy_positions: dict[str, int] = {}
    for position, entry in enumerate(steps_block):
        if not isinstance(entry, Mapping):
            raise SelectorSpecError(f"{source}: step #{position + 1} must be an object")
        name = _text_field(entry, "name", f"{source}: step #{position + 1}")
        # The brief's message form is "step NAME: ..."; add the index only when names repeat
        # (7a/7b share DIRECTIONAL_SPREAD_CHECK).
        index_hint = entry.get("index", position + 1)
        where = f"step {name}" if names.count(name) == 1 else f"step {name} ({index_hint})"
        index = _text_field(entry, "index", where)
        if index in seen_indexes:
            raise SelectorSpecError(f"{where}: duplicate step index '{index}'")
        seen_indexes.add(index)
        outcome = _text_field(entry, "outcome", where)
        if outcome != NO_TRADE and outcome not in strategies:
            raise SelectorSpecError(
                f"{where}: unknown outcome '{outcome}' (valid: {', '.join([*strategies, NO_TRADE])})"
            )
        if outcome in strategy_positions:
            earlier = steps[strategy_positions[outcome]]
            raise SelectorSpecError(
                f"{where}: duplicate step for {outcome} (already selected by step "
                f"{earlier.name} ({earlier.index}))"
            )
        if outcome != NO_TRADE:
            strategy_positions[outcome] = position
        condition_text = _text_field(entry, "condition", where)
        reasoning = entry.get("reasoning", "")
        if not isinstance(reasoning, str):
            raise SelectorSpecError(f"{where}: 'reasoning' must be a string")
        tree = parse_condition(condition_text, calibration, where=where)
        steps.append(SelectorStep(name, index, condition_text, tree, outcome, reasoning.strip()))

    orphans = [key for key in strategies if key not in strategy_positions]
    if orphans:
        raise SelectorSpecError(f"{source}: no step selects strategy {', '.join(orphans)}")

    sensors_used: list[str] = []
    for step in steps:
        sensors_used.extend(condition_sensors(step.condition_tree))
    return SelectorSpec(
        name=str(data.get("name", "selector")),
        version=str(data.get("version", "")),
        source=source,
        calibration=MappingProxyType(calibration),
        strategies=MappingProxyType(strategies),
        steps=tuple(steps),
        sensors_used=tuple(dict.fromkeys(sensors_used)),
        _strategy_positions=MappingProxyType(strategy_positions),
    )


@lru_cache(maxsize=1)
def _load_default_spec() -> SelectorSpec:
    return _load_spec_file(DEFAULT_SPEC_PATH)


def _load_spec_file(path: Path) -> SelectorSpec:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise SelectorSpecError(
            f"cannot read selector spec {path}: {error.strerror or error}"
        ) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise SelectorSpecError(
            f"selector spec {path} is not valid JSON: {error.msg} at line {error.lineno} column {error.colno}"
        ) from None
    return selector_spec_from_dict(data, source=path.name)


def load_selector_spec(path: Path | str | None = None) -> SelectorSpec:
    """Load a selector spec; without ``path`` the bundled v8 spec (parsed once, cached)."""
    if path is None or Path(path).resolve() == DEFAULT_SPEC_PATH.resolve():
        return _load_default_spec()
    return _load_spec_file(Path(path))
