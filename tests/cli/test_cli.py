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
