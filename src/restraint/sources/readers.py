"""One reader per raw data set: typed, tidy, validated DataFrames with provenance.

Every reader has the signature ``read_x(data_dir=None, *, strict=False) -> DataFrame``:
it resolves the file (see :func:`restraint.sources.resolve.resolve`), parses it, checks
columns, types, ranges and duplicate keys, and attaches
``df.attrs["source"] = {"key", "path", "sha256", "version", "verified", ...}``.

Conventions: column names are the official ones, lower-cased; COW codes, years and
other codes are ``Int64``; continuous values ``Float64``; text ``string``; missing values
are ``<NA>``, never the files' sentinel codes (-9, -66, -77, -88, -99) or blanks.
"""

from __future__ import annotations

import copy
import warnings
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from restraint.errors import DataFileError
from restraint.sources._parse import Table, load_table
from restraint.sources.registry import DATASETS, FileForm, get_dataset
from restraint.sources.resolve import resolve

__all__ = [
    "DuplicateKeyWarning",
    "clear_cache",
    "load_all",
    "parse_file",
    "read_atop_ddyr",
    "read_contiguity",
    "read_contiguity_periods",
    "read_cow_majors",
    "read_cow_states",
    "read_cow_system",
    "read_icb_actors",
    "read_icb_crises",
    "read_nmc",
    "read_polity",
    "validate_file",
]

PathLike = str | Path

# Plausible bounds. COW codes run 2..990 (the 2..999 leaves room for ICB's
# 995-997 trigger codes); years are bounded loosely so later releases still pass.
CCODE = (2, 999)
YEARS_COW = (1816, 2100)


class DuplicateKeyWarning(UserWarning):
    """A file has rows sharing a key that is normally unique; all rows are kept."""


# --- ICB -----------------------------------------------------------------------------

#: Codes the ICB v15 codebooks define as "missing" for a particular variable.
ICB_CODEBOOK_MISSING: dict[str, dict[str, tuple[int, ...]]] = {
    "icb_actors": {"outfor": (99,)},
    "icb_crises": {
        c: (9,)
        for c in (
            "chacts",
            "chall",
            "powch",
            "rugach",
            "mediate",
            "mednum",
            "medwho",
            "medtime",
            "medgoal",
        )
    },
}
#: Columns where a negative value is substantive (power discrepancy), so -99 is kept.
_ICB_SIGNED = {"powdis", "powdissy"}
#: Day-of-month columns use 66, 77, 88 for an imprecise day (kept; see docs/data.md).
_ICB_DAY_COLUMNS = {"datrig", "systrgda", "dayres", "daterm"}
_ICB_IMPRECISE_DAY = (66, 77, 88)


def _parse_icb(t: Table, key: str) -> pd.DataFrame:
    level = "icb2" if key == "icb_actors" else "icb1"
    ds = get_dataset(key)
    t.require_columns(ds.required_columns)
    t.require_rows()
    text_cols = {level, "actor", "crisname"}
    missing_codes = ICB_CODEBOOK_MISSING[key]
    for col in t.df.columns:
        if col in text_cols:
            t.to_str(col)
        else:
            codes: tuple[int, ...] = () if col in _ICB_SIGNED else (-99,)
            t.to_int(col, na_codes=codes + missing_codes.get(col, ()))
    keys = ["crisno", "cracno"] if key == "icb_actors" else ["crisno"]
    t.require_nonnull([*keys, "yrtrig", "trigent"])
    t.check_range("crisno", 1, 9999)
    t.check_range("yrtrig", 1900, 2100, what="year of trigger")
    t.check_range("motrig", 1, 12, what="month")
    t.check_range("datrig", 1, 31, what="day", also=_ICB_IMPRECISE_DAY)
    t.check_range("trigent", *CCODE, what="COW code, or 995 internal / 996 non-state / 997 several")
    t.check_range("crismg", 1, 9, what="crisis-management technique")
    if key == "icb_actors":
        t.require_nonnull(["cracid", "actor"])
        t.check_range("cracno", 1, 99999)
        t.check_range("cracid", *CCODE, what="COW state code")
        t.check_range("triggr", 1, 9, what="trigger type")
        t.check_range("econdt", 1, 4)
        t.check_range("gvinst", 1, 4)
    t.check_unique(keys, "crisis actor" if key == "icb_actors" else "crisis")
    return t.df


# --- COW state system ---------------------------------------------------------------


