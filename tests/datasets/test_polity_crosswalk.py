"""Polity5 codes to COW codes: the crosswalk, collisions, the option, and JD on real data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from restraint.datasets import (
    BuildOptions,
    build_actor_level_from,
    build_dyad_year_from,
    joint_democracy,
)
from restraint.datasets import covariates as cov
from restraint.datasets.crosswalk import (
    NON_COW_POLITIES,
    POLITY_TO_COW,
    CodeChange,
    audit_polity_codes,
    polity_to_cow,
)
from restraint.errors import DataFileError

from . import micro

OPT = BuildOptions(actor_years=micro.YEARS, dyad_years=micro.YEARS)


def polity_frame(rows: list[tuple[int, int, float]]) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=["ccode", "year", "polity2"])
    return df.astype({"ccode": "Int64", "year": "Int64", "polity2": "Float64"})


def frame(rows: list[tuple[int, int, int]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["ccode1", "ccode2", "year"])


def value(polity: pd.DataFrame, ccode: int, year: int) -> float:
    """polity2 of the published (ccode, year) row, read straight from the table."""
    row = polity[(polity["ccode"] == ccode) & (polity["year"] == year)]
    assert len(row) == 1, (ccode, year)
    return float(row["polity2"].iloc[0])


# A micro Polity with the shapes of the real mismatches: Sudan 625 ends in 2011 and
# "Sudan-North" 626 starts in 2011, South Sudan is 525; Russia 365 ends in 1922 where the
# USSR 364 starts; Pakistan is 769 before 1972; the USA is a democracy throughout.
MICRO = polity_frame(
    [(625, 2010, -2), (625, 2011, 7), (626, 2011, -4), (626, 2012, -4)]
    + [(525, 2011, 9), (525, 2012, 9)]
    + [(365, 1921, -1), (365, 1922, -1), (364, 1922, 8), (364, 1923, 8), (364, 1950, 8)]
    + [(769, 1960, 7), (770, 1972, 4)]
    + [(2, y, 10) for y in (1922, 1950, 1960, 1972, 2010, 2011, 2012)]
)


def test_crosswalk_recodes_and_keeps_the_successor_in_a_year_of_change() -> None:
    cw = polity_to_cow(MICRO)
    t = cw.table
    assert not t.duplicated(["ccode", "year"]).any()
    got = {
        (int(c), int(y)): float(v)
        for c, y, v in zip(t["ccode"], t["year"], t["polity2"], strict=True)
    }
    assert got[(626, 2011)] == 9  # South Sudan's own score, not Sudan-North's -4
    assert got[(625, 2011)] == -4 and got[(625, 2012)] == -4  # Sudan-North is COW's Sudan
    assert got[(625, 2010)] == -2
    assert got[(365, 1922)] == 8 and got[(365, 1950)] == 8  # the USSR, successor of 1922
    assert got[(770, 1960)] == 7
    assert not set(t["ccode"]) & {364, 525, 769}
    # Published codes are kept beside the COW codes.
    assert int(t.loc[(t["ccode"] == 626) & (t["year"] == 2011), "polity_ccode"].iloc[0]) == 525
    expected_recoded = MICRO["ccode"].isin([626, 525, 364, 769]).sum()
    assert cw.n_recoded == expected_recoded
    sup = {tuple(int(x) for x in r) for r in cw.superseded.itertuples(index=False)}
    assert sup == {(625, 2011, 625, 626), (365, 1922, 365, 364)}
    assert len(t) == len(MICRO) - cw.n_superseded


def test_joint_democracy_cow_versus_raw_codes() -> None:
    f = frame([(626, 2, 2011), (2, 626, 2011), (625, 2, 2011), (365, 2, 1950), (770, 2, 1960)])
    cow = joint_democracy(f, MICRO)  # default: COW codes
    raw = joint_democracy(f, MICRO, codes="raw")
    # South Sudan (9) with the USA is a joint democracy; raw codes gave it Sudan-North's -4.
    assert cow.tolist() == [1, 1, 0, 1, 1]
    # Raw: Sudan 2011 keeps its own (ending) row 7; the USSR and Pakistan-769 are missing.
    assert raw.tolist() == [0, 0, 1, 0, 0]
    raw_na = joint_democracy(f, MICRO, codes="raw", missing="na")
    assert raw_na.isna().tolist() == [False, False, False, True, True]
    with pytest.raises(ValueError, match="polity codes"):
        joint_democracy(f, MICRO, codes="cowish")  # type: ignore[arg-type]


def test_collision_without_a_single_successor_is_an_error() -> None:
    # Both rows continue from the year before: no successor can be told apart.
    both_old = polity_frame([(625, 2010, 1), (625, 2011, 1), (626, 2010, 2), (626, 2011, 2)])
    with pytest.raises(
        DataFileError, match=r"\(ccode 626, year 2011, row 3\).*COW state 625 in 2011.*0 of them"
    ):
        polity_to_cow(both_old)
    both_new = polity_frame([(625, 2011, 1), (626, 2011, 2)])
    with pytest.raises(DataFileError, match="2 of them"):
        polity_to_cow(both_new)
    with pytest.raises(DataFileError, match="on_collision='error'"):
        polity_to_cow(MICRO, on_collision="error")
    with pytest.raises(ValueError, match="on_collision"):
        polity_to_cow(MICRO, on_collision="last")  # type: ignore[arg-type]


def test_duplicates_within_one_published_code_are_not_collisions() -> None:
    # A release listing (2, 1950) twice: resolved like raw codes (last row wins).
    dup = polity_frame([(2, 1950, 3), (2, 1950, 9)])
    cw = polity_to_cow(dup)
    assert cw.n_superseded == 0 and len(cw.table) == 2
    f = frame([(2, 2, 1950)])
    assert joint_democracy(f, dup).tolist() == joint_democracy(f, dup, codes="raw").tolist() == [1]


def test_crosswalk_entries_are_checked_and_replaceable() -> None:
    own = [CodeChange(999, 2000, None, 2, ("X",), "USA", "test")]
    t = polity_to_cow(polity_frame([(999, 2001, 5), (999, 1999, 5)]), own).table
    assert sorted(zip(t["ccode"].tolist(), t["year"].tolist(), strict=True)) == [
        (2, 2001),
        (999, 1999),
    ]
    clash = own + [CodeChange(999, 2010, 2012, 20, ("X",), "Canada", "test")]
    with pytest.raises(ValueError, match="overlap"):
        polity_to_cow(MICRO, clash)


def test_every_entry_documents_why_and_no_code_is_recoded_twice() -> None:
    codes = [e.polity_ccode for e in POLITY_TO_COW]
    assert len(codes) == len(set(codes))
    for e in POLITY_TO_COW:
        assert e.why and e.polity_names and e.cow_name
        assert e.cow_ccode != e.polity_ccode


def test_option_validation_and_roundtrip() -> None:
    assert BuildOptions().polity_codes == "cow"
    with pytest.raises(ValueError, match="polity_codes"):
        BuildOptions(polity_codes="iso")  # type: ignore[arg-type]
    o = BuildOptions(polity_codes="raw")
    assert BuildOptions.from_dict(o.to_dict()) == o
    assert o.fingerprint() != BuildOptions().fingerprint()


def test_cli_rejects_a_bad_polity_codes_value(tmp_path) -> None:
    from restraint.cli import app

    r = CliRunner().invoke(app, ["build", "--polity-codes", "iso", "--out", str(tmp_path)])
    assert r.exit_code != 0 and "polity_codes" in r.output


def test_build_threads_the_option_and_logs_the_recoding(monkeypatch) -> None:
    # The micro Polity has no Israel; publish it under a foreign code 667 (a democracy) and
    # map 667 -> COW 666 with a substituted crosswalk.
    t = micro.tables()
    extra = polity_frame([(667, y, 10) for y in range(1948, 1951)])
    t["polity"] = pd.concat([t["polity"], extra], ignore_index=True)
    own = (CodeChange(667, 1948, None, 666, ("Israel",), "ISR", "test"),)
    monkeypatch.setattr(cov, "POLITY_TO_COW", own)
    cow = build_dyad_year_from(t, OPT)
    raw = build_dyad_year_from(t, OPT, polity_codes="raw")
    assert cow.options.polity_codes == "cow"
    assert cow.log.tallies["polity country-years recoded to COW codes"] == len(extra)
    assert raw.log.tallies["polity country-years recoded to COW codes"] == 0
    differs = (cow.data["jd"] != raw.data["jd"]).to_numpy()
    assert differs.sum() > 0
    assert cow.log.tallies["jd differs under polity_codes='raw'"] == differs.sum()
    assert raw.log.tallies["jd differs under polity_codes='cow'"] == differs.sum()
    # Every change involves Israel, and only as 0 -> 1 (Israel now a known democracy).
    ch = cow.data[differs]
    assert ((ch["ccode1"] == 666) | (ch["ccode2"] == 666)).all()
    assert (ch["jd"] == 1).all()
    a_cow = build_actor_level_from(t, OPT)
    assert "jd differs under polity_codes='raw'" in a_cow.log.tallies


# --- the real files -------------------------------------------------------------------


@pytest.mark.realdata
def test_audit_explains_every_polity_code(real_tables) -> None:
    audit = audit_polity_codes(real_tables.polity, real_tables.states)
    bad = audit[audit["status"] == "unexplained"]
    assert bad.empty, bad.to_string()
    # Every entry is used and describes the rows it recodes.
    used = set(audit.loc[audit["status"] == "recoded", "polity_ccode"])
    assert used == {e.polity_ccode for e in POLITY_TO_COW}
    states = set(real_tables.states["ccode"].astype(int))
    assert not set(NON_COW_POLITIES) & states
    assert set(audit.loc[audit["status"] == "not a COW state", "polity_ccode"]) == set(
        NON_COW_POLITIES
    )
    # The count of recoded country-years agrees with the audit's runs of years.
    runs = audit[audit["status"] == "recoded"]
    n_years = int((runs["last_year"] - runs["first_year"] + 1).sum())
    assert polity_to_cow(real_tables.polity).n_recoded == n_years


@pytest.mark.realdata
def test_no_cow_state_year_gets_two_polity_rows_and_the_successor_is_polity_s(
    real_tables,
) -> None:
    p = real_tables.polity
    cw = polity_to_cow(p)
    assert not cw.table.duplicated(["ccode", "year"]).any()
    assert cw.n_superseded > 0
    # Polity's own begin/end columns confirm the rule: the dropped row's polity ends that
    # year (eyear) and the kept one begins that year (byear).
    for r in cw.superseded.itertuples(index=False):
        dropped = p[(p["ccode"] == r.polity_ccode) & (p["year"] == r.year)]
        kept = p[(p["ccode"] == r.kept_polity_ccode) & (p["year"] == r.year)]
        assert int(dropped["eyear"].iloc[0]) == r.year
        assert int(kept["byear"].iloc[0]) == r.year


@pytest.mark.realdata
def test_real_polity_values_under_cow_codes(real_tables) -> None:
    p = real_tables.polity
    cow = cov.polity_values(p, "cow")
    raw = cov.polity_values(p, "raw")

    def get(values: pd.Series, ccode: int, year: int) -> float:
        return float(values.get(ccode * 10_000 + year, np.nan))

    # South Sudan (COW 626) 2011 gets its own score (Polity 525), not Sudan-North's.
    assert value(p, 525, 2011) != value(p, 626, 2011)
    assert get(cow, 626, 2011) == value(p, 525, 2011)
    assert get(raw, 626, 2011) == value(p, 626, 2011)  # the old behaviour
    assert get(cow, 625, 2015) == value(p, 626, 2015)  # Sudan-North is COW's Sudan
    assert get(cow, 365, 1950) == value(p, 364, 1950)  # USSR
    assert np.isnan(get(raw, 365, 1950))
    assert get(cow, 770, 1960) == value(p, 769, 1960)  # Pakistan before 1972
    assert np.isnan(get(raw, 770, 1960))
    assert get(cow, 816, 1990) == value(p, 818, 1990)  # unified Vietnam
    assert get(cow, 530, 2000) == value(p, 529, 2000)  # Ethiopia after 1993
    assert get(cow, 345, 1995) == value(p, 347, 1995)  # rump Yugoslavia
    assert get(cow, 345, 2010) == value(p, 342, 2010)  # Serbia
    assert get(cow, 341, 2010) == value(p, 348, 2010)  # Montenegro, not Kosovo
    assert get(raw, 341, 2010) == value(p, 341, 2010)  # raw: Montenegro got Kosovo's
    assert get(cow, 347, 2010) == value(p, 341, 2010)  # Kosovo


@pytest.mark.realdata
def test_jd_changes_only_where_a_recoded_state_is_involved(real_tables) -> None:
    cow = build_dyad_year_from(real_tables)
    raw = build_dyad_year_from(real_tables, polity_codes="raw")
    assert len(cow.data) == len(raw.data)
    differs = (cow.data["jd"] != raw.data["jd"]).to_numpy()
    assert cow.log.tallies["jd differs under polity_codes='raw'"] == differs.sum() > 0
    n_cw = polity_to_cow(real_tables.polity).n_recoded
    assert cow.log.tallies["polity country-years recoded to COW codes"] == n_cw
    # Each changed dyad-year has a side whose polity2 differs between the two code rules.
    pv_cow = cov.polity_values(real_tables.polity, "cow")
    pv_raw = cov.polity_values(real_tables.polity, "raw")
    ch = cow.data.loc[differs, ["ccode1", "ccode2", "year"]]
    keys = np.concatenate(
        [(ch[c] * 10_000 + ch["year"]).to_numpy(dtype=np.int64) for c in ("ccode1", "ccode2")]
    )
    a = pv_cow.reindex(keys).to_numpy()
    b = pv_raw.reindex(keys).to_numpy()
    side_changed = ~((a == b) | (np.isnan(a) & np.isnan(b)))
    half = len(ch)
    assert (side_changed[:half] | side_changed[half:]).all()
    # Under jd_missing="na", fewer JD values are left undecided with COW codes.
    na_cow = build_actor_level_from(real_tables, jd_missing="na").data["jd"].isna().sum()
    na_raw = (
        build_actor_level_from(real_tables, jd_missing="na", polity_codes="raw")
        .data["jd"]
        .isna()
        .sum()
    )
    assert na_cow < na_raw
