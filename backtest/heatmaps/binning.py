"""The vectorized 2-D binning behind every heatmap: one pass per pair for all strategies.

Semantics (docs/heatmaps.md "Binning"):

* Equal-width bins (the requested default). An inferred range is the finite data's min/max
  extended by 5% of the span on each side; a constant metric gets +-5% of |value| (+-1 when
  the value is 0). The maximum of a range falls in the last bin.
* Options (``Binning``) for axes stretched by outliers: ``clip_pct`` sets the range to the
  data's [clip, 100 - clip] percentiles (no margin; the samples beyond fall outside and are
  counted in ``outside``); ``mode="quantile"`` places the edges at equal-count quantiles of
  the data in the range (ties can make empty zero-width bins).
* With an explicit range, samples outside it fall in no cell but still count in
  ``total_samples``; ``outside`` reports how many.
* Samples missing either metric (NaN, +-inf) are skipped: they are not in ``total_samples``
  and ``missing`` reports how many.
* ``occupancy = count / total_samples``; a strategy's pass rate is ``selected / count`` (0 in
  an empty cell); its average score is the mean of its score over the cell's samples.

Arrays are indexed ``[x_bin, y_bin]`` and, for strategies, ``[strategy, x_bin, y_bin]``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

RANGE_MARGIN = 0.05
BIN_MODES: tuple[str, ...] = ("equal", "quantile")
MAX_CLIP_PCT = 25.0


@dataclass(frozen=True)
class Binning:
    """How an axis is cut: ``mode`` equal-width or quantile; ``clip_pct`` percent of the data
    left outside the range at each tail (0: the whole range)."""

    mode: str = "equal"
    clip_pct: float = 0.0

    def __post_init__(self) -> None:
        if self.mode not in BIN_MODES:
            raise ValueError(f"unknown bin mode {self.mode!r}; choose one of: {', '.join(BIN_MODES)}")
        if not 0.0 <= float(self.clip_pct) <= MAX_CLIP_PCT:
            raise ValueError(f"clip percent must be between 0 and {MAX_CLIP_PCT:g}, got {self.clip_pct!r}")

    @property
    def is_default(self) -> bool:
        return self.mode == "equal" and self.clip_pct == 0.0

    def describe(self) -> str:
        text = "equal-width" if self.mode == "equal" else "quantile"
        if self.clip_pct:
            text += f", range clipped to the {self.clip_pct:g}-{100 - self.clip_pct:g} percentiles"
        return text


EQUAL_WIDTH = Binning()
WILSON_Z = 1.959963984540054  # two-sided 95%


def _finite_min_max(values: np.ndarray) -> tuple[float, float] | None:
    """(min, max) of the finite values, None when there is none (no copy when all are)."""
    values = np.asarray(values, dtype=float)
    if len(values) == 0:
        return None
    low, high = float(values.min()), float(values.max())
    if np.isfinite(low) and np.isfinite(high):  # NaN or +-inf anywhere would show here
        return low, high
    finite = values[np.isfinite(values)]
    return (float(finite.min()), float(finite.max())) if len(finite) else None


def axis_edges(
    values: np.ndarray,
    bins: int,
    value_range: tuple[float, float] | None = None,
    binning: Binning = EQUAL_WIDTH,
) -> np.ndarray:
    """``bins + 1`` edges: equal-width over the explicit range or the inferred one, or as
    ``binning`` says (see module)."""
    if bins < 1:
        raise ValueError(f"bins must be >= 1, got {bins}")
    if not binning.is_default and value_range is None:
        return _optional_edges(np.asarray(values, dtype=float), bins, binning)
    if value_range is not None:
        low, high = (float(v) for v in value_range)
        if not (np.isfinite(low) and np.isfinite(high) and high > low):
            raise ValueError(f"range must be two finite numbers with low < high, got {value_range}")
    else:
        extremes = _finite_min_max(values)
        if extremes is None:
            low, high = 0.0, 1.0
        else:
            low, high = extremes
            if high > low:
                margin = (high - low) * RANGE_MARGIN
            else:
                margin = abs(low) * RANGE_MARGIN if low != 0 else 1.0
            low, high = low - margin, high + margin
    return np.linspace(low, high, bins + 1)


def _optional_edges(values: np.ndarray, bins: int, binning: Binning) -> np.ndarray:
    finite = values[np.isfinite(values)]
    if len(finite) == 0:
        return axis_edges(finite, bins)
    if binning.clip_pct:
        low, high = (float(v) for v in np.percentile(finite, [binning.clip_pct, 100.0 - binning.clip_pct]))
    else:
        low, high = float(finite.min()), float(finite.max())
    if not high > low:  # constant (or constant after clipping): the default's +-5% range
        return axis_edges(finite[(finite >= low) & (finite <= high)], bins)
    inside = finite[(finite >= low) & (finite <= high)]
    if binning.mode == "equal" or len(inside) == 0:
        # (Quantile bins of a clipped range no value falls in, e.g. two values clipped 10%
        # each side: nothing to take quantiles of, so the range's equal-width bins.)
        return np.linspace(low, high, bins + 1)
    edges = np.quantile(inside, np.linspace(0.0, 1.0, bins + 1))
    edges[0], edges[-1] = low, high
    return np.maximum.accumulate(edges)  # interpolation can wobble an ulp below a tie


def bin_index(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Bin of each value (0..bins-1), the upper edge included in the last bin; -1 outside or
    not finite.

    Bin ``i`` holds exactly the values with ``edges[i] <= v < edges[i + 1]`` (the cell bounds
    that are reported), so a value sitting on an edge goes to the cell that starts there.
    """
    bins = len(edges) - 1
    values = np.asarray(values, dtype=float)
    # NaN sorts after every edge, -inf before: both end up outside.
    index = np.searchsorted(edges, values, side="right") - 1
    index[values == edges[-1]] = bins - 1
    return np.where((index >= 0) & (index < bins), index, -1).astype(np.int64, copy=False)


