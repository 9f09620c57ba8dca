"""Two-step selection probit: IMR and Models 5/6 against R, protocol, bootstrap."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from restraint.errors import EstimationError, EstimationWarning
from restraint.models import (
    HeckmanResults,
    SelectionResult,
    heckman_two_step,
    inverse_mills_ratio,
    probit,
)

CONTROLS = "jd + prep + contig + ic + mt"
SELECTION_TERMS = ["dp", "jd", "prep", "contig", "sc"]


class FixedSelection:
    """A selection 'result' with given coefficients: the pglm fit from reference_r.json."""

    dependent = "crisis"

    def __init__(self, coef: list[float]) -> None:
        self.beta = np.asarray(coef, dtype=float)

    def xb(self, data: pd.DataFrame) -> np.ndarray:
        X = np.column_stack(
            [np.ones(len(data))] + [data[c].to_numpy(float) for c in SELECTION_TERMS]
        )
        return X @ self.beta


class LinearPredictorOnly:
    """Offers only ``linear_predictor`` (the other naming a random-effects result may use)."""

    dependent = "crisis"

    def __init__(self, inner: FixedSelection) -> None:
        self.inner = inner

    def linear_predictor(self, data: pd.DataFrame) -> np.ndarray:
        return self.inner.xb(data)


@pytest.fixture(scope="module")
def pglm(reference) -> FixedSelection:
    block = reference["selection_pglm"]
    assert block["names"][-1] == "sigma"
    return FixedSelection(block["coef"][:-1])


def r_names(block: dict) -> list[str]:
    return ["Intercept" if n == "(Intercept)" else n for n in block["names"]]


# ---------------------------------------------------------------------- R reference
def test_imr_summary_matches_r(reference, fixture_dyadyear, pglm) -> None:
    imr = inverse_mills_ratio(pglm.xb(fixture_dyadyear))
    ref = reference["imr_summary"]
    assert imr.mean() == pytest.approx(ref["mean"], rel=1e-8)
    np.testing.assert_allclose(imr[:5], ref["first5"], rtol=1e-8)
    # Definition check, independent of the log-space implementation.
    xb = pglm.xb(fixture_dyadyear.head(1000))
    np.testing.assert_allclose(imr[:1000], stats.norm.pdf(xb) / stats.norm.cdf(xb), rtol=1e-12)


@pytest.mark.parametrize(
    ("key", "outcome", "dp_only"),
    [("m5", "milresp ~ mp + dp + " + CONTROLS, False), ("m6", "milresp ~ mp + " + CONTROLS, True)],
)
def test_models_5_and_6_match_r(key, outcome, dp_only, reference, fixture_dyadyear, pglm) -> None:
    data = fixture_dyadyear[fixture_dyadyear.dp == 1] if dp_only else fixture_dyadyear
    res = heckman_two_step(pglm, outcome, data)
    ref = reference[key]
    assert isinstance(res, HeckmanResults)
    assert list(res.params.index) == r_names(ref)
    assert res.nobs == ref["nobs"] == res.n_selected
    coef, se = np.asarray(ref["coef"]), np.asarray(ref["se"])
    # R's glm stops when the deviance changes by < 1e-8 relative, which leaves the weakly
    # identified coefficients (IMR, intercept: SE ≈ 5× the estimate) up to 1.2e-4 away
    # relative to the exact MLE. Ours is the exact MLE (higher log-likelihood, below), so
    # the agreement is 1e-4 relative or 1e-4 of a standard error, whichever is looser.
    assert np.all(np.abs(res.params.to_numpy() - coef) <= 1e-4 * np.maximum(np.abs(coef), se))
    np.testing.assert_allclose(res.bse, se, rtol=1e-4)
    np.testing.assert_allclose(np.sqrt(np.diag(res.cov_ml)), ref["se_ml"], rtol=1e-4)
    assert res.llf == pytest.approx(ref["loglik"], rel=1e-8)
    assert res.llf >= ref["loglik"] - 1e-9
    assert res.prsquared == pytest.approx(ref["mcfadden"], rel=1e-6)
    assert res.aic == pytest.approx(ref["aic"], rel=1e-8)
    assert res.imr is not None and len(res.imr) == len(data)


def test_r_estimates_are_short_of_the_optimum(reference, fixture_dyadyear, pglm) -> None:
    """Evidence for the tolerance above: the score is zero at ours, not at R's."""
    res = heckman_two_step(pglm, "milresp ~ mp + dp + " + CONTROLS, fixture_dyadyear)
    y, X = res.y, res.X
    q = 2 * y - 1

    def score(b: np.ndarray) -> np.ndarray:
        z = q * (X @ b)
        return X.T @ (q * stats.norm.pdf(z) / stats.norm.cdf(z))

    at_r = np.abs(score(np.asarray(reference["m5"]["coef"]))).max()
    at_ours = np.abs(score(res.params.to_numpy())).max()
    assert at_ours < 1e-7 < at_r


