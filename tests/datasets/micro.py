"""A hand-made micro world of source tables (same columns as :mod:`restraint.sources`).

States (COW codes): 2 USA (major 1898-), 200 UKG (major), 220 FRN (major 1816-1940 and
1945-), 255 GMY (member 1816-1945 and 1990-; a state that leaves and re-enters), 325 ITA,
640 TUR, 651 EGY (enters 1937), 666 ISR (enters 1948). Years 1935-1950.
"""

from __future__ import annotations

import pandas as pd

YEARS = (1935, 1950)


def _i(df: pd.DataFrame) -> pd.DataFrame:
    for c in df.columns:
        s = df[c]
        is_num = pd.api.types.is_integer_dtype(s) or pd.api.types.is_float_dtype(s)
        if is_num and (s.dropna() % 1 == 0).all():
            df[c] = s.astype("Int64")
    return df


def states() -> pd.DataFrame:
    rows = [
        ("USA", 2, 1816, 1, 1, 2016, 12, 31),
        ("UKG", 200, 1816, 1, 1, 2016, 12, 31),
        ("FRN", 220, 1816, 1, 1, 1942, 11, 11),
        ("FRN", 220, 1944, 8, 25, 2016, 12, 31),
        ("GMY", 255, 1816, 1, 1, 1945, 5, 8),
        ("GMY", 255, 1990, 10, 3, 2016, 12, 31),
        ("ITA", 325, 1816, 1, 1, 2016, 12, 31),
        ("TUR", 640, 1816, 1, 1, 2016, 12, 31),
        ("EGY", 651, 1937, 5, 26, 2016, 12, 31),
        ("ISR", 666, 1948, 5, 14, 2016, 12, 31),
    ]
    cols = ["stateabb", "ccode", "styear", "stmonth", "stday", "endyear", "endmonth", "endday"]
    df = pd.DataFrame(rows, columns=cols)
    df["statenme"] = df["stateabb"]
    df["version"] = 2016
    return _i(df)


def system() -> pd.DataFrame:
    s = states()
    rows = [
        (r.stateabb, int(r.ccode), y)
        for r in s.itertuples()
        for y in range(int(r.styear), int(r.endyear) + 1)
    ]
    df = pd.DataFrame(rows, columns=["stateabb", "ccode", "year"]).drop_duplicates()
    df["version"] = 2016
    return _i(df.reset_index(drop=True))


def majors() -> pd.DataFrame:
    rows = [
        ("USA", 2, 1898, 8, 13, 2016, 12, 31),
        ("UKG", 200, 1816, 1, 1, 2016, 12, 31),
        ("FRN", 220, 1816, 1, 1, 1940, 6, 22),
        ("FRN", 220, 1945, 8, 15, 2016, 12, 31),
    ]
    cols = ["stateabb", "ccode", "styear", "stmonth", "stday", "endyear", "endmonth", "endday"]
    df = pd.DataFrame(rows, columns=cols)
    df["version"] = 2016
    return _i(df)


def contdird() -> pd.DataFrame:
    """TUR-EGY: type 4 until 1940, type changes within 1941 (4 and 2 listed), 2 after.
    GMY-FRN land border. ITA-TUR recorded in one direction only (tests symmetry)."""
    rows = []
    for y in range(1937, 1951):
        types = [4] if y <= 1940 else ([4, 2] if y == 1941 else [2])
        for t in types:
            rows.append((640651, 640, "TUR", 651, "EGY", y, t))
            rows.append((640651, 651, "EGY", 640, "TUR", y, t))
    for y in range(1935, 1946):
        rows.append((220255, 220, "FRN", 255, "GMY", y, 1))
        rows.append((220255, 255, "GMY", 220, "FRN", y, 1))
    for y in range(1935, 1951):
        rows.append((325640, 325, "ITA", 640, "TUR", y, 5))
    cols = ["dyad", "state1no", "state1ab", "state2no", "state2ab", "year", "conttype"]
    df = pd.DataFrame(rows, columns=cols)
    df["version"] = 3.2
    return _i(df)


def contdir() -> pd.DataFrame:
    """The same relationships as master-file periods (YYYYMM)."""
    rows = [
        (640651, 640, "TUR", 651, "EGY", 4, 193705, 194106),
        (640651, 640, "TUR", 651, "EGY", 2, 194107, 201612),
        (220255, 220, "FRN", 255, "GMY", 1, 181601, 194505),
        (325640, 325, "ITA", 640, "TUR", 5, 181601, 201612),
    ]
    cols = ["dyad", "statelno", "statelab", "statehno", "statehab", "conttype", "begin", "end"]
    df = pd.DataFrame(rows, columns=cols)
    df["notes"] = ""
    df["version"] = 3.2
    return _i(df)


