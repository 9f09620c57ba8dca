"""The actor-level and directed dyad-year builders.

``build_*_from(tables, options)`` are pure functions of the source tables; ``build_*``
read the tables with :mod:`restraint.sources` (optionally through the cache) and call
them. Every row removed is counted in the result's :class:`BuildLog`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from restraint import __version__
from restraint.datasets._keys import dyad_key, isin, nullable_int8, state_key
from restraint.datasets.alliances import alliance_indicators
from restraint.datasets.covariates import (
    contiguity_indicator,
    joint_democracy,
    preponderance,
    tally_polity_codes,
)
from restraint.datasets.crises import first_crisis_per_dyad_year, select_crisis_actors
from restraint.datasets.dyads import (
    contiguity_coverage,
    contiguity_years,
    directed_dyad_years,
    politically_relevant,
)
from restraint.datasets.log import BuildLog
from restraint.datasets.options import BuildOptions
from restraint.datasets.system import majors_by_year, states_by_year

__all__ = [
    "COLUMNS",
    "ACTOR_COLUMNS",
    "BINARY_COLUMNS",
    "SourceTables",
    "BuildResult",
    "load_tables",
    "build_actor_level_from",
    "build_dyad_year_from",
    "build_actor_level",
    "build_dyad_year",
    "build_all",
]

#: Column order of both data sets (the actor level appends ``crisno, cracno``).
COLUMNS: tuple[str, ...] = (
    "milresp",
    "crisis",
    "mp",
    "dp",
    "dpmp",
    "jd",
    "prep",
    "contig",
    "ic",
    "mt",
    "sc",
    "ccode1",
    "ccode2",
    "year",
    "directed_dyad",
)
ACTOR_COLUMNS: tuple[str, ...] = COLUMNS + ("crisno", "cracno")
BINARY_COLUMNS: tuple[str, ...] = (
    "milresp",
    "crisis",
    "mp",
    "dp",
    "jd",
    "contig",
    "ic",
    "mt",
    "sc",
)

# Reader name in restraint.sources for each table.
_READERS: dict[str, str] = {
    "icb_actors": "read_icb_actors",
    "states": "read_cow_states",
    "majors": "read_cow_majors",
    "system": "read_cow_system",
    "contiguity": "read_contiguity",
    "contiguity_periods": "read_contiguity_periods",
    "nmc": "read_nmc",
    "polity": "read_polity",
    "atop": "read_atop_ddyr",
}


@dataclass
class SourceTables:
    """The source tables the builders read (as returned by :mod:`restraint.sources`).

    ``contiguity`` is COW's directed dyad-year file (contdird), ``contiguity_periods`` its
    master file of periods (contdir); only the one named by
    ``BuildOptions.contiguity_source`` is needed.
    """

    icb_actors: pd.DataFrame
    states: pd.DataFrame
    majors: pd.DataFrame
    system: pd.DataFrame | None = None
    contiguity: pd.DataFrame | None = None
    contiguity_periods: pd.DataFrame | None = None
    nmc: pd.DataFrame | None = None
    polity: pd.DataFrame | None = None
    atop: pd.DataFrame | None = None

    @classmethod
    def coerce(cls, tables: SourceTables | Mapping[str, pd.DataFrame]) -> SourceTables:
        """Accept a :class:`SourceTables` or a mapping with the same keys."""
        if isinstance(tables, SourceTables):
            return tables
        names = {f.name for f in fields(cls)}
        unknown = sorted(set(tables) - names)
        if unknown:
            raise ValueError(f"unknown source table(s) {unknown}; expected {sorted(names)}")
        missing = [n for n in ("icb_actors", "states", "majors") if n not in tables]
        if missing:
            raise ValueError(f"source tables missing: {missing}")
        return cls(**dict(tables))

    def require(self, *names: str) -> None:
        """Raise ``ValueError`` naming every required table that is absent."""
        absent = [n for n in names if getattr(self, n) is None]
        if absent:
            raise ValueError(f"source table(s) {absent} are needed for this build but absent")

    def contiguity_table(self, source: str) -> pd.DataFrame:
        """The contiguity table for ``source`` ('contdird' or 'contdir')."""
        name = "contiguity" if source == "contdird" else "contiguity_periods"
        self.require(name)
        return getattr(self, name)

    def provenance(self) -> dict[str, Any]:
        """``attrs['source']`` of each present table, made JSON-safe."""
        out: dict[str, Any] = {}
        for f in fields(self):
            df = getattr(self, f.name)
            if df is not None:
                out[f.name] = _json_safe(df.attrs.get("source"))
        return out


def _json_safe(obj: Any) -> Any:
    return json.loads(json.dumps(obj, default=str, sort_keys=True))


@dataclass
class BuildResult:
    """A built data set: ``data``, its drop accounting ``log``, the ``options`` used and a
    ``provenance`` dict (inputs, options, package version)."""

    data: pd.DataFrame
    log: BuildLog
    options: BuildOptions = field(default_factory=BuildOptions)
    provenance: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.data)

    def numeric(self) -> pd.DataFrame:
        """``data`` with nullable columns as float64 (NaN for NA), for estimators that do
        not accept pandas' nullable dtypes."""
        return self.data.astype(
            {c: "float64" for c in self.data.columns if str(self.data[c].dtype)[0] in "IF"}
        )


