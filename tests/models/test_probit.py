"""Probit: R's glm/sandwich results, statsmodels agreement, covariances, failure modes."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import optimize, special, stats

from restraint.errors import EstimationError, EstimationWarning
from restraint.models import probit, probit_from_arrays
from restraint.models.probit import mills_ratio

CONTROLS = "jd + prep + contig + ic + mt"
SPECS = {
    "m1": ("milresp ~ dp + " + CONTROLS, None),
    "m2": ("milresp ~ mp + " + CONTROLS, None),
    "m3": ("milresp ~ mp + dp + " + CONTROLS, None),
    "m4": ("milresp ~ mp + " + CONTROLS, "dp == 1"),
}


def r_names(block: dict) -> list[str]:
    """R's term names in the package's spelling (the intercept is ``Intercept``)."""
    return ["Intercept" if n == "(Intercept)" else n for n in block["names"]]


def assert_rel(actual: np.ndarray, expected: np.ndarray, rtol: float = 1e-4) -> None:
    actual, expected = np.asarray(actual, float), np.asarray(expected, float)
    rel = np.abs(actual / expected - 1.0)
    assert np.all(rel < rtol), f"max relative difference {rel.max():.3g}"


@pytest.fixture
def sim() -> pd.DataFrame:
    rng = np.random.default_rng(20250101)
    n = 4000
    df = pd.DataFrame(
        {
            "x1": rng.normal(size=n),
            "x2": rng.binomial(1, 0.4, n),
            "f": rng.choice(["a", "b", "c"], n),
            "g": rng.integers(0, 200, n),
        }
    )
    eta = 0.3 + 0.8 * df.x1 - 0.5 * df.x2 + np.where(df.f == "b", 0.4, 0.0)
    df["y"] = (eta + rng.normal(size=n) > 0).astype(int)
    return df


# ---------------------------------------------------------------------- R reference
@pytest.mark.parametrize("key", sorted(SPECS))
def test_matches_r_glm_and_sandwich_hc0(key, reference, fixture_actor) -> None:
    formula, query = SPECS[key]
    data = fixture_actor.query(query) if query else fixture_actor
    res = probit(formula, data)  # HC0 by default
    ref = reference[key]
    assert list(res.params.index) == r_names(ref)
    assert_rel(res.params, ref["coef"])
    assert_rel(res.bse, ref["se"])
    assert_rel(np.sqrt(np.diag(res.cov_ml)), ref["se_ml"])
    assert res.nobs == ref["nobs"]
    assert res.llf == pytest.approx(ref["loglik"], rel=1e-8)
    assert res.prsquared == pytest.approx(ref["mcfadden"], rel=1e-6)
    assert res.aic == pytest.approx(ref["aic"], rel=1e-8)
    assert res.converged and not res.warnings
    assert res.cov_type == "HC0"


def test_ml_covariance_is_r_summary_glm(reference, fixture_actor) -> None:
    res = probit(SPECS["m3"][0], fixture_actor, cov="ML")
    assert_rel(res.bse, reference["m3"]["se_ml"])
    assert res.cov_type.startswith("ML")


def test_ninety_percent_interval(fixture_actor) -> None:
    res = probit(SPECS["m2"][0], fixture_actor)
    ci = res.conf_int(0.10)
    z = stats.norm.ppf(0.95)
    np.testing.assert_allclose(ci["lower"], res.params - z * res.bse)
    np.testing.assert_allclose(ci["upper"], res.params + z * res.bse)
    assert (ci["upper"] - ci["lower"] < res.conf_int(0.05)["upper"] - res.conf_int()["lower"]).all()


# ---------------------------------------------------------------------- statsmodels agreement
def test_observed_information_matches_statsmodels(sim) -> None:
    X = sm.add_constant(sim[["x1", "x2"]].astype(float))
    model = sm.Probit(sim["y"], X)
    ours_ml = probit("y ~ x1 + x2", sim, cov="ML", information="observed")
    ours_hc0 = probit("y ~ x1 + x2", sim, cov="HC0", information="observed")
    ref_ml = model.fit(disp=0)
    ref_hc0 = model.fit(disp=0, cov_type="HC0")
    np.testing.assert_allclose(ours_ml.params.to_numpy(), ref_ml.params.to_numpy(), rtol=1e-8)
    np.testing.assert_allclose(ours_ml.bse.to_numpy(), ref_ml.bse.to_numpy(), rtol=1e-8)
    np.testing.assert_allclose(ours_hc0.bse.to_numpy(), ref_hc0.bse.to_numpy(), rtol=1e-8)
    assert ours_ml.llf == pytest.approx(ref_ml.llf, rel=1e-12)
    # Ours is the closed form n₁ log ȳ + n₀ log(1 − ȳ); statsmodels refits it numerically.
    assert ours_ml.llf_null == pytest.approx(ref_ml.llnull, rel=1e-9)
    assert ours_ml.llf_null >= ref_ml.llnull


def test_cluster_matches_statsmodels_up_to_its_small_sample_factor(sim) -> None:
    X = sm.add_constant(sim[["x1", "x2"]].astype(float))
    ref = sm.Probit(sim["y"], X).fit(disp=0, cov_type="cluster", cov_kwds={"groups": sim["g"]})
    ours = probit("y ~ x1 + x2", sim, cluster="g", information="observed")
    n, k = len(sim), 3
    # statsmodels multiplies G/(G-1) by (N-1)/(N-K); Stata's ML convention (ours) does not.
    np.testing.assert_allclose(
        ours.bse.to_numpy() * np.sqrt((n - 1) / (n - k)), ref.bse.to_numpy(), rtol=1e-8
    )
    assert ours.n_clusters == 200
    assert ours.cov_type.startswith("cluster")


def test_hc1_and_singleton_clusters(sim) -> None:
    hc0 = probit("y ~ x1 + x2 + C(f)", sim, cov="HC0")
    hc1 = probit("y ~ x1 + x2 + C(f)", sim, cov="HC1")
    n, k = hc0.nobs, len(hc0.params)
    np.testing.assert_allclose(hc1.cov.to_numpy(), hc0.cov.to_numpy() * n / (n - k))
    single = probit("y ~ x1 + x2 + C(f)", sim, cluster=np.arange(len(sim)))
    np.testing.assert_allclose(single.cov.to_numpy(), hc0.cov.to_numpy() * n / (n - 1))
    again = hc0.with_cov("cluster", cluster=sim["g"])
    direct = probit("y ~ x1 + x2 + C(f)", sim, cluster="g")
    np.testing.assert_allclose(again.cov.to_numpy(), direct.cov.to_numpy())


# ---------------------------------------------------------------------- model mechanics
def test_simulated_coefficients_are_recovered(sim) -> None:
    res = probit("y ~ x1 + x2 + C(f)", sim)
    truth = {"Intercept": 0.3, "x1": 0.8, "x2": -0.5, "C(f)[T.b]": 0.4, "C(f)[T.c]": 0.0}
    assert list(res.params.index) == ["Intercept", "C(f)[T.b]", "C(f)[T.c]", "x1", "x2"]
    for name, value in truth.items():
        assert abs(res.params[name] - value) < 4 * res.bse[name], name


def test_score_is_the_gradient_and_vanishes_at_the_estimate(sim) -> None:
    res = probit("y ~ x1 + x2 + C(f)", sim)
    y, X = res.y, res.X
    q = 2 * y - 1

    def llf(b: np.ndarray) -> float:
        return float(special.log_ndtr(q * (X @ b)).sum())

    def grad(b: np.ndarray) -> np.ndarray:
        return X.T @ (q * mills_ratio(q * (X @ b)))

    b0 = res.params.to_numpy() + 0.1
    assert optimize.check_grad(llf, grad, b0, epsilon=1e-6) < 1e-3 * np.linalg.norm(grad(b0))
    np.testing.assert_allclose(res.scores.sum(axis=0), 0.0, atol=1e-8)


def test_mills_ratio_is_stable_in_the_tails() -> None:
    x = np.array([-40.0, -10.0, 0.0, 10.0])
    expected = np.exp(stats.norm.logpdf(x) - stats.norm.logcdf(x))
    np.testing.assert_allclose(mills_ratio(x), expected, rtol=1e-12)
    assert mills_ratio(np.array([-40.0]))[0] == pytest.approx(40.0, rel=1e-3)


def test_dropped_rows_are_counted(sim) -> None:
    data = sim.copy()
    data["x1"] = data["x1"].astype(float)
    data.loc[data.index[:7], "x1"] = np.nan
    data.loc[data.index[5:9], "y"] = np.nan
    res = probit("y ~ x1 + x2", data)
    assert res.nobs == len(data) - 9
    assert res.n_dropped == 9
    assert res.dropped_by == {"x1": 7, "y": 4}
    assert "dropped 9 row(s)" in res.summary()


def test_xb_on_new_data_marks_missing_rows(sim) -> None:
    res = probit("y ~ x1 + C(f)", sim)
    new = sim.head(5).copy()
    new["x1"] = new["x1"].astype(float)
    new.loc[new.index[2], "x1"] = np.nan
    xb = res.xb(new)
    assert np.isnan(xb[2]) and np.isfinite(np.delete(xb, 2)).all()
    np.testing.assert_allclose(np.delete(xb, 2), np.delete(res.fittedvalues.to_numpy()[:5], 2))
    np.testing.assert_allclose(res.probability(new)[0], special.ndtr(xb[0]))


@settings(max_examples=15, deadline=None)
@given(scale=st.floats(min_value=0.01, max_value=100.0))
def test_rescaling_a_regressor_rescales_its_coefficient(scale: float) -> None:
    rng = np.random.default_rng(7)
    x = rng.normal(size=500)
    y = (0.2 + 0.7 * x + rng.normal(size=500) > 0).astype(float)
    X = np.column_stack([np.ones(500), x])
    base = probit_from_arrays(y, X, ["Intercept", "x"], cov="ML")
    scaled = probit_from_arrays(y, X * [1.0, scale], ["Intercept", "x"], cov="ML")
    assert scaled.params["x"] * scale == pytest.approx(base.params["x"], rel=1e-7)
    assert scaled.bse["x"] * scale == pytest.approx(base.bse["x"], rel=1e-6)
    assert scaled.llf == pytest.approx(base.llf, rel=1e-10)


def test_probit_on_170k_rows_converges_quickly() -> None:
    rng = np.random.default_rng(1)
    n = 170_000
    X = np.column_stack([np.ones(n), rng.normal(size=(n, 5))])
    beta = np.array([-2.8, 0.1, -0.4, -0.1, 0.7, -0.2])
    y = (X @ beta + rng.normal(size=n) > 0).astype(float)
    res = probit_from_arrays(y, X, cov="HC0")
    assert res.converged and res.iterations <= 10
    assert np.all(np.abs(res.params.to_numpy() - beta) < 5 * res.bse.to_numpy())


# ---------------------------------------------------------------------- failure behaviour
@pytest.mark.filterwarnings("ignore::restraint.errors.EstimationWarning")
def test_quasi_separation_by_a_dummy_is_named(sim) -> None:
    data = sim.copy()
    data["perfect"] = 0
    data.loc[data.index[:40], "perfect"] = 1
    data.loc[data.index[:40], "y"] = 1
    with pytest.warns(EstimationWarning, match="perfect == 1 predicts y = 1"):
        res = probit("y ~ x1 + perfect", data)
    assert any("quasi-complete separation" in w for w in res.warnings)
    assert np.isfinite(res.params).all()


def test_complete_separation_is_reported() -> None:
    x = np.linspace(-1, 1, 60)
    y = (x > 0).astype(float)
    X = np.column_stack([np.ones(60), x])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = probit_from_arrays(y, X, ["Intercept", "x"])
    messages = " ".join(str(w.message) for w in caught if w.category is EstimationWarning)
    assert "separation" in messages
    assert res.warnings and (not res.converged or "complete separation" in messages)


def test_non_convergence_is_reported(sim) -> None:
    with pytest.warns(EstimationWarning, match="did not converge"):
        res = probit("y ~ x1 + x2", sim, maxiter=1)
    assert not res.converged
    assert any("did not converge" in w for w in res.warnings)


def test_rank_deficiency_names_the_terms(sim) -> None:
    data = sim.assign(x3=lambda d: 2 * d.x1 - d.x2)
    with pytest.raises(EstimationError, match="rank deficient") as err:
        probit("y ~ x1 + x2 + x3", data)
    assert any(name in str(err.value) for name in ("x1", "x2", "x3"))


@pytest.mark.parametrize(
    ("values", "message"),
    [([0, 1, 2] * 10, "must be 0/1"), ([1] * 30, "always 1")],
)
def test_bad_dependent_is_rejected(values, message) -> None:
    df = pd.DataFrame({"y": values, "x": np.arange(30.0)})
    with pytest.raises(EstimationError, match=message):
        probit("y ~ x", df)


def test_contradictory_options_are_rejected(sim) -> None:
    with pytest.raises(EstimationError, match="contradictory"):
        probit("y ~ x1", sim, cov="ML", cluster="g")
    with pytest.raises(EstimationError, match="cov='cluster' needs"):
        probit("y ~ x1", sim, cov="cluster")
    with pytest.raises(EstimationError, match="not a covariance type"):
        probit("y ~ x1", sim, cov="HC3")
    with pytest.raises(EstimationError, match="cluster column 'nope'"):
        probit("y ~ x1", sim, cluster="nope")
