"""Crossed random-effects probit: analytic gradients, recovery, the one-way limit of the
accurate method, and agreement with glmmTMB (Laplace) and the AGQ prototype."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from restraint.errors import EstimationError, EstimationWarning
from restraint.models import REProbitResults, crossed_re_probit, re_probit
from restraint.models._re_common import prepare
from restraint.models.crossed import _AGQ, _Laplace

FORMULA = "crisis ~ dp + jd + prep + contig + sc"
TERMS = ["Intercept", "dp", "jd", "prep", "contig", "sc"]
GROUPS = ("directed_dyad", "year")


def simulate_crossed(
    n_a: int,
    n_b: int,
    sigma_a: float,
    sigma_b: float,
    beta=(-0.5, 0.5),
    keep: float = 0.8,
    seed: int = 0,
) -> pd.DataFrame:
    """Binary outcome with crossed normal intercepts; each (a, b) cell kept w.p. ``keep``."""
    rng = np.random.default_rng(seed)
    a, b = np.meshgrid(np.arange(n_a), np.arange(n_b), indexing="ij")
    a, b = a.ravel(), b.ravel()
    sel = rng.random(a.size) < keep
    a, b = a[sel], b[sel]
    x = rng.normal(size=a.size)
    u = rng.normal(scale=sigma_a, size=n_a)[a]
    v = rng.normal(scale=sigma_b, size=n_b)[b]
    y = (beta[0] + beta[1] * x + u + v + rng.normal(size=a.size) > 0).astype(float)
    return pd.DataFrame({"y": y, "x": x, "g1": a, "g2": b})


def test_laplace_gradient_matches_finite_differences(fd_gradient) -> None:
    df = simulate_crossed(40, 7, 0.8, 0.5, seed=1)
    model = _Laplace(prepare("y ~ x", df, ["g1", "g2"]))
    theta = np.array([-0.4, 0.4, np.log(0.7), np.log(0.4)])
    _, grad = model.evaluate(theta)
    np.testing.assert_allclose(grad, fd_gradient(model.evaluate, theta), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("nodes", [3, 11])
def test_agq_gradient_matches_finite_differences(nodes: int, agq_gradients) -> None:
    # With the nodes held where they were adapted, the objective is smooth and the
    # analytic gradient (third cumulants through the log-determinant) is exact.
    df = simulate_crossed(60, 8, 0.8, 0.5, seed=1)
    model = _AGQ(prepare("y ~ x", df, ["g1", "g2"]), nodes)
    theta = np.array([-0.4, 0.4, np.log(0.7), np.log(0.4)])
    grad, fd = agq_gradients(model, theta)
    np.testing.assert_allclose(grad, fd, rtol=1e-6, atol=1e-6)


def test_agq_converges_in_the_number_of_nodes() -> None:
    df = simulate_crossed(80, 10, 1.2, 0.4, beta=(-1.5, 0.5), seed=2)
    theta = np.array([-1.5, 0.5, np.log(1.2), np.log(0.4)])
    llf = {}
    for nodes in (2, 15, 25):
        model = _AGQ(prepare("y ~ x", df, ["g1", "g2"]), nodes)
        model.adapt(theta)
        llf[nodes] = model.evaluate(theta)[0]
    gap15 = abs(llf[15] - llf[25])
    gap2 = abs(llf[2] - llf[25])
    assert gap15 < 2e-4
    assert gap2 > 50 * gap15


@pytest.mark.parametrize("method", ["laplace", "agq"])
def test_parameter_recovery_crossed(method: str) -> None:
    df = simulate_crossed(300, 15, 0.8, 0.5, beta=(-0.5, 0.5), seed=7)
    res = crossed_re_probit("y ~ x", df, ("g1", "g2"), method=method, nodes=9)
    assert isinstance(res, REProbitResults)
    assert res.converged, res.warnings
    assert abs(res.params["Intercept"] + 0.5) < 4 * res.bse["Intercept"]
    assert abs(res.params["x"] - 0.5) < 4 * res.bse["x"]
    assert abs(res.sigma["g1"] - 0.8) < 4 * res.sigma_bse["g1"]
    assert abs(res.sigma["g2"] - 0.5) < 4 * res.sigma_bse["g2"]
    assert list(res.sigma.index) == ["g1", "g2"]
    assert set(res.conditional_modes) == {"g1", "g2"}
    assert len(res.conditional_modes["g2"]) == 15
    assert res.lr_pvalue < 1e-6
    assert "g1" in res.summary() and "g2" in res.summary()
    assert res.df_model == 4


def test_group_order_only_changes_reporting_order() -> None:
    df = simulate_crossed(60, 6, 0.7, 0.4, seed=3)
    one = crossed_re_probit("y ~ x", df, ("g1", "g2"))
    two = crossed_re_probit("y ~ x", df, ("g2", "g1"))
    assert list(two.sigma.index) == ["g2", "g1"]
    assert two.sigma["g1"] == pytest.approx(one.sigma["g1"], rel=1e-5)
    assert two.llf == pytest.approx(one.llf, abs=1e-6)


def test_crossed_boundary_is_reported() -> None:
    rng = np.random.default_rng(0)
    rows = []
    for g in range(60):
        y = np.zeros(10)
        y[rng.choice(10, 3, replace=False)] = 1
        rows += [(g, i % 7, y[i], rng.normal()) for i in range(10)]
    df = pd.DataFrame(rows, columns=["g1", "g2", "y", "x"])
    with pytest.warns(EstimationWarning, match="boundary"):
        res = crossed_re_probit("y ~ x", df, ("g1", "g2"))
    assert np.isnan(res.sigma_bse).all()
    assert res.lr_pvalue > 0.2
    assert np.all(np.isfinite(res.bse))


def test_crossed_non_convergence_is_flagged() -> None:
    df = simulate_crossed(40, 6, 0.8, 0.5, seed=4)
    with pytest.warns(EstimationWarning, match="did not converge"):
        res = crossed_re_probit("y ~ x", df, ("g1", "g2"), maxiter=2)
    assert not res.converged


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"method": "gh"}, "method"),
        ({"groups": ("g1",)}, "exactly two"),
        ({"groups": ("g1", "g1")}, "must differ"),
        ({"method": "agq", "nodes": 0}, "nodes"),
    ],
)
def test_crossed_bad_options(kwargs: dict, match: str) -> None:
    df = simulate_crossed(10, 3, 0.5, 0.5)
    args = {"formula": "y ~ x", "data": df, "groups": ("g1", "g2"), **kwargs}
    with pytest.raises(EstimationError, match=match):
        crossed_re_probit(**args)


# -- reference results on the dyad-year fixture ------------------------------------------


@pytest.fixture(scope="module")
def fit_laplace(fixture_dyadyear: pd.DataFrame) -> REProbitResults:
    return crossed_re_probit(FORMULA, fixture_dyadyear, GROUPS, method="laplace")


@pytest.fixture(scope="module")
def fit_agq(fixture_dyadyear: pd.DataFrame) -> REProbitResults:
    return crossed_re_probit(FORMULA, fixture_dyadyear, GROUPS, method="agq", nodes=15)


def test_laplace_matches_glmmtmb(fit_laplace: REProbitResults, reference: dict) -> None:
    ref = reference["selection_glmmtmb_crossed"]
    for r_name, name, value, se in zip(ref["names"], TERMS, ref["coef"], ref["se"], strict=True):
        assert fit_laplace.params[name] == pytest.approx(value, abs=2e-3), r_name
        assert fit_laplace.bse[name] == pytest.approx(se, rel=1e-2), r_name
    assert fit_laplace.sigma["directed_dyad"] == pytest.approx(ref["sd_dyad"], abs=2e-3)
    assert fit_laplace.sigma["year"] == pytest.approx(ref["sd_year"], abs=2e-3)
    assert fit_laplace.llf == pytest.approx(ref["loglik"], abs=0.01)
    assert fit_laplace.converged
    modes = fit_laplace.conditional_modes["year"]
    assert len(modes) == 94 and modes.index.min() == 1918


@pytest.mark.slow
def test_agq_reaches_the_prototype_optimum(fit_agq: REProbitResults, reference: dict) -> None:
    ref = reference["selection_crossed_agq_prototype"]
    for name, value in zip(TERMS, ref["coef"], strict=True):
        assert fit_agq.params[name] == pytest.approx(value, abs=5e-3), name
    assert fit_agq.sigma["directed_dyad"] == pytest.approx(ref["sd_dyad"], abs=5e-3)
    assert fit_agq.sigma["year"] == pytest.approx(ref["sd_year"], abs=5e-3)
    assert fit_agq.llf >= ref["loglik"] - 0.05
    assert fit_agq.converged
    assert np.all(np.isfinite(fit_agq.bse)) and np.all(np.isfinite(fit_agq.sigma_bse))
    # The Laplace fit's inflated dyad σ is an artefact of the rare outcome.
    assert fit_agq.sigma["directed_dyad"] < 1.0


@pytest.mark.slow
def test_agq_reduces_to_the_one_way_adaptive_fit(fixture_dyadyear: pd.DataFrame) -> None:
    one = re_probit(FORMULA, fixture_dyadyear, "directed_dyad", method="agh", nodes=15)
    model = _AGQ(prepare(FORMULA, fixture_dyadyear, list(GROUPS)), 15)
    theta = np.r_[one.params.to_numpy(), np.log(one.sigma["directed_dyad"]), np.log(1e-4)]
    model.adapt(theta)
    llf, _ = model.evaluate(theta)
    assert llf == pytest.approx(one.llf, abs=1e-4)


def test_agq_corrects_for_an_unfinished_mode_step() -> None:
    # When the optimiser stops the small-factor Newton iterations early, the last step is
    # folded into the log-likelihood and the gradient to first order. Without that, a
    # mode 1e-3 off moves the gradient by about 0.06 here and the log-likelihood by 1e-4.
    df = simulate_crossed(60, 8, 0.8, 0.5, seed=1)
    model = _AGQ(prepare("y ~ x", df, ["g1", "g2"]), 11)
    theta = np.array([-0.4, 0.4, np.log(0.7), np.log(0.4)])
    model.adapt(theta)
    ref_llf, ref_grad = model.evaluate(theta, tol=1e-13)
    v_hat = model.v.copy()
    off = 1e-3 * np.random.default_rng(0).standard_normal(len(v_hat))
    model.v = v_hat + off
    model._theta_last = theta.copy()
    model._dv_dtheta[:] = 0.0  # no prediction: start from the displaced modes
    llf, grad = model.evaluate(theta, tol=1.0, maxiter=1)
    assert model.newton_iters == 1
    assert abs(llf - ref_llf) < 1e-6
    assert np.max(np.abs(grad - ref_grad)) < 1e-3 * np.max(np.abs(ref_grad))


def test_agq_loose_mode_tolerance_far_from_the_optimum_changes_nothing(monkeypatch) -> None:
    import restraint.models.crossed as crossed

    df = simulate_crossed(150, 12, 0.8, 0.4, beta=(-1.0, 0.5), seed=3)
    loose = crossed_re_probit("y ~ x", df, ("g1", "g2"), method="agq", nodes=9)
    monkeypatch.setattr(crossed, "_V_TOL_FACTOR", 0.0)
    tight = crossed_re_probit("y ~ x", df, ("g1", "g2"), method="agq", nodes=9)
    assert loose.converged and tight.converged
    assert abs(loose.llf - tight.llf) < 1e-8
    np.testing.assert_allclose(loose.params, tight.params, rtol=0, atol=1e-6)
    np.testing.assert_allclose(loose.bse, tight.bse, rtol=1e-4)
    np.testing.assert_allclose(loose.sigma, tight.sigma, rtol=1e-5)
