"""The messages the app's own workers post to the app (a widget's messages are nested in the
widget that sends them).

Worker threads only ever *post* these (``post_message`` is thread-safe); all state changes
happen on the UI thread in the handlers. Progress messages ``can_replace`` the previous one
still in the queue: when the UI falls behind a fast engine it handles only the latest step.
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


@dataclass
class ResultsRead(Message):
    """The results folder was read: ``results`` (a ``StoredSweep``) or ``error`` (one line),
    both None when it holds no results; ``token`` is its ``results_version`` when read;
    ``first``: the read at start-up (the rest of the engine loads after it)."""

    results: object | None
    error: str | None
    token: tuple | None
    first: bool = False


# ----------------------------------------------------------------------------- the sweep


@dataclass
class SweepProgress(Message):
    """The engine reported progress (``fraction`` of the whole run: computing to 0.85, then
    writing the files; a human message)."""

    fraction: float
    message: str
    at: float  # time.monotonic() when the engine called back

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, SweepProgress)


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

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, RegimeBuildProgress) and message.underlying == self.underlying


@dataclass
class RegimeBuildDone(Message):
    underlying: str
    path: Path
    seconds: float


@dataclass
class RegimeBuildFailed(Message):
    underlying: str
    error: str
