"""What the app knows about the running sweep, and how far along it is.

The engine's progress callback covers the whole run: 0..0.85 while computing (loading an
underlying, one metric pair), 0.85..1 while writing the files ("writing env_heatmap_...",
"moving results into place"). Cancelling works until the move starts; after that the run
finishes by itself (its files are never left half moved).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace

MOVING_PREFIX = "moving"  # the engine's message once the files are being moved into place
WRITING_PREFIXES = ("writing", MOVING_PREFIX, "wrote")


@dataclass(frozen=True)
class ScanState:
    running: bool = False
    cancelling: bool = False
    started: float = 0.0  # time.monotonic()
    engine_fraction: float = 0.0
    message: str = ""
    engine_updates: tuple[float, ...] = field(default=(), repr=False)  # arrival times
    finished: float = 0.0  # time.monotonic() when the run ended (0 while running)

    @classmethod
    def start(cls) -> ScanState:
        return cls(running=True, started=time.monotonic(), message="starting")

    def progressed(self, fraction: float, message: str, at: float) -> ScanState:
        return replace(
            self,
            engine_fraction=max(self.engine_fraction, min(max(fraction, 0.0), 1.0)),
            message=message,
            engine_updates=self.engine_updates + (at,),
        )

    @property
    def writing(self) -> bool:
        """The engine is writing the result files (its messages say so)."""
        return self.running and self.message.startswith(WRITING_PREFIXES)

    @property
    def committing(self) -> bool:
        """The files are being moved into place: too late to cancel."""
        return self.running and self.message.startswith((MOVING_PREFIX, "wrote"))

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


def remaining_seconds(samples: list[tuple[float, float]], window: float = 1.5) -> float | None:
    """Time left at the pace of the last ``window`` seconds of (time, fraction) samples; None
    while there is too little to go on (the first steps of a sweep are not representative)."""
    if len(samples) < 2:
        return None
    now, fraction = samples[-1]
    if fraction < 0.1:
        return None
    then, before = next(((t, f) for t, f in samples if now - t <= window), samples[0])
    if now - then < 0.05 or fraction <= before:
        then, before = samples[0]
    if fraction <= before or now <= then:
        return None
    return (1.0 - fraction) * (now - then) / (fraction - before)
