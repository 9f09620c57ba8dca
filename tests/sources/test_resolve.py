"""Resolution order, file-form preference, not-found messages and the hash policy."""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path

import pytest

from restraint.errors import DataFileError, DataNotFoundError, HashMismatchWarning
from restraint.sources import DATASETS, locate, read_cow_majors, resolve
from restraint.sources.resolve import file_sha256, recorded_hashes
from tests.sources import synth


def _majors_variant(extra_year: int) -> bytes:
    rows = [*synth.MAJORS_ROWS, ["JPN", 740, extra_year, 1, 1, 2016, 12, 31, 2016]]
    return synth.csv_bytes(synth.MAJORS_HEADER.split(","), rows)


@pytest.fixture
def three_locations(tmp_path: Path, cache: Path, monkeypatch: pytest.MonkeyPatch):
    arg, env = tmp_path / "arg", tmp_path / "env"
    synth.write(arg, "cow/majors2016.csv", _majors_variant(1901))
    synth.write(env, "cow/majors2016.csv", _majors_variant(1902))
    synth.write(cache, "cow/majors2016.csv", _majors_variant(1903))
    monkeypatch.setenv("RESTRAINT_DATA_DIR", str(env))
    return arg, env, cache


@pytest.mark.filterwarnings("ignore::restraint.errors.HashMismatchWarning")
def test_resolution_order(three_locations, monkeypatch: pytest.MonkeyPatch) -> None:
    arg, env, cache = three_locations
    assert resolve("cow_majors", arg).origin == "data_dir"
    assert read_cow_majors(arg)["styear"].iloc[-1] == 1901
    assert resolve("cow_majors").origin == "env"
    assert read_cow_majors()["styear"].iloc[-1] == 1902
    monkeypatch.delenv("RESTRAINT_DATA_DIR")
    rf = resolve("cow_majors")
    assert rf.origin == "cache" and rf.path == cache / "cow/majors2016.csv"
    assert read_cow_majors()["styear"].iloc[-1] == 1903


@pytest.mark.filterwarnings("ignore::restraint.errors.HashMismatchWarning")
def test_missing_in_data_dir_falls_through(three_locations, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    assert resolve("cow_majors", empty).origin == "env"


@pytest.mark.filterwarnings("ignore::restraint.errors.HashMismatchWarning")
def test_form_preference_within_and_across_locations(tmp_path: Path, monkeypatch) -> None:
    both, zip_only, csv_only = tmp_path / "both", tmp_path / "zip", tmp_path / "csv"
    for root in (both, zip_only):
        synth.write(root, "cow/DirectContiguity320.zip", synth.contiguity_zip())
    for root in (both, csv_only):
        synth.write(root, "cow/contdird.csv", synth.contdird())
    assert resolve("cow_contig", both).form.relpath == "cow/contdird.csv"
    rf = resolve("cow_contig", zip_only)
    assert rf.form.member == ("DirectContiguity320/contdird.csv",)
    # A location earlier in the order wins even with a less preferred form.
    monkeypatch.setenv("RESTRAINT_DATA_DIR", str(csv_only))
    assert resolve("cow_contig", zip_only).origin == "data_dir"
    assert resolve("cow_contig", zip_only).form.member


def test_locate_lists_every_candidate(tmp_path: Path, cache: Path) -> None:
    synth.write(tmp_path, "atop/atop5_1ddyr_subset.csv", synth.atop_subset())
    cands = locate("atop_ddyr", tmp_path)
    assert [c.origin for c in cands] == ["data_dir"] * 3 + ["cache"] * 3
    assert [c.exists for c in cands] == [False, False, True, False, False, False]


def test_icb_not_found_tells_where_to_get_it(tmp_path: Path) -> None:
    with pytest.raises(DataNotFoundError) as info:
        resolve("icb_actors", tmp_path)
    msg = str(info.value)
    assert "https://sites.duke.edu/icbdata/data-collections/" in msg
    assert "icb/icb2v15.csv" in msg and "<data dir>/icb/" in msg
    assert str(tmp_path) in msg


def test_offline_not_found_names_official_source(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("RESTRAINT_OFFLINE")
    with pytest.raises(DataNotFoundError, match="Downloads were disabled") as info:
        resolve("cow_states", tmp_path, download=False)  # download=False: no network
    assert "https://correlatesofwar.org/wp-content/uploads/states2016.csv" in str(info.value)
    assert "cow/states2016.csv" in str(info.value)


def test_hash_mismatch_warns_and_marks_unverified(tmp_path: Path) -> None:
    synth.write(tmp_path, "cow/states2016.csv", synth.states())
    with pytest.warns(HashMismatchWarning, match=r"states2016\.csv.*expected 3d78d333"):
        rf = resolve("cow_states", tmp_path)
    assert rf.verified is False
    assert rf.sha256 == file_sha256(tmp_path / "cow/states2016.csv")
    assert rf.expected_sha256 == DATASETS["cow_states"].primary.sha256
    with pytest.raises(DataFileError, match="strict mode"):
        resolve("cow_states", tmp_path, strict=True)


def test_unknown_hash_is_unverified_without_warning(tmp_path: Path) -> None:
    synth.write(tmp_path, "polity/p5v2018.xls", synth.polity_xls())
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        rf = resolve("polity", tmp_path, strict=True)
    assert rf.verified is False and rf.expected_sha256 == () and rf.hash_source is None


def test_recorded_first_download_hash_is_checked(tmp_path: Path, cache: Path) -> None:
    path = synth.write(tmp_path, "polity/p5v2018.xls", synth.polity_xls())
    cache.mkdir(parents=True)
    record = {"polity/p5v2018.xls": {"sha256": file_sha256(path), "recorded": "2024-01-01"}}
    (cache / "hashes.json").write_text(json.dumps(record))
    rf = resolve("polity", tmp_path)
    assert rf.verified is True and rf.hash_source.startswith("first download")
    record["polity/p5v2018.xls"]["sha256"] = "0" * 64
    (cache / "hashes.json").write_text(json.dumps(record))
    with pytest.warns(HashMismatchWarning, match="first download"):
        assert resolve("polity", tmp_path).verified is False


def test_corrupt_hash_record_file_is_reported(cache: Path) -> None:
    cache.mkdir(parents=True)
    (cache / "hashes.json").write_text("{not json")
    with pytest.raises(DataFileError, match="recorded-hash file"):
        recorded_hashes()


def test_hash_cache_follows_size_and_mtime(tmp_path: Path) -> None:
    path = synth.write(tmp_path, "x.csv", b"a,b\n1,2\n")
    first = file_sha256(path)
    assert file_sha256(path) == first
    path.write_bytes(b"a,b\n1,3\n")
    os.utime(path, ns=(1, 1))  # a different mtime even on coarse clocks
    assert file_sha256(path) != first


def test_unknown_key() -> None:
    with pytest.raises(KeyError, match="expected one of: icb_actors"):
        resolve("nope")
