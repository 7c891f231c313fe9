"""The Greg sweet-spot sweep: every (underlying, strategy, sensor pair) in one action.

``run_greg_sweetspot_sweep`` keeps the requested signature; the extra knobs (data source,
lookback, missing policy, count mode, progress, cancellation) are keyword arguments with
defaults. Work per underlying: sensors once (``backtest.samples``), Greg's selector once per
sample for all strategies (``evaluate_frame``), then one binning pass per metric pair for all
strategies (``compute_pair_grid``). ``compute_sweep`` does only that; ``write_sweep_outputs``
(``backtest.sweep_results``) writes the files atomically, all or nothing.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from backtest.environment_heatmap import CountMode, parse_count_mode, validate_metric
from backtest.greg_selector import (
    STRATEGY_KEYS,
    evaluate_frame,
    parse_missing_policy,
    resolve_strategy,
    strategy_label,
)
from backtest.heatmap_grid import PairGrid, compute_pair_grid, strategy_weights
from backtest.samples import SYNTHETIC, SensorData, load_sensor_data, validate_source

DEFAULT_METRICS: Sequence[str] = [
    "vrp_30d",
    "adx_14d",
    "iv_rank_6m",
    "skew_25d",
    "term_structure_spread",
    "front_rv_iv_ratio",
    "price_vs_ma200",
    "rsi_14d",
]

DEFAULT_STRATEGIES: Sequence[str] = [
    "Strategy A: ATM Straddle",
    "Strategy B: OTM Strangle",
    "Strategy B: Calendar Spread",
    "Strategy C: Short Put Accumulation",
    "Strategy D: Iron Butterfly",
    "Strategy F: Bull Put Spread",
    "Strategy F: Bear Call Spread",
]
DEFAULT_UNDERLYINGS: tuple[str, ...] = ("BTC", "ETH")
# A grid is held per pair in memory and on disk; 500 x 500 cells is already far past what a
# terminal can show and keeps a sweep's memory bounded.
MAX_BINS = 500
# Share of the overall progress bar given to computing; the rest is writing the files.
COMPUTE_SHARE = 0.85

ProgressCallback = Callable[[float, str], None]
CancelCheck = Callable[[], bool] | threading.Event


class SweepCancelled(Exception):
    """The sweep was cancelled; nothing was written."""


class SweepConfigError(ValueError):
    """A sweep parameter is invalid; the message is one line naming it and the valid choices."""


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
    source: str = SYNTHETIC,
    lookback_days: int | None = None,
    missing_policy: str = "strict",
    count_mode: str = "selected",
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


@dataclass
class SweepResult:
    params: SweepParams
    underlyings: list[UnderlyingSweep]
    records: list[dict]  # the sweet-spot summary records, JSON-ready
    compute_seconds: float
    started_at: str = field(default="")

    @property
    def n_sweet_spots(self) -> int:
        return sum(len(r["sweet_spots"]) for r in self.records)


def _cancelled(cancel: CancelCheck | None) -> bool:
    if cancel is None:
        return False
    return cancel.is_set() if isinstance(cancel, threading.Event) else bool(cancel())


def sweet_spots_for(grid: PairGrid, strategy_column: int, params: SweepParams) -> list[dict]:
    """Top-K cells by sweetness with occupancy >= min_env_frac and pass rate >= min_pass_frac."""
    occupancy = grid.occupancy
    pass_rate = grid.pass_rate[strategy_column]
    sweetness = occupancy * pass_rate
    keep = (occupancy >= params.min_env_frac) & (pass_rate >= params.min_pass_frac) & (grid.counts > 0)
    ix, iy = np.nonzero(keep)
    if len(ix) == 0:
        return []
    order = np.lexsort((iy, ix, -grid.counts[ix, iy], -sweetness[ix, iy]))[: params.top_k]
    wilson = grid.wilson_low[strategy_column]
    avg_score = grid.avg_score[strategy_column]
    spots = []
    for i in order:
        x, y = int(ix[i]), int(iy[i])
        spots.append(
            {
                "x_low": float(grid.x_edges[x]),
                "x_high": float(grid.x_edges[x + 1]),
                "y_low": float(grid.y_edges[y]),
                "y_high": float(grid.y_edges[y + 1]),
                "occupancy_frac": float(occupancy[x, y]),
                "strategy_pass_frac": float(pass_rate[x, y]),
                "sweetness": float(sweetness[x, y]),
                "count": int(grid.counts[x, y]),
                "selected_count": int(grid.selected[strategy_column, x, y]),
                "wilson_low": float(wilson[x, y]),
                "avg_score": float(avg_score[x, y]),
                "x_bin": x,
                "y_bin": y,
            }
        )
    return spots


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
        if _cancelled(cancel):
            raise SweepCancelled("sweep cancelled; previous results left as they were")

    columns = [STRATEGY_KEYS.index(k) for k in params.strategies]
    underlyings: list[UnderlyingSweep] = []
    records: list[dict] = []
    for underlying in params.underlyings:
        report(f"{underlying}: loading {params.source} data")
        if data_by_underlying is not None and underlying in data_by_underlying:
            data = data_by_underlying[underlying]
        else:
            data = load_sensor_data(
                underlying, params.source, params.lookback_days, seed=params.seed, data_dir=data_dir,
                regime_file=regime_file,
            )
        # ignore-missing drops comparisons only on sensors this source lacks altogether; a
        # sensor missing on some rows (warm-up, gaps) still fails its comparison, so a day
        # without implied vol never selects a premium-selling strategy.
        absent = data.absent_sensors()
        decisions = evaluate_frame(data.sensors, policy=params.missing_policy, ignorable=absent)
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
                    {
                        "underlying": underlying,
                        "strategy": strategy_label(key),
                        "strategy_key": key,
                        "x_metric": x_metric,
                        "y_metric": y_metric,
                        "samples": grid.total_samples,
                        "sweet_spots": sweet_spots_for(grid, position, params),
                    }
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
            )
        )
    report("sweep computed")
    return SweepResult(params, underlyings, records, time.perf_counter() - started)


def run_greg_sweetspot_sweep(
    base_dir: Path,
    underlyings: Sequence[str] = DEFAULT_UNDERLYINGS,
    metrics: Sequence[str] = DEFAULT_METRICS,
    strategies: Sequence[str] = DEFAULT_STRATEGIES,
    x_bins: int = 20,
    y_bins: int = 20,
    min_env_frac: float = 0.005,  # 0.5% occupancy
    min_pass_frac: float = 0.4,  # 40% strategy pass rate
    top_k: int = 5,
    *,
    source: str = SYNTHETIC,
    lookback_days: int | None = None,
    missing_policy: str = "strict",
    count_mode: str = "selected",
    progress: ProgressCallback | None = None,
    cancel: CancelCheck | None = None,
    seed: int | None = None,
    data_dir: Path | None = None,
    regime_file: Path | None = None,
) -> Path:
    """Run the Greg environment sweep across the metric pairs and strategies and save, under
    ``base_dir/backtest/output/``: the env heatmap CSVs, the sweet-spot JSON and Markdown,
    the compact grid file and the run manifest. Returns the path to the JSON file.

    Parameters are validated before any work (``SweepConfigError``); outputs are written to a
    staging folder and moved in only when everything succeeded, so a failure or a
    cancellation (``SweepCancelled``) leaves the previous results untouched. ``progress``
    sees computing as 0..0.85 and writing as 0.85..1. ``regime_file`` chooses the synthetic
    universe's regime file (default ``data/greg_regimes.json``).
    """
    from backtest.sweep_results import output_dir_for, write_sweep_outputs

    params = validate_sweep_params(
        underlyings, metrics, strategies, x_bins, y_bins, min_env_frac, min_pass_frac, top_k,
        source, lookback_days, missing_policy, count_mode, seed,
    )
    started_wall = time.time()

    def scaled(low: float, high: float) -> ProgressCallback | None:
        if progress is None:
            return None
        return lambda fraction, message: progress(low + (high - low) * fraction, message)

    result = compute_sweep(params, scaled(0.0, COMPUTE_SHARE), cancel, data_dir, regime_file=regime_file)
    result.started_at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started_wall))
    if _cancelled(cancel):
        raise SweepCancelled("sweep cancelled; previous results left as they were")
    paths = write_sweep_outputs(
        result, output_dir_for(Path(base_dir)), started_wall, progress=scaled(COMPUTE_SHARE, 1.0), cancel=cancel
    )
    return paths["json"]
