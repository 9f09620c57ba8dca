"""``restraint replicate``: the command-line face of :func:`restraint.study.runner.replicate`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def command(
    out: Annotated[
        Path, typer.Option("--out", help="Folder to write (replaced atomically).")
    ] = Path("replication"),
    data_dir: Annotated[
        Path | None,
        typer.Option(
            "--data-dir", help="Raw data folder (else RESTRAINT_DATA_DIR, cache, download)."
        ),
    ] = None,
    selection: Annotated[
        str, typer.Option("--selection", help="Selection stage: published, crossed or both.")
    ] = "both",
    spec: Annotated[
        Path | None,
        typer.Option("--spec", help="TOML file with the models to run (default: built-in)."),
    ] = None,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Rebuild the data sets.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress or summary.")] = False,
) -> None:
    """Build the data, fit every model, write Tables 1-6 and A1, Figure 1, results.json and
    report.html into OUT."""
    from rich.console import Console

    from restraint.errors import RestraintError
    from restraint.study.runner import replicate

    err = Console(stderr=True)
    try:
        replicate(
            out=out,
            data_dir=data_dir,
            selection=selection,
            spec=spec,
            progress=not quiet,
            use_cache=not no_cache,
        )
    except (RestraintError, OSError, ValueError) as exc:
        err.print(f"[bold red]error:[/] {exc}")
        raise typer.Exit(code=1) from exc
