"""Tables 1 and 2 of the paper: descriptive statistics and Spearman correlations.

Table 1 puts the actor level and the dyad-year side by side: binaries as count and
percent of the non-missing rows, Prep as mean and standard deviation; for the dyad-year,
MP and DP are also given for the outcome stage (CRISIS = 1), shown in square brackets.
IC and MT exist at the dyad-year only where CRISIS = 1, so their dyad-year column
describes those rows. Table 2 is the Spearman rank correlation matrix of the actor-level
MP, DP, JD, Prep, Contig, IC and MT.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

__all__ = ["TABLE1_VARIABLES", "TABLE2_VARIABLES", "table1", "table2", "format_table1"]

TABLE1_VARIABLES: tuple[str, ...] = ("mp", "dp", "jd", "prep", "contig", "ic", "mt", "sc")
TABLE2_VARIABLES: tuple[str, ...] = ("mp", "dp", "jd", "prep", "contig", "ic", "mt")
CONTINUOUS: tuple[str, ...] = ("prep",)
LABELS: dict[str, str] = {
    "mp": "MP",
    "dp": "DP",
    "jd": "JD",
    "prep": "Prep",
    "contig": "Contig",
    "ic": "IC",
    "mt": "MT",
    "sc": "SC",
}


def _frame(x: Any) -> pd.DataFrame:
    # Accept a BuildResult as well as a DataFrame.
    return x.data if hasattr(x, "data") and isinstance(x.data, pd.DataFrame) else x


def _describe(s: pd.Series, var: str) -> dict[str, float]:
    v = pd.to_numeric(s, errors="coerce").astype("float64").dropna()
    n = len(v)
    if var in CONTINUOUS:
        return {
            "n": n,
            "count": np.nan,
            "percent": np.nan,
            "mean": float(v.mean()) if n else np.nan,
            "sd": float(v.std(ddof=1)) if n > 1 else np.nan,
        }
    bad = ~v.isin([0.0, 1.0])
    if bad.any():
        raise ValueError(f"Table 1: {var} is not binary (value {v[bad].iloc[0]!r})")
    count = float(v.sum())
    return {
        "n": n,
        "count": count,
        "percent": 100.0 * count / n if n else np.nan,
        "mean": np.nan,
        "sd": np.nan,
    }


def table1(actor: Any, dyad: Any, *, formatted: bool = False) -> pd.DataFrame:
    """Descriptive statistics (the paper's Table 1) of the actor-level and dyad-year data.

    Returns one row per variable (MP, DP, JD, Prep, Contig, IC, MT, SC) with numeric
    columns ``actor_n, actor_count, actor_percent, actor_mean, actor_sd``, the same with
    prefix ``dyad_``, and ``crisis_n, crisis_count, crisis_percent`` (dyad-years with
    CRISIS = 1; filled for MP and DP). A variable absent from a data set gives NaN there.
    ``formatted=True`` returns the printable version (:func:`format_table1`).
    """
    a, d = _frame(actor), _frame(dyad)
    rows = []
    crisis_rows = d[pd.to_numeric(d["crisis"], errors="coerce") == 1] if "crisis" in d else None
    empty = {"n": np.nan, "count": np.nan, "percent": np.nan, "mean": np.nan, "sd": np.nan}
    for var in TABLE1_VARIABLES:
        row: dict[str, Any] = {"variable": LABELS[var]}
        # SC is a selection-stage (dyad-year) variable only.
        stats_a = _describe(a[var], var) if var in a and var != "sc" else empty
        stats_d = _describe(d[var], var) if var in d else empty
        row.update({f"actor_{k}": v for k, v in stats_a.items()})
        row.update({f"dyad_{k}": v for k, v in stats_d.items()})
        if var in ("mp", "dp") and crisis_rows is not None:
            c = _describe(crisis_rows[var], var)
            row.update(
                {"crisis_n": c["n"], "crisis_count": c["count"], "crisis_percent": c["percent"]}
            )
        else:
            row.update({"crisis_n": np.nan, "crisis_count": np.nan, "crisis_percent": np.nan})
        rows.append(row)
    out = pd.DataFrame(rows).set_index("variable")
    return format_table1(out) if formatted else out


def _cell(prefix: str, row: pd.Series, continuous: bool) -> str:
    if continuous:
        m, s = row[f"{prefix}_mean"], row[f"{prefix}_sd"]
        return "" if pd.isna(m) else f"{m:.3f} ({s:.3f})"
    c, p = row[f"{prefix}_count"], row[f"{prefix}_percent"]
    return "" if pd.isna(c) else f"{int(c):,} ({p:.1f}%)"


def format_table1(t1: pd.DataFrame) -> pd.DataFrame:
    """Printable Table 1: 'count (percent%)' for binaries, 'mean (sd)' for Prep, and the
    CRISIS = 1 figures for MP and DP in square brackets after the dyad-year cell."""
    out = []
    for var, row in t1.iterrows():
        cont = str(var).lower() in CONTINUOUS
        dyad = _cell("dyad", row, cont)
        if not pd.isna(row.get("crisis_count", np.nan)):
            dyad += f" [{int(row['crisis_count']):,} ({row['crisis_percent']:.1f}%)]"
        out.append({"variable": var, "Actor level": _cell("actor", row, cont), "Dyad-year": dyad})
    res = pd.DataFrame(out).set_index("variable")
    n_a = t1["actor_n"].max()
    n_d = t1["dyad_n"].max()
    res.loc["N"] = [
        "" if pd.isna(n_a) else f"{int(n_a):,}",
        "" if pd.isna(n_d) else f"{int(n_d):,}",
    ]
    return res


def table2(actor: Any, *, missing: str = "listwise") -> pd.DataFrame:
    """Spearman rank correlations of the actor-level MP, DP, JD, Prep, Contig, IC, MT
    (the paper's Table 2), rounded to 3 decimals.

    ``missing="listwise"`` (default) uses the rows complete in all seven variables (the
    estimation sample); ``"pairwise"`` uses every complete pair.
    """
    a = _frame(actor)
    cols = list(TABLE2_VARIABLES)
    x = a[cols].apply(pd.to_numeric, errors="coerce").astype("float64")
    if missing == "listwise":
        x = x.dropna()
    elif missing != "pairwise":
        raise ValueError(f"table2 missing={missing!r}: expected 'listwise' or 'pairwise'")
    corr = x.corr(method="spearman")
    corr.index = [LABELS[c] for c in cols]
    corr.columns = [LABELS[c] for c in cols]
    return corr.round(3)
