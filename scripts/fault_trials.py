"""Fault trials for publishing results (issue 13): prints how many trials ended with a result
set failing verification (must be 0), and how long a real-data export lacking an underlying
takes to exit 2 (issue 12, item 2).

Usage: uv run python scripts/fault_trials.py [--concurrent 20] [--kills 24] [--missing 5]

Every trial runs the real ``greg-tui --export`` in fresh Python processes into one temporary
results folder, then reads the folder back with ``load_sweep_results`` (every listed file
checked against the manifest's SHA-256) and checks no temp link and at most one leftover run
folder beyond the published and the previous one (a killed run's, deleted by the next run).

* concurrent: two exports with different parameters started together into one folder; every
  other trial slows each publish step by 10 ms (the "slow fsync" case of the issue).
* kills: an export whose publish steps are announced on stdout (and slowed by 5 ms each) gets
  SIGINT, SIGTERM or SIGKILL at a random moment between its first and last step. For SIGINT
  and SIGTERM the printed message must be the truth: "nothing written" exactly when the
  previous set is still the one published.
* missing: ``--source history`` on a folder holding BTC only, asked for BTC and ETH: wall time
  of the whole process until it exits 2, and whether anything was written.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import _paths

from backtest.heatmaps.store import load_sweep_results, runs_dir_for
from greg_core.errors import SweepResultsError

REAL = _paths.real_data_dir()
# Runs the real command line; optionally announces (and slows) every publish step.
CHILD = """
import os, sys, time
sys.dont_write_bytecode = False  # as the greg-tui entry point does: cache the bytecode
import backtest.heatmaps.store as store
delay, announce = float(os.environ["TRIAL_DELAY"]), os.environ.get("TRIAL_ANNOUNCE") == "1"
def step(name):
    if announce:
        print("STEP " + name, flush=True)
    time.sleep(delay)