def load_tables(
    data_dir: str | Path | None = None,
    *,
    strict: bool = False,
    names: tuple[str, ...] | None = None,
) -> SourceTables:
    """Read the source tables with :mod:`restraint.sources` (``names``: which; default all).

    Raises ``ImportError`` with a clear message when a reader is not available.
    """
    import importlib

    sources = importlib.import_module("restraint.sources")
    wanted = names or tuple(_READERS)
    got: dict[str, pd.DataFrame] = {}
    for name in wanted:
        reader = getattr(sources, _READERS[name], None)
        if reader is None:
            raise ImportError(
                f"restraint.sources has no {_READERS[name]}() (needed for table {name!r})"
            )
        got[name] = reader(data_dir, strict=strict)
    return SourceTables.coerce(got)


def _covariates(
    frame: pd.DataFrame,
    tables: SourceTables,
    options: BuildOptions,
    majors_year: pd.DataFrame,
    contig: pd.DataFrame,
    coverage: tuple[int, int],
    log: BuildLog | None = None,
) -> pd.DataFrame:
    """DP, MP, DPMP, SC, JD, Prep and Contig for (ccode1, ccode2, year) rows."""
    tables.require("atop", "polity", "nmc")
    al = alliance_indicators(
        frame,
        tables.atop,
        majors_year,
        dp_obligations=options.dp_obligations,
        sc_obligations=options.sc_obligations,
        direction=options.alliance_direction,
    )
    out = al.copy()
    jd = {
        rule: joint_democracy(
            frame,
            tables.polity,
            threshold=options.jd_threshold,
            missing=rule,
            codes=options.polity_codes,
        )
        for rule in ("zero", "na")
    }
    out["jd"] = jd[options.jd_missing]
    if log is not None:
        undecided = int((jd["na"].isna() & jd["zero"].notna()).sum())
        rule = "0" if options.jd_missing == "zero" else "NA"
        log.tally(f"polity2 missing, JD undecided -> jd {rule}", undecided)
        tally_polity_codes(
            log,
            frame,
            tables.polity,
            out["jd"],
            codes=options.polity_codes,
            threshold=options.jd_threshold,
            missing=options.jd_missing,
        )
    out["prep"] = preponderance(frame, tables.nmc)
    out["contig"] = contiguity_indicator(
        frame, contig, types=options.contig_types, coverage=coverage
    )
    return out


def _finalise(df: pd.DataFrame, columns: tuple[str, ...]) -> pd.DataFrame:
    df = df.copy()
    df["directed_dyad"] = df["ccode1"].astype(np.int64) * 1000 + df["ccode2"].astype(np.int64)
    for c in BINARY_COLUMNS + ("dpmp",):
        df[c] = df[c].astype("Int8")
    df["prep"] = df["prep"].astype("Float64")
    for c in ("ccode1", "ccode2", "year", "directed_dyad", "crisno", "cracno"):
        if c in df.columns:
            df[c] = df[c].astype(np.int64)
    return df.loc[:, list(columns)].reset_index(drop=True)


def _provenance(tables: SourceTables, options: BuildOptions, kind: str) -> dict[str, Any]:
    return {
        "dataset": kind,
        "package": "restraint",
        "version": __version__,
        "options": options.to_dict(),
        "options_sha256": options.fingerprint(),
        "inputs": tables.provenance(),
    }


