"""Predictions: ggeffects' a1/a2 numbers, profiles, averages, changes, delta method."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import special, stats

from restraint.errors import EstimationError
from restraint.models import changes, heckman_two_step, predict, probit, profile_values

A_FORMULA = "milresp ~ C(dp_mp) + C(jd) + prep + C(contig) + C(ic) + C(mt)"
# R's names for the a1/a2 terms in patsy's spelling (polynomial contrast for dp_mp).
R_TO_PATSY = {
    "(Intercept)": "Intercept",
    "dp_mp.L": "C(dp_mp, Poly).Linear",
    "dp_mp.Q": "C(dp_mp, Poly).Quadratic",
    "jd1": "C(jd)[T.1]",
    "prep": "prep",
    "contig1": "C(contig)[T.1]",
    "ic1": "C(ic)[T.1]",
    "mt1": "C(mt)[T.1]",
    "imr": "imr",
}


class FixedSelection:
    """The pglm selection stage of reference_r.json as a SelectionResult."""

    dependent = "crisis"

    def __init__(self, coef: list[float]) -> None:
        self.beta = np.asarray(coef, dtype=float)

    def xb(self, data: pd.DataFrame) -> np.ndarray:
        cols = ["dp", "jd", "prep", "contig", "sc"]
        X = np.column_stack([np.ones(len(data))] + [data[c].to_numpy(float) for c in cols])
        return X @ self.beta


@pytest.fixture(scope="module")
def actor(fixture_actor) -> pd.DataFrame:
    # MP implies DP in the fixture, so dp + mp is the three-level DPMP.
    assert not ((fixture_actor.mp == 1) & (fixture_actor.dp == 0)).any()
    return fixture_actor.assign(dp_mp=fixture_actor.dp + fixture_actor.mp)


@pytest.fixture(scope="module")
def dyad(fixture_dyadyear) -> pd.DataFrame:
    return fixture_dyadyear.assign(dp_mp=fixture_dyadyear.dp + fixture_dyadyear.mp)


def check_against_ggpredict(pred: pd.DataFrame, block: dict) -> None:
    np.testing.assert_allclose(pred["predicted"], block["pred"], rtol=1e-4)
    np.testing.assert_allclose(pred["ci_low"], block["low"], rtol=1e-4)
    np.testing.assert_allclose(pred["ci_high"], block["high"], rtol=1e-4)


def test_a1_predictions_match_ggpredict(actor, reference) -> None:
    res = probit(A_FORMULA, actor)
    pred = predict(res, at={"dp_mp": [0, 1, 2]})
    check_against_ggpredict(pred, reference["a1"])
    assert pred.attrs["profile"]["prep"] == pytest.approx(actor.prep.mean())
    assert {pred.attrs["profile"][v] for v in ("jd", "contig", "ic", "mt")} == {0}
    ch = changes(res, "dp_mp")
    np.testing.assert_allclose(ch["rel_change"], reference["a1"]["rel_change"], rtol=1e-4)
    assert list(ch["from"]) == [0, 1] and list(ch["to"]) == [1, 2]


def test_a1_polynomial_coding_matches_r_coefficients(actor, reference) -> None:
    res = probit(A_FORMULA.replace("C(dp_mp)", "C(dp_mp, Poly)"), actor)
    ref = reference["a1"]
    ours = res.params[[R_TO_PATSY[n] for n in ref["names"]]]
    np.testing.assert_allclose(ours, ref["coef"], rtol=1e-4)
    se = res.bse[[R_TO_PATSY[n] for n in ref["names"]]]
    np.testing.assert_allclose(se, ref["se"], rtol=1e-4)
    # Same fit, so the same predictions as with treatment coding.
    check_against_ggpredict(predict(res, at={"dp_mp": [0, 1, 2]}), ref)


def test_a2_predictions_match_ggpredict(dyad, reference) -> None:
    selection = FixedSelection(reference["selection_pglm"]["coef"][:-1])
    res = heckman_two_step(selection, A_FORMULA, dyad)
    ref = reference["a2"]
    assert res.nobs == ref["nobs"]
    assert res.llf == pytest.approx(ref["loglik"], rel=1e-8)
    pred = predict(res, at={"dp_mp": [0, 1, 2]})
    check_against_ggpredict(pred, ref)
    # The IMR is held at its mean over the outcome sample, as ggeffects does.
    assert pred.attrs["profile"]["imr"] == pytest.approx(res.frame["imr"].mean())
    ch = changes(res, "dp_mp")
    np.testing.assert_allclose(ch["rel_change"], ref["rel_change"], rtol=1e-4)


# ---------------------------------------------------------------------- synthetic model
@pytest.fixture(scope="module")
def fitted() -> tuple:
    rng = np.random.default_rng(4)
    n = 3000
    df = pd.DataFrame(
        {
            "lvl": rng.integers(0, 3, n),
            "b": rng.binomial(1, 0.3, n),
            "x": rng.normal(1.0, 2.0, n),
        }
    )
    eta = -0.2 + 0.3 * (df.lvl == 1) - 0.4 * (df.lvl == 2) + 0.5 * df.b + 0.25 * df.x
    df["y"] = (eta + rng.normal(size=n) > 0).astype(int)
    return df, probit("y ~ C(lvl) + b + x", df)


def test_profile_defaults(fitted) -> None:
    df, res = fitted
    values = profile_values(res)
    assert values == {"lvl": 0, "b": 0, "x": pytest.approx(df.x.mean())}
    assert profile_values(res, binary="mean")["b"] == pytest.approx(df.b.mean())
    pred = predict(res)
    beta = res.params
    xb = beta["Intercept"] + beta["x"] * df.x.mean()
    assert pred["predicted"].iloc[0] == pytest.approx(special.ndtr(xb))
    assert pred["xb"].iloc[0] == pytest.approx(xb)


def test_reference_level_of_a_treatment_contrast_is_found() -> None:
    rng = np.random.default_rng(2)
    df = pd.DataFrame({"g": rng.choice(["a", "b", "c"], 800), "x": rng.normal(size=800)})
    df["y"] = (rng.normal(size=800) + 0.5 * (df.g == "c") > 0).astype(int)
    res = probit("y ~ C(g, Treatment('c')) + x", df)
    assert profile_values(res)["g"] == "c"
    pred = predict(res)
    xb = res.params["Intercept"] + res.params["x"] * df.x.mean()
    assert pred["predicted"].iloc[0] == pytest.approx(special.ndtr(xb))


def test_delta_method_interval_on_the_index_scale(fitted) -> None:
    df, res = fitted
    pred = predict(res, at={"lvl": [0, 1, 2], "b": [0, 1]}, alpha=0.10)
    assert len(pred) == 6 and list(pred.columns[:2]) == ["lvl", "b"]
    z = stats.norm.ppf(0.95)
    np.testing.assert_allclose(pred["ci_low"], special.ndtr(pred["xb"] - z * pred["se_xb"]))
    np.testing.assert_allclose(pred["ci_high"], special.ndtr(pred["xb"] + z * pred["se_xb"]))
    # se(x'β) from the ML covariance, built by hand for one row.
    row = pred.iloc[3]
    x = np.array([1.0, row.lvl == 1, row.lvl == 2, row.b, df.x.mean()], dtype=float)
    assert row.se_xb == pytest.approx(np.sqrt(x @ res.cov_ml.to_numpy() @ x))
    robust = predict(res, at={"lvl": [0, 1, 2], "b": [0, 1]}, cov="model")
    assert robust.attrs["cov"] == "HC0" and not np.allclose(robust.se_xb, pred.se_xb)
    same = predict(res, at={"lvl": [0, 1, 2], "b": [0, 1]}, cov=res.cov_ml)
    np.testing.assert_allclose(same.se, pred.se)


def numeric_gradient(fun, beta: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    out = np.empty((len(np.atleast_1d(fun(beta))), len(beta)))
    for j in range(len(beta)):
        step = np.zeros_like(beta)
        step[j] = eps
        out[:, j] = (np.atleast_1d(fun(beta + step)) - np.atleast_1d(fun(beta - step))) / (2 * eps)
    return out


def test_average_predictions_and_their_standard_errors(fitted) -> None:
    df, res = fitted
    pred = predict(res, at={"lvl": [0, 2]}, kind="average")
    X = res.X.copy()
    names = list(res.params.index)

    def average(beta: np.ndarray) -> np.ndarray:
        out = []
        for level in (0, 2):
            Xl = X.copy()
            Xl[:, names.index("C(lvl)[T.1]")] = 0.0
            Xl[:, names.index("C(lvl)[T.2]")] = float(level == 2)
            out.append(special.ndtr(Xl @ beta).mean())
        return np.array(out)

    beta = res.params.to_numpy()
    np.testing.assert_allclose(pred["predicted"], average(beta), rtol=1e-12)
    grad = numeric_gradient(average, beta)
    se = np.sqrt(np.einsum("ij,jk,ik->i", grad, res.cov_ml.to_numpy(), grad))
    np.testing.assert_allclose(pred["se"], se, rtol=1e-6)


def test_changes_relative_and_absolute(fitted) -> None:
    _, res = fitted
    ch = changes(res, "lvl", at={"b": 1})
    pred = predict(res, at={"lvl": [0, 1, 2], "b": 1})
    p = pred["predicted"].to_numpy()
    np.testing.assert_allclose(ch["abs_change"], 100 * (p[1:] - p[:-1]))
    np.testing.assert_allclose(ch["rel_change"], 100 * (p[1:] - p[:-1]) / p[:-1])
    first = changes(res, "lvl", base="first", at={"b": 1})
    np.testing.assert_allclose(first["rel_change"], 100 * (p[1:] - p[0]) / p[0])

    def rel(beta: np.ndarray) -> np.ndarray:
        X = pred_design(res, [0, 1, 2], b=1)
        q = special.ndtr(X @ beta)
        return 100 * (q[1:] - q[:-1]) / q[:-1]

    grad = numeric_gradient(rel, res.params.to_numpy())
    se = np.sqrt(np.einsum("ij,jk,ik->i", grad, res.cov_ml.to_numpy(), grad))
    np.testing.assert_allclose(ch["rel_se"], se, rtol=1e-5)
    binary = changes(res, "b")
    assert list(binary["from"]) == [0] and list(binary["to"]) == [1]


def pred_design(res, levels: list[int], b: int) -> np.ndarray:
    xbar = res.frame["x"].mean()
    return np.array([[1.0, lv == 1, lv == 2, b, xbar] for lv in levels], dtype=float)


def test_bad_requests(fitted) -> None:
    _, res = fitted
    with pytest.raises(EstimationError, match="not variables of the model"):
        predict(res, at={"nope": 1})
    with pytest.raises(EstimationError, match="no level"):
        predict(res, at={"lvl": [0, 7]})
    with pytest.raises(EstimationError, match="continuous"):
        changes(res, "x")
    with pytest.raises(EstimationError, match="kind="):
        predict(res, kind="median")
    with pytest.raises(EstimationError, match="cov="):
        predict(res, cov="bogus")
