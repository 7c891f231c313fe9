"""What every greg-tui command line shares: exit codes, one-line errors, argument parsing.

Exit codes (README, docs/outputs.md):

* 0: done;
* 1: the run failed for a reason other than its input (disk full, no permission, another
  run holding the folder, Deribit unreachable);
* 2: bad input: an argument, or a data file that cannot be used;
* 130 / 143: interrupted by Ctrl-C / SIGTERM.

Every error is one line on stderr, never a traceback and never argparse's usage block.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
import threading
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path

from greg_core.errors import one_line

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
EXIT_INTERRUPTED = 128 + signal.SIGINT  # 130
EXIT_TERMINATED = 128 + signal.SIGTERM  # 143


class OneLineParser(argparse.ArgumentParser):
    """argparse that reports a bad argument as one line and exit code 2 (no usage block)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_USAGE, f"{self.prog}: error: {one_line(message)}\n")


def print_error(message: object, prog: str | None = None) -> None:
    """``[prog: ]error: <message on one line>`` on stderr."""
    prefix = f"{prog}: " if prog else ""
    print(f"{prefix}error: {one_line(message)}", file=sys.stderr, flush=True)


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised like Ctrl-C so the same clean-up runs and the same truthful message
    is printed; the exit code is 143 instead of 130."""


@contextlib.contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """While inside, SIGTERM raises ``Terminated`` in the main thread (a no-op elsewhere)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame):
        raise Terminated()

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def truthful_late_signals(published: Callable[[], Path | None], *, ending: bool = False) -> None:
    """For the rest of a command's process (main thread): SIGINT or SIGTERM once ``published()``
    names a folder print that the new results were already published there and end the process
    at once with 130 / 143. Without this, a SIGTERM landing between the run's end and the
    process's exit would end it silently (the default action) and a Ctrl-C would raise into the
    interpreter's shutdown. Before anything is published the signals raise as usual
    (``KeyboardInterrupt``, ``Terminated``), for the run's own handling to report; once the
    command has finished (``ending``: only its output is left to flush) they end the process
    at once in any case, saying the truth if something was published."""
    if threading.current_thread() is not threading.main_thread():
        return

    def handler(signum, frame):
        where = published()
        if where is None and not ending:
            raise Terminated() if signum == signal.SIGTERM else KeyboardInterrupt()
        with contextlib.suppress(Exception):  # stderr may be a closed pipe: exit all the same
            if where is not None:
                print(f"interrupted: the new results were already published in {where}", file=sys.stderr, flush=True)
            sys.stdout.flush()
        os._exit(128 + signum)  # the work is done and said; nothing left to clean up

    for signum in (signal.SIGINT, signal.SIGTERM):
        if signal.getsignal(signum) is not signal.SIG_IGN:  # started ignoring it (`cmd &`): keep ignoring
            signal.signal(signum, handler)


def interrupted_exit_code(exc: BaseException) -> int:
    return EXIT_TERMINATED if isinstance(exc, Terminated) or isinstance(exc.__context__, Terminated) else EXIT_INTERRUPTED


@contextlib.contextmanager
def warnings_as_lines() -> Iterator[None]:
    """While inside, a warning (a skipped chain file, a duplicate date) is one line on
    stderr, ``warning: <message>``, instead of Python's two lines quoting the source."""
    previous = warnings.showwarning

    def show(message, category, filename, lineno, file=None, line=None):
        print(f"warning: {one_line(message)}", file=sys.stderr, flush=True)

    warnings.showwarning = show
    try:
        yield
    finally:
        warnings.showwarning = previous
