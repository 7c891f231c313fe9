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
from pathlib import Path

from greg_tui.command_line import OneLineParser, interrupted_exit_code


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "harvest":
        from greg_tui.harvest_cli import main as harvest_main

        return harvest_main(argv[1:])
    if "--export" in argv:
        from greg_tui.export import main as export_main

        argv.remove("--export")
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


def entry_point() -> None:
    # Start-up is mostly importing numpy, pandas and Textual. uv installs them without
    # bytecode (its compile-bytecode setting recompiles the whole environment on every
    # `uv run`), and an environment with PYTHONDONTWRITEBYTECODE=1 would then recompile them on
    # every start, seconds each time: cache the bytecode the first run compiles instead.
    sys.dont_write_bytecode = False
    exporting = "--export" in sys.argv[1:]
    if exporting:  # the real process only: tests call main() in their own
        from greg_tui.command_line import truthful_late_signals
        from greg_tui.export import published_to

        truthful_late_signals(published_to)
    try:
        code = main()
        sys.stdout.flush()  # a reader gone early fails here, not at the interpreter's exit
    except KeyboardInterrupt as exc:  # between a command's own handling and the exit: nothing to add
        code = interrupted_exit_code(exc)
    except BrokenPipeError:  # output piped into a reader that stopped early (`| head`): not an error
        # Python's recipe: point stdout at devnull so the flush at exit does not fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        code = 0
    if exporting:
        # Nothing is left to clean up after an export (files synced, lock released): end here
        # rather than after the interpreter's teardown, which puts the signal handlers back to
        # their defaults (a SIGTERM then would end the process silently) and takes tens of ms.
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(OSError, ValueError):
                stream.flush()
        os._exit(code)
    sys.exit(code)
