"""Directed dyad-years, direct contiguity by year, and the politically relevant filter.

Contiguity is kept as the *closest* type per directed dyad-year (1 land/river, 2-5 water
of growing distance); a dyad-year with no contiguity record has no type (NA), never a
made-up code such as peacesciencer's 6, so "type <= level" cannot misfire.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from restraint.datasets._keys import check_codes, dyad_key, int_column, isin, lookup, state_key

__all__ = [
    "directed_dyad_years",
    "contiguity_years",
    "contiguity_coverage",
    "contiguity_type",
    "politically_relevant",
]


def directed_dyad_years(
    states_year: pd.DataFrame, years: tuple[int, int] | None = None
) -> pd.DataFrame:
    """Every ordered pair (ccode1, ccode2), ccode1 != ccode2, of members in each year.

    ``states_year`` is (ccode, year) as from :func:`~restraint.datasets.system.states_by_year`.
    Both directions of each pair are present. Sorted by ccode1, ccode2, year.
    """
    sy = states_year[["ccode", "year"]]
    if years is not None:
        sy = sy[(sy["year"] >= years[0]) & (sy["year"] <= years[1])]
    sy = sy.drop_duplicates().sort_values(["year", "ccode"], kind="mergesort")
    yr = sy["year"].to_numpy(dtype=np.int64)
    cc = sy["ccode"].to_numpy(dtype=np.int64)
    # yr is sorted: block starts where the year changes.
    start = np.flatnonzero(np.concatenate(([True], yr[1:] != yr[:-1]))) if len(yr) else yr
    n = np.diff(np.concatenate((start, [len(yr)])))
    uy = yr[start]
    parts1, parts2, party = [], [], []
    # One vectorised block per year (about a hundred years), not per dyad.
    for y, s, k in zip(uy, start, n, strict=True):
        c = cc[s : s + k]
        a = np.repeat(c, k)
        b = np.tile(c, k)
        keep = a != b
        parts1.append(a[keep])
        parts2.append(b[keep])
        party.append(np.full(int(keep.sum()), y, dtype=np.int64))
    if not parts1:
        return pd.DataFrame({c: np.array([], dtype=np.int64) for c in ("ccode1", "ccode2", "year")})
    c1, c2, yy = np.concatenate(parts1), np.concatenate(parts2), np.concatenate(party)
    # Sorting one packed int64 key is much cheaper than a three-column lexsort.
    order = np.argsort(dyad_key(c1, c2, yy), kind="stable")
    return pd.DataFrame({"ccode1": c1[order], "ccode2": c2[order], "year": yy[order]})


def contiguity_years(
    table: pd.DataFrame,
    source: str = "contdird",
    years: tuple[int, int] | None = None,
) -> pd.DataFrame:
    """Closest direct-contiguity type per directed dyad-year: (ccode1, ccode2, year, conttype).

    ``source="contdird"``: COW's directed dyad-year file (columns ``state1no, state2no,
    year, conttype``); where a dyad-year appears twice (the type changed within the
    year) the closest type is kept, as the codebook prescribes.
    ``source="contdir"``: COW's master file of dyad periods (``statelno, statehno,
    conttype, begin, end`` as YYYYMM); a period counts in every year it touches.
    Both directions are always returned, whatever the input holds, so a record present
    in one direction only cannot lose the other.
    """
    if source == "contdird":
        a = int_column(table, "state1no", "contdird")
        b = int_column(table, "state2no", "contdird")
        y = int_column(table, "year", "contdird")
        t = int_column(table, "conttype", "contdird")
    elif source == "contdir":
        lo = int_column(table, "statelno", "contdir")
        hi = int_column(table, "statehno", "contdir")
        tt = int_column(table, "conttype", "contdir")
        by = int_column(table, "begin", "contdir") // 100
        ey = int_column(table, "end", "contdir") // 100
        if (ey < by).any():
            i = int(np.flatnonzero(ey < by)[0])
            raise ValueError(f"contdir row {i}: end before begin")
        n = ey - by + 1
        offs = np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n)
        a, b, t = np.repeat(lo, n), np.repeat(hi, n), np.repeat(tt, n)
        y = np.repeat(by, n) + offs
    else:
        raise ValueError(f"contiguity source {source!r}: expected 'contdird' or 'contdir'")
    check_codes(a, source, "state codes")
    check_codes(b, source, "state codes")
    bad = (t < 1) | (t > 5)
    if bad.any():
        raise ValueError(f"{source}: contiguity type {int(t[bad][0])} outside 1-5")
    df = pd.DataFrame(
        {
            "ccode1": np.concatenate([a, b]),
            "ccode2": np.concatenate([b, a]),
            "year": np.concatenate([y, y]),
            "conttype": np.concatenate([t, t]),
        }
    )
    if years is not None:
        df = df[(df["year"] >= years[0]) & (df["year"] <= years[1])]
    df = df.groupby(["ccode1", "ccode2", "year"], sort=True, as_index=False)["conttype"].min()
    return df.reset_index(drop=True)


def contiguity_coverage(table: pd.DataFrame, source: str = "contdird") -> tuple[int, int]:
    """First and last year the contiguity file speaks for (absence = not contiguous)."""
    if source == "contdird":
        y = int_column(table, "year", "contdird")
        return int(y.min()), int(y.max())
    by = int_column(table, "begin", "contdir") // 100
    ey = int_column(table, "end", "contdir") // 100
    return int(by.min()), int(ey.max())


def contiguity_type(frame: pd.DataFrame, contiguity: pd.DataFrame) -> np.ndarray:
    """Closest contiguity type (float, NaN where none) for each row of ``frame``
    (columns ccode1, ccode2, year), from :func:`contiguity_years` output."""
    keys = dyad_key(contiguity["ccode1"], contiguity["ccode2"], contiguity["year"])
    pos = lookup(keys, dyad_key(frame["ccode1"], frame["ccode2"], frame["year"]))
    types = contiguity["conttype"].to_numpy(dtype=float)
    return np.where(pos >= 0, types[np.maximum(pos, 0)], np.nan)


def politically_relevant(
    frame: pd.DataFrame,
    contiguity: pd.DataFrame,
    majors_year: pd.DataFrame,
    *,
    level: int = 4,
    major_power: bool = True,
) -> pd.DataFrame:
    """Why each directed dyad-year is politically relevant.

    Returns a frame aligned with ``frame`` with boolean columns ``contiguous`` (closest
    direct-contiguity type <= ``level``; never for ``level`` 0), ``major`` (either state
    is a major power that year; all False when ``major_power`` is off) and ``relevant``
    (either). EUGene's rule with its contiguity level set to ``level``.
    """
    ctype = contiguity_type(frame, contiguity)
    contiguous = (ctype <= level) if level > 0 else np.zeros(len(frame), dtype=bool)
    contiguous = np.nan_to_num(contiguous, nan=0).astype(bool)
    if major_power:
        mkeys = state_key(majors_year["ccode"], majors_year["year"])
        yr = frame["year"].to_numpy()
        major = isin(mkeys, state_key(frame["ccode1"], yr)) | isin(
            mkeys, state_key(frame["ccode2"], yr)
        )
    else:
        major = np.zeros(len(frame), dtype=bool)
    return pd.DataFrame(
        {"contiguous": contiguous, "major": major, "relevant": contiguous | major},
        index=frame.index,
    )
