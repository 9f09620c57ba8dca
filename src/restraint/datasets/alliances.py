"""Alliance indicators from ATOP directed dyad-years: DP, MP, DPMP and SC.

- DP (monadic): A has at least one alliance with a counted obligation (default: defense)
  with anyone that year.
- MP (monadic): A is not a major power that year and has such a pact with at least one
  state that is a major power that year. Hence MP = 1 implies DP = 1, and a major power
  itself has MP = 0 even when allied with another major power.
- DPMP: 0 no DP, 1 DP but not MP, 2 MP.
- SC (dyadic): A and B share at least one alliance with any counted obligation (default:
  any of defense, offense, neutrality, non-aggression, consultation).

ATOP's directed dyad-year file records obligations per direction: the row (A, B) says
what A promised B, and obligations can be one-sided (e.g. the United States promises to
defend Japan, not the reverse). With ``direction="either"`` (default) a pair *shares* an
alliance when either row has the obligation, so a pact recorded in one direction only
still counts for both states; ``direction="own"`` counts only the obligations A itself
undertook (the reference fixtures' rule). Years outside the ATOP file's coverage give NA,
not 0.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from restraint.datasets._keys import (
    check_codes,
    dyad_key,
    int_column,
    isin,
    nullable_int8,
    state_key,
    unique_sorted,
)

__all__ = [
    "atop_coverage",
    "alliance_dyad_years",
    "pact_states",
    "major_power_allies",
    "alliance_indicators",
]


def _obligation_mask(atop: pd.DataFrame, obligations: Sequence[str]) -> np.ndarray:
    mask = np.zeros(len(atop), dtype=bool)
    for ob in obligations:
        if ob not in atop.columns:
            raise ValueError(f"ATOP table has no obligation column {ob!r}")
        # Obligation flags are 0/1; a missing flag is not evidence of an obligation.
        mask |= atop[ob].fillna(0).to_numpy(dtype=np.int64) == 1
    return mask


def atop_coverage(atop: pd.DataFrame) -> tuple[int, int]:
    """First and last year of the ATOP dyad-year file (absence inside = no alliance)."""
    y = int_column(atop, "year", "atop")
    return int(y.min()), int(y.max())


def alliance_dyad_years(
    atop: pd.DataFrame, obligations: Sequence[str], direction: str = "either"
) -> pd.DataFrame:
    """Directed dyad-years (ccode1, ccode2, year) allied with any of ``obligations``.

    ``direction="either"``: the pair shares such an alliance when either ATOP row has the
    obligation (output symmetric); ``"own"``: only rows where ccode1 holds the obligation.
    Unique rows, sorted.
    """
    if direction not in ("either", "own"):
        raise ValueError(f"alliance direction {direction!r}: expected 'either' or 'own'")
    a = int_column(atop, "statea", "atop")
    b = int_column(atop, "stateb", "atop")
    y = int_column(atop, "year", "atop")
    check_codes(a, "atop", "statea")
    check_codes(b, "atop", "stateb")
    m = _obligation_mask(atop, obligations)
    a, b, y = a[m], b[m], y[m]
    if direction == "either":
        a, b, y = np.concatenate([a, b]), np.concatenate([b, a]), np.concatenate([y, y])
    keep = a != b
    # Unique and sorted through one packed key (cheaper than a frame-level dedup + sort).
    k = unique_sorted(dyad_key(a[keep], b[keep], y[keep]))
    pair = k // 10_000
    return pd.DataFrame({"ccode1": pair // 1000, "ccode2": pair % 1000, "year": k % 10_000})


def _monadic(dyads: pd.DataFrame) -> pd.DataFrame:
    k = unique_sorted(state_key(dyads["ccode1"], dyads["year"]))
    return pd.DataFrame({"ccode": k // 10_000, "year": k % 10_000})


def pact_states(
    atop: pd.DataFrame, obligations: Sequence[str] = ("defense",), direction: str = "either"
) -> pd.DataFrame:
    """State-years (ccode, year) with at least one alliance carrying ``obligations``."""
    return _monadic(alliance_dyad_years(atop, obligations, direction))


def major_power_allies(
    atop: pd.DataFrame,
    majors_year: pd.DataFrame,
    obligations: Sequence[str] = ("defense",),
    direction: str = "either",
) -> pd.DataFrame:
    """State-years (ccode, year) of non-major states with a pact (``obligations``) with at
    least one state that is a major power in that year."""
    return _major_allies(alliance_dyad_years(atop, obligations, direction), majors_year)


def _major_allies(d: pd.DataFrame, majors_year: pd.DataFrame) -> pd.DataFrame:
    mkeys = state_key(majors_year["ccode"], majors_year["year"])
    partner_major = isin(mkeys, state_key(d["ccode2"], d["year"]))
    self_major = isin(mkeys, state_key(d["ccode1"], d["year"]))
    return _monadic(d[partner_major & ~self_major])


def alliance_indicators(
    frame: pd.DataFrame,
    atop: pd.DataFrame,
    majors_year: pd.DataFrame,
    *,
    dp_obligations: Sequence[str] = ("defense",),
    sc_obligations: Sequence[str] = ("defense", "offense", "neutral", "nonagg", "consul"),
    direction: str = "either",
) -> pd.DataFrame:
    """DP, MP, DPMP and SC for each row of ``frame`` (columns ccode1 = A, ccode2 = B, year).

    Nullable ``Int8`` columns aligned with ``frame``; NA for years outside ATOP coverage.
    """
    first, last = atop_coverage(atop)
    yr = frame["year"].to_numpy(dtype=np.int64)
    a = frame["ccode1"].to_numpy(dtype=np.int64)
    b = frame["ccode2"].to_numpy(dtype=np.int64)
    covered = (yr >= first) & (yr <= last)
    dp_dyads = alliance_dyad_years(atop, dp_obligations, direction)
    dp_states = _monadic(dp_dyads)
    mp_states = _major_allies(dp_dyads, majors_year)
    sc_dyads = alliance_dyad_years(atop, sc_obligations, direction)
    dp = isin(state_key(dp_states["ccode"], dp_states["year"]), state_key(a, yr))
    mp = isin(state_key(mp_states["ccode"], mp_states["year"]), state_key(a, yr))
    sc = isin(
        dyad_key(sc_dyads["ccode1"], sc_dyads["ccode2"], sc_dyads["year"]), dyad_key(a, b, yr)
    )
    dpmp = np.where(mp, 2, np.where(dp, 1, 0))

    def col(values: np.ndarray) -> pd.Series:
        return pd.Series(nullable_int8(values, ~covered), index=frame.index)

    return pd.DataFrame({"dp": col(dp), "mp": col(mp), "dpmp": col(dpmp), "sc": col(sc)})
