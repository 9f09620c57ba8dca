"""States, major powers, directed dyad-years, contiguity and the relevance filter."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from restraint.datasets import (
    contiguity_years,
    directed_dyad_years,
    majors_by_year,
    member_ever,
    member_in_year,
    member_on_date,
    politically_relevant,
    states_by_year,
)
from restraint.datasets.dyads import contiguity_coverage
from restraint.errors import DataFileError

from . import micro


def _set(df: pd.DataFrame, cols: list[str]) -> set[tuple[int, ...]]:
    return set(map(tuple, df[cols].to_numpy().tolist()))


def test_states_by_year_from_periods_equals_system_file() -> None:
    a = states_by_year(micro.states(), micro.YEARS)
    b = states_by_year(micro.system(), micro.YEARS)
    pd.testing.assert_frame_equal(a, b)


def test_state_leaving_and_reentering_is_absent_in_the_gap() -> None:
    sy = states_by_year(micro.states())
    gmy = set(sy.loc[sy["ccode"] == 255, "year"])
    assert 1945 in gmy and 1990 in gmy
    assert not gmy & set(range(1946, 1990))
    frn = set(sy.loc[sy["ccode"] == 220, "year"])
    assert 1943 not in frn and {1942, 1944} <= frn


def test_france_is_not_a_major_power_1941_to_1944() -> None:
    mj = majors_by_year(micro.majors())
    frn = set(mj.loc[mj["ccode"] == 220, "year"])
    assert {1940, 1945} <= frn  # a period touching the year counts
    assert not frn & {1941, 1942, 1943, 1944}
    assert set(mj.loc[mj["ccode"] == 2, "year"]) >= {1898, 1950}
    assert 1897 not in set(mj.loc[mj["ccode"] == 2, "year"])


def test_expand_rejects_inverted_period() -> None:
    bad = micro.majors()
    bad.loc[0, "endyear"] = 1800
    with pytest.raises(ValueError, match="endyear"):
        majors_by_year(bad)


def test_missing_code_is_a_data_file_error() -> None:
    bad = micro.system()
    bad.loc[3, "ccode"] = pd.NA
    with pytest.raises(DataFileError, match="missing value in 'ccode' at row 3"):
        states_by_year(bad)


def test_membership_rules() -> None:
    s = micro.states()
    codes = np.array([220, 666, 999])
    assert member_ever(codes, s).tolist() == [True, True, False]
    sy = states_by_year(micro.system())
    assert member_in_year(codes, np.array([1943, 1948, 1948]), sy).tolist() == [
        False,
        True,
        False,
    ]
    # Israel enters on 14 May 1948: not a member on 1 May, a member on 20 May, and in May
    # with an unknown day (any day of the month counts).
    on = member_on_date(
        np.array([666, 666, 666, 666]),
        np.array([1948, 1948, 1948, 1948]),
        np.array([5, 5, 5, 4]),
        np.array([1, 20, np.nan, np.nan]),
        s,
    )
    assert on.tolist() == [False, True, True, False]


def test_every_dyad_year_appears_in_both_directions_before_filtering() -> None:
    sy = states_by_year(micro.system(), micro.YEARS)
    dy = directed_dyad_years(sy)
    pairs = _set(dy, ["ccode1", "ccode2", "year"])
    assert pairs == {(b, a, y) for a, b, y in pairs}
    assert not (dy["ccode1"] == dy["ccode2"]).any()
    n_by_year = sy.groupby("year").size()
    assert dy.groupby("year").size().equals(n_by_year * (n_by_year - 1))
    # No dyad with Germany between its exit (1945) and re-entry (1990).
    assert dy[(dy["ccode1"] == 255) & (dy["year"] > 1945)].empty


def test_contiguity_type_changing_within_a_year_keeps_the_closest() -> None:
    c = contiguity_years(micro.contdird(), "contdird")
    tur_egy = c[(c["ccode1"] == 640) & (c["ccode2"] == 651)].set_index("year")["conttype"]
    assert tur_egy[1940] == 4 and tur_egy[1941] == 2 and tur_egy[1942] == 2
    assert not c.duplicated(["ccode1", "ccode2", "year"]).any()


def test_contiguity_recorded_in_one_direction_counts_for_both() -> None:
    c = contiguity_years(micro.contdird(), "contdird")
    assert ((c["ccode1"] == 640) & (c["ccode2"] == 325) & (c["year"] == 1939)).any()


def test_contdir_periods_touching_a_year_match_contdird() -> None:
    a = contiguity_years(micro.contdird(), "contdird", micro.YEARS)
    b = contiguity_years(micro.contdir(), "contdir", micro.YEARS)
    pd.testing.assert_frame_equal(a, b)
    assert contiguity_coverage(micro.contdir(), "contdir") == (1816, 2016)


def test_relevance_level_major_clause_and_no_sentinel_code() -> None:
    sy = states_by_year(micro.system(), micro.YEARS)
    dy = directed_dyad_years(sy)
    c = contiguity_years(micro.contdird(), "contdird")
    mj = majors_by_year(micro.majors())
    rel = politically_relevant(dy, c, mj, level=4)
    key = dict(
        zip(
            map(tuple, dy[["ccode1", "ccode2", "year"]].to_numpy().tolist()),
            rel["relevant"],
            strict=True,
        )
    )
    assert key[(640, 651, 1940)]  # type 4 <= 4
    assert not key[(325, 640, 1939)]  # type 5 > 4, no major power
    assert not key[(325, 666, 1948)]  # no contiguity record at all: never "type 6 <= x"
    assert key[(325, 2, 1948)]  # the USA is a major power
    assert key[(640, 220, 1945)] and not key[(640, 220, 1942)]  # France major 1945, not 1942
    rel1 = politically_relevant(dy, c, mj, level=1)
    k1 = dict(
        zip(
            map(tuple, dy[["ccode1", "ccode2", "year"]].to_numpy().tolist()),
            rel1["relevant"],
            strict=True,
        )
    )
    assert not k1[(640, 651, 1940)]
    rel0 = politically_relevant(dy, c, mj, level=5, major_power=False)
    assert not rel0["major"].any() and rel0["relevant"].equals(rel0["contiguous"])
