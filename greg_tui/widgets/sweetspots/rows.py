"""Sweet-spot rows: flattening the stored records, formatting, sorting and filtering."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from greg_core.formatting import fmt_interval, fmt_num, fmt_pct, fmt_range, fmt_signed
from greg_tui.markup import escape
from greg_tui.outcome_labels import THIN_MARK, UNITS, with_thin

if TYPE_CHECKING:  # the records are the engine's; this module must not import it at start
    from backtest.heatmaps.sweetspots import OutcomeBlock, SweetSpotRecord

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
    # What happened after the strategy's days in the cell (None: a run without outcomes):
    # the forward edge (vol pts) and the strategy's structure P&L (% of entry spot).
    outcome: OutcomeBlock | None = None
    pnl: OutcomeBlock | None = None
    # Walk-forward: its later third beat that third's no-trade days (None: not chosen on the
    # earlier two thirds too, no later days, or a run without a scorecard).
    held_up: bool | None = None

    @property
    def key(self) -> str:
        return f"{self.underlying}|{self.strategy_key}|{self.x_metric}|{self.y_metric}|{self.rank}"

    @property
    def thin(self) -> bool:
        """Its edge rests on fewer independent episodes than the run's minimum."""
        return self.outcome is not None and self.outcome.thin

    @property
    def pair(self) -> str:
        return f"{self.x_metric} / {self.y_metric}"

    @property
    def short_pair(self) -> str:
        """'vrp30/fRV/IV': the pair in a narrow table."""
        return f"{short_metric(self.x_metric)}/{short_metric(self.y_metric)}"

    def describe(self, trust: str | None = None, narrow: bool = False) -> str:
        """Everything about the spot (the detail strip under the table): its ranges, what
        happened after its days, its counts; ``trust``: what its outcomes are ("model
        outcomes, realism: fail"); ``narrow``: shorter words, so an 80-column strip of four
        lines holds it all."""
        label = narrow_label(self.strategy_label) if narrow else self.strategy_label
        within = " " if narrow else " in "
        text = (
            f"[b]{self.underlying}[/b] {label} #{self.rank}: "
            f"[b]{self.x_metric}[/b]{within}[{fmt_num(self.x_low)}, {fmt_num(self.x_high)}], "
            f"[b]{self.y_metric}[/b]{within}[{fmt_num(self.y_low)}, {fmt_num(self.y_high)}]"
        )
        text += self.describe_outcomes(narrow)
        if narrow:
            text += (
                f"; occ {self.occupancy * 100:.2f}% of the pair's {self.pair_samples}, "
                f"pass {self.pass_rate * 100:.1f}% ({self.selected_count}/{self.count}, "
                f"Wilson≥{self.wilson_low * 100:.1f}%), score {self.sweetness:.4f}"
            )
        else:
            text += (
                f"; occupancy {self.occupancy * 100:.2f}% of the pair's {self.pair_samples} samples, "
                f"pass {self.pass_rate * 100:.1f}% ({self.selected_count}/{self.count}, "
                f"Wilson 95% low {self.wilson_low * 100:.1f}%), score {self.sweetness:.4f}"
            )
            if math.isfinite(self.avg_score):
                text += f", avg criteria met {self.avg_score * 100:.0f}%"
        return text + (f" [dim]({escape(trust)})[/dim]" if trust else "")

    def describe_outcomes(self, narrow: bool = False) -> str:
        """What happened after the spot's days: the edge (with the cell's no-trade days and the
        later third of the span) and the strategy's structure P&L; "" without outcomes."""
        block = self.outcome
        if block is None:
            return ""
        if block.n == 0:
            return "; no day here has a complete future yet"
        episodes = "ep" if narrow else "episodes"
        text = (
            f"; [b]edge[/b] {fmt_signed(block.mean)} {UNITS['edge']} {fmt_interval(block.ci_low, block.ci_high)} "
            + ("95% NW" if narrow else "(95% Newey-West)")
            + f", {block.n} days, {block.episodes} {episodes}"
            + (f" [b]{THIN_MARK}thin[/b]" if block.thin else "")
            + f", hit {fmt_pct(block.hit_rate, 0)}"
        )
        if block.no_trade_mean is not None:
            here = "no-trade here" if narrow else "no-trade days here"
            text += f", {here} {fmt_signed(block.no_trade_mean)} ({block.no_trade_n})"
        if block.oos_mean is not None:
            text += f", later third {fmt_signed(block.oos_mean)} ({block.oos_n} days"
            text += ", held up)" if self.held_up else ")"
        pnl = self.pnl
        if pnl is not None and pnl.n:
            unit = "%" if narrow else UNITS["pnl"]
            text += (f"; [b]P&L[/b] {fmt_signed(pnl.mean, 2)}{unit} "
                     f"{fmt_interval(pnl.ci_low, pnl.ci_high, 2)}" + (f" {THIN_MARK}" if pnl.thin else ""))
        return text


