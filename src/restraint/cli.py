"""The ``restraint`` command line.

Each layer owns its sub-command in its own module; this file only wires them together
so that importing the CLI stays cheap (sub-apps import their heavy dependencies lazily).
"""

from __future__ import annotations

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
    app()


if __name__ == "__main__":
    main()
