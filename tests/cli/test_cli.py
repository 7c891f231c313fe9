"""The ``greg-tui`` entry point itself: what happens around any command."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest


@pytest.mark.parametrize("unbuffered", [True, False])  # buffered: the write fails at the flush
def test_output_piped_into_a_reader_that_stops_early_is_not_a_traceback(unbuffered):
    """`greg-tui --where | head -0`: the reader is gone before the first line is printed."""
    code = "import sys; sys.argv = ['greg-tui', '--where']; from greg_tui.cli import entry_point; entry_point()"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    if unbuffered:
        env["PYTHONUNBUFFERED"] = "1"
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    child.stdout.close()  # before the child has imported anything, let alone printed
    _, err = child.communicate(timeout=60)
    assert child.returncode == 0
    assert b"Traceback" not in err and b"BrokenPipe" not in err


LATE_SIGNAL = """
import os, signal, sys, time
from pathlib import Path
from greg_tui.command_line import Terminated, truthful_late_signals
# Started in the background (CI), a process inherits Ctrl-C ignored: start as a terminal would.
signal.signal(signal.SIGINT, signal.default_int_handler)
published = None
truthful_late_signals(lambda: published)
try:
    os.kill(os.getpid(), signal.SIGTERM)  # before anything is published: raised for the run's handling
    time.sleep(5)
except Terminated:
    print("raised", flush=True)
published = Path("/tmp/results")
os.kill(os.getpid(), getattr(signal, sys.argv[1]))  # after: said, and the process ends at once
time.sleep(5)
print("not reached", flush=True)
"""


@pytest.mark.parametrize(("signame", "code"), [("SIGTERM", 143), ("SIGINT", 130)])
def test_a_signal_after_the_results_are_published_says_so(signame, code):
    """A signal landing between an export's publish and the process's end (fault trials
    caught a silent exit -15 there): the truth, and 130 / 143."""
    child = subprocess.run([sys.executable, "-c", LATE_SIGNAL, signame], capture_output=True, text=True, timeout=60)
    assert child.stdout.splitlines() == ["raised"]
    assert child.stderr.strip() == "interrupted: the new results were already published in /tmp/results"
    assert child.returncode == code


@pytest.mark.parametrize("unbuffered", [True, False])
def test_an_export_summary_piped_into_a_reader_that_stops_early_is_true(tmp_path, unbuffered):
    """`greg-tui --export | head -0`: the results are published; no "nothing written" line
    (the summary's broken pipe once reached the disk-error branch), exit 0."""
    args = ["greg-tui", "--export", "--underlying", "BTC", "--lookback-days", "200", "--metrics", "vrp_30d",
            "adx_14d", "--base-dir", str(tmp_path)]
    code = f"import sys; sys.argv = {args!r}; from greg_tui.cli import entry_point; entry_point()"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    if unbuffered:
        env["PYTHONUNBUFFERED"] = "1"
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    child.stdout.close()
    _, err = child.communicate(timeout=120)
    assert child.returncode == 0, err
    assert b"nothing written" not in err and b"Traceback" not in err
    assert (tmp_path / "backtest" / "output" / "greg_heatmap_manifest.json").exists()


ENDING = """
import os, signal, sys, time
from greg_tui.command_line import truthful_late_signals
truthful_late_signals(lambda: None, ending=True)  # the command is done, nothing was published
os.kill(os.getpid(), signal.SIGTERM)
time.sleep(5)
print("not reached", flush=True)
"""


def test_a_signal_while_a_finished_command_flushes_ends_it_without_a_claim():
    child = subprocess.run([sys.executable, "-c", ENDING], capture_output=True, text=True, timeout=60)
    assert (child.returncode, child.stdout, child.stderr) == (143, "", "")


IGNORED = """
import os, signal, time
from pathlib import Path
from greg_tui.command_line import truthful_late_signals
signal.signal(signal.SIGINT, signal.SIG_IGN)  # started with `cmd &`: Ctrl-C is not for it
truthful_late_signals(lambda: Path("/tmp/results"))
os.kill(os.getpid(), signal.SIGINT)
time.sleep(0.2)
print("still running", flush=True)
"""


def test_an_ignored_ctrl_c_stays_ignored():
    child = subprocess.run([sys.executable, "-c", IGNORED], capture_output=True, text=True, timeout=60)
    assert (child.returncode, child.stdout.strip(), child.stderr) == (0, "still running", "")
