"""Shared machinery of the random-effects probits: grouping, quadrature passes, optimiser,
covariance and diagnostics. Private: the public entry points are in ``re_probit.py`` and
``crossed.py``."""

from __future__ import annotations

import contextlib
import os
import threading
import warnings
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy import special

from restraint.errors import EstimationError, EstimationWarning
from restraint.models._kernels import PROBIT_TABLE, group_modes_pass
from restraint.models.formula import Design, design
from restraint.models.quadrature import probit_logpdf

if TYPE_CHECKING:
    from scipy import optimize

# σ below this (relative to 1 on the probit scale) is reported as "at the boundary 0".
SIGMA_BOUNDARY = 1e-3
# log σ is kept inside these bounds so that the optimiser never walks to ±inf.
LOG_SIGMA_MIN = np.log(1e-6)
LOG_SIGMA_MAX = np.log(50.0)


@dataclass
class Grouping:
    """One grouping factor on rows already sorted by it: codes, starts, counts, labels."""

    name: str
    codes: np.ndarray  # int code per row (0..G-1), in the model's row order
    labels: pd.Index  # label per code
    starts: np.ndarray | None = None  # first row of each group when rows are sorted by it
    counts: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    @property
    def n(self) -> int:
        """Number of groups."""
        return len(self.labels)


def factorize(values: pd.Series, name: str) -> Grouping:
    """Integer codes and labels of a grouping column (labels sorted)."""
    codes, labels = pd.factorize(values, sort=True)
    if (codes < 0).any():
        raise EstimationError(f"grouping column {name!r} has missing values")
    counts = np.bincount(codes, minlength=len(labels))
    return Grouping(name=name, codes=codes.astype(np.int64), labels=pd.Index(labels), counts=counts)


@dataclass
class Prepared:
    """Design and groups with rows sorted by the first grouping factor."""

    design: Design
    y: np.ndarray
    q: np.ndarray
    X: np.ndarray
    groups: list[Grouping]
    order: np.ndarray  # position in design rows of each sorted row


def prepare(formula: str, data: pd.DataFrame, group_cols: list[str]) -> Prepared:
    """Build the design (rows with missing values dropped and counted) and sort by group.

    Rows are sorted by the first grouping factor so that per-group sums are
    ``np.add.reduceat`` over contiguous blocks.
    """
    if not isinstance(data, pd.DataFrame):
        raise EstimationError(f"data must be a pandas DataFrame, got {type(data).__name__}")
    for g in group_cols:
        if not isinstance(g, str):
            raise EstimationError(f"grouping factor must be a column name, got {g!r}")
        if g not in data.columns:
            raise EstimationError(
                f"grouping column {g!r} not in the data (available: {list(data.columns)})"
            )
    if len(set(group_cols)) != len(group_cols):
        raise EstimationError(f"grouping factors must differ, got {group_cols}")
    des = design(formula, data, extra=list(group_cols))
    y = des.y
    bad = ~np.isin(y, (0.0, 1.0))
    if bad.any():
        first = des.index[np.flatnonzero(bad)[0]]
        raise EstimationError(
            f"outcome {des.dependent!r} must be 0/1; row {first!r} has {y[bad][0]!r} "
            f"({int(bad.sum())} such rows)"
        )
    if y.min() == y.max():
        raise EstimationError(
            f"outcome {des.dependent!r} is constant ({int(y[0])}) in all {len(y)} rows: "
            "a probit cannot be estimated"
        )
    rank = np.linalg.matrix_rank(des.X)
    if rank < des.X.shape[1]:
        # A rank-deficient design makes the information matrix singular whatever the random
        # effects do; name the terms so the user can drop one.
        _, _, vt = np.linalg.svd(
            des.X / np.maximum(np.abs(des.X).max(axis=0), 1e-300), full_matrices=False
        )
        null = vt[-1]
        involved = [n for n, v in zip(des.names, null, strict=True) if abs(v) > 1e-6]
        raise EstimationError(
            f"design matrix of {formula!r} is rank deficient (rank {rank} < "
            f"{des.X.shape[1]} columns); collinear terms: {involved}"
        )
    sub = data.loc[des.index, list(group_cols)]
    groups = [factorize(sub[g], g) for g in group_cols]
    order = np.lexsort(tuple(g.codes for g in reversed(groups)))
    X = np.ascontiguousarray(des.X[order])
    y = y[order]
    for g in groups:
        g.codes = g.codes[order]
    first = groups[0]
    first.starts = np.concatenate(([0], np.cumsum(first.counts)[:-1])).astype(np.int64)
    return Prepared(design=des, y=y, q=2.0 * y - 1.0, X=X, groups=groups, order=order)