def _held_up_judge(baselines: Mapping[str, float | None] | None) -> Callable[[str, object], bool | None]:
    """(underlying, outcome block) -> held up out of sample (``spot_held_up``); always None
    without the underlyings' later-third no-trade means."""
    if baselines is None:
        return lambda _underlying, _block: None
    from backtest.heatmaps.markdown import spot_held_up  # records given: the engine is loaded

    return lambda underlying, block: spot_held_up(block, baselines.get(underlying))


def rows_from_records(records: Iterable[SweetSpotRecord],
                      later_third_baselines: Mapping[str, float | None] | None = None) -> list[SpotRow]:
    """One row per sweet spot, ranked within its (underlying, strategy, pair); with each
    underlying's later-third no-trade mean, whether each held up out of sample."""
    held_up = _held_up_judge(later_third_baselines)
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
            outcome=getattr(spot, "outcome", None),
            pnl=getattr(spot, "pnl", None),
            held_up=held_up(record.underlying, getattr(spot, "outcome", None)),
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
    narrow: bool = False  # shown on a narrow terminal too
    outcome: bool = False  # a figure of the spot's outcome (italic when the spot is thin)

    def text(self, row: SpotRow, narrow: bool) -> str:
        return (self.narrow_cell or self.cell)(row) if narrow else self.cell(row)

    def title(self, narrow: bool) -> str:
        return (self.narrow_label or self.label) if narrow else self.label


def _nan_last(value: float | None) -> float:
    return -math.inf if value is None or not math.isfinite(value) else value


def _block_value(block: OutcomeBlock | None, name: str) -> float | None:
    return None if block is None or block.n == 0 else getattr(block, name)


def _edge_cell(row: SpotRow) -> str:
    block = row.outcome
    mean = _block_value(block, "mean")
    return "-" if mean is None else with_thin(fmt_signed(mean), block.thin)


def _signed_cell(block_of: Callable[[SpotRow], OutcomeBlock | None], name: str,
                 digits: int = 1) -> Callable[[SpotRow], str]:
    def cell(row: SpotRow) -> str:
        value = _block_value(block_of(row), name)
        return "-" if value is None else fmt_signed(value, digits)

    return cell


def _sort_by(block_of: Callable[[SpotRow], OutcomeBlock | None], name: str) -> Callable[[SpotRow], tuple]:
    """Outcome columns sort the thin spots (too few episodes to read) below the others when
    descending, so the best-looking figures on two episodes do not top the table."""
    def key(row: SpotRow) -> tuple:
        block = block_of(row)
        return (block is not None and not block.thin, _nan_last(_block_value(block, name)))
    return key


def _outcome(row: SpotRow) -> OutcomeBlock | None:
    return row.outcome


def _pnl(row: SpotRow) -> OutcomeBlock | None:
    return row.pnl


def _interval_cell(row: SpotRow) -> str:
    block = row.outcome
    return "-" if _block_value(block, "ci_low") is None else fmt_interval(block.ci_low, block.ci_high)


HELD_UP_MARK = "✓"


def _oos_cell(row: SpotRow) -> str:
    oos = _block_value(row.outcome, "oos_mean")
    return "-" if oos is None else fmt_signed(oos) + (HELD_UP_MARK if row.held_up else "")


