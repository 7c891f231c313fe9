"""Every message the app's workers and widgets exchange, in one place.

Worker threads only ever *post* these (``post_message`` is thread-safe); all state changes
happen on the UI thread in the handlers.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from textual.message import Message

# ----------------------------------------------------------------------------- the engine


@dataclass
class EngineReady(Message):
    """The research engine (and the screens built on it) finished importing."""

    seconds: float


@dataclass
class EngineFailed(Message):
    """The research engine cannot be imported; ``error`` is one line for the user."""

    error: str


# ----------------------------------------------------------------------------- the sweep


@dataclass
class SweepProgress(Message):
    """The engine reported progress (``fraction`` of the whole run: computing to 0.85, then
    writing the files; a human message)."""

    fraction: float
    message: str
    at: float  # time.monotonic() when the engine called back


@dataclass
class SweepFinished(Message):
    """The sweep wrote its outputs."""

    json_path: Path
    seconds: float


@dataclass
class SweepFailed(Message):
    """The sweep stopped on an error; ``error`` is one line for the user."""

    error: str


@dataclass
class SweepStopped(Message):
    """The sweep was cancelled; nothing was written."""

    seconds: float


# ----------------------------------------------------------------------------- regimes


@dataclass
class RegimeBuildProgress(Message):
    underlying: str
    fraction: float
    message: str


@dataclass
class RegimeBuildDone(Message):
    underlying: str
    path: Path
    seconds: float


@dataclass
class RegimeBuildFailed(Message):
    underlying: str
    error: str


# ----------------------------------------------------------------------------- selector


@dataclass
class SelectorDataLoaded(Message):
    """Sensors for the selector screen (``data`` is a ``backtest.samples.SensorData``)."""

    key: tuple
    data: object


@dataclass
class SelectorDataFailed(Message):
    key: tuple
    error: str


# ----------------------------------------------------------------------------- navigation


@dataclass
class OpenGrid(Message):
    """Show the occupancy grid of one (underlying, strategy, pair), cursor on a cell."""

    underlying: str
    strategy_key: str
    x_metric: str
    y_metric: str
    x_bin: int | None = None
    y_bin: int | None = None
