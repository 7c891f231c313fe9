"""The vectorized 2-D binning behind every heatmap: one pass per pair for all strategies.

Semantics (PRODUCT.md "Heatmap semantics"):

* Equal-width bins. An inferred range is the finite data's min/max extended by 5% of the span
  on each side; a constant metric gets +-5% of |value| (+-1 when the value is 0). The maximum
  of a range falls in the last bin.
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

import numpy as np

RANGE_MARGIN = 0.05
WILSON_Z = 1.959963984540054  # two-sided 95%


def axis_edges(values: np.ndarray, bins: int, value_range: tuple[float, float] | None = None) -> np.ndarray:
    """``bins + 1`` equal-width edges: the explicit range, or the inferred one (see module)."""
    if bins < 1:
        raise ValueError(f"bins must be >= 1, got {bins}")
    if value_range is not None:
        low, high = (float(v) for v in value_range)
        if not (np.isfinite(low) and np.isfinite(high) and high > low):
            raise ValueError(f"range must be two finite numbers with low < high, got {value_range}")
    else:
        finite = values[np.isfinite(values)]
        if len(finite) == 0:
            low, high = 0.0, 1.0
        else:
            low, high = float(finite.min()), float(finite.max())
            if high > low:
                margin = (high - low) * RANGE_MARGIN
            else:
                margin = abs(low) * RANGE_MARGIN if low != 0 else 1.0
            low, high = low - margin, high + margin
    return np.linspace(low, high, bins + 1)


def bin_index(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Bin of each value (0..bins-1), the upper edge included in the last bin; -1 outside or
    not finite."""
    bins = len(edges) - 1
    low, high = edges[0], edges[-1]
    with np.errstate(invalid="ignore"):
        index = np.floor((values - low) / (high - low) * bins)
    index = np.where(values == high, bins - 1, index)
    inside = np.isfinite(values) & (values >= low) & (values <= high)
    return np.where(inside, np.clip(np.nan_to_num(index, nan=-1.0), 0, bins - 1), -1).astype(np.int64)


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

    @property
    def occupancy(self) -> np.ndarray:
        return self.counts / self.total_samples if self.total_samples else np.zeros(self.shape)

    @property
    def pass_rate(self) -> np.ndarray:
        """(strategies, x, y) selected / count, 0 in empty cells."""
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(self.counts > 0, self.selected / self.counts, 0.0)

    @property
    def avg_score(self) -> np.ndarray:
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(self.counts > 0, self.score_sum / self.counts, np.nan)

    @property
    def sweetness(self) -> np.ndarray:
        return self.occupancy[None, :, :] * self.pass_rate

    @property
    def wilson_low(self) -> np.ndarray:
        return wilson_lower_bound(self.selected, np.broadcast_to(self.counts, self.selected.shape))


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
) -> PairGrid:
    """Bin ``(x, y)`` and count, per cell, samples and for every strategy the samples it
    counts for (``counted``: bool (n, strategies)) and its score sum (``scores``: (n, strategies)).

    One ``bincount`` over the flattened (strategy, cell) index does every strategy at once.
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    present = np.isfinite(x) & np.isfinite(y)
    x_edges = axis_edges(x[present], x_bins, x_range)
    y_edges = axis_edges(y[present], y_bins, y_range)
    ix, iy = bin_index(x, x_edges), bin_index(y, y_edges)
    inside = present & (ix >= 0) & (iy >= 0)
    n_cells = x_bins * y_bins
    cell = (ix * y_bins + iy)[inside]
    counts = np.bincount(cell, minlength=n_cells)

    n_strategies = counted.shape[1]
    rows = np.flatnonzero(inside)
    strategy_offset = np.arange(n_strategies) * n_cells
    flat = (cell[:, None] + strategy_offset[None, :]).ravel()
    selected = np.bincount(flat, weights=counted[rows].ravel(), minlength=n_cells * n_strategies)
    score_sum = np.bincount(flat, weights=np.nan_to_num(scores[rows]).ravel(), minlength=n_cells * n_strategies)
    return PairGrid(
        x_metric=x_metric,
        y_metric=y_metric,
        x_edges=x_edges,
        y_edges=y_edges,
        counts=counts.reshape(x_bins, y_bins),
        selected=np.rint(selected).astype(np.int64).reshape(n_strategies, x_bins, y_bins),
        score_sum=score_sum.reshape(n_strategies, x_bins, y_bins),
        total_samples=int(present.sum()),
        outside=int((present & ~inside).sum()),
        missing=int((~present).sum()),
    )
