"""Fault trials for publishing results (issue 13): prints how many trials ended with a result
set failing verification (must be 0), and how long a real-data export lacking an underlying
takes to exit 2 (issue 12, item 2).

Usage: uv run python scripts/fault_trials.py [--concurrent 20] [--kills 24] [--missing 5]

Every trial runs the real ``greg-tui --export`` in fresh Python processes into one temporary
results folder, then reads the folder back with ``load_sweep_results`` (every listed file
checked against the manifest's SHA-256) and checks the leftovers: none after an uninterrupted
run; after a kill, at most that run's folder and temp link, which the next run deletes (a
last uninterrupted run after the kills is checked strictly).

* concurrent: two exports with different parameters started together into one folder; every
  other trial slows each publish step by 10 ms (the "slow fsync" case of the issue).
* kills: an export whose publish steps are announced on stdout (and slowed by 5 ms each) gets
  SIGINT, SIGTERM or SIGKILL at a random moment of its publish step: just after taking the
  lock, after a random file, after the manifest, at the switch or just after it. For SIGINT
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
import os, signal, sys, time
# A shell starting this script in the background makes its children ignore Ctrl-C; a user's
# terminal does not: restore Python's own handler.
signal.signal(signal.SIGINT, signal.default_int_handler)
import backtest.heatmaps.store as store
delay, announce = float(os.environ["TRIAL_DELAY"]), os.environ.get("TRIAL_ANNOUNCE") == "1"
def step(name):
    if announce:
        print("STEP " + name, flush=True)
    time.sleep(delay)
store.PUBLISH_CHECKPOINT = step
from greg_tui.cli import entry_point  # the console script's own entry: its signal handling too
sys.argv = ["greg-tui", *sys.argv[1:]]
entry_point()
"""
METRICS = ["vrp_30d", "adx_14d", "iv_rank_6m", "rsi_14d", "price_vs_ma200", "skew_25d"]  # 15 pairs


def export_command(base: Path, seed: int, x_bins: int) -> list[str]:
    return [sys.executable, "-c", CHILD, "--export", "--underlying", "BTC", "ETH", "--metrics", *METRICS,
            "--lookback-days", "300", "--x-bins", str(x_bins), "--seed", str(seed), "--quiet", "--base-dir", str(base)]


def start(base: Path, seed: int, x_bins: int, delay: float, announce: bool = False) -> subprocess.Popen:
    env = {**os.environ, "TRIAL_DELAY": str(delay), "TRIAL_ANNOUNCE": "1" if announce else "0"}
    return subprocess.Popen(export_command(base, seed, x_bins), cwd=_paths.REPO_ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def verify(out: Path, dead_runs_allowed: int = 0) -> tuple[bool, int | None, str]:
    """(the set verifies and the folder holds no more leftovers than ``dead_runs_allowed``
    killed runs may leave, the published run's seed, why not)."""
    try:
        stored = load_sweep_results(out)
    except SweepResultsError as exc:
        return False, None, str(exc)
    seed = stored.manifest["parameters"]["seed"]
    listed = sorted(stored.manifest["files"])
    present = sorted(p.name for p in out.iterdir())
    if listed != present:
        return False, seed, f"folder holds {len(present)} files, manifest lists {len(listed)}"
    temp_links = len(list(out.parent.glob(f".{out.name}.tmp-*")))
    runs = runs_dir_for(out)
    run_folders = len(list(runs.iterdir())) if runs.is_dir() else 0
    if temp_links > dead_runs_allowed or run_folders > 2 + dead_runs_allowed:
        return False, seed, f"{temp_links} temp link(s), {run_folders} run folders left"
    return True, seed, ""


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
        before = verify(out, dead_runs_allowed=1)[1] if out.exists() else None
        seed = 5000 + trial
        child = start(base, seed, 10, 0.005, announce=True)
        steps = []
        for line in child.stdout:
            steps.append(line.strip())
            if line.startswith("STEP locked"):
                break
        # Somewhere in the publish step: a moment drawn from its phases (just locked, after a
        # random one of the ~34 files, after the manifest, at the switch, just after it),
        # plus a random fraction of a step.
        target = rng.choice(["locked", "staged", "staged", "manifest", "commit", "committed"])
        skip = rng.randint(0, 33) if target == "staged" else 0
        last = "locked"
        if target != "locked":
            for line in child.stdout:
                last = line.split()[1] if line.startswith("STEP") else last
                if last == target or last == "committed":
                    if skip == 0 or last == "committed":
                        break
                    skip -= 1
        landed[last] = landed.get(last, 0) + 1
        time.sleep(rng.uniform(0, 0.006))
        child.send_signal(signum)
        code = child.wait()
        message = child.stderr.read().strip()
        # A killed run may leave its folder and temp link; the next run deletes them.
        ok, now, why = verify(out, dead_runs_allowed=1) if out.exists() else (True, None, "")
        published = now == seed
        if not ok or now not in (before, seed):
            failures += 1
            print(f"  kill trial {trial} ({signum.name}): {why or f'published seed {now}'}", flush=True)
        if signum != signal.SIGKILL:
            expected = "interrupted: the new results were already published" if published else \
                "cancelled: nothing written, previous results left intact"
            # A signal that lands while the finished run's interpreter is shutting down is not
            # handled any more: it exits 0, its results published, which is the truth.
            finished_first = code == 0 and published and not message
            if finished_first:
                print(f"  kill trial {trial} ({signum.name}): the run had finished (exit 0, published)", flush=True)
            if not finished_first and (not message.startswith(expected) or code != 128 + signum):
                untrue += 1
                print(f"  kill trial {trial} ({signum.name}): exit {code}, said {message!r}, published={published}")
    # The next run cleans every leftover: one more, uninterrupted, then a strict check.
    clean = start(base, 9999, 10, 0.0)
    if clean.wait() != 0 or not verify(out)[0]:
        failures += 1
        print(f"  the run after the kills: {verify(out)[2] or clean.stderr.read()}")
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
        failures, waited = concurrent_trials(base, args.concurrent) if args.concurrent > 0 else (0, 0)
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
    if args.missing <= 0:
        return
    seconds, codes, wrote = missing_underlying(args.missing)
    print(f"--export on a folder lacking ETH: exit codes {sorted(set(codes))}, wall time per process "
          f"median {statistics.median(seconds):.2f} s (min {min(seconds):.2f}, max {max(seconds):.2f}), "
          f"{'WROTE SOMETHING' if wrote else 'nothing written'}")


if __name__ == "__main__":
    main()
