"""The ``greg-tui`` command: the terminal app, ``--export`` (headless sweep) and ``harvest``.

    greg-tui [--base-dir DIR]            open the app (results in DIR/backtest/output)
    greg-tui --where                     print the folders in use (data, results, regime file)
    greg-tui --export [sweep options]    run the sweep headless and write the outputs
    greg-tui harvest --underlying BTC ETH [--data-dir data] [--interval 15m] [--once]
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn

from greg_tui.command_line import OneLineParser, interrupted_exit_code


def main(argv: list[str] | None = None, *, as_process: bool = False) -> int:
    """Dispatch a command line; ``as_process``: this is the whole process (the console
    script), so an export runs as ``export_process`` and ends the process itself."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "harvest":
        from greg_tui.harvest_cli import main as harvest_main

        return harvest_main(argv[1:])
    if "--export" in argv:
        from greg_tui.export import main as export_main

        argv.remove("--export")
        if as_process:
            export_process(argv)
        return export_main(argv, prog="greg-tui --export")

    parser = OneLineParser(
        prog="greg-tui",
        description="Terminal research lab for Deribit options: sensor heatmaps, Greg sweet spots, regimes.",
        epilog="Headless: greg-tui --export [--help for its options]; data: greg-tui harvest --help",
    )
    parser.add_argument("--base-dir", type=Path, default=None,
                        help="where results live (BASE/backtest/output); default: $GREG_BASE_DIR, "
                             "else the checkout, else the user data folder (see --where)")
    parser.add_argument("--data-dir", type=Path, default=None,
                        help="real data folder (default: $GREG_DATA_DIR, else data/ in the checkout, else the "
                             "user data folder)")
    parser.add_argument("--where", action="store_true", help="print the folders in use and exit")
    args = parser.parse_args(argv)
    if args.where:
        from greg_core.settings import Folders

        print(Folders.resolve(args.data_dir, args.base_dir).describe())
        return 0
    from greg_tui.app import GregApp

    GregApp(base_dir=args.base_dir, data_dir=args.data_dir).run()
    return 0


def _guarded(run: Callable[[], int]) -> int:
    """``run()``'s exit code, with what can end a command from outside turned into codes: an
    interrupt that escaped the command's own handling (130 / 143) and a reader that stopped
    early (``| head``: not an error, 0)."""
    try:
        code = run()
        sys.stdout.flush()  # a reader gone early fails here, not at the interpreter's exit
    except KeyboardInterrupt as exc:  # between a command's own handling and the exit: nothing to add
        code = interrupted_exit_code(exc)
    except BrokenPipeError:
        # Python's recipe: point stdout at devnull so the flush at exit does not fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        code = 0
    return code


def export_process(argv: list[str], prog: str = "greg-tui --export") -> NoReturn:
    """An export as the whole process (``greg-tui --export``, scripts/run_greg_environment_heatmaps.py).

    A signal after the results are published says so (``truthful_late_signals``), and the
    process ends as soon as its output is flushed (``os._exit``): nothing is left to clean up
    (files synced, lock released), while the interpreter's teardown would put the signal
    handlers back to their defaults (a SIGTERM then would end the process silently) and takes
    tens of ms. A signal during that last flush ends the process at once as well (130 / 143,
    saying so if the results were published)."""
    from greg_tui.command_line import truthful_late_signals
    from greg_tui.export import main as export_main
    from greg_tui.export import published_to

    truthful_late_signals(published_to)
    code = _guarded(lambda: export_main(argv, prog=prog))
    truthful_late_signals(published_to, ending=True)
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    os._exit(code)


def entry_point() -> None:
    # Start-up is mostly importing numpy, pandas and Textual. uv installs them without
    # bytecode (its compile-bytecode setting recompiles the whole environment on every
    # `uv run`), and an environment with PYTHONDONTWRITEBYTECODE=1 would then recompile them on
    # every start, seconds each time: cache the bytecode the first run compiles instead.
    sys.dont_write_bytecode = False
    sys.exit(_guarded(lambda: main(as_process=True)))
