"""Every malformed file gives a DataFileError naming the file, line/column and expectation."""

from __future__ import annotations

import io
import warnings
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from restraint.errors import DataFileError, HashMismatchWarning
from restraint.sources import parse_file, read_cow_system, read_icb_actors
from tests.sources import synth


def _replace(data: bytes, old: str, new: str, count: int = 1) -> bytes:
    assert old.encode() in data, old
    return data.replace(old.encode(), new.encode(), count)


def _drop_column(data: bytes, name: str) -> bytes:
    text = data.decode("utf-8-sig")
    lines = text.splitlines()
    idx = lines[0].split(",").index(name)
    out = [",".join(f for j, f in enumerate(line.split(",")) if j != idx) for line in lines]
    return "\n".join(out).encode()


def _corrupt_member(zdata: bytes) -> bytes:
    """Flip one byte inside a stored member's data so that its CRC no longer matches."""
    zf = zipfile.ZipFile(io.BytesIO(zdata))
    info = zf.getinfo("DirectContiguity320/contdird.csv")
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra) + 20
    b = bytearray(zdata)
    b[start] = ord("9") if b[start] != ord("9") else ord("8")
    return bytes(b)


# (id, key, relpath, builder of bad bytes, message regex, line, column)
CASES: list[tuple[str, str, str, Callable[[], bytes], str, int | None, str | None]] = [
    (
        "missing-column",
        "cow_states",
        "cow/states2016.csv",
        lambda: _drop_column(synth.states(), "ccode"),
        r"missing required column\(s\) ccode",
        1,
        "ccode",
    ),
    (
        "bad-type",
        "cow_system",
        "cow/system2016.csv",
        lambda: _replace(synth.system(), "USA,2,1817", "USA,two,1817"),
        r"expected a number, found 'two'",
        3,
        "ccode",
    ),
    (
        "not-integer",
        "cow_system",
        "cow/system2016.csv",
        lambda: _replace(synth.system(), "USA,2,1817", "USA,2,1817.5"),
        r"expected an integer, found 1817.5",
        3,
        "year",
    ),
    (
        "blank-key",
        "cow_states",
        "cow/states2016.csv",
        lambda: _replace(synth.states(), "CAN,20,", "CAN,,"),
        r"expected a value, found a blank",
        3,
        "ccode",
    ),
    (
        "conttype-out-of-range",
        "cow_contig",
        "cow/contdird.csv",
        lambda: _replace(synth.contdird(), '"CAN",1920,1,', '"CAN",1920,6,'),
        r"value 6 out of range; expected 1\.\.5 \(contiguity type\)",
        2,
        "conttype",
    ),
    (
        "ccode-out-of-range",
        "cow_system",
        "cow/system2016.csv",
        lambda: _replace(synth.system(), "UKG,200,", "UKG,1200,"),
        r"value 1200 out of range; expected 2\.\.999",
        5,
        "ccode",
    ),
    (
        "year-implausible",
        "icb_actors",
        "icb/icb2v15.csv",
        lambda: _replace(synth.icb2(), ",1919,3,1,996,", ",1066,3,1,996,"),
        r"value 1066 out of range; expected 1900\.\.2100",
        4,
        "yrtrig",
    ),
    (
        "atop-flag-not-binary",
        "atop_ddyr",
        "atop/atop5_1ddyr_subset.csv",
        lambda: _replace(synth.atop_subset(), "2,200,1949,1,", "2,200,1949,2,"),
        r"value 2 out of range; expected 0\.\.1 \(binary flag 0/1\)",
        4,
        "defense",
    ),
    (
        "cinc-above-one",
        "cow_nmc",
        "cow/NMC-60-abridged.csv",
        lambda: _replace(synth.nmc(), "0.03581661", "1.5"),
        r"value 1.5 out of range; expected 0\.\.1",
        3,
        "cinc",
    ),
    (
        "polity2-out-of-range",
        "polity",
        "polity/p5v2018.csv",
        lambda: _replace(synth.polity_csv(), ",10,10,", ",10,11,"),
        r"value 11 out of range; expected -10\.\.10",
        3,
        "polity2",
    ),
    (
        "yyyymm-bad-month",
        "cow_contig_periods",
        "cow/contdir.csv",
        lambda: _replace(synth.contdir(), "197307", "197313"),
        r"not a YYYYMM date \(month 13\)",
        3,
        "begin",
    ),
    (
        "duplicate-system-key",
        "cow_system",
        "cow/system2016.csv",
        lambda: synth.system() + b"\r\nUSA,2,1816,2016",
        r"duplicate key \(ccode=2, year=1816\) on lines 2 and 6",
        6,
        "ccode",
    ),
    (
        "duplicate-icb-actor",
        "icb_actors",
        "icb/icb2v15.csv",
        lambda: _replace(synth.icb2(), "ICB2,1,2,200", "ICB2,1,1,200"),
        r"duplicate key \(crisno=1, cracno=1\) on lines 2 and 3; expected one row per crisis",
        3,
        "crisno",
    ),
    (
        "duplicate-nmc-key",
        "cow_nmc",
        "cow/NMC-60-abridged.csv",
        lambda: _replace(synth.nmc(), "USA,2,1817", "USA,2,1816"),
        r"duplicate key \(ccode=2, year=1816\)",
        3,
        "ccode",
    ),
    (
        "duplicate-atop-key",
        "atop_ddyr",
        "atop/atop5_1ddyr_subset.csv",
        lambda: _replace(synth.atop_subset(), "20,2,1942", "2,20,1942"),
        r"duplicate key \(statea=2, stateb=20, year=1942\)",
        3,
        "statea",
    ),
    (
        "truncated-mid-row",
        "cow_nmc",
        "cow/NMC-60-abridged.csv",
        lambda: synth.nmc()[:-25],
        r"last line has \d+ fields, expected 11: the file looks truncated",
        4,
        None,
    ),
    (
        "truncated-csv-icb",
        "icb_actors",
        "icb/icb2v15.csv",
        lambda: synth.icb2()[:-60],
        r"looks truncated",
        4,
        None,
    ),
    (
        "wrong-encoding",
        "icb_actors",
        "icb/icb2v15.csv",
        lambda: synth.icb2().replace(b"TEST CRISIS", "CÔTE CRISIS".encode("cp1252")),
        r"not valid UTF-8 text: byte 0xd4",
        4,
        None,
    ),
    (
        "binary-not-csv",
        "cow_states",
        "cow/states2016.csv",
        lambda: b"stateabb,ccode\n\x00\x00\x00",
        r"NUL bytes",
        2,
        None,
    ),
    (
        "too-many-fields",
        "cow_system",
        "cow/system2016.csv",
        lambda: _replace(synth.system(), "USA,2,1817,2016", "USA,2,1817,2016,9"),
        r"malformed CSV .*expected the same number of fields",
        3,
        None,
    ),
    (
        "empty-file",
        "cow_majors",
        "cow/majors2016.csv",
        lambda: b"",
        r"the file is empty",
        1,
        None,
    ),
    (
        "header-only",
        "cow_majors",
        "cow/majors2016.csv",
        lambda: synth.MAJORS_HEADER.encode() + b"\r\n",
        r"no data rows",
        2,
        None,
    ),
    (
        "wrong-file",
        "cow_contig",
        "cow/contdird.csv",
        synth.states,
        r"missing required column\(s\) dyad, state1no",
        1,
        "dyad",
    ),
    (
        "corrupt-zip-truncated",
        "cow_contig",
        "cow/DirectContiguity320.zip",
        lambda: synth.contiguity_zip()[:-40],
        r"not a valid zip archive",
        None,
        None,
    ),
    (
        "corrupt-zip-crc",
        "cow_contig",
        "cow/DirectContiguity320.zip",
        lambda: _corrupt_member(synth.contiguity_zip()),
        r"archive member 'DirectContiguity320/contdird.csv' is corrupt",
        None,
        None,
    ),
    (
        "zip-missing-member",
        "cow_contig",
        "cow/DirectContiguity320.zip",
        lambda: synth.zip_bytes({"DirectContiguity320/contdir.csv": synth.contdir()}),
        r"archive has no member 'DirectContiguity320/contdird.csv'",
        None,
        None,
    ),
    (
        "xls-corrupt",
        "polity",
        "polity/p5v2018.xls",
        lambda: synth.polity_xls()[:700],
        r"cannot read as an Excel 97-2003 \(\.xls\) workbook",
        None,
        None,
    ),
    (
        "xls-is-really-csv",
        "polity",
        "polity/p5v2018.xls",
        synth.polity_csv,
        r"cannot read as an Excel 97-2003",
        None,
        None,
    ),
]