def build_actor_level_from(
    tables: SourceTables | Mapping[str, pd.DataFrame],
    options: BuildOptions | None = None,
    **overrides: Any,
) -> BuildResult:
    """Actor-level data set from source tables: one row per ICB crisis actor whose crisis
    is between two COW states, triggered within ``options.actor_years``.

    B is the triggering entity; JD, Prep, Contig, DP, MP and SC are taken in the trigger
    year. ``crisis`` is 1 on every row.
    """
    opt = _resolve_options(options, overrides)
    t = SourceTables.coerce(tables)
    log = BuildLog("actor_level")
    actors = select_crisis_actors(t.icb_actors, t.states, t.system, opt, log)
    majors_year = majors_by_year(t.majors)
    ctab = t.contiguity_table(opt.contiguity_source)
    contig = contiguity_years(ctab, opt.contiguity_source, opt.actor_years)
    cov = _covariates(
        actors, t, opt, majors_year, contig, contiguity_coverage(ctab, opt.contiguity_source), log
    )
    df = pd.concat([actors.reset_index(drop=True), cov.reset_index(drop=True)], axis=1)
    df["crisis"] = 1
    data = _finalise(df, ACTOR_COLUMNS)
    log.finish(data)
    return BuildResult(data, log, opt, _provenance(t, opt, "actor_level"))


def build_dyad_year_from(
    tables: SourceTables | Mapping[str, pd.DataFrame],
    options: BuildOptions | None = None,
    **overrides: Any,
) -> BuildResult:
    """Directed dyad-year data set from source tables.

    Every ordered pair of COW system members in each year of ``options.dyad_years``, kept
    when politically relevant (contiguity type <= ``contiguity_level`` or a major power).
    CRISIS = 1 where A was an ICB crisis actor triggered by B that year (the first such
    crisis by trigger date when several); MILRESP, IC and MT are filled on those rows only.
    """
    opt = _resolve_options(options, overrides)
    t = SourceTables.coerce(tables)
    t.require("system")
    data, log = _dyad_core(t, opt, states_by_year(t.system, opt.dyad_years), covariates=True)
    return BuildResult(data, log, opt, _provenance(t, opt, "dyad_year"))


def _dyad_core(
    t: SourceTables, opt: BuildOptions, sy: pd.DataFrame, *, covariates: bool
) -> tuple[pd.DataFrame, BuildLog]:
    """Dyad-year rows and log for members ``sy`` (covariates skipped when only counting)."""
    log = BuildLog("dyad_year")
    unit = "dyad-years"
    years = opt.dyad_years
    dy = directed_dyad_years(sy, years)
    log.start(unit, f"directed dyad-years of COW members {years[0]}-{years[1]}", len(dy))
    majors_year = majors_by_year(t.majors, years)
    ctab = t.contiguity_table(opt.contiguity_source)
    contig = contiguity_years(ctab, opt.contiguity_source, years)
    rel = politically_relevant(
        dy, contig, majors_year, level=opt.contiguity_level, major_power=opt.major_power_clause
    )
    keep = rel["relevant"].to_numpy()
    log.drop(
        unit,
        "politically relevant",
        f"neither contiguous (direct type <= {opt.contiguity_level}) nor a major power"
        if opt.major_power_clause
        else f"not contiguous (direct type <= {opt.contiguity_level})",
        len(dy),
        int(keep.sum()),
    )
    log.tally("relevant: a major power in the dyad", int((rel["major"] & rel["relevant"]).sum()))
    log.tally(
        "relevant: contiguous only (no major power)",
        int((rel["contiguous"] & ~rel["major"]).sum()),
    )
    dy = dy.loc[keep].reset_index(drop=True)
    if covariates:
        cov = _covariates(
            dy, t, opt, majors_year, contig, contiguity_coverage(ctab, opt.contiguity_source), log
        )
        df = pd.concat([dy, cov], axis=1)
    else:
        df = dy

    # Crises: the actor-level selection restricted to the dyad years, one per dyad-year.
    cunit = "crisis rows"
    actors = select_crisis_actors(
        t.icb_actors, t.states, t.system, opt, log, years=years, unit=cunit
    )
    first, ndup = first_crisis_per_dyad_year(actors)
    log.drop(
        cunit,
        "duplicate crisis in a dyad-year",
        "a later crisis of the same (actor, trigger, year) (first by trigger date kept)",
        len(actors),
        len(first),
    )
    ckeys = dyad_key(first["ccode1"], first["ccode2"], first["year"])
    skeys = state_key(sy["ccode"], sy["year"])
    in_system = isin(skeys, state_key(first["ccode1"], first["year"])) & isin(
        skeys, state_key(first["ccode2"], first["year"])
    )
    dkeys = dyad_key(df["ccode1"], df["ccode2"], df["year"])
    row_has_crisis = isin(ckeys, dkeys)  # per dyad-year row
    crisis_kept = isin(dkeys, ckeys)  # per crisis row
    not_member = ~in_system
    log.drop(
        cunit,
        "matched to a relevant dyad-year",
        "crisis not matched to a politically relevant dyad-year",
        len(first),
        int(crisis_kept.sum()),
        {
            "actor or trigger not a system member that year": int(not_member.sum()),
            "dyad-year not politically relevant": int((in_system & ~crisis_kept).sum()),
        },
    )
    df["crisis"] = nullable_int8(row_has_crisis)
    pos = pd.Index(ckeys).get_indexer(dkeys)
    for c in ("milresp", "ic", "mt"):
        vals = first[c].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
        col = np.where(pos >= 0, vals[np.maximum(pos, 0)], np.nan)
        df[c] = nullable_int8(np.nan_to_num(col), np.isnan(col))
    if not covariates:
        return df, log
    data = _finalise(df, COLUMNS)
    log.finish(data)
    return data, log


