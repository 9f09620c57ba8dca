"""Readers on tiny synthetic files in each official format: types, missing codes, forms."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import pandas as pd
import pytest

from restraint.errors import DataFileError, HashMismatchWarning
from restraint.sources import (
    DATASETS,
    DuplicateKeyWarning,
    load_all,
    parse_file,
    read_atop_ddyr,
    read_contiguity,
    read_contiguity_periods,
    read_cow_majors,
    read_cow_states,
    read_cow_system,
    read_icb_actors,
    read_icb_crises,
    read_nmc,
    read_polity,
)
from tests.sources import synth

SENTINELS = {-66, -77, -88, -99}


def _read(reader, root: Path) -> pd.DataFrame:
    # Synthetic files never match the registry's hashes: the reader must say so.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        df = reader(root)
    src = df.attrs["source"]
    if DATASETS[src["key"]].forms[0].sha256 or src["expected_sha256"]:
        assert any(issubclass(w.category, HashMismatchWarning) for w in caught)
    return df


def _no_sentinels(df: pd.DataFrame, exempt: set[str] = frozenset()) -> None:
    for col in df.columns:
        if col in exempt or not pd.api.types.is_numeric_dtype(df[col]):
            continue
        bad = set(df[col].dropna().astype(int).unique()) & SENTINELS
        assert not bad, f"{col} still holds {bad}"


def test_provenance_and_unverified_flag(synth_dir: Path) -> None:
    df = _read(read_cow_states, synth_dir)
    src = df.attrs["source"]
    assert {"key", "path", "sha256", "version", "verified"} <= set(src)
    assert src["key"] == "cow_states"
    assert src["version"] == "2016"
    assert src["verified"] is False
    assert src["origin"] == "data_dir"
    assert Path(src["path"]) == synth_dir / "cow/states2016.csv"
    assert len(src["sha256"]) == 64


def test_icb_actors(synth_dir: Path) -> None:
    df = _read(read_icb_actors, synth_dir)
    assert list(df.columns) == [c.lower() for c in synth.ICB2_HEADER]
    for col in ("crisno", "cracno", "cracid", "yrtrig", "motrig", "datrig", "trigent"):
        assert df[col].dtype == "Int64", col
    for col in ("triggr", "crismg", "econdt", "gvinst"):
        assert df[col].dtype == "Int64", col
    assert df["actor"].dtype == "string"
    assert df["actor"].tolist() == ["RUS", "UKG", "USA"]
    # -99 and blanks are NA; outfor 99 is the codebook's "missing data".
    assert df["sizedu"].isna().tolist() == [True, False, False]
    assert df["strcdu"].isna().tolist() == [False, True, False]
    assert df["outfor"].isna().tolist() == [True, False, False]
    assert df["econdt"].isna().tolist() == [False, True, False]
    # powdis is legitimately negative; 66 is ICB's imprecise-day code and is kept.
    assert df["powdis"].iloc[0] == -3
    assert df["datrig"].iloc[0] == 66
    assert df["icb2"].tolist() == ["ICB2", "ICB2", "UCB2"]
    _no_sentinels(df, exempt={"powdis"})


def test_icb_crises(synth_dir: Path) -> None:
    df = _read(read_icb_crises, synth_dir)
    assert df["crisno"].tolist() == [1, 2]
    assert pd.isna(df.loc[0, "mediate"])  # codebook: 9 = cannot be determined
    assert df.loc[1, "mediate"] == 1
    assert pd.isna(df.loc[0, "momedst"])  # -99
    assert df.loc[0, "powdissy"] == -12
    assert pd.isna(df.loc[1, "powdissy"])


def test_cow_membership(synth_dir: Path) -> None:
    states = _read(read_cow_states, synth_dir)
    assert list(states.columns) == synth.STATES_HEADER.split(",")
    assert len(states) == len(synth.STATES_ROWS)
    assert states["ccode"].dtype == "Int64" and states["statenme"].dtype == "string"
    assert states.loc[states.ccode == 220, "styear"].tolist() == [1816, 1944]
    majors = _read(read_cow_majors, synth_dir)
    assert majors["endyear"].tolist() == [2016, 2016, 1940, 2016]
    system = _read(read_cow_system, synth_dir)
    assert system["year"].dtype == "Int64"
    assert system.groupby("ccode").size().to_dict() == {2: 3, 200: 1}


def test_contiguity_keeps_type_change_rows(synth_dir: Path) -> None:
    df = _read(read_contiguity, synth_dir)
    assert len(df) == len(synth.CONTDIRD_ROWS)
    both = df[(df.state1no == 210) & (df.year == 1830)]
    assert sorted(both["conttype"].tolist()) == [1, 5]
    assert df["state1ab"].tolist()[:2] == ["USA", "CAN"]  # quotes removed
    assert df["version"].dtype == "Float64" and df["version"].iloc[0] == pytest.approx(3.2)


def test_contiguity_periods(synth_dir: Path) -> None:
    df = _read(read_contiguity_periods, synth_dir)
    assert df["begin"].tolist() == [192001, 197307, 181601]
    assert df["notes"].iloc[1] == "Across Atlantic, begins 1973"
    assert pd.isna(df["notes"].iloc[2])


def test_nmc(synth_dir: Path) -> None:
    df = _read(read_nmc, synth_dir)
    for col in ("milex", "milper", "irst", "pec", "tpop", "upop", "cinc"):
        assert df[col].dtype == "Float64", col
    assert pd.isna(df.loc[1, "milex"])  # -9
    assert pd.isna(df.loc[2, "upop"])  # -9
    assert df.loc[2, "cinc"] == pytest.approx(3.2678875e-06)  # scientific notation
    assert df.loc[2, "tpop"] == pytest.approx(0.5)
    assert not (df[["milex", "upop"]] == -9).any().any()


def test_polity_csv_and_xls_agree(synth_dir: Path, tmp_path: Path) -> None:
    csv_df = _read(read_polity, synth_dir)
    assert csv_df.shape == (len(synth.POLITY_ROWS), 37)
    assert list(csv_df.columns) == synth.POLITY_HEADER
    assert csv_df["ccode"].dtype == "Int64" and csv_df["polity2"].dtype == "Int64"
    # Special codes become NA in every column that carries them; polity2 is kept.
    assert csv_df["polity"].isna().tolist() == [False, False, True, True, True]
    assert csv_df["democ"].isna().tolist() == [False, False, True, True, True]
    assert pd.isna(csv_df.loc[2, "xrreg"]) and pd.isna(csv_df.loc[2, "interim"])
    assert csv_df["polity2"].tolist()[3:] == [3, 0]
    assert pd.isna(csv_df.loc[2, "polity2"])
    assert csv_df.loc[3, "change"] == 88  # positive codes are substantive codes
    assert csv_df.attrs["special_codes"]["polity"] == {"-66": 1, "-88": 1, "-77": 1}
    _no_sentinels(csv_df)

    xls_dir = tmp_path / "xls"
    synth.write(xls_dir, "polity/p5v2018.xls", synth.polity_xls())
    xls_df = read_polity(xls_dir)  # no registry hash for the xls: no warning expected
    assert xls_df.attrs["source"]["path"].endswith("p5v2018.xls")
    assert xls_df.attrs["source"]["verified"] is False
    pd.testing.assert_frame_equal(xls_df, csv_df, check_like=False)


@pytest.mark.filterwarnings("ignore::restraint.errors.HashMismatchWarning")
def test_polity_duplicates_are_kept_and_flagged(tmp_path: Path) -> None:
    rows = [*synth.POLITY_ROWS, synth.POLITY_ROWS[1]]
    synth.write(tmp_path, "polity/p5v2018.csv", synth.csv_bytes(synth.POLITY_HEADER, rows))
    with pytest.warns(DuplicateKeyWarning, match=r"2/1801"):
        df = read_polity(tmp_path)
    assert len(df) == len(rows)
    assert df.attrs["duplicate_keys"] == [[2, 1801]]
    # The xls form has no registry hash, so strict mode fails on the duplicates alone.
    synth.write(tmp_path, "polity/p5v2018.xls", synth.polity_xls(rows))
    with pytest.raises(DataFileError, match=r"share a \(ccode, year\).*strict mode"):
        read_polity(tmp_path, strict=True)


def test_atop_subset_full_and_zip(tmp_path: Path, synth_dir: Path) -> None:
    subset = _read(read_atop_ddyr, synth_dir)
    assert list(subset.columns) == [c.lower() for c in synth.ATOP_SUBSET_HEADER]
    assert all(subset[c].dtype == "Int64" for c in subset.columns)

    full_dir = tmp_path / "full"
    synth.write(full_dir, "atop/atop5_1ddyr.csv", synth.atop_full())
    full = read_atop_ddyr(full_dir)
    assert {"atopally", "shareob", "version"} <= set(full.columns)
    assert full["atopally"].dtype == "Int64" and full["version"].dtype == "Float64"
    pd.testing.assert_frame_equal(full[subset.columns], subset)

    zip_dir = tmp_path / "zip"
    synth.write(zip_dir, "atop/atop_5.1__.csv_.zip", synth.atop_zip())
    zipped = read_atop_ddyr(zip_dir)
    assert zipped.attrs["source"]["member"] == "ATOP 5.1 (.csv)/atop5_1ddyr.csv"
    pd.testing.assert_frame_equal(zipped, full)


def test_contiguity_from_zip_equals_csv(tmp_path: Path, synth_dir: Path) -> None:
    zip_dir = tmp_path / "zip"
    synth.write(zip_dir, "cow/DirectContiguity320.zip", synth.contiguity_zip())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", HashMismatchWarning)
        for reader in (read_contiguity, read_contiguity_periods):
            a, b = reader(synth_dir), reader(zip_dir)
            assert b.attrs["source"]["member"].startswith("DirectContiguity320/")
            pd.testing.assert_frame_equal(a, b)


def test_nmc_from_nested_official_zip(tmp_path: Path, synth_dir: Path) -> None:
    synth.write(tmp_path, "cow/NMC_Documentation-6.0.zip", synth.nmc_zip())
    zipped = read_nmc(tmp_path)
    assert zipped.attrs["source"]["member"] == "NMC-60-abridged.zip/NMC-60-abridged.csv"
    pd.testing.assert_frame_equal(zipped, _read(read_nmc, synth_dir))


def test_load_all_reads_every_dataset(synth_dir: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", HashMismatchWarning)
        frames = load_all(synth_dir)
    assert list(frames) == list(DATASETS)
    assert all(len(df) > 0 for df in frames.values())


def test_parse_file_infers_the_form(synth_dir: Path) -> None:
    df = parse_file("cow_contig", synth_dir / "cow/contdird.csv")
    assert len(df) == len(synth.CONTDIRD_ROWS)
    with pytest.raises(DataFileError, match="cannot tell which form"):
        parse_file("cow_contig", synth_dir / "cow/whatever.dat")


@pytest.mark.filterwarnings("ignore::restraint.errors.HashMismatchWarning")
def test_repeat_reads_are_independent_copies_and_follow_the_file(synth_dir: Path) -> None:
    first = read_cow_system(synth_dir)
    first.loc[0, "year"] = 1999
    first.attrs["source"]["key"] = "changed"
    again = read_cow_system(synth_dir)
    assert again.loc[0, "year"] == 1816
    assert again.attrs["source"]["key"] == "cow_system"
    rows = [*synth.SYSTEM_ROWS, ["UKG", 200, 1817, 2016]]
    path = synth.write(synth_dir, "cow/system2016.csv", synth.csv_bytes(
        synth.SYSTEM_HEADER.split(","), rows))  # fmt: skip
    os.utime(path, ns=(1, 1))
    assert len(read_cow_system(synth_dir)) == len(rows)