@pytest.mark.parametrize(
    ("key", "relpath", "build", "pattern", "line", "column"),
    [c[1:] for c in CASES],
    ids=[c[0] for c in CASES],
)
def test_malformed_file_gives_clear_error(
    tmp_path: Path,
    key: str,
    relpath: str,
    build: Callable[[], bytes],
    pattern: str,
    line: int | None,
    column: str | None,
) -> None:
    path = synth.write(tmp_path, relpath, build())
    with pytest.raises(DataFileError, match=pattern) as info:
        parse_file(key, path)
    err = info.value
    assert str(path) in str(err.path), "the error must name the file"
    assert str(path) in str(err)
    assert err.line == line
    if line is not None:
        assert f"line {line}" in str(err)
    assert err.column == column
    if column is not None:
        assert repr(column) in str(err)


def test_reader_error_names_the_file_it_resolved(tmp_path: Path) -> None:
    bad = _replace(synth.icb2(), "ICB2,1,2,200", "ICB2,1,1,200")
    path = synth.write(tmp_path, "icb/icb2v15.csv", bad)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", HashMismatchWarning)
        with pytest.raises(DataFileError, match="duplicate key") as info:
            read_icb_actors(tmp_path)
    assert str(info.value).startswith(f"{path}, line 3, column 'crisno'")


def test_archive_member_error_names_archive_and_member(tmp_path: Path) -> None:
    bad = _replace(synth.contdird(), '"CAN",1920,1,', '"CAN",1920,0,')
    zdata = synth.zip_bytes({"DirectContiguity320/contdird.csv": bad})
    path = synth.write(tmp_path, "cow/DirectContiguity320.zip", zdata)
    with pytest.raises(DataFileError, match="out of range") as info:
        parse_file("cow_contig", path)
    assert str(info.value.path) == f"{path}!DirectContiguity320/contdird.csv"


def test_strict_hash_mismatch_is_an_error(tmp_path: Path) -> None:
    synth.write(tmp_path, "cow/system2016.csv", synth.system())
    with pytest.raises(DataFileError, match=r"SHA-256 .*\(strict mode"):
        read_cow_system(tmp_path, strict=True)
