"""Agreement logic: each check's sign/significance test and the claim verdicts."""

from __future__ import annotations

import pytest

from restraint.study.agreement import check_claim, compare_variants, significance_level
from restraint.study.fitting import Fits
from restraint.study.spec import Check, ClaimSpec, load_spec

from .helpers import make_fit, se_for_p


@pytest.mark.parametrize(
    ("p", "level"), [(0.001, ".01"), (0.02, ".05"), (0.07, ".1"), (0.1, "n.s."), (0.5, "n.s.")]
)
def test_significance_level(p: float, level: str) -> None:
    assert significance_level(p) == level


def _fits(values: dict[str, tuple[float, float]]):
    """model id -> (coef, p) for the term 'mp'."""
    fits = {
        mid: make_fit(mid, {"mp": (c, se_for_p(c, p))}, label=mid.upper())
        for mid, (c, p) in values.items()
    }
    return fits.get


def _claim(require: str, *checks: Check) -> ClaimSpec:
    return ClaimSpec("c", "claim", "mp", tuple(checks), require)


def test_all_checks_pass() -> None:
    lookup = _fits({"m2": (-0.27, 0.02), "m3": (-0.19, 0.13)})
    res = check_claim(
        _claim("all", Check("m2", "negative", True), Check("m3", None, False)), lookup, 0.1
    )
    assert res.verdict == "agrees" and res.n_agree == 2
    assert res.checks[0].level == ".05" and res.checks[1].level == "n.s."
    assert "M2: mp = -0.270" in res.checks[0].statement
    assert res.checks[0].statement.endswith("agrees.")


def test_wrong_sign_or_significance_fails() -> None:
    lookup = _fits({"a": (0.3, 0.01), "b": (-0.3, 0.2), "c": (-0.3, 0.01)})
    wrong_sign = check_claim(_claim("all", Check("a", "negative", True)), lookup, 0.1)
    not_sig = check_claim(_claim("all", Check("b", "negative", True)), lookup, 0.1)
    partly = check_claim(
        _claim("all", Check("c", "negative", True), Check("b", "negative", True)), lookup, 0.1
    )
    assert wrong_sign.verdict == "does not agree"
    assert not_sig.verdict == "does not agree"
    assert "does not agree" in not_sig.checks[0].statement
    assert partly.verdict == "partly agrees" and partly.n_agree == 1


def test_alpha_is_respected() -> None:
    lookup = _fits({"a": (-0.3, 0.07)})
    claim = _claim("all", Check("a", "negative", True))
    assert check_claim(claim, lookup, 0.1).verdict == "agrees"
    assert check_claim(claim, lookup, 0.05).verdict == "does not agree"


def test_most_needs_a_majority() -> None:
    lookup = _fits({"a": (0.1, 0.5), "b": (0.1, 0.6), "c": (0.5, 0.001), "d": (0.5, 0.001)})
    two_of_three = _claim("most", *(Check(m, None, False) for m in ("a", "b", "c")))
    two_of_four = _claim("most", *(Check(m, None, False) for m in ("a", "b", "c", "d")))
    assert check_claim(two_of_three, lookup, 0.1).verdict == "agrees"
    assert check_claim(two_of_four, lookup, 0.1).verdict == "does not agree"


def test_missing_model_or_term_is_not_checked() -> None:
    lookup = _fits({"a": (0.1, 0.5)})
    res = check_claim(_claim("all", Check("zz", "negative", None)), lookup, 0.1)
    assert res.verdict == "not checked" and res.checks[0].agrees is None
    assert "model not estimated" in res.checks[0].statement
    other = ClaimSpec("c", "claim", "dp", (Check("a", "negative", None),), "all")
    assert check_claim(other, lookup, 0.1).verdict == "not checked"


def test_compare_variants_reports_changes() -> None:
    spec = load_spec()
    fits = Fits(variants=["published", "crossed"], primary="published")
    for v, (c, p) in {"published": (-0.34, 0.02), "crossed": (-0.30, 0.2)}.items():
        fits.outcome[("m5", v)] = make_fit(
            "m5",
            {"mp": (c, se_for_p(c, p)), "jd": (-0.5, se_for_p(-0.5, 0.01))},
            label="Model 5",
            variant=v,
        )
    for v, s in {"published": 0.70, "crossed": 0.69}.items():
        fits.selection[(v, "")] = make_fit(
            "sel",
            {"dp": (0.1, 0.05)},
            kind="selection",
            label=f"Sel {v}",
            sigma={"directed_dyad": (s, None)},
        )
    lines = compare_variants(spec, fits, "published", "crossed")
    assert lines[0].startswith("Selection stage: Sel published: σ(directed_dyad) = 0.700")
    model5 = next(ln for ln in lines if ln.startswith("Model 5"))
    assert "MP -0.340 (.05) → -0.300 (n.s.)" in model5 and "JD" not in model5
    assert any(
        "MP is significant and negative in the outcome stages" in ln
        and "partly agrees with published" not in ln
        for ln in lines
    )
