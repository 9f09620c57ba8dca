"""Spec parsing and validation: the built-in study, user files, and clear errors."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from restraint.study.spec import SpecError, builtin_text, load_spec, parse_spec

MINIMAL = """
[models.x]
data = "actor"
dependent = "milresp"
regressors = ["mp", "prep"]
"""


def test_builtin_spec_defines_the_paper_models() -> None:
    spec = load_spec()
    assert set(spec.models) == {"m1", "m2", "m3", "m4", "m5", "m6", "m7", "m8", "m9", "a1", "a2"}
    assert spec.models["m3"].formula == "milresp ~ mp + dp + jd + prep + contig + ic + mt"
    assert spec.models["m6"].formula == "milresp ~ mp + jd + prep + contig + ic + mt + imr"
    assert spec.models["a1"].formula.startswith("milresp ~ C(dpmp) + C(jd) + prep")
    assert spec.selection.formula == "crisis ~ dp + jd + prep + contig + sc"
    pub, crossed = spec.selection.variants["published"], spec.selection.variants["crossed"]
    assert (pub.estimator, pub.groups, pub.options) == (
        "re_probit",
        ("directed_dyad",),
        {"method": "gh", "nodes": 20},
    )
    assert crossed.estimator == "crossed_re_probit"
    assert crossed.groups == ("directed_dyad", "year")
    periods = [(spec.models[m].period.start, spec.models[m].period.end) for m in ("m7", "m8", "m9")]
    assert periods == [(None, 1945), (1946, 1990), (1991, None)]
    assert [spec.models[m].selection for m in ("m4", "m5", "a1", "a2")] == [
        False,
        True,
        False,
        True,
    ]
    assert spec.models["a2"].predict is not None
    assert spec.models["a2"].predict.levels == (0, 1, 2)
    assert spec.predictions.changes == {"dp": (0, 1), "mp": (1, 2)}
    assert len(spec.claims) >= 10 and spec.alpha == 0.1
    assert spec.source == "builtin" and len(spec.sha256) == 64


def test_minimal_user_spec(tmp_path: Path) -> None:
    f = tmp_path / "my.toml"
    f.write_text(MINIMAL)
    spec = load_spec(f)
    assert list(spec.models) == ["x"]
    assert spec.models["x"].cov == "HC0"
    assert spec.selection is None and spec.source == str(f)


def test_extends_builtin_adds_a_variant() -> None:
    text = 'extends = "builtin"\n' + MINIMAL.replace("[models.x]", "[models.m10]")
    spec = parse_spec(text)
    assert "m10" in spec.models and "m1" in spec.models
    assert spec.sha256 != load_spec().sha256


@pytest.mark.parametrize(
    ("text", "pattern"),
    [
        (MINIMAL + 'regresors = ["dp"]\n', r"models\.x: unknown key\(s\) \['regresors'\]"),
        (MINIMAL + 'estimator = "logit"\n', r"models\.x\.estimator: 'logit' is not one of probit"),
        (MINIMAL + 'filter = "dp = 1"\n', r"models\.x\.filter: .*not a valid expression"),
        (MINIMAL + "filter = \"__import__('os')\"\n", r"models\.x\.filter: .*is not allowed"),
        (MINIMAL + 'filter = "dp.real == 1"\n', r"models\.x\.filter: .*is not allowed"),
        (MINIMAL + 'filter = "dp ** 2 == 1"\n', r"models\.x\.filter: .*is not allowed"),
        (MINIMAL + 'cov = "HC9"\n', r"models\.x\.cov: 'HC9' is not one of"),
        (MINIMAL + 'data = "panel"\n', r"(?s)not valid TOML|models\.x\.data"),
        (MINIMAL + "period = { from = 1990, to = 1950 }\n", r"models\.x\.period: from = 1990"),
        (MINIMAL + "period = { since = 1990 }\n", r"models\.x\.period: unknown key"),
        (MINIMAL + "selection = true\n", r"a selection stage needs data = 'dyad'"),
        (MINIMAL + 'factors = ["dp"]\n', r"models\.x\.factors: \['dp'\] are not among"),
        (
            MINIMAL + '[tables.t]\nmodels = ["x", "nope"]\n',
            r"tables\.t\.models: unknown model\(s\) \['nope'\]",
        ),
        (
            MINIMAL + '[[claims]]\nid = "c"\ntext = "t"\nterm = "mp"\n'
            'checks = [{ model = "x", sign = "down" }]\n',
            r"claims\[0\] \(c\)\.checks\[0\]\.sign: 'down' is not one of negative, positive",
        ),
        ("[study]\ntitle = 'x'\n", r"missing required key\(s\) \['models'\]"),
        ("[models.x\n", r"not valid TOML"),
        ('extends = "other"\n' + MINIMAL, r"only 'builtin' is supported"),
    ],
)
def test_invalid_specs_name_file_and_key(text: str, pattern: str) -> None:
    with pytest.raises(SpecError, match=pattern) as info:
        parse_spec(text, where="my.toml")
    assert str(info.value).startswith("my.toml: ")


def test_unknown_selection_estimator() -> None:
    text = builtin_text().replace('estimator = "crossed_re_probit"', 'estimator = "glmer"')
    with pytest.raises(SpecError, match=r"selection\.variants\.crossed\.estimator: 'glmer'"):
        parse_spec(text, where="x.toml")


def test_selection_needs_matching_groups() -> None:
    text = builtin_text().replace('groups = ["directed_dyad", "year"]', 'groups = ["year"]')
    with pytest.raises(SpecError, match=r"crossed_re_probit' needs 2 grouping column"):
        parse_spec(text, where="x.toml")


def test_missing_file_is_a_spec_error(tmp_path: Path) -> None:
    missing = tmp_path / "nope.toml"
    with pytest.raises(SpecError, match=re.escape(str(missing)) + ": spec file not found"):
        load_spec(missing)
