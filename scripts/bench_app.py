"""How fast the app answers, as a user feels it (issue 11 #4): prints figures, asserts nothing.

Usage: uv run python scripts/bench_app.py [--runs 5] [--sweeps 5] [--skip-launch] [--skip-sweep]

Launch (whole process, in a pseudo-terminal of 80x24, as a person starts it):
  * baseline: ``uv run python -c "import numpy, pandas"`` until it exits;
  * first frame: ``uv run greg-tui --base-dir B`` until the terminal has received the top
    bar (the text "Sweet spots" once escape sequences are stripped);
  * results on screen: the same launch until the sweet-spot table's header line
    ("N sweet spots - computed ...") has been drawn from the results already in B;
  * the table's imports: ``uv run python -c "import greg_tui.app, backtest.heatmaps.store"``
    until it exits, the floor for the previous figure (the app imports the results reader
    first, reads, draws, and only then imports the rest of the engine).
  The app is then sent ``q``. Baseline and app runs alternate; each figure is the median
  of ``--runs`` and is also given as a multiple of the baseline's median. B holds the
  default sweep's results, written once beforehand.

In-app sweep vs headless (same process, after the imports, default sweep):
  * headless: ``run_greg_sweetspot_sweep`` into a fresh folder;
  * in the app: ``App.run_test`` at 80x24, ``r``, until the app has handled the sweep's end
    (the scan's own start/finish clock); progress is posted at most once per repaint of the
    status strip and queued messages coalesce (``can_replace``); for comparison also with
    ``can_replace`` switched off;
  alternating, median of ``--sweeps``: wall time, and CPU time of the whole process (UI
  thread included: what the app costs on top of the sweep, less sensitive to the machine's
  load than wall time), both up to the moment the app handles the sweep's end; also how many progress callbacks the engine made and how many
  progress messages the app handled.

Absolute times move with the machine's load (2 shared cores here); the ratios move less.
"""

from __future__ import annotations

import argparse
import asyncio
import fcntl
import os
import pty
import re
import select
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import time
from pathlib import Path

import _paths  # noqa: F401

ANSI = re.compile(r"\x1b\[[0-9;?<>=$]*[A-Za-z]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[()][A-Za-z0-9]|\x1b[=>78]")
FIRST_FRAME = re.compile(r"Sweet spots")
TABLE_FILLED = re.compile(r"\d+ sweet spots - computed")
REPO = _paths.REPO_ROOT
# What the app must import before the table can be filled: Textual and the results reader.
NEEDED_IMPORTS = "import greg_tui.app, backtest.heatmaps.store"


