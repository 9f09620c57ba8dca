"""Compiled kernels of the random-effects probits: the tabulated log Φ and Mills ratio
against scipy, the per-group modes against a scalar optimiser, and the crossed AGQ pieces
(repeated cells, the approximate Hessian) against finite differences."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import optimize, special

from restraint.models._re_common import fd_hessian, group_modes, prepare
from restraint.models.crossed import _AGQ
from restraint.models.quadrature import probit_logpdf


def _reference(t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    # erfcx gives the Mills ratio without the cancellation of exp(log φ - log Φ).
    return special.log_ndtr(t), np.sqrt(2 / np.pi) / special.erfcx(-t / np.sqrt(2))


@pytest.mark.parametrize(
    ("lo", "hi", "tol"),
    [(-12.0, 10.0, 5e-15), (-40.0, -12.0, 2e-13), (10.0, 40.0, 1e-15)],
)
def test_log_cdf_and_mills_match_scipy(lo: float, hi: float, tol: float) -> None:
    # Inside [-12, 10] the values come from the polynomial table; outside from formulas.
    t = np.linspace(lo, hi, 200_001)
    logcdf, mills, _, _ = probit_logpdf(t, order=1)
    ref_lc, ref_m = _reference(t)
    scale = np.maximum(1.0, np.abs(ref_lc))
    assert np.max(np.abs(logcdf - ref_lc) / scale) < tol
    assert np.max(np.abs(mills - ref_m) / np.maximum(1.0, ref_m)) < tol


def test_far_lower_tail_is_finite_and_asymptotic() -> None:
    t = -np.logspace(1.5, 8, 200)
    logcdf, mills, d2, d3 = probit_logpdf(t, order=3)
    assert np.all(np.isfinite(logcdf)) and np.all(np.isfinite(mills))
    ref_lc, ref_m = _reference(t)
    np.testing.assert_allclose(logcdf, ref_lc, rtol=1e-14)
    np.testing.assert_allclose(mills, ref_m, rtol=1e-13)
    # φ/Φ = -t - 1/t + 2/t³ + O(t⁻⁵) and d²/dt² log Φ → -1 as t → -∞.
    np.testing.assert_allclose(mills, -t - 1 / t + 2 / t**3, rtol=1e-7)
    assert np.all(np.isfinite(d2)) and np.all(np.isfinite(d3))
    # d² log Φ/dt² = -m (t + m) cancels as t → -∞ (absolute error ≈ 1e-16 t²); within
    # |t| ≤ 1e4, far beyond any index a probit fit meets, it is still -1 + 1/t² + O(t⁻⁴).
    near = t > -1e4
    np.testing.assert_allclose(d2[near], -1.0 + 1.0 / t[near] ** 2, atol=1e-5)


def test_derivatives_match_finite_differences() -> None:
    t = np.linspace(-9.0, 8.0, 3001)
    h = 1e-5
    _, m, d2, d3 = probit_logpdf(t, order=3)
    _, m_hi, d2_hi, _ = probit_logpdf(t + h, order=3)
    _, m_lo, d2_lo, _ = probit_logpdf(t - h, order=3)
    np.testing.assert_allclose(d2, (m_hi - m_lo) / (2 * h), rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(d3, (d2_hi - d2_lo) / (2 * h), rtol=1e-5, atol=1e-9)


def test_probit_logpdf_keeps_shape_and_rejects_bad_order() -> None:
    t = np.linspace(-3, 3, 12).reshape(3, 4)
    out = probit_logpdf(t, order=2)
    assert out[0].shape == (3, 4) and out[2].shape == (3, 4) and out[3] is None
    with pytest.raises(ValueError, match="order"):
        probit_logpdf(t, order=4)


def test_group_modes_match_a_scalar_optimiser() -> None:
    rng = np.random.default_rng(3)
    sizes = rng.integers(1, 30, size=40)
    codes = np.repeat(np.arange(len(sizes)), sizes)
    starts = np.r_[0, np.cumsum(sizes)[:-1]]
    c = rng.normal(-1.5, 1.0, size=codes.size)
    q = np.where(rng.random(codes.size) < 0.2, 1.0, -1.0)
    sigma = 0.9
    modes, scale, ok = group_modes(c, q, sigma, starts)
    assert ok
    for g in range(len(sizes)):
        rows = codes == g

        def neg(x: float, rows: np.ndarray = rows) -> float:
            return -(special.log_ndtr(q[rows] * (c[rows] + sigma * x)).sum() - 0.5 * x * x)

        best = optimize.minimize_scalar(
            neg, bounds=(-10, 10), method="bounded", options={"xatol": 1e-10}
        )
        assert modes[g] == pytest.approx(best.x, abs=1e-6)
        # Curvature scale from a second difference of the log density at the mode.
        h = 1e-4
        curv = -(neg(modes[g] + h) - 2 * neg(modes[g]) + neg(modes[g] - h)) / h**2
        assert scale[g] == pytest.approx(1 / np.sqrt(-curv), rel=1e-4)


def _crossed_with_repeats(seed: int = 5) -> pd.DataFrame:
    """Crossed design in which some (a, b) cells hold several rows."""
    rng = np.random.default_rng(seed)
    a, b = np.meshgrid(np.arange(50), np.arange(7), indexing="ij")
    a, b = a.ravel(), b.ravel()
    keep = rng.random(a.size) < 0.8
    a, b = a[keep], b[keep]
    extra = rng.random(a.size) < 0.3
    a, b = np.r_[a, a[extra]], np.r_[b, b[extra]]
    x = rng.normal(size=a.size)
    eta = -0.6 + 0.5 * x + rng.normal(0, 0.8, 50)[a] + rng.normal(0, 0.5, 7)[b]
    y = (eta + rng.normal(size=a.size) > 0).astype(float)
    return pd.DataFrame({"y": y, "x": x, "g1": a, "g2": b})


def test_agq_gradient_with_repeated_cells(agq_gradients) -> None:
    # Rows sharing a (large, small) cell enter the curvature together; the kernel sums
    # both orders of such pairs on the diagonal.
    df = _crossed_with_repeats()
    prep = prepare("y ~ x", df, ["g1", "g2"])
    assert prep.X.shape[0] > len(df.drop_duplicates(["g1", "g2"]))
    model = _AGQ(prep, 9)
    theta = np.array([-0.5, 0.4, np.log(0.7), np.log(0.4)])
    grad, fd = agq_gradients(model, theta)
    np.testing.assert_allclose(grad, fd, rtol=1e-6, atol=1e-6)


def test_agq_approximate_hessian_is_close_to_the_exact_one() -> None:
    # The optimiser's Hessian leaves out part of the log-determinant's curvature: it must
    # stay close enough for Newton steps to contract fast (and negative definite).
    df = _crossed_with_repeats(seed=7)
    model = _AGQ(prepare("y ~ x", df, ["g1", "g2"]), 11)
    theta = np.array([-0.5, 0.4, np.log(0.8), np.log(0.5)])
    model.adapt(theta)
    _, grad = model.evaluate(theta, tol=1e-12)
    approx = model.approx_hessian.copy()
    exact = fd_hessian(lambda th: model.evaluate(th, tol=1e-12)[1], theta, 1e-5, g0=grad)
    exact = 0.5 * (exact + exact.T)
    assert np.all(np.linalg.eigvalsh(approx) < 0)
    ratio = np.linalg.eigvals(np.linalg.solve(exact, approx)).real
    assert ratio.min() > 0.7 and ratio.max() < 1.3


def test_fits_in_concurrent_threads_match_and_restore_blas() -> None:
    # The study fits selection stages side by side in threads: each result must be what
    # the same fit gives alone (in a worker thread), and the process-wide BLAS limit must
    # come back when the last fit ends.
    from concurrent.futures import ThreadPoolExecutor

    from threadpoolctl import threadpool_info

    from restraint.models import crossed_re_probit, re_probit

    df1 = _crossed_with_repeats(seed=11)
    df2 = _crossed_with_repeats(seed=12)

    def fit_crossed():
        return crossed_re_probit("y ~ x", df1, ["g1", "g2"], method="agq", nodes=7)

    def fit_oneway():
        return re_probit("y ~ x", df2, "g1", method="gh", nodes=10)

    def blas_threads() -> list[int]:
        return [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"]

    before = blas_threads()
    with ThreadPoolExecutor(1) as ex:
        alone = [ex.submit(fit_crossed).result(), ex.submit(fit_oneway).result()]
    with ThreadPoolExecutor(2) as ex:
        futures = [ex.submit(fit_crossed), ex.submit(fit_oneway)]
        together = [f.result() for f in futures]
    for a, b in zip(alone, together, strict=True):
        assert a.llf == b.llf
        np.testing.assert_array_equal(a.params.to_numpy(), b.params.to_numpy())
        np.testing.assert_array_equal(a.bse.to_numpy(), b.bse.to_numpy())
    assert blas_threads() == before
