"""The sweep's computing half: parameters, validation, and every grid and sweet spot in memory.

Work per underlying: sensors once (``backtest.sensors.sources``), Greg's selector once per
sample for all strategies (``evaluate_frame``), then one binning pass per metric pair for all
strategies (``compute_pair_grids``). Nothing here writes a file: ``backtest.heatmaps.store``
does, and ``backtest.heatmaps.run.run_greg_sweetspot_sweep`` joins the two (docs/heatmaps.md).
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from backtest.heatmaps.binning import (
    Binning,
    PairGrid,
    compute_pair_grids,
    sample_cells,
    strategy_weights,
)
from backtest.heatmaps.options import (
    DEFAULT_BIN_MODE,
    DEFAULT_CLIP_PCT,
    DEFAULT_COUNT_MODE,
    DEFAULT_HORIZON_DAYS,
    DEFAULT_MIN_EPISODES,
    DEFAULT_MISSING_POLICY,
    DEFAULT_RANK_BY,
    DEFAULT_SOURCE,
    MAX_BINS,
    MAX_HORIZON_DAYS,
    MAX_LOOKBACK_DAYS,
    RANK_BY,
    CountMode,
    parse_count_mode,
    validate_metric,
)
from backtest.heatmaps.outcome_cells import NO_TRADE_GROUP, CellOutcomes, cell_outcomes
from backtest.heatmaps.sweetspots import SweetSpot, SweetSpotRecord, sweet_spots
from backtest.heatmaps.walk_forward import EarlySpot, early_spots
from backtest.outcomes.edge import edge_column
from backtest.outcomes.forward import forward_outcomes
from backtest.outcomes.scorecard import (
    MultipleTesting,
    Scorecard,
    SignalsTable,
    compute_scorecard,
    compute_signals,
    multiple_testing,
)
from backtest.outcomes.stats import walk_forward_split
from backtest.outcomes.structures import pnl_column
from backtest.selector.evaluate import (
    NO_TRADE,
    evaluate_frame,
    parse_missing_policy,
    resolve_strategy,
    strategy_label,
)
from backtest.selector.spec import load_selector_spec
from backtest.sensors.pipeline import bars_per_day, window_bars
from backtest.sensors.sources import DataSummary, SensorData, load_sensor_data, validate_source
from greg_core.contract import RAW_COLUMNS
from greg_core.errors import SweepCancelled, SweepConfigError
from greg_core.memory import loading_arrays_mapped, release_freed_memory

# Share of the overall progress bar given to computing; the rest is writing the files.
COMPUTE_SHARE = 0.85

ProgressCallback = Callable[[float, str], None]
CancelCheck = Callable[[], bool] | threading.Event


@dataclass(frozen=True)
class SweepParams:
    underlyings: tuple[str, ...]
    metrics: tuple[str, ...]
    strategies: tuple[str, ...]  # keys, in the requested order
    x_bins: int
    y_bins: int
    min_env_frac: float
    min_pass_frac: float
    top_k: int
    source: str
    lookback_days: int | None
    missing_policy: str
    count_mode: CountMode
    seed: int | None = None
    binning: Binning = Binning()
    horizon_days: int = DEFAULT_HORIZON_DAYS
    min_episodes: int = DEFAULT_MIN_EPISODES
    rank_by: str = DEFAULT_RANK_BY

    @property
    def pairs(self) -> list[tuple[str, str]]:
        return list(itertools.combinations(self.metrics, 2))

    def as_dict(self) -> dict:
        return {
            "underlyings": list(self.underlyings),
            "metrics": list(self.metrics),
            "strategies": [{"key": k, "label": strategy_label(k)} for k in self.strategies],
            "x_bins": self.x_bins,
            "y_bins": self.y_bins,
            "min_env_frac": self.min_env_frac,
            "min_pass_frac": self.min_pass_frac,
            "top_k": self.top_k,
            "source": self.source,
            "lookback_days": self.lookback_days,
            "missing_policy": self.missing_policy,
            "count_mode": self.count_mode,
            "seed": self.seed,
            "bin_mode": self.binning.mode,
            "clip_pct": self.binning.clip_pct,
            "horizon_days": self.horizon_days,
            "min_episodes": self.min_episodes,
            "rank_by": self.rank_by,
        }


def _unique(items: Sequence[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))


def validate_sweep_params(
    underlyings: Sequence[str],
    metrics: Sequence[str],
    strategies: Sequence[str],
    x_bins: int,
    y_bins: int,
    min_env_frac: float,
    min_pass_frac: float,
    top_k: int,
    source: str = DEFAULT_SOURCE,
    lookback_days: int | None = None,
    missing_policy: str = DEFAULT_MISSING_POLICY,
    count_mode: str = DEFAULT_COUNT_MODE,
    seed: int | None = None,
    bin_mode: str = DEFAULT_BIN_MODE,
    clip_pct: float = DEFAULT_CLIP_PCT,
    horizon_days: int = DEFAULT_HORIZON_DAYS,
    min_episodes: int = DEFAULT_MIN_EPISODES,
    rank_by: str = DEFAULT_RANK_BY,
) -> SweepParams:
    """Every parameter checked before any work; raises ``SweepConfigError`` (one line)."""
    try:
        if isinstance(underlyings, str):
            underlyings = [underlyings]
        names = _unique(u.strip().upper() for u in underlyings if u.strip())
        if not names:
            raise ValueError("no underlying given (e.g. BTC ETH)")
        bad = [u for u in names if not u.isalnum()]
        if bad:
            raise ValueError(f"invalid underlying {bad[0]!r} (letters and digits only, e.g. BTC)")
        metric_names = _unique(validate_metric(m) for m in metrics)
        if len(metric_names) < 2:
            raise ValueError("need at least two distinct metrics to form a pair")
        keys = _unique(resolve_strategy(s) for s in strategies)
        if not keys:
            raise ValueError("no strategy given")
        for name, value in (("x_bins", x_bins), ("y_bins", y_bins)):
            if isinstance(value, bool) or not isinstance(value, int | np.integer) or not 0 < value <= MAX_BINS:
                raise ValueError(f"{name} must be a whole number from 1 to {MAX_BINS}, got {value!r}")
        for name, value in (("min_env_frac", min_env_frac), ("min_pass_frac", min_pass_frac)):
            if not isinstance(value, int | float) or not 0.0 <= float(value) <= 1.0:
                raise ValueError(f"{name} must be a fraction in [0, 1], got {value!r}")
        if isinstance(top_k, bool) or not isinstance(top_k, int | np.integer) or top_k <= 0:
            raise ValueError(f"top_k must be a whole number > 0, got {top_k!r}")
        if lookback_days is not None and (
            isinstance(lookback_days, bool) or not isinstance(lookback_days, int | np.integer)
            or not 0 < lookback_days <= MAX_LOOKBACK_DAYS
        ):
            raise ValueError(f"lookback_days must be a whole number from 1 to {MAX_LOOKBACK_DAYS:,}, got {lookback_days!r}")
        policy = parse_missing_policy(missing_policy)
        count_mode = parse_count_mode(count_mode)
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0):
            raise ValueError(f"seed must be a whole number >= 0, got {seed!r}")
        source = validate_source(source)
        if isinstance(clip_pct, bool) or not isinstance(clip_pct, int | float | np.integer | np.floating):
            raise ValueError(f"clip_pct must be a number of percent, got {clip_pct!r}")
        binning = Binning(str(bin_mode).strip().lower(), float(clip_pct))
        if isinstance(horizon_days, bool) or not isinstance(horizon_days, int | np.integer) or not (
            2 <= horizon_days <= MAX_HORIZON_DAYS
        ):
            raise ValueError(f"horizon must be a whole number of days from 2 to {MAX_HORIZON_DAYS}, got {horizon_days!r}")
        if isinstance(min_episodes, bool) or not isinstance(min_episodes, int | np.integer) or min_episodes < 1:
            raise ValueError(f"min_episodes must be a whole number >= 1, got {min_episodes!r}")
        rank_by = str(rank_by).strip().lower()
        if rank_by not in RANK_BY:
            raise ValueError(f"unknown ranking {rank_by!r}; choose one of: {', '.join(RANK_BY)}")
    except ValueError as exc:
        raise SweepConfigError(str(exc)) from None
    return SweepParams(
        underlyings=names, metrics=metric_names, strategies=keys, x_bins=int(x_bins), y_bins=int(y_bins),
        min_env_frac=float(min_env_frac), min_pass_frac=float(min_pass_frac), top_k=int(top_k),
        source=source, lookback_days=None if lookback_days is None else int(lookback_days),
        missing_policy=policy, count_mode=count_mode, seed=seed, binning=binning,  # type: ignore[arg-type]
        horizon_days=int(horizon_days), min_episodes=int(min_episodes), rank_by=rank_by,
    )


@dataclass
class UnderlyingSweep:
    underlying: str
    data: DataSummary  # the rows themselves are released once the grids are computed
    grids: list[PairGrid]
    selected_counts: dict[str, int]
    pass_counts: dict[str, int]
    absent_sensors: list[str] = field(default_factory=list)
    not_evaluable: int = 0  # ignore-missing: samples without a core sensor (never NO_TRADE)
    # Forward outcomes (docs/outcomes.md): per pair, the edge and the strategies' own P&L per cell.
    edge_cells: list[CellOutcomes] = field(default_factory=list)
    pnl_cells: list[CellOutcomes] = field(default_factory=list)
    scorecard: Scorecard | None = None
    pnl_scorecard: Scorecard | None = None
    signals: SignalsTable | None = None
    walk_forward: dict = field(default_factory=dict)  # cut date, later-third baseline


@dataclass
class SweepResult:
    params: SweepParams
    underlyings: list[UnderlyingSweep]
    records: list[SweetSpotRecord]
    compute_seconds: float
    started_at: str = field(default="")
    # Per-cell tests of "the strategy's days here earned more edge than the no-trade days".
    multiple_testing: MultipleTesting | None = None
    phase_seconds: dict[str, float] = field(default_factory=dict)

    @property
    def n_sweet_spots(self) -> int:
        return sum(len(r.sweet_spots) for r in self.records)


class PhaseClock:
    """Wall seconds per phase of a sweep (data, decisions, grids, outcomes), summed over
    underlyings: the manifest reports them and the benchmark reads the outcome layer's share."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextmanager
    def __call__(self, phase: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[phase] = self.seconds.get(phase, 0.0) + time.perf_counter() - started


def cancelled(cancel: CancelCheck | None) -> bool:
    if cancel is None:
        return False
    return cancel.is_set() if isinstance(cancel, threading.Event) else bool(cancel())


# From this many days of lookback a sweep tells the allocator which arrays get their own
# memory mappings (greg_core.memory): a 1,000,000-day export peaked at ~900 MiB with that,
# ~980 MiB without, when measured (now 832-881 MiB with it); shorter spans keep glibc's own
# behaviour.
LONG_SPAN_DAYS = 500_000


def compute_sweep(
    params: SweepParams,
    progress: ProgressCallback | None = None,
    cancel: CancelCheck | None = None,
    data_dir: Path | None = None,
    data_by_underlying: Mapping[str, SensorData] | None = None,
    regime_file: Path | None = None,
) -> SweepResult:
    """All grids and sweet spots for ``params`` (no files written). Raises ``SweepCancelled``.

    ``data_by_underlying`` supplies already loaded sensors (e.g. for benchmarks); underlyings
    not in it are loaded from ``params.source``."""
    started = time.perf_counter()
    pairs = params.pairs
    steps_total = len(params.underlyings) * (len(pairs) + 1)
    done = 0

    def report(message: str, step: int = 0) -> None:
        if progress is not None:
            progress(min((done + step) / steps_total, 1.0), message)
        if cancelled(cancel):
            raise SweepCancelled("sweep cancelled; previous results left as they were")

    spec_keys = load_selector_spec().strategy_keys
    columns = [spec_keys.index(k) for k in params.strategies]
    underlyings: list[UnderlyingSweep] = []
    records: list[SweetSpotRecord] = []
    clock = PhaseClock()
    long_span = (params.lookback_days or 0) >= LONG_SPAN_DAYS
    for underlying in params.underlyings:
        # On a long span the data's one-off arrays go back to the OS when freed, and the grids'
        # and outcomes' working arrays are then reused from the heap (greg_core.memory).
        with loading_arrays_mapped(long_span):
            report(f"{underlying}: loading {params.source} data")
            with clock("data"):
                if data_by_underlying is not None and underlying in data_by_underlying:
                    data = data_by_underlying[underlying]
                else:
                    data = load_sensor_data(
                        underlying, params.source, params.lookback_days, seed=params.seed, data_dir=data_dir,
                        regime_file=regime_file,
                    )
        # Handed over: the sweep drops the rows once it no longer needs them (peak memory: one
        # frame, gone before the cells' outcomes are summarized).
        handed_over = [data]
        del data
        sweep, underlying_records = _sweep_underlying(underlying, handed_over, params, columns, report, clock)
        underlyings.append(sweep)
        records.extend(underlying_records)
        done += len(pairs) + 1
        release_freed_memory()
    report("sweep computed")
    with clock("outcomes"):
        tests = cell_tests(underlyings, params.strategies, params.min_episodes)
    return SweepResult(
        params, underlyings, records, time.perf_counter() - started, multiple_testing=tests,
        phase_seconds={phase: round(seconds, 4) for phase, seconds in clock.seconds.items()},
    )


def cell_tests(underlyings: list[UnderlyingSweep], strategies: tuple[str, ...], min_episodes: int) -> MultipleTesting:
    """One t per (underlying, pair, strategy, cell) that is not thin: the cell's mean
    edge on the strategy's days minus the underlying's no-trade mean, over its Newey-West SE
    (the baseline taken as known). Cells of different pairs share days, so the tests are not
    independent: the count beyond |t| > 2 is set against what chance alone would give."""
    t_stats = []
    for sweep in underlyings:
        if sweep.scorecard is None:
            continue
        baseline = sweep.scorecard.row(NO_TRADE).mean
        for cells in sweep.edge_cells:
            strategy_rows = [cells.group_index(key) for key in strategies]
            with np.errstate(invalid="ignore", divide="ignore"):
                t = (cells.mean[strategy_rows] - baseline) / cells.se[strategy_rows]
            t[cells.thin(min_episodes)[strategy_rows]] = np.nan
            t_stats.append(t[np.isfinite(t)])
    return multiple_testing(np.concatenate(t_stats) if t_stats else np.zeros(0))


def bar_positions(index) -> np.ndarray:
    """Each row's position on its bar grid (row numbers when the index is not regular): the
    time unit of episodes and Newey-West lags, so a missing bar leaves a gap."""
    import pandas as pd

    if not isinstance(index, pd.DatetimeIndex) or len(index) < 2:
        return np.arange(len(index), dtype=np.int64)
    stamps = index.asi8
    step = int(np.median(np.diff(stamps)))
    if step <= 0 or np.any((stamps - stamps[0]) % step):
        return np.arange(len(index), dtype=np.int64)
    return (stamps - stamps[0]) // step


def _sweep_underlying(
    underlying: str,
    handed_over: list[SensorData],
    params: SweepParams,
    columns: list[int],
    report: Callable[[str, int], None],
    clock: PhaseClock,
) -> tuple[UnderlyingSweep, list[SweetSpotRecord]]:
    """Decisions, forward outcomes, every pair's grid and cell outcomes, the sweet spots with
    their outcome blocks and the walk-forward check, and the scorecard, for one underlying.

    The order keeps a long span's peak memory down: the grids (and their per-sample weights)
    before the forward outcomes exist, then the scorecard and signals, which read the rows;
    ``handed_over`` holds the underlying's data and is emptied, so the rows (sensors,
    decisions) are dropped before the walk-forward grids and the cells' outcomes."""
    data = handed_over.pop()
    pairs = params.pairs
    summary = data.summary()
    sensors = data.sensors
    # ignore-missing decides per sample; a day without a core sensor (vrp_30d: no implied
    # vol) is not evaluable and never selects a premium-selling strategy.
    with clock("decisions"):
        decisions = evaluate_frame(sensors, policy=params.missing_policy)
        if params.count_mode == "selected":
            counted = decisions.selected[:, None] == np.asarray(columns)[None, :]
        else:
            counted = decisions.passes[:, columns]
        scores = decisions.scores[:, columns]
        weights = strategy_weights(counted, scores)  # built once, reused by every pair
        no_trade = decisions.selected == decisions.outcome_code(NO_TRADE)

    metric_values = {name: sensors[name].to_numpy(dtype=float) for name in params.metrics}
    bin_cache: dict = {}  # this underlying's metrics, binned once per distinct edges
    report(f"{underlying}: {len(pairs)} pairs x {len(columns)} strategies", 1)
    with clock("grids"):
        grids = compute_pair_grids(
            [(metric_values[x], metric_values[y], x, y) for x, y in pairs], weights, params.x_bins, params.y_bins,
            bin_cache=bin_cache, binning=params.binning,
        )
        del weights  # (samples x 15) floats, 120 MB on 1,000,000 days: not needed past the grids

    # Forward outcomes read the future after each sample; they are only ever aggregated over
    # cells and groups the sensors already decided, never used to draw a bin or a decision.
    with clock("outcomes"):
        # The sweep reads the unhedged P&L only: the hedged one would cost nine tenths of the time.
        outcomes = forward_outcomes(sensors[list(RAW_COLUMNS)], params.horizon_days, hedged=False)
        edge = outcomes[edge_column(params.horizon_days)].to_numpy(dtype=float)
        pnl = [outcomes[pnl_column(key)].to_numpy(dtype=float) for key in params.strategies]
        positions = bar_positions(sensors.index)
        horizon_bars = window_bars(params.horizon_days, bars_per_day(sensors.index))
        split = walk_forward_split(positions, horizon_bars)
        late_no_trade = edge[split.out_of_sample & no_trade]
        late_baseline = float(np.nanmean(late_no_trade)) if np.isfinite(late_no_trade).any() else None
        times = sensors.index.as_unit("us").asi8 if hasattr(sensors.index, "asi8") else None
        walk_forward = {
            "cut": sensors.index[int(np.searchsorted(positions, split.cut_day))].isoformat()
            if split.cut_day <= positions[-1] else None,
            "later_third_no_trade_mean": late_baseline,
            "later_third_no_trade_n": int(np.isfinite(late_no_trade).sum()),
        } if len(positions) else {}
        scorecard = compute_scorecard(
            sensors, decisions, outcomes, measure="edge", horizon_days=params.horizon_days,
            underlying=underlying, min_episodes=params.min_episodes,
        )
        pnl_scorecard = compute_scorecard(
            sensors, decisions, outcomes, measure="pnl", horizon_days=params.horizon_days,
            underlying=underlying, min_episodes=params.min_episodes,
        )
        signals = compute_signals(sensors, outcomes[edge_column(params.horizon_days)], horizon_days=params.horizon_days)
    report(f"{underlying}: forward outcomes and scorecard ({len(sensors)} samples)", len(pairs) // 2)
    selected_counts = {k: int((decisions.selected == c).sum()) for k, c in zip(params.strategies, columns, strict=True)}
    pass_counts = {k: int(decisions.passes[:, c].sum()) for k, c in zip(params.strategies, columns, strict=True)}
    not_evaluable = int((~decisions.evaluable).sum())
    # The rows are not needed past here (on a long span they are most of the memory): the
    # metrics are copied out of the frame, whose views they were.
    metric_values = {name: values.copy() for name, values in metric_values.items()}
    del data, sensors, decisions, outcomes

    with clock("outcomes"):
        pair_columns = [(metric_values[x], metric_values[y], x, y) for x, y in pairs]
        early_by_pair = early_spots(
            pair_columns, counted, scores, split.in_sample, split.out_of_sample, edge, pnl,
            x_bins=params.x_bins, y_bins=params.y_bins, binning=params.binning,
            min_env_frac=params.min_env_frac, min_pass_frac=params.min_pass_frac, top_k=params.top_k,
        )
        del scores
        cells_by_pair = [sample_cells(grid, x, y, bin_cache)  # int32: 112 MB for 28 pairs of 1M days
                         for grid, (x, y, _, _) in zip(grids, pair_columns, strict=True)]
        del pair_columns, metric_values, bin_cache
        edge_groups = [(key, counted[:, i], edge) for i, key in enumerate(params.strategies)]
        edge_groups.append((NO_TRADE_GROUP, no_trade, edge))
        pnl_groups = [(key, counted[:, i], pnl[i]) for i, key in enumerate(params.strategies)]
    report(f"{underlying}: outcomes per cell", len(pairs))
    with clock("outcomes"):
        shape = (params.x_bins, params.y_bins)
        edge_cells = cell_outcomes(
            cells_by_pair, edge_groups, positions, shape, horizon_bars, edge_column(params.horizon_days), times
        )
        pnl_cells = cell_outcomes(cells_by_pair, pnl_groups, positions, shape, horizon_bars, "pnl", times)
        del cells_by_pair
    records = []
    labels = {key: strategy_label(key) for key in params.strategies}  # looked up once, not per record
    with clock("grids"):  # the sweet spots and their outcome blocks
        for (x_metric, y_metric), grid, pair_edge, pair_pnl, early in zip(
            pairs, grids, edge_cells, pnl_cells, early_by_pair, strict=True
        ):
            per_strategy = sweet_spots(
                grid, params.min_env_frac, params.min_pass_frac, params.top_k, strategy_keys=params.strategies,
                edge=pair_edge, pnl=pair_pnl, min_episodes=params.min_episodes, rank_by=params.rank_by,
            )
            for position, (key, spots) in enumerate(zip(params.strategies, per_strategy, strict=True)):
                records.append(
                    SweetSpotRecord(
                        underlying=underlying,
                        strategy=labels[key],
                        strategy_key=key,
                        x_metric=x_metric,
                        y_metric=y_metric,
                        samples=grid.total_samples,
                        sweet_spots=tuple(_with_out_of_sample(spot, early[position]) for spot in spots),
                    )
                )

    sweep = UnderlyingSweep(
        underlying=underlying,
        data=summary,
        grids=grids,
        selected_counts=selected_counts,
        pass_counts=pass_counts,
        absent_sensors=summary.absent_sensors(),
        not_evaluable=not_evaluable,
        edge_cells=edge_cells,
        pnl_cells=pnl_cells,
        scorecard=scorecard,
        pnl_scorecard=pnl_scorecard,
        signals=signals,
        walk_forward=walk_forward,
    )
    return sweep, records


def _with_out_of_sample(spot: SweetSpot, early: list[EarlySpot]) -> SweetSpot:
    """``spot`` with the walk-forward means of the early sweet spot holding its centre."""
    match = next((candidate for candidate in early if candidate.holds(spot)), None)
    if match is None or spot.outcome is None:
        return spot
    outcome = replace(spot.outcome, oos_mean=match.oos_edge_mean, oos_n=match.oos_edge_n)
    pnl = None if spot.pnl is None else replace(spot.pnl, oos_mean=match.oos_pnl_mean, oos_n=match.oos_pnl_n)
    return replace(spot, outcome=outcome, pnl=pnl)
