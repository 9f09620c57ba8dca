"""ICB coding (MILRESP, IC, MT), crisis-actor selection and per dyad-year aggregation."""

from __future__ import annotations

import pandas as pd

from restraint.datasets import (
    BuildLog,
    BuildOptions,
    code_crisis_variables,
    first_crisis_per_dyad_year,
    select_crisis_actors,
)

from . import micro

OPT = BuildOptions(actor_years=micro.YEARS, dyad_years=micro.YEARS)


def test_milresp_ic_mt_coding_and_tallies() -> None:
    icb = pd.DataFrame(
        {
            "crismg": pd.array([1, 5, 6, 7, 8, 9, None], dtype="Int64"),
            "econdt": pd.array([1, 2, None, 2, None, 3, 2], dtype="Int64"),
            "gvinst": pd.array([2, 1, 2, None, None, 3, 2], dtype="Int64"),
            "triggr": pd.array([6, 7, 8, 9, 1, None, 10], dtype="Int64"),
        }
    )
    log = BuildLog("t")
    out = code_crisis_variables(icb, OPT, log)
    assert out["milresp"].tolist()[:5] == [0, 0, 1, 1, 1]
    assert out["milresp"].iloc[5:].isna().all()
    assert out["ic"].tolist() == [1, 1, 0, 0, 0, 0, 0]
    assert out["mt"].tolist()[:5] == [0, 1, 1, 1, 0] and out["mt"].iloc[5:].isna().all()
    assert log.tallies["crismg outside the MILRESP codes -> milresp NA"] == 2
    assert log.tallies["econdt/gvinst missing, neither 1 -> ic 0"] == 3
    out_na = code_crisis_variables(icb, OPT.replace(ic_missing="na"))
    assert out_na["ic"].iloc[:2].tolist() == [1, 1] and out_na["ic"].iloc[2:5].isna().all()
    assert out_na["ic"].iloc[5] == 0


def test_selection_counts_every_drop() -> None:
    log = BuildLog("t")
    sel = select_crisis_actors(micro.icb(), micro.states(), micro.system(), OPT, log)
    assert sel["crisno"].tolist() == [1, 2, 3, 4, 5, 7, 8]
    steps = {s.step: s for s in log.steps}
    assert steps["trigger year"].removed == 1
    assert steps["non-state trigger"].detail == {
        "trigent 995": 0,
        "trigent 996": 1,
        "trigent 997": 0,
    }
    assert steps["membership"].removed == 1 and steps["membership"].detail["actor"] == 1
    for s in log.steps:
        assert s.rows_before - s.removed == s.rows_after


def test_membership_year_and_day_rules() -> None:
    for rule in ("year", "day"):
        log = BuildLog("t")
        sel = select_crisis_actors(
            micro.icb(), micro.states(), micro.system(), OPT.replace(membership=rule), log
        )
        # FRN was out of the system in 1943 and Israel entered only in 1948.
        assert sel["crisno"].tolist() == [1, 2, 3, 7, 8], rule


def test_first_crisis_per_dyad_year_is_the_earliest_trigger_date() -> None:
    sel = select_crisis_actors(micro.icb(), micro.states(), micro.system(), OPT, BuildLog("t"))
    first, ndup = first_crisis_per_dyad_year(sel)
    assert ndup == 1
    tur_egy = first[(first["ccode1"] == 640) & (first["ccode2"] == 651)]
    # Crisis 2 (1 Feb 1941) precedes crisis 1 (10 Mar 1941) despite its higher number.
    assert tur_egy["crisno"].tolist() == [2]


def test_unknown_day_sorts_after_known_days_of_the_month() -> None:
    df = pd.DataFrame(
        {
            "crisno": [1, 2, 3],
            "cracno": [1, 2, 3],
            "ccode1": [2, 2, 2],
            "ccode2": [200, 200, 200],
            "year": [1950, 1950, 1950],
            "month": [3.0, 3.0, 2.0],
            "day": [float("nan"), 31.0, float("nan")],
        }
    )
    first, ndup = first_crisis_per_dyad_year(df)
    assert ndup == 2 and first["crisno"].tolist() == [3]
    first, _ = first_crisis_per_dyad_year(df.iloc[:2])
    assert first["crisno"].tolist() == [2]


def test_successor_codes_are_opt_in() -> None:
    icb = micro.icb()
    opt = OPT.replace(icb_successor_codes=((640, 1941, 651),))
    log = BuildLog("t")
    sel = select_crisis_actors(icb, micro.states(), micro.system(), opt, log)
    assert (sel.loc[sel["crisno"] == 1, "ccode1"] == 651).all()
    assert log.tallies["ccode1 recoded 640->651 from 1941"] == 2
