"""Probit with two crossed random intercepts.

``P(y = 1 | u, v) = Φ(x'β + u_a + v_b)``, ``u_a ~ N(0, σ_1²)``, ``v_b ~ N(0, σ_2²)``, the two
factors crossed (e.g. directed dyads and years). The factor with more levels is called the
*large* factor (a), the other the *small* factor (b).

Two ways to integrate the random effects:

``method="laplace"``
    The Laplace approximation over all ``n_a + n_b`` effects jointly, with the exact
    Hessian of the joint log-density (observed second derivatives of the probit
    log-likelihood, as glmmTMB's automatic differentiation computes, not lme4's Fisher
    weights). The conditional modes are found by Newton steps that use the structure: the
    large factor's block of the Hessian is diagonal, so eliminating it leaves a dense
    ``n_b × n_b`` Schur complement. The gradient in (β, log σ_1, log σ_2) is analytic
    (implicit differentiation through the modes). Memory is linear in the rows.

``method="agq"``
    Accurate where Laplace is not (rare outcomes): each large-factor effect is integrated
    by adaptive Gauss–Hermite quadrature (``nodes`` points) conditionally on the
    small-factor effects, and the Laplace approximation is used only over the small
    factor's effects (each backed by many rows). The gradient is again analytic.

Both report β, σ per factor with standard errors (observed information, by forward
differences of the analytic gradient), the conditional modes, and an LR test of
σ_1 = σ_2 = 0 against the pooled probit.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import linalg

from restraint.errors import EstimationError
from restraint.models._kernels import PROBIT_TABLE, agq_pass, agq_third
from restraint.models._re_common import (
    LOG_SIGMA_MAX,
    LOG_SIGMA_MIN,
    OptimResult,
    Prepared,
    blas_single_thread,
    fd_hessian,
    group_modes,
    judge_convergence,
    maximise,
    n_threads,
    pooled_probit,
    prepare,
    run_blocks,
)
from restraint.models.quadrature import adaptive_rule, probit_logpdf
from restraint.models.re_probit import (
    REProbitResults,
    apply_start,
    attach_conditional,
    build_results,
    group_notes,
)

__all__ = ["crossed_re_probit"]

# Dense blocks of the large × small factor matrix are built this many cells at a time, so
# memory stays linear in the number of rows whatever the number of levels.
_CHUNK_CELLS = 2_000_000
# Nodes and gradient tolerance of the quadrature method's first, approximate, stage. Going
# from 7 to 15 nodes moves the gradient by a few units on the study's data, so a tighter
# first stage buys nothing.
_STAGE1_NODES = 7
_STAGE1_GTOL = 2.0
# Tolerance of the Newton iterations for the small-factor modes (max-norm of the step) at
# which the gradient is exact to rounding for the study's data.
_V_TOL = 1e-7
# Far from the optimum the optimiser asks only for a step below this fraction of the
# gradient's max-norm (capped at _V_TOL_MAX): the gradient is then still correct to about
# 1% of its size, and most evaluations need one pass over the data instead of two.
_V_TOL_FACTOR = 1e-3
_V_TOL_MAX = 1e-4


@dataclass
class _Structure:
    """Row, pair and chunk bookkeeping for two crossed factors (rows sorted by a, then b)."""

    a: np.ndarray  # large-factor code per row
    b: np.ndarray  # small-factor code per row
    n_a: int
    n_b: int
    a_starts: np.ndarray  # first row of each a
    pair_starts: np.ndarray  # first row of each distinct (a, b) pair
    pair_a: np.ndarray
    pair_b: np.ndarray
    pair_of_row: np.ndarray
    chunks: list[tuple[int, int, int, int]]  # (a_lo, a_hi, pair_lo, pair_hi)


def _structure(prep: Prepared) -> _Structure:
    ga, gb = prep.groups
    a, b = ga.codes, gb.codes
    new_pair = np.ones(len(a), dtype=bool)
    new_pair[1:] = (a[1:] != a[:-1]) | (b[1:] != b[:-1])
    pair_starts = np.flatnonzero(new_pair)
    pair_a = a[pair_starts]
    pair_b = b[pair_starts]
    rows_per_chunk = max(1, _CHUNK_CELLS // max(gb.n, 1))
    chunks = []
    a_pair_first = np.searchsorted(pair_a, np.arange(ga.n + 1))
    for lo in range(0, ga.n, rows_per_chunk):
        hi = min(ga.n, lo + rows_per_chunk)
        chunks.append((lo, hi, int(a_pair_first[lo]), int(a_pair_first[hi])))
    return _Structure(
        a=a,
        b=b,
        n_a=ga.n,
        n_b=gb.n,
        a_starts=ga.starts,
        pair_starts=pair_starts,
        pair_a=pair_a,
        pair_b=pair_b,
        pair_of_row=np.cumsum(new_pair) - 1,
        chunks=chunks,
    )


def _dense_chunk(st: _Structure, chunk: tuple[int, int, int, int], cvals: np.ndarray) -> np.ndarray:
    a_lo, a_hi, p_lo, p_hi = chunk
    out = np.zeros((a_hi - a_lo, st.n_b))
    out[st.pair_a[p_lo:p_hi] - a_lo, st.pair_b[p_lo:p_hi]] = cvals[p_lo:p_hi]
    return out


class _Laplace:
    """Laplace approximation for two crossed intercepts, θ = (β, log σ_a, log σ_b)."""

    def __init__(self, prep: Prepared) -> None:
        self.q = prep.q
        self.X = prep.X
        self.st = _structure(prep)
        self.u = np.zeros(self.st.n_a)
        self.v = np.zeros(self.st.n_b)
        self.newton_ok = True
        self.newton_iters = 0
        # Sensitivities of the modes to θ at the last evaluation, to predict the modes at
        # the next θ (first-order), which saves Newton iterations.
        self._theta_last: np.ndarray | None = None
        self._du_dtheta: np.ndarray | None = None
        self._dv_dtheta: np.ndarray | None = None

    # -- pieces of the joint log-density ---------------------------------------------------
    def _rows(self, c: np.ndarray, u: np.ndarray, v: np.ndarray):
        """t = q η, log Φ(t), the Mills ratio and d²ℓ/dη² per row (threaded by rows)."""
        st = self.st
        t = self.q * (c + u[st.a] + v[st.b])
        logcdf = np.empty_like(t)
        mills = np.empty_like(t)
        d2 = np.empty_like(t)

        def block(lo: int, hi: int) -> None:
            out = probit_logpdf(t[lo:hi], order=2)
            logcdf[lo:hi], mills[lo:hi], d2[lo:hi] = out[0], out[1], out[2]

        run_blocks(block, len(t), min_block=50_000)
        return t, logcdf, mills, d2

    def _curvature(self, w: np.ndarray, sa: float, sb: float):
        """Diagonal p_a, dense blocks of C (pair weights), and S = Q - C'P⁻¹C (n_b × n_b)."""
        st = self.st
        p = np.add.reduceat(w, st.a_starts) + 1.0 / sa**2
        cvals = np.add.reduceat(w, st.pair_starts)
        qb = np.bincount(st.b, weights=w, minlength=st.n_b) + 1.0 / sb**2
        s = np.diag(qb)
        blocks = []
        for ch in st.chunks:
            cd = _dense_chunk(st, ch, cvals)
            s -= (cd / p[ch[0] : ch[1], None]).T @ cd
            blocks.append(cd)
        return p, cvals, blocks, s

    def _solve(self, p, blocks, s_cho, r_a, r_b):
        """Solve H z = r by eliminating the diagonal large-factor block (r may be 2-D)."""
        st = self.st
        pp = p if r_a.ndim == 1 else p[:, None]
        y = r_a / pp
        rhs = r_b.copy()
        for ch, cd in zip(st.chunks, blocks, strict=True):
            rhs -= cd.T @ y[ch[0] : ch[1]]
        z_b = linalg.cho_solve(s_cho, rhs)
        cz = np.concatenate([cd @ z_b for cd in blocks])
        z_a = (r_a - cz) / pp
        return z_a, z_b

    def modes(self, c: np.ndarray, sa: float, sb: float, tol: float = 1e-10, maxiter: int = 100):
        """Conditional modes (û, v̂) by damped Newton steps from the predicted modes.

        The joint log-density is strictly concave, so full Newton steps are taken unless
        the function fails to increase (then halved). Iterations stop when the next step
        would be below ``tol``; the row quantities and curvature at that point are returned
        for reuse (the point is within ``tol`` of the mode).
        """
        st = self.st
        u, v = self.u, self.v
        f_old = -np.inf
        du = np.zeros_like(u)
        dv = np.zeros_like(v)
        step = 1.0
        ok = False
        it = 0
        while True:
            it += 1
            t, logcdf, mills, d2 = self._rows(c, u, v)
            f_new = float(logcdf.sum() - 0.5 * (u @ u) / sa**2 - 0.5 * (v @ v) / sb**2)
            if f_new < f_old - 1e-9 * abs(f_old) and step > 1e-6:
                # Overshot: go back half way along the last Newton direction.
                step /= 2
                u = u - step * du
                v = v - step * dv
                continue
            f_old = f_new
            g1 = self.q * mills
            g_a = np.add.reduceat(g1, st.a_starts) - u / sa**2
            g_b = np.bincount(st.b, weights=g1, minlength=st.n_b) - v / sb**2
            curv = self._curvature(-d2, sa, sb)
            s_cho = linalg.cho_factor(curv[3], lower=True)
            du, dv = self._solve(curv[0], curv[2], s_cho, g_a, g_b)
            step = 1.0
            if max(np.max(np.abs(du)), np.max(np.abs(dv))) < tol or it >= maxiter:
                ok = it < maxiter
                break
            u = u + du
            v = v + dv
        self.u, self.v = u, v
        self.newton_ok = ok
        self.newton_iters = it
        self._pending = (du, dv)
        return u, v, (t, logcdf, mills, d2, curv, s_cho)

    def evaluate(self, theta: np.ndarray) -> tuple[float, np.ndarray]:
        """Laplace log-likelihood and its analytic gradient at θ."""
        st = self.st
        k_beta = self.X.shape[1]
        beta = theta[:k_beta]
        sa, sb = float(np.exp(theta[k_beta])), float(np.exp(theta[k_beta + 1]))
        c = self.X @ beta
        if self._theta_last is not None and self._theta_last.shape == theta.shape:
            dth = theta - self._theta_last
            if np.max(np.abs(dth)) < 1.0:
                self.u = self.u + self._du_dtheta @ dth
                self.v = self.v + self._dv_dtheta @ dth
        u, v, (t, logcdf, mills, d2, curv, s_cho) = self.modes(c, sa, sb)
        p, cvals, blocks, _ = curv
        g1 = self.q * mills
        tm = t + mills
        d3 = self.q * mills * (tm * (tm + mills) - 1.0)
        w = -d2
        logdet = float(np.log(p).sum() + 2.0 * np.log(np.diag(s_cho[0])).sum())
        llf = float(
            logcdf.sum()
            - 0.5 * (u @ u) / sa**2
            - 0.5 * (v @ v) / sb**2
            - st.n_a * np.log(sa)
            - st.n_b * np.log(sb)
            - 0.5 * logdet
        )
        # Diagonal of H^{-1} seen by each row: h_i = (H⁻¹)_aa + 2 (H⁻¹)_ab + (H⁻¹)_bb.
        s_inv = linalg.cho_solve(s_cho, np.eye(st.n_b))
        h_aa = 1.0 / p
        h_ab_pair = np.empty(len(cvals))
        for ch, cd in zip(st.chunks, blocks, strict=True):
            a_lo, a_hi, p_lo, p_hi = ch
            md = cd @ s_inv
            h_aa[a_lo:a_hi] += (md * cd).sum(axis=1) / p[a_lo:a_hi] ** 2
            h_ab_pair[p_lo:p_hi] = (
                -md[st.pair_a[p_lo:p_hi] - a_lo, st.pair_b[p_lo:p_hi]] / p[st.pair_a[p_lo:p_hi]]
            )
        h = h_aa[st.a] + 2.0 * h_ab_pair[st.pair_of_row] + np.diag(s_inv)[st.b]
        kvec = -d3 * h  # ∂ log det H / ∂η_i
        # One block solve for r = H⁻¹ Z'k and for the mode sensitivities dz/dθ = H⁻¹ ∂g/∂θ
        # (g = ∂f/∂z): β columns -H⁻¹ Z'WX, log σ columns H⁻¹ (2u/σ², 0), H⁻¹ (0, 2v/σ²).
        k = len(theta)
        wx = w[:, None] * self.X
        rhs_a = np.empty((st.n_a, k + 1))
        rhs_b = np.empty((st.n_b, k + 1))
        rhs_a[:, 0] = np.add.reduceat(kvec, st.a_starts)
        rhs_b[:, 0] = np.bincount(st.b, weights=kvec, minlength=st.n_b)
        rhs_a[:, 1 : k_beta + 1] = -np.add.reduceat(wx, st.a_starts, axis=0)
        for j in range(k_beta):
            rhs_b[:, 1 + j] = -np.bincount(st.b, weights=wx[:, j], minlength=st.n_b)
        rhs_a[:, k_beta + 1] = 2.0 * u / sa**2
        rhs_b[:, k_beta + 1] = 0.0
        rhs_a[:, k_beta + 2] = 0.0
        rhs_b[:, k_beta + 2] = 2.0 * v / sb**2
        z_a, z_b = self._solve(p, blocks, s_cho, rhs_a, rhs_b)
        # The modes are within the last (unapplied) Newton step of the optimum; to first
        # order that moves the log-likelihood through its log-determinant only (the joint
        # density is stationary there). Adding the correction keeps the value smooth in θ
        # to rounding level, which the line searches need.
        du, dv = self._pending
        llf -= 0.5 * float(rhs_a[:, 0] @ du + rhs_b[:, 0] @ dv)
        r_a, r_b = z_a[:, 0], z_b[:, 0]
        zr = r_a[st.a] + r_b[st.b]
        g_beta = self.X.T @ (g1 - 0.5 * kvec + 0.5 * w * zr)
        tr_a = float(h_aa.sum())
        tr_b = float(np.trace(s_inv))
        g_sa = (u @ u) / sa**2 - st.n_a + tr_a / sa**2 - (r_a @ u) / sa**2
        g_sb = (v @ v) / sb**2 - st.n_b + tr_b / sb**2 - (r_b @ v) / sb**2
        self._last_cond_sd = (np.sqrt(h_aa), np.sqrt(np.diag(s_inv)))
        self._theta_last = theta.copy()
        self._du_dtheta, self._dv_dtheta = z_a[:, 1:], z_b[:, 1:]
        return llf, np.concatenate([g_beta, [g_sa, g_sb]])

    def conditional(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Modes and conditional SDs (from H⁻¹) at the last evaluation."""
        sd_a, sd_b = self._last_cond_sd
        return self.u.copy(), self.v.copy(), sd_a, sd_b


def _start_inverse_hessian(fun, model, theta0, f0, g0, k_beta) -> np.ndarray:
    """Inverse Hessian to start BFGS: pooled-probit information for β, and forward
    differences of the analytic gradient along the log σ directions (two evaluations), so
    that the first steps move σ at the right scale."""
    k = len(theta0)
    hinv = _pooled_hess_inv0(model.X, model.q, theta0)
    if not np.isfinite(f0):
        return hinv
    cols = list(range(k_beta, k))
    hcols = fd_hessian(lambda th: fun(th)[1], theta0, 1e-4, g0=g0, columns=cols)
    h0 = np.zeros((k, k))
    h0[:k_beta, :k_beta] = -np.linalg.inv(hinv[:k_beta, :k_beta])
    h0[:, cols] = hcols[:, cols]
    h0[cols, :] = hcols[:, cols].T
    h0 = 0.5 * (h0 + h0.T)
    try:
        inv = np.linalg.inv(-h0)
        inv = 0.5 * (inv + inv.T)
        np.linalg.cholesky(inv)
        return inv
    except np.linalg.LinAlgError:
        return hinv


def _optimise(fun, model, theta0: np.ndarray, k_beta: int, gtol: float, maxiter: int):
    """Laplace: BFGS from a scaled start to ``gtol``, then the Hessian for the standard
    errors by forward differences of the analytic gradient."""
    theta = theta0.copy()
    nit = 0
    f0, g0 = fun(theta)
    # The models keep warm-start state (modes) between evaluations; a shallow copy of
    # their attributes restores it after exploratory evaluations (arrays are replaced,
    # never modified in place).
    snapshot = dict(model.__dict__)
    hinv = _start_inverse_hessian(fun, model, theta, f0, g0, k_beta)
    model.__dict__.update(snapshot)
    res = maximise(fun, theta, gtol=gtol, maxiter=maxiter, hess_inv0=hinv, known=(f0, g0))
    nit += res.nit
    for _ in range(3):
        # A line search can fail ("precision loss") on a flat stretch before the gradient
        # is small; a restart from there with a fresh curvature model usually finishes.
        if res.success or "precision loss" not in res.message:
            break
        if np.max(np.abs(res.grad)) < max(10 * gtol, 1e-3):
            break
        res = maximise(
            fun,
            res.x,
            gtol=gtol,
            maxiter=maxiter,
            hess_inv0=_start_inverse_hessian(fun, model, res.x, *res.last[:2], k_beta),
        )
        nit += res.nit
    theta = res.x.copy()
    theta[k_beta:] = np.clip(theta[k_beta:], LOG_SIGMA_MIN, LOG_SIGMA_MAX)
    llf, grad = fun(theta) if not np.array_equal(theta, res.x) else res.last
    res.nit = nit
    res.x = theta
    snapshot = dict(model.__dict__)
    hess = fd_hessian(lambda th: fun(th)[1], theta, 1e-5, g0=grad)
    model.__dict__.update(snapshot)  # modes as at the estimates
    return res, llf, grad, hess


def _optimise_agq(fun, model, theta0: np.ndarray, k_beta: int, gtol: float, nodes: int):
    """Quadrature: Newton steps with the model's approximate Hessian, re-adapting the nodes
    at each point, first with at most 7 nodes to a loose tolerance, then with ``nodes``
    nodes until the gradient is below ``gtol``; then the Hessian for the standard errors
    by forward differences of the analytic gradient (nodes fixed at the estimates).

    The approximate Hessian (:attr:`_AGQ.approx_hessian`) omits only part of the
    log-determinant's curvature, so the steps converge in a few iterations.
    """
    model.set_nodes(min(nodes, _STAGE1_NODES))
    theta, llf, grad, ok, nit, msg = _newton_agq(
        fun, model, theta0.copy(), k_beta, max(gtol, _STAGE1_GTOL)
    )
    model.set_nodes(nodes)
    theta, llf, grad, ok, nit2, msg = _newton_agq(fun, model, theta, k_beta, gtol)
    res = OptimResult(
        x=theta, fun=-llf, grad=grad, success=ok, message=msg, nit=nit + nit2, nfev=nit + nit2
    )
    snapshot = dict(model.__dict__)
    hess = fd_hessian(lambda th: fun(th)[1], theta, 1e-5, g0=grad)
    model.__dict__.update(snapshot)  # modes and nodes as at the estimates
    return res, llf, grad, hess


def _newton_agq(fun, model, theta, k_beta, gtol, maxiter: int = 50):
    """Newton steps from ``theta`` with :attr:`_AGQ.approx_hessian`, re-adapting the
    nodes at each point; log σ held at a bound when the gradient pushes past it.

    Returns (θ, llf, gradient, converged, iterations, message). A step is halved while it
    neither raises the log-likelihood nor halves the gradient (re-adapting the nodes moves
    the objective by the quadrature error, so the value alone cannot judge small steps);
    when halving fails, BFGS (nodes fixed) takes over.
    """
    model.adapt(theta)
    llf, grad = fun(theta)
    for it in range(1, maxiter + 1):
        if not np.isfinite(llf) or model.approx_hessian is None:
            break
        free = _free_coordinates(theta, grad, k_beta)
        gmax = float(np.max(np.abs(grad[free]))) if free.any() else 0.0
        if gmax < gtol:
            model.v_tol = _V_TOL
            return theta, llf, grad, True, it, f"Newton steps converged (|gradient| < {gtol:g})"
        # Far from the optimum the small-factor modes need not be exact: a gradient
        # correct to about 1% of its size steers the step as well.
        model.v_tol = min(max(_V_TOL, _V_TOL_FACTOR * gmax), _V_TOL_MAX)
        step = np.zeros_like(theta)
        # At most 2 in a coefficient and 1 in a log σ per step (e-fold changes of σ are
        # already far outside where the local model holds).
        cap = np.where(np.arange(len(theta)) < k_beta, 2.0, 1.0)
        step[free] = _ascent_step(model.approx_hessian[np.ix_(free, free)], grad[free], cap[free])
        lam = 1.0
        while True:
            cand = theta + lam * step
            cand[k_beta:] = np.clip(cand[k_beta:], LOG_SIGMA_MIN, LOG_SIGMA_MAX)
            model.adapt(cand)
            f_new, g_new = fun(cand)
            # Re-adapted nodes shift the objective by the quadrature error (about 1e-2 with
            # 7 nodes here), so a small fall need not mean an overshoot: a step is also
            # taken when it halves the free gradient.
            better = f_new >= llf - 1e-6 or (
                np.max(np.abs(g_new[free])) < 0.5 * np.max(np.abs(grad[free]))
            )
            if better or lam < 1e-3:
                break
            lam /= 2
        if not better:
            break
        theta, llf, grad = cand, f_new, g_new
    # Fall back to BFGS with the nodes adapted at the current point.
    model.v_tol = _V_TOL
    model.adapt(theta)
    res = maximise(fun, theta, gtol=gtol, maxiter=500)
    theta = res.x
    llf, grad = res.last
    return theta, llf, grad, res.success, maxiter + res.nit, f"BFGS: {res.message}"


def _free_coordinates(theta: np.ndarray, grad: np.ndarray, k_beta: int) -> np.ndarray:
    """Coordinates not held at a log σ bound by a gradient pointing past it."""
    free = np.ones(len(theta), dtype=bool)
    for j in range(k_beta, len(theta)):
        at_low = theta[j] <= LOG_SIGMA_MIN + 1e-12 and grad[j] < 0
        at_high = theta[j] >= LOG_SIGMA_MAX - 1e-12 and grad[j] > 0
        free[j] = not (at_low or at_high)
    return free


def _ascent_step(hess: np.ndarray, grad: np.ndarray, cap: np.ndarray) -> np.ndarray:
    """Newton ascent step ``(-H)⁻¹ g``, with ``-H`` made positive definite (eigenvalues
    floored) and the step scaled down so that no coordinate moves more than ``cap``."""
    w, vecs = np.linalg.eigh(-0.5 * (hess + hess.T))
    floor = 1e-6 * max(float(np.max(np.abs(w))), 1.0)
    w = np.maximum(np.abs(w), floor)
    step = vecs @ ((vecs.T @ grad) / w)
    ratio = float(np.max(np.abs(step) / cap))
    if ratio > 1.0:
        step /= ratio
    return step


def _start(beta0: np.ndarray, sa: float, sb: float) -> np.ndarray:
    """Start values (β, log σ_a, log σ_b) from the pooled probit β.

    A pooled probit estimates the population-averaged coefficients, which for normal
    random intercepts are the conditional ones divided by √(1 + σ_a² + σ_b²); undoing that
    puts the start close to the random-effects solution.
    """
    return np.concatenate([beta0 * np.sqrt(1.0 + sa**2 + sb**2), np.log([sa, sb])])


def _pooled_hess_inv0(X: np.ndarray, q: np.ndarray, theta: np.ndarray) -> np.ndarray:
    """Inverse of the pooled-probit information for β, and a small step scale for log σ.

    BFGS from the identity would take a first step of the size of the raw gradient
    (hundreds), far outside the region where the modes are cheap to find.
    """
    k = X.shape[1]
    _, _, d2, _ = probit_logpdf(q * (X @ theta[:k]), order=2)
    info = (X * (-d2)[:, None]).T @ X
    out = np.zeros((len(theta), len(theta)))
    try:
        inv = np.linalg.inv(info)
        out[:k, :k] = 0.5 * (inv + inv.T)
        np.linalg.cholesky(out[:k, :k])
    except np.linalg.LinAlgError:
        out[:k, :k] = np.eye(k) * 1e-3
    n_sig = len(theta) - k
    out[k:, k:] = np.eye(n_sig) * 1e-3
    return out


def crossed_re_probit(
    formula: str,
    data: pd.DataFrame,
    groups: tuple[str, str] | list[str],
    method: str = "laplace",
    nodes: int = 15,
    *,
    start: dict[str, float] | None = None,
    maxiter: int = 500,
    gtol: float = 1e-5,
) -> REProbitResults:
    """Fit a probit with crossed random intercepts for the two factors in ``groups``.

    Parameters
    ----------
    formula : str
        patsy formula, e.g. ``"crisis ~ dp + jd + prep + contig + sc"`` (0/1 outcome).
    data : DataFrame
    groups : (str, str)
        The two grouping columns (crossed or nested). The one with more levels is
        integrated by quadrature under ``"agq"``; results are reported in the given order.
    method : {"laplace", "agq"}
        ``"laplace"``: Laplace approximation over all effects (as glmmTMB);
        ``"agq"``: adaptive quadrature over the large factor's effects, Laplace over the
        small factor's (accurate for rare outcomes).
    nodes : int
        Adaptive quadrature nodes per large-factor effect (``"agq"`` only).
    start : dict, optional
        Start values by term name and by grouping column (σ on its own scale).
    maxiter, gtol : optimiser limits (BFGS iterations; max-norm of the gradient).

    Returns
    -------
    REProbitResults
        ``sigma`` and ``sigma_bse`` indexed by the two grouping columns,
        ``conditional_modes`` for both, the LR test of σ = 0 for both (χ̄² p-value).
    """
    with blas_single_thread():
        return _fit_crossed(formula, data, groups, method, nodes, start, maxiter, gtol)


def _fit_crossed(
    formula: str,
    data: pd.DataFrame,
    groups: tuple[str, str] | list[str],
    method: str,
    nodes: int,
    start: dict[str, float] | None,
    maxiter: int,
    gtol: float,
) -> REProbitResults:
    t0 = time.perf_counter()
    if method not in ("laplace", "agq"):
        raise EstimationError(f"method must be 'laplace' or 'agq', got {method!r}")
    groups = list(groups) if not isinstance(groups, str) else [groups]
    if len(groups) != 2:
        raise EstimationError(f"groups must name exactly two columns, got {groups!r}")
    if method == "agq" and (not isinstance(nodes, (int, np.integer)) or not 1 <= nodes <= 100):
        raise EstimationError(f"nodes must be an integer between 1 and 100, got {nodes!r}")
    prep = prepare(formula, data, groups)
    if prep.groups[1].n > prep.groups[0].n:
        prep = prepare(formula, data, groups[::-1])
    internal = [g.name for g in prep.groups]  # (large, small)
    notes = group_notes(prep)
    names = prep.design.names
    k_beta = len(names)

    beta0, llf_pooled, pooled_ok = pooled_probit(prep.y, prep.X)
    if not pooled_ok:
        notes.append("pooled probit (start values and σ = 0 comparison) did not converge")
    if method == "laplace":
        model: _Laplace | _AGQ = _Laplace(prep)
        theta0 = _start(beta0, 0.5, 0.5)
    else:
        model = _AGQ(prep, int(nodes))
        theta0 = model.start(beta0)
    if start:
        theta0 = apply_start(theta0, start, names, internal)

    def fun(th: np.ndarray) -> tuple[float, np.ndarray]:
        th = th.copy()
        # Keep log σ inside finite bounds: beyond them the likelihood is flat to rounding.
        th[k_beta:] = np.clip(th[k_beta:], LOG_SIGMA_MIN, LOG_SIGMA_MAX)
        return model.evaluate(th)

    if method == "agq":
        res, llf, grad, hess = _optimise_agq(fun, model, theta0, k_beta, gtol, int(nodes))
    else:
        res, llf, grad, hess = _optimise(fun, model, theta0, k_beta, gtol, maxiter)
    theta = res.x
    cond = model.conditional()
    converged = judge_convergence(res, grad, gtol, 1e-3, notes)
    if not model.newton_ok:
        notes.append("the Newton iterations for the conditional modes did not converge")
    out = build_results(
        prep=prep,
        theta=theta,
        llf=llf,
        grad=grad,
        hess=hess,
        sigma_names=internal,
        llf_pooled=llf_pooled,
        notes=notes,
        converged=converged,
        iterations=res.nit,
        message=res.message,
        method=method,
        nodes=int(nodes) if method == "agq" else None,
        model_name=(
            "crossed random-effects probit (Laplace)"
            if method == "laplace"
            else f"crossed random-effects probit (adaptive quadrature, {nodes} nodes, "
            f"over {internal[0]}; Laplace over {internal[1]})"
        ),
        formula=formula,
    )
    u, v, sd_u, sd_v = cond
    attach_conditional(out, prep, [u, v], [sd_u, sd_v])
    # Report σ in the caller's order of the grouping factors.
    order = [internal.index(g) for g in groups]
    out.sigma = out.sigma.iloc[order]
    out.sigma_bse = out.sigma_bse.iloc[order]
    out.groups = {g: out.groups[g] for g in groups}
    out.fit_seconds = time.perf_counter() - t0
    return out


class _AGQ:
    """Adaptive quadrature over the large factor, Laplace over the small one.

    With ``G(v) = Σ_a log ∫ Π_{i∈a} Φ(q_i(x_i'β + v_{b(i)} + σ_a ξ)) φ(ξ) dξ`` (each
    integral by adaptive Gauss–Hermite quadrature) and ``g(v) = G(v) - |v|²/(2σ_b²)``,
    the log-likelihood is ``g(v̂) - ½ log det(-G''(v̂) + I/σ_b²) - n_b log σ_b`` at the
    mode ``v̂`` of ``g``.

    Each quantity is a posterior moment over the quadrature nodes of each large-factor
    group: ``G'`` a mean, ``G''`` a mean plus a covariance, and the third derivatives that
    the gradient of the log-determinant needs, a mean plus covariances plus a third central
    moment. The quadrature nodes (in the standardised effect ξ) are adapted by
    :meth:`adapt` and then held fixed while θ moves, so the objective is a smooth function
    with an exact analytic gradient; the fitting driver re-adapts them at the estimates and
    refits until they settle.

    Work is done by compiled kernels (:mod:`restraint.models._kernels`) on blocks of
    large-factor groups in threads; memory is linear in rows × nodes.
    """

    def __init__(self, prep: Prepared, nodes: int) -> None:
        self.q = prep.q
        self.X = prep.X
        self.st = _structure(prep)
        st = self.st
        self.nodes = nodes
        self.v = np.zeros(st.n_b)
        self.m = np.zeros(st.n_a)
        self.scale = np.ones(st.n_a)
        self.xi: np.ndarray | None = None
        self.logw: np.ndarray | None = None
        self.newton_ok = True
        self.modes_ok = True
        self.newton_iters = 0
        self._theta_last: np.ndarray | None = None
        self._dv_dtheta: np.ndarray | None = None
        self._amat: np.ndarray | None = None
        self.approx_hessian: np.ndarray | None = None
        self.v_tol = _V_TOL  # set by the optimiser (looser far from the optimum)
        self._buffers: dict[tuple, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
        # Blocks of large-factor groups for the threads (two each, to even out the load).
        n_chunks = min(2 * n_threads(), st.n_a)
        bounds = np.linspace(0, st.n_a, n_chunks + 1).round().astype(int)
        row_first = np.r_[st.a_starts, len(self.q)]
        self.chunks = [
            (int(lo), int(hi), int(row_first[lo]), int(row_first[hi]))
            for lo, hi in zip(bounds[:-1], bounds[1:], strict=True)
            if hi > lo
        ]

    def start(self, beta0: np.ndarray) -> np.ndarray:
        """Start values: σ_a = 0.5, σ_b = 0.3 and the pooled probit β rescaled to them."""
        return _start(beta0, 0.5, 0.3)

    def adapt(self, theta: np.ndarray) -> None:
        """Centre and scale each group's nodes on its posterior given θ and the current v."""
        st = self.st
        k_beta = self.X.shape[1]
        sa = float(np.exp(theta[k_beta]))
        c = self.X @ theta[:k_beta] + self.v[st.b]
        m, scale, ok = group_modes(c, self.q, sa, st.a_starts, self.m, tol=1e-10)
        self.m, self.scale, self.modes_ok = m, scale, ok
        self.xi, self.logw = adaptive_rule(m, scale, self.nodes)
        self._theta_adapt = theta.copy()

    # -- one pass over the groups ---------------------------------------------------------
    def _chunk_a(self, ch, c: np.ndarray, sa: float, final: bool) -> dict:
        """Group likelihoods, small-factor score/curvature and, with ``final``, the
        derivatives in (β, σ_a) (one block of large-factor groups)."""
        st = self.st
        a_lo, a_hi, r_lo, r_hi = ch
        n_nodes = self.nodes
        n_c, n_r = a_hi - a_lo, r_hi - r_lo
        k_beta = self.X.shape[1]
        starts = np.r_[st.a_starts[a_lo:a_hi], r_hi] - r_lo
        xi = self.xi[a_lo:a_hi]
        d1, d2, d3 = self._row_buffers(ch, n_nodes)
        w1 = np.empty(n_r)
        post = np.empty((n_c, n_nodes))
        gv = np.zeros(st.n_b)
        hd = np.zeros(st.n_b)
        cov = np.zeros((st.n_b, st.n_b))
        gvp = np.zeros((st.n_b, k_beta + 1))
        gphi = np.zeros(k_beta + 1)
        hphi = np.zeros((k_beta + 1, k_beta + 1))
        ll = agq_pass(
            c[r_lo:r_hi],
            self.q[r_lo:r_hi],
            st.b[r_lo:r_hi],
            starts,
            xi,
            self.logw[a_lo:a_hi],
            sa,
            final,
            self.X[r_lo:r_hi],
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
            PROBIT_TABLE,
        )
        out = {"ll": ll, "gv": gv, "hd": hd, "cov": cov}
        if final:
            out.update(gvp=gvp, g_phi=gphi, h_phi=hphi, keep=(starts, xi, post, d1, d2, d3, w1))
        return out

    def _row_buffers(self, ch, n_nodes: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The chunk's (row × node) arrays for d1, d2, d3, kept between passes: fresh
        arrays of this size cost page faults on every pass, about a tenth of its time."""
        bufs = self._buffers.get(ch)
        if bufs is None or bufs[0].shape[1] != n_nodes:
            n_r = ch[3] - ch[2]
            bufs = tuple(np.empty((n_r, n_nodes)) for _ in range(3))
            self._buffers[ch] = bufs
        return bufs

    def _chunk_b(self, ch, keep, amat: np.ndarray) -> dict:
        """Contraction of the third derivatives of log L_a with A = H_v⁻¹ (chunk)."""
        _, _, r_lo, r_hi = ch
        starts, xi, post, d1, d2, d3, w1 = keep
        k_beta = self.X.shape[1]
        tv = np.zeros(self.st.n_b)
        tphi = np.zeros(k_beta + 1)
        agq_third(
            self.st.b[r_lo:r_hi],
            starts,
            xi,
            post,
            d1,
            d2,
            d3,
            w1,
            amat,
            self.X[r_lo:r_hi],
            tv,
            tphi,
        )
        return {"tv": tv, "tphi": tphi}

    def _gather(self, parts: list[dict], key: str):
        return sum(p[key] for p in parts)

    def set_nodes(self, nodes: int) -> None:
        """Change the number of nodes, keeping each group's centre and scale."""
        self.nodes = nodes
        self.xi, self.logw = adaptive_rule(self.m, self.scale, nodes)

    def evaluate(self, theta: np.ndarray, tol: float | None = None, maxiter: int = 50):
        """Log-likelihood and analytic gradient at θ = (β, log σ_a, log σ_b).

        The mode of the small-factor effects is found by Newton steps from a first-order
        prediction, until the remaining step is below ``tol`` (default :attr:`v_tol`, which
        the optimiser loosens far from the optimum); that last step is folded into the
        value and the gradient to first order.
        """
        if self.xi is None:
            self.adapt(theta)
        st = self.st
        k_beta = self.X.shape[1]
        beta = theta[:k_beta]
        sa, sb = float(np.exp(theta[k_beta])), float(np.exp(theta[k_beta + 1]))
        c0 = self.X @ beta
        v = self.v.copy()
        if self._theta_last is not None:
            dth = theta - self._theta_last
            if np.max(np.abs(dth)) < 1.0:
                v = v + self._dv_dtheta @ dth
        ok = False
        it = 0
        # The pass that ends the iterations must carry third derivatives ("final"); when
        # the predicted v is already at the mode (small θ steps) the first pass is final.
        if tol is None:
            tol = self.v_tol
        final = self._theta_last is not None and (
            np.max(np.abs(theta - self._theta_last)) < 1e-4 or tol > _V_TOL
        )
        while True:
            it += 1
            c = c0 + v[st.b]
            parts = run_blocks(
                lambda lo, hi, c=c, final=final: [
                    self._chunk_a(ch, c, sa, final) for ch in self.chunks[lo:hi]
                ],
                len(self.chunks),
            )
            parts = [p for block in parts for p in block]
            g = self._gather(parts, "gv") - v / sb**2
            cov_low = self._gather(parts, "cov")
            cov = cov_low + np.tril(cov_low, -1).T
            hv = -(np.diag(self._gather(parts, "hd")) + cov)
            hv[np.diag_indices_from(hv)] += 1.0 / sb**2
            try:
                hv_cho = linalg.cho_factor(hv, lower=True)
            except linalg.LinAlgError:
                # -G_vv + I/σ_b² need not be positive definite far from the estimates (a
                # log of a mixture is not concave): report the point as infeasible so the
                # optimiser steps back, and do not predict from it.
                self._theta_last = None
                self.approx_hessian = None
                return -np.inf, np.zeros(len(theta))
            step = linalg.cho_solve(hv_cho, g)
            small = np.max(np.abs(step)) < tol
            if final and (small or it >= maxiter):
                ok = small
                break
            v = v + step
            final = True
        self.v = v
        self.newton_ok = ok
        self.newton_iters = it
        llf_groups = self._gather(parts, "ll")
        logdet = 2.0 * float(np.log(np.diag(hv_cho[0])).sum())
        llf = llf_groups - 0.5 * (v @ v) / sb**2 - 0.5 * logdet - st.n_b * np.log(sb)

        amat = linalg.cho_solve(hv_cho, np.eye(st.n_b))
        chunk_parts = list(zip(self.chunks, [p["keep"] for p in parts], strict=True))
        bparts = run_blocks(
            lambda lo, hi: [self._chunk_b(ch, kp, amat) for ch, kp in chunk_parts[lo:hi]],
            len(chunk_parts),
        )
        bparts = [p for block in bparts for p in block]
        t_v = self._gather(bparts, "tv")
        t_phi = self._gather(bparts, "tphi")
        gvp = self._gather(parts, "gvp")  # (n_b, k_beta + 1)
        g_phi = self._gather(parts, "g_phi")
        # First-order correction for the last, unapplied Newton step in v (see _Laplace):
        # ∂(-½ log det H_v)/∂v = ½ T_v.
        llf += 0.5 * float(t_v @ step) + 0.5 * float(g @ step)
        r = amat @ t_v
        d_phi = g_phi + 0.5 * t_phi + 0.5 * (gvp.T @ r) + gvp.T @ step
        d_phi[k_beta] *= sa  # to log σ_a
        trace = float(np.trace(amat))
        g_sb = (v @ v) / sb**2 - st.n_b + trace / sb**2 + (r @ v) / sb**2 + 2.0 * (v @ step) / sb**2
        grad = np.r_[d_phi, g_sb]
        # dv̂/dθ = A ∂g/∂θ, for the first-order prediction of v at the next θ.
        dmat = np.empty((st.n_b, k_beta + 2))
        dmat[:, :k_beta] = gvp[:, :k_beta]
        dmat[:, k_beta] = gvp[:, k_beta] * sa
        dmat[:, k_beta + 1] = 2.0 * v / sb**2
        self._dv_dtheta = amat @ dmat
        self._theta_last = theta.copy()
        self._amat = amat
        # Hessian of g(θ, v̂(θ)) = G - |v̂|²/(2σ_b²), the log-likelihood without the
        # log-determinant term: exact second derivatives at fixed v plus the profile term
        # (∂²g/∂θ∂v) A (∂²g/∂v∂θ). Only the optimiser's steps use it; the standard errors
        # come from differences of the exact gradient.
        h_low = self._gather(parts, "h_phi")
        h_phi = h_low + np.tril(h_low, -1).T
        k = k_beta
        hess = np.zeros((k + 2, k + 2))
        hess[:k, :k] = h_phi[:k, :k]
        hess[:k, k] = hess[k, :k] = h_phi[:k, k] * sa
        hess[k, k] = sa * sa * h_phi[k, k] + sa * g_phi[k]
        # Plus the direct dependence of -½ log det H_v on σ_b (H_v = -G_vv + I/σ_b²), which
        # is most of that term's curvature.
        hess[k + 1, k + 1] = (
            -2.0 * (v @ v) / sb**2 - 2.0 * trace / sb**2 + 2.0 * float((amat * amat).sum()) / sb**4
        )
        hess += dmat.T @ self._dv_dtheta
        self.approx_hessian = hess
        return float(llf), grad

    def conditional(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Large-factor modes σ_a m_a (given v̂), v̂, and their conditional SDs."""
        k_beta = self.X.shape[1]
        sa = float(np.exp(self._theta_last[k_beta]))
        sd_b = (
            np.sqrt(np.diag(self._amat)) if self._amat is not None else np.full(self.st.n_b, np.nan)
        )
        return sa * self.m, self.v.copy(), sa * self.scale, sd_b
