"""What the app knows about the running sweep, and how far along it is.

The engine's progress callback covers the whole run: 0..0.85 while computing (loading an
underlying, one metric pair), 0.85..1 while writing the files. Cancelling works until the
files start moving into place; after that the run finishes by itself (its files are never
left half moved).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

from backtest.heatmaps.progress import is_publishing


@dataclass(frozen=True)
class ScanState:
    running: bool = False
    cancelling: bool = False
    committing: bool = False  # the engine is moving the results into place
    started: float = 0.0  # time.monotonic()
    engine_fraction: float = 0.0
    message: str = ""
    finished: float = 0.0  # time.monotonic() when the run ended (0 while running)

    @classmethod
    def start(cls) -> ScanState:
        return cls(running=True, started=time.monotonic(), message="starting")

    def progressed(self, fraction: float, message: str, at: float) -> ScanState:
        return replace(
            self,
            engine_fraction=max(self.engine_fraction, min(max(fraction, 0.0), 1.0)),
            message=message,
            committing=self.committing or is_publishing(message),  # too late to cancel
        )

    def elapsed(self, now: float | None = None) -> float:
        return (time.monotonic() if now is None else now) - self.started


def overall_fraction(state: ScanState) -> float:
    """0..1 as the engine reports it (computing and writing); below 1 until the run ended."""
    if not state.running:
        return state.engine_fraction
    return min(state.engine_fraction, 0.999)


def format_seconds(seconds: float | None) -> str:
    if seconds is None:
        return "--"
    seconds = max(0.0, seconds)
    if seconds < 60:
        return f"{seconds:4.1f}s"
    minutes, secs = divmod(int(round(seconds)), 60)
    if minutes < 60:
        return f"{minutes}m{secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


class RemainingEstimate:
    """Time left, steady enough to read.

    The raw estimate is the whole run's average pace so far (elapsed x (1 - f) / f): a
    short-window pace jumped between the fast computing steps and the slower file writing
    (1.2 s left, then 6.9 s left). What is shown counts down with the clock and moves a
    fraction ``follow`` of the way towards the raw estimate at each update, so a change of
    pace shows as a drift, not a jump. None until ``min_fraction`` of the run is done.
    """

    def __init__(self, started: float, min_fraction: float = 0.1, follow: float = 0.25) -> None:
        self.started = started
        self.min_fraction = min_fraction
        self.follow = follow
        self._shown: float | None = None
        self._shown_at = started

    def update(self, now: float, fraction: float) -> float | None:
        elapsed = now - self.started
        if fraction < self.min_fraction or elapsed <= 0:
            return None
        raw = elapsed * (1.0 - fraction) / fraction
        if self._shown is None:
            shown = raw
        else:
            counted_down = max(0.0, self._shown - (now - self._shown_at))
            shown = counted_down + self.follow * (raw - counted_down)
        self._shown, self._shown_at = shown, now
        return shown
