"""FIML probit with sample selection: Φ₂, likelihood, gradients, recovery, failure modes."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate, special, stats

from restraint.errors import EstimationError, EstimationWarning
from restraint.models import bivariate_normal_cdf, heckprobit, predict, probit
from restraint.models.heckprobit import (
    _build_problem,
    _hessian,
    _loglik_grad,
    _scores,
    bivariate_normal_pdf,
)


def bvn_by_quadrature(h: float, k: float, r: float) -> float:
    """Φ₂ as ∫_{-∞}^{h} φ(x) Φ((k − r x)/√(1 − r²)) dx, integrated adaptively."""
    s = np.sqrt(1 - r * r)

    def f(x: float) -> float:
        return float(np.exp(stats.norm.logpdf(x) + special.log_ndtr((k - r * x) / s)))

    return integrate.quad(f, -np.inf, h, epsabs=0, epsrel=1e-12, limit=500)[0]


def bvn_by_angle(h: float, k: float, r: float) -> float:
    """Φ₂ by the Sheppard/Drezner–Wesolowsky angle integral (finite range, fast):
    Φ(h)Φ(k) + (1/2π) ∫_0^{asin r} exp(−(h² + k² − 2hk sin t) / (2 cos² t)) dt."""

    def f(t: float) -> float:
        return float(np.exp(-(h * h + k * k - 2 * h * k * np.sin(t)) / (2 * np.cos(t) ** 2)))

    integral = integrate.quad(f, 0.0, np.arcsin(r), epsabs=1e-17, epsrel=1e-12, limit=200)[0]
    return float(special.ndtr(h) * special.ndtr(k) + integral / (2 * np.pi))


# ---------------------------------------------------------------------- Φ₂
def test_bvn_cdf_against_an_independent_formula() -> None:
    rng = np.random.default_rng(0)
    h, k = rng.normal(0, 2.5, (2, 300))
    r = rng.uniform(-0.98, 0.98, 300)
    h[::10], k[::15] = 0.0, 0.0
    ours = bivariate_normal_cdf(h, k, r)
    ref = np.array([bvn_by_angle(*v) for v in zip(h, k, r, strict=True)])
    assert np.max(np.abs(ours - ref)) < 1e-14
    big = ref > 1e-6
    assert np.max(np.abs(ours[big] / ref[big] - 1)) < 1e-9


@pytest.mark.parametrize(
    ("h", "k", "r"),
    [
        (-1, -10, 0.0),
        (-1, -10, 0.5),
        (5, -8, 0.3),
        (-8, 5, -0.3),
        (-3.5, 1, 0.9),
        (0, 0, 0.3),
        (-3.62, -0.0134, -0.88),
        (2.0, 3.0, -0.99),
        (-2.0, -2.0, 0.999),
    ],
)
def test_bvn_cdf_keeps_relative_accuracy_in_the_tails(h, k, r) -> None:
    ref = bvn_by_quadrature(h, k, r)
    assert bivariate_normal_cdf(h, k, r) == pytest.approx(ref, rel=1e-9, abs=1e-300)


@settings(max_examples=60, deadline=None)
@given(
    h=st.floats(-6, 6),
    k=st.floats(-6, 6),
    r=st.floats(-0.99, 0.99),
)
def test_bvn_cdf_identities(h: float, k: float, r: float) -> None:
    p = bivariate_normal_cdf(h, k, r)
    assert 0.0 <= p <= min(special.ndtr(h), special.ndtr(k)) + 1e-15
    assert p == pytest.approx(bivariate_normal_cdf(k, h, r), abs=1e-15)
    # P(X ≤ h, Y ≤ k) + P(X ≤ h, Y > k) = Φ(h)
    assert p + bivariate_normal_cdf(h, -k, -r) == pytest.approx(special.ndtr(h), abs=1e-14)
    product = special.ndtr(h) * special.ndtr(k)
    # Relative accuracy degrades in the far tail (documented): 1e-7 down to 1e-15.
    rel = 2e-7 if product > 1e-15 else 1e-4
    assert bivariate_normal_cdf(h, k, 0.0) == pytest.approx(product, rel=rel, abs=1e-300)


def test_bvn_pdf_is_the_derivative_in_rho() -> None:
    h, k, r, eps = 0.4, -1.1, 0.35, 1e-6
    numeric = (bivariate_normal_cdf(h, k, r + eps) - bivariate_normal_cdf(h, k, r - eps)) / (
        2 * eps
    )
    assert bivariate_normal_pdf(h, k, r) == pytest.approx(numeric, rel=1e-7)
    with pytest.raises(EstimationError, match="rho"):
        bivariate_normal_cdf(0.0, 0.0, 1.0)


# ---------------------------------------------------------------------- simulated data
def simulate(n: int, rho: float, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    df = pd.DataFrame(
        {"z": rng.normal(size=n), "x": rng.normal(size=n), "w": rng.binomial(1, 0.5, n)}
    )
    u = rng.normal(size=n)
    e = rho * u + np.sqrt(1 - rho**2) * rng.normal(size=n)
    df["s"] = (0.2 + 0.9 * df.z + 0.4 * df.x - 0.3 * df.w + u > 0).astype(int)
    outcome = (-0.1 + 0.7 * df.x + 0.5 * df.w + e > 0).astype(float)
    df["y"] = np.where(df.s == 1, outcome, np.nan)
    df["g"] = np.arange(n) // 5
    return df


SEL, OUT = "s ~ z + x + w", "y ~ x + w"
TRUTH = {
    "y:Intercept": -0.1,
    "y:x": 0.7,
    "y:w": 0.5,
    "s:Intercept": 0.2,
    "s:z": 0.9,
    "s:x": 0.4,
    "s:w": -0.3,
}


@pytest.fixture(scope="module")
def sim_rho() -> pd.DataFrame:
    return simulate(4000, 0.6, seed=42)


def test_recovers_beta_and_rho(sim_rho) -> None:
    res = heckprobit(SEL, OUT, sim_rho)
    assert res.converged and not res.warnings
    for name, value in TRUTH.items():
        assert abs(res.params[name] - value) < 4 * res.bse[name], name
    assert abs(res.athrho - np.arctanh(0.6)) < 4 * res.bse["athrho"]
    assert res.lr_pvalue < 0.01
    lo, hi = res.rho_ci()
    assert lo < 0.6 < hi and lo > 0
    assert res.rho_se == pytest.approx((1 - res.rho**2) * res.bse["athrho"])
    assert res.lr_stat == pytest.approx(2 * (res.llf - res.llf_independent))
    assert res.nobs == 4000 and res.n_selected == int(sim_rho.s.sum())
    assert list(res.outcome_params.index) == ["Intercept", "x", "w"]
    assert "LR test of rho = 0" in res.summary()


def test_independent_errors_give_an_insignificant_rho() -> None:
    res = heckprobit(SEL, OUT, simulate(3000, 0.0, seed=9))
    assert res.lr_pvalue > 0.05
    assert abs(res.rho) < 3 * res.rho_se


def test_loglik_at_rho_zero_is_two_probits(sim_rho) -> None:
    p, info = _build_problem(SEL, OUT, sim_rho, None)
    sel = probit(SEL, sim_rho)
    out = probit(OUT, sim_rho[sim_rho.s == 1])
    theta = np.concatenate([out.params, sel.params, [0.0]])
    llf, grad = _loglik_grad(p, theta)
    assert llf == pytest.approx(sel.llf + out.llf, rel=1e-12)
    # Both probits are at their optimum, so only the athrho component can be non-zero.
    np.testing.assert_allclose(grad[:-1], 0.0, atol=1e-6)


def test_loglik_against_an_independent_implementation(sim_rho) -> None:
    data = sim_rho.head(400)
    p, _ = _build_problem(SEL, OUT, data, None)
    rng = np.random.default_rng(1)
    theta = np.array(list(TRUTH.values()) + [0.4]) + rng.normal(0, 0.1, 8)
    beta, gamma, rho = theta[:3], theta[3:7], np.tanh(theta[7])
    zg = p.Z @ gamma
    expected = np.sum(stats.norm.logcdf(-zg[p.s == 0]))
    xb = p.X @ beta
    for xbi, zgi, yi in zip(xb, zg[p.sel], p.y, strict=True):
        q = 2 * yi - 1
        expected += np.log(bvn_by_angle(q * xbi, zgi, q * rho))
    assert _loglik_grad(p, theta)[0] == pytest.approx(expected, rel=1e-10)


@pytest.mark.parametrize("athrho", [-2.0, -0.3, 0.0, 0.8, 2.5])
def test_analytic_gradient_matches_central_differences(sim_rho, athrho) -> None:
    p, _ = _build_problem(SEL, OUT, sim_rho.head(1500), None)
    rng = np.random.default_rng(int(10 * athrho) + 50)
    noise = rng.normal(0, 0.2, 8)
    noise[-1] = 0.0
    theta = np.array(list(TRUTH.values()) + [athrho]) + noise
    _, grad = _loglik_grad(p, theta)
    numeric = np.empty_like(theta)
    for j in range(len(theta)):
        step = np.zeros_like(theta)
        step[j] = 1e-6
        numeric[j] = (_loglik_grad(p, theta + step)[0] - _loglik_grad(p, theta - step)[0]) / 2e-6
    np.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=1e-5)
    # Per-row scores add up to the gradient.
    np.testing.assert_allclose(_scores(p, theta).sum(axis=0), grad, rtol=1e-10, atol=1e-10)


def test_hessian_matches_differences_of_the_gradient(sim_rho) -> None:
    p, _ = _build_problem(SEL, OUT, sim_rho.head(1500), None)
    theta = np.array(list(TRUTH.values()) + [0.5])
    hess = _hessian(p, theta)
    numeric = np.empty_like(hess)
    for j in range(len(theta)):
        step = np.zeros_like(theta)
        step[j] = 1e-5
        numeric[:, j] = (_loglik_grad(p, theta + step)[1] - _loglik_grad(p, theta - step)[1]) / 2e-5
    np.testing.assert_allclose(hess, (numeric + numeric.T) / 2, rtol=1e-5, atol=1e-4)


def test_robust_and_cluster_covariances(sim_rho) -> None:
    ml = heckprobit(SEL, OUT, sim_rho)
    hc0 = heckprobit(SEL, OUT, sim_rho, cov="HC0")
    cl = heckprobit(SEL, OUT, sim_rho, cluster="g")
    np.testing.assert_allclose(ml.params, hc0.params)
    # Under a correct model the robust and ML errors agree roughly.
    ratio = hc0.bse / ml.bse
    assert ratio.between(0.7, 1.4).all()
    assert cl.n_clusters == 800 and cl.cov_type.startswith("cluster")
    assert not np.allclose(cl.bse, hc0.bse)


def test_dropped_rows_are_counted(sim_rho) -> None:
    data = sim_rho.copy()
    data.loc[data.index[:5], "z"] = np.nan  # selection variable: rows leave both equations
    chosen = data.index[(data.s == 1) & data.z.notna()][:3]
    data.loc[chosen, "x"] = np.nan  # also in the selection equation
    res = heckprobit(SEL, OUT, data)
    assert res.nobs == 4000 - 8
    assert res.n_dropped == 8
    assert res.dropped_by["selection: z"] == 5


@pytest.mark.filterwarnings("ignore::restraint.errors.EstimationWarning")
def test_rho_at_the_boundary_is_reported() -> None:
    rng = np.random.default_rng(3)
    n = 3000
    df = pd.DataFrame({"x": rng.normal(size=n), "z": rng.normal(size=n)})
    u = rng.normal(size=n)
    df["s"] = (0.2 + df.z + 0.5 * df.x + u > 0).astype(int)
    df["y"] = np.where(df.s == 1, (0.5 * df.x + u + 0.1 > 0).astype(float), np.nan)  # ρ = 1
    with pytest.warns(EstimationWarning, match="boundary"):
        res = heckprobit("s ~ z + x", "y ~ x", df)
    assert res.rho > 0.9999
    assert any("boundary" in w for w in res.warnings)


def test_bad_inputs(sim_rho) -> None:
    with pytest.raises(EstimationError, match="must be 0/1"):
        heckprobit("x ~ z", OUT, sim_rho)
    with pytest.raises(EstimationError, match="nothing is selected"):
        heckprobit(SEL, OUT, sim_rho.assign(s=0))
    with pytest.raises(EstimationError, match="same dependent"):
        heckprobit(SEL, "s ~ x", sim_rho)
    with pytest.raises(EstimationError, match="start has"):
        heckprobit(SEL, OUT, sim_rho, start=np.zeros(3))


def test_marginal_predictions_of_the_outcome_equation(sim_rho) -> None:
    res = heckprobit(SEL, OUT, sim_rho)
    pred = predict(res, at={"w": [0, 1]})
    beta = res.outcome_params
    xbar = sim_rho.loc[sim_rho.s == 1, "x"].mean()
    expected = special.ndtr(beta["Intercept"] + beta["x"] * xbar + beta["w"] * np.array([0, 1]))
    np.testing.assert_allclose(pred["predicted"], expected, rtol=1e-10)


# ---------------------------------------------------------------------- the fixture
@pytest.mark.slow
def test_fixture_fit(fixture_dyadyear) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", EstimationWarning)
        res = heckprobit(
            "crisis ~ dp + jd + prep + contig + sc",
            "milresp ~ mp + dp + jd + prep + contig + ic + mt",
            fixture_dyadyear,
        )
    assert res.converged
    assert res.nobs == 167_690 and res.n_selected == 671
    p, _ = _build_problem(
        "crisis ~ dp + jd + prep + contig + sc",
        "milresp ~ mp + dp + jd + prep + contig + ic + mt",
        fixture_dyadyear,
        None,
    )
    _, grad = _loglik_grad(p, res.params.to_numpy())
    assert np.max(np.abs(grad)) < 1e-4
    assert res.llf >= res.llf_independent - 1e-8
    # The selection equation is essentially the separate probit (the outcome rows are few).
    sel = probit("crisis ~ dp + jd + prep + contig + sc", fixture_dyadyear)
    np.testing.assert_allclose(res.selection_params, sel.params, atol=0.01)
