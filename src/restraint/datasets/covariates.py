"""Dyadic covariates: joint democracy (Polity5), preponderance (NMC CINC), contiguity.

Polity5's country codes are mapped to COW codes first (``codes="cow"``, the default; see
:mod:`restraint.datasets.crosswalk`), since the dyads are COW state-years. Each function
takes a frame with ``ccode1`` (A), ``ccode2`` (B) and ``year`` and returns a Series aligned
with it. Values a source cannot speak for are NA, never a silent 0: a state-year absent
from NMC or with CINC missing gives Prep NA; years outside the contiguity file's coverage
give Contig NA (inside it, no record means not contiguous, per the codebook).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd

from restraint.datasets._keys import (
    check_codes,
    int_column,
    lookup,
    nullable_float,
    nullable_int8,
    state_key,
)
from restraint.datasets.crosswalk import POLITY_TO_COW, polity_to_cow
from restraint.datasets.dyads import contiguity_type

if TYPE_CHECKING:
    from restraint.datasets.log import BuildLog

__all__ = [
    "state_values",
    "polity_values",
    "joint_democracy",
    "tally_polity_codes",
    "preponderance",
    "contiguity_indicator",
]

PolityCodes = Literal["cow", "raw"]


def state_values(table: pd.DataFrame, column: str, *, name: str) -> pd.Series:
    """``table[column]`` as float (NaN for missing) indexed by state-year key.

    Duplicate (ccode, year) rows would make a value ambiguous; the last row in file order
    is kept (Polity lists the regime in place at the end of a year last).
    """
    cc = int_column(table, "ccode", name)
    yr = int_column(table, "year", name)
    check_codes(cc, name, "ccode")
    if column not in table.columns:
        raise ValueError(f"table {name!r} has no column {column!r}")
    vals = pd.to_numeric(table[column], errors="coerce").astype("float64").to_numpy()
    s = pd.Series(vals, index=state_key(cc, yr))
    return s[~s.index.duplicated(keep="last")]


def _get(values: pd.Series, ccode: np.ndarray, year: np.ndarray) -> np.ndarray:
    pos = lookup(values.index.to_numpy(), state_key(ccode, year))
    arr = values.to_numpy()
    return np.where(pos >= 0, arr[np.maximum(pos, 0)], np.nan)


def polity_values(polity: pd.DataFrame, codes: PolityCodes = "cow") -> pd.Series:
    """``polity2`` by state-year key, with Polity's codes mapped to COW's (``"cow"``, see
    :func:`~restraint.datasets.crosswalk.polity_to_cow`) or as published (``"raw"``)."""
    if codes == "cow":
        # The module global is looked up at call time, so a substituted crosswalk (tests, a
        # user's corrected table) reaches the builders without another option.
        polity = polity_to_cow(polity, POLITY_TO_COW).table
    elif codes != "raw":
        raise ValueError(f"polity codes {codes!r}: expected 'cow' or 'raw'")
    return state_values(polity, "polity2", name="polity")


def joint_democracy(
    frame: pd.DataFrame,
    polity: pd.DataFrame,
    *,
    threshold: float = 6,
    missing: str = "zero",
    codes: PolityCodes = "cow",
) -> pd.Series:
    """JD = 1 when polity2(A) >= ``threshold`` and polity2(B) >= ``threshold``.

    ``frame`` holds COW codes; ``codes="cow"`` (default) maps Polity's codes to COW's with
    :data:`~restraint.datasets.crosswalk.POLITY_TO_COW` first, ``"raw"`` joins on Polity's
    published codes (South Sudan then gets Sudan-North's scores, the USSR none).
    When a polity2 is missing (state-year absent from Polity5, or polity2 blank) and the
    other state does not already settle JD = 0, ``missing="zero"`` codes 0 (JD marks known
    joint democracies) and ``missing="na"`` leaves NA. Years outside Polity's coverage are
    always NA.
    """
    if missing not in ("zero", "na"):
        raise ValueError(f"jd missing rule {missing!r}: expected 'zero' or 'na'")
    values = polity_values(polity, codes)
    yr = frame["year"].to_numpy(dtype=np.int64)
    pa = _get(values, frame["ccode1"].to_numpy(), yr)
    pb = _get(values, frame["ccode2"].to_numpy(), yr)
    demo_a, demo_b = pa >= threshold, pb >= threshold
    known_non = (~np.isnan(pa) & ~demo_a) | (~np.isnan(pb) & ~demo_b)
    undecided = (np.isnan(pa) | np.isnan(pb)) & ~known_non
    pyears = int_column(polity, "year", "polity")
    na = (yr < pyears.min()) | (yr > pyears.max())
    if missing == "na":
        na = na | undecided
    return pd.Series(nullable_int8(demo_a & demo_b, na), index=frame.index)


def tally_polity_codes(
    log: BuildLog,
    frame: pd.DataFrame,
    polity: pd.DataFrame,
    jd: pd.Series,
    *,
    codes: PolityCodes,
    threshold: float,
    missing: str,
) -> None:
    """Record in ``log`` what the Polity-to-COW crosswalk did: Polity country-years
    recoded, country-years superseded in a year of state change, and the rows of ``frame``
    whose JD (``jd``, built with ``codes``) differs under the other code rule."""
    cw = polity_to_cow(polity, POLITY_TO_COW)
    applied = codes == "cow"
    log.tally("polity country-years recoded to COW codes", cw.n_recoded if applied else 0)
    log.tally(
        "polity country-years superseded (two rows on one COW state-year; successor kept)",
        cw.n_superseded if applied else 0,
    )
    other = joint_democracy(
        frame,
        polity,
        threshold=threshold,
        missing=missing,
        codes="raw" if applied else "cow",
    )
    a = jd.astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    b = other.astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    differs = ~((a == b) | (np.isnan(a) & np.isnan(b)))
    other_rule = "raw" if applied else "cow"
    log.tally(f"jd differs under polity_codes={other_rule!r}", int(differs.sum()))


def preponderance(frame: pd.DataFrame, nmc: pd.DataFrame) -> pd.Series:
    """Prep = CINC(A) / (CINC(A) + CINC(B)) that year (``Float64``; NA when either CINC is
    missing or both are zero)."""
    values = state_values(nmc, "cinc", name="nmc")
    yr = frame["year"].to_numpy(dtype=np.int64)
    ca = _get(values, frame["ccode1"].to_numpy(), yr)
    cb = _get(values, frame["ccode2"].to_numpy(), yr)
    tot = ca + cb
    with np.errstate(invalid="ignore", divide="ignore"):
        prep = np.where(tot > 0, ca / np.where(tot > 0, tot, 1.0), np.nan)
    prep[np.isnan(tot)] = np.nan
    return pd.Series(nullable_float(prep), index=frame.index)


def contiguity_indicator(
    frame: pd.DataFrame,
    contiguity: pd.DataFrame,
    *,
    types: Sequence[int] = (1, 2),
    coverage: tuple[int, int] | None = None,
) -> pd.Series:
    """Contig = 1 when the closest direct-contiguity type of (A, B) that year is in
    ``types`` (default land/river or <= 12 miles of water), 0 otherwise; NA for years
    outside ``coverage`` (the contiguity file's first and last year)."""
    ctype = contiguity_type(frame, contiguity)
    val = np.isin(ctype, np.asarray(types, dtype=float))
    na = None
    if coverage is not None:
        yr = frame["year"].to_numpy()
        na = (yr < coverage[0]) | (yr > coverage[1])
    return pd.Series(nullable_int8(val, na), index=frame.index)
