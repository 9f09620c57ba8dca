"""Tiny synthetic raw files in each official format (encoding, line ends, quoting, codes).

Each builder returns the file's bytes; :func:`write_all` lays out a data folder that
mirrors the shared one. The values are made up but follow the codebooks, including the
awkward parts (BOM, CRLF without a final newline, -9/-66/-99, scientific notation,
quoted abbreviations, a contiguity dyad-year listed twice).
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

# --- generic -------------------------------------------------------------------------


def csv_bytes(
    header: list[str],
    rows: list[list[object]],
    *,
    bom: bool = False,
    eol: str = "\n",
    final_newline: bool = True,
) -> bytes:
    """Join a header and rows (values written as given; None -> blank) into CSV bytes."""
    lines = [",".join(header)]
    lines += [",".join("" if v is None else str(v) for v in r) for r in rows]
    text = eol.join(lines) + (eol if final_newline else "")
    return (b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8")


def zip_bytes(members: dict[str, bytes]) -> bytes:
    """A zip archive (stored, like the COW distribution) with the given members."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_STORED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


# --- ICB -----------------------------------------------------------------------------

ICB2_HEADER = [
    "icb2", "crisno", "cracno", "cracid", "actor", "systrgyr", "systrgmo", "systrgda",
    "crisname", "triggr", "yrtrig", "motrig", "datrig", "trigent", "trigloc", "sizedu",
    "strcdu", "crismg", "outfor", "powdis", "econdt", "gvinst",
]  # fmt: skip

ICB2_ROWS: list[list[object]] = [
    ["ICB2", 1, 1, 365, "RUS", 1918, 5, 66, "RUSSIA CIVIL WAR I", 9, 1918, 5, 66, 200, 1,
     -99, 2, 8, 99, -3, 1, 2],
    ["ICB2", 1, 2, 200, "UKG", 1918, 5, 66, "RUSSIA CIVIL WAR I", 7, 1918, 6, 1, 365, None,
     3, -99, 3, 4, 3, None, 4],
    ["UCB2", 2, 3, 2, "USA", 1919, 3, 1, "TEST CRISIS", 2, 1919, 3, 1, 996, 2, 1, 1, 1, 15,
     None, 3, 1],
]  # fmt: skip


def icb2() -> bytes:
    """icb2v15.csv: UTF-8 BOM, CRLF, no final newline, blanks and -99 as missing."""
    return csv_bytes(ICB2_HEADER, ICB2_ROWS, bom=True, eol="\r\n", final_newline=False)


ICB1_HEADER = [
    "icb1", "crisno", "crisname", "trigent", "yrtrig", "motrig", "datrig", "crismg",
    "mediate", "powdissy", "momedst",
]  # fmt: skip
ICB1_ROWS: list[list[object]] = [
    ["ICB1", 1, "RUSSIA CIVIL WAR I", 200, 1918, 5, 66, 8, 9, -12, -99],
    ["ICB1", 2, "TEST CRISIS", 996, 1919, 3, 1, 1, 1, None, 4],
]


def icb1() -> bytes:
    """icb1v15.csv, same format as icb2."""
    return csv_bytes(ICB1_HEADER, ICB1_ROWS, bom=True, eol="\r\n", final_newline=False)


# --- COW state system ----------------------------------------------------------------

STATES_HEADER = "stateabb,ccode,statenme,styear,stmonth,stday,endyear,endmonth,endday,version"
STATES_ROWS = [
    ["USA", 2, "United States of America", 1816, 1, 1, 2016, 12, 31, 2016],
    ["CAN", 20, "Canada", 1920, 1, 10, 2016, 12, 31, 2016],
    ["UKG", 200, "United Kingdom", 1816, 1, 1, 2016, 12, 31, 2016],
    ["FRN", 220, "France", 1816, 1, 1, 1942, 11, 11, 2016],
    ["FRN", 220, "France", 1944, 8, 25, 2016, 12, 31, 2016],
    ["RUS", 365, "Russia", 1816, 1, 1, 2016, 12, 31, 2016],
]


def states() -> bytes:
    """states2016.csv: ASCII, CRLF, no final newline."""
    return csv_bytes(STATES_HEADER.split(","), STATES_ROWS, eol="\r\n", final_newline=False)


MAJORS_HEADER = "stateabb,ccode,styear,stmonth,stday,endyear,endmonth,endday,version"
MAJORS_ROWS = [
    ["USA", 2, 1898, 8, 13, 2016, 12, 31, 2016],
    ["UKG", 200, 1816, 1, 1, 2016, 12, 31, 2016],
    ["FRN", 220, 1816, 1, 1, 1940, 6, 22, 2016],
    ["FRN", 220, 1945, 8, 15, 2016, 12, 31, 2016],
]


