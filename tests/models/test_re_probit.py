"""One-way random-effects probit: quadrature rules, analytic derivatives, parameter
recovery, failure behaviour, and agreement with pglm and with adaptive quadrature."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import integrate, stats

from restraint.errors import EstimationError, EstimationWarning
from restraint.models import REProbitResults, re_probit
from restraint.models._re_common import chibar_pvalue, invert_information, prepare
from restraint.models.quadrature import (
    adaptive_rule,
    gauss_hermite,
    normal_rule,
    probit_logpdf,
)
from restraint.models.re_probit import _OneWayModel

FORMULA = "crisis ~ dp + jd + prep + contig + sc"
TERMS = ["Intercept", "dp", "jd", "prep", "contig", "sc"]


def simulate_oneway(
    n_groups: int, size: int, sigma: float, beta=(-0.8, 0.6, -0.4), seed: int = 0
) -> pd.DataFrame:
    """Binary panel with a normal random intercept per group."""
    rng = np.random.default_rng(seed)
    g = np.repeat(np.arange(n_groups), size)
    x1 = rng.normal(size=g.size)
    x2 = rng.binomial(1, 0.4, size=g.size).astype(float)
    u = rng.normal(scale=sigma, size=n_groups)[g]
    eta = beta[0] + beta[1] * x1 + beta[2] * x2 + u
    y = (eta + rng.normal(size=g.size) > 0).astype(float)
    return pd.DataFrame({"y": y, "x1": x1, "x2": x2, "g": g})


# -- quadrature building blocks -----------------------------------------------------------


def test_gauss_hermite_integrates_polynomials_against_exp_minus_x2() -> None:
    x, w = gauss_hermite(20)
    assert len(x) == 20
    # ∫ x^(2k) e^{-x²} dx = Γ(k + ½)
    from scipy.special import gamma

    for k in range(0, 10):
        assert np.sum(w * x ** (2 * k)) == pytest.approx(gamma(k + 0.5), rel=1e-10)
    assert np.sum(w * x**3) == pytest.approx(0.0, abs=1e-12)


def test_normal_rule_moments_and_adaptive_identity() -> None:
    xi, logw = normal_rule(15)
    w = np.exp(logw)
    assert w.sum() == pytest.approx(1.0, rel=1e-12)
    assert np.sum(w * xi**2) == pytest.approx(1.0, rel=1e-10)
    assert np.sum(w * xi**4) == pytest.approx(3.0, rel=1e-10)
    # With centre 0 and scale 1 the adaptive rule is the ordinary one.
    axi, alogw = adaptive_rule(np.zeros(3), np.ones(3), 15)
    np.testing.assert_allclose(axi, np.broadcast_to(xi, (3, 15)), atol=1e-14)
    np.testing.assert_allclose(alogw, np.broadcast_to(logw, (3, 15)), atol=1e-12)


def test_adaptive_rule_integrates_a_concentrated_posterior() -> None:
    # A group of 30 binary outcomes: the integrand is concentrated away from 0, where the
    # ordinary rule fails and the adaptive one is accurate.
    def lik(xi):
        return stats.norm.cdf(-1 + 1.5 * xi) ** 20 * stats.norm.cdf(1 - 1.5 * xi) ** 10

    exact, _ = integrate.quad(
        lambda xi: lik(xi) * stats.norm.pdf(xi),
        -12,
        12,
        epsabs=1e-300,
        epsrel=1e-13,
        points=[0.9],
        limit=200,
    )
    grid = np.linspace(-3, 4, 70001)
    h = np.log(lik(grid) * stats.norm.pdf(grid))
    i = int(np.argmax(h))
    step = grid[1] - grid[0]
    curv = (h[i + 1] - 2 * h[i] + h[i - 1]) / step**2
    xi, logw = adaptive_rule(np.array([grid[i]]), np.array([1 / np.sqrt(-curv)]), 15)
    adaptive = np.sum(np.exp(logw[0]) * lik(xi[0]))
    assert adaptive == pytest.approx(exact, rel=1e-8)
    x0, l0 = normal_rule(15)
    assert abs(np.sum(np.exp(l0) * lik(x0)) / exact - 1) > 0.05


@pytest.mark.parametrize("t0", [-12.0, -8.0, -1.3, 0.0, 2.5, 9.0])
def test_probit_logpdf_derivatives_by_finite_differences(t0: float) -> None:
    h = 1e-5 * max(1.0, abs(t0))
    lo, mid, hi = (probit_logpdf(np.array([t]), order=3) for t in (t0 - h, t0, t0 + h))
    for k in range(3):
        fd = (hi[k][0] - lo[k][0]) / (2 * h)
        # Differences of rounded values limit the agreement far in the tail.
        assert fd == pytest.approx(mid[k + 1][0], rel=3e-5, abs=1e-9)
    assert mid[0][0] == pytest.approx(stats.norm.logcdf(t0), rel=1e-12)


def test_probit_logpdf_stays_finite_in_the_far_tail() -> None:
    t = np.array([-1e3, -200.0, -38.0, 40.0])
    logcdf, mills, d2, d3 = probit_logpdf(t, order=3)
    assert np.all(np.isfinite(logcdf)) and np.all(np.isfinite(d3))
    # Asymptotics: log Φ(t) ≈ -t²/2 - log(-t √(2π)), Mills ratio ≈ -t, d² → -1.
    assert logcdf[0] == pytest.approx(-5e5 - np.log(1e3 * np.sqrt(2 * np.pi)), rel=1e-9)
    assert mills[1] == pytest.approx(200.005, rel=1e-5)
    assert d2[2] == pytest.approx(-1.0, abs=1e-3)
    assert logcdf[3] == 0.0 and mills[3] < 1e-300


def test_chibar_pvalue_halves_the_naive_one() -> None:
    lr = 3.2
    assert chibar_pvalue(lr, 1) == pytest.approx(0.5 * stats.chi2.sf(lr, 1))
    assert chibar_pvalue(0.0, 1) == 1.0
    assert chibar_pvalue(lr, 2) == pytest.approx(
        0.5 * stats.chi2.sf(lr, 1) + 0.25 * stats.chi2.sf(lr, 2)
    )


# -- analytic derivatives ----------------------------------------------------------------


@pytest.mark.parametrize("method", ["gh", "agh"])
def test_oneway_gradient_and_hessian_match_finite_differences(method: str) -> None:
    df = simulate_oneway(40, 6, 0.9, seed=3)
    prep = prepare("y ~ x1 + x2", df, ["g"])
    model = _OneWayModel(prep, method, 12)
    theta = np.array([-0.7, 0.5, -0.3, np.log(0.8)])
    llf, grad, hess = model.evaluate(theta, hessian=True)
    h = 1e-5
    fd_grad = np.empty_like(theta)
    fd_hess = np.empty((4, 4))
    for j in range(4):
        e = np.zeros(4)
        e[j] = h
        fp, gp, _ = model.evaluate(theta + e)
        fm, gm, _ = model.evaluate(theta - e)
        fd_grad[j] = (fp - fm) / (2 * h)
        fd_hess[:, j] = (gp - gm) / (2 * h)
    # gh: nodes fixed, derivatives exact. agh: the nodes follow θ, so the fixed-node
    # derivatives differ from these differences by the order of the quadrature error.
    tol = 1e-6 if method == "gh" else 1e-4
    np.testing.assert_allclose(grad, fd_grad, rtol=tol, atol=tol)
    np.testing.assert_allclose(hess, fd_hess, rtol=10 * tol, atol=10 * tol)


# -- fitting ------------------------------------------------------------------------------


def test_parameter_recovery_on_simulated_panel() -> None:
    truth = {"Intercept": -0.8, "x1": 0.6, "x2": -0.4}
    df = simulate_oneway(400, 8, 0.9, beta=tuple(truth.values()), seed=11)
    res = re_probit("y ~ x1 + x2", df, "g", method="agh", nodes=12)
    assert isinstance(res, REProbitResults)
    assert res.converged
    for name, value in truth.items():
        assert abs(res.params[name] - value) < 4 * res.bse[name]
    assert abs(res.sigma["g"] - 0.9) < 4 * res.sigma_bse["g"]
    # A real group effect: the boundary-corrected LR test rejects σ = 0.
    assert res.lr_pvalue < 1e-6
    assert res.lr_stat == pytest.approx(2 * (res.llf - res.llf_pooled))
    # gh with many nodes agrees with agh on this easy problem.
    gh = re_probit("y ~ x1 + x2", df, "g", method="gh", nodes=30)
    np.testing.assert_allclose(gh.params, res.params, atol=2e-3)
    assert gh.sigma["g"] == pytest.approx(res.sigma["g"], abs=2e-3)


def test_results_object_carries_modes_xb_and_summary() -> None:
    df = simulate_oneway(60, 5, 0.7, seed=5)
    res = re_probit("y ~ x1 + x2", df, "g")
    modes = res.conditional_modes["g"]
    assert len(modes) == 60 and modes.index.tolist() == list(range(60))
    # Groups with more successes get larger predicted effects.
    rate = df.groupby("g")["y"].mean()
    assert np.corrcoef(rate, modes)[0, 1] > 0.5
    new = pd.DataFrame({"x1": [0.0, 1.0, np.nan], "x2": [1.0, 0.0, 1.0]})
    xb = res.xb(new)
    assert xb[0] == pytest.approx(res.params["Intercept"] + res.params["x2"])
    assert xb[1] == pytest.approx(res.params["Intercept"] + res.params["x1"])
    assert np.isnan(xb[2])
    text = res.summary()
    assert "sigma" in text and "LR test" in text and "nodes = 20" in text
    assert res.df_model == 4
    frame = res.sigma_frame()
    assert frame.loc["g", "groups"] == 60
    assert res.cov_full.shape == (4, 4)


def test_missing_rows_are_dropped_and_counted() -> None:
    df = simulate_oneway(30, 5, 0.7, seed=2)
    df.loc[[0, 7], "x1"] = np.nan
    df.loc[9, "g"] = np.nan
    res = re_probit("y ~ x1 + x2", df, "g")
    assert res.nobs == len(df) - 3
    assert res.extra["n_dropped"] == 3
    assert res.extra["dropped_by"] == {"g": 1, "x1": 2}


# -- failure behaviour --------------------------------------------------------------------


def test_sigma_at_boundary_is_reported_not_nan_silently() -> None:
    # Every group has exactly 3 successes in 10 rows: less between-group spread than
    # binomial sampling alone gives, so the ML estimate of σ is the boundary 0.
    rng = np.random.default_rng(0)
    rows = []
    for g in range(60):
        y = np.zeros(10)
        y[rng.choice(10, 3, replace=False)] = 1
        rows += [(g, y[i], rng.normal()) for i in range(10)]
    df = pd.DataFrame(rows, columns=["g", "y", "x"])
    with pytest.warns(EstimationWarning, match="boundary"):
        res = re_probit("y ~ x", df, "g")
    assert res.sigma["g"] < 1e-3
    assert np.isnan(res.sigma_bse["g"])
    assert any("boundary" in w for w in res.warnings)
    assert res.lr_pvalue > 0.4
    assert np.all(np.isfinite(res.bse))


def test_non_convergence_is_flagged() -> None:
    df = simulate_oneway(50, 5, 0.8, seed=1)
    with pytest.warns(EstimationWarning, match="did not converge"):
        res = re_probit("y ~ x1 + x2", df, "g", maxiter=1)
    assert not res.converged
    assert any("did not converge" in w for w in res.warnings)


def test_all_zero_groups_are_kept_and_counted() -> None:
    df = simulate_oneway(80, 6, 1.0, beta=(-1.5, 0.5, 0.0), seed=4)
    zero = df.groupby("g")["y"].transform("sum") == 0
    assert zero.any()
    with warnings.catch_warnings():
        warnings.simplefilter("error", EstimationWarning)
        res = re_probit("y ~ x1 + x2", df, "g", method="agh")
    assert res.nobs == len(df)
    counts = res.extra["group_counts"]["g"]
    assert counts["all_zero"] == int(df.groupby("g")["y"].sum().eq(0).sum())
    assert np.all(np.isfinite(res.conditional_modes["g"]))
    # All-zero groups get negative predicted effects.
    assert (res.conditional_modes["g"][df.groupby("g")["y"].sum() == 0] < 0).all()


def test_every_group_constant_warns_that_sigma_diverges() -> None:
    rng = np.random.default_rng(0)
    rows = []
    for g in range(40):
        yy = float(rng.random() < 0.4)
        rows += [(g, yy, rng.normal()) for _ in range(5)]
    df = pd.DataFrame(rows, columns=["g", "y", "x"])
    with pytest.warns(EstimationWarning):
        res = re_probit("y ~ x", df, "g")
    assert any("constant outcome" in w for w in res.warnings)
    assert res.sigma["g"] > 5 or not res.converged


def test_singular_information_gives_nan_with_a_note() -> None:
    notes: list[str] = []
    cov = invert_information(-np.array([[1.0, 1.0], [1.0, 1.0]]), ["a", "b"], notes)
    assert np.isnan(cov).all()
    assert "singular" in notes[0] and "'a'" in notes[0]


def test_separation_is_warned() -> None:
    df = simulate_oneway(40, 6, 0.5, seed=8)
    df["z"] = (df.index % 9 == 0).astype(float)
    df.loc[df.z == 1, "y"] = 0.0
    with pytest.warns(EstimationWarning):
        res = re_probit("y ~ x1 + z", df, "g")
    assert any("separated" in w or "singular" in w for w in res.warnings)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"method": "laplace"}, "method"),
        ({"nodes": 0}, "nodes"),
        ({"group": "nope"}, "grouping column 'nope'"),
    ],
)
def test_bad_options_raise_clear_errors(kwargs: dict, match: str) -> None:
    df = simulate_oneway(10, 4, 0.5)
    args = {"formula": "y ~ x1", "data": df, "group": "g", **kwargs}
    with pytest.raises(EstimationError, match=match):
        re_probit(**args)


def test_bad_outcomes_raise_clear_errors() -> None:
    df = simulate_oneway(10, 4, 0.5)
    bad = df.assign(y=df["y"] * 2)
    with pytest.raises(EstimationError, match="must be 0/1"):
        re_probit("y ~ x1", bad, "g")
    with pytest.raises(EstimationError, match="constant"):
        re_probit("y ~ x1", df.assign(y=0.0), "g")
    with pytest.raises(EstimationError, match="rank deficient"):
        re_probit("y ~ x1 + x3", df.assign(x3=2 * df["x1"]), "g")


# -- reference results on the dyad-year fixture ------------------------------------------


@pytest.fixture(scope="module")
def fit_gh(fixture_dyadyear: pd.DataFrame) -> REProbitResults:
    return re_probit(FORMULA, fixture_dyadyear, "directed_dyad", method="gh")


@pytest.fixture(scope="module")
def fit_agh(fixture_dyadyear: pd.DataFrame) -> REProbitResults:
    return re_probit(FORMULA, fixture_dyadyear, "directed_dyad", method="agh")


def test_gh20_matches_pglm(fit_gh: REProbitResults, reference: dict) -> None:
    ref = reference["selection_pglm"]
    coef = dict(zip(ref["names"], ref["coef"], strict=True))
    se = dict(zip(ref["names"], ref["se"], strict=True))
    assert fit_gh.nodes == 20 and fit_gh.converged
    for r_name, name in zip(ref["names"][:6], TERMS, strict=True):
        assert fit_gh.params[name] == pytest.approx(coef[r_name], abs=1e-3)
        assert fit_gh.bse[name] == pytest.approx(se[r_name], rel=1e-2)
    assert fit_gh.sigma["directed_dyad"] == pytest.approx(coef["sigma"], abs=1e-3)
    assert fit_gh.sigma_bse["directed_dyad"] == pytest.approx(se["sigma"], rel=1e-2)
    assert fit_gh.llf == pytest.approx(ref["loglik"], abs=1e-3)
    assert fit_gh.nobs == 167690


def test_agh15_matches_reference_adaptive_fit(fit_agh: REProbitResults, reference: dict) -> None:
    ref = reference["selection_glmm_agq15_oneway"]
    for r_name, name, value, se in zip(ref["names"], TERMS, ref["coef"], ref["se"], strict=True):
        assert fit_agh.params[name] == pytest.approx(value, abs=1e-3), r_name
        assert fit_agh.bse[name] == pytest.approx(se, rel=2e-2), r_name
    assert fit_agh.sigma["directed_dyad"] == pytest.approx(ref["sigma"], abs=1e-3)
    assert fit_agh.llf == pytest.approx(ref["loglik"], abs=1e-3)
    # The non-adaptive rule overstates the likelihood slightly on this rare-event data.
    assert fit_agh.llf < reference["selection_pglm"]["loglik"]


def test_xb_reproduces_the_imr_inputs(
    fit_gh: REProbitResults, reference: dict, fixture_dyadyear: pd.DataFrame
) -> None:
    xb = fit_gh.xb(fixture_dyadyear)
    assert xb.shape == (len(fixture_dyadyear),)
    imr = stats.norm.pdf(xb) / stats.norm.cdf(xb)
    ref = reference["imr_summary"]
    first = ref.get("first5") or ref.get("head") or ref.get("first")
    if first is not None:
        np.testing.assert_allclose(imr[: len(first)], first, rtol=1e-3)
    mean = ref.get("mean")
    if mean is not None:
        assert imr.mean() == pytest.approx(mean, rel=1e-3)


def test_inner_threads_is_per_thread_and_restored(monkeypatch) -> None:
    import threading

    from restraint.models import inner_threads, process_threads
    from restraint.models._re_common import n_threads

    monkeypatch.setenv("RESTRAINT_THREADS", "4")
    assert process_threads() == 4 and n_threads() == 4
    seen: list[int] = []
    with inner_threads(1):
        assert n_threads() == 1
        # Another thread is not affected.
        t = threading.Thread(target=lambda: seen.append(n_threads()))
        t.start()
        t.join()
        with inner_threads(8):
            assert n_threads() == 4  # never more than the process allows
        assert n_threads() == 1
    assert seen == [4]
    assert n_threads() == 4
