"""Integration tests on the real raw files (``raw_dir``): counts and ranges from MANIFEST.md,
hashes verified, sentinel codes gone, and every alternative file form agrees."""

from __future__ import annotations

import csv
import shutil
import warnings
from pathlib import Path

import pandas as pd
import pytest

from restraint.errors import HashMismatchWarning
from restraint.sources import READERS, load_all, resolve

pytestmark = pytest.mark.realdata

# key -> (rows, year column, min, max) from shared/data/raw/MANIFEST.md
MANIFEST = {
    "icb_actors": (1100, "yrtrig", 1918, 2019),
    "icb_crises": (496, "yrtrig", 1918, 2019),
    "cow_states": (243, "styear", 1816, None),  # spells end by 2016 (below)
    "cow_majors": (14, "styear", 1816, 1991),
    "cow_system": (15951, "year", 1816, 2016),
    "cow_contig": (82498, "year", 1816, 2016),
    "cow_contig_periods": (847, "begin", 181601, None),
    "cow_nmc": (15951, "year", 1816, 2016),
    "polity": (17574, "year", 1776, 2020),
    "atop_ddyr": (273296, "year", 1815, 2018),
}


@pytest.fixture(scope="module")
def frames(raw_dir: Path) -> dict[str, pd.DataFrame]:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the real files must raise no warning at all
        return load_all(raw_dir)


def _raw_column(path: Path, column: str, encoding: str = "utf-8-sig") -> list[str]:
    """A column's raw cell strings, read with the csv module (independent of pandas)."""
    with open(path, newline="", encoding=encoding) as fh:
        return [row[column] for row in csv.DictReader(fh)]


@pytest.mark.parametrize("key", list(MANIFEST))
def test_rows_years_and_verification(frames: dict[str, pd.DataFrame], key: str) -> None:
    rows, col, lo, hi = MANIFEST[key]
    df = frames[key]
    assert len(df) == rows
    assert df[col].min() == lo
    if hi is not None:
        assert df[col].max() == hi
    src = df.attrs["source"]
    assert src["verified"] is True
    assert src["origin"] == "data_dir"
    assert src["hash_source"] == "registry"


def test_end_dates(frames: dict[str, pd.DataFrame]) -> None:
    assert frames["cow_states"]["endyear"].max() == 2016
    assert frames["cow_contig_periods"]["end"].max() == 201612
    assert frames["cow_majors"]["endyear"].max() == 2016


def test_icb_missing_codes_become_na(frames: dict[str, pd.DataFrame], raw_dir: Path) -> None:
    path = raw_dir / "icb/icb2v15.csv"
    df = frames["icb_actors"]
    for col in ("sizedu", "strcdu"):
        raw = _raw_column(path, col)
        expected_na = sum(v in ("", "-99") for v in raw)
        assert sum(v == "-99" for v in raw) > 0
        assert int(df[col].isna().sum()) == expected_na
        assert not (df[col] == -99).any()
    assert df["crisno"].between(1, 496).all()
    assert df.duplicated(["crisno", "cracno"]).sum() == 0
    assert set(df["icb2"].unique()) == {"ICB2", "UCB2"}  # one row carries a typo


def test_nmc_minus_nine_becomes_na(frames: dict[str, pd.DataFrame], raw_dir: Path) -> None:
    path = raw_dir / "cow/NMC-60-abridged.csv"
    df = frames["cow_nmc"]
    comps = ["milex", "milper", "irst", "pec", "tpop", "upop", "cinc"]
    raw_minus9 = sum(sum(v == "-9" for v in _raw_column(path, c, "ascii")) for c in comps)
    assert raw_minus9 == 3185  # MANIFEST.md: -9 in 3,185 cells
    assert int(df[comps].isna().sum().sum()) == raw_minus9
    assert df["cinc"].min() > 0 and df["cinc"].max() < 1
    raw_cinc = _raw_column(path, "cinc", "ascii")
    e_rows = [i for i, v in enumerate(raw_cinc) if "E" in v]
    assert e_rows, "the file has scientific notation"
    for i in e_rows[:20]:
        assert df["cinc"].iloc[i] == pytest.approx(float(raw_cinc[i]), rel=1e-12)


