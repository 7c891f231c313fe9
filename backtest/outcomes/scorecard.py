"""Did Greg's decisions pay? The scorecard, the sensor signals and the multiple-testing line
(docs/outcomes.md "Scorecard").

* ``compute_scorecard``: one row per group of days of one underlying: ``ALL`` (every
  evaluable day with an outcome), ``TRADE`` (days a strategy was selected), ``NO_TRADE``,
  each strategy key (the keys and NO_TRADE partition ALL) and each blocking step (the steps
  whose outcome is NO_TRADE, e.g. SAFETY_FILTER and DEFAULT). Each row carries the
  ``OutcomeSummary`` figures and the difference to the NO_TRADE days with its HAC t.
* ``compute_signals``: per sensor, the slope of the outcome on the standardized sensor (HAC
  t, R^2) and the outcome by sensor quintile.
* ``multiple_testing``: how many of many t statistics clear |t| > 2 against how many chance
  alone would give, and Benjamini-Hochberg flags.

Every interval and t uses Newey-West (Bartlett, H-1 lags) on the daily calendar
(``backtest.outcomes.stats``): outcomes of entries less than H days apart overlap.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from backtest.outcomes.edge import DEFAULT_HORIZON_DAYS, edge_column
from backtest.outcomes.stats import (
    BARTLETT_CHUNK,
    Z_95,
    bartlett_by_key,
    bartlett_sum,
    batches,
    benjamini_hochberg,
    count_episodes_by_key,
    day_numbers,
    json_ready,
    newey_west_by_key,
    quantiles_by_key,
    two_sided_p,
)
from backtest.outcomes.structures import hedged_pnl_column, pnl_column, structure_for_key
from backtest.selector.evaluate import NO_TRADE, SelectorFrame
from backtest.selector.spec import SelectorSpec, load_selector_spec
from greg_core.contract import DEFAULT_MIN_EPISODES, SENSOR_NAMES

Measure = Literal["edge", "pnl", "pnl_hedged"]
MEASURES: tuple[str, ...] = ("edge", "pnl", "pnl_hedged")
ALL_GROUP = "ALL"
TRADE_GROUP = "TRADE"
QUINTILES = 5


# --------------------------------------------------------------------------- scorecard


@dataclass(frozen=True)
class ScorecardRow:
    """One group of days. ``kind``: all, trade, no_trade, strategy or step. ``measure``: the
    outcome column summarized (``edge_30d``, or ``pnl_{KEY}`` for a strategy's own structure).
    ``days``/``episodes``/``mean``/...: the ``OutcomeSummary`` of the group's days with an
    outcome. ``diff_vs_no_trade``: mean minus the NO_TRADE days' mean of the same column;
    ``diff_t``: its HAC t. ``thin``: fewer than the minimum number of episodes."""

    group: str
    kind: str
    measure: str
    horizon_days: int
    days: int
    episodes: int
    mean: float
    median: float
    hit_rate: float
    p10: float
    worst: float
    se: float
    ci_low: float
    ci_high: float
    diff_vs_no_trade: float
    diff_t: float
    thin: bool

    def to_json(self) -> dict[str, Any]:
        return json_ready(asdict(self))


@dataclass(frozen=True)
class Scorecard:
    """The scorecard of one underlying (JSON: ``to_json()``, one entry of ``underlyings``)."""

    underlying: str | None
    measure: str
    horizon_days: int
    policy: str
    total_days: int
    not_evaluable_days: int
    evaluable_without_outcome: int
    min_episodes: int
    rows: tuple[ScorecardRow, ...]
    notes: tuple[str, ...] = field(default=())

    def row(self, group: str) -> ScorecardRow:
        for row in self.rows:
            if row.group == group:
                return row
        raise KeyError(group)

    def to_json(self) -> dict[str, Any]:
        return json_ready(
            {
                "underlying": self.underlying,
                "measure": self.measure,
                "horizon_days": self.horizon_days,
                "policy": self.policy,
                "total_days": self.total_days,
                "not_evaluable_days": self.not_evaluable_days,
                "evaluable_without_outcome": self.evaluable_without_outcome,
                "min_episodes": self.min_episodes,
                "interval": "95%: mean +- 1.96 Newey-West SE (Bartlett, H-1 lags)",
                "rows": [row.to_json() for row in self.rows],
                "notes": list(self.notes),
            }
        )


def difference_of_means(
    values: np.ndarray, days: np.ndarray, group: np.ndarray, reference: np.ndarray, lags: int
) -> tuple[float, float]:
    """``mean(group) - mean(reference)`` and its HAC t.

    The difference is ``sum_t c_t x_t`` with ``c_t = 1_g(t)/n_g - 1_r(t)/n_r``; its variance
    is the Bartlett sum of ``u_t = 1_g(t)(x_t - m_g)/n_g - 1_r(t)(x_t - m_r)/n_r`` over the
    calendar (the groups may overlap, e.g. a blocking step inside NO_TRADE). NaN t when either
    side has no sample or the groups are the same days."""
    finite = np.isfinite(values)
    in_group, in_reference = group & finite, reference & finite
    n_group, n_reference = int(in_group.sum()), int(in_reference.sum())
    if n_group == 0 or n_reference == 0:
        return math.nan, math.nan
    mean_group = float(values[in_group].mean())
    mean_reference = float(values[in_reference].mean())
    difference = mean_group - mean_reference
    if np.array_equal(in_group, in_reference):
        return difference, math.nan
    either = in_group | in_reference
    x = values[either]
    u = np.where(in_group[either], (x - mean_group) / n_group, 0.0) - np.where(
        in_reference[either], (x - mean_reference) / n_reference, 0.0
    )
    variance = bartlett_sum(u, days[either], lags)
    return difference, difference / math.sqrt(variance) if variance > 0 else math.nan


@dataclass(frozen=True)
class _RowSpec:
    group: str
    kind: str
    column: str
    values: np.ndarray
    mask: np.ndarray


def _rows(specs: Sequence[_RowSpec], days: np.ndarray, reference: np.ndarray, horizon_days: int,
          min_episodes: int) -> list[ScorecardRow]:
    """The ``ScorecardRow`` of every spec, in as few passes as memory allows (``batches``)."""
    # A row's pass holds its days and, for the difference, its days with the reference days.
    sizes = [2 * int(np.count_nonzero(spec.mask)) + int(np.count_nonzero(reference)) for spec in specs]
    return [row for run in batches(sizes) for row in _rows_in_one_pass(specs[run], days, reference, horizon_days,
                                                                        min_episodes)]


def _rows_in_one_pass(specs: Sequence[_RowSpec], days: np.ndarray, reference: np.ndarray, horizon_days: int,
                      min_episodes: int) -> list[ScorecardRow]:
    """The ``ScorecardRow`` of every spec, all in one pass (groups may overlap): each row's
    ``OutcomeSummary`` figures and its difference to the ``reference`` days (NO_TRADE) of the
    same column with the difference's HAC t, as ``summarize_outcomes`` and
    ``difference_of_means`` define them row by row."""
    k, lags = len(specs), horizon_days - 1
    members = [np.flatnonzero(spec.mask & np.isfinite(spec.values)) for spec in specs]
    keys = np.concatenate([np.full(len(m), i, dtype=np.int64) for i, m in enumerate(members)])
    rows_of = np.concatenate(members).astype(np.int64)
    x = np.concatenate([spec.values[m] for spec, m in zip(specs, members, strict=True)])
    d = days[rows_of]
    n = np.bincount(keys, minlength=k)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.bincount(keys, weights=x, minlength=k) / n
        hit = np.bincount(keys, weights=x > 0, minlength=k) / n
    worst = np.full(k, np.inf)
    np.minimum.at(worst, keys, x)
    median, p10 = quantiles_by_key(keys, x, k, n, (0.5, 0.1))
    episodes = count_episodes_by_key(keys, d, horizon_days, k)
    se = np.where(episodes >= 2, newey_west_by_key(keys, d, x, lags, k).se, np.nan)  # one episode is one bet

    # Differences to the reference days: u_t = 1_g (x - m_g)/n_g - 1_r (x - m_r)/n_r over g U r.
    diff_keys, diff_days, diff_u = [], [], []
    variance = np.zeros(k)

    def add_variance() -> None:  # the rows gathered so far, in one pass
        if diff_u:
            variance[:] += bartlett_by_key(
                np.concatenate(diff_u), np.concatenate(diff_days), np.concatenate(diff_keys), lags, k)
            for part in (diff_keys, diff_days, diff_u):
                part.clear()

    difference = np.full(k, np.nan)
    same = np.zeros(k, dtype=bool)
    for i, spec in enumerate(specs):
        in_ref = reference & np.isfinite(spec.values)
        n_ref = int(in_ref.sum())
        if n[i] == 0 or n_ref == 0:
            continue
        mean_ref = float(spec.values[in_ref].mean())
        difference[i] = mean[i] - mean_ref
        in_group = np.zeros(len(days), dtype=bool)
        in_group[members[i]] = True
        if np.array_equal(in_group, in_ref):
            same[i], difference[i] = True, 0.0  # the same days (NO_TRADE itself)
            continue
        either = np.flatnonzero(in_group | in_ref)
        xe = spec.values[either]
        u = np.where(in_group[either], (xe - mean[i]) / n[i], 0.0) - np.where(
            in_ref[either], (xe - mean_ref) / n_ref, 0.0
        )
        if sum(len(part) for part in diff_u) + len(either) > BARTLETT_CHUNK:
            add_variance()  # a long span: a few rows at a time (each row's days are a key of its own)
        diff_keys.append(np.full(len(either), i, dtype=np.int64))
        diff_days.append(days[either])
        diff_u.append(u)
    add_variance()
    with np.errstate(invalid="ignore", divide="ignore"):
        t = np.where((variance > 0) & ~same & (episodes >= 2), difference / np.sqrt(variance), np.nan)
    rows = []
    for i, spec in enumerate(specs):
        empty = n[i] == 0
        nan = math.nan
        rows.append(ScorecardRow(
            group=spec.group, kind=spec.kind, measure=spec.column, horizon_days=horizon_days, days=int(n[i]),
            episodes=int(episodes[i]),
            mean=nan if empty else float(mean[i]), median=nan if empty else float(median[i]),
            hit_rate=nan if empty else float(hit[i]), p10=nan if empty else float(p10[i]),
            worst=nan if empty else float(worst[i]), se=float(se[i]),
            ci_low=float(mean[i] - Z_95 * se[i]), ci_high=float(mean[i] + Z_95 * se[i]),
            diff_vs_no_trade=float(difference[i]), diff_t=float(t[i]), thin=bool(episodes[i] < min_episodes),
        ))
    return rows


def _aligned(frame: pd.DataFrame | pd.Series, index: pd.Index, what: str) -> None:
    if len(frame) != len(index):
        raise ValueError(f"{what} has {len(frame)} rows, the sensor frame {len(index)}")
    if isinstance(index, pd.DatetimeIndex) and not frame.index.equals(index):
        raise ValueError(f"{what} is not on the sensor frame's index")


def compute_scorecard(
    sensors: pd.DataFrame,
    decisions: SelectorFrame,
    outcomes: pd.DataFrame,
    *,
    measure: Measure | str = "edge",
    horizon_days: int | None = None,
    spec: SelectorSpec | None = None,
    underlying: str | None = None,
    min_episodes: int = DEFAULT_MIN_EPISODES,
) -> Scorecard:
    """The scorecard rows of one underlying.

    ``sensors``: the sensor frame the decisions were made on (its index dates the days);
    ``decisions``: ``evaluate_frame(sensors, ...)``; ``outcomes``: ``forward_outcomes`` on the
    same index. ``measure``: ``edge`` (``edge_{H}d`` for every row, the default), or ``pnl``
    / ``pnl_hedged``: each strategy row then summarizes its own structure's P&L
    (``pnl_{KEY}``, over the structure's holding period: the calendar's is 7 days) and compares
    it with the same structure on the NO_TRADE days; rows without a structure (ALL, TRADE,
    NO_TRADE, steps) are left out. ``spec`` tells which steps block (outcome NO_TRADE)."""
    if measure not in MEASURES:
        raise ValueError(f"unknown measure {measure!r}; choose one of: {', '.join(MEASURES)}")
    spec = spec or load_selector_spec()
    if tuple(step.name for step in spec.steps) != decisions.step_names:
        raise ValueError("the decisions were not made with this selector spec (step names differ)")
    horizon = int(horizon_days or outcomes.attrs.get("horizon_days", DEFAULT_HORIZON_DAYS))
    _aligned(outcomes, sensors.index, "the outcome frame")
    if len(decisions) != len(sensors):
        raise ValueError(f"the decisions have {len(decisions)} rows, the sensor frame {len(sensors)}")
    days = day_numbers(sensors.index)
    n_strategies = len(decisions.strategy_keys)
    evaluable = np.asarray(decisions.evaluable, dtype=bool)
    selected = decisions.selected
    no_trade = selected == decisions.outcome_code(NO_TRADE)

    rows: list[ScorecardRow] = []
    if measure == "edge":
        column = edge_column(horizon)
        values = _column(outcomes, column)
        specs = [
            _RowSpec(ALL_GROUP, "all", column, values, evaluable),
            _RowSpec(TRADE_GROUP, "trade", column, values, evaluable & (selected < n_strategies)),
            _RowSpec(NO_TRADE, "no_trade", column, values, no_trade),
            *(_RowSpec(key, "strategy", column, values, selected == code)
              for code, key in enumerate(decisions.strategy_keys)),
        ]
        blocking = [step.name for step in spec.steps if step.outcome == NO_TRADE]
        for name in dict.fromkeys(blocking):
            positions = [p for p, step in enumerate(spec.steps) if step.name == name]
            specs.append(_RowSpec(name, "step", column, values, evaluable & np.isin(decisions.step_position, positions)))
        rows = _rows(specs, days, no_trade, horizon, min_episodes)
        without_outcome = int((evaluable & ~np.isfinite(values)).sum())
    else:
        column_of = pnl_column if measure == "pnl" else hedged_pnl_column
        without_outcome = 0
        by_holding: dict[int, list[_RowSpec]] = {}
        for code, key in enumerate(decisions.strategy_keys):
            column = column_of(key)
            structure = structure_for_key(key)
            holding = structure.holding_days(horizon) if structure else horizon
            values = _column(outcomes, column)
            by_holding.setdefault(holding, []).append(_RowSpec(key, "strategy", column, values, selected == code))
            without_outcome += int(((selected == code) & ~np.isfinite(values)).sum())
        built = {
            spec_row.group: row
            for holding, specs in by_holding.items()
            for spec_row, row in zip(specs, _rows(specs, days, no_trade, holding, min_episodes), strict=True)
        }
        rows = [built[key] for key in decisions.strategy_keys]
    notes = tuple(outcomes.attrs.get("outcome_notes", ()))
    return Scorecard(
        underlying=underlying,
        measure=edge_column(horizon) if measure == "edge" else measure,
        horizon_days=horizon,
        policy=decisions.policy,
        total_days=len(sensors),
        not_evaluable_days=int((~evaluable).sum()),
        evaluable_without_outcome=without_outcome,
        min_episodes=min_episodes,
        rows=tuple(rows),
        notes=notes,
    )


def _column(frame: pd.DataFrame, name: str) -> np.ndarray:
    if name not in frame.columns:
        raise ValueError(f"the outcome frame has no column {name!r}")
    return frame[name].to_numpy(dtype="float64", na_value=np.nan)


# --------------------------------------------------------------------------- signals


@dataclass(frozen=True)
class QuintileRow:
    """Days whose sensor value lies in ``[low, high]`` (quintile edges of the days with both
    the sensor and the outcome; ties go to the higher quintile), their count and mean."""

    quintile: int
    low: float
    high: float
    n: int
    mean: float


@dataclass(frozen=True)
class SignalRow:
    """The outcome regressed on the standardized sensor ``z = (s - mean) / sd`` (sd with
    ddof=0) over the ``n`` days with both: ``slope`` in outcome units per sensor s.d.,
    ``slope_t`` its HAC t (Newey-West, H-1 lags), ``r2`` the regression's R^2."""

    sensor: str
    n: int
    episodes: int
    slope: float
    slope_t: float
    r2: float
    quintiles: tuple[QuintileRow, ...]

    def to_json(self) -> dict[str, Any]:
        return json_ready(asdict(self))


@dataclass(frozen=True)
class SignalsTable:
    measure: str
    horizon_days: int
    rows: tuple[SignalRow, ...]

    def row(self, sensor: str) -> SignalRow:
        for row in self.rows:
            if row.sensor == sensor:
                return row
        raise KeyError(sensor)

    def to_json(self) -> dict[str, Any]:
        return json_ready(
            {
                "measure": self.measure,
                "horizon_days": self.horizon_days,
                "slope": "outcome per sensor s.d.; t: Newey-West (Bartlett, H-1 lags)",
                "rows": [row.to_json() for row in self.rows],
            }
        )


def sensor_signals(
    values: np.ndarray, outcome: np.ndarray, days: np.ndarray, horizon_days: int, names: Sequence[str]
) -> tuple[SignalRow, ...]:
    """One ``SignalRow`` per column of ``values`` (samples x sensors), all sensors in one pass:
    slope, HAC t and R^2 of ``outcome`` on the standardized sensor, and the outcome by sensor
    quintile, each over the days with both values."""
    values = np.asarray(values, dtype=float).reshape(len(outcome), -1)
    outcome = np.asarray(outcome, dtype=float)
    both = np.isfinite(values) & np.isfinite(outcome)[:, None]
    n = both.sum(axis=0)
    column, row = np.nonzero(both.T)  # column-major: each sensor's days in order
    keys, sample_days = column.astype(np.int64), np.asarray(days, dtype=np.int64)[row]
    k = values.shape[1]
    episodes = count_episodes_by_key(keys, sample_days, horizon_days, k)
    s, y = values[row, column], outcome[row]
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_s = np.bincount(keys, weights=s, minlength=k) / n
        mean_y = np.bincount(keys, weights=y, minlength=k) / n
        sd = np.sqrt(np.bincount(keys, weights=(s - mean_s[keys]) ** 2, minlength=k) / n)
        usable = (n >= 3) & (sd > 0)
        z = (s - mean_s[keys]) / sd[keys]
        centred = y - mean_y[keys]
        zz = np.bincount(keys, weights=z * z, minlength=k)
        slope = np.bincount(keys, weights=z * centred, minlength=k) / zz
        residual = centred - slope[keys] * z
        variance = bartlett_by_key(z * residual, sample_days, keys, horizon_days - 1, k) / zz**2
        total = np.bincount(keys, weights=centred * centred, minlength=k)
        r2 = np.where(total > 0, 1.0 - np.bincount(keys, weights=residual * residual, minlength=k) / total, np.nan)
        slope_t = np.where(variance > 0, slope / np.sqrt(variance), np.nan)
    rows = []
    bounds = np.searchsorted(column, np.arange(k + 1))
    for j, name in enumerate(names):
        nan = math.nan
        if not usable[j]:
            rows.append(SignalRow(name, int(n[j]), int(episodes[j]), nan, nan, nan, ()))
            continue
        sj, yj = s[bounds[j]:bounds[j + 1]], y[bounds[j]:bounds[j + 1]]
        edges = np.quantile(sj, np.linspace(0.0, 1.0, QUINTILES + 1))
        bins = np.searchsorted(edges[1:-1], sj, side="right")
        count = np.bincount(bins, minlength=QUINTILES)
        sums = np.bincount(bins, weights=yj, minlength=QUINTILES)
        quintiles = tuple(
            QuintileRow(q + 1, float(edges[q]), float(edges[q + 1]), int(count[q]),
                        float(sums[q] / count[q]) if count[q] else nan)
            for q in range(QUINTILES)
        )
        rows.append(SignalRow(name, int(n[j]), int(episodes[j]), float(slope[j]), float(slope_t[j]),
                              float(r2[j]), quintiles))
    return tuple(rows)


def sensor_signal(
    sensor: np.ndarray, outcome: np.ndarray, days: np.ndarray, horizon_days: int, name: str = ""
) -> SignalRow:
    """One ``SignalRow``: slope, HAC t and R^2 of ``outcome`` on the standardized sensor, and
    the outcome by sensor quintile."""
    return sensor_signals(np.asarray(sensor, dtype=float)[:, None], outcome, days, horizon_days, [name])[0]


def compute_signals(
    sensors: pd.DataFrame,
    outcome: pd.Series,
    *,
    horizon_days: int | None = None,
    sensor_names: Sequence[str] | None = None,
) -> SignalsTable:
    """Per sensor (default: every ``SENSOR_NAMES`` column present), how the outcome moves with
    it, over every day with both values (decisions play no part)."""
    _aligned(outcome, sensors.index, "the outcome series")
    horizon = int(horizon_days or outcome.attrs.get("horizon_days", DEFAULT_HORIZON_DAYS))
    names = [s for s in (sensor_names or SENSOR_NAMES) if s in sensors.columns]
    days = day_numbers(sensors.index)
    y = outcome.to_numpy(dtype="float64", na_value=np.nan)
    rows: list[SignalRow] = []
    for run in batches([len(y)] * len(names)):  # one pass for a short span, sensor by sensor for a long one
        matrix = sensors[names[run]].to_numpy(dtype="float64", na_value=np.nan)
        rows += sensor_signals(matrix, y, days, horizon, names[run])
    return SignalsTable(str(outcome.name), horizon, tuple(rows))


# --------------------------------------------------------------------------- multiple testing


@dataclass(frozen=True)
class MultipleTesting:
    """``tests`` statistics, ``clear`` of them beyond ``|t| > threshold``; ``expected_by_chance``
    = tests x P(|Z| > threshold), what true nulls alone would give (tests on overlapping
    samples are not independent: this is the expected count, not a bound on its spread).
    ``flags``: Benjamini-Hochberg discoveries at false-discovery rate ``alpha``."""

    tests: int
    threshold: float
    clear: int
    expected_by_chance: float
    alpha: float
    discoveries: int
    flags: tuple[bool, ...]

    def sentence(self) -> str:
        return (
            f"{self.clear} of {self.tests} clear |t| > {self.threshold:g}; chance alone would give "
            f"about {self.expected_by_chance:.1f}; Benjamini-Hochberg at {self.alpha:.0%} FDR keeps "
            f"{self.discoveries}"
        )

    def to_json(self) -> dict[str, Any]:
        return json_ready({**asdict(self), "sentence": self.sentence()})


def multiple_testing(
    t_stats: Sequence[float] | np.ndarray | None = None,
    *,
    p_values: Sequence[float] | np.ndarray | None = None,
    threshold: float = 2.0,
    alpha: float = 0.05,
) -> MultipleTesting:
    """The multiple-testing line for per-cell t statistics (or two-sided p-values; NaN
    entries are not tests)."""
    if (t_stats is None) == (p_values is None):
        raise ValueError("give either t_stats or p_values")
    cutoff = float(two_sided_p(np.array([threshold]))[0])
    if t_stats is not None:
        t = np.asarray(t_stats, dtype=float)
        p = two_sided_p(t)
        clear = int((np.abs(t[np.isfinite(t)]) > threshold).sum())
    else:
        p = np.asarray(p_values, dtype=float)
        clear = int((p[np.isfinite(p)] < cutoff).sum())
    tests = int(np.isfinite(p).sum())
    flags = benjamini_hochberg(p, alpha)
    return MultipleTesting(
        tests=tests,
        threshold=threshold,
        clear=clear,
        expected_by_chance=tests * cutoff,
        alpha=alpha,
        discoveries=int(flags.sum()),
        flags=tuple(bool(f) for f in flags),
    )