def nmc() -> pd.DataFrame:
    """CINC for every member-year, except EGY 1940 (missing, -9 -> NA)."""
    sy = system()
    sy = sy[(sy["year"] >= 1930) & (sy["year"] <= 2016)]
    base = {2: 0.2, 200: 0.1, 220: 0.05, 255: 0.1, 325: 0.04, 640: 0.01, 651: 0.005, 666: 0.002}
    df = sy[["stateabb", "ccode", "year"]].copy()
    df["cinc"] = [base[int(c)] for c in df["ccode"]]
    df["cinc"] = df["cinc"].astype("Float64")
    df.loc[(df["ccode"] == 651) & (df["year"] == 1940), "cinc"] = pd.NA
    df["version"] = 2021
    return df.reset_index(drop=True)


def polity() -> pd.DataFrame:
    """USA/UKG 10, FRN 8, GMY -9, ITA -9, TUR -1, EGY 7, ISR missing (absent)."""
    val = {2: 10, 200: 10, 220: 8, 255: -9, 325: -9, 640: -1, 651: 7}
    rows = [(c, y, v) for c, v in val.items() for y in range(1900, 2019)]
    df = pd.DataFrame(rows, columns=["ccode", "year", "polity2"])
    return _i(df)


def atop() -> pd.DataFrame:
    """USA promises to defend TUR from 1947 (one-sided: TUR row has no defense);
    UKG-FRN mutual defense; UKG-EGY consultation only; ATOP covers 1815-1948 here."""
    rows = []
    for y in range(1947, 1949):
        rows.append((2, 640, y, 1, 0, 0, 0, 0))
        rows.append((640, 2, y, 0, 0, 0, 0, 0))
    for y in range(1935, 1949):
        rows.append((200, 220, y, 1, 0, 0, 0, 1))
        rows.append((220, 200, y, 1, 0, 0, 0, 1))
    for y in range(1937, 1949):
        rows.append((200, 651, y, 0, 0, 0, 0, 1))
        rows.append((651, 200, y, 0, 0, 0, 0, 1))
    rows.append((325, 255, 1815, 0, 0, 0, 1, 0))  # sets the first covered year
    cols = ["statea", "stateb", "year", "defense", "offense", "neutral", "nonagg", "consul"]
    return _i(pd.DataFrame(rows, columns=cols))


def icb() -> pd.DataFrame:
    """Crisis actors: see each row's comment."""
    cols = [
        "crisno", "cracno", "cracid", "actor", "yrtrig", "motrig", "datrig", "trigent",
        "triggr", "crismg", "econdt", "gvinst",
    ]  # fmt: skip
    rows = [
        (1, 1, 640, "TUR", 1941, 3, 10, 651, 9, 7, 1, 2),  # TUR<-EGY 1941, contiguous
        (2, 2, 640, "TUR", 1941, 2, 1, 651, 2, 1, 2, 2),  # same dyad-year, earlier date
        (3, 3, 651, "EGY", 1941, 5, 66, 640, 7, 8, None, 2),  # EGY<-TUR, unknown day
        (4, 4, 220, "FRN", 1943, 1, 5, 255, 9, 6, 2, 1),  # FRN out of system in 1943
        (5, 5, 666, "ISR", 1947, 1, 1, 651, 9, 8, 2, 2),  # ISR not yet a member
        (6, 6, 325, "ITA", 1936, 6, 1, 996, 4, 1, 2, 2),  # non-state trigger
        (7, 7, 325, "ITA", 1939, 6, 1, 640, 9, 9, 2, 2),  # ITA-TUR: not relevant; crismg 9
        (8, 8, 2, "USA", 1946, 7, 4, 640, 1, 4, 3, 3),  # USA major: relevant
        (9, 9, 640, "TUR", 1934, 1, 1, 200, 9, 8, 2, 2),  # before the years
        (10, 10, 999, "XXX", 1946, 1, 1, 2, 9, 8, 2, 2),  # never a COW state
    ]
    return _i(pd.DataFrame(rows, columns=cols))


def tables() -> dict[str, pd.DataFrame]:
    """All micro source tables, keyed as :class:`restraint.datasets.SourceTables`."""
    return {
        "icb_actors": icb(),
        "states": states(),
        "majors": majors(),
        "system": system(),
        "contiguity": contdird(),
        "contiguity_periods": contdir(),
        "nmc": nmc(),
        "polity": polity(),
        "atop": atop(),
    }