def _resolve_options(options: BuildOptions | None, overrides: dict[str, Any]) -> BuildOptions:
    opt = options or BuildOptions()
    return opt.replace(**overrides) if overrides else opt


def _needed_tables(opt: BuildOptions) -> tuple[str, ...]:
    ctab = "contiguity" if opt.contiguity_source == "contdird" else "contiguity_periods"
    return ("icb_actors", "states", "majors", "system", ctab, "nmc", "polity", "atop")


def build_actor_level(
    data_dir: str | Path | None = None,
    options: BuildOptions | None = None,
    *,
    use_cache: bool = False,
    strict: bool = False,
    **overrides: Any,
) -> BuildResult:
    """Actor-level data set from the raw files (see :func:`build_actor_level_from`).

    ``overrides`` are :class:`BuildOptions` fields applied on top of ``options``.
    """
    return build_all(
        data_dir,
        _resolve_options(options, overrides),
        use_cache=use_cache,
        strict=strict,
        which=("actor",),
    )[0]


def build_dyad_year(
    data_dir: str | Path | None = None,
    options: BuildOptions | None = None,
    *,
    use_cache: bool = False,
    strict: bool = False,
    **overrides: Any,
) -> BuildResult:
    """Directed dyad-year data set from the raw files (see :func:`build_dyad_year_from`)."""
    return build_all(
        data_dir,
        _resolve_options(options, overrides),
        use_cache=use_cache,
        strict=strict,
        which=("dyad",),
    )[1]


def build_all(
    data_dir: str | Path | None = None,
    options: BuildOptions | None = None,
    use_cache: bool = True,
    *,
    strict: bool = False,
    which: tuple[str, ...] = ("actor", "dyad"),
) -> tuple[BuildResult | None, BuildResult | None]:
    """Both data sets ``(actor, dyad)`` from the raw files, through the cache.

    The cache is keyed by the SHA-256 of the input files, the options and the package
    version; it lives under the user cache dir (``RESTRAINT_CACHE_DIR`` overrides). It is
    used only when every input file is available locally (otherwise the build reads,
    possibly downloading, without it). ``which`` limits the
    build to one of the two data sets (the other is then ``None``).
    """
    from restraint.datasets import cache

    opt = options or BuildOptions()
    key = cache.cache_key(data_dir, opt, _needed_tables(opt)) if use_cache else None
    if key is not None:
        hit = cache.load(key, which)
        if hit is not None:
            return hit
    tables = load_tables(data_dir, strict=strict, names=_needed_tables(opt))
    actor = build_actor_level_from(tables, opt) if "actor" in which else None
    dyad = build_dyad_year_from(tables, opt) if "dyad" in which else None
    if key is not None:
        cache.store(key, actor, dyad)
    return actor, dyad