def test_polity_special_codes(frames: dict[str, pd.DataFrame], raw_dir: Path) -> None:
    df = frames["polity"]
    raw = _raw_column(raw_dir / "polity/p5v2018.csv", "polity")
    n_special = sum(v in ("-66", "-77", "-88") for v in raw)
    assert n_special > 0
    assert int(df["polity"].isna().sum()) == n_special
    assert sum(df.attrs["special_codes"]["polity"].values()) == n_special
    assert df.shape[1] == 37
    assert df["polity2"].between(-10, 10).all()
    assert not df[["democ", "autoc", "polity"]].isin([-66, -77, -88]).any().any()
    # p5v2018 has no duplicate (ccode, year); two country-years appear under two codes.
    assert df.duplicated(["ccode", "year"]).sum() == 0
    assert df.duplicated(["country", "year"]).sum() == 2


def test_contiguity_type_change_rows_are_kept(
    frames: dict[str, pd.DataFrame], raw_dir: Path
) -> None:
    df = frames["cow_contig"]
    with open(raw_dir / "cow/contdird.csv", newline="") as fh:
        triples = [(r["state1no"], r["state2no"], r["year"]) for r in csv.DictReader(fh)]
    raw_repeats = len(triples) - len(set(triples))
    assert raw_repeats > 0
    assert int(df.duplicated(["state1no", "state2no", "year"]).sum()) == raw_repeats
    assert df["conttype"].between(1, 5).all()


def test_atop_subset_shape(frames: dict[str, pd.DataFrame]) -> None:
    df = frames["atop_ddyr"]
    assert list(df.columns) == [
        "statea",
        "stateb",
        "year",
        "defense",
        "offense",
        "neutral",
        "nonagg",
        "consul",
    ]
    flags = df[["defense", "offense", "neutral", "nonagg", "consul"]]
    assert flags.isin([0, 1]).all().all()


def test_contiguity_zip_equals_csv(
    frames: dict[str, pd.DataFrame], raw_dir: Path, tmp_path: Path
) -> None:
    (tmp_path / "cow").mkdir()
    shutil.copy(raw_dir / "cow/DirectContiguity320.zip", tmp_path / "cow")
    for key in ("cow_contig", "cow_contig_periods"):
        zipped = READERS[key](tmp_path)
        assert zipped.attrs["source"]["verified"] is True
        assert zipped.attrs["source"]["member"].startswith("DirectContiguity320/")
        pd.testing.assert_frame_equal(zipped, frames[key])


def test_icb_variant_copy_is_accepted(raw_dir: Path, tmp_path: Path) -> None:
    variant = raw_dir.parent / "variants/icb_hilangoe_2023/icb2v15.csv"
    if not variant.is_file():
        pytest.skip("variant ICB copy not present")
    (tmp_path / "icb").mkdir()
    shutil.copy(variant, tmp_path / "icb")
    with warnings.catch_warnings():
        warnings.simplefilter("error", HashMismatchWarning)
        v = READERS["icb_actors"](tmp_path)
    assert v.attrs["source"]["verified"] is True
    p = READERS["icb_actors"](raw_dir)
    diff = (v.fillna(-1) != p.fillna(-1)).to_numpy().nonzero()
    assert list(zip(*diff, strict=True)) == [
        (p.index[p.cracno == 1081][0], p.columns.get_loc("majres"))
    ]


def test_environment_variable_location(raw_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RESTRAINT_DATA_DIR", str(raw_dir))
    rf = resolve("cow_majors")
    assert rf.origin == "env" and rf.verified


def test_edited_real_file_is_flagged(raw_dir: Path, tmp_path: Path) -> None:
    (tmp_path / "cow").mkdir()
    data = (raw_dir / "cow/majors2016.csv").read_bytes().replace(b"1898,8,13", b"1898,8,14")
    (tmp_path / "cow/majors2016.csv").write_bytes(data)
    with pytest.warns(HashMismatchWarning, match="known release has 14 data rows"):
        df = READERS["cow_majors"](tmp_path)
    assert df.attrs["source"]["verified"] is False
    assert df.loc[df.stateabb == "USA", "stday"].item() == 14
