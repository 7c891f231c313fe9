"""The data the selector and series screens show: one (underlying, source) loaded once, with
its forward outcomes and Greg's decisions on every day (docs/app.md "5 Selector", "6 Series").

``load_span`` runs in a screen's worker: it loads the sensors as every other reader does
(``backtest.sensors.sources.load_sensor_data``; the frame carries the raw columns the sensors
came from), computes ``forward_outcomes`` on those raw columns once for the horizon of the
loaded results, and the decisions under each missing policy. Nothing is computed per keypress;
the last few spans are kept (``load_span``) while the files they were read from are unchanged.

Outcomes read the future after each day. They are kept apart from the sensors and decisions
(which never see them) and are only displayed, as outcomes, labelled with what they can be
trusted for (``backtest.heatmaps.outputs.outcome_trust``; on the synthetic source with the
regime file's realism verdict).
"""

from __future__ import annotations

import threading
import warnings
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from backtest.data.availability import real_data_folder
from backtest.heatmaps.outputs import outcome_trust
from backtest.outcomes import forward_outcomes
from backtest.outcomes.edge import DEFAULT_HORIZON_DAYS, edge_column, forward_realized_vol
from backtest.outcomes.structures import hedged_pnl_column, pnl_column, structures_for
from backtest.regimes.realism import verdict_from_provenance
from backtest.selector.evaluate import MISSING_POLICIES, SelectorFrame, evaluate_frame
from backtest.sensors.sources import SYNTHETIC, SensorData, load_sensor_data
from greg_core.contract import RAW_COLUMNS
from greg_core.errors import MarketDataError
from greg_core.formatting import finite_or_none
from greg_core.settings import default_regime_file
from greg_tui.outcome_labels import model_realism
from synthetic.regime_model import RegimeModel, load_regime_model

REGIME_COLUMN = "regime_id"  # the synthetic universe's regime of each day (no other source has one)


def _parameters(results) -> dict:
    return (getattr(results, "manifest", None) or {}).get("parameters") or {}


def _whole(value, minimum: int) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= minimum else None


def horizon_of(results) -> int:
    """H of the loaded results (their manifest's ``parameters.horizon_days``), else 30."""
    return _whole(_parameters(results).get("horizon_days"), 2) or DEFAULT_HORIZON_DAYS


def results_window(results, source: str) -> tuple[int | None, int | None]:
    """(lookback_days, seed) of the loaded results when they came from ``source``: the span
    is then the very data the grid was counted on (a synthetic universe of 400 days is
    another path than the 1,095-day default, not its tail). (None, None) otherwise."""
    params = _parameters(results)
    if params.get("source") != source:
        return None, None
    return _whole(params.get("lookback_days"), 1), _whole(params.get("seed"), 0)


@dataclass(frozen=True)
class SpanKey:
    """What a span was loaded from; a screen reloads when its key changes."""

    underlying: str
    source: str
    data_dir: Path | None  # real sources: the data folder (None: the default)
    regime_file: Path | None  # synthetic: the regime file (None: the default)
    horizon_days: int
    lookback_days: int | None = None  # the results' (None: the source's default length)
    seed: int | None = None  # synthetic: the results' seed (None: the default)


@dataclass(frozen=True)
class Trust:
    """What the outcomes can be trusted for: ``label`` ("real outcomes", "model outcomes,
    realism: fail"), the outputs' ``sentence`` and, on the synthetic source, the realism
    verdict's summary (or why there is none)."""

    label: str
    sentence: str
    realism: str | None = None

    @property
    def model(self) -> bool:
        """Outcomes of the synthetic universe (the realism decides how far they hold)."""
        return self.realism is not None

    @property
    def detail(self) -> str:
        return self.sentence if self.realism is None else f"{self.sentence}; {self.realism}"