# ---------------------------------------------------------------------- protocol & formula path
def test_protocol_objects(fixture_dyadyear, pglm) -> None:
    assert isinstance(pglm, SelectionResult)
    a = heckman_two_step(pglm, "milresp ~ mp + " + CONTROLS, fixture_dyadyear)
    b = heckman_two_step(LinearPredictorOnly(pglm), "milresp ~ mp + " + CONTROLS, fixture_dyadyear)
    np.testing.assert_allclose(a.params, b.params)
    with pytest.raises(EstimationError, match="not a selection result"):
        heckman_two_step(object(), "milresp ~ mp", fixture_dyadyear, selected="crisis")

    class Short(FixedSelection):
        def xb(self, data: pd.DataFrame) -> np.ndarray:
            return super().xb(data)[:-1]

    with pytest.raises(EstimationError, match="one per row"):
        heckman_two_step(Short(list(pglm.beta)), "milresp ~ mp", fixture_dyadyear)


@pytest.fixture(scope="module")
def synthetic() -> pd.DataFrame:
    rng = np.random.default_rng(11)
    n_groups, per = 300, 10
    n = n_groups * per
    df = pd.DataFrame(
        {
            "grp": np.repeat(np.arange(n_groups), per),
            "z": rng.normal(size=n),
            "x": rng.normal(size=n),
        }
    )
    u = rng.normal(size=n)
    df["s"] = (0.1 + 0.8 * df.z + 0.3 * df.x + u > 0).astype(int)
    e = 0.5 * u + np.sqrt(0.75) * rng.normal(size=n)
    df["y"] = np.where(df.s == 1, (0.2 + 0.6 * df.x + e > 0).astype(float), np.nan)
    return df


def test_formula_selection_equals_the_two_steps_by_hand(synthetic) -> None:
    res = heckman_two_step("s ~ z + x", "y ~ x", synthetic)
    first = probit("s ~ z + x", synthetic, cov="ML")
    xb = first.fittedvalues.to_numpy()
    by_hand = synthetic.assign(imr=stats.norm.pdf(xb) / stats.norm.cdf(xb))
    second = probit("y ~ x + imr", by_hand[by_hand.s == 1])
    np.testing.assert_allclose(res.params, second.params, rtol=1e-10)
    np.testing.assert_allclose(res.bse, second.bse, rtol=1e-10)
    assert res.selection_formula == "s ~ z + x"
    assert "selection s ~ z + x" in res.summary()
    # The outcome index of new data computes the IMR from the selection stage.
    np.testing.assert_allclose(res.xb(synthetic.head(3)), second.xb(by_hand.head(3)))


def test_bad_inputs(synthetic) -> None:
    with pytest.raises(EstimationError, match="already has a column 'imr'"):
        heckman_two_step("s ~ z", "y ~ x", synthetic.assign(imr=1.0))
    with pytest.raises(EstimationError, match="must be 0/1"):
        heckman_two_step("s ~ z", "y ~ x", synthetic, selected="x")
    with pytest.raises(EstimationError, match="no row is selected"):
        heckman_two_step("s ~ z", "y ~ x", synthetic, selected=np.zeros(len(synthetic), bool))


