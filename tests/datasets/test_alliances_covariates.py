"""DP, MP, SC from ATOP; JD, Prep and Contig; peacesciencer's pitfalls."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from restraint.datasets import (
    alliance_indicators,
    contiguity_indicator,
    contiguity_years,
    joint_democracy,
    majors_by_year,
    preponderance,
)

from . import micro


def frame(rows: list[tuple[int, int, int]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["ccode1", "ccode2", "year"])


def indicators(rows: list[tuple[int, int, int]], **kw: object) -> pd.DataFrame:
    f = frame(rows)
    out = alliance_indicators(f, micro.atop(), majors_by_year(micro.majors()), **kw)
    return pd.concat([f, out], axis=1).set_index(["ccode1", "ccode2", "year"])


def test_major_power_itself_has_mp_zero_even_with_a_major_power_ally() -> None:
    ind = indicators([(220, 640, 1940), (220, 640, 1945), (200, 640, 1940), (220, 640, 1941)])
    # France, allied with Britain (major): MP = 0 while France is a major power itself ...
    assert ind.loc[(220, 640, 1940), "mp"] == 0 and ind.loc[(220, 640, 1940), "dp"] == 1
    assert ind.loc[(220, 640, 1945), "mp"] == 0
    assert ind.loc[(200, 640, 1940), "mp"] == 0
    # ... and MP = 1 in 1941, when France is not a major power (COW: 1941-44).
    assert ind.loc[(220, 640, 1941), "mp"] == 1
    assert ind.loc[(220, 640, 1941), "dpmp"] == 2


def test_pact_recorded_in_one_direction_counts_for_both_states() -> None:
    # ATOP: the USA promises to defend Turkey (1947-48); Turkey's row has no obligation.
    either = indicators([(640, 200, 1947), (2, 200, 1947)])
    assert either.loc[(640, 200, 1947), "dp"] == 1
    assert either.loc[(640, 200, 1947), "mp"] == 1
    assert either.loc[(2, 200, 1947), "dp"] == 1 and either.loc[(2, 200, 1947), "mp"] == 0
    own = indicators([(640, 200, 1947), (2, 200, 1947)], direction="own")
    assert own.loc[(640, 200, 1947), "dp"] == 0 and own.loc[(640, 200, 1947), "mp"] == 0
    assert own.loc[(2, 200, 1947), "dp"] == 1


def test_sc_counts_any_obligation_and_dp_only_defense_by_default() -> None:
    ind = indicators([(651, 200, 1940), (200, 651, 1940), (651, 640, 1940)])
    assert ind.loc[(651, 200, 1940), "sc"] == 1 and ind.loc[(200, 651, 1940), "sc"] == 1
    assert ind.loc[(651, 200, 1940), "dp"] == 0
    assert ind.loc[(651, 640, 1940), "sc"] == 0
    wide = indicators([(651, 640, 1940)], dp_obligations=("defense", "consul"))
    assert wide.loc[(651, 640, 1940), "dp"] == 1
    narrow = indicators([(651, 200, 1940)], sc_obligations=("defense",))
    assert narrow.loc[(651, 200, 1940), "sc"] == 0


def test_no_zeros_outside_atop_coverage() -> None:
    # The micro ATOP file ends in 1948: 1949 is unknown, not "no alliance".
    ind = indicators([(220, 200, 1948), (220, 200, 1949)])
    assert ind.loc[(220, 200, 1948), "dp"] == 1
    assert ind.loc[(220, 200, 1949)].isna().all()


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from([2, 200, 220, 255, 640, 651]),
            st.sampled_from([2, 200, 220, 255, 640, 651]),
            st.integers(1938, 1946),
            st.integers(0, 1),
            st.integers(0, 1),
        ),
        min_size=1,
        max_size=25,
    ),
    st.sampled_from(["either", "own"]),
)
def test_mp_implies_dp_and_majors_never_have_mp(rows: list, direction: str) -> None:
    atop = pd.DataFrame(
        [(a, b, y, d, 0, 0, 0, c) for a, b, y, d, c in rows if a != b]
        or [(2, 200, 1940, 0, 0, 0, 0, 1)],
        columns=["statea", "stateb", "year", "defense", "offense", "neutral", "nonagg", "consul"],
    )
    codes = [2, 200, 220, 255, 640, 651]
    f = frame([(a, b, y) for a in codes for b in codes if a != b for y in range(1938, 1947)])
    mj = majors_by_year(micro.majors())
    f = f[(f["year"] >= atop["year"].min()) & (f["year"] <= atop["year"].max())]
    out = alliance_indicators(f, atop, mj, direction=direction)
    mp, dp = out["mp"].astype(int), out["dp"].astype(int)
    assert ((mp == 1) <= (dp == 1)).all()
    mkeys = set(zip(mj["ccode"], mj["year"], strict=True))
    is_major = np.array([(c, y) in mkeys for c, y in zip(f["ccode1"], f["year"], strict=True)])
    assert (mp[is_major] == 0).all()
    assert (out["dpmp"].astype(int) == np.where(mp == 1, 2, np.where(dp == 1, 1, 0))).all()


def test_joint_democracy_threshold_and_missing_rules() -> None:
    f = frame([(2, 200, 1940), (2, 220, 1940), (2, 640, 1940), (2, 666, 1948), (255, 666, 1948)])
    jd = joint_democracy(f, micro.polity())
    assert jd.tolist() == [1, 1, 0, 0, 0]
    jd_na = joint_democracy(f, micro.polity(), missing="na")
    # USA-ISR: Israel's polity2 missing and the USA a democracy -> undecided -> NA;
    # GMY-ISR: Germany is a known non-democracy -> 0 whatever Israel is.
    assert jd_na.iloc[3] is pd.NA and jd_na.iloc[4] == 0
    assert joint_democracy(f, micro.polity(), threshold=9).tolist() == [1, 0, 0, 0, 0]
    # Outside Polity's years it is unknown, not 0.
    assert joint_democracy(frame([(2, 200, 2030)]), micro.polity()).isna().all()
    with pytest.raises(ValueError, match="missing rule"):
        joint_democracy(f, micro.polity(), missing="drop")


def test_preponderance_formula_and_missing_cinc_is_na_not_zero() -> None:
    f = frame([(2, 200, 1940), (200, 2, 1940), (640, 651, 1940), (640, 651, 1941), (640, 1, 1941)])
    prep = preponderance(f, micro.nmc())
    assert prep.iloc[0] == pytest.approx(0.2 / 0.3)
    assert prep.iloc[0] + prep.iloc[1] == pytest.approx(1.0)
    assert prep.iloc[2] is pd.NA  # EGY 1940 CINC is -9 in NMC
    assert prep.iloc[3] == pytest.approx(0.01 / 0.015)
    assert prep.iloc[4] is pd.NA  # state-year absent from NMC
    assert str(prep.dtype) == "Float64"


def test_contig_is_zero_not_six_when_not_contiguous_and_na_outside_coverage() -> None:
    c = contiguity_years(micro.contdird(), "contdird")
    f = frame([(640, 651, 1941), (640, 651, 1940), (325, 666, 1948), (640, 651, 2030)])
    contig = contiguity_indicator(f, c, coverage=(1816, 2016))
    assert contig.iloc[:3].tolist() == [1, 0, 0]
    assert contig.iloc[3] is pd.NA
    assert set(contig.dropna().unique()) <= {0, 1}
    wide = contiguity_indicator(f, c, types=(1, 2, 3, 4), coverage=(1816, 2016))
    assert wide.iloc[1] == 1