def wilson_lower_bound(successes: np.ndarray, trials: np.ndarray, z: float = WILSON_Z) -> np.ndarray:
    """Wilson score interval lower bound of a binomial proportion (0 where trials == 0)."""
    successes = np.asarray(successes, dtype=float)
    trials = np.asarray(trials, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = successes / trials
        denom = 1.0 + z * z / trials
        centre = p + z * z / (2.0 * trials)
        spread = z * np.sqrt(p * (1.0 - p) / trials + z * z / (4.0 * trials * trials))
        bound = (centre - spread) / denom
    return np.where(trials > 0, np.clip(bound, 0.0, 1.0), 0.0)


@dataclass
class PairGrid:
    """Counts for one metric pair of one underlying, all strategies at once."""

    x_metric: str
    y_metric: str
    x_edges: np.ndarray
    y_edges: np.ndarray
    counts: np.ndarray  # (x_bins, y_bins) samples per cell
    selected: np.ndarray  # (strategies, x_bins, y_bins) samples counted for each strategy
    score_sum: np.ndarray  # (strategies, x_bins, y_bins) sum of strategy scores
    total_samples: int  # samples with both metrics present (inside or outside the ranges)
    outside: int  # of those, how many fell outside an explicit range
    missing: int  # samples skipped for a missing metric

    @property
    def shape(self) -> tuple[int, int]:
        return self.counts.shape

    # Derived arrays are computed once per grid (a sweep reads them for every strategy).
    @cached_property
    def occupancy(self) -> np.ndarray:
        return self.counts / self.total_samples if self.total_samples else np.zeros(self.shape)

    @cached_property
    def pass_rate(self) -> np.ndarray:
        """(strategies, x, y) selected / count, 0 in empty cells."""
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(self.counts > 0, self.selected / self.counts, 0.0)

    @cached_property
    def avg_score(self) -> np.ndarray:
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(self.counts > 0, self.score_sum / self.counts, np.nan)

    @cached_property
    def sweetness(self) -> np.ndarray:
        return self.occupancy[None, :, :] * self.pass_rate

    @cached_property
    def wilson_low(self) -> np.ndarray:
        return wilson_lower_bound(self.selected, np.broadcast_to(self.counts, self.selected.shape))


def strategy_weights(counted: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """The per-sample weights ``compute_pair_grid`` sums per cell, built once per data set:
    a float64 ``(n, 1 + 2 * strategies)`` matrix: a column of ones (the sample count), the
    counted flags, then the scores (non-finite scores as 0). Column-major (Fortran order):
    each column is contiguous, as the per-column ``np.bincount`` reads it."""
    counted = np.asarray(counted)
    scores = np.asarray(scores, dtype=float)
    if counted.shape != scores.shape or counted.ndim != 2:
        raise ValueError(f"counted and scores must both be (n, strategies), got {counted.shape} and {scores.shape}")
    if not np.isfinite(scores).all():
        scores = np.nan_to_num(scores, nan=0.0, posinf=0.0, neginf=0.0)
    n, n_strategies = counted.shape
    weights = np.empty((n, 1 + 2 * n_strategies), order="F")
    weights[:, 0] = 1.0
    weights[:, 1 : 1 + n_strategies] = counted
    weights[:, 1 + n_strategies :] = scores
    return weights


BinCache = dict[tuple[str, bytes], np.ndarray]


def _axis_bins(values: np.ndarray, edges: np.ndarray, name: str, cache: BinCache | None) -> np.ndarray:
    if cache is None:
        return bin_index(values, edges)
    key = (name, edges.tobytes())
    index = cache.get(key)
    if index is None:
        index = cache[key] = bin_index(values, edges).astype(np.int32)
    return index


def _flat_cells(ix: np.ndarray, iy: np.ndarray, y_bins: int) -> np.ndarray:
    """``x_bin * y_bins + y_bin`` per sample, -1 outside every cell; int32 (a grid has at most
    500 x 500 cells), half the memory of int64 on a long span."""
    return np.where((ix >= 0) & (iy >= 0), ix.astype(np.int32) * np.int32(y_bins) + iy, np.int32(-1)).astype(
        np.int32, copy=False)


def sample_cells(grid: PairGrid, x: np.ndarray, y: np.ndarray, bin_cache: BinCache | None = None) -> np.ndarray:
    """Each sample's flat cell in ``grid`` (``x_bin * y_bins + y_bin``), -1 when it falls in
    none (a metric missing, or outside an explicit or clipped range). Reuses the bins a
    ``compute_pair_grid`` call with the same ``bin_cache`` computed."""
    ix = _axis_bins(np.asarray(x, dtype=float), grid.x_edges, grid.x_metric, bin_cache)
    iy = _axis_bins(np.asarray(y, dtype=float), grid.y_edges, grid.y_metric, bin_cache)
    return _flat_cells(ix, iy, grid.shape[1])


def compute_pair_grids(
    pairs: list[tuple[np.ndarray, np.ndarray, str, str]],
    weights: np.ndarray,
    x_bins: int = 20,
    y_bins: int = 20,
    x_range: tuple[float, float] | None = None,
    y_range: tuple[float, float] | None = None,
    *,
    bin_cache: BinCache | None = None,
    binning: Binning = EQUAL_WIDTH,
) -> list[PairGrid]:
    """``compute_pair_grid`` for many (x, y, x_metric, y_metric) pairs of one data set: each
    pair's edges and bins, then its per-cell sums by one ``np.bincount`` per weight column,
    each cell summed in sample order.

    Pair by pair over contiguous weight columns: a gather of every (pair, sample) weight
    per column cost 3-6x more on long spans, and only one pair's cells exist at a time."""
    n = weights.shape[0]
    n_strategies = (weights.shape[1] - 1) // 2
    if weights.shape != (n, 1 + 2 * n_strategies):
        raise ValueError(f"weights must be (n, 1 + 2 * strategies), got {weights.shape}")
    n_cells = x_bins * y_bins
    for x, y, _, _ in pairs:
        if np.shape(x) != (n,) or np.shape(y) != (n,):
            raise ValueError(f"x, y and weights disagree: {np.shape(x)}, {np.shape(y)}, {weights.shape}")

    def prepare(x: np.ndarray, y: np.ndarray, x_metric: str, y_metric: str) -> tuple:
        x = np.asarray(x, dtype=float)
        y = np.asarray(y, dtype=float)
        present = np.isfinite(x) & np.isfinite(y)
        n_present = int(np.count_nonzero(present))
        all_present = n_present == n
        x_edges = axis_edges(x if all_present else x[present], x_bins, x_range, binning)
        y_edges = axis_edges(y if all_present else y[present], y_bins, y_range, binning)
        ix = _axis_bins(x, x_edges, x_metric, bin_cache)
        iy = _axis_bins(y, y_edges, y_metric, bin_cache)
        return x_metric, y_metric, x_edges, y_edges, _flat_cells(ix, iy, y_bins), n_present

    columns = weights.shape[1] - 1
    grids: list[PairGrid] = []
    for pair in pairs:
        x_metric, y_metric, x_edges, y_edges, cells, n_present = prepare(*pair)
        inside = cells >= 0
        every = bool(inside.all())
        keys = cells if every else cells[inside]
        counts = np.bincount(keys, minlength=n_cells).astype(np.int64)
        sums = np.empty((columns, n_cells))
        for column in range(columns):
            weight = weights[:, column + 1]
            sums[column] = np.bincount(keys, weights=weight if every else weight[inside], minlength=n_cells)
        sums = sums.reshape(columns, x_bins, y_bins)
        grids.append(
            PairGrid(
                x_metric=x_metric,
                y_metric=y_metric,
                x_edges=x_edges,
                y_edges=y_edges,
                counts=counts.reshape(x_bins, y_bins),
                selected=np.rint(sums[:n_strategies]).astype(np.int64),
                score_sum=np.ascontiguousarray(sums[n_strategies:]),
                total_samples=n_present,
                outside=n_present - int(counts.sum()),
                missing=n - n_present,
            )
        )
    return grids


def compute_pair_grid(
    x: np.ndarray,
    y: np.ndarray,
    counted: np.ndarray,
    scores: np.ndarray,
    x_bins: int = 20,
    y_bins: int = 20,
    x_range: tuple[float, float] | None = None,
    y_range: tuple[float, float] | None = None,
    x_metric: str = "x",
    y_metric: str = "y",
    *,
    weights: np.ndarray | None = None,
    bin_cache: BinCache | None = None,
    binning: Binning = EQUAL_WIDTH,
) -> PairGrid:
    """Bin ``(x, y)`` and count, per cell, samples and for every strategy the samples it
    counts for (``counted``: bool (n, strategies)) and its score sum (``scores``: (n, strategies)).

    The per-cell sums are one ``np.bincount`` per column of the (n, 1 + 2 * strategies)
    ``strategy_weights`` matrix (built once by a sweep and passed as ``weights``): every
    strategy at once, each cell summed in sample order. A ``bin_cache`` dict shared by the
    pairs of one data set bins a metric once per distinct set of edges (it is keyed by metric
    name: one cache per data set). ``compute_pair_grids`` does many pairs in one pass.
    """
    if weights is None:
        weights = strategy_weights(counted, scores)
    return compute_pair_grids(
        [(x, y, x_metric, y_metric)], weights, x_bins, y_bins, x_range, y_range, bin_cache=bin_cache, binning=binning
    )[0]
