"""``restraint build``: build both data sets, explain the counts, print Tables 1-2."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def command(
    out: Annotated[
        Path | None,
        typer.Option(
            "--out", help="Folder for the data sets (Parquet + CSV), dictionary, provenance."
        ),
    ] = None,
    data_dir: Annotated[
        Path | None,
        typer.Option("--data-dir", help="Folder with the raw files (default: RESTRAINT_DATA_DIR)."),
    ] = None,
    explain: Annotated[
        bool, typer.Option("--explain", help="Print the reconciliation with the paper's counts.")
    ] = False,
    tables: Annotated[
        bool,
        typer.Option("--tables", help="Print Tables 1 and 2 (and write them as CSV with --out)."),
    ] = False,
    membership: Annotated[
        str, typer.Option("--membership", help="Actor/trigger membership rule: ever, year or day.")
    ] = "ever",
    contiguity_level: Annotated[
        int,
        typer.Option(
            "--contiguity-level", help="Politically relevant cut-off (direct contiguity type)."
        ),
    ] = 4,
    contiguity_source: Annotated[
        str, typer.Option("--contiguity-source", help="contdird (dyad-years) or contdir (periods).")
    ] = "contdird",
    alliance_direction: Annotated[
        str, typer.Option("--alliance-direction", help="ATOP obligations: either (shared) or own.")
    ] = "either",
    jd_missing: Annotated[
        str, typer.Option("--jd-missing", help="JD when a polity2 is missing: zero or na.")
    ] = "zero",
    polity_codes: Annotated[
        str,
        typer.Option(
            "--polity-codes",
            help="Polity5 country codes: cow (mapped to COW codes) or raw (as published).",
        ),
    ] = "cow",
    no_cache: Annotated[
        bool, typer.Option("--no-cache", help="Rebuild, ignoring the cache.")
    ] = False,
    strict: Annotated[
        bool,
        typer.Option(
            "--strict", help="Treat raw files whose hash differs from the registry as errors."
        ),
    ] = False,
) -> None:
    """Build the actor-level and directed dyad-year data sets."""
    from restraint.datasets import cache
    from restraint.datasets.build import build_all, load_tables
    from restraint.datasets.describe import table1, table2
    from restraint.datasets.export import atomic_write, write_datasets
    from restraint.datasets.options import BuildOptions

    if out is None and not explain and not tables:
        raise typer.BadParameter("give --out DIR (and/or --explain, --tables)", param_hint="--out")
    try:
        opt = BuildOptions(
            membership=membership,  # type: ignore[arg-type]
            contiguity_level=contiguity_level,
            contiguity_source=contiguity_source,  # type: ignore[arg-type]
            alliance_direction=alliance_direction,  # type: ignore[arg-type]
            jd_missing=jd_missing,  # type: ignore[arg-type]
            polity_codes=polity_codes,  # type: ignore[arg-type]
        )
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc
    actor, dyad = build_all(data_dir, opt, use_cache=not no_cache, strict=strict)
    assert actor is not None and dyad is not None
    typer.echo(
        f"actor level: {len(actor.data):,} rows; dyad-year: {len(dyad.data):,} rows "
        f"({int(dyad.data['crisis'].sum()):,} with a crisis)"
    )
    if out is not None:
        written = write_datasets(out, actor, dyad, input_files=cache.input_hashes(data_dir))
        typer.echo(f"wrote {len(written)} files to {out}")
    if tables:
        t1 = table1(actor, dyad, formatted=True)
        t2 = table2(actor)
        typer.echo("\nTable 1. Descriptive statistics\n" + t1.to_string())
        typer.echo("\nTable 2. Spearman correlations (actor level)\n" + t2.to_string())
        if out is not None:
            raw = table1(actor, dyad)
            for name, df in (("table1.csv", t1), ("table1_values.csv", raw), ("table2.csv", t2)):
                atomic_write(Path(out) / name, lambda p, df=df: df.to_csv(p, lineterminator="\n"))
    if explain:
        from restraint.datasets.reconcile import reconcile

        rec = reconcile(load_tables(data_dir, strict=strict), opt)
        typer.echo("\n" + rec.render())
        typer.echo("\nBuild logs\n" + actor.log.render() + "\n" + dyad.log.render())
        if out is not None:
            df = rec.to_frame()
            atomic_write(
                Path(out) / "reconciliation.csv",
                lambda p: df.to_csv(p, index=False, lineterminator="\n"),
            )