def outcome_trust_for(data: SensorData, model: RegimeModel | None = None) -> Trust:
    """The outputs' ``outcome_trust`` sentence; on the synthetic source the label the grid
    and scorecard give a run (``outcome_labels.model_realism``: "model outcomes, realism:
    fail", "... not judged (BTC-derived)") with the stored verdict's summary."""
    sentence = outcome_trust(data.summary())
    kind = sentence.split(":")[0]  # "real outcomes" / "model outcomes"
    if data.source != SYNTHETIC:
        return Trust(kind, sentence)
    if model is None:
        return Trust(f"{kind}, realism: not judged", sentence, "realism not judged: no regime model")
    verdict = verdict_from_provenance(model)
    if verdict is not None:
        realism = verdict.summary()
    elif model.derived_from:
        realism = f"realism not judged: its regimes are {model.derived_from}-derived"
    else:
        realism = "realism not judged: its regime file carries no verdict"
    return Trust(f"{kind}, {model_realism(model)}", sentence, realism)


@dataclass(frozen=True)
class StructureOutcome:
    """A strategy's structure opened at the close of the entry day: P&L in % of the entry
    spot, short premium positive, held ``holding_days`` unhedged and delta-hedged daily
    (None: not known yet, or not computable)."""

    key: str
    holding_days: int
    known: bool  # its holding period ends inside the data
    pnl: float | None
    hedged: float | None


@dataclass(frozen=True)
class NextOutcome:
    """What happened in the ``horizon_days`` after ``entry`` (outcomes, never inputs)."""

    entry: pd.Timestamp
    horizon_days: int
    ends: pd.Timestamp  # entry + H days
    data_end: pd.Timestamp  # the last day of the data
    known: bool  # the H-day window ends inside the data
    iv_30d: float | None  # at entry, vol points
    realized_vol: float | None  # over the H days after entry, vol points
    edge: float | None  # iv_30d - realized_vol, vol points
    structures: dict[str, StructureOutcome]


@dataclass(eq=False)
class MarketSpan:
    """One loaded (underlying, source): sensors, their forward outcomes and decisions."""

    key: SpanKey
    data: SensorData
    outcomes: pd.DataFrame  # forward_outcomes(raw, H), hedged too, on the sensors' index
    realized_vol: np.ndarray  # RV over the H days after each day (vol points; NaN: not known)
    decisions: dict[str, SelectorFrame]  # per missing policy
    trust: Trust

    @property
    def sensors(self) -> pd.DataFrame:
        return self.data.sensors

    @property
    def horizon_days(self) -> int:
        return self.key.horizon_days

    @property
    def edge_column(self) -> str:
        return edge_column(self.horizon_days)

    @property
    def strategy_keys(self) -> tuple[str, ...]:
        return next(iter(self.decisions.values())).strategy_keys

    @property
    def strategy_labels(self) -> tuple[str, ...]:
        return next(iter(self.decisions.values())).strategy_labels

    def holding_days(self, key: str) -> int:
        structure = structures_for([key])[key]
        return self.horizon_days if structure is None else structure.holding_days(self.horizon_days)

    def has_regimes(self) -> bool:
        return REGIME_COLUMN in self.sensors.columns and self.sensors[REGIME_COLUMN].notna().any()

    def known(self, position: int, days: int) -> bool:
        """Whether the ``days`` after the day at ``position`` are inside the data."""
        index = self.sensors.index
        return bool(index[position] + pd.Timedelta(days=days) <= index[-1])

    def next_outcome(self, position: int) -> NextOutcome:
        """The outcomes of the day at ``position``: edge, realized vol, every structure."""
        index = self.sensors.index
        row = self.outcomes.iloc[position]
        known = self.known(position, self.horizon_days)
        structures = {}
        for key in self.strategy_keys:
            holding = self.holding_days(key)
            structures[key] = StructureOutcome(
                key, holding, self.known(position, holding),
                finite_or_none(row.get(pnl_column(key))), finite_or_none(row.get(hedged_pnl_column(key))),
            )
        return NextOutcome(
            entry=index[position],
            horizon_days=self.horizon_days,
            ends=index[position] + pd.Timedelta(days=self.horizon_days),
            data_end=index[-1],
            known=known,
            iv_30d=finite_or_none(self.sensors["iv_30d"].iloc[position]) if "iv_30d" in self.sensors.columns else None,
            realized_vol=finite_or_none(self.realized_vol[position]),
            edge=finite_or_none(row.get(self.edge_column)),
            structures=structures,
        )


