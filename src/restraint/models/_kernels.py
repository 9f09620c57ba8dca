"""Compiled inner loops for the quadrature-based random-effects probits.

The random-effects likelihoods touch every (row, quadrature node) pair several times per
evaluation: millions of pairs, each needing ``log Φ`` and its derivatives. In numpy every
step is a separate pass over (K, N) arrays, and memory traffic, not arithmetic, sets the
time. These numba kernels fuse the passes: one loop per group computes the log-density,
its derivatives and the sums the likelihood needs.

The kernels are compiled with ``nogil=True`` so that the callers' thread pools
(:func:`restraint.models._re_common.run_blocks`) run them in parallel, and ``cache=True``
so that the compilation (a few seconds) happens once per installation, not once per
process.

``log Φ`` and the Mills ratio are the costly part (``erfc``, ``log`` and ``exp`` take about
70 ns per pair here). On ``[-12, 10]``, where nearly every pair falls, they are read from
a table of piecewise polynomials (degree 8 on intervals of width 1/8, interpolated at
Chebyshev points from scipy's ``log_ndtr`` and ``erfcx`` at import), a few ns per pair and
within 3e-15 of scipy relative to ``max(1, |value|)``. Outside that range the scalar
``log Φ`` follows the usual three-branch scheme (upper tail by ``log1p``,
middle by ``erfc``, far lower tail by the asymptotic series of the Mills ratio); it is
tested against :func:`scipy.special.log_ndtr` over the whole real line.
"""

from __future__ import annotations

import math

import numba
import numpy as np
from numpy.polynomial import chebyshev
from scipy import special

_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)
_INV_SQRT2 = 1.0 / math.sqrt(2.0)

_jit = numba.njit(nogil=True, cache=True, error_model="numpy")
_jit_inline = numba.njit(nogil=True, cache=True, error_model="numpy", inline="always")


@_jit_inline
def log_ndtr_mills(t: float) -> tuple[float, float]:
    """``log Φ(t)`` and the inverse Mills ratio ``φ(t)/Φ(t)``, accurate over the real line.

    Upper half by ``log1p`` (no loss where Φ is close to 1), middle by ``erfc``, and the
    far lower tail by the asymptotic series ``Φ(t) = φ(t)/(-t) · S``,
    ``S = 1 - 1/t² + 3/t⁴ - …``, which also gives the Mills ratio ``-t/S`` without the
    cancellation of ``exp(log φ - log Φ)``.
    """
    if t > 0.0:
        lc = math.log1p(-0.5 * math.erfc(t * _INV_SQRT2))
        return lc, math.exp(-0.5 * t * t - lc - _LOG_SQRT_2PI)
    if t > -20.0:
        cdf = 0.5 * math.erfc(-t * _INV_SQRT2)
        return math.log(cdf), math.exp(-0.5 * t * t - _LOG_SQRT_2PI) / cdf
    t2 = t * t
    inv = 1.0 / t2
    term = 1.0
    total = 1.0
    for k in range(1, 40):
        term *= -(2 * k - 1) * inv
        total += term
        if abs(term) < 1e-17:
            break
    return -0.5 * t2 - math.log(-t) - _LOG_SQRT_2PI + math.log(total), -t / total


# Piecewise-polynomial table for log Φ(t) and φ(t)/Φ(t) on [_TAB_LO, _TAB_LO + _TAB_N / _TAB_INV_H).
_TAB_LO = -12.0
_TAB_INV_H = 8.0
_TAB_N = 176
_TAB_DEG = 8


def _build_table() -> np.ndarray:
    """Coefficients ``tab[j, d, f]`` of ``s**d`` for function ``f`` (0: log Φ, 1: Mills)
    on interval ``j``, in the local variable ``s ∈ [-1, 1]``."""
    h = 1.0 / _TAB_INV_H
    tab = np.empty((_TAB_N, _TAB_DEG + 1, 2))
    for j in range(_TAB_N):
        mid = _TAB_LO + (j + 0.5) * h

        def logcdf(s: np.ndarray, mid: float = mid) -> np.ndarray:
            return special.log_ndtr(mid + 0.5 * h * s)

        def mills_ratio(s: np.ndarray, mid: float = mid) -> np.ndarray:
            # φ/Φ = √(2/π) / erfcx(-t/√2): no cancellation anywhere.
            return math.sqrt(2.0 / math.pi) / special.erfcx(-(mid + 0.5 * h * s) * _INV_SQRT2)

        for f, fn in enumerate((logcdf, mills_ratio)):
            tab[j, :, f] = chebyshev.cheb2poly(chebyshev.chebinterpolate(fn, _TAB_DEG))
    tab.setflags(write=False)
    return tab


PROBIT_TABLE = _build_table()


@_jit_inline
def logcdf_mills(t: float, tab: np.ndarray) -> tuple[float, float]:
    """``log Φ(t)`` and ``φ(t)/Φ(t)``: from the table ``PROBIT_TABLE`` where it covers
    ``t``, else by :func:`log_ndtr_mills`."""
    u = (t - _TAB_LO) * _TAB_INV_H
    if u >= 0.0 and u < _TAB_N:
        j = int(u)
        s = 2.0 * (u - j) - 1.0
        a = tab[j, _TAB_DEG, 0]
        b = tab[j, _TAB_DEG, 1]
        for d in range(_TAB_DEG - 1, -1, -1):
            a = a * s + tab[j, d, 0]
            b = b * s + tab[j, d, 1]
        return a, b
    return log_ndtr_mills(t)