def segsum(a: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Sum of consecutive blocks of rows (all groups non-empty)."""
    return np.add.reduceat(a, starts, axis=0)


_LOCAL = threading.local()


@contextlib.contextmanager
def inner_threads(n: int) -> Iterator[None]:
    """Within this block, in this thread, fits use ``n`` threads for their inner loops
    (for callers that run several fits at once, one per core)."""
    old = getattr(_LOCAL, "threads", None)
    _LOCAL.threads = max(1, int(n))
    try:
        yield
    finally:
        _LOCAL.threads = old


def n_threads() -> int:
    """Worker threads for the element-wise work (numpy and scipy release the GIL there).

    ``RESTRAINT_THREADS`` overrides; the default uses the cores the process may run on,
    at most 8; :func:`inner_threads` overrides both for the calling thread.
    """
    local = getattr(_LOCAL, "threads", None)
    if local is not None:
        return min(local, process_threads())
    return process_threads()


def process_threads() -> int:
    """Threads for the process: ``RESTRAINT_THREADS``, else the usable cores (at most 8)."""
    env = os.environ.get("RESTRAINT_THREADS")
    if env:
        try:
            return max(1, int(env))
        except ValueError:
            pass
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, 8))


_POOL: ThreadPoolExecutor | None = None
_POOL_SIZE = 0
_POOL_LOCK = threading.Lock()


def run_blocks(fn: Callable[[int, int], Any], n_items: int, min_block: int = 1) -> list[Any]:
    """Apply ``fn(lo, hi)`` to contiguous blocks of ``range(n_items)``, in threads."""
    global _POOL, _POOL_SIZE
    threads = min(n_threads(), max(1, n_items // max(min_block, 1)))
    if threads <= 1:
        return [fn(0, n_items)]
    with _POOL_LOCK:
        # One pool for the process with n_threads() workers; fits running concurrently in
        # several threads share it (it is replaced only if RESTRAINT_THREADS changes).
        size = process_threads()
        if _POOL is None or _POOL_SIZE != size:
            if _POOL is not None:
                _POOL.shutdown(wait=False)
            _POOL = ThreadPoolExecutor(max_workers=size, thread_name_prefix="restraint-re")
            _POOL_SIZE = size
        pool = _POOL
    edges = np.linspace(0, n_items, threads + 1).round().astype(int)
    futures = [
        pool.submit(fn, int(lo), int(hi))
        for lo, hi in zip(edges[:-1], edges[1:], strict=True)
        if hi > lo
    ]
    return [f.result() for f in futures]


def group_modes(
    c: np.ndarray,
    q: np.ndarray,
    sigma: float,
    starts: np.ndarray,
    start: np.ndarray | None = None,
    tol: float = 1e-10,
    maxiter: int = 100,
) -> tuple[np.ndarray, np.ndarray, bool]:
    """Mode ``m_g`` and curvature scale ``s_g`` of ``Σ_i log Φ(q(c + σξ)) - ξ²/2`` per group.

    Newton steps per group (compiled kernel, groups split between threads); the function
    is strictly concave (second derivative ≤ -1), so the steps are only capped for safety
    far from the mode.
    Returns (mode, scale, converged) with ``scale = (-h''(mode))^(-1/2)``.
    """
    n_groups = len(starts)
    xi = np.zeros(n_groups) if start is None else np.array(start, dtype=float)
    scale = np.empty(n_groups)
    starts_ext = np.r_[starts, len(c)]

    def block(lo: int, hi: int) -> int:
        r_lo, r_hi = starts_ext[lo], starts_ext[hi]
        return group_modes_pass(
            c[r_lo:r_hi],
            q[r_lo:r_hi],
            sigma,
            starts_ext[lo : hi + 1] - r_lo,
            xi[lo:hi],
            scale[lo:hi],
            tol,
            maxiter,
            PROBIT_TABLE,
        )

    failed = sum(run_blocks(block, n_groups, min_block=64))
    return xi, scale, failed == 0


def pooled_probit(y: np.ndarray, X: np.ndarray) -> tuple[np.ndarray, float, bool]:
    """Plain probit by Newton's method: start values and the σ = 0 comparison model.

    Returns (beta, llf, converged).
    """
    beta = np.zeros(X.shape[1])
    q = 2.0 * y - 1.0
    # Start from the intercept-only fit when there is a constant column.
    const = np.flatnonzero(np.all(X == 1.0, axis=0))
    if const.size:
        beta[const[0]] = special.ndtri(np.clip(y.mean(), 1e-6, 1 - 1e-6))
    llf_old = -np.inf
    converged = False
    for _ in range(100):
        t = q * (X @ beta)
        logcdf, mills, d2, _ = probit_logpdf(t, order=2)
        llf = float(logcdf.sum())
        grad = X.T @ (q * mills)
        hess = (X * d2[:, None]).T @ X
        try:
            step = np.linalg.solve(-hess, grad)
        except np.linalg.LinAlgError:
            break
        # Halve the step while the log-likelihood falls (separation pushes β to infinity).
        lam = 1.0
        while lam > 1e-8:
            cand = beta + lam * step
            llc = float(probit_logpdf(q * (X @ cand), order=1)[0].sum())
            if llc >= llf - 1e-12:
                break
            lam /= 2
        beta = beta + lam * step
        if abs(llc - llf_old) < 1e-11 and np.max(np.abs(lam * step)) < 1e-8:
            converged = True
            llf = llc
            break
        llf_old = llc
        llf = llc
    return beta, float(llf), converged


@dataclass
class OptimResult:
    """What the optimiser returns, whatever the method."""

    x: np.ndarray
    fun: float
    grad: np.ndarray
    success: bool
    message: str
    nit: int
    nfev: int
    last: tuple = ()  # fun's full output at x (value, gradient[, Hessian])
    hess_inv: np.ndarray | None = None  # BFGS's inverse-Hessian approximation (minimiser's)


def maximise(
    fun: Callable[[np.ndarray], tuple],
    x0: np.ndarray,
    *,
    with_hessian: bool = False,
    gtol: float = 1e-6,
    maxiter: int = 500,
    hess_inv0: np.ndarray | None = None,
    known: tuple | None = None,
) -> OptimResult:
    """Maximise a log-likelihood given its analytic gradient (and Hessian if available).

    ``fun(x)`` returns ``(value, gradient)``, or ``(value, gradient, hessian)`` with
    ``with_hessian``; the last evaluation is cached because scipy asks for the value and
    the Hessian at the same point separately. With a Hessian the method is a trust-region
    Newton (``trust-exact``): pglm's maxLik uses Newton–Raphson, and the trust region keeps
    it safe where the Hessian is indefinite. Without, BFGS. A non-finite value is turned
    into a rejected step rather than propagated.
    """
    cache: dict[bytes, tuple] = {}

    def get(x: np.ndarray) -> tuple:
        key = x.tobytes()
        if key not in cache:
            out = fun(x)
            val, grad = out[0], out[1]
            if not np.isfinite(val) or not np.all(np.isfinite(grad)):
                out = (-np.inf, np.zeros_like(x), *([np.zeros((len(x), len(x)))] * (len(out) - 2)))
            cache.clear()
            cache[key] = out
        return cache[key]

    def neg(x: np.ndarray) -> tuple[float, np.ndarray]:
        out = get(x)
        return (np.inf if not np.isfinite(out[0]) else -out[0]), -out[1]

    # Imported here: scipy.optimize takes about 0.3 s to import, which the quadrature fits
    # (their own Newton steps) never need.
    from scipy import optimize

    if with_hessian:
        res = optimize.minimize(
            neg,
            x0,
            jac=True,
            hess=lambda x: -get(x)[2],
            method="trust-exact",
            options={"gtol": gtol, "maxiter": maxiter},
        )
    else:
        opts: dict = {"gtol": gtol, "maxiter": maxiter}
        if hess_inv0 is not None:
            opts["hess_inv0"] = hess_inv0
        res = optimize.minimize(neg, x0, jac=True, method="BFGS", options=opts)
    val, grad = neg(res.x)
    last = get(np.asarray(res.x, dtype=float))
    return OptimResult(
        x=np.asarray(res.x, dtype=float),
        fun=-val,
        grad=-grad,
        success=bool(res.success),
        message=str(res.message),
        nit=int(getattr(res, "nit", 0)),
        nfev=int(getattr(res, "nfev", 0)),
        last=last,
        hess_inv=getattr(res, "hess_inv", None) if not with_hessian else None,
    )


def fd_hessian(
    grad: Callable[[np.ndarray], np.ndarray],
    x: np.ndarray,
    rel_step: float = 1e-5,
    *,
    g0: np.ndarray | None = None,
    columns: list[int] | None = None,
) -> np.ndarray:
    """Hessian by differences of an analytic gradient, symmetrised.

    Central differences, or forward differences from ``g0`` (the gradient at ``x``) when it
    is given: the gradient is analytic, so the forward error is of order ``rel_step`` in
    relative terms, plenty for standard errors, at half the cost. ``columns`` restricts
    the work to some columns (the rest are NaN).
    """
    k = len(x)
    out = np.full((k, k), np.nan)
    for j in range(k) if columns is None else columns:
        h = rel_step * max(1.0, abs(x[j]))
        xp = x.copy()
        xp[j] += h
        if g0 is not None:
            out[:, j] = (grad(xp) - g0) / h
        else:
            xm = x.copy()
            xm[j] -= h
            out[:, j] = (grad(xp) - grad(xm)) / (2 * h)
    if columns is None:
        out = 0.5 * (out + out.T)
    return out


_BLAS_LOCK = threading.Lock()
_BLAS_DEPTH = 0
_BLAS_LIMITER: Any = None


@contextlib.contextmanager
def blas_single_thread() -> Iterator[None]:
    """Context that keeps BLAS on one thread.

    The matrices here are small (at most a few thousand by a hundred); a multi-threaded
    BLAS gains little on them and, on a busy machine, loses many times over waiting for
    its threads to be scheduled. Element-wise work is threaded separately (``run_blocks``).
    The limit is process-wide, so it is counted: fits running at the same time in several
    threads keep it until the last one ends, which then restores the original.
    """
    global _BLAS_DEPTH, _BLAS_LIMITER
    from threadpoolctl import threadpool_limits

    with _BLAS_LOCK:
        if _BLAS_DEPTH == 0:
            _BLAS_LIMITER = threadpool_limits(limits=1, user_api="blas")
        _BLAS_DEPTH += 1
    try:
        yield
    finally:
        with _BLAS_LOCK:
            _BLAS_DEPTH -= 1
            if _BLAS_DEPTH == 0:
                _BLAS_LIMITER.restore_original_limits()
                _BLAS_LIMITER = None


def invert_information(hess: np.ndarray, names: list[str], notes: list[str]) -> np.ndarray:
    """Covariance = inverse of the negative Hessian; singular information is reported.

    A non-positive-definite information matrix yields NaN variances (never numbers that
    look fine) and a note naming the parameters along its weakest direction.
    """
    info = -0.5 * (hess + hess.T)
    k = info.shape[0]
    if not np.all(np.isfinite(info)):
        notes.append("information matrix has non-finite entries; standard errors are NaN")
        return np.full((k, k), np.nan)
    try:
        chol = np.linalg.cholesky(info)
        inv_chol = np.linalg.solve(chol, np.eye(k))
        cov = inv_chol.T @ inv_chol
        cond = np.linalg.cond(info)
        if cond > 1e12:
            notes.append(
                f"information matrix is nearly singular (condition number {cond:.2g}); "
                "standard errors are unreliable"
            )
        return cov
    except np.linalg.LinAlgError:
        evals, evecs = np.linalg.eigh(info)
        weak = evecs[:, 0]
        involved = [n for n, v in zip(names, weak, strict=True) if abs(v) > 0.2]
        notes.append(
            "information matrix is singular or not positive definite (smallest eigenvalue "
            f"{evals[0]:.3g}, direction mostly in {involved}); standard errors are NaN"
        )
        return np.full((k, k), np.nan)


def judge_convergence(
    res: optimize.OptimizeResult, grad: np.ndarray, gtol: float, floor: float, notes: list[str]
) -> bool:
    """Whether an optimiser run converged, judged by the gradient; a note if it did not.

    BFGS ("precision loss") and the trust-region method ("bad approximation") may stop when
    the gradient is already at rounding level; that is convergence, so the gradient itself
    (below ``max(10 gtol, floor)``) decides.
    """
    worst = float(np.max(np.abs(grad)))
    # BFGS's "precision loss" and trust-region's "bad approximation" both mean the
    # predicted improvement fell to rounding level; the gradient then decides.
    ok_stop = res.success or any(m in res.message for m in ("precision loss", "bad approximation"))
    converged = bool(ok_stop and worst < max(10 * gtol, floor))
    if not converged:
        notes.append(
            f"optimiser did not converge after {res.nit} iterations: {res.message} "
            f"(max |gradient| = {worst:.3g})"
        )
    return converged


def emit(notes: list[str]) -> None:
    """Emit each note as an EstimationWarning (they are also kept on the results)."""
    for note in notes:
        warnings.warn(note, EstimationWarning, stacklevel=3)


def chibar_pvalue(lr: float, k: int) -> float:
    """p-value of an LR test of k variance components at the boundary 0.

    Self and Liang (1987): the null distribution is a mixture of χ²_0..χ²_k with binomial
    weights; for one component it is ½χ²_0 + ½χ²_1, i.e. half the naive p-value.
    """
    lr = max(float(lr), 0.0)
    if lr == 0.0:
        return 1.0
    p = 0.0
    for j in range(1, k + 1):
        weight = special.comb(k, j) / 2.0**k
        p += weight * special.chdtrc(j, lr)
    return float(p)
