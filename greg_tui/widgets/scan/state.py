"""What the app knows about the running sweep, and how far along it is.

The engine reports progress between its compute steps (loading an underlying, one metric
pair) and then writes its files without reporting. To keep the bar honest *and* moving
during that write, the status line also counts the files the engine has written so far
(its staging folder, then the files moved into place). Work units: one per compute step plus
one per file staged and one per file moved.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

from backtest.sweep_results import MANIFEST_NAME

WRITING_MESSAGE = "sweep computed"


@dataclass(frozen=True)
class ScanState:
    running: bool = False
    cancelling: bool = False
    started: float = 0.0  # time.monotonic()
    started_wall: float = 0.0  # time.time(), to recognise files written by this run
    engine_fraction: float = 0.0
    message: str = ""
    output_dir: Path | None = None
    compute_steps: int = 1  # underlyings x (pairs + 1)
    files: int = 0  # files the run writes, manifest excluded
    engine_updates: tuple[float, ...] = field(default=(), repr=False)  # arrival times
    finished: float = 0.0  # time.monotonic() when the run ended (0 while running)

    @classmethod
    def start(cls, output_dir: Path, n_underlyings: int, n_pairs: int) -> ScanState:
        return cls(
            running=True,
            started=time.monotonic(),
            started_wall=time.time(),
            message="starting",
            output_dir=output_dir,
            compute_steps=max(1, n_underlyings * (n_pairs + 1)),
            files=n_underlyings * n_pairs + 3,  # env CSVs + JSON + Markdown + grids
        )

    def progressed(self, fraction: float, message: str, at: float) -> ScanState:
        return replace(
            self,
            engine_fraction=max(self.engine_fraction, min(max(fraction, 0.0), 1.0)),
            message=message,
            engine_updates=self.engine_updates + (at,),
        )

    @property
    def writing(self) -> bool:
        return self.running and self.engine_fraction >= 1.0

    def elapsed(self, now: float | None = None) -> float:
        return (time.monotonic() if now is None else now) - self.started


def _files_written(state: ScanState) -> int:
    """Files staged plus files moved into place by this run so far (0..2*files)."""
    folder = state.output_dir
    if folder is None or not folder.is_dir():
        return 0
    staged = moved = 0
    try:
        with os.scandir(folder) as entries:
            for entry in entries:
                if entry.name.startswith(".staging-") and entry.is_dir():
                    staged = max(staged, sum(1 for _ in os.scandir(entry.path)))
                elif (
                    entry.is_file()
                    and entry.name != MANIFEST_NAME
                    and not entry.name.startswith(".")
                    and entry.stat().st_mtime >= state.started_wall - 0.5
                ):
                    moved += 1
    except OSError:
        return 0
    if moved:  # the staging folder is removed once everything is in place
        staged = state.files
    return min(staged, state.files) + min(moved, state.files)


def overall_fraction(state: ScanState) -> float:
    """0..1 over compute steps and file writes (see module docstring)."""
    if not state.running:
        return 1.0 if state.engine_fraction >= 1.0 else state.engine_fraction
    total = state.compute_steps + 2 * state.files
    done = state.engine_fraction * state.compute_steps
    if state.writing:
        done = state.compute_steps + _files_written(state)
    return min(done / total, 0.999)


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