store.PUBLISH_CHECKPOINT = step
from greg_tui.cli import main
sys.exit(main(sys.argv[1:]))
"""
METRICS = ["vrp_30d", "adx_14d", "iv_rank_6m", "rsi_14d", "price_vs_ma200", "skew_25d"]  # 15 pairs


def export_command(base: Path, seed: int, x_bins: int) -> list[str]:
    return [sys.executable, "-c", CHILD, "--export", "--underlying", "BTC", "ETH", "--metrics", *METRICS,
            "--lookback-days", "300", "--x-bins", str(x_bins), "--seed", str(seed), "--quiet", "--base-dir", str(base)]


def start(base: Path, seed: int, x_bins: int, delay: float, announce: bool = False) -> subprocess.Popen:
    env = {**os.environ, "TRIAL_DELAY": str(delay), "TRIAL_ANNOUNCE": "1" if announce else "0"}
    return subprocess.Popen(export_command(base, seed, x_bins), cwd=_paths.REPO_ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def verify(out: Path) -> tuple[bool, int | None, str]:
    """(the set verifies and the folder is clean, the published run's seed, why not)."""
    try:
        stored = load_sweep_results(out)
    except SweepResultsError as exc:
        return False, None, str(exc)
    listed = sorted(stored.manifest["files"])
    present = sorted(p.name for p in out.iterdir())
    if listed != present:
        return False, None, f"folder holds {len(present)} files, manifest lists {len(listed)}"
    if list(out.parent.glob(f".{out.name}.tmp-*")):
        return False, None, "a temp link was left"
    if len(list(runs_dir_for(out).iterdir())) > 3:
        return False, None, "more than one dead run's folder left"
    return True, stored.manifest["parameters"]["seed"], ""


def concurrent_trials(base: Path, trials: int) -> tuple[int, int]:
    """(sets failing verification, trials where one export waited for the other's publish)."""
    failures = waited = 0
    out = base / "backtest" / "output"
    for trial in range(trials):
        delay = 0.01 if trial % 2 else 0.0
        seeds = (1000 + 2 * trial, 1001 + 2 * trial)
        children = [start(base, seeds[0], 8, delay), start(base, seeds[1], 12, delay)]
        codes = [child.wait() for child in children]
        errors = [child.stderr.read().strip() for child in children]
        waited += any(e.startswith("waiting:") for e in errors)
        ok, seed, why = verify(out)
        if codes != [0, 0] or not ok or seed not in seeds:
            failures += 1
            print(f"  concurrent trial {trial}: exits {codes}, {why or errors}", flush=True)
    return failures, waited


def kill_trials(base: Path, trials: int, rng: random.Random) -> tuple[int, int, dict[str, int], dict[str, int]]:
    """(sets failing verification, untrue messages, trials per signal, trials per last step
    seen before the signal)."""
    out = base / "backtest" / "output"
    signals = [signal.SIGINT, signal.SIGTERM, signal.SIGKILL]
    failures = untrue = 0
    counts: dict[str, int] = {}
    landed: dict[str, int] = {}
    for trial in range(trials):
        signum = signals[trial % 3]
        counts[signum.name] = counts.get(signum.name, 0) + 1
        before = verify(out)[1] if out.exists() else None
        seed = 5000 + trial
        child = start(base, seed, 10, 0.005, announce=True)
        steps = []
        for line in child.stdout:
            steps.append(line.strip())
            if line.startswith("STEP locked"):
                break
        # Somewhere in the publish step: after a random number of the run's ~35 steps, plus
        # a random fraction of one step.
        wait_steps, last = rng.randint(0, 34), "locked"
        for line in child.stdout:
            wait_steps -= 1
            last = line.split()[1] if line.startswith("STEP") else last
            if wait_steps < 0 or line.startswith("STEP committed"):
                break
        landed[last] = landed.get(last, 0) + 1
        time.sleep(rng.uniform(0, 0.006))
        child.send_signal(signum)
        code = child.wait()
        message = child.stderr.read().strip()
        ok, now, why = verify(out) if out.exists() else (True, None, "")
        published = now == seed
        if not ok or now not in (before, seed):
            failures += 1
            print(f"  kill trial {trial} ({signum.name}): {why or f'published seed {now}'}", flush=True)
        if signum != signal.SIGKILL:
            expected = "interrupted: the new results were already published" if published else \
                "cancelled: nothing written, previous results left intact"
            if not message.startswith(expected) or code != 128 + signum:
                untrue += 1
                print(f"  kill trial {trial} ({signum.name}): exit {code}, said {message!r}, published={published}")
    return failures, untrue, counts, landed


def missing_underlying(runs: int) -> tuple[list[float], list[int], bool]:
    with tempfile.TemporaryDirectory() as folder:
        data = Path(folder) / "data"
        data.mkdir()
        shutil.copy(REAL / "btc_usd_daily_ohlcv.csv", data)
        shutil.copy(REAL / "btc_dvol_daily.csv", data)
        base = Path(folder) / "base"
        seconds, codes = [], []
        for _ in range(runs):
            started = time.perf_counter()
            done = subprocess.run(
                [sys.executable, "-c", "import sys; sys.argv[0] = 'greg-tui'; from greg_tui.cli import entry_point; entry_point()",
                 "--export", "--source", "history", "--data-dir", str(data), "--underlying", "BTC", "ETH",
                 "--base-dir", str(base)],
                cwd=_paths.REPO_ROOT, capture_output=True, text=True,
            )
            seconds.append(time.perf_counter() - started)
            codes.append(done.returncode)
        print(f"  its message: {done.stderr.strip()}")
        return seconds, codes, base.exists()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--concurrent", type=int, default=20)
    parser.add_argument("--kills", type=int, default=24)
    parser.add_argument("--missing", type=int, default=5)
    parser.add_argument("--seed", type=int, default=13)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory() as folder:
        base = Path(folder)
        started = time.perf_counter()
        failures, waited = concurrent_trials(base, args.concurrent)
        print(f"two simultaneous exports, different parameters, one folder: {args.concurrent} trials "
              f"({waited} where one waited for the other's publish), {failures} ended with a set failing "
              f"verification ({time.perf_counter() - started:.0f} s)", flush=True)
        started = time.perf_counter()
        failures, untrue, counts, landed = kill_trials(base, args.kills, rng)
        per_signal = ", ".join(f"{n} {name}" for name, n in counts.items())
        where = ", ".join(f"{step} {n}" for step, n in sorted(landed.items()))
        print(f"kills during the publish step: {args.kills} trials ({per_signal}; last step seen: {where}), "
              f"{failures} ended with a set failing verification, {untrue} printed an untrue message "
              f"({time.perf_counter() - started:.0f} s)")
    seconds, codes, wrote = missing_underlying(args.missing)
    print(f"--export on a folder lacking ETH: exit codes {sorted(set(codes))}, wall time per process "
          f"median {statistics.median(seconds):.2f} s (min {min(seconds):.2f}, max {max(seconds):.2f}), "
          f"{'WROTE SOMETHING' if wrote else 'nothing written'}")


if __name__ == "__main__":
    main()
