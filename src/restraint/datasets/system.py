"""COW state-system membership and major powers by year (building blocks).

Membership and major-power status come from the COW files' own periods, never from a
hard-coded list: a state is a member (or a major power) in a year when one of its periods
overlaps that year at all, which is how COW's ``system2016.csv`` is derived from
``states2016.csv``. A state that leaves and re-enters the system (e.g. Germany 1945-1955)
has several periods and is absent in the gap.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from restraint.datasets._keys import check_codes, int_column, isin, state_key, unique_sorted

__all__ = [
    "expand_periods",
    "states_by_year",
    "majors_by_year",
    "member_ever",
    "member_in_year",
    "member_on_date",
]


def expand_periods(
    periods: pd.DataFrame,
    years: tuple[int, int] | None = None,
    *,
    table: str = "periods",
) -> pd.DataFrame:
    """One row per (ccode, year) covered by any ``styear..endyear`` period of ``periods``.

    ``years`` (inclusive) restricts the output. Rows are unique and sorted by year, ccode.
    """
    cc = int_column(periods, "ccode", table)
    st = int_column(periods, "styear", table)
    en = int_column(periods, "endyear", table)
    check_codes(cc, table, "ccode")
    if (en < st).any():
        i = int(np.flatnonzero(en < st)[0])
        raise ValueError(f"table {table!r} row {i}: endyear {en[i]} before styear {st[i]}")
    if years is not None:
        st = np.maximum(st, years[0])
        en = np.minimum(en, years[1])
        keep = en >= st
        cc, st, en = cc[keep], st[keep], en[keep]
    n = en - st + 1
    ccode = np.repeat(cc, n)
    # Offsets 0..n-1 within each period, vectorised.
    offs = np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n)
    year = np.repeat(st, n) + offs
    out = pd.DataFrame({"ccode": ccode, "year": year})
    return (
        out.drop_duplicates()
        .sort_values(["year", "ccode"], kind="mergesort")
        .reset_index(drop=True)
    )


def states_by_year(table: pd.DataFrame, years: tuple[int, int] | None = None) -> pd.DataFrame:
    """System members by year: (ccode, year), unique, sorted by year then ccode.

    ``table`` is either COW's state-year file (``system2016``: has ``year``) or its
    period file (``states2016``: ``styear``/``endyear``); both give the same state-years.
    """
    if "year" in table.columns:
        cc = int_column(table, "ccode", "system")
        yr = int_column(table, "year", "system")
        check_codes(cc, "system", "ccode")
        out = pd.DataFrame({"ccode": cc, "year": yr})
        if years is not None:
            out = out[(out["year"] >= years[0]) & (out["year"] <= years[1])]
        return (
            out.drop_duplicates()
            .sort_values(["year", "ccode"], kind="mergesort")
            .reset_index(drop=True)
        )
    return expand_periods(table, years, table="states")


def majors_by_year(majors: pd.DataFrame, years: tuple[int, int] | None = None) -> pd.DataFrame:
    """Major powers by year from COW's ``majors2016`` periods: (ccode, year).

    A state is a major power in every year one of its periods touches, so France (major
    until June 1940 and again from August 1945) is major in 1940 and 1945 but not 1941-44.
    """
    return expand_periods(majors, years, table="majors")


def member_ever(ccode: np.ndarray, states: pd.DataFrame) -> np.ndarray:
    """Whether each code appears anywhere in the COW state list (``states2016``)."""
    codes = unique_sorted(int_column(states, "ccode", "states"))
    return np.isin(np.asarray(ccode, dtype=np.int64), codes)


def member_in_year(ccode: np.ndarray, year: np.ndarray, states_year: pd.DataFrame) -> np.ndarray:
    """Whether each (ccode, year) is a system member (``states_year`` from
    :func:`states_by_year`)."""
    keys = state_key(states_year["ccode"].to_numpy(), states_year["year"].to_numpy())
    return isin(keys, state_key(ccode, year))


def member_on_date(
    ccode: np.ndarray,
    year: np.ndarray,
    month: np.ndarray,
    day: np.ndarray,
    states: pd.DataFrame,
) -> np.ndarray:
    """Whether each state is a member on the given date (``states2016`` periods).

    ``day`` may hold NaN/NA (unknown day): the state then counts as a member when any day
    of that month lies within one of its periods. An unknown month is treated likewise over
    the whole year.
    """
    cc = int_column(states, "ccode", "states")
    start = (
        int_column(states, "styear", "states") * 10_000
        + int_column(states, "stmonth", "states") * 100
        + int_column(states, "stday", "states")
    )
    end = (
        int_column(states, "endyear", "states") * 10_000
        + int_column(states, "endmonth", "states") * 100
        + int_column(states, "endday", "states")
    )
    y = np.asarray(year, dtype=np.int64)
    m = pd.to_numeric(pd.Series(month), errors="coerce").to_numpy(dtype=float)
    d = pd.to_numeric(pd.Series(day), errors="coerce").to_numpy(dtype=float)
    m_ok = (m >= 1) & (m <= 12)
    d_ok = m_ok & (d >= 1) & (d <= 31)
    mi = np.where(m_ok, m, 1).astype(np.int64)
    lo = y * 10_000 + np.where(m_ok, mi * 100, 100) + np.where(d_ok, d, 1).astype(np.int64)
    hi = y * 10_000 + np.where(m_ok, mi * 100, 1200) + np.where(d_ok, d, 31).astype(np.int64)
    q = pd.DataFrame({"ccode": np.asarray(ccode, dtype=np.int64), "lo": lo, "hi": hi})
    q["row"] = np.arange(len(q))
    per = pd.DataFrame({"ccode": cc, "start": start, "end": end})
    j = q.merge(per, on="ccode", how="inner")
    # A date window [lo, hi] meets a period [start, end] when they overlap.
    hit = j.loc[(j["lo"] <= j["end"]) & (j["hi"] >= j["start"]), "row"].to_numpy()
    out = np.zeros(len(q), dtype=bool)
    out[hit] = True
    return out
