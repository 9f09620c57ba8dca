"""The ``restraint`` command line.

Each layer owns its sub-command in its own module; this file only wires them together
so that importing the CLI stays cheap (sub-apps import their heavy dependencies lazily).
"""

from __future__ import annotations

import atexit
import os
import sys
import threading
from typing import NoReturn

import typer

from restraint import __version__

app = typer.Typer(
    name="restraint",
    help="From raw conflict data to published results (Hwang 2025 reproduction).",
    no_args_is_help=True,
    add_completion=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"restraint {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version."
    ),
) -> None:
    """restraint command line."""


def _register() -> None:
    # Sub-apps are optional at import time so a partially installed tree still gives help.
    import importlib

    for module, name, kind in (
        ("restraint.sources.cli", "data", "typer"),
        ("restraint.datasets.cli", "build", "command"),
        ("restraint.study.cli", "replicate", "command"),
        ("restraint.game.cli", "game", "typer"),
    ):
        try:
            mod = importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name != module:
                raise
            continue
        if kind == "typer":
            app.add_typer(mod.app, name=name)
        else:
            app.command(name=name)(mod.command)


_register()


def main() -> None:
    """Entry point of the console script."""
    try:
        app()
    except SystemExit as exc:
        _exit(exc.code)
    _exit(0)


def _exit(code: object) -> NoReturn:
    """End the process as ``sys.exit(code)`` would, without the interpreter's teardown.

    Freeing every module's objects one by one (pandas, scipy, numba and LLVM) takes
    0.2-0.4 s after a replication, for a process that is ending anyway. What an exit must
    do still happens: other threads are joined and the ``atexit`` handlers run (logging is
    flushed, temporary folders are removed, coverage is saved), then the standard streams
    are flushed. Where those hooks are missing (another Python), it is a plain sys.exit.
    """
    shutdown = getattr(threading, "_shutdown", None)
    run_exitfuncs = getattr(atexit, "_run_exitfuncs", None)
    if shutdown is None or run_exitfuncs is None:
        sys.exit(code)
    if code is None:
        status = 0
    elif isinstance(code, int):
        status = code
    else:  # sys.exit("message"): the message goes to stderr, the status is 1
        print(code, file=sys.stderr)
        status = 1
    shutdown()
    run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (AttributeError, OSError, ValueError):
            pass  # closed or redirected away: nothing left to write
    os._exit(status)


if __name__ == "__main__":
    main()
