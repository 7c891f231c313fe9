"""The ``greg-tui`` entry point itself: what happens around any command."""

from __future__ import annotations

import subprocess
import sys


def test_output_piped_into_a_reader_that_stops_early_is_not_a_traceback():
    """`greg-tui --where | head -0`: the reader is gone before the first line is printed."""
    code = "import sys; sys.argv = ['greg-tui', '--where']; from greg_tui.cli import entry_point; entry_point()"
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    child.stdout.close()  # before the child has imported anything, let alone printed
    _, err = child.communicate(timeout=60)
    assert child.returncode == 0
    assert b"Traceback" not in err and b"BrokenPipe" not in err