def _parse_cow_dates(t: Table, prefixes: tuple[str, ...]) -> None:
    for p in prefixes:
        year = "styear" if p == "st" else "endyear"
        t.check_range(year, *YEARS_COW, what="year")
        t.check_range(f"{p}month", 1, 12, what="month")
        t.check_range(f"{p}day", 1, 31, what="day")


def _parse_cow_membership(t: Table, key: str) -> pd.DataFrame:
    ds = get_dataset(key)
    t.require_columns(ds.required_columns)
    t.require_rows()
    for col in t.df.columns:
        if col in ("stateabb", "statenme"):
            t.to_str(col)
        else:
            t.to_int(col)
    t.require_nonnull([c for c in ds.required_columns if c != "statenme"])
    t.check_range("ccode", *CCODE, what="COW state code")
    if key == "cow_system":
        t.check_range("year", *YEARS_COW, what="year")
        t.check_unique(["ccode", "year"], "state and year")
    else:
        _parse_cow_dates(t, ("st", "end"))
        bad = (t.df["styear"] > t.df["endyear"]).to_numpy()
        if bad.any():
            i = int(bad.nonzero()[0][0])
            raise t.error(
                "styear after endyear; expected a spell that starts before it ends",
                row=i,
                column="styear",
            )
        t.check_unique(["ccode", "styear"], "state spell (ccode, styear)")
    return t.df


# --- contiguity ----------------------------------------------------------------------


def _parse_contdird(t: Table, key: str) -> pd.DataFrame:
    ds = get_dataset(key)
    t.require_columns(ds.required_columns)
    t.require_rows()
    for col in t.df.columns:
        if col in ("state1ab", "state2ab"):
            t.to_str(col)
        elif col == "version":
            t.to_float(col)
        else:
            t.to_int(col)
    t.require_nonnull(["state1no", "state2no", "year", "conttype"])
    t.check_range("state1no", *CCODE, what="COW state code")
    t.check_range("state2no", *CCODE, what="COW state code")
    t.check_range("year", *YEARS_COW, what="year")
    t.check_range("conttype", 1, 5, what="contiguity type")
    same = (t.df["state1no"] == t.df["state2no"]).to_numpy(dtype=bool, na_value=False)
    if same.any():
        i = int(same.nonzero()[0][0])
        raise t.error(
            "state1no equals state2no; expected two different states", row=i, column="state2no"
        )
    # A dyad-year appears twice when its contiguity type changed within the year (e.g.
    # NTH-FRN 1830 as types 1 and 5): both rows are kept, so the key includes conttype.
    t.check_unique(["state1no", "state2no", "year", "conttype"], "directed dyad, year and type")
    return t.df


def _yyyymm(t: Table, col: str) -> None:
    s = t.df[col]
    t.check_range(col, 181601, 210012, what="YYYYMM")
    month = (s % 100).to_numpy(dtype="float64", na_value=float("nan"))
    bad = ~((month >= 1) & (month <= 12)) & ~pd.isna(month)
    if bad.any():
        i = int(bad.nonzero()[0][0])
        raise t.error(
            f"value {s.iloc[i]} is not a YYYYMM date (month {int(month[i])})", row=i, column=col
        )


def _parse_contdir(t: Table, key: str) -> pd.DataFrame:
    ds = get_dataset(key)
    t.require_columns(ds.required_columns)
    t.require_rows()
    for col in t.df.columns:
        if col in ("statelab", "statehab", "notes"):
            t.to_str(col)
        elif col == "version":
            t.to_float(col)
        else:
            t.to_int(col)
    t.require_nonnull(["statelno", "statehno", "conttype", "begin", "end"])
    t.check_range("statelno", *CCODE, what="COW state code")
    t.check_range("statehno", *CCODE, what="COW state code")
    t.check_range("conttype", 1, 5, what="contiguity type")
    _yyyymm(t, "begin")
    _yyyymm(t, "end")
    bad = (t.df["begin"] > t.df["end"]).to_numpy(dtype=bool, na_value=False)
    if bad.any():
        i = int(bad.nonzero()[0][0])
        raise t.error("begin after end; expected begin <= end", row=i, column="begin")
    bad = (t.df["statelno"] >= t.df["statehno"]).to_numpy(dtype=bool, na_value=False)
    if bad.any():
        i = int(bad.nonzero()[0][0])
        raise t.error(
            "statelno must be the lower code of the dyad (statelno < statehno)",
            row=i,
            column="statelno",
        )
    t.check_unique(["statelno", "statehno", "begin"], "dyad and start date")
    return t.df