def in_pty(command: list[str], markers: dict[str, re.Pattern], timeout: float = 180.0,
           quit_keys: bytes = b"q", cwd: Path = REPO) -> dict[str, float]:
    """Start ``command`` in an 80x24 pseudo-terminal; seconds from start until each marker
    appears in its output (escape sequences stripped) and until it exits."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "80", "LINES": "24"}
    started = time.perf_counter()
    process = subprocess.Popen(command, stdin=slave, stdout=slave, stderr=slave, cwd=cwd, env=env,
                               start_new_session=True)
    os.close(slave)
    seen: dict[str, float] = {}
    text = ""
    quit_sent = not markers
    try:
        while time.perf_counter() - started < timeout:
            ready, _, _ = select.select([master], [], [], 0.01)
            if ready:
                try:
                    chunk = os.read(master, 65536)
                except OSError:
                    chunk = b""
                if not chunk and process.poll() is not None:
                    break
                text += ANSI.sub("", chunk.decode("utf-8", "replace"))
                now = time.perf_counter() - started
                for name, pattern in markers.items():
                    if name not in seen and pattern.search(text):
                        seen[name] = now
            if not quit_sent and len(seen) == len(markers):
                os.write(master, quit_keys)
                quit_sent = True
            if process.poll() is not None:
                break
        seen["exit"] = time.perf_counter() - started
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()
        os.close(master)
    missing = [name for name in markers if name not in seen]
    if missing:
        raise RuntimeError(f"{' '.join(command)}: never saw {missing} within {timeout:.0f}s")
    return seen


def bench_launch(runs: int, app_dir: Path = REPO) -> None:
    from backtest.heatmaps.run import run_greg_sweetspot_sweep

    base = Path(tempfile.mkdtemp(prefix="bench-app-"))
    run_greg_sweetspot_sweep(base)
    baseline, needed, first_frame, table = [], [], [], []
    uv = shutil.which("uv") or "uv"
    for run in range(runs):
        baseline.append(in_pty([uv, "run", "python", "-c", "import numpy, pandas"], {})["exit"])
        seen = in_pty([uv, "run", "greg-tui", "--base-dir", str(base)],
                      {"first frame": FIRST_FRAME, "table": TABLE_FILLED}, cwd=app_dir)
        first_frame.append(seen["first frame"])
        table.append(seen["table"])
        needed.append(in_pty([uv, "run", "python", "-c", NEEDED_IMPORTS], {}, cwd=app_dir)["exit"])
        print(f"  run {run + 1}: import numpy, pandas {baseline[-1]:.2f}s | app first frame "
              f"{first_frame[-1]:.2f}s, table filled {table[-1]:.2f}s | the table's imports {needed[-1]:.2f}s",
              flush=True)
    shutil.rmtree(base, ignore_errors=True)
    reference = statistics.median(baseline)
    print(f"\nLaunch, median of {runs} (whole process, 80x24 pseudo-terminal):")
    print(f"  uv run python -c 'import numpy, pandas'  {reference:6.2f}s   1.00x")
    for name, values in (("greg-tui: first frame", first_frame), ("greg-tui: sweet-spot table filled", table),
                         ("the table's imports alone (see below)", needed)):
        median = statistics.median(values)
        print(f"  {name:<40} {median:6.2f}s   {median / reference:.2f}x")
    print(f"  (the table's imports: uv run python -c '{NEEDED_IMPORTS}': what the table waits for at least)")


async def _app_sweep(base: Path, coalesce: bool) -> tuple[float, float, float, int, int]:
    """(wall seconds, CPU seconds of the process, CPU seconds of the UI thread, progress
    callbacks, progress messages handled) of the default sweep in the app, up to the moment
    the app handles its end (before it reads the new results)."""
    from backtest.heatmaps.run import run_greg_sweetspot_sweep
    from greg_tui.app import GregApp
    from greg_tui.messages import SweepProgress

    calls, handled = [0], [0]
    ended: dict[str, float] = {}
    original_handler = GregApp.on_sweep_progress
    original_replace = SweepProgress.can_replace
    original_ended = GregApp._scan_ended

    def counting_sweep(*args, progress=None, **kwargs):
        def counted(fraction, message):
            calls[0] += 1
            progress(fraction, message)

        return run_greg_sweetspot_sweep(*args, progress=counted, **kwargs)

    def counting_handler(self, message):
        handled[0] += 1
        original_handler(self, message)

    def clocked_end(self):  # the sweep's end as the app sees it (before it reads the results)
        ended.update(process=time.process_time(), ui=time.thread_time())
        original_ended(self)

    GregApp.on_sweep_progress = counting_handler
    GregApp._scan_ended = clocked_end
    if not coalesce:
        SweepProgress.can_replace = lambda self, message: False
    try:
        app = GregApp(base_dir=base)
        app.sweep_function = counting_sweep
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            cpu, ui = time.process_time(), time.thread_time()  # this thread is the app's UI thread
            app.action_run_scan()
            await app.workers.wait_for_complete()  # no polling loop competing with the sweep
            while app.scan.running:
                await pilot.pause()
            cpu, ui = ended["process"] - cpu, ended["ui"] - ui
            seconds = app.scan.finished - app.scan.started
    finally:
        GregApp.on_sweep_progress = original_handler
        SweepProgress.can_replace = original_replace
        GregApp._scan_ended = original_ended
    return seconds, cpu, ui, calls[0], handled[0]


def bench_sweep(sweeps: int) -> None:
    from backtest.heatmaps.run import run_greg_sweetspot_sweep

    figures: dict[str, list[tuple[float, float]]] = {"headless": [], "app": [], "app-plain": []}
    counts, ui_cpu = [], []
    run_greg_sweetspot_sweep(Path(tempfile.mkdtemp(prefix="bench-warm-")))  # imports, caches
    for run in range(sweeps):
        folder = Path(tempfile.mkdtemp(prefix="bench-headless-"))
        start, cpu = time.perf_counter(), time.process_time()
        run_greg_sweetspot_sweep(folder)
        figures["headless"].append((time.perf_counter() - start, time.process_time() - cpu))
        seconds, cpu, ui, calls, handled = asyncio.run(_app_sweep(Path(tempfile.mkdtemp(prefix="bench-app-")), True))
        figures["app"].append((seconds, cpu))
        counts.append((calls, handled))
        ui_cpu.append(ui)
        seconds, cpu, _ui, _calls, _handled = asyncio.run(
            _app_sweep(Path(tempfile.mkdtemp(prefix="bench-app-")), False))
        figures["app-plain"].append((seconds, cpu))
        print(f"  run {run + 1}: " + " | ".join(
            f"{name} {values[-1][0]:.2f}s wall, {values[-1][1]:.2f}s CPU" for name, values in figures.items())
            + f" | {handled}/{calls} progress messages handled", flush=True)
    wall = statistics.median(w for w, _c in figures["headless"])
    cpu = statistics.median(c for _w, c in figures["headless"])
    print(f"\nDefault sweep, median of {sweeps} (after the imports; CPU = the whole process, UI thread included):")
    print(f"  {'':<42} {'wall':>7}        {'CPU':>7}")
    labels = {"headless": "headless run_greg_sweetspot_sweep", "app": "in the app (throttled, can_replace)",
              "app-plain": "in the app, can_replace off"}
    for name, values in figures.items():
        median_wall = statistics.median(w for w, _c in values)
        median_cpu = statistics.median(c for _w, c in values)
        print(f"  {labels[name]:<42} {median_wall:6.2f}s {median_wall / wall:5.2f}x  {median_cpu:6.2f}s {median_cpu / cpu:5.2f}x")
    handled = statistics.median(h for _c, h in counts)
    calls = statistics.median(c for c, _h in counts)
    print(f"  progress: the engine called back {calls:.0f} times; the app handled {handled:.0f} messages (median); "
          f"the UI thread used {statistics.median(ui_cpu):.2f}s CPU meanwhile")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="app launches (and baselines) to time")
    parser.add_argument("--sweeps", type=int, default=5, help="default sweeps to time, headless and in the app")
    parser.add_argument("--skip-launch", action="store_true")
    parser.add_argument("--skip-sweep", action="store_true")
    parser.add_argument("--app-dir", type=Path, default=REPO,
                        help="launch the app from this checkout (e.g. an export of another commit, for before/after)")
    args = parser.parse_args(argv)
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.2f}, "
          f"PYTHONDONTWRITEBYTECODE={os.environ.get('PYTHONDONTWRITEBYTECODE', '')}")
    if not args.skip_launch:
        bench_launch(args.runs, args.app_dir)
    if not args.skip_sweep:
        bench_sweep(args.sweeps)
    return 0


if __name__ == "__main__":
    sys.exit(main())
