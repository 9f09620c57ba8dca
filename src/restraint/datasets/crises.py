"""ICB crisis actors: coding of MILRESP, IC, MT; selection of state-to-state crises; and
aggregation to (actor, triggering entity, year).

Codes follow the ICB actor-level codebook (v15): ``crismg`` 1-8 (principal
crisis-management technique), ``triggr`` 1-9 (trigger type, 7-9 military),
``trigent`` the triggering entity's COW code or 995/996/997, ``econdt``/``gvinst`` 1 =
increase in economic problems / government instability. ICB's ``cracid`` are COW codes.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from restraint.datasets._keys import int_column
from restraint.datasets.log import BuildLog
from restraint.datasets.options import BuildOptions
from restraint.datasets.system import member_ever, member_in_year, member_on_date, states_by_year

__all__ = ["code_crisis_variables", "select_crisis_actors", "first_crisis_per_dyad_year"]

UNIT = "actor rows"


def _codes(icb: pd.DataFrame, column: str) -> pd.Series:
    if column not in icb.columns:
        raise ValueError(f"ICB table has no column {column!r}")
    return pd.to_numeric(icb[column], errors="coerce").astype("Float64")


def code_crisis_variables(
    icb: pd.DataFrame, options: BuildOptions | None = None, log: BuildLog | None = None
) -> pd.DataFrame:
    """MILRESP, IC and MT for each ICB actor row (nullable ``Int8``, aligned with ``icb``).

    MILRESP = 1 for ``crismg`` in ``options.milresp_one`` (6-8), 0 for
    ``options.milresp_zero`` (1-5), NA otherwise (counted in ``log``).
    IC = 1 if ``econdt`` == 1 or ``gvinst`` == 1; else 0, or NA under
    ``ic_missing="na"`` when one of the two is missing.
    MT = 1 for ``triggr`` in ``options.mt_codes`` (7-9), 0 for other valid codes 1-9, NA
    otherwise.
    """
    opt = options or BuildOptions()
    crismg = _codes(icb, "crismg")
    one = crismg.isin(opt.milresp_one).fillna(False).to_numpy(dtype=bool)
    zero = crismg.isin(opt.milresp_zero).fillna(False).to_numpy(dtype=bool)
    milresp = pd.Series(np.where(one, 1, 0), index=icb.index, dtype="Int8")
    milresp[~(one | zero)] = pd.NA

    econdt, gvinst = _codes(icb, "econdt"), _codes(icb, "gvinst")
    hit = ((econdt == 1).fillna(False) | (gvinst == 1).fillna(False)).to_numpy(dtype=bool)
    ic = pd.Series(hit.astype(np.int8), index=icb.index, dtype="Int8")
    undecided = ~hit & (econdt.isna() | gvinst.isna()).to_numpy(dtype=bool)
    if opt.ic_missing == "na":
        ic[undecided] = pd.NA

    triggr = _codes(icb, "triggr")
    valid = triggr.between(1, 9).fillna(False).to_numpy(dtype=bool)
    mt_hit = triggr.isin(opt.mt_codes).fillna(False).to_numpy(dtype=bool)
    mt = pd.Series(mt_hit.astype(np.int8), index=icb.index, dtype="Int8")
    mt[~valid] = pd.NA

    if log is not None:
        log.tally("crismg outside the MILRESP codes -> milresp NA", int((~(one | zero)).sum()))
        log.tally(
            "econdt/gvinst missing, neither 1 -> ic " + ("NA" if opt.ic_missing == "na" else "0"),
            int(undecided.sum()),
        )
        log.tally("triggr missing or outside 1-9 -> mt NA", int((~valid).sum()))
    return pd.DataFrame({"milresp": milresp, "ic": ic, "mt": mt})


def _trigger_day(icb: pd.DataFrame) -> np.ndarray:
    # ICB v15 writes some unknown days as 66/77/88 (undocumented); any value outside
    # 1-31 is treated as an unknown day.
    d = pd.to_numeric(icb["datrig"], errors="coerce").to_numpy(dtype=float)
    return np.where((d >= 1) & (d <= 31), d, np.nan)


def select_crisis_actors(
    icb: pd.DataFrame,
    states: pd.DataFrame,
    system: pd.DataFrame | None,
    options: BuildOptions,
    log: BuildLog,
    *,
    years: tuple[int, int] | None = None,
    unit: str = UNIT,
) -> pd.DataFrame:
    """ICB actor rows whose crisis is between two COW states, with counted drops.

    Keeps trigger years in ``years`` (default ``options.actor_years``), drops the special
    triggering entities (995/996/997) and actors or triggers that are not COW states
    under ``options.membership``. Returns ``crisno, cracno, ccode1 (actor), ccode2
    (trigger), year (yrtrig), month, day`` plus MILRESP, IC, MT, sorted by crisno, cracno.
    """
    years = years or options.actor_years
    n0 = len(icb)
    log.start(unit, "ICB crisis actors", n0)
    yr = int_column(icb, "yrtrig", "icb actors")
    keep = (yr >= years[0]) & (yr <= years[1])
    log.drop(
        unit,
        "trigger year",
        f"trigger year outside {years[0]}-{years[1]}",
        n0,
        int(keep.sum()),
        {"before": int((yr < years[0]).sum()), "after": int((yr > years[1]).sum())},
    )
    df = icb.loc[keep]
    coded = code_crisis_variables(df, options, log)
    out = pd.DataFrame(
        {
            "crisno": int_column(df, "crisno", "icb actors"),
            "cracno": int_column(df, "cracno", "icb actors"),
            "ccode1": int_column(df, "cracid", "icb actors"),
            "ccode2": int_column(df, "trigent", "icb actors"),
            "year": int_column(df, "yrtrig", "icb actors"),
            "month": pd.to_numeric(df["motrig"], errors="coerce").to_numpy(dtype=float),
            "day": _trigger_day(df),
        }
    )
    for c in coded.columns:
        out[c] = coded[c].to_numpy()
        out[c] = out[c].astype("Int8")

    special = out["ccode2"].isin(options.special_triggers).to_numpy()
    detail = {
        f"trigent {code}": int((out["ccode2"] == code).sum()) for code in options.special_triggers
    }
    before = len(out)
    out = out.loc[~special].reset_index(drop=True)
    log.drop(unit, "non-state trigger", "triggering entity not a state", before, len(out), detail)

    for icb_code, from_year, cow_code in options.icb_successor_codes:
        for col in ("ccode1", "ccode2"):
            hit = (out[col] == icb_code) & (out["year"] >= from_year)
            out.loc[hit, col] = cow_code
            log.tally(f"{col} recoded {icb_code}->{cow_code} from {from_year}", int(hit.sum()))

    a, b = out["ccode1"].to_numpy(), out["ccode2"].to_numpy()
    y = out["year"].to_numpy()
    if options.membership == "ever":
        ok_a, ok_b = member_ever(a, states), member_ever(b, states)
        rule = "never in the COW state list"
    elif options.membership == "year":
        sy = states_by_year(system if system is not None else states)
        ok_a, ok_b = member_in_year(a, y, sy), member_in_year(b, y, sy)
        rule = "not a COW system member in the trigger year"
    else:
        m, d = out["month"].to_numpy(), out["day"].to_numpy()
        ok_a = member_on_date(a, y, m, d, states)
        ok_b = member_on_date(b, y, m, d, states)
        rule = "not a COW system member on the trigger date"
    before = len(out)
    keep = ok_a & ok_b
    out = out.loc[keep].reset_index(drop=True)
    log.drop(
        unit,
        "membership",
        f"actor or trigger {rule} (membership={options.membership!r})",
        before,
        len(out),
        {"actor": int((~ok_a).sum()), "trigger only": int((ok_a & ~ok_b).sum())},
    )
    return out.sort_values(["crisno", "cracno"], kind="mergesort").reset_index(drop=True)


def first_crisis_per_dyad_year(actors: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """Keep the first crisis per (actor, triggering entity, trigger year).

    "First" is the earliest trigger date (year, month, day); an unknown day sorts after
    the known days of its month, and remaining ties go to the lower ``crisno`` then
    ``cracno`` (ICB numbers crises chronologically). Returns the kept rows (sorted by
    ccode1, ccode2, year) and the number of rows dropped as duplicates.
    """
    order = actors.assign(_m=actors["month"].fillna(99), _d=actors["day"].fillna(99)).sort_values(
        ["year", "_m", "_d", "crisno", "cracno"], kind="mergesort"
    )
    first = order.drop_duplicates(["ccode1", "ccode2", "year"], keep="first")
    first = first.drop(columns=["_m", "_d"])
    first = first.sort_values(["ccode1", "ccode2", "year"], kind="mergesort").reset_index(drop=True)
    return first, len(actors) - len(first)
