"""Walk-forward check of sweet spots: chosen on the earlier two thirds of the span, did the
cell keep paying in the later third? (docs/outcomes.md "Out of sample")

The span is cut by date (``backtest.outcomes.stats.walk_forward_split``): the earlier two
thirds, minus the last H days before the cut so no in-sample outcome reads a return after
it, choose the sweet spots exactly as the full sweep does (the same binning rule on those
samples, the same thresholds and ranking); the later third is only measured. A full-span
sweet spot gets the out-of-sample mean of the early sweet spot whose cell holds its centre
(None when no early sweet spot does: the cell was not chosen on the earlier data).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from backtest.heatmaps.binning import (
    BinCache,
    Binning,
    compute_pair_grids,
    sample_cells,
    strategy_weights,
)
from backtest.heatmaps.sweetspots import SweetSpot, ranked_cells_of_pairs
from backtest.outcomes.stats import batches


@dataclass(frozen=True)
class EarlySpot:
    """A sweet spot chosen on the earlier two thirds and what its cell did afterwards."""

    x_low: float
    x_high: float
    y_low: float
    y_high: float
    oos_edge_mean: float | None
    oos_edge_n: int
    oos_pnl_mean: float | None
    oos_pnl_n: int

    def holds(self, spot: SweetSpot) -> bool:
        cx, cy = (spot.x_low + spot.x_high) / 2, (spot.y_low + spot.y_high) / 2
        return self.x_low <= cx <= self.x_high and self.y_low <= cy <= self.y_high


def _cell_means(values: np.ndarray, keys: np.ndarray, n_keys: int) -> tuple[np.ndarray, np.ndarray]:
    """Mean and count of the finite ``values`` per key (NaN mean for an empty key)."""
    finite = np.isfinite(values)
    n = np.bincount(keys[finite], minlength=n_keys)
    total = np.bincount(keys[finite], weights=values[finite], minlength=n_keys)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > 0, total / np.maximum(n, 1), np.nan), n


def _number(value: float) -> float | None:
    return None if np.isnan(value) else float(value)


def early_spots(
    pairs: list[tuple[np.ndarray, np.ndarray, str, str]],
    counted: np.ndarray,
    scores: np.ndarray,
    in_sample: np.ndarray,
    out_of_sample: np.ndarray,
    edge: np.ndarray,
    pnl: list[np.ndarray],
    *,
    x_bins: int,
    y_bins: int,
    binning: Binning,
    min_env_frac: float,
    min_pass_frac: float,
    top_k: int,
) -> list[list[list[EarlySpot]]]:
    """Per (x, y, x_metric, y_metric) pair and strategy column of ``counted``: the early
    sweet spots (by sweetness) and their later-third means of the edge and of the strategy's
    own P&L on its days in the cell (the early grid's cell: ``x_low <= x < x_high``, the
    top edge included in the last bin, as every grid bins). Pair by pair (``compute_pair_grids``
    holds one pair's cells at a time), over the metrics' earlier and later samples and the
    strategy weights taken once. A metric's name stands for its values (the first array given
    under that name), as the grids' bin caches assume: one data set per call."""
    # Each metric's earlier and later samples taken once, and binned once per distinct edges
    # (the caches are keyed by metric name: one per set of samples).
    early_values: dict[str, np.ndarray] = {}
    late_values: dict[str, np.ndarray] = {}
    for x, y, xm, ym in pairs:
        for values, name in ((x, xm), (y, ym)):
            if name not in early_values:
                early_values[name], late_values[name] = values[in_sample], values[out_of_sample]
    early_cache: BinCache = {}
    late_cache: BinCache = {}
    early_grids = compute_pair_grids(
        [(early_values[xm], early_values[ym], xm, ym) for _, _, xm, ym in pairs],
        strategy_weights(counted[in_sample], scores[in_sample]), x_bins, y_bins, binning=binning,
        bin_cache=early_cache,
    )
    late_edge = edge[out_of_sample]
    late_pnl = np.column_stack([values[out_of_sample] for values in pnl]) if pnl else None
    n_pairs, n_columns, n_cells = len(pairs), counted.shape[1], x_bins * y_bins
    per_pair = n_columns * n_cells
    # The later third's samples in each early grid's cells (the same bins the spots were
    # chosen on), per strategy column: means per (pair, column, cell), a few pairs per pass.
    sample, column = np.nonzero(counted[out_of_sample])
    edge_mean, edge_n = np.full(n_pairs * per_pair, np.nan), np.zeros(n_pairs * per_pair, dtype=np.int64)
    pnl_mean, pnl_n = edge_mean.copy(), edge_n.copy()
    for run in batches([len(sample)] * n_pairs):
        cells = np.stack([sample_cells(early, late_values[xm], late_values[ym], late_cache)[sample]
                          for (_x, _y, xm, ym), early in zip(pairs[run], early_grids[run], strict=True)])
        pair, entry = np.nonzero(cells >= 0)  # pair-major, then (sample, column) order
        keys = pair * per_pair + column[entry] * n_cells + cells[pair, entry]
        span = slice(run.start * per_pair, run.stop * per_pair)
        edge_mean[span], edge_n[span] = _cell_means(late_edge[sample[entry]], keys, len(cells) * per_pair)
        if late_pnl is not None:
            pnl_mean[span], pnl_n[span] = _cell_means(late_pnl[sample[entry], column[entry]], keys,
                                                      len(cells) * per_pair)
    # The early spots' cells by the one ranking rule; only their edges and keys are needed.
    pair, column, ix, iy = ranked_cells_of_pairs(early_grids, min_env_frac, min_pass_frac, top_k)
    keys = (pair * per_pair + column * n_cells + ix * y_bins + iy).tolist()
    x_edges = np.stack([early.x_edges for early in early_grids]) if early_grids else np.zeros((0, x_bins + 1))
    y_edges = np.stack([early.y_edges for early in early_grids]) if early_grids else np.zeros((0, y_bins + 1))
    x_low, x_high = x_edges[pair, ix].tolist(), x_edges[pair, ix + 1].tolist()
    y_low, y_high = y_edges[pair, iy].tolist(), y_edges[pair, iy + 1].tolist()
    result: list[list[list[EarlySpot]]] = [[[] for _ in range(n_columns)] for _ in range(n_pairs)]
    for i, (p, c, key) in enumerate(zip(pair.tolist(), column.tolist(), keys, strict=True)):
        result[p][c].append(EarlySpot(
            x_low[i], x_high[i], y_low[i], y_high[i],
            _number(edge_mean[key]), int(edge_n[key]),
            _number(pnl_mean[key]) if late_pnl is not None else None,
            int(pnl_n[key]) if late_pnl is not None else 0,
        ))
    return result
