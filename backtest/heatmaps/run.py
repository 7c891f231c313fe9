"""``run_greg_sweetspot_sweep``: compute the sweep, then write its outputs, in one call.

It keeps the requested signature; the extra knobs (data source, lookback, missing policy,
count mode, progress, cancellation) are keyword arguments with defaults from
``backtest.heatmaps.options`` (docs/heatmaps.md, docs/outputs.md).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

from backtest.heatmaps.options import (
    DEFAULT_BIN_MODE,
    DEFAULT_CLIP_PCT,
    DEFAULT_COUNT_MODE,
    DEFAULT_HORIZON_DAYS,
    DEFAULT_METRICS,
    DEFAULT_MIN_ENV_FRAC,
    DEFAULT_MIN_EPISODES,
    DEFAULT_MIN_PASS_FRAC,
    DEFAULT_MISSING_POLICY,
    DEFAULT_RANK_BY,
    DEFAULT_SOURCE,
    DEFAULT_STRATEGIES,
    DEFAULT_TOP_K,
    DEFAULT_UNDERLYINGS,
    DEFAULT_X_BINS,
    DEFAULT_Y_BINS,
)
from backtest.heatmaps.store import write_sweep_outputs
from backtest.heatmaps.sweep import (
    COMPUTE_SHARE,
    CancelCheck,
    ProgressCallback,
    SweepParams,
    cancelled,
    compute_sweep,
    validate_sweep_params,
)
from backtest.sensors.sources import require_data_available
from greg_core.errors import SweepCancelled
from greg_core.settings import output_dir_for


def run_greg_sweetspot_sweep(
    base_dir: Path,
    underlyings: Sequence[str] = DEFAULT_UNDERLYINGS,
    metrics: Sequence[str] = DEFAULT_METRICS,
    strategies: Sequence[str] = DEFAULT_STRATEGIES,
    x_bins: int = DEFAULT_X_BINS,
    y_bins: int = DEFAULT_Y_BINS,
    min_env_frac: float = DEFAULT_MIN_ENV_FRAC,  # 0.5% occupancy
    min_pass_frac: float = DEFAULT_MIN_PASS_FRAC,  # 40% strategy pass rate
    top_k: int = DEFAULT_TOP_K,
    *,
    source: str = DEFAULT_SOURCE,
    lookback_days: int | None = None,
    missing_policy: str = DEFAULT_MISSING_POLICY,
    count_mode: str = DEFAULT_COUNT_MODE,
    progress: ProgressCallback | None = None,
    cancel: CancelCheck | None = None,
    seed: int | None = None,
    data_dir: Path | None = None,
    regime_file: Path | None = None,
    bin_mode: str = DEFAULT_BIN_MODE,
    clip_pct: float = DEFAULT_CLIP_PCT,
    horizon_days: int = DEFAULT_HORIZON_DAYS,
    min_episodes: int = DEFAULT_MIN_EPISODES,
    rank_by: str = DEFAULT_RANK_BY,
) -> Path:
    """Run the Greg environment sweep across the metric pairs and strategies and save, under
    ``base_dir/backtest/output/``: the env heatmap CSVs, the sweet-spot JSON and Markdown,
    the compact grid file and the run manifest. Returns the path to the JSON file.

    Parameters are validated before any work (``SweepConfigError``), and so is the presence
    of real data for every underlying (``MarketDataError``); outputs are published as one
    atomic step only when everything succeeded (``backtest.heatmaps.store``), so a failure or
    a cancellation (``SweepCancelled``) leaves the previous results untouched. ``progress``
    sees computing as 0..0.85 and writing as 0.85..1. ``regime_file`` chooses the synthetic
    universe's regime file (default ``data/greg_regimes.json``).
    """
    params = validate_sweep_params(
        underlyings, metrics, strategies, x_bins, y_bins, min_env_frac, min_pass_frac, top_k,
        source, lookback_days, missing_policy, count_mode, seed, bin_mode, clip_pct, horizon_days,
        min_episodes, rank_by,
    )
    return run_sweep(base_dir, params, progress=progress, cancel=cancel, data_dir=data_dir, regime_file=regime_file)


def run_sweep(
    base_dir: Path,
    params: SweepParams,
    *,
    progress: ProgressCallback | None = None,
    cancel: CancelCheck | None = None,
    data_dir: Path | None = None,
    regime_file: Path | None = None,
) -> Path:
    """``run_greg_sweetspot_sweep`` for parameters already validated (the app's scan setup
    holds a ``SweepParams``): compute, then write, all or nothing. Returns the JSON path."""
    # A real source missing an underlying fails here, in milliseconds, not after the others ran.
    require_data_available(params.underlyings, params.source, data_dir)
    started_wall = time.time()

    def scaled(low: float, high: float) -> ProgressCallback | None:
        if progress is None:
            return None
        return lambda fraction, message: progress(low + (high - low) * fraction, message)

    result = compute_sweep(params, scaled(0.0, COMPUTE_SHARE), cancel, data_dir, regime_file=regime_file)
    result.started_at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started_wall))
    if cancelled(cancel):
        raise SweepCancelled("sweep cancelled; previous results left as they were")
    paths = write_sweep_outputs(
        result, output_dir_for(Path(base_dir)), started_wall, progress=scaled(COMPUTE_SHARE, 1.0), cancel=cancel
    )
    return paths["json"]