def _hit_cell(row: SpotRow) -> str:
    hit = _block_value(row.outcome, "hit_rate")
    return "-" if hit is None else f"{hit * 100:.0f}"


# In table order. A narrow terminal (under 120 columns) shows only the ``narrow`` ones, which
# fit 80 columns whole (issue 12 #8: nothing cut, the sort arrow on screen): the spot, its
# score, what happened after its days (edge, episodes, hit, later third) and n of the pair's N;
# the rest is in the detail line under the table. ``outcome`` columns are italic on thin spots.
COLUMNS: tuple[Column, ...] = (
    Column("underlying", "Und", lambda r: r.underlying, lambda r: r.underlying, narrow=True),
    Column("strategy", "Strategy", lambda r: short_label(r.strategy_label), lambda r: r.strategy_label,
           narrow_cell=lambda r: narrow_label(r.strategy_label), narrow=True),
    Column("pair", "Pair (x / y)", lambda r: r.pair, lambda r: (r.x_metric, r.y_metric),
           narrow_cell=lambda r: r.short_pair, narrow_label="Pair", narrow=True),
    Column("score", "Score", lambda r: f"{r.sweetness:.4f}", lambda r: r.sweetness, numeric=True, narrow=True),
    # The forward edge of the strategy's days in the cell, vol pts (~: thin), its 95% interval,
    # its independent episodes, hit rate and the walk-forward later third's mean.
    Column("edge", "Edge", _edge_cell, _sort_by(_outcome, "mean"), numeric=True, narrow=True, outcome=True),
    Column("interval", "Edge 95% NW", _interval_cell, _sort_by(_outcome, "ci_low"), numeric=True, outcome=True),
    Column("episodes", "Ep", lambda r: "-" if r.outcome is None else str(r.outcome.episodes),
           lambda r: -1 if r.outcome is None else r.outcome.episodes, numeric=True, narrow=True, outcome=True),
    Column("hit", "Hit%", _hit_cell, _sort_by(_outcome, "hit_rate"), numeric=True, narrow=True, outcome=True),
    # ✓: held up (beat the later third's no-trade days).
    Column("oos", "Later⅓", _oos_cell, _sort_by(_outcome, "oos_mean"), numeric=True,
           narrow_label="OOS", narrow=True, outcome=True),
    # n of N: the cell's samples of the pair's samples (occupancy's base).
    Column("count", "n of pair N", lambda r: f"{r.count}/{r.pair_samples}", lambda r: r.count, numeric=True,
           narrow_label="n/N", narrow=True),
    Column("pass", "Pass%", lambda r: f"{r.pass_rate * 100:.1f}", lambda r: r.pass_rate, numeric=True),
    Column("wilson", "Wilson≥", lambda r: "-" if not math.isfinite(r.wilson_low) else f"{r.wilson_low * 100:.1f}",
           lambda r: _nan_last(r.wilson_low), numeric=True),
    Column("occupancy", "Occ%", lambda r: f"{r.occupancy * 100:.2f}", lambda r: r.occupancy, numeric=True),
    Column("pnl", "P&L%", _signed_cell(_pnl, "mean", 2), _sort_by(_pnl, "mean"), numeric=True, outcome=True),
    Column("x_range", "X range", lambda r: fmt_range(r.x_low, r.x_high), lambda r: r.x_low, numeric=True),
    Column("y_range", "Y range", lambda r: fmt_range(r.y_low, r.y_high), lambda r: r.y_low, numeric=True),
    Column("rank", "#", lambda r: str(r.rank), lambda r: r.rank, numeric=True),
)
COLUMN_KEYS: tuple[str, ...] = tuple(c.key for c in COLUMNS)
COLUMN_BY_KEY: dict[str, Column] = {c.key: c for c in COLUMNS}


def columns_for(narrow: bool) -> tuple[Column, ...]:
    """The columns a table shows: all of them, or the narrow set."""
    return tuple(c for c in COLUMNS if c.narrow) if narrow else COLUMNS


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