def majors() -> bytes:
    """majors2016.csv."""
    return csv_bytes(MAJORS_HEADER.split(","), MAJORS_ROWS, eol="\r\n", final_newline=False)


SYSTEM_HEADER = "stateabb,ccode,year,version"
SYSTEM_ROWS = [["USA", 2, y, 2016] for y in (1816, 1817, 1818)] + [["UKG", 200, 1816, 2016]]


def system() -> bytes:
    """system2016.csv."""
    return csv_bytes(SYSTEM_HEADER.split(","), SYSTEM_ROWS, eol="\r\n", final_newline=False)


# --- contiguity ----------------------------------------------------------------------

CONTDIRD_HEADER = "dyad,state1no,state1ab,state2no,state2ab,year,conttype,version"
CONTDIRD_ROWS = [
    [2020, 2, '"USA"', 20, '"CAN"', 1920, 1, 3.2],
    [2020, 20, '"CAN"', 2, '"USA"', 1920, 1, 3.2],
    # A type change within 1830 lists the dyad-year twice (as in contdird.csv).
    [210220, 210, '"NTH"', 220, '"FRN"', 1830, 1, 3.2],
    [210220, 210, '"NTH"', 220, '"FRN"', 1830, 5, 3.2],
]


def contdird() -> bytes:
    """contdird.csv: ASCII, LF, quoted abbreviations."""
    return csv_bytes(CONTDIRD_HEADER.split(","), CONTDIRD_ROWS)


CONTDIR_HEADER = "dyad,statelno,statelab,statehno,statehab,conttype,begin,end,notes,version"
CONTDIR_ROWS = [
    [2020, 2, '"USA"', 20, '"CAN"', 1, 192001, 201612, '"Begins with CAN system entry"', 3.2],
    [2031, 2, '"USA"', 31, '"BHM"', 4, 197307, 201612, '"Across Atlantic, begins 1973"', 3.2],
    [200220, 200, '"UKG"', 220, '"FRN"', 2, 181601, 201612, None, 3.2],
]


def contdir() -> bytes:
    """contdir.csv: quoted text, a note containing a comma, a blank note."""
    return csv_bytes(CONTDIR_HEADER.split(","), CONTDIR_ROWS)


def contiguity_zip() -> bytes:
    """DirectContiguity320.zip with both CSVs in their folder."""
    return zip_bytes(
        {
            "DirectContiguity320/contdir.csv": contdir(),
            "DirectContiguity320/contdird.csv": contdird(),
        }
    )


# --- NMC -----------------------------------------------------------------------------

NMC_HEADER = "stateabb,ccode,year,milex,milper,irst,pec,tpop,upop,cinc,version"
NMC_ROWS = [
    ["USA", 2, 1816, 3823, 17, 80, 254, 8659, 101, 0.039697491, 2021],
    ["USA", 2, 1817, -9, 15, 80, 277, 8899, 106, 0.03581661, 2021],
    ["DMA", 54, 1978, 0, 0, 2, 81, 0.5, -9, "3.2678875E-06", 2021],
]


def nmc() -> bytes:
    """NMC-60-abridged.csv: CRLF, -9 missing, scientific notation."""
    return csv_bytes(NMC_HEADER.split(","), NMC_ROWS, eol="\r\n", final_newline=False)


def nmc_zip() -> bytes:
    """The official NMC 6.0 documentation zip: the abridged CSV in a zip inside a zip."""
    inner = zip_bytes({"NMC-60-abridged.csv": nmc()})
    return zip_bytes({"NMC_Documentation-6.0/NMC-60-abridged.zip": inner})


# --- Polity5 -------------------------------------------------------------------------

POLITY_HEADER = (
    "p5,cyear,ccode,scode,country,year,flag,fragment,democ,autoc,polity,polity2,durable,"
    "xrreg,xrcomp,xropen,xconst,parreg,parcomp,exrec,exconst,polcomp,prior,emonth,eday,"
    "eyear,eprec,interim,bmonth,bday,byear,bprec,post,change,d5,sf,regtrans"
).split(",")


def _polity_row(ccode: int, scode: str, country: str, year: int, polity: int, polity2, **kw):
    row: dict[str, object] = dict.fromkeys(POLITY_HEADER)
    democ, autoc = (polity, polity) if polity in (-66, -77, -88) else (max(polity, 0), 0)
    row.update(
        p5=0, cyear=ccode * 10000 + year, ccode=ccode, scode=scode, country=country,
        year=year, flag=0, democ=democ, autoc=autoc, polity=polity, polity2=polity2,
        xrreg=3, xrcomp=2, xropen=4, xconst=7, parreg=5, parcomp=5, exrec=8, exconst=7,
        polcomp=10,
    )  # fmt: skip
    row.update(kw)
    return [row[c] for c in POLITY_HEADER]


