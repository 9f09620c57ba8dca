"""``restraint replicate`` end to end on the real raw data (CI has it).

One run writes every output; the tables must agree with results.json, Table 5 with the
A1/A2 fits, and a second run must give identical bytes (report.html and timings.json
aside, which carry timestamps and timings). The runs use the published selection stage:
the crossed one (adaptive quadrature over ~7,000 dyad effects, four times: all years and
three periods) takes minutes, so it runs here only with ``RESTRAINT_STUDY_SELECTION=both``;
the fixture tests cover the runner's two-variant path.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from restraint.study.runner import replicate
from restraint.study.spec import load_spec

from .consistency import (
    assert_outputs_present,
    assert_predictions_follow_fits,
    assert_tables_match_results,
)

pytestmark = [pytest.mark.realdata, pytest.mark.slow]

SELECTION = os.environ.get("RESTRAINT_STUDY_SELECTION", "published")
BOTH = SELECTION == "both"


@pytest.fixture(scope="module")
def real_run(raw_dir: Path, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("real") / "replication"
    replicate(out=out, data_dir=raw_dir, selection=SELECTION, progress=False)
    return out


def test_every_output_present(real_run: Path) -> None:
    assert_outputs_present(real_run)


def test_tables_equal_results_json(real_run: Path) -> None:
    assert assert_tables_match_results(real_run, load_spec()) > (400 if BOTH else 250)


def test_data_counts_and_keys(real_run: Path) -> None:
    res = json.loads((real_run / "results.json").read_text())
    d = res["data"]
    assert d["actor_level_rows"] == 792  # the paper's count (membership rule "ever")
    assert 160_000 <= d["dyad_year_rows"] <= 180_000  # paper: 169,916
    assert 600 <= d["crisis_dyad_years"] <= 700  # paper: 651
    ids = {"m1", "m2", "m3", "m4", "m5", "m6", "m7", "m8", "m9", "a1", "a2", "sel"}
    assert ids <= set(res["models"])
    sel = res["models"]["sel"]
    assert set(sel["sigma"]) == {"directed_dyad"}
    assert sel["sigma_test"]["p"] < 0.01  # the dyad effect is clearly there
    if BOTH:
        assert {"m5", "m6", "m7", "m8", "m9", "a2"} <= set(res["models_crossed"])
        assert set(res["models"]["sel_crossed"]["sigma"]) == {"directed_dyad", "year"}
    for group in ("models", "models_crossed") if BOTH else ("models",):
        for mid, rec in res[group].items():
            assert rec["nobs"] > 0 and rec["llf"] < 0, (group, mid)
            assert set(rec["params"]) == set(rec["bse"]) == set(rec["pvalues"])
    assert set(res["agreement"]) == ({"published", "crossed"} if BOTH else {"published"})


def test_table5_follows_the_fits(real_run: Path) -> None:
    res = json.loads((real_run / "results.json").read_text())
    factors = {"jd": "", "contig": "", "ic": "", "mt": ""}
    assert_predictions_follow_fits(res, "table5", "models", "a1", factors)
    assert_predictions_follow_fits(res, "table5", "models", "a2", factors)
    if BOTH:
        assert_predictions_follow_fits(res, "table5_crossed", "models_crossed", "a2", factors)


def test_second_run_is_byte_identical(real_run: Path, raw_dir: Path, tmp_path: Path) -> None:
    again = tmp_path / "again"
    replicate(out=again, data_dir=raw_dir, selection=SELECTION, progress=False)
    names = sorted(p.name for p in real_run.iterdir())
    assert names == sorted(p.name for p in again.iterdir())
    for name in names:
        if name in ("report.html", "timings.json"):
            continue
        assert (real_run / name).read_bytes() == (again / name).read_bytes(), name