@_jit
def probit_logpdf_array(t: np.ndarray, order: int, tab: np.ndarray):
    """Array version (1-D ``t``) of :func:`restraint.models.quadrature.probit_logpdf`."""
    n = t.shape[0]
    logcdf = np.empty(n)
    m = np.empty(n)
    d2 = np.empty(n if order >= 2 else 0)
    d3 = np.empty(n if order >= 3 else 0)
    for i in range(n):
        ti = t[i]
        lc, mi = logcdf_mills(ti, tab)
        logcdf[i] = lc
        m[i] = mi
        if order >= 2:
            tm = ti + mi
            d2[i] = -mi * tm
            if order >= 3:
                d3[i] = mi * (tm * (tm + mi) - 1.0)
    return logcdf, m, d2, d3


@_jit
def agq_pass(
    c, q, b, starts, xi, logw, sa, final, X, d1, d2, d3, w1, post, dmat, gv, hd, scores, gvp_e, tab
):
    """One adaptive-quadrature pass over a block of large-factor groups (crossed AGQ).

    Rows ``starts[g]:starts[g+1]`` belong to group ``g``; ``b`` is each row's small-factor
    code and ``c`` its linear predictor including the small-factor effect. With
    ``ℓ_ik = log Φ(q_i(c_i + σ ξ_gk))`` it fills, per row and node, ``d1 = ∂ℓ/∂η``,
    ``d2 = ∂²ℓ/∂η²`` and (``final``) ``d3``; per group the posterior node weights ``post``;
    per row the posterior mean ``w1`` of ``d1``; per small-factor level the sums ``gv`` of
    ``w1`` and ``hd`` of the posterior mean of ``d2``; and ``dmat[g*K + k, b]``, the row
    deviations ``d1 - w1`` summed by (group, node) and level (caller zeroes ``dmat``,
    ``gv``, ``hd``, ``gvp_e``). With ``final`` also the group scores at each node,
    ``scores[g, k] = (Σ_i d1 x_i, ξ_gk Σ_i d1)``, and ``gvp_e[b]``, the posterior-expected
    second-derivative part of ∂G'/∂(β, σ) by level. Returns the sum of the groups' log
    integrated likelihoods.
    """
    n_c, n_k = xi.shape
    p = X.shape[1]
    f = np.empty(n_k)
    ll = 0.0
    for g in range(n_c):
        lo = starts[g]
        hi = starts[g + 1]
        for k in range(n_k):
            f[k] = logw[g, k]
        for i in range(lo, hi):
            qi = q[i]
            ci = c[i]
            for k in range(n_k):
                t = qi * (ci + sa * xi[g, k])
                lc, m = logcdf_mills(t, tab)
                f[k] += lc
                d1[i, k] = qi * m
                tm = t + m
                d2[i, k] = -m * tm
                if final:
                    d3[i, k] = qi * m * (tm * (tm + m) - 1.0)
        fmax = f[0]
        for k in range(1, n_k):
            if f[k] > fmax:
                fmax = f[k]
        tot = 0.0
        for k in range(n_k):
            e = math.exp(f[k] - fmax)
            post[g, k] = e
            tot += e
        for k in range(n_k):
            post[g, k] /= tot
        ll += math.log(tot) + fmax
        if final:
            for k in range(n_k):
                for j in range(p + 1):
                    scores[g, k, j] = 0.0
        for i in range(lo, hi):
            bi = b[i]
            a1 = 0.0
            a2 = 0.0
            a2x = 0.0
            for k in range(n_k):
                pk = post[g, k]
                a1 += pk * d1[i, k]
                a2 += pk * d2[i, k]
                a2x += pk * d2[i, k] * xi[g, k]
            w1[i] = a1
            gv[bi] += a1
            hd[bi] += a2
            row = g * n_k
            for k in range(n_k):
                dmat[row + k, bi] += d1[i, k] - a1
            if final:
                for j in range(p):
                    gvp_e[bi, j] += X[i, j] * a2
                gvp_e[bi, p] += a2x
                for k in range(n_k):
                    dk = d1[i, k]
                    for j in range(p):
                        scores[g, k, j] += dk * X[i, j]
                    scores[g, k, p] += dk * xi[g, k]
    return ll


@_jit
def agq_third(b, starts, xi, post, d1, d2, d3, w1, ymat, adiag, X, tv, tphi):
    """Contraction of the groups' third derivatives with ``A = H_v⁻¹`` (crossed AGQ).

    ``ymat = dmat @ A`` from :func:`agq_pass`; adds to ``tv`` (per small-factor level) and
    ``tphi`` (β then σ) what the gradient of ``log det H_v`` needs.
    """
    n_c, n_k = xi.shape
    p = X.shape[1]
    cdev = np.empty(n_k)
    for g in range(n_c):
        lo = starts[g]
        hi = starts[g + 1]
        row = g * n_k
        for k in range(n_k):
            cdev[k] = 0.0
        for i in range(lo, hi):
            bi = b[i]
            ad = adiag[bi]
            for k in range(n_k):
                cdev[k] += (d1[i, k] - w1[i]) * ymat[row + k, bi] + d2[i, k] * ad
        mean = 0.0
        for k in range(n_k):
            mean += post[g, k] * cdev[k]
        for k in range(n_k):
            cdev[k] -= mean
        t_sig = 0.0
        for i in range(lo, hi):
            bi = b[i]
            ad = adiag[bi]
            tr = 0.0
            for k in range(n_k):
                tau = d3[i, k] * ad + cdev[k] * d1[i, k] + 2.0 * d2[i, k] * ymat[row + k, bi]
                pt = post[g, k] * tau
                tr += pt
                t_sig += pt * xi[g, k]
            tv[bi] += tr
            for j in range(p):
                tphi[j] += X[i, j] * tr
        tphi[p] += t_sig
