"""Table formatting: numbers, stars, term names, layouts and the four renderings."""

from __future__ import annotations

import csv
import io
import re

import pytest

from restraint.study.spec import load_spec
from restraint.study.tables import (
    Column,
    ci_cell,
    clean_term,
    coefficient_table,
    num,
    se_cell,
    stars,
)

from .helpers import make_fit, se_for_p


@pytest.mark.parametrize(
    ("p", "mark"),
    [
        (0.0001, "***"),
        (0.0099, "***"),
        (0.01, "**"),
        (0.049, "**"),
        (0.05, "*"),
        (0.0999, "*"),
        (0.1, ""),
        (0.7, ""),
        (float("nan"), ""),
        (None, ""),
    ],
)
def test_stars(p: float | None, mark: str) -> None:
    assert stars(p) == mark


def test_number_cells() -> None:
    assert num(-0.0004) == "0.000"  # no negative zero
    assert num(-0.0006) == "-0.001"
    assert num(1234.5678, 2) == "1234.57"
    assert num(float("nan")) == "" and num(None) == ""
    assert se_cell(0.1234) == "(0.123)"
    assert ci_cell(-0.5, 0.25) == "[-0.500, 0.250]"


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("C(dpmp)[T.1]", "dpmp_1"),
        ("C(dpmp, Treatment(0))[T.2]", "dpmp_2"),
        ("C(jd)[T.1.0]", "jd_1"),
        ("(Intercept)", "Intercept"),
        ("Intercept", "Intercept"),
        ("mp", "mp"),
        ("imr", "imr"),
    ],
)
def test_clean_term(raw: str, clean: str) -> None:
    assert clean_term(raw) == clean


@pytest.fixture
def table():
    spec = load_spec()
    f1 = make_fit(
        "m1", {"Intercept": (0.5, 0.2), "dp": (-0.2, se_for_p(-0.2, 0.03))}, label="Model 1"
    )
    f2 = make_fit(
        "m2",
        {
            "Intercept": (0.1, 0.2),
            "mp": (-0.3, se_for_p(-0.3, 0.005)),
            "prep": (0.4, se_for_p(0.4, 0.5)),
        },
        label="Model 2",
        llf=-90.0,
    )
    sel = make_fit(
        "sel",
        {"Intercept": (-3.0, 0.1), "sc": (-0.2, 0.05)},
        kind="selection",
        label="Selection",
        llf_null=None,
        sigma={"directed_dyad": (0.7, 0.035)},
    )
    sel.sigma_test = {"lr": 12.345, "df": 1, "p": 0.0002, "llf_pooled": -1.0}
    cols = [Column("Model 1", f1), Column("Model 2", f2), Column("Selection", sel)]
    return coefficient_table(spec, "t", "Title & more", cols, ci_terms=["mp"], notes=["* note"])


def test_coefficient_table_layout(table) -> None:
    labels = [r.label for r in table.rows]
    # spec order (MP before DP before Prep before SC), constant last, SE row under each
    assert labels[:2] == ["MP", ""]
    assert labels.index("MP 90% CI") == 2 and labels.index("MP 95% CI") == 3
    assert labels.index("DP") < labels.index("Prep") < labels.index("SC")
    assert labels.index("Constant") > labels.index("SC")
    mp = table.column("Model 2")["MP"][0]
    assert mp == "-0.300***"
    assert table.column("Model 1")["MP"][0] == ""
    assert table.column("Model 1")["DP"][0] == "-0.200**"
    assert table.column("Model 2")["Prep"][0] == "0.400"
    assert table.column("Model 2")["MP 95% CI"][0].startswith("[-0.")
    assert table.column("Selection")["σ (directed_dyad)"][0] == "0.700***"
    assert table.column("Selection")["LR test σ = 0 (χ̄²)"][0] == "12.35 (p < 0.001)"
    stats = {r.label: r.cells for r in table.rows if r.kind == "stat"}
    assert stats["N"] == ["500", "500", "500"]
    assert stats["Log-likelihood"] == ["-100.00", "-90.00", "-100.00"]
    assert stats["McFadden R²"] == ["0.167", "0.250", ""]
    assert stats["AIC"][0] == "204.00"  # -2(-100) + 2*2
    assert table.sources == [("models", "m1"), ("models", "m2"), ("models", "sel")]


def test_renderings_are_consistent(table) -> None:
    md = table.to_markdown()
    assert md.startswith("**Title & more**")
    body = [ln for ln in md.splitlines() if ln.startswith("|")]
    assert len(body) == len(table.rows) + 2
    assert all(ln.count("|") == len(table.header) + 1 for ln in body)
    assert "\\* note" in md  # a note starting with * is not a list item

    rows = list(csv.reader(io.StringIO(table.to_csv())))
    assert rows[0] == table.header
    assert [r[0] for r in rows[1:]] == [r.label for r in table.rows]

    tex = table.to_latex()
    assert "\\caption{Title \\& more}" in tex
    assert "\\begin{tabular}{lccc}" in tex
    assert "MP 90\\% CI" in tex and "$\\sigma$ (directed\\_dyad)" in tex
    data_lines = [ln for ln in tex.splitlines() if ln.endswith("\\\\")]
    assert len(data_lines) == len(table.rows) + 1
    assert all(ln.count(" & ") == len(table.header) - 1 for ln in data_lines)

    html = table.to_html()
    assert html.count("<tr") == len(table.rows) + 2  # header row and notes row
    assert "Title &amp; more" in html and 'id="t"' in html
    page = table.to_html(standalone=True)
    assert page.startswith("<!DOCTYPE html>") and "<style>" in page
    assert re.search(r"<td>-0\.300\*\*\*</td>", html)