# ---------------------------------------------------------------------- bootstrap
def test_bootstrap_is_seeded_and_independent_of_process_count(synthetic) -> None:
    kwargs = dict(bootstrap=12, bootstrap_cluster="grp", seed=5, progress=False)
    one = heckman_two_step("s ~ z + x", "y ~ x", synthetic, n_jobs=1, **kwargs)
    two = heckman_two_step("s ~ z + x", "y ~ x", synthetic, n_jobs=2, **kwargs)
    pd.testing.assert_frame_equal(one.bootstrap_params, two.bootstrap_params)
    other = heckman_two_step("s ~ z + x", "y ~ x", synthetic, n_jobs=1, **{**kwargs, "seed": 6})
    assert not np.allclose(one.bootstrap_params, other.bootstrap_params)
    draws = one.bootstrap_params.to_numpy()
    np.testing.assert_allclose(one.cov.to_numpy(), np.cov(draws, rowvar=False, ddof=1))
    assert one.cov_type.startswith("bootstrap (12 replicates")
    assert one.cov_analytic is not None and not np.allclose(one.cov_analytic, one.cov)
    # The point estimates are the full-sample ones whatever the errors.
    plain = heckman_two_step("s ~ z + x", "y ~ x", synthetic)
    np.testing.assert_allclose(one.params, plain.params)


_SEEN: list[tuple[int, int]] = []


def recording_probit(formula: str, data: pd.DataFrame):
    """Selection estimator that records the resample's size and number of groups."""
    _SEEN.append((len(data), data["grp"].nunique()))
    return probit(formula, data, cov="ML")


def test_bootstrap_resamples_whole_groups_with_fresh_ids(synthetic) -> None:
    _SEEN.clear()
    heckman_two_step(
        "s ~ z + x",
        "y ~ x",
        synthetic,
        bootstrap=4,
        bootstrap_cluster="grp",
        selection_estimator=recording_probit,
        seed=1,
        n_jobs=1,
        progress=False,
    )
    assert len(_SEEN) == 4
    # Groups all have 10 rows, so a resample of 300 groups has 3000 rows; drawn twice, a
    # group gets two ids, so there are always 300 distinct groups.
    assert all(rows == 3000 and groups == 300 for rows, groups in _SEEN)


def flaky_probit(formula: str, data: pd.DataFrame):
    """Fails on resamples whose first row has z > 0, to exercise failure reporting."""
    if data["z"].iloc[0] > 0:
        raise EstimationError("deliberate failure")
    return probit(formula, data, cov="ML")


def test_failed_replicates_are_reported(synthetic) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = heckman_two_step(
            "s ~ z + x",
            "y ~ x",
            synthetic,
            bootstrap=10,
            bootstrap_cluster="grp",
            selection_estimator=flaky_probit,
            seed=3,
            n_jobs=1,
            progress=False,
        )
    assert res.bootstrap_failures, "the flaky estimator should fail on some resamples"
    assert len(res.bootstrap_params) + len(res.bootstrap_failures) == 10
    assert any("bootstrap replicates failed" in str(w.message) for w in caught)
    assert any("deliberate failure" in w for w in res.warnings)


def test_bootstrap_of_a_fitted_non_probit_needs_its_estimator(fixture_dyadyear, pglm) -> None:
    with pytest.raises(EstimationError, match="selection_estimator"):
        heckman_two_step(pglm, "milresp ~ mp", fixture_dyadyear, bootstrap=5)


def test_bootstrap_rejects_unpicklable_estimator_with_spawn(synthetic) -> None:
    with pytest.raises(EstimationError, match="cannot be sent to worker processes"):
        heckman_two_step(
            "s ~ z",
            "y ~ x",
            synthetic,
            bootstrap=2,
            selection_estimator=lambda f, d: probit(f, d, cov="ML"),
            n_jobs=2,
            mp_context="spawn",
            progress=False,
        )


def test_row_bootstrap_without_clusters(synthetic) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", EstimationWarning)
        res = heckman_two_step(
            "s ~ z + x", "y ~ x", synthetic, bootstrap=3, seed=0, n_jobs=1, progress=False
        )
    assert res.bootstrap_failures == []
    assert res.bootstrap_params.shape == (3, 3)
    assert "resampling rows" in res.cov_type
