"""Polity5 country codes to COW state codes.

Polity5 (``p5v2018``) mostly uses COW codes, but not everywhere. Where a state changed
(split, merged, lost territory) Polity often starts a new code while COW keeps the old one,
and in a few cases Polity's new code is a code COW gives to a *different* state: Polity's
626 is "Sudan-North" (2011-) but COW's 626 is South Sudan; Polity's 341 is Kosovo but
COW's 341 is Montenegro; Polity's 347 is Yugoslavia 1991-2006 but COW's 347 is Kosovo.
Joined on the code alone, South Sudan would get Sudan's scores and the USSR, Pakistan
before 1971 and unified Vietnam would have none.

:data:`POLITY_TO_COW` lists every Polity (code, years) whose code is not the COW code of
that state, found by comparing each Polity code's ``scode``/``country`` and years with COW's
``states2016.csv`` (``stateabb``/``statenme`` and membership spells);
:func:`audit_polity_codes` repeats that comparison on any Polity and COW tables, so a new
release cannot slip in an unmapped code unnoticed (the tests run it on the real files).

Recoding can put two Polity rows on one COW state-year: in the year of a state change,
Polity codes both the ending polity (its last year) and the new one (its first year), e.g.
Sudan 625 and Sudan-North 626 in 2011, both COW 625. :func:`polity_to_cow` keeps the
*successor*, the polity whose run of years begins that year (Polity's ``byear`` is that
year and the other's ``eyear`` is), i.e. the polity in place at the end of the year; the
row dropped is reported. Anything it cannot resolve that way raises
:class:`~restraint.errors.DataFileError`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from restraint.datasets._keys import int_column, isin, state_key
from restraint.errors import DataFileError

__all__ = [
    "CodeChange",
    "POLITY_TO_COW",
    "NON_COW_POLITIES",
    "ABBREVIATION_ALIASES",
    "PolityCrosswalk",
    "polity_to_cow",
    "audit_polity_codes",
]


@dataclass(frozen=True)
class CodeChange:
    """Polity rows with code ``polity_ccode`` in ``first_year..last_year`` (inclusive;
    ``last_year=None``: no end) belong to COW state ``cow_ccode``.

    ``polity_names`` are the ``country`` values Polity gives these rows and ``cow_name``
    COW's ``statenme`` of ``cow_ccode``; :func:`audit_polity_codes` checks both against
    the files. ``why`` says why the codes differ.
    """

    polity_ccode: int
    first_year: int
    last_year: int | None
    cow_ccode: int
    polity_names: tuple[str, ...]
    cow_name: str
    why: str

    def covers(self, ccode: np.ndarray, year: np.ndarray) -> np.ndarray:
        """Boolean mask of the (ccode, year) pairs this entry recodes."""
        last = np.iinfo(np.int64).max if self.last_year is None else self.last_year
        return (ccode == self.polity_ccode) & (year >= self.first_year) & (year <= last)


#: Every Polity5 (code, years) whose code differs from the COW code of the same state, in
#: Polity code order. Years are those of the p5v2018 rows (open-ended where the rows run
#: to the file's end).
POLITY_TO_COW: tuple[CodeChange, ...] = (
    CodeChange(
        324,
        1815,
        1861,
        325,
        ("Sardinia",),
        "Italy",
        # COW's Italy (325) from 1816 is the Kingdom of Sardinia (Piedmont) that unified
        # Italy; Polity gives Sardinia its own code until 1861 and Italy 325 from 1861.
        "Polity's Sardinia 1815-1861 is COW's Italy 325 (COW's 325 starts in 1816 as the "
        "Kingdom of Sardinia); Polity starts 325 only in 1861",
    ),
    CodeChange(
        341,
        2008,
        None,
        347,
        ("Kosovo",),
        "Kosovo",
        # The dangerous one of the Balkan trio: COW's 341 is Montenegro (2006-), so a raw
        # join would give Montenegro Kosovo's scores from 2008.
        "Polity codes Kosovo 341, which is COW's Montenegro; COW's Kosovo is 347 (2008-)",
    ),
    CodeChange(
        342,
        1830,
        None,
        345,
        ("Serbia",),
        "Yugoslavia",
        # COW has no 342: Serbia (1878-1918), Yugoslavia, Serbia and Montenegro and Serbia
        # again (2006-) are one state, 345. Polity's Serbia runs 1830-1920 and 2006-.
        "Polity's Serbia (1830-1920, 2006-) has its own code 342; COW codes Serbia, "
        "Yugoslavia and Serbia after 2006 as one state, 345",
    ),
    CodeChange(
        347,
        1991,
        2006,
        345,
        ("Yugoslavia", "Serbia and Montenegro"),
        "Yugoslavia",
        # Polity opens a new polity for the rump Yugoslavia (FRY) in 1991; COW continues
        # 345. COW's 347 is Kosovo (2008-), so the raw code is a trap even without overlap.
        "Polity's rump Yugoslavia / Serbia and Montenegro 1991-2006 is 347; COW continues "
        "Yugoslavia as 345 (COW's 347 is Kosovo)",
    ),
    CodeChange(
        348,
        2006,
        None,
        341,
        ("Montenegro",),
        "Montenegro",
        "Polity codes Montenegro 348; COW's Montenegro is 341 (2006-)",
    ),
    CodeChange(
        364,
        1922,
        1991,
        365,
        ("USSR",),
        "Russia",
        # COW treats Russia, the USSR and the Russian Federation as one state, 365.
        "Polity codes the USSR 1922-1991 as 364; COW keeps Russia's 365 throughout",
    ),
    CodeChange(
        525,
        2011,
        None,
        626,
        ("South Sudan",),
        "South Sudan",
        "Polity codes South Sudan 525; COW's South Sudan is 626 (2011-)",
    ),
    CodeChange(
        529,
        1993,
        None,
        530,
        ("Ethiopia",),
        "Ethiopia",
        "Polity starts a new code, 529, for Ethiopia after Eritrea's secession (1993); COW "
        "keeps 530",
    ),
    CodeChange(
        626,
        2011,
        None,
        625,
        ("Sudan-North",),
        "Sudan",
        # Raw join: COW 626 (South Sudan) would get Sudan-North's scores and COW 625 would
        # have none after 2011.
        "Polity codes Sudan after South Sudan's secession (2011-) as 626 'Sudan-North', "
        "which is COW's South Sudan; COW keeps Sudan's 625",
    ),
    CodeChange(
        769,
        1947,
        1971,
        770,
        ("Pakistan",),
        "Pakistan",
        "Polity codes Pakistan with East Pakistan (1947-1971) as 769 and from 1972 as 770; "
        "COW's Pakistan is 770 throughout",
    ),
    CodeChange(
        818,
        1976,
        None,
        816,
        ("Vietnam",),
        "Vietnam",
        "Polity codes unified Vietnam (1976-) as 818; COW continues North Vietnam's 816",
    ),
)

#: Polity codes of polities that were never COW states and whose codes COW does not use
#: (checked by :func:`audit_polity_codes`); they take part in no COW dyad either way.
NON_COW_POLITIES: dict[int, str] = {
    89: "United Province CA (1824-1838): not in the COW system",
    99: "Gran Colombia (1821-1832): not in the COW system (COW's Colombia 100 from 1831)",
    564: "Orange Free State (1854-1902): not in the COW system",
}

#: Same state, different abbreviation (Polity ``scode``, COW ``stateabb``).
ABBREVIATION_ALIASES: frozenset[tuple[str, str]] = frozenset(
    {("RUM", "ROM"), ("IVO", "CDI"), ("ZAI", "DRC"), ("FJI", "FIJ")}
)

OnCollision = Literal["successor", "error"]


@dataclass
class PolityCrosswalk:
    """Result of :func:`polity_to_cow`.

    ``table``: the Polity table with ``ccode`` in COW codes (``polity_ccode`` holds the
    published code) and at most one row per (ccode, year); ``recoded``: the rows whose code
    changed (``polity_ccode, ccode, year`` and ``country`` when present); ``superseded``:
    the rows dropped because another Polity row claimed the same COW state-year
    (``ccode, year, polity_ccode, kept_polity_ccode``).
    """

    table: pd.DataFrame
    recoded: pd.DataFrame = field(default_factory=pd.DataFrame)
    superseded: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def n_recoded(self) -> int:
        """Polity country-years whose code was changed to a COW code."""
        return len(self.recoded)

    @property
    def n_superseded(self) -> int:
        """Polity country-years dropped in a year of state change (successor kept)."""
        return len(self.superseded)


def _check_entries(crosswalk: Sequence[CodeChange]) -> None:
    for i, a in enumerate(crosswalk):
        last_a = a.last_year if a.last_year is not None else np.iinfo(np.int64).max
        if last_a < a.first_year:
            raise ValueError(f"crosswalk entry {a}: last_year before first_year")
        for b in crosswalk[i + 1 :]:
            last_b = b.last_year if b.last_year is not None else np.iinfo(np.int64).max
            if (
                a.polity_ccode == b.polity_ccode
                and a.first_year <= last_b
                and b.first_year <= last_a
            ):
                raise ValueError(
                    f"crosswalk entries for Polity code {a.polity_ccode} overlap in years"
                )


def polity_to_cow(
    polity: pd.DataFrame,
    crosswalk: Sequence[CodeChange] = POLITY_TO_COW,
    *,
    on_collision: OnCollision = "successor",
) -> PolityCrosswalk:
    """Recode a Polity table's ``ccode`` to COW codes with ``crosswalk``.

    Rows sharing a published (ccode, year) are not touched here (the join keeps the last in
    file order, as with the published codes). When recoding puts rows of two Polity codes on
    one COW (ccode, year), ``on_collision="successor"`` keeps the one whose run of Polity
    years begins that year (the polity in place at the end of the year) and reports the
    other in ``superseded``; exactly one row must begin there, else (and always under
    ``"error"``) :class:`~restraint.errors.DataFileError` is raised naming the rows.
    """
    if on_collision not in ("successor", "error"):
        raise ValueError(f"on_collision={on_collision!r}: expected 'successor' or 'error'")
    _check_entries(crosswalk)
    cc = int_column(polity, "ccode", "polity")
    yr = int_column(polity, "year", "polity")
    new = cc.copy()
    for entry in crosswalk:
        new[entry.covers(cc, yr)] = entry.cow_ccode
    changed = new != cc

    out = polity.copy()
    out["polity_ccode"] = pd.array(cc, dtype="Int64")
    out["ccode"] = pd.array(new, dtype="Int64")
    info_cols = [c for c in ("country",) if c in polity.columns]
    recoded = out.loc[changed, ["polity_ccode", "ccode", "year", *info_cols]].reset_index(drop=True)

    # Within one published code duplicates stay (resolved like raw codes, last wins);
    # collisions are rows of *different* published codes on one COW state-year.
    pkey = state_key(cc, yr)
    last_of_pkey = ~pd.Series(pkey).duplicated(keep="last").to_numpy()
    nkey = state_key(new, yr)
    cand = pd.Series(nkey[last_of_pkey]).duplicated(keep=False).to_numpy()
    clash = np.zeros(len(out), dtype=bool)
    clash[np.flatnonzero(last_of_pkey)[cand]] = True
    empty = pd.DataFrame(
        {c: pd.Series(dtype="Int64") for c in ("ccode", "year", "polity_ccode")}
        | {"kept_polity_ccode": pd.Series(dtype="Int64")}
    )
    if not clash.any():
        return PolityCrosswalk(out, recoded, empty)

    begins = ~isin(pkey, state_key(cc, yr - 1))  # first year of a run of this Polity code
    drop = np.zeros(len(out), dtype=bool)
    rows = []
    idx = np.flatnonzero(clash)
    for key in np.unique(nkey[idx]):
        group = idx[nkey[idx] == key]
        starters = group[begins[group]]
        desc = ", ".join(
            f"(ccode {cc[i]}, year {yr[i]}, row {i}{', first year' if begins[i] else ''})"
            for i in group
        )
        if on_collision == "error" or len(starters) != 1:
            why = (
                "on_collision='error'"
                if on_collision == "error"
                else f"{len(starters)} of them begin a run of years there, expected exactly 1"
            )
            raise DataFileError(
                f"Polity rows {desc} all map to COW state {new[group[0]]} in {yr[group[0]]} "
                f"({why}); fix the crosswalk or choose which row to keep",
                path=_source_path(polity),
                column="ccode",
            )
        keep = starters[0]
        for i in group:
            if i != keep:
                drop[i] = True
                rows.append((new[i], yr[i], cc[i], cc[keep]))
    superseded = pd.DataFrame(rows, columns=list(empty.columns)).astype("Int64")
    return PolityCrosswalk(out.loc[~drop].reset_index(drop=True), recoded, superseded)


def _source_path(df: pd.DataFrame) -> object | None:
    src = df.attrs.get("source")
    return src.get("path") if isinstance(src, dict) else None


def _runs(years: np.ndarray) -> list[tuple[int, int]]:
    ys = np.unique(years)
    breaks = np.flatnonzero(np.diff(ys) != 1)
    starts = np.concatenate(([0], breaks + 1))
    ends = np.concatenate((breaks, [len(ys) - 1]))
    return [(int(ys[s]), int(ys[e])) for s, e in zip(starts, ends, strict=True)]


def audit_polity_codes(
    polity: pd.DataFrame,
    states: pd.DataFrame,
    crosswalk: Sequence[CodeChange] = POLITY_TO_COW,
) -> pd.DataFrame:
    """Compare every Polity code with COW's state list, run of years by run of years.

    ``polity`` needs ``ccode, scode, country, year``; ``states`` (COW ``states2016``)
    ``ccode, stateabb, statenme``. Returns one row per (Polity code, ``scode``,
    ``country``, run of consecutive years) with the COW code it maps to, COW's
    abbreviation and name for that code, and ``status``:

    * ``"same code"``: no crosswalk entry; COW's ``stateabb`` for the code equals Polity's
      ``scode`` (or the pair is in :data:`ABBREVIATION_ALIASES`);
    * ``"recoded"``: a crosswalk entry covers the whole run, Polity's ``country`` is one of
      the entry's ``polity_names`` and COW's ``statenme`` of the target is its ``cow_name``;
    * ``"not a COW state"``: in :data:`NON_COW_POLITIES` and the code is not in COW's list;
    * ``"unexplained"``: anything else (a code or name the crosswalk does not account for).
    """
    need = {"ccode", "scode", "country", "year"}
    if not need <= set(polity.columns):
        raise ValueError(f"polity table needs columns {sorted(need)} for the audit")
    cc = int_column(polity, "ccode", "polity")
    yr = int_column(polity, "year", "polity")
    scode = polity["scode"].astype("string").fillna("").to_numpy(dtype=object)
    country = polity["country"].astype("string").fillna("").to_numpy(dtype=object)
    cow_cc = int_column(states, "ccode", "states")
    cow = (
        pd.DataFrame(
            {
                "ccode": cow_cc,
                "abb": states["stateabb"].astype("string").to_numpy(dtype=object),
                "name": states["statenme"].astype("string").to_numpy(dtype=object),
            }
        )
        .drop_duplicates("ccode")
        .set_index("ccode")
    )
    groups = pd.DataFrame({"ccode": cc, "scode": scode, "country": country, "year": yr})
    out = []
    for (code, abb, name), g in groups.groupby(["ccode", "scode", "country"], sort=True):
        years = g["year"].to_numpy()
        for first, last in _runs(years):
            entries = [
                e
                for e in crosswalk
                if e.polity_ccode == code
                and e.first_year <= last
                and (e.last_year is None or e.last_year >= first)
            ]
            target, status, why = int(code), "unexplained", ""
            if len(entries) == 1:
                e = entries[0]
                target, why = e.cow_ccode, e.why
                whole = e.first_year <= first and (e.last_year is None or e.last_year >= last)
                cow_name = cow["name"].get(target)
                if whole and name in e.polity_names and cow_name == e.cow_name:
                    status = "recoded"
            elif not entries:
                cow_abb = cow["abb"].get(int(code))
                if cow_abb is not None and (
                    cow_abb == abb or (abb, cow_abb) in ABBREVIATION_ALIASES
                ):
                    status = "same code"
                elif cow_abb is None and int(code) in NON_COW_POLITIES:
                    status, why = "not a COW state", NON_COW_POLITIES[int(code)]
            out.append(
                (
                    int(code),
                    abb,
                    name,
                    first,
                    last,
                    target,
                    cow["abb"].get(target),
                    cow["name"].get(target),
                    status,
                    why,
                )
            )
    cols = [
        "polity_ccode",
        "scode",
        "country",
        "first_year",
        "last_year",
        "cow_ccode",
        "cow_stateabb",
        "cow_statenme",
        "status",
        "why",
    ]
    return pd.DataFrame(out, columns=cols)
