"""Sweet-spot rows: flattening the stored records, formatting, sorting and filtering."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from greg_core.formatting import fmt_num, fmt_range

if TYPE_CHECKING:  # the records are the engine's; this module must not import it at start
    from backtest.heatmaps.sweetspots import SweetSpotRecord

ALL = "*"


# Short sensor names for the pair column of a narrow table (the detail line keeps full names).
SHORT_METRIC: dict[str, str] = {
    "rv_7d": "rv7",
    "rv_30d": "rv30",
    "vrp_30d": "vrp30",
    "vrp_7d": "vrp7",
    "front_rv_iv_ratio": "fRV/IV",
    "chop_factor_7d": "chop7",
    "iv_rank_6m": "ivRank",
    "term_structure_spread": "term",
    "skew_25d": "skew25",
    "adx_14d": "adx14",
    "rsi_14d": "rsi14",
    "price_vs_ma200": "ma200",
}


def short_metric(name: str) -> str:
    return SHORT_METRIC.get(name, name)


def short_label(label: str) -> str:
    """'Strategy A: ATM Straddle' -> 'A: ATM Straddle' (the letter is the family)."""
    return label.removeprefix("Strategy ")


# Words a narrow table leaves out of a strategy label (the letter and the structure stay).
_NARROW_DROP = frozenset({"ATM", "OTM", "Spread", "Accumulation"})
_NARROW_WORDS = {"Butterfly": "Fly"}


def narrow_label(label: str) -> str:
    """'Strategy C: Short Put Accumulation' -> 'C Short Put' (a narrow table's strategy)."""
    letter, _colon, name = short_label(label).partition(": ")
    if not name:
        return letter
    words = [_NARROW_WORDS.get(w, w) for w in name.split() if w not in _NARROW_DROP]
    return " ".join([letter, *words])


@dataclass(frozen=True)
class SpotRow:
    underlying: str
    strategy_key: str
    strategy_label: str
    x_metric: str
    y_metric: str
    rank: int  # 1-based within its (underlying, strategy, pair) top K
    x_low: float
    x_high: float
    y_low: float
    y_high: float
    occupancy: float
    pass_rate: float
    wilson_low: float
    sweetness: float
    avg_score: float
    count: int
    selected_count: int
    pair_samples: int  # the pair's samples (both sensors present): the base of the occupancy
    x_bin: int | None
    y_bin: int | None

    @property
    def key(self) -> str:
        return f"{self.underlying}|{self.strategy_key}|{self.x_metric}|{self.y_metric}|{self.rank}"

    @property
    def pair(self) -> str:
        return f"{self.x_metric} / {self.y_metric}"

    @property
    def short_pair(self) -> str:
        return f"{short_metric(self.x_metric)} / {short_metric(self.y_metric)}"

    def describe(self) -> str:
        """One line with everything about the spot (the detail strip under the table)."""
        return (
            f"[b]{self.underlying}[/b] {self.strategy_label} #{self.rank}: "
            f"[b]{self.x_metric}[/b] in [{fmt_num(self.x_low)}, {fmt_num(self.x_high)}], "
            f"[b]{self.y_metric}[/b] in [{fmt_num(self.y_low)}, {fmt_num(self.y_high)}]; "
            f"occupancy {self.occupancy * 100:.2f}% of the pair's {self.pair_samples} samples, "
            f"pass {self.pass_rate * 100:.1f}% "
            f"({self.selected_count}/{self.count}, Wilson 95% low {self.wilson_low * 100:.1f}%), "
            f"score {self.sweetness:.4f}"
            + (f", avg criteria met {self.avg_score * 100:.0f}%" if math.isfinite(self.avg_score) else "")
        )


def rows_from_records(records: Iterable[SweetSpotRecord]) -> list[SpotRow]:
    """One row per sweet spot, ranked within its (underlying, strategy, pair)."""
    return [
        SpotRow(
            underlying=record.underlying,
            strategy_key=record.strategy_key,
            strategy_label=record.strategy,
            x_metric=record.x_metric,
            y_metric=record.y_metric,
            rank=rank,
            x_low=spot.x_low,
            x_high=spot.x_high,
            y_low=spot.y_low,
            y_high=spot.y_high,
            occupancy=spot.occupancy_frac,
            pass_rate=spot.strategy_pass_frac,
            wilson_low=spot.wilson_low,
            sweetness=spot.sweetness,
            avg_score=spot.avg_score,
            count=spot.count,
            selected_count=spot.selected_count,
            pair_samples=record.samples,
            x_bin=spot.x_bin,
            y_bin=spot.y_bin,
        )
        for record in records
        for rank, spot in enumerate(record.sweet_spots, start=1)
    ]


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    cell: Callable[[SpotRow], str]
    sort: Callable[[SpotRow], object]
    numeric: bool = False
    narrow_cell: Callable[[SpotRow], str] | None = None  # a shorter form for narrow terminals
    narrow_label: str | None = None

    def text(self, row: SpotRow, narrow: bool) -> str:
        return (self.narrow_cell or self.cell)(row) if narrow else self.cell(row)

    def title(self, narrow: bool) -> str:
        return (self.narrow_label or self.label) if narrow else self.label


def _nan_last(value: float) -> float:
    return -math.inf if not math.isfinite(value) else value


# In table order; on a narrow terminal the first eight fit 80 columns, the ranges and the
# rank are a scroll (left/right) away and in the detail line under the table.
COLUMNS: tuple[Column, ...] = (
    Column("underlying", "Und", lambda r: r.underlying, lambda r: r.underlying),
    Column("strategy", "Strategy", lambda r: short_label(r.strategy_label), lambda r: r.strategy_label,
           narrow_cell=lambda r: narrow_label(r.strategy_label)),
    Column("pair", "Pair (x / y)", lambda r: r.pair, lambda r: (r.x_metric, r.y_metric),
           narrow_cell=lambda r: r.short_pair, narrow_label="Pair"),
    Column("score", "Score", lambda r: f"{r.sweetness:.4f}", lambda r: r.sweetness, numeric=True),
    Column("pass", "Pass%", lambda r: f"{r.pass_rate * 100:.1f}", lambda r: r.pass_rate, numeric=True),
    Column("wilson", "Wilson≥", lambda r: "-" if not math.isfinite(r.wilson_low) else f"{r.wilson_low * 100:.1f}",
           lambda r: _nan_last(r.wilson_low), numeric=True, narrow_label="Wil≥"),
    Column("occupancy", "Occ%", lambda r: f"{r.occupancy * 100:.2f}", lambda r: r.occupancy, numeric=True),
    # n of N: the cell's samples of the pair's samples (occupancy's base).
    Column("count", "n of pair N", lambda r: f"{r.count}/{r.pair_samples}", lambda r: r.count, numeric=True,
           narrow_label="n/N"),
    Column("x_range", "X range", lambda r: fmt_range(r.x_low, r.x_high), lambda r: r.x_low, numeric=True),
    Column("y_range", "Y range", lambda r: fmt_range(r.y_low, r.y_high), lambda r: r.y_low, numeric=True),
    Column("rank", "#", lambda r: str(r.rank), lambda r: r.rank, numeric=True),
)
COLUMN_KEYS: tuple[str, ...] = tuple(c.key for c in COLUMNS)
COLUMN_BY_KEY: dict[str, Column] = {c.key: c for c in COLUMNS}


@dataclass(frozen=True)
class RowFilter:
    underlying: str = ALL
    strategy: str = ALL  # strategy key
    metric: str = ALL  # matches either axis

    def accepts(self, row: SpotRow) -> bool:
        return (
            (self.underlying == ALL or row.underlying == self.underlying)
            and (self.strategy == ALL or row.strategy_key == self.strategy)
            and (self.metric == ALL or self.metric in (row.x_metric, row.y_metric))
        )

    @property
    def active(self) -> bool:
        return (self.underlying, self.strategy, self.metric) != (ALL, ALL, ALL)


def sorted_rows(rows: Iterable[SpotRow], column: str, descending: bool) -> list[SpotRow]:
    """Stable sort by ``column``; ties keep score order (best first)."""
    spec = COLUMN_BY_KEY[column]
    base = sorted(rows, key=lambda r: (-r.sweetness, r.underlying, r.strategy_label, r.pair, r.rank))
    return sorted(base, key=spec.sort, reverse=descending)
