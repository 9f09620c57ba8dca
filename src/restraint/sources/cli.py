"""``restraint data``: list, fetch, verify and cite the raw data sets."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from restraint.errors import DataFileError, DataNotFoundError, HashMismatchWarning
from restraint.sources.registry import DATASETS, STUDY_CITATION

app = typer.Typer(
    name="data",
    help="Raw data sets: where they resolve, download, verify, cite.",
    no_args_is_help=True,
    add_completion=False,
)

_DATA_DIR_HELP = (
    "Folder holding the raw files (icb/, cow/, polity/, atop/); tried before "
    "RESTRAINT_DATA_DIR, the user cache and a download."
)
DataDir = Annotated[Path | None, typer.Option("--data-dir", help=_DATA_DIR_HELP)]
Names = Annotated[list[str] | None, typer.Argument(help="Data sets or prefixes (default: all).")]


def _console() -> Console:
    # Piped or captured output (CI logs, grep) gets one line per row: no folded paths.
    console = Console()
    return console if console.is_terminal else Console(width=1000, soft_wrap=True)


def _select(names: list[str] | None) -> list[str]:
    """Map names to registry keys: exact keys, or a prefix such as ``icb`` or ``cow``."""
    if not names:
        return list(DATASETS)
    keys: list[str] = []
    for name in names:
        hits = [name] if name in DATASETS else [k for k in DATASETS if k.startswith(name)]
        if not hits:
            raise typer.BadParameter(
                f"unknown data set {name!r}; expected one of: {', '.join(DATASETS)}",
                param_hint="NAME",
            )
        keys.extend(k for k in hits if k not in keys)
    return keys


def _status(rf) -> str:
    if rf.verified:
        return f"[green]verified[/] ({rf.hash_source})"
    if rf.expected_sha256:
        return "[red]HASH MISMATCH[/] (unverified)"
    return "[yellow]no reference hash[/] (unverified)"


@app.command("list")
def list_(
    data_dir: DataDir = None,
) -> None:
    """Show each data set, its version, where it resolves and whether it is verified."""
    from restraint.sources.resolve import resolve

    table = Table(title="restraint raw data sets")
    for col in ("key", "data set", "version", "resolves to", "from", "status"):
        table.add_column(col, overflow="fold")
    for key, ds in DATASETS.items():
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", HashMismatchWarning)
                rf = resolve(key, data_dir, download=False)
        except DataNotFoundError:
            where = "; ".join(str(f.url) for f in ds.downloadable) or "manual download"
            table.add_row(key, ds.title, ds.version, f"[dim]not found[/] ({where})", "-", "-")
            continue
        except DataFileError as exc:
            table.add_row(key, ds.title, ds.version, "[red]error[/]", "-", str(exc))
            continue
        loc = str(rf.path) + "".join("!" + m for m in rf.member)
        table.add_row(key, ds.title, ds.version, loc, rf.origin, _status(rf))
    _console().print(table)


@app.command()
def fetch(
    names: Names = None,
    data_dir: DataDir = None,
) -> None:
    """Make every named data set available: find it, or download it into the user cache."""
    from restraint.sources.resolve import resolve

    console = _console()
    failed = 0
    for key in _select(names):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", HashMismatchWarning)
            try:
                rf = resolve(key, data_dir, download=True)
            except (DataNotFoundError, DataFileError) as exc:
                failed += 1
                console.print(f"[red]✗ {key}[/]: {exc}", highlight=False)
                continue
        console.print(f"[green]✓ {key}[/] {rf.path} ({rf.origin}; {_status(rf)})", highlight=False)
        for w in caught:
            console.print(f"  [yellow]warning[/]: {w.message}", highlight=False)
    raise typer.Exit(1 if failed else 0)


@app.command()
def verify(
    data_dir: DataDir = None,
    strict: Annotated[
        bool, typer.Option("--strict", help="Treat hash mismatches and duplicate keys as errors.")
    ] = False,
    names: Names = None,
) -> None:
    """Resolve, hash and fully parse every data set; exit 0 only if all are valid."""
    from restraint.sources.readers import READERS

    console = _console()
    failed = 0
    for key in _select(names):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                df = READERS[key](data_dir, strict=strict)
            except (DataNotFoundError, DataFileError) as exc:
                failed += 1
                console.print(f"[red]✗ {key}[/]: {exc}", highlight=False)
                continue
        src = df.attrs["source"]
        status = "verified" if src["verified"] else "UNVERIFIED"
        colour = "green" if src["verified"] else "yellow"
        member = f"!{src['member']}" if src.get("member") else ""
        console.print(
            f"[{colour}]✓ {key}[/] {len(df)} rows, {status}, sha256 {src['sha256'][:12]}…, "
            f"{src['path']}{member}",
            highlight=False,
        )
        for w in caught:
            console.print(f"  [yellow]warning[/]: {w.message}", highlight=False)
    if failed:
        console.print(f"[red]{failed} data set(s) failed[/]")
    raise typer.Exit(1 if failed else 0)


@app.command()
def cite(
    names: Names = None,
    data_dir: DataDir = None,
) -> None:
    """Print BibTeX for the data sets (and, with no names, the study reproduced)."""
    del data_dir  # citations do not depend on where the files are
    seen: set[str] = set()
    blocks = []
    for key in _select(names):
        cit = DATASETS[key].citation
        if cit not in seen:
            seen.add(cit)
            blocks.append(cit)
    if not names:
        blocks.append(STUDY_CITATION)
    typer.echo("\n\n".join(blocks))