# The spans loaded last, shared by the selector and series screens (switching between them
# costs nothing), each with the stamp of the files it was read from.
CACHE_SIZE = 4
_cache: OrderedDict[SpanKey, tuple[tuple, MarketSpan]] = OrderedDict()
_cache_lock = threading.Lock()


def source_stamp(key: SpanKey) -> tuple:
    """(path, size, mtime) of every file the span reads: the regime file (synthetic) or the
    data folder's files (real). A rebuilt regime file or a new harvest changes it."""
    if key.source == SYNTHETIC:
        paths = [Path(key.regime_file) if key.regime_file is not None else default_regime_file()]
    else:
        folder, _kind = real_data_folder(key.source, key.data_dir)
        paths = sorted(p for p in folder.rglob("*") if p.is_file()) if folder.is_dir() else [folder]
    stamp = []
    for path in paths:
        try:
            info = path.stat()
        except OSError:
            stamp.append((str(path), None, None))
        else:
            stamp.append((str(path), info.st_size, info.st_mtime_ns))
    return tuple(stamp)


def load_span(key: SpanKey, cancelled: Callable[[], bool] = lambda: False) -> MarketSpan | None:
    """The span of ``key`` (any thread): the cached one while its files are unchanged, else
    loaded; None when ``cancelled()`` turned true between steps. Raises MarketDataError when
    the source has no rows."""
    stamp = source_stamp(key)
    with _cache_lock:
        cached = _cache.get(key)
        if cached is not None and cached[0] == stamp:
            _cache.move_to_end(key)
            return cached[1]
    span = _load_span(key, cancelled)
    if span is not None:
        with _cache_lock:
            _cache[key] = (stamp, span)
            _cache.move_to_end(key)
            while len(_cache) > CACHE_SIZE:
                _cache.popitem(last=False)
    return span


def _load_span(key: SpanKey, cancelled: Callable[[], bool]) -> MarketSpan | None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        data = load_sensor_data(key.underlying, key.source, key.lookback_days, seed=key.seed,
                                data_dir=key.data_dir, regime_file=key.regime_file)
    if data.sensors.empty:
        raise MarketDataError(f"{key.source} data for {key.underlying} has no rows")
    if cancelled():
        return None
    return span_from_data(key, data, cancelled)


def span_from_data(key: SpanKey, data: SensorData,
                   cancelled: Callable[[], bool] = lambda: False) -> MarketSpan | None:
    """Outcomes, decisions and trust for sensors already loaded (None: cancelled between
    steps; 100,000 synthetic days take ~2.3 s here, mostly the outcomes)."""
    sensors = data.sensors
    raw = sensors.reindex(columns=list(RAW_COLUMNS))  # the raw market data the sensors came from
    outcomes = forward_outcomes(raw, key.horizon_days)
    if cancelled():
        return None
    realized = forward_realized_vol(raw["close"], key.horizon_days).to_numpy(dtype=float)
    decisions = {}
    for policy in MISSING_POLICIES:
        if cancelled():
            return None
        decisions[policy] = evaluate_frame(sensors, policy=policy)
    model = None
    if data.source == SYNTHETIC:
        with warnings.catch_warnings():  # a bad regime file was reported when the data loaded
            warnings.simplefilter("ignore")
            model = load_regime_model(key.underlying, key.regime_file)
    return MarketSpan(key, data, outcomes, realized, decisions, outcome_trust_for(data, model))