# --- NMC -----------------------------------------------------------------------------

NMC_COMPONENTS = ("milex", "milper", "irst", "pec", "tpop", "upop")


def _parse_nmc(t: Table, key: str) -> pd.DataFrame:
    ds = get_dataset(key)
    t.require_columns(ds.required_columns)
    t.require_rows()
    for col in t.df.columns:
        if col == "stateabb":
            t.to_str(col)
        elif col in (*NMC_COMPONENTS, "cinc"):
            t.to_float(col, na_codes=(-9,))
        else:
            t.to_int(col)
    t.require_nonnull(["ccode", "year"])
    t.check_range("ccode", *CCODE, what="COW state code")
    t.check_range("year", *YEARS_COW, what="year")
    for col in NMC_COMPONENTS:
        t.check_range(col, 0, float("inf"), what="non-negative, -9 for missing")
    t.check_range("cinc", 0, 1, what="share of system capabilities")
    t.check_unique(["ccode", "year"], "state and year")
    return t.df


# --- Polity5 -------------------------------------------------------------------------

#: Polity special codes: -66 interruption, -77 interregnum, -88 transition.
POLITY_SPECIAL = (-66, -77, -88)
_POLITY_IDS = {"p5", "cyear", "ccode", "year"}


def _parse_polity(t: Table, key: str) -> pd.DataFrame:
    ds = get_dataset(key)
    t.require_columns(ds.required_columns)
    t.require_rows()
    counts: dict[str, dict[str, int]] = {}
    for col in t.df.columns:
        if col in ("scode", "country"):
            t.to_str(col)
            continue
        t.to_int(col)
        if col in _POLITY_IDS or col == "polity2":
            continue
        s = t.df[col]
        hit = s.isin(POLITY_SPECIAL)
        if hit.any():
            vc = s[hit].value_counts()
            counts[col] = {str(int(k)): int(v) for k, v in vc.items()}
            t.df[col] = s.mask(hit)
    t.require_nonnull(["ccode", "year"])
    t.check_range("ccode", *CCODE, what="Polity country code")
    t.check_range("year", 1700, 2100, what="year")
    t.check_range("polity2", -10, 10, what="combined polity score")
    t.check_range("polity", -10, 10, what="polity score (special codes already removed)")
    df = t.df
    df.attrs["special_codes"] = counts
    dup = df.duplicated(["ccode", "year"], keep=False)
    if dup.any():
        pairs = df.loc[dup, ["ccode", "year"]].drop_duplicates()
        listing = ", ".join(f"{int(c)}/{int(y)}" for c, y in pairs.itertuples(index=False))
        df.attrs["duplicate_keys"] = [[int(c), int(y)] for c, y in pairs.itertuples(index=False)]
        raise_or_warn = (
            f"{t.where}: {int(dup.sum())} rows share a (ccode, year) with another row "
            f"(ccode/year: {listing}); Polity codes both the old and the new polity in a year "
            "of state change. All rows are kept: choose one per country-year before joining."
        )
        df.attrs["duplicate_message"] = raise_or_warn
    return df


# --- ATOP ----------------------------------------------------------------------------

ATOP_FLAGS = ("defense", "offense", "neutral", "nonagg", "consul")


def _parse_atop(t: Table, key: str) -> pd.DataFrame:
    ds = get_dataset(key)
    t.require_columns(ds.required_columns)
    t.require_rows()
    for col in t.df.columns:
        if col in ds.required_columns:
            t.to_int(col)
            continue
        # Further official columns are kept: integers as Int64, other numbers as
        # Float64, anything else as text.
        try:
            t.to_int(col)
        except DataFileError:
            try:
                t.to_float(col)
            except DataFileError:
                t.to_str(col)
    t.require_nonnull(ds.required_columns)
    t.check_range("statea", *CCODE, what="COW state code")
    t.check_range("stateb", *CCODE, what="COW state code")
    t.check_range("year", 1815, 2100, what="year")
    for col in ATOP_FLAGS + (("atopally",) if "atopally" in t.df.columns else ()):
        t.check_range(col, 0, 1, what="binary flag 0/1")
    t.check_unique(["statea", "stateb", "year"], "directed dyad and year")
    return t.df


