"""Checks shared by the fixture and real-data end-to-end tests: every output is there and
every number shown in a table equals the one in results.json."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import numpy as np
from scipy import stats

from restraint.study.spec import StudySpec

TABLES = ("table1", "table2", "table3", "table4", "table5", "table6", "tableA1")
FORMATS = ("md", "tex", "html", "csv")
STAR_LEVELS = ((0.01, "***"), (0.05, "**"), (0.1, "*"))


def assert_outputs_present(out: Path) -> None:
    """Every table in every format, the figure, results.json, report.html, timings.json."""
    names = {p.name for p in out.iterdir()}
    expected = {f"{t}.{f}" for t in TABLES for f in FORMATS}
    expected |= {"figure1.png", "figure1.pdf", "results.json", "report.html", "timings.json"}
    assert expected <= names, sorted(expected - names)
    for name in expected:
        assert (out / name).stat().st_size > 0, name
    assert (out / "figure1.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (out / "figure1.pdf").read_bytes()[:5] == b"%PDF-"
    assert not [p for p in out.parent.iterdir() if p.name.startswith(f".{out.name}.")]


def _read_csv(path: Path) -> list[list[str]]:
    with path.open(newline="") as fh:
        return list(csv.reader(fh))


def _value(cell: str) -> float:
    return float(re.sub(r"[*()%]", "", cell))


def _stars(cell: str) -> str:
    return re.sub(r"[^*]", "", cell)


def _expected_stars(p: float) -> str:
    for level, mark in STAR_LEVELS:
        if p < level:
            return mark
    return ""


def assert_tables_match_results(out: Path, spec: StudySpec) -> int:
    """Compare every coefficient, SE, CI, σ, N, log-likelihood, AIC and prediction shown in
    the CSV tables with results.json; returns the number of cells compared."""
    res = json.loads((out / "results.json").read_text())
    checked = 0
    for tid, layout in res["tables"].items():
        rows = _read_csv(out / f"{tid}.csv")
        header = rows[0]
        assert header[1:] == [c["header"] for c in layout["columns"]], tid
        for j, col in enumerate(layout["columns"], start=1):
            if col["group"].startswith("table5"):
                checked += _check_prediction_column(
                    rows, j, res[col["group"]][col["key"]], col["header"]
                )
                continue
            model = res[col["group"]][col["key"]]
            by_label: dict[str, int] = {}
            for i, r in enumerate(rows):
                by_label.setdefault(r[0], i)
            for term, coef in model["params"].items():
                if coef is None:
                    continue
                i = by_label[spec.label(term)]
                cell, se_cell = rows[i][j], rows[i + 1][j]
                assert abs(_value(cell) - coef) <= 5e-4 + 1e-9, (tid, col, term, cell, coef)
                assert _stars(cell) == _expected_stars(model["pvalues"][term]), (tid, term)
                se = model["bse"][term]
                assert abs(_value(se_cell) - se) <= 5e-4 + 1e-9, (tid, col, term, se_cell)
                checked += 2
                if f"{spec.label(term)} 95% CI" in by_label:
                    ci = rows[by_label[f"{spec.label(term)} 95% CI"]][j]
                    lo, hi = (float(x) for x in ci.strip("[]").split(","))
                    assert abs(lo - model["ci95"][term][0]) <= 5e-4 + 1e-9
                    assert abs(hi - model["ci95"][term][1]) <= 5e-4 + 1e-9
                    checked += 1
            for g, s in (model.get("sigma") or {}).items():
                cell = rows[by_label[f"σ ({g})"]][j]
                assert abs(_value(cell) - s) <= 5e-4 + 1e-9, (tid, g)
                checked += 1
            stat_rows = {r[0]: r[j] for r in rows}
            assert int(stat_rows["N"]) == model["nobs"]
            assert abs(float(stat_rows["Log-likelihood"]) - model["llf"]) <= 5e-3 + 1e-9
            assert abs(float(stat_rows["AIC"]) - model["aic"]) <= 5e-3 + 1e-9
            if model["prsquared"] is not None:
                assert abs(float(stat_rows["McFadden R²"]) - model["prsquared"]) <= 5e-4
            checked += 3
    return checked


def _check_prediction_column(rows: list[list[str]], j: int, pred: dict, header: str) -> int:
    n = len(pred["pred"])
    body = rows[1 : 1 + n]
    n_checked = 0
    for k, r in enumerate(body):
        if header.endswith("CI"):
            lo, hi = (float(x) for x in r[j].strip("[]").split(","))
            assert abs(lo - pred["low"][k]) <= 5e-4 + 1e-9
            assert abs(hi - pred["high"][k]) <= 5e-4 + 1e-9
        else:
            assert abs(float(r[j]) - pred["pred"][k]) <= 5e-4 + 1e-9
        n_checked += 1
    if not header.endswith("CI"):
        changes = [r for r in rows[1 + n :] if r[0].startswith("Change")]
        for r, (_name, value) in zip(changes, pred["rel_change"].items(), strict=True):
            assert abs(float(r[j]) - value) <= 5e-3 + 1e-9
            n_checked += 1
    return n_checked


def assert_predictions_follow_fits(
    res: dict, group: str, model_group: str, mid: str, names_map: dict[str, str]
) -> None:
    """Table 5 recomputed from the model's coefficients at the reported profile.

    The profile (values of the other regressors) comes from results.json; the probability
    is Φ(x'β) with β from the model's entry, independently of the runner's code.
    """
    pred = res[group][mid]
    params = res[model_group][mid]["params"]
    for k, level in enumerate(pred["levels"]):
        x = {"Intercept": 1.0}
        for col, val in pred["profile"].items():
            if col in names_map:  # factor: dummy of its level
                x[f"{col}_{int(val)}"] = 1.0
            else:
                x[col] = float(val)
        if level != 0:
            x[f"{pred['over']}_{level}"] = 1.0
        eta = sum(params.get(t, 0.0) * v for t, v in x.items() if t in params)
        assert np.isclose(stats.norm.cdf(eta), pred["pred"][k], atol=1e-10), (mid, level)
        assert pred["low"][k] < pred["pred"][k] < pred["high"][k]
    p = pred["pred"]
    assert np.isclose(pred["rel_change"]["dp"], (p[1] - p[0]) / p[0] * 100)
    assert np.isclose(pred["rel_change"]["mp"], (p[2] - p[1]) / p[1] * 100)
