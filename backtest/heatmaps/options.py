"""The sweep's options in one place: defaults and valid choices. The engine's signature, the
CLI and the app's form all read them from here (docs/heatmaps.md)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Literal, cast, get_args, overload

from backtest.selector.spec import load_selector_spec
from greg_core.contract import (
    DEFAULT_HORIZON_DAYS as DEFAULT_HORIZON_DAYS,  # every sweep default here
)
from greg_core.contract import DEFAULT_MIN_EPISODES as DEFAULT_MIN_EPISODES
from greg_core.contract import SENSOR_NAMES

CountMode = Literal["selected", "passes"]
COUNT_MODES: tuple[str, ...] = get_args(CountMode)

DEFAULT_UNDERLYINGS: tuple[str, ...] = ("BTC", "ETH")
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
# The requests' order (not the waterfall's); labels come from the selector spec.
DEFAULT_STRATEGY_KEYS: tuple[str, ...] = (
    "STRATEGY_A_STRADDLE",
    "STRATEGY_A_STRANGLE",
    "STRATEGY_B_CALENDAR",
    "STRATEGY_C_SHORT_PUT",
    "STRATEGY_D_IRON_BUTTERFLY",
    "STRATEGY_F_BULL_PUT_SPREAD",
    "STRATEGY_F_BEAR_CALL_SPREAD",
)
DEFAULT_X_BINS = 20
DEFAULT_Y_BINS = 20
DEFAULT_MIN_ENV_FRAC = 0.005  # 0.5% occupancy
DEFAULT_MIN_PASS_FRAC = 0.4  # 40% strategy pass rate
DEFAULT_TOP_K = 5
DEFAULT_SOURCE = "synthetic"
DEFAULT_MISSING_POLICY = "strict"
DEFAULT_COUNT_MODE = "selected"
MAX_HORIZON_DAYS = 365
RANK_BY: tuple[str, ...] = ("sweetness", "edge")  # edge: by the outcome's lower 95% bound
DEFAULT_RANK_BY = "sweetness"
DEFAULT_BIN_MODE = "equal"  # equal-width bins, as requested; "quantile" is the option
DEFAULT_CLIP_PCT = 0.0  # percent of each tail left outside the axis range (0: none)
# A grid is held per pair in memory and on disk; 500 x 500 cells is already far past what a
# terminal can show and keeps a sweep's memory bounded.
MAX_BINS = 500
# The longest lookback a run may ask for. Real data keeps its own span; the synthetic source
# generates this many days, all in memory: a default sweep of one underlying over 1,000,000
# days (2,700 years) took 40-70 s and 1.15 GB peak (scripts/bench_lookback.py); far beyond
# that memory runs out (docs/data-sources.md, "Validation").
MAX_LOOKBACK_DAYS = 1_000_000


class SpecLabels(Sequence[str]):
    """The display labels of ``keys``, read from the selector spec when first used (so the
    spec stays their only source and importing this module reads no file)."""

    def __init__(self, keys: Sequence[str]) -> None:
        self._keys = tuple(keys)

    def _labels(self) -> list[str]:
        strategies = load_selector_spec().strategies
        return [strategies[key] for key in self._keys]

    @overload
    def __getitem__(self, index: int) -> str: ...
    @overload
    def __getitem__(self, index: slice) -> list[str]: ...
    def __getitem__(self, index):
        return self._labels()[index]

    def __len__(self) -> int:
        return len(self._keys)

    def __iter__(self) -> Iterator[str]:
        return iter(self._labels())

    def __repr__(self) -> str:
        return repr(self._labels())


DEFAULT_STRATEGIES: Sequence[str] = SpecLabels(DEFAULT_STRATEGY_KEYS)


def validate_metric(name: str) -> str:
    """``name`` when it is a sensor, else ``ValueError`` listing the sensors."""
    if name not in SENSOR_NAMES:
        raise ValueError(f"unknown metric {name!r}; choose from: {', '.join(SENSOR_NAMES)}")
    return name


def parse_count_mode(text: str) -> CountMode:
    """``selected`` (the waterfall's pick) or ``passes`` (the strategy's own rule)."""
    if text not in COUNT_MODES:
        raise ValueError(f"unknown count mode {text!r}; choose one of: {', '.join(COUNT_MODES)}")
    return cast(CountMode, text)
