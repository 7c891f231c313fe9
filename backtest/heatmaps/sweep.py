"""The sweep's computing half: parameters, validation, and every grid and sweet spot in memory.

Work per underlying: sensors once (``backtest.sensors.sources``), Greg's selector once per
sample for all strategies (``evaluate_frame``), then one binning pass per metric pair for all
strategies (``compute_pair_grid``). Nothing here writes a file: ``backtest.heatmaps.store``
does, and ``backtest.heatmaps.run.run_greg_sweetspot_sweep`` joins the two (docs/heatmaps.md).
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from backtest.heatmaps.binning import PairGrid, compute_pair_grid, strategy_weights
from backtest.heatmaps.options import (
    DEFAULT_COUNT_MODE,
    DEFAULT_MISSING_POLICY,
    DEFAULT_SOURCE,
    MAX_BINS,
    CountMode,
    parse_count_mode,
    validate_metric,
)
from backtest.heatmaps.sweetspots import SweetSpotRecord, sweet_spots_for
from backtest.selector.evaluate import (
    evaluate_frame,
    parse_missing_policy,
    resolve_strategy,
    strategy_label,
)
from backtest.selector.spec import load_selector_spec
from backtest.sensors.sources import SensorData, load_sensor_data, validate_source
from greg_core.errors import SweepCancelled, SweepConfigError

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
        if lookback_days is not None and (not isinstance(lookback_days, int | np.integer) or lookback_days <= 0):
            raise ValueError(f"lookback_days must be a whole number > 0, got {lookback_days!r}")
        policy = parse_missing_policy(missing_policy)
        count_mode = parse_count_mode(count_mode)
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0):
            raise ValueError(f"seed must be a whole number >= 0, got {seed!r}")
        source = validate_source(source)
    except ValueError as exc:
        raise SweepConfigError(str(exc)) from None
    return SweepParams(
        underlyings=names, metrics=metric_names, strategies=keys, x_bins=int(x_bins), y_bins=int(y_bins),
        min_env_frac=float(min_env_frac), min_pass_frac=float(min_pass_frac), top_k=int(top_k),
        source=source, lookback_days=None if lookback_days is None else int(lookback_days),
        missing_policy=policy, count_mode=count_mode, seed=seed,  # type: ignore[arg-type]
    )


@dataclass
class UnderlyingSweep:
    underlying: str
    data: SensorData
    grids: list[PairGrid]
    selected_counts: dict[str, int]
    pass_counts: dict[str, int]
    absent_sensors: list[str] = field(default_factory=list)
    not_evaluable: int = 0  # ignore-missing: samples without a core sensor (never NO_TRADE)


@dataclass
class SweepResult:
    params: SweepParams
    underlyings: list[UnderlyingSweep]
    records: list[SweetSpotRecord]
    compute_seconds: float
    started_at: str = field(default="")

    @property
    def n_sweet_spots(self) -> int:
        return sum(len(r.sweet_spots) for r in self.records)


def cancelled(cancel: CancelCheck | None) -> bool:
    if cancel is None:
        return False
    return cancel.is_set() if isinstance(cancel, threading.Event) else bool(cancel())


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

    def report(message: str) -> None:
        if progress is not None:
            progress(min(done / steps_total, 1.0), message)
        if cancelled(cancel):
            raise SweepCancelled("sweep cancelled; previous results left as they were")

    spec_keys = load_selector_spec().strategy_keys
    columns = [spec_keys.index(k) for k in params.strategies]
    underlyings: list[UnderlyingSweep] = []
    records: list[SweetSpotRecord] = []
    for underlying in params.underlyings:
        report(f"{underlying}: loading {params.source} data")
        if data_by_underlying is not None and underlying in data_by_underlying:
            data = data_by_underlying[underlying]
        else:
            data = load_sensor_data(
                underlying, params.source, params.lookback_days, seed=params.seed, data_dir=data_dir,
                regime_file=regime_file,
            )
        # ignore-missing decides per sample; a day without a core sensor (vrp_30d: no implied
        # vol) is not evaluable and never selects a premium-selling strategy.
        absent = data.absent_sensors()
        decisions = evaluate_frame(data.sensors, policy=params.missing_policy)
        if params.count_mode == "selected":
            counted = decisions.selected[:, None] == np.asarray(columns)[None, :]
        else:
            counted = decisions.passes[:, columns]
        scores = decisions.scores[:, columns]
        weights = strategy_weights(counted, scores)  # built once, reused by every pair
        done += 1
        grids = []
        bin_cache: dict = {}  # this underlying's metrics, binned once per distinct edges
        for number, (x_metric, y_metric) in enumerate(pairs, start=1):
            report(f"{underlying}: {x_metric} vs {y_metric} ({number}/{len(pairs)}), {len(columns)} strategies")
            grid = compute_pair_grid(
                data.sensors[x_metric].to_numpy(dtype=float), data.sensors[y_metric].to_numpy(dtype=float),
                counted, scores, params.x_bins, params.y_bins, x_metric=x_metric, y_metric=y_metric,
                weights=weights, bin_cache=bin_cache,
            )
            grids.append(grid)
            for position, key in enumerate(params.strategies):
                records.append(
                    SweetSpotRecord(
                        underlying=underlying,
                        strategy=strategy_label(key),
                        strategy_key=key,
                        x_metric=x_metric,
                        y_metric=y_metric,
                        samples=grid.total_samples,
                        sweet_spots=sweet_spots_for(
                            grid, position, params.min_env_frac, params.min_pass_frac, params.top_k
                        ),
                    )
                )
            done += 1
        underlyings.append(
            UnderlyingSweep(
                underlying=underlying,
                data=data,
                grids=grids,
                selected_counts={k: int((decisions.selected == c).sum()) for k, c in zip(params.strategies, columns, strict=True)},
                pass_counts={k: int(decisions.passes[:, c].sum()) for k, c in zip(params.strategies, columns, strict=True)},
                absent_sensors=absent,
                not_evaluable=int((~decisions.evaluable).sum()),
            )
        )
    report("sweep computed")
    return SweepResult(params, underlyings, records, time.perf_counter() - started)
