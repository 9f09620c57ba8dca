"""The runner end to end on the reference fixtures (stand-in backend, see conftest).

With the full-sample selection stages set to the reference estimates, the outcome models,
IMR and predictions must reproduce R's numbers; every output must be present, agree with
results.json, and be byte-identical between runs (except report.html and timings.json).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from restraint.study.runner import replicate
from restraint.study.spec import load_spec

from .conftest import FixtureBackend, reference
from .consistency import (
    assert_outputs_present,
    assert_predictions_follow_fits,
    assert_tables_match_results,
)


@pytest.fixture(scope="module")
def written(fixture_run, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("rep") / "out"
    fixture_run.write(out)
    return out


def fixture_backend_data():
    return FixtureBackend().build(None).dyad


def _r_names(names: list[str]) -> list[str]:
    return ["Intercept" if n == "(Intercept)" else n for n in names]


@pytest.mark.parametrize("mid", ["m1", "m2", "m3", "m4", "m5", "m6"])
def test_outcome_models_match_r(fixture_run, mid: str) -> None:
    ref = reference()[mid]
    rec = fixture_run.results["models"][mid]
    names = _r_names(ref["names"])
    assert list(rec["params"]) == names if mid != "m5" else set(rec["params"]) == set(names)
    # R's glm stops at a deviance tolerance of 1e-8, short of the optimum by a tiny fraction
    # of a standard error (more in absolute terms where the IMR makes the constant weak).
    diff = np.abs(np.array([rec["params"][n] for n in names]) - ref["coef"])
    assert np.all(diff <= 1e-4 * np.array(ref["se"])), diff
    np.testing.assert_allclose([rec["bse"][n] for n in names], ref["se"], rtol=1e-4)
    assert rec["nobs"] == ref["nobs"]
    assert rec["llf"] == pytest.approx(ref["loglik"], abs=1e-6)
    assert rec["aic"] == pytest.approx(ref["aic"], abs=1e-5)
    assert rec["prsquared"] == pytest.approx(ref["mcfadden"], abs=1e-8)


@pytest.mark.parametrize("mid", ["a1", "a2"])
def test_categorical_models_and_predictions_match_r(fixture_run, mid: str) -> None:
    ref = reference()[mid]
    rec = fixture_run.results["models"][mid]
    # R used polynomial contrasts for dp_mp; fits and the other terms are identical.
    assert rec["llf"] == pytest.approx(ref["loglik"], abs=1e-6)
    assert set(rec["params"]) >= {"dpmp_1", "dpmp_2", "jd_1", "contig_1", "ic_1", "mt_1", "prep"}
    k = ref["names"].index("jd1")
    assert abs(rec["params"]["jd_1"] - ref["coef"][k]) <= 1e-4 * ref["se"][k]
    pred = fixture_run.results["table5"][mid]
    np.testing.assert_allclose(pred["pred"], ref["pred"], atol=5e-6)
    np.testing.assert_allclose(pred["low"], ref["low"], atol=5e-6)
    np.testing.assert_allclose(pred["high"], ref["high"], atol=5e-6)
    np.testing.assert_allclose(
        [pred["rel_change"]["dp"], pred["rel_change"]["mp"]], ref["rel_change"], atol=1e-3
    )
    assert pred["cov"] == "ML" and pred["profile"]["jd"] == 0


def test_imr_is_from_the_selection_fixed_part(fixture_run) -> None:
    # m5's IMR coefficient can only match R if the IMR column does: check it directly too.
    fit = fixture_run.fits.get("m5", "published")
    assert fit.selection_key == "sel"
    ref = reference()
    from restraint.models import inverse_mills_ratio
    from restraint.study.backend import fixed_xb

    sel = fixture_run.fits.selection[("published", "")]
    frame = fixture_backend_data()
    imr = inverse_mills_ratio(fixed_xb(sel.result, sel.formula, frame))
    np.testing.assert_allclose(imr[:5], ref["imr_summary"]["first5"], rtol=1e-9)
    assert imr.mean() == pytest.approx(ref["imr_summary"]["mean"], rel=1e-9)


def test_predictions_follow_the_fits(fixture_run) -> None:
    res = json.loads(json.dumps(fixture_run.results))
    factors = {"jd": "", "contig": "", "ic": "", "mt": ""}
    assert_predictions_follow_fits(res, "table5", "models", "a1", factors)
    assert_predictions_follow_fits(res, "table5", "models", "a2", factors)
    assert_predictions_follow_fits(res, "table5_crossed", "models_crossed", "a2", factors)


def test_selection_stages_fit_once_each(fixture_run, fixture_backend) -> None:
    sel_calls = [c for c in fixture_backend.calls if c[0].startswith("selection:")]
    # two variants x (full sample + three periods), shared by m5, m6, a2 / m7, m8, m9
    assert len(sel_calls) == 8
    assert len(set(sel_calls)) == 8


def test_results_json_keys(fixture_run) -> None:
    res = fixture_run.results
    assert set(res["data"]) == {"actor_level_rows", "dyad_year_rows", "crisis_dyad_years"}
    assert res["data"]["actor_level_rows"] == 779
    assert res["data"]["crisis_dyad_years"] == 671
    ids = {"m1", "m2", "m3", "m4", "m5", "m6", "m7", "m8", "m9", "a1", "a2", "sel", "sel_crossed"}
    assert ids <= set(res["models"])
    assert {"m5", "m6", "m7", "m8", "m9", "a2"} == set(res["models_crossed"])
    for rec in res["models"].values():
        assert set(rec) >= {"params", "bse", "pvalues", "nobs", "llf"}
        assert list(rec["params"]) == list(rec["bse"]) == list(rec["pvalues"])
    assert res["models"]["sel"]["sigma"]["directed_dyad"] == pytest.approx(0.70093449886)
    assert set(res["models"]["sel_crossed"]["sigma"]) == {"directed_dyad", "year"}
    assert res["models"]["sel"]["sigma_test"]["p"] < 0.001
    assert set(res["table5"]["a1"]) >= {"pred", "low", "high", "rel_change"}
    assert len(res["agreement"]["published"]) == len(load_spec().claims)
    assert res["changes"], "with both variants the report says what changes"


def test_outputs_present_and_consistent(written: Path) -> None:
    assert_outputs_present(written)
    assert assert_tables_match_results(written, load_spec()) > 300


def test_two_runs_are_byte_identical(written: Path, tmp_path: Path) -> None:
    again = replicate(
        out=tmp_path / "again", selection="both", progress=False, backend=FixtureBackend()
    )
    assert again.out == (tmp_path / "again").resolve()
    compared = 0
    for p in sorted(written.iterdir()):
        if p.name in ("report.html", "timings.json"):
            continue
        assert p.read_bytes() == (tmp_path / "again" / p.name).read_bytes(), p.name
        compared += 1
    assert compared >= 31
    # The report differs only inside its provenance section.
    a = (written / "report.html").read_text().split('<h2 id="provenance">')[0]
    b = (tmp_path / "again" / "report.html").read_text().split('<h2 id="provenance">')[0]
    assert a == b


def test_failed_write_leaves_no_output(fixture_run, tmp_path: Path, monkeypatch) -> None:
    target = tmp_path / "out"

    def boom(self):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(type(fixture_run), "files", boom)
    with pytest.raises(RuntimeError, match="disk on fire"):
        fixture_run.write(target)
    assert list(tmp_path.iterdir()) == []


def test_rewrite_replaces_previous_output(fixture_run, tmp_path: Path) -> None:
    target = tmp_path / "out"
    target.mkdir()
    (target / "results.json").write_text("{}")
    (target / "stale.txt").write_text("old")
    fixture_run.write(target)
    assert not (target / "stale.txt").exists()
    assert json.loads((target / "results.json").read_text())["data"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_refuses_to_replace_a_foreign_folder(fixture_run, tmp_path: Path) -> None:
    (tmp_path / "thesis.tex").write_text("precious")
    from restraint.errors import RestraintError

    with pytest.raises(RestraintError, match="refusing to replace"):
        fixture_run.write(tmp_path)
    assert (tmp_path / "thesis.tex").read_text() == "precious"


def test_repr_and_html(fixture_run) -> None:
    text = repr(fixture_run)
    assert "actor-level rows 779" in text and "Model 5 [crossed]" in text
    assert "claims:" in text
    page = fixture_run._repr_html_()
    assert "<table" in page and "data:image/png;base64," in page


def test_crossed_only_run() -> None:
    crossed = replicate(selection="crossed", progress=False, backend=FixtureBackend())
    assert "m5" in crossed.results["models_crossed"] and "m5" not in crossed.results["models"]
    assert "sel_crossed" in crossed.results["models"] and "sel" not in crossed.results["models"]
    assert crossed.changes == []


def test_user_spec_variant(tmp_path: Path) -> None:
    f = tmp_path / "my.toml"
    f.write_text(
        'extends = "builtin"\n[models.m10]\nlabel = "Model 10"\ndata = "actor"\n'
        'filter = "year >= 1946"\ndependent = "milresp"\nregressors = ["mp", "prep"]\n'
        'cov = "ML"\n[tables.table7]\ntitle = "Table 7"\nmodels = ["m10"]\n'
    )
    rep = replicate(
        out=tmp_path / "o", selection="published", spec=f, progress=False, backend=FixtureBackend()
    )
    assert rep.results["models"]["m10"]["nobs"] < 779
    assert (tmp_path / "o" / "table7.md").exists()
    assert rep.results["provenance"]["spec"]["source"] == str(f)


def test_unknown_column_fails_before_fitting(tmp_path: Path) -> None:
    from restraint.study.spec import SpecError

    f = tmp_path / "bad.toml"
    f.write_text('[models.x]\ndata = "actor"\ndependent = "milresp"\nregressors = ["alliance"]\n')
    backend = FixtureBackend()
    with pytest.raises(SpecError, match=r"models\.x: column\(s\) \['alliance'\] not in the actor"):
        replicate(spec=f, progress=False, backend=backend)
    assert backend.calls == []


def test_published_only_run_with_progress() -> None:
    from rich.console import Console

    console = Console(record=True, width=120)
    rep = replicate(selection="published", progress=True, backend=FixtureBackend(), console=console)
    text = console.export_text()
    assert "Model 5" in text and "Claims (published)" in text and "Done in" in text
    assert "models_crossed" not in rep.results and "sel_crossed" not in rep.results["models"]
    assert rep.changes == []


def test_cli_errors_exit_nonzero(tmp_path: Path) -> None:
    from restraint.cli import app

    bad = tmp_path / "bad.toml"
    bad.write_text("[models.x]\nestimator = 'ols'\n")
    runner = CliRunner()
    res = runner.invoke(app, ["replicate", "--spec", str(bad), "--out", str(tmp_path / "o")])
    assert res.exit_code == 1
    assert "bad.toml" in res.output and not (tmp_path / "o").exists()
    res = runner.invoke(app, ["replicate", "--selection", "sideways", "--out", str(tmp_path / "o")])
    assert res.exit_code == 1 and "sideways" in res.output


def test_cli_help_lists_options() -> None:
    from restraint.cli import app

    res = CliRunner().invoke(app, ["replicate", "--help"], env={"COLUMNS": "200"})
    assert res.exit_code == 0
    for opt in ("--out", "--data-dir", "--selection", "--spec"):
        assert opt in res.output