# --- dispatch ------------------------------------------------------------------------

_Parser = Callable[[Table, str], pd.DataFrame]

_PARSERS: dict[str, tuple[_Parser, tuple[str, ...]]] = {
    "icb_actors": (_parse_icb, ("icb2", "actor", "crisname")),
    "icb_crises": (_parse_icb, ("icb1", "crisname")),
    "cow_states": (_parse_cow_membership, ("stateabb", "statenme")),
    "cow_majors": (_parse_cow_membership, ("stateabb",)),
    "cow_system": (_parse_cow_membership, ("stateabb",)),
    "cow_contig": (_parse_contdird, ("state1ab", "state2ab")),
    "cow_contig_periods": (_parse_contdir, ("statelab", "statehab", "notes")),
    "cow_nmc": (_parse_nmc, ("stateabb",)),
    "polity": (_parse_polity, ("scode", "country")),
    "atop_ddyr": (_parse_atop, ()),
}


def _form_for(key: str, path: Path) -> FileForm:
    ds = get_dataset(key)
    for form in ds.forms:
        if form.filename == path.name:
            return form
    suffix = path.suffix.lower()
    for form in ds.forms:
        if not form.member and suffix == "." + form.fmt:
            return form
    raise DataFileError(
        f"cannot tell which form of {key!r} this file is; expected one of "
        + ", ".join(f.filename for f in ds.forms),
        path=path,
    )


def parse_file(key: str, path: PathLike, form: FileForm | None = None) -> pd.DataFrame:
    """Parse and validate one file of data set ``key`` without resolving or hashing.

    ``form`` defaults to the registry form whose file name matches ``path``.
    """
    path = Path(path)
    form = form or _form_for(key, path)
    parser, str_cols = _PARSERS[key]
    table = load_table(path, form.member, form.fmt, str_columns=str_cols)
    df = parser(table, key)
    return df.reset_index(drop=True)


def validate_file(key: str, path: PathLike, form: FileForm | None = None) -> None:
    """Raise :class:`DataFileError` unless ``path`` parses as a valid ``key`` file."""
    parse_file(key, path, form)


# Parsed, validated frames of this process, keyed by the file's identity, so that code
# reading the same file many times (tests, builders) parses it once. Callers get copies.
_FRAMES: dict[tuple[str, str, int, int, tuple[str, ...]], pd.DataFrame] = {}


def clear_cache() -> None:
    """Forget the parsed frames kept by this process (hashes are keyed by mtime anyway)."""
    _FRAMES.clear()


def _read(key: str, data_dir: PathLike | None, strict: bool) -> pd.DataFrame:
    rf = resolve(key, data_dir, strict=strict)
    st = rf.path.stat()
    ident = (key, str(rf.path.resolve()), st.st_size, st.st_mtime_ns, rf.member)
    cached = _FRAMES.get(ident)
    if cached is None:
        cached = parse_file(key, rf.path, rf.form)
        _FRAMES[ident] = cached
    df = cached.copy(deep=True)
    df.attrs = copy.deepcopy(cached.attrs)
    msg = df.attrs.pop("duplicate_message", None)
    if msg is not None:
        if strict:
            raise DataFileError(msg.split(": ", 1)[1] + " (strict mode)", path=rf.path)
        warnings.warn(msg, DuplicateKeyWarning, stacklevel=3)
    df.attrs["source"] = rf.provenance()
    return df


# --- public readers ------------------------------------------------------------------


def read_icb_actors(data_dir: PathLike | None = None, *, strict: bool = False) -> pd.DataFrame:
    """ICB v15 actor level (``icb2v15.csv``): one row per crisis actor.

    All 95 columns lower-cased; every code ``Int64`` (``crisno``, ``cracno``, ``cracid``,
    ``yrtrig``, ``motrig``, ``datrig``, ``trigent``, ``triggr``, ``crismg``, ``econdt``,
    ``gvinst``, ...); ``icb2``, ``actor``, ``crisname`` text. Blanks and ``-99`` are NA, as
    is ``outfor`` 99 (codebook: missing). Day columns keep 66/77/88 (imprecise day).
    Key: (crisno, cracno).
    """
    return _read("icb_actors", data_dir, strict)


