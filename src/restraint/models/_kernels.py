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
Chebyshev points from scipy's ``log_ndtr`` and ``erfcx`` at import), about 17 ns per pair
and within 5e-15 of scipy relative to ``max(1, |value|)``. Outside that range the scalar
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
    on interval ``j``, in the local variable ``s ∈ [-1, 1]``: interpolation at the
    Chebyshev points, converted to powers of ``s`` (one small linear map for all
    intervals)."""
    h = 1.0 / _TAB_INV_H
    pts = chebyshev.chebpts1(_TAB_DEG + 1)
    # At the Chebyshev points the Vandermonde matrix is orthogonal up to scale (discrete
    # cosine transform), so its inverse is explicit and exact.
    to_cheb = chebyshev.chebvander(pts, _TAB_DEG).T * (2.0 / (_TAB_DEG + 1))
    to_cheb[0] *= 0.5
    to_power = np.zeros((_TAB_DEG + 1, _TAB_DEG + 1))
    for d in range(_TAB_DEG + 1):
        power = chebyshev.cheb2poly(np.eye(_TAB_DEG + 1)[d])  # trailing zeros trimmed
        to_power[: len(power), d] = power
    mids = _TAB_LO + (np.arange(_TAB_N) + 0.5) * h
    t = mids[:, None] + 0.5 * h * pts[None, :]
    tab = np.empty((_TAB_N, _TAB_DEG + 1, 2))
    tab[:, :, 0] = (special.log_ndtr(t) @ to_cheb.T) @ to_power.T
    # φ/Φ = √(2/π) / erfcx(-t/√2): no cancellation anywhere.
    mills = math.sqrt(2.0 / math.pi) / special.erfcx(-t * _INV_SQRT2)
    tab[:, :, 1] = (mills @ to_cheb.T) @ to_power.T
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


@_jit_inline
def _posterior(f: np.ndarray, post: np.ndarray) -> float:
    """Posterior node weights ``post = softmax(f)`` and ``log Σ exp(f)`` (overflow-safe)."""
    n_k = f.shape[0]
    fmax = f[0]
    for k in range(1, n_k):
        if f[k] > fmax:
            fmax = f[k]
    tot = 0.0
    for k in range(n_k):
        e = math.exp(f[k] - fmax)
        post[k] = e
        tot += e
    for k in range(n_k):
        post[k] /= tot
    return math.log(tot) + fmax


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
    c,
    q,
    b,
    starts,
    xi,
    logw,
    sa,
    final,
    X,
    d1,
    d2,
    d3,
    w1,
    post,
    gv,
    hd,
    cov,
    gvp,
    gphi,
    hphi,
    tab,
):
    """One adaptive-quadrature pass over a block of large-factor groups (crossed AGQ).

    Rows ``starts[g]:starts[g+1]`` belong to group ``g`` (sorted by small-factor code
    ``b`` within the group); ``c`` is each row's linear predictor including its
    small-factor effect. With ``ℓ_ik = log Φ(q_i(c_i + σ ξ_gk))`` it fills, per row and
    node, ``d1 = ∂ℓ/∂η``, ``d2 = ∂²ℓ/∂η²`` and (``final``) ``d3``; per group the posterior
    node weights ``post``; per row the posterior mean ``w1`` of ``d1``. It adds to (the
    caller zeroes them):

    * ``gv[b]``, ``hd[b]``: sums by small-factor level of ``w1`` and of the posterior mean
      of ``d2`` (the score and expected curvature in the small-factor effects);
    * ``cov``: the lower triangle of ``Σ_g Σ_k π_gk D_gk D_gk'`` with
      ``D_gk[b] = Σ_{i∈g, b_i=b} (d1_ik - w1_i)``, the posterior-covariance part of the
      curvature;
    * with ``final``, ``gvp[b]`` (level × (β, σ)), the derivative of the small-factor
      score in (β, σ_a), ``gphi``, the score in (β, σ_a), and ``hphi``, the lower triangle
      of the Hessian in (β, σ_a) at fixed small-factor effects (as in
      :func:`oneway_pass`).

    Returns the sum of the groups' log integrated likelihoods.
    """
    n_c, n_k = xi.shape
    p = X.shape[1]
    f = np.empty(n_k)
    s2 = np.empty(n_k)
    sc = np.empty((p + 1, n_k))
    scm = np.empty((p + 1, n_k))
    wk = np.empty(n_k)
    mean = np.empty(p + 1)
    max_rows = 0
    for g in range(n_c):
        max_rows = max(max_rows, starts[g + 1] - starts[g])
    # Node-major deviations of the group's rows, so that the pair loop below runs over
    # contiguous memory (vectorised multiply-adds).
    dev_t = np.empty((n_k, max_rows))
    acc_r = np.empty(max_rows)
    ll = 0.0
    for g in range(n_c):
        lo = starts[g]
        hi = starts[g + 1]
        for k in range(n_k):
            f[k] = logw[g, k]
            s2[k] = 0.0
            for j in range(p + 1):
                sc[j, k] = 0.0
        for i in range(lo, hi):
            qi = q[i]
            ci = c[i]
            for k in range(n_k):
                t = qi * (ci + sa * xi[g, k])
                lc, m = logcdf_mills(t, tab)
                f[k] += lc
                dk = qi * m
                d1[i, k] = dk
                tm = t + m
                e2 = -m * tm
                d2[i, k] = e2
                if final:
                    s2[k] += e2
                    d3[i, k] = dk * (tm * (tm + m) - 1.0)
        if final:
            # Group scores at each node, (β, σ) × node: loops over nodes innermost so the
            # multiply-adds run over contiguous memory.
            for i in range(lo, hi):
                for j in range(p):
                    xij = X[i, j]
                    for k in range(n_k):
                        sc[j, k] += xij * d1[i, k]
                for k in range(n_k):
                    sc[p, k] += d1[i, k]
            for k in range(n_k):
                sc[p, k] *= xi[g, k]
        ll += _posterior(f, post[g])
        if final:
            for j in range(p + 1):
                acc = 0.0
                for k in range(n_k):
                    acc += post[g, k] * sc[j, k]
                mean[j] = acc
                gphi[j] += acc
                for k in range(n_k):
                    scm[j, k] = sc[j, k] - acc
            for k in range(n_k):
                pk = post[g, k]
                hphi[p, p] += pk * xi[g, k] * xi[g, k] * s2[k]
                for j in range(p + 1):
                    for r in range(j + 1):
                        hphi[j, r] += pk * sc[j, k] * sc[r, k]
            for j in range(p + 1):
                for r in range(j + 1):
                    hphi[j, r] -= mean[j] * mean[r]
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
            for k in range(n_k):
                dev_t[k, i - lo] = d1[i, k] - a1
            if final:
                for j in range(p):
                    xj = X[i, j]
                    gvp[bi, j] += xj * a2
                    for r in range(j + 1):
                        hphi[j, r] += a2 * xj * X[i, r]
                    hphi[p, j] += a2x * xj
                gvp[bi, p] += a2x
                for k in range(n_k):
                    wk[k] = post[g, k] * dev_t[k, i - lo]
                for j in range(p + 1):
                    acc = 0.0
                    for k in range(n_k):
                        acc += wk[k] * scm[j, k]
                    gvp[bi, j] += acc
        # Lower triangle of Σ_k π_k D_k D_k'; rows are sorted by level within the group, so
        # b_j <= b_i for j < i (equal levels: both orders fall on the diagonal).
        n_r = hi - lo
        b0 = b[lo]
        # Most groups (dyads) have one row per level over a run of consecutive levels
        # (years): their pairs land on a contiguous stretch of each row of cov.
        consecutive = True
        for r in range(n_r):
            if b[lo + r] != b0 + r:
                consecutive = False
                break
        for ri in range(n_r):
            for rj in range(ri + 1):
                acc_r[rj] = 0.0
            for k in range(n_k):
                s = post[g, k] * dev_t[k, ri]
                for rj in range(ri + 1):
                    acc_r[rj] += s * dev_t[k, rj]
            bi = b[lo + ri]
            if consecutive:
                crow = cov[bi]
                for rj in range(ri + 1):
                    crow[b0 + rj] += acc_r[rj]
                continue
            for rj in range(ri):
                bj = b[lo + rj]
                if bj == bi:
                    cov[bi, bj] += 2.0 * acc_r[rj]
                else:
                    cov[bi, bj] += acc_r[rj]
            cov[bi, bi] += acc_r[ri]
    return ll


@_jit
def agq_third(b, starts, xi, post, d1, d2, d3, w1, amat, X, tv, tphi):
    """Contraction of the groups' third derivatives with ``A = H_v⁻¹`` (crossed AGQ).

    Uses the row quantities of the final :func:`agq_pass`; adds to ``tv`` (per
    small-factor level) and ``tphi`` (β then σ) what the gradient of ``log det H_v`` needs.
    """
    n_c, n_k = xi.shape
    p = X.shape[1]
    cdev = np.empty(n_k)
    max_rows = 0
    for g in range(n_c):
        max_rows = max(max_rows, starts[g + 1] - starts[g])
    # Flat buffers, so that each group's leading block is a contiguous matrix for BLAS.
    y_buf = np.empty(max_rows * n_k)
    dev_buf = np.empty(max_rows * n_k)
    ag_buf = np.empty(max_rows * max_rows)
    y = y_buf.reshape((max_rows, n_k))
    dev = dev_buf.reshape((max_rows, n_k))
    for g in range(n_c):
        lo = starts[g]
        hi = starts[g + 1]
        n_r = hi - lo
        for r in range(n_r):
            for k in range(n_k):
                dev[r, k] = d1[lo + r, k] - w1[lo + r]
        # y_ik = Σ_j A[b_i, b_j] (d1_jk - w1_j) over the group's rows: (A D_gk) at b_i.
        # A restricted to the group's rows, then one BLAS product for all nodes (the
        # loops took twice as long).
        ag = ag_buf[: n_r * n_r].reshape((n_r, n_r))
        for ri in range(n_r):
            arow = amat[b[lo + ri]]
            for rj in range(n_r):
                ag[ri, rj] = arow[b[lo + rj]]
        np.dot(ag, dev_buf[: n_r * n_k].reshape((n_r, n_k)), y_buf[: n_r * n_k].reshape((n_r, n_k)))
        for k in range(n_k):
            cdev[k] = 0.0
        for i in range(lo, hi):
            ad = amat[b[i], b[i]]
            for k in range(n_k):
                cdev[k] += dev[i - lo, k] * y[i - lo, k] + d2[i, k] * ad
        mean = 0.0
        for k in range(n_k):
            mean += post[g, k] * cdev[k]
        for k in range(n_k):
            cdev[k] -= mean
        t_sig = 0.0
        for i in range(lo, hi):
            bi = b[i]
            ad = amat[bi, bi]
            tr = 0.0
            for k in range(n_k):
                tau = d3[i, k] * ad + cdev[k] * d1[i, k] + 2.0 * d2[i, k] * y[i - lo, k]
                pt = post[g, k] * tau
                tr += pt
                t_sig += pt * xi[g, k]
            tv[bi] += tr
            for j in range(p):
                tphi[j] += X[i, j] * tr
        tphi[p] += t_sig


@_jit
def oneway_pass(c, q, sigma, xi, logw, starts, hessian, X, d2, grad, hess, tab):
    """One quadrature pass of the one-way random-intercept probit over a block of groups.

    ``η_ik = c_i + σ ξ_gk`` for the rows ``starts[g]:starts[g+1]`` of group ``g``; ``logw``
    includes the standard-normal density. With ``D_gk`` the score of group ``g`` at node
    ``k`` in ``(β, σ)`` and ``π_gk`` its posterior weight, adds ``Σ_g Σ_k π_gk D_gk`` to
    ``grad`` and, with ``hessian``, ``Σ_g [Σ_k π_gk (∂D_gk + D_gk D_gk') - D̄_g D̄_g']`` to
    the lower triangle of ``hess`` (both in σ, not log σ). ``d2`` is scratch of shape
    (rows, K) when ``hessian``.
    Returns the sum of the groups' log integrated likelihoods.
    """
    n_g, n_k = xi.shape
    p = X.shape[1]
    f = np.empty(n_k)
    s1 = np.empty(n_k)
    s2 = np.empty(n_k)
    sc = np.empty((n_k, p + 1))
    post = np.empty(n_k)
    mean = np.empty(p + 1)
    ll = 0.0
    for g in range(n_g):
        lo = starts[g]
        hi = starts[g + 1]
        for k in range(n_k):
            f[k] = logw[g, k]
            s1[k] = 0.0
            s2[k] = 0.0
            for j in range(p):
                sc[k, j] = 0.0
        for i in range(lo, hi):
            qi = q[i]
            ci = c[i]
            for k in range(n_k):
                t = qi * (ci + sigma * xi[g, k])
                lc, m = logcdf_mills(t, tab)
                f[k] += lc
                g1 = qi * m
                s1[k] += g1
                for j in range(p):
                    sc[k, j] += g1 * X[i, j]
                if hessian:
                    e2 = -m * (t + m)
                    s2[k] += e2
                    d2[i, k] = e2
        ll += _posterior(f, post)
        for k in range(n_k):
            sc[k, p] = s1[k] * xi[g, k]
        for j in range(p + 1):
            acc = 0.0
            for k in range(n_k):
                acc += post[k] * sc[k, j]
            mean[j] = acc
            grad[j] += acc
        if not hessian:
            continue
        for i in range(lo, hi):
            w2 = 0.0
            w2x = 0.0
            for k in range(n_k):
                w = post[k] * d2[i, k]
                w2 += w
                w2x += w * xi[g, k]
            for j in range(p):
                xj = X[i, j]
                for r in range(j + 1):
                    hess[j, r] += w2 * xj * X[i, r]
                hess[p, j] += w2x * xj
        for k in range(n_k):
            hess[p, p] += post[k] * xi[g, k] * xi[g, k] * s2[k]
            for j in range(p + 1):
                for r in range(j + 1):
                    hess[j, r] += post[k] * sc[k, j] * sc[k, r]
        for j in range(p + 1):
            for r in range(j + 1):
                hess[j, r] -= mean[j] * mean[r]
    return ll


@_jit
def group_modes_pass(c, q, sigma, starts, xi, scale, tol, maxiter, tab):
    """Per-group mode and curvature scale of ``Σ_i log Φ(q_i(c_i + σξ)) - ξ²/2``.

    Newton steps from ``xi`` (updated in place), each group on its own; the function is
    strictly concave (second derivative ≤ -1), so steps are only capped (±4) for safety.
    Writes ``scale = (-h''(mode))^(-1/2)`` and returns the number of groups that did not
    converge within ``maxiter`` steps.
    """
    n_g = xi.shape[0]
    failed = 0
    for g in range(n_g):
        lo = starts[g]
        hi = starts[g + 1]
        x = xi[g]
        ok = False
        h = -1.0
        for it in range(maxiter + 1):
            g1 = 0.0
            h2 = 0.0
            for i in range(lo, hi):
                qi = q[i]
                t = qi * (c[i] + sigma * x)
                lc, m = logcdf_mills(t, tab)
                g1 += qi * m
                h2 -= m * (t + m)
            h = sigma * sigma * h2 - 1.0
            if ok or it == maxiter:
                break
            step = -(sigma * g1 - x) / h
            step = min(4.0, max(-4.0, step))
            x += step
            # One more pass after convergence gives the curvature at the final point.
            ok = abs(step) < tol
        xi[g] = x
        scale[g] = 1.0 / math.sqrt(-h)
        if not ok:
            failed += 1
    return failed