POLITY_ROWS = [
    _polity_row(2, "USA", "United States", 1800, 4, 4, durable=9),
    _polity_row(2, "USA", "United States", 1801, 10, 10, durable=10),
    _polity_row(220, "FRN", "France", 1942, -66, None, xrreg=-66, interim=-66),
    _polity_row(220, "FRN", "France", 1944, -88, 3, change=88),
    _polity_row(640, "TUR", "Turkey", 1920, -77, 0),
]


def polity_csv() -> bytes:
    """p5v2018.csv: the spreadsheet 'CSV UTF-8' export (BOM, CRLF, final newline)."""
    return csv_bytes(POLITY_HEADER, POLITY_ROWS, bom=True, eol="\r\n", final_newline=True)


def polity_xls(rows: list[list[object]] | None = None) -> bytes:
    """p5v2018.xls: an Excel 97-2003 workbook with one sheet (written with xlwt)."""
    import pytest

    xlwt = pytest.importorskip("xlwt")  # a test extra; only writes the fixture

    book = xlwt.Workbook()
    sheet = book.add_sheet("p5v2018")
    for j, name in enumerate(POLITY_HEADER):
        sheet.write(0, j, name)
    for i, row in enumerate(POLITY_ROWS if rows is None else rows, start=1):
        for j, value in enumerate(row):
            if value is not None:
                sheet.write(i, j, value)
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


# --- ATOP ----------------------------------------------------------------------------

ATOP_SUBSET_HEADER = "stateA,stateB,year,defense,offense,neutral,nonagg,consul".split(",")
ATOP_ROWS = [
    [2, 20, 1942, 1, 1, 0, 0, 0],
    [20, 2, 1942, 1, 1, 0, 0, 0],
    [2, 200, 1949, 1, 0, 0, 0, 1],
    [200, 2, 1949, 1, 0, 0, 0, 1],
    [2, 220, 1816, 0, 0, 0, 0, 0],
]


def atop_subset() -> bytes:
    """atop5_1ddyr_subset.csv: LF, no BOM, official column names for eight columns."""
    return csv_bytes(ATOP_SUBSET_HEADER, ATOP_ROWS)


ATOP_FULL_HEADER = [
    "stateA", "stateB", "year", "atopally", "defense", "offense", "neutral", "nonagg",
    "consul", "shareob", "version",
]  # fmt: skip


def atop_full() -> bytes:
    """atop5_1ddyr.csv as distributed: further columns beside the subset's."""
    rows = [[*r[:3], int(any(r[3:])), *r[3:], int(any(r[3:5])), 5.1] for r in ATOP_ROWS]
    return csv_bytes(ATOP_FULL_HEADER, rows)


def atop_zip() -> bytes:
    """The official ATOP 5.1 CSV zip."""
    return zip_bytes({"ATOP 5.1 (.csv)/atop5_1ddyr.csv": atop_full()})


# --- layout --------------------------------------------------------------------------

#: relpath -> builder, for the preferred bare-file form of every data set.
PRIMARY = {
    "icb/icb2v15.csv": icb2,
    "icb/icb1v15.csv": icb1,
    "cow/states2016.csv": states,
    "cow/majors2016.csv": majors,
    "cow/system2016.csv": system,
    "cow/contdird.csv": contdird,
    "cow/contdir.csv": contdir,
    "cow/NMC-60-abridged.csv": nmc,
    "polity/p5v2018.csv": polity_csv,
    "atop/atop5_1ddyr_subset.csv": atop_subset,
}

#: key -> relpath of its bare-file form above.
KEY_PATH = {
    "icb_actors": "icb/icb2v15.csv",
    "icb_crises": "icb/icb1v15.csv",
    "cow_states": "cow/states2016.csv",
    "cow_majors": "cow/majors2016.csv",
    "cow_system": "cow/system2016.csv",
    "cow_contig": "cow/contdird.csv",
    "cow_contig_periods": "cow/contdir.csv",
    "cow_nmc": "cow/NMC-60-abridged.csv",
    "polity": "polity/p5v2018.csv",
    "atop_ddyr": "atop/atop5_1ddyr_subset.csv",
}


def write(root: Path, relpath: str, data: bytes) -> Path:
    """Write ``data`` at ``root/relpath`` (creating folders) and return the path."""
    path = root / relpath
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def write_all(root: Path) -> Path:
    """Lay out a complete synthetic data folder (bare-file forms) under ``root``."""
    for rel, build in PRIMARY.items():
        write(root, rel, build())
    return root
