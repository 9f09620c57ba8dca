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

Both report β, σ per factor with standard errors (observed information, by central
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
from restraint.models._re_common import (
    LOG_SIGMA_MAX,
    LOG_SIGMA_MIN,
    Prepared,
    blas_single_thread,
    fd_hessian,
    group_modes,
    maximise,
    node_pass,
    pooled_probit,
    prepare,
    run_blocks,
)
from restraint.models.quadrature import adaptive_rule, probit_logpdf
from restraint.models.re_probit import (
    REProbitResults,
    apply_start,
    build_results,
    group_notes,
)

__all__ = ["crossed_re_probit"]

# Dense blocks of the large × small factor matrix are built this many cells at a time, so
# memory stays linear in the number of rows whatever the number of levels.
_CHUNK_CELLS = 2_000_000


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
    def _rows(self, c: np.ndarray, u: np.ndarray, v: np.ndarray, order: int):
        st = self.st
        t = self.q * (c + u[st.a] + v[st.b])
        return probit_logpdf(t, order=order)

    def _f(self, c, u, v, sa, sb) -> float:
        logcdf, _, _, _ = self._rows(c, u, v, order=1)
        return float(logcdf.sum() - 0.5 * (u @ u) / sa**2 - 0.5 * (v @ v) / sb**2)

    def _curvature(self, w: np.ndarray, sa: float, sb: float):
        """Diagonal p_a, pair weights C_ab, and the Schur complement S (n_b × n_b)."""
        st = self.st
        p = np.add.reduceat(w, st.a_starts) + 1.0 / sa**2
        cvals = np.add.reduceat(w, st.pair_starts)
        qb = np.bincount(st.b, weights=w, minlength=st.n_b) + 1.0 / sb**2
        s = np.diag(qb)
        for ch in st.chunks:
            cd = _dense_chunk(st, ch, cvals)
            s -= (cd / p[ch[0] : ch[1], None]).T @ cd
        return p, cvals, s

    def _c_times(self, cvals: np.ndarray, x_b: np.ndarray) -> np.ndarray:
        """C @ x for a vector over the small factor."""
        st = self.st
        return np.bincount(st.pair_a, weights=cvals * x_b[st.pair_b], minlength=st.n_a)

    def _ct_times(self, cvals: np.ndarray, x_a: np.ndarray) -> np.ndarray:
        """C' @ x for a vector over the large factor."""
        st = self.st
        return np.bincount(st.pair_b, weights=cvals * x_a[st.pair_a], minlength=st.n_b)

    def _solve(self, p, cvals, s_cho, r_a, r_b):
        """Solve H z = r by eliminating the diagonal large-factor block."""
        z_b = linalg.cho_solve(s_cho, r_b - self._ct_times(cvals, r_a / p))
        z_a = (r_a - self._c_times(cvals, z_b)) / p
        return z_a, z_b

    def modes(self, c: np.ndarray, sa: float, sb: float, tol: float = 1e-8, maxiter: int = 100):
        """Conditional modes (û, v̂) by damped Newton steps from the previous modes.

        The joint log-density is strictly concave, so full Newton steps are taken unless
        the function fails to increase (then halved). Convergence is quadratic: a last step
        below ``tol`` leaves an error of order ``tol²``.
        """
        st = self.st
        u, v = self.u, self.v
        f_old = -np.inf
        du = np.zeros_like(u)
        dv = np.zeros_like(v)
        step = 1.0
        ok = False
        it = 0
        while it < maxiter:
            it += 1
            logcdf, g1, d2, _ = self._rows(c, u, v, order=2)
            f_new = float(logcdf.sum() - 0.5 * (u @ u) / sa**2 - 0.5 * (v @ v) / sb**2)
            if f_new < f_old - 1e-9 * abs(f_old) and step > 1e-6:
                # Overshot: go back half way along the last Newton direction.
                step /= 2
                u = u - step * du
                v = v - step * dv
                continue
            f_old = f_new
            g1 = self.q * g1
            g_a = np.add.reduceat(g1, st.a_starts) - u / sa**2
            g_b = np.bincount(st.b, weights=g1, minlength=st.n_b) - v / sb**2
            p, cvals, s = self._curvature(-d2, sa, sb)
            s_cho = linalg.cho_factor(s, lower=True)
            du, dv = self._solve(p, cvals, s_cho, g_a, g_b)
            step = 1.0
            u = u + du
            v = v + dv
            if max(np.max(np.abs(du)), np.max(np.abs(dv))) < tol:
                ok = True
                break
        self.u, self.v = u, v
        self.newton_ok = ok
        self.newton_iters = it
        return u, v

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
        u, v = self.modes(c, sa, sb)
        logcdf, g1, d2, d3 = self._rows(c, u, v, order=3)
        g1 = self.q * g1
        d3 = self.q * d3
        w = -d2
        p, cvals, s = self._curvature(w, sa, sb)
        s_cho = linalg.cho_factor(s, lower=True)
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
        for ch in st.chunks:
            a_lo, a_hi, p_lo, p_hi = ch
            cd = _dense_chunk(st, ch, cvals)
            md = cd @ s_inv
            h_aa[a_lo:a_hi] += (md * cd).sum(axis=1) / p[a_lo:a_hi] ** 2
            h_ab_pair[p_lo:p_hi] = (
                -md[st.pair_a[p_lo:p_hi] - a_lo, st.pair_b[p_lo:p_hi]] / p[st.pair_a[p_lo:p_hi]]
            )
        h = h_aa[st.a] + 2.0 * h_ab_pair[st.pair_of_row] + np.diag(s_inv)[st.b]
        kvec = -d3 * h  # ∂ log det H / ∂η_i
        r_a, r_b = self._solve(
            p,
            cvals,
            s_cho,
            np.add.reduceat(kvec, st.a_starts),
            np.bincount(st.b, weights=kvec, minlength=st.n_b),
        )
        zr = r_a[st.a] + r_b[st.b]
        g_beta = self.X.T @ (g1 - 0.5 * kvec + 0.5 * w * zr)
        tr_a = float(h_aa.sum())
        tr_b = float(np.trace(s_inv))
        g_sa = (u @ u) / sa**2 - st.n_a + tr_a / sa**2 - (r_a @ u) / sa**2
        g_sb = (v @ v) / sb**2 - st.n_b + tr_b / sb**2 - (r_b @ v) / sb**2
        self._last_cond_sd = (np.sqrt(h_aa), np.sqrt(np.diag(s_inv)))
        # dz/dθ = H⁻¹ ∂g/∂θ, g = ∂f/∂z: the β columns are -H⁻¹ Z'WX, the log σ columns
        # H⁻¹ (2u/σ², 0) and H⁻¹ (0, 2v/σ²).
        k = len(theta)
        du = np.empty((st.n_a, k))
        dv = np.empty((st.n_b, k))
        for j in range(k_beta):
            wx = w * self.X[:, j]
            du[:, j], dv[:, j] = self._solve(
                p, cvals, s_cho,
                -np.add.reduceat(wx, st.a_starts),
                -np.bincount(st.b, weights=wx, minlength=st.n_b),
            )
        du[:, k_beta], dv[:, k_beta] = self._solve(
            p, cvals, s_cho, 2.0 * u / sa**2, np.zeros(st.n_b)
        )
        du[:, k_beta + 1], dv[:, k_beta + 1] = self._solve(
            p, cvals, s_cho, np.zeros(st.n_a), 2.0 * v / sb**2
        )
        self._theta_last = theta.copy()
        self._du_dtheta, self._dv_dtheta = du, dv
        return llf, np.concatenate([g_beta, [g_sa, g_sb]])

    def conditional(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Modes and conditional SDs (from H⁻¹) at the last evaluation."""
        sd_a, sd_b = self._last_cond_sd
        return self.u.copy(), self.v.copy(), sd_a, sd_b


def _optimise(fun, model, theta0: np.ndarray, k_beta: int, gtol: float, maxiter: int):
    """BFGS from a scaled start, then the Hessian for the standard errors.

    The start inverse Hessian combines the pooled-probit information for β with forward
    differences of the analytic gradient along the log σ directions (two evaluations):
    with it BFGS moves σ at the right scale from the first step.
    The final Hessian is taken by forward differences of the analytic gradient.
    """
    f0, g0 = fun(theta0)
    k = len(theta0)
    hinv0 = _pooled_hess_inv0(model.X, model.q, theta0)
    if np.isfinite(f0):
        cols = list(range(k_beta, k))
        hcols = fd_hessian(lambda th: fun(th)[1], theta0, 1e-4, g0=g0, columns=cols)
        approx = -np.linalg.inv(hinv0[:k_beta, :k_beta]) if k_beta else np.zeros((0, 0))
        h0 = np.zeros((k, k))
        h0[:k_beta, :k_beta] = approx
        h0[:, cols] = hcols[:, cols]
        h0[cols, :] = hcols[:, cols].T
        h0 = 0.5 * (h0 + h0.T)
        try:
            inv = np.linalg.inv(-h0)
            inv = 0.5 * (inv + inv.T)
            np.linalg.cholesky(inv)
            hinv0 = inv
        except np.linalg.LinAlgError:
            pass
        fun(theta0)  # modes back at the start
    res = maximise(fun, theta0, gtol=gtol, maxiter=maxiter, hess_inv0=hinv0)
    theta = res.x.copy()
    theta[k_beta:] = np.clip(theta[k_beta:], LOG_SIGMA_MIN, LOG_SIGMA_MAX)
    res.x = theta
    llf, grad = fun(theta)
    hess = fd_hessian(lambda th: fun(th)[1], theta, 1e-6, g0=grad)
    llf, grad = fun(theta)  # leave the modes at the estimates
    return res, llf, grad, hess


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
        theta0 = np.concatenate([beta0, np.log([0.5, 0.5])])
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

    res, llf, grad, hess = _optimise(fun, model, theta0, k_beta, gtol, maxiter)
    theta = res.x
    cond = model.conditional()
    converged = res.success and np.max(np.abs(grad)) < max(10 * gtol, 1e-3)
    if not converged:
        notes.append(
            f"optimiser did not converge after {res.nit} iterations: {res.message} "
            f"(max |gradient| = {np.max(np.abs(grad)):.3g})"
        )
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
    labels = [g.labels for g in prep.groups]
    out.conditional_modes = {
        internal[0]: pd.Series(u, index=labels[0], name=internal[0]),
        internal[1]: pd.Series(v, index=labels[1], name=internal[1]),
    }
    out.extra["conditional_sd"] = {
        internal[0]: pd.Series(sd_u, index=labels[0], name=internal[0]),
        internal[1]: pd.Series(sd_v, index=labels[1], name=internal[1]),
    }
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
    integral by adaptive Gauss–Hermite quadrature given ``v``) and
    ``g(v) = G(v) - |v|²/(2σ_b²)``, the log-likelihood is
    ``g(v̂) - ½ log det(-G''(v̂) + I/σ_b²) - n_b log σ_b`` at the mode ``v̂``.

    Every quantity is a posterior moment over the quadrature nodes of each large-factor
    group: ``G'`` a mean, ``G''`` a mean plus a covariance, and the third derivatives that
    the gradient of the log-determinant needs, a mean plus covariances plus a third
    central moment. The nodes are held fixed when differentiating (their adaptation moves
    the result only at the order of the quadrature error).
    """

    def __init__(self, prep: Prepared, nodes: int) -> None:
        self.q = prep.q
        self.X = prep.X
        self.XT = np.ascontiguousarray(prep.X.T)
        self.st = _structure(prep)
        self.nodes = nodes
        st = self.st
        self.unique_pairs = len(st.pair_starts) == len(self.q)
        self.v = np.zeros(st.n_b)
        self.m = np.zeros(st.n_a)
        self.scale = np.ones(st.n_a)
        self.newton_ok = True
        self.newton_iters = 0
        self._theta_last: np.ndarray | None = None
        self._dv_dtheta: np.ndarray | None = None
        # Dyad chunks (by rows) for the dense (a, k) × b work, bounded in memory.
        rows_per_chunk = max(1, _CHUNK_CELLS // max(st.n_b * nodes, 1))
        bounds = [0]
        while bounds[-1] < st.n_a:
            bounds.append(min(st.n_a, bounds[-1] + rows_per_chunk))
        self.a_chunks = list(zip(bounds[:-1], bounds[1:], strict=True))
        self.row_first = np.r_[st.a_starts, len(self.q)]

    def start(self, beta0: np.ndarray) -> np.ndarray:
        """Start values: pooled probit β, σ_a = 0.5, σ_b = 0.3."""
        return np.concatenate([beta0, np.log([0.5, 0.3])])

    def _pass(self, c0: np.ndarray, v: np.ndarray, sa: float, order: int):
        st = self.st
        c = c0 + v[st.b]
        m, scale, ok = group_modes(c, self.q, sa, st.a, st.a_starts, self.m, tol=1e-8)
        self.m, self.scale = m, scale
        self.modes_ok = ok
        xi, logw = adaptive_rule(m, scale, self.nodes)
        res = node_pass(c, self.q, sa, xi, logw, st.a, st.a_starts, order=order,
                        keep=("d1", "d2", "d3"))
        return xi, res

    def _year_moments(self, res, with_cov: bool = True):
        """Posterior-weighted row scores w1, curvatures w2, and the covariance part of G''."""
        st = self.st
        n_nodes = self.nodes
        a = st.a

        def rows_block(lo: int, hi: int):
            w1 = np.zeros(hi - lo)
            w2 = np.zeros(hi - lo)
            for k in range(n_nodes):
                pk = res.post[k][a[lo:hi]]
                w1 += pk * res.d1[k, lo:hi]
                w2 += pk * res.d2[k, lo:hi]
            return w1, w2

        parts = run_blocks(rows_block_split(rows_block, self.row_first, self.a_chunks),
                           len(self.a_chunks))
        w1 = np.concatenate([p[0] for p in parts])
        w2 = np.concatenate([p[1] for p in parts])
        if not with_cov:
            return w1, w2, None
        cov_parts = run_blocks(
            lambda lo, hi: self._cov_chunks(res, w1, lo, hi), len(self.a_chunks)
        )
        return w1, w2, sum(cov_parts)

    def _dense_dev(self, res, w1: np.ndarray, a_lo: int, a_hi: int, weighted: bool):
        """(a, k) × b matrix of score deviations d1 - w1 for dyads a_lo..a_hi-1."""
        st = self.st
        n_nodes = self.nodes
        r_lo, r_hi = self.row_first[a_lo], self.row_first[a_hi]
        dev = res.d1[:, r_lo:r_hi] - w1[None, r_lo:r_hi]
        if weighted:
            dev *= np.sqrt(res.post[:, st.a[r_lo:r_hi]])
        rowidx = (st.a[r_lo:r_hi] - a_lo)[None, :] * n_nodes + np.arange(n_nodes)[:, None]
        shape = ((a_hi - a_lo) * n_nodes, st.n_b)
        if self.unique_pairs:
            out = np.zeros(shape)
            out[rowidx, st.b[None, r_lo:r_hi]] = dev
        else:
            flat = (rowidx * st.n_b + st.b[None, r_lo:r_hi]).ravel()
            out = np.bincount(flat, weights=dev.ravel(), minlength=shape[0] * shape[1])
            out = out.reshape(shape)
        return out, rowidx, r_lo, r_hi

    def _cov_chunks(self, res, w1, lo: int, hi: int) -> np.ndarray:
        total = np.zeros((self.st.n_b, self.st.n_b))
        for a_lo, a_hi in self.a_chunks[lo:hi]:
            dw, _, _, _ = self._dense_dev(res, w1, a_lo, a_hi, weighted=True)
            total += dw.T @ dw
        return total

    def evaluate(self, theta: np.ndarray, tol: float = 1e-7, maxiter: int = 50):
        """Log-likelihood and analytic gradient at θ = (β, log σ_a, log σ_b)."""
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
        while it < maxiter:
            it += 1
            xi, res = self._pass(c0, v, sa, order=3)
            w1, w2, cov = self._year_moments(res)
            g = np.bincount(st.b, weights=w1, minlength=st.n_b) - v / sb**2
            hv = -(np.diag(np.bincount(st.b, weights=w2, minlength=st.n_b)) + cov)
            hv[np.diag_indices_from(hv)] += 1.0 / sb**2
            hv_cho = linalg.cho_factor(hv, lower=True)
            step = linalg.cho_solve(hv_cho, g)
            if np.max(np.abs(step)) < tol:
                ok = True
                break
            v = v + step
        self.v = v
        self.newton_ok = ok and self.modes_ok
        self.newton_iters = it
        llf_groups = float(res.ll_groups.sum())
        logdet = 2.0 * float(np.log(np.diag(hv_cho[0])).sum())
        llf = llf_groups - 0.5 * (v @ v) / sb**2 - 0.5 * logdet - st.n_b * np.log(sb)
        grad, dv = self._gradient(theta, res, xi, w1, hv_cho, v, sa, sb)
        self._theta_last = theta.copy()
        self._dv_dtheta = dv
        return llf, grad

    def _gradient(self, theta, res, xi, w1, hv_cho, v, sa, sb):
        st = self.st
        n_nodes = self.nodes
        k_beta = self.X.shape[1]
        a, b = st.a, st.b
        amat = linalg.cho_solve(hv_cho, np.eye(st.n_b))
        a_diag = np.diag(amat)
        adiag_rows = a_diag[b]
        post = res.post
        xi_t = xi.T  # (K, n_a)

        # Per node and dyad: e_ak = Σ_i ℓ''_ik A_bb; q_ak = d_ak' A d_ak; and y_ik = (A d_ak)_b.
        y = np.empty_like(res.d1)
        qa = np.empty((n_nodes, st.n_a))

        def chunk_block(lo: int, hi: int) -> None:
            for a_lo, a_hi in self.a_chunks[lo:hi]:
                dd, rowidx, r_lo, r_hi = self._dense_dev(res, w1, a_lo, a_hi, weighted=False)
                ymat = dd @ amat
                yk = ymat[rowidx, b[None, r_lo:r_hi]]
                y[:, r_lo:r_hi] = yk
                dev = res.d1[:, r_lo:r_hi] - w1[None, r_lo:r_hi]
                qa[:, a_lo:a_hi] = np.add.reduceat(dev * yk, st.a_starts[a_lo:a_hi] - r_lo,
                                                   axis=1)

        run_blocks(chunk_block, len(self.a_chunks))
        ea = np.add.reduceat(res.d2 * adiag_rows[None, :], st.a_starts, axis=1)  # (K, n_a)
        e_dev = ea - (post * ea).sum(axis=0)[None, :]
        q_dev = qa - (post * qa).sum(axis=0)[None, :]
        pr = post[:, a]  # (K, N)
        # τ_ik: contraction of the third derivative of log L_a with A, per row and node.
        tau = res.d3 * adiag_rows[None, :]
        tau += (e_dev[:, a] + q_dev[:, a]) * res.d1
        tau += 2.0 * res.d2 * y
        t_rows = (pr * tau).sum(axis=0)
        t_v = np.bincount(b, weights=t_rows, minlength=st.n_b)
        r = amat @ t_v
        r_rows = r[b]
        s_ak = np.add.reduceat(res.d1 * r_rows[None, :], st.a_starts, axis=1)
        s_dev = s_ak - (post * s_ak).sum(axis=0)[None, :]
        rho = res.d2 * r_rows[None, :] + s_dev[:, a] * res.d1
        total = res.d1 + 0.5 * tau + 0.5 * rho  # (K, N)
        ptot = pr * total
        g_beta = self.X.T @ ptot.sum(axis=0)
        g_sa = float((np.add.reduceat(ptot, st.a_starts, axis=1) * xi_t).sum()) * sa
        trace = float(np.trace(amat))
        g_sb = (v @ v) / sb**2 - st.n_b + trace / sb**2 + (r @ v) / sb**2
        grad = np.concatenate([g_beta, [g_sa, g_sb]])
        # dv̂/dθ = A ∂g/∂θ: β columns A G_vβ, σ_a column A G_vσ, σ_b column A 2v/σ_b².
        # G_vψ = Σ_rows π ℓ'' J + Cov(s_b, D_ψ); D_β = Σ_i ℓ' x_i, D_σ = ξ Σ_i ℓ'.
        w2 = (pr * res.d2).sum(axis=0)
        gvb = np.empty((st.n_b, k_beta + 2))
        for j in range(k_beta):
            # Cov_π(Σ_{i in b} ℓ'_i, Σ_{i in a} ℓ'_i x_ij) per dyad, summed to years.
            dj = np.add.reduceat(res.d1 * self.XT[j][None, :], st.a_starts, axis=1)
            dj_dev = dj - (post * dj).sum(axis=0)[None, :]
            cov_rows = (pr * (res.d1 - w1[None, :]) * dj_dev[:, a]).sum(axis=0)
            gvb[:, j] = np.bincount(b, weights=w2 * self.X[:, j] + cov_rows, minlength=st.n_b)
        s1 = np.add.reduceat(res.d1, st.a_starts, axis=1)
        ds = s1 * xi_t
        ds_dev = ds - (post * ds).sum(axis=0)[None, :]
        e_sig = (pr * (res.d2 * xi_t[:, a] + (res.d1 - w1[None, :]) * ds_dev[:, a])).sum(axis=0)
        gvb[:, k_beta] = np.bincount(b, weights=e_sig, minlength=st.n_b) * sa
        gvb[:, k_beta + 1] = 2.0 * v / sb**2
        dv = amat @ gvb
        self._amat = amat
        return grad, dv

    def conditional(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Large-factor modes σ_a m_a (given v̂), v̂, and their conditional SDs."""
        k_beta = self.X.shape[1]
        sa = float(np.exp(self._theta_last[k_beta]))
        return sa * self.m, self.v.copy(), sa * self.scale, np.sqrt(np.diag(self._amat))


def rows_block_split(fn, row_first: np.ndarray, a_chunks: list[tuple[int, int]]):
    """Adapt a row-range function to run over dyad chunks ``lo..hi`` (indices in a_chunks)."""

    def run(lo: int, hi: int):
        r_lo = row_first[a_chunks[lo][0]]
        r_hi = row_first[a_chunks[hi - 1][1]]
        return fn(int(r_lo), int(r_hi))

    return run