def read_icb_crises(data_dir: PathLike | None = None, *, strict: bool = False) -> pd.DataFrame:
    """ICB v15 system level (``icb1v15.csv``): one row per crisis. Key: crisno.

    Blanks and ``-99`` are NA, as are the codebook's "cannot be determined" 9s of
    ``chacts``, ``chall``, ``powch``, ``rugach`` and the mediation variables.
    """
    return _read("icb_crises", data_dir, strict)


def read_cow_states(data_dir: PathLike | None = None, *, strict: bool = False) -> pd.DataFrame:
    """COW state system membership 2016 (``states2016.csv``): one row per membership spell.

    Columns stateabb, ccode, statenme, styear, stmonth, stday, endyear, endmonth, endday,
    version. Key: (ccode, styear).
    """
    return _read("cow_states", data_dir, strict)


def read_cow_majors(data_dir: PathLike | None = None, *, strict: bool = False) -> pd.DataFrame:
    """COW major powers 2016 (``majors2016.csv``): one row per major-power spell."""
    return _read("cow_majors", data_dir, strict)


def read_cow_system(data_dir: PathLike | None = None, *, strict: bool = False) -> pd.DataFrame:
    """COW system membership by year 2016 (``system2016.csv``). Key: (ccode, year)."""
    return _read("cow_system", data_dir, strict)


def read_contiguity(data_dir: PathLike | None = None, *, strict: bool = False) -> pd.DataFrame:
    """COW direct contiguity 3.2, directed dyad-years (``contdird.csv``, bare or zipped).

    Columns dyad, state1no, state1ab, state2no, state2ab, year, conttype (1..5), version.
    ``dyad`` is the undirected id (lower code * 1000 + higher code). A dyad-year is listed
    twice when its type changed within the year; both rows are kept.
    """
    return _read("cow_contig", data_dir, strict)


def read_contiguity_periods(
    data_dir: PathLike | None = None, *, strict: bool = False
) -> pd.DataFrame:
    """COW direct contiguity 3.2 master records (``contdir.csv``, bare or zipped).

    One row per undirected dyad and contiguity spell: dyad, statelno, statelab, statehno,
    statehab, conttype, begin, end (YYYYMM integers), notes, version.
    """
    return _read("cow_contig_periods", data_dir, strict)


def read_nmc(data_dir: PathLike | None = None, *, strict: bool = False) -> pd.DataFrame:
    """COW National Material Capabilities 6.0, abridged: one row per state-year.

    milex, milper, irst, pec, tpop, upop and cinc are ``Float64`` with -9 as NA.
    ``version`` is as in the file (2021). Key: (ccode, year).
    """
    return _read("cow_nmc", data_dir, strict)


def read_polity(data_dir: PathLike | None = None, *, strict: bool = False) -> pd.DataFrame:
    """Polity5 ``p5v2018`` (official ``.xls`` or its CSV export): all 37 columns.

    Every numeric column is ``Int64``; the special codes -66 (interruption), -77
    (interregnum) and -88 (transition) become NA in every column that carries them
    (``polity``, ``democ``, ``autoc``, the components, ...), with counts in
    ``df.attrs["special_codes"]``. ``polity2`` (which already converts them) is kept as
    is. Duplicate (ccode, year) rows, if any, are kept with a :class:`DuplicateKeyWarning`
    (an error with ``strict=True``).
    """
    return _read("polity", data_dir, strict)


def read_atop_ddyr(data_dir: PathLike | None = None, *, strict: bool = False) -> pd.DataFrame:
    """ATOP 5.1 directed dyad-years (official CSV, official zip member, or the subset).

    statea, stateb, year and the 0/1 flags defense, offense, neutral, nonagg, consul;
    the official file's further columns are kept. Key: (statea, stateb, year).
    """
    return _read("atop_ddyr", data_dir, strict)


READERS: dict[str, Callable[..., pd.DataFrame]] = {
    "icb_actors": read_icb_actors,
    "icb_crises": read_icb_crises,
    "cow_states": read_cow_states,
    "cow_majors": read_cow_majors,
    "cow_system": read_cow_system,
    "cow_contig": read_contiguity,
    "cow_contig_periods": read_contiguity_periods,
    "cow_nmc": read_nmc,
    "polity": read_polity,
    "atop_ddyr": read_atop_ddyr,
}
assert set(READERS) == set(DATASETS)


def load_all(data_dir: PathLike | None = None) -> dict[str, pd.DataFrame]:
    """Read every data set; returns ``{key: DataFrame}`` in registry order."""
    return {key: READERS[key](data_dir) for key in DATASETS}
