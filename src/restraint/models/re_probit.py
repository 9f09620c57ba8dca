"""One-way random-intercept probit by Gauss–Hermite quadrature.

``P(y = 1 | u) = Φ(x'β + u_g)``, ``u_g ~ N(0, σ²)``. The likelihood of each group is
integrated over ``u_g`` with either

* ``method="gh"``: ordinary (non-adaptive) Gauss–Hermite quadrature with ``nodes`` points,
  the same rule as R's pglm (0.2-3 and later), whose default of 20 nodes is ours; or
* ``method="agh"``: adaptive Gauss–Hermite quadrature, the rule centred and scaled on each
  group's posterior mode and curvature (accurate with far fewer nodes; the default 15
  matches the reference fits).

σ is estimated as ``log σ`` (so the optimiser cannot cross zero) and reported, with its
standard error, by the delta method. The maximiser is a trust-region Newton method with the
analytic gradient and Hessian.

The results class :class:`REProbitResults` is shared with the crossed estimators in
:mod:`restraint.models.crossed`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import patsy
from scipy import special

from restraint.errors import EstimationError
from restraint.models._kernels import PROBIT_TABLE, oneway_pass
from restraint.models._re_common import (
    LOG_SIGMA_MAX,
    LOG_SIGMA_MIN,
    SIGMA_BOUNDARY,
    Prepared,
    blas_single_thread,
    chibar_pvalue,
    emit,
    group_modes,
    invert_information,
    judge_convergence,
    maximise,
    pooled_probit,
    prepare,
    run_blocks,
    segsum,
)
from restraint.models.quadrature import adaptive_rule, normal_rule
from restraint.models.results import ModelResults

__all__ = ["REProbitResults", "re_probit"]


@dataclass(repr=False)
class REProbitResults(ModelResults):
    """Random-effects probit fit: fixed effects in ``params``, σ per factor in ``sigma``.

    ``cov`` covers the fixed effects only; ``cov_full`` adds ``log σ`` for each grouping
    factor (the scale the model is estimated on). ``sigma_bse`` comes from the delta method
    (``σ · se(log σ)``). ``conditional_modes`` maps each factor to the predicted random
    effects (posterior modes given the estimates). ``lr_stat``/``lr_pvalue`` test σ = 0
    against the pooled probit, with the boundary-corrected (χ̄²) p-value.
    """

    sigma: pd.Series = field(default_factory=lambda: pd.Series(dtype=float))
    sigma_bse: pd.Series = field(default_factory=lambda: pd.Series(dtype=float))
    cov_full: pd.DataFrame = field(default_factory=pd.DataFrame)
    conditional_modes: dict[str, pd.Series] = field(default_factory=dict)
    method: str = ""
    nodes: int | None = None
    groups: dict[str, int] = field(default_factory=dict)
    gradient_norm: float = float("nan")
    message: str = ""
    llf_pooled: float = float("nan")
    lr_stat: float = float("nan")
    lr_pvalue: float = float("nan")
    fit_seconds: float = float("nan")
    formula: str = ""
    design_info: Any = None

    @property
    def df_model(self) -> int:
        """Number of estimated parameters: fixed effects and one σ per factor."""
        return len(self.params) + len(self.sigma)

    def xb(self, data: pd.DataFrame) -> np.ndarray:
        """Fixed-part linear predictor ``x'β`` for every row of ``data``.

        ``data`` needs the formula's right-hand-side columns (not the outcome, not the
        groups). Rows with a missing regressor give NaN, so the output is aligned with
        ``data`` row for row; random effects are not included.
        """
        return linear_predictor(self.design_info, self.params, data, self.formula)

    def sigma_frame(self) -> pd.DataFrame:
        """σ per grouping factor with its standard error and number of groups."""
        return pd.DataFrame(
            {
                "sigma": self.sigma,
                "se": self.sigma_bse,
                "groups": pd.Series(self.groups, dtype="Int64"),
            }
        )

    def summary(self) -> str:
        """Plain-text summary: coefficients, σ with SE, LR test of σ = 0, diagnostics."""
        base = super().summary()
        lines = [base, "random effects (standard deviations):"]
        for name in self.sigma.index:
            lines.append(
                f"  {name}: sigma = {self.sigma[name]:.5f} (se {self.sigma_bse[name]:.5f}), "
                f"{self.groups.get(name, 0)} groups"
            )
        lines.append(
            f"LR test of sigma = 0 vs pooled probit: chi2 = {self.lr_stat:.3f}, "
            f"p = {self.lr_pvalue:.4g} (boundary-corrected)"
        )
        node_txt = f", nodes = {self.nodes}" if self.nodes else ""
        lines.append(
            f"method = {self.method}{node_txt}, iterations = {self.iterations}, "
            f"|gradient| = {self.gradient_norm:.2e}, {self.message}"
        )
        return "\n".join(lines)


def linear_predictor(
    design_info: Any, params: pd.Series, data: pd.DataFrame, formula: str = ""
) -> np.ndarray:
    """``x'β`` on new data through the fitted formula's patsy design (NaN where missing)."""
    if design_info is None:
        raise EstimationError("this result carries no design information to build x'β")
    if not isinstance(data, pd.DataFrame):
        raise EstimationError(f"data must be a pandas DataFrame, got {type(data).__name__}")
    try:
        (mat,) = patsy.build_design_matrices(
            [design_info], data, NA_action=patsy.NAAction(NA_types=[]), return_type="matrix"
        )
    except patsy.PatsyError as exc:
        raise EstimationError(f"cannot build the design of {formula!r} on new data: {exc}") from exc
    X = np.asarray(mat, dtype=float)
    if X.shape[0] != len(data):
        raise EstimationError(
            f"design of {formula!r} has {X.shape[0]} rows for {len(data)} data rows"
        )
    return X @ params.to_numpy()


class _OneWayModel:
    """Log-likelihood, gradient and Hessian of the one-way model in θ = (β, log σ)."""

    def __init__(self, prep: Prepared, method: str, nodes: int) -> None:
        self.q = prep.q
        self.X = prep.X
        self.XT = np.ascontiguousarray(prep.X.T)
        grp = prep.groups[0]
        self.starts = grp.starts
        self.starts_ext = np.r_[grp.starts, len(prep.q)]
        self.n_groups = grp.n
        self.adaptive = method == "agh"
        self.nodes = nodes
        xi, logw = normal_rule(nodes)
        self._xi0 = np.broadcast_to(xi, (self.n_groups, nodes))
        self._logw0 = np.broadcast_to(logw, (self.n_groups, nodes))
        self._modes: np.ndarray | None = None
        self.modes_converged = True
        self._d2: np.ndarray | None = None

    def rule(self, c: np.ndarray, sigma: float) -> tuple[np.ndarray, np.ndarray]:
        """Quadrature nodes and log-weights per group at the current parameters."""
        if not self.adaptive:
            return self._xi0, self._logw0
        modes, scale, ok = group_modes(c, self.q, sigma, self.starts, self._modes)
        self.modes_converged = ok
        self._modes = modes
        return adaptive_rule(modes, scale, self.nodes)

    def evaluate(
        self, theta: np.ndarray, hessian: bool = False
    ) -> tuple[float, np.ndarray, np.ndarray | None]:
        """(llf, gradient, Hessian or None) at θ = (β, log σ).

        Derivatives hold the quadrature nodes fixed (exact for ``gh``; for ``agh`` they
        differ from the derivative of the approximation by the order of its error).
        With ``D_gk`` the score of group g at node k and ``π_gk`` its posterior weight,
        the gradient is ``Σ_g Σ_k π_gk D_gk`` and the Hessian
        ``Σ_g Σ_k π_gk (∂D_gk + D_gk D_gk') - D̄_g D̄_g'``.
        """
        p = self.X.shape[1]
        beta = theta[:p]
        sigma = float(np.exp(theta[p]))
        c = self.X @ beta
        xi, logw = self.rule(c, sigma)
        if not hessian:
            d2 = np.empty((0, self.nodes))
        else:
            # Kept between evaluations: a fresh (rows × nodes) array costs page faults on
            # every call.
            if self._d2 is None or self._d2.shape != (len(c), self.nodes):
                self._d2 = np.empty((len(c), self.nodes))
            d2 = self._d2

        def block(lo: int, hi: int) -> tuple[float, np.ndarray, np.ndarray]:
            r_lo, r_hi = self.starts_ext[lo], self.starts_ext[hi]
            grad = np.zeros(p + 1)
            hess = np.zeros((p + 1, p + 1))
            ll = oneway_pass(
                c[r_lo:r_hi],
                self.q[r_lo:r_hi],
                sigma,
                xi[lo:hi],
                logw[lo:hi],
                self.starts_ext[lo : hi + 1] - r_lo,
                hessian,
                self.X[r_lo:r_hi],
                d2[r_lo:r_hi] if hessian else d2,
                grad,
                hess,
                PROBIT_TABLE,
            )
            return ll, grad, hess

        parts = run_blocks(block, self.n_groups, min_block=64)
        llf = float(sum(pt[0] for pt in parts))
        g = sum(pt[1] for pt in parts)
        g_sigma = float(g[p])
        grad = np.concatenate([g[:p], [sigma * g_sigma]])
        if not hessian:
            return llf, grad, None
        low = sum(pt[2] for pt in parts)
        h = np.tril(low) + np.tril(low, -1).T
        # Chain rule from σ to log σ.
        h[:p, p] *= sigma
        h[p, :p] *= sigma
        h[p, p] = sigma * sigma * h[p, p] + sigma * g_sigma
        return llf, grad, h

    def conditional_modes(self, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Posterior mode of each group's u (= σ ξ̂) and its conditional SD."""
        p = self.X.shape[1]
        sigma = float(np.exp(theta[p]))
        c = self.X @ theta[:p]
        modes, scale, _ = group_modes(c, self.q, sigma, self.starts, self._modes)
        return sigma * modes, sigma * scale


def re_probit(
    formula: str,
    data: pd.DataFrame,
    group: str,
    method: str = "gh",
    nodes: int | None = None,
    *,
    start: dict[str, float] | None = None,
    maxiter: int = 200,
    gtol: float = 1e-6,
) -> REProbitResults:
    """Fit a probit with one random intercept per level of ``group``.

    Parameters
    ----------
    formula : str
        patsy formula such as ``"crisis ~ dp + jd + prep + contig + sc"``; the outcome must
        be 0/1. Rows with a missing value in the formula or in ``group`` are dropped and
        counted (``extra["n_dropped"]``).
    data : DataFrame
    group : str
        Column whose levels carry the random intercept.
    method : {"gh", "agh"}
        ``"gh"``: non-adaptive Gauss–Hermite as pglm (default 20 nodes); ``"agh"``:
        adaptive Gauss–Hermite (default 15 nodes).
    nodes : int, optional
        Number of quadrature nodes.
    start : dict, optional
        Start values by term name (and ``"sigma"``); the default is the pooled probit and a
        moment-based σ.
    maxiter, gtol : optimiser limits (iterations; max-norm of the gradient).

    Returns
    -------
    REProbitResults
        ``params``/``bse``/``cov`` for the fixed effects, ``sigma``/``sigma_bse``,
        ``conditional_modes[group]``, the LR test of σ = 0, diagnostics and warnings.
    """
    with blas_single_thread():
        return _fit_one_way(formula, data, group, method, nodes, start, maxiter, gtol)


def _fit_one_way(
    formula: str,
    data: pd.DataFrame,
    group: str,
    method: str,
    nodes: int | None,
    start: dict[str, float] | None,
    maxiter: int,
    gtol: float,
) -> REProbitResults:
    t0 = time.perf_counter()
    if method not in ("gh", "agh"):
        raise EstimationError(f"method must be 'gh' or 'agh', got {method!r}")
    if nodes is None:
        nodes = 20 if method == "gh" else 15
    if not isinstance(nodes, (int, np.integer)) or not 1 <= nodes <= 200:
        raise EstimationError(f"nodes must be an integer between 1 and 200, got {nodes!r}")
    prep = prepare(formula, data, [group])
    notes = group_notes(prep)
    model = _OneWayModel(prep, method, int(nodes))
    names = prep.design.names
    p = len(names)

    beta0, llf_pooled, pooled_ok = pooled_probit(prep.y, prep.X)
    if not pooled_ok:
        notes.append("pooled probit (start values and σ = 0 comparison) did not converge")
    theta0 = np.concatenate([beta0, [np.log(start_sigma(prep, beta0))]])
    if start:
        theta0 = apply_start(theta0, start, names, ["sigma"])

    def fun(th: np.ndarray) -> tuple:
        th = th.copy()
        # Keep log σ inside finite bounds: beyond them the likelihood is flat to rounding.
        th[p] = np.clip(th[p], LOG_SIGMA_MIN, LOG_SIGMA_MAX)
        return model.evaluate(th, hessian=True)

    res = maximise(
        fun,
        theta0,
        with_hessian=True,
        gtol=gtol,
        maxiter=maxiter,
    )
    theta = res.x.copy()
    if not LOG_SIGMA_MIN <= theta[p] <= LOG_SIGMA_MAX:
        theta[p] = np.clip(theta[p], LOG_SIGMA_MIN, LOG_SIGMA_MAX)
        res.last = fun(theta)
    if not np.isfinite(res.fun):
        raise EstimationError(f"log-likelihood is not finite at the estimates ({res.message})")
    llf, grad, hess = res.last
    converged = judge_convergence(res, grad, gtol, 1e-4, notes)
    if model.adaptive and not model.modes_converged:
        notes.append("some groups' posterior modes (adaptive quadrature centres) did not converge")
    sigma_names = [group]
    out = build_results(
        prep=prep,
        theta=theta,
        llf=llf,
        grad=grad,
        hess=hess,
        sigma_names=sigma_names,
        llf_pooled=llf_pooled,
        notes=notes,
        converged=converged,
        iterations=res.nit,
        message=res.message,
        method=method,
        nodes=int(nodes),
        model_name=f"random-effects probit ({'adaptive ' if method == 'agh' else ''}"
        f"Gauss-Hermite, {nodes} nodes)",
        formula=formula,
    )
    modes, csd = model.conditional_modes(theta)
    attach_conditional(out, prep, [modes], [csd])
    out.fit_seconds = time.perf_counter() - t0
    return out


def attach_conditional(
    out: REProbitResults, prep: Prepared, modes: list[np.ndarray], sds: list[np.ndarray]
) -> None:
    """Store each grouping factor's conditional modes and SDs, indexed by its levels, as
    ``out.conditional_modes`` and ``out.extra["conditional_sd"]``."""
    out.conditional_modes = {}
    out.extra["conditional_sd"] = {}
    for grp, mode, sd in zip(prep.groups, modes, sds, strict=True):
        out.conditional_modes[grp.name] = pd.Series(mode, index=grp.labels, name=grp.name)
        out.extra["conditional_sd"][grp.name] = pd.Series(sd, index=grp.labels, name=grp.name)


def group_notes(prep: Prepared) -> list[str]:
    """Notes on groups that carry little information; counts go to ``extra`` as well.

    Groups whose outcomes are all 0 (or all 1) are kept: in a random-effects model they
    inform σ and β through the prior, unlike in a conditional (fixed-effects) probit.
    Only the degenerate case where *every* group is constant is a problem (σ then runs off
    to infinity), and that is reported.
    """
    notes: list[str] = []
    for grp in prep.groups:
        ones = np.bincount(grp.codes, weights=prep.y, minlength=grp.n)
        zero = int((ones == 0).sum())
        full = int((ones == grp.counts).sum())
        if zero + full == grp.n:
            notes.append(
                f"every {grp.name!r} group has a constant outcome ({zero} all-0, {full} all-1):"
                f" the within-group variation that separates sigma from beta is absent, so"
                f" sigma({grp.name}) is driven towards infinity"
            )
    return notes


def group_counts(prep: Prepared) -> dict[str, dict[str, int]]:
    """Per factor: number of groups, and of groups whose outcomes are all 0 or all 1."""
    out: dict[str, dict[str, int]] = {}
    for grp in prep.groups:
        ones = np.bincount(grp.codes, weights=prep.y, minlength=grp.n)
        out[grp.name] = {
            "groups": grp.n,
            "all_zero": int((ones == 0).sum()),
            "all_one": int((ones == grp.counts).sum()),
            "singletons": int((grp.counts == 1).sum()),
        }
    return out


def intercept_only_llf(y: np.ndarray) -> float:
    """Log-likelihood of the intercept-only probit (for McFadden's pseudo-R²)."""
    n1 = float(y.sum())
    n0 = float(len(y) - n1)
    p1 = n1 / len(y)
    return float(n1 * np.log(p1) + n0 * np.log1p(-p1)) if 0 < n1 < len(y) else 0.0


def start_sigma(prep: Prepared, beta: np.ndarray) -> float:
    """Moment start value for σ: spread of one-step group effects (as pglm), bounded."""
    grp = prep.groups[0]
    t = prep.q * (prep.X @ beta)
    mills = (np.exp(-0.5 * t * t) / np.sqrt(2.0 * np.pi)) / np.clip(special.ndtr(t), 1e-300, None)
    d2 = -mills * (t + mills)
    num = segsum(prep.q * mills, grp.starts)
    den = segsum(d2, grp.starts)
    mu = -num / np.where(den < 0, den, -1.0)
    s = float(np.std(mu))
    return float(np.clip(s if np.isfinite(s) else 0.5, 0.05, 3.0))


def apply_start(
    theta0: np.ndarray, start: dict[str, float], names: list[str], sigma_keys: list[str]
) -> np.ndarray:
    """Overwrite start values by name; σ keys are given on the σ scale."""
    theta = theta0.copy()
    p = len(names)
    for key, val in start.items():
        if key in names:
            theta[names.index(key)] = float(val)
        elif key in sigma_keys:
            if not val > 0:
                raise EstimationError(f"start value for {key!r} must be > 0, got {val!r}")
            theta[p + sigma_keys.index(key)] = np.log(float(val))
        else:
            raise EstimationError(
                f"start value for unknown parameter {key!r} (known: {names + sigma_keys})"
            )
    return theta


def build_results(
    *,
    prep: Prepared,
    theta: np.ndarray,
    llf: float,
    grad: np.ndarray,
    hess: np.ndarray,
    sigma_names: list[str],
    llf_pooled: float,
    notes: list[str],
    converged: bool,
    iterations: int,
    message: str,
    method: str,
    nodes: int | None,
    model_name: str,
    formula: str,
) -> REProbitResults:
    """Turn θ = (β, log σ...) and the Hessian into a results object, with warnings."""
    names = prep.design.names
    p = len(names)
    n_sig = len(sigma_names)
    sigma = np.exp(theta[p:])
    full_names = names + [f"log_sigma[{s}]" for s in sigma_names]
    at_boundary = [i for i in range(n_sig) if sigma[i] < SIGMA_BOUNDARY]
    keep = [i for i in range(p + n_sig) if i - p not in at_boundary]
    cov_full = np.full((p + n_sig, p + n_sig), np.nan)
    # At the boundary log σ is not identified (its information → 0); the covariance of the
    # rest is taken with σ held at its estimate, and σ's SE is NaN with a note.
    sub = invert_information(hess[np.ix_(keep, keep)], [full_names[i] for i in keep], notes)
    cov_full[np.ix_(keep, keep)] = sub
    for i in at_boundary:
        notes.append(
            f"sigma({sigma_names[i]}) = {sigma[i]:.2g} is at the boundary 0: the data carry no"
            " evidence of this random effect (see the LR test); its standard error is"
            " undefined (NaN) and the other standard errors treat it as fixed"
        )
    big = [n for n, b in zip(names, theta[:p], strict=True) if abs(b) > 10]
    if big:
        notes.append(
            f"coefficient(s) {big} exceed 10 in absolute value on the probit scale: the "
            "outcome is (quasi-)separated by these terms and their estimates diverge"
        )
    if np.any(theta[p:] <= LOG_SIGMA_MIN + 1e-8) and not at_boundary:
        notes.append("log sigma reached its lower bound")
    if np.any(theta[p:] >= LOG_SIGMA_MAX - 1e-8):
        notes.append(
            "sigma reached its upper bound (50): the random effect is not identified "
            "(e.g. every group has a constant outcome)"
        )
    sigma_se = sigma * np.sqrt(np.diag(cov_full)[p:])
    lr = max(2.0 * (llf - llf_pooled), 0.0)
    pval = chibar_pvalue(lr, n_sig)
    emit(notes)
    params = pd.Series(theta[:p], index=names)
    cov = pd.DataFrame(cov_full[:p, :p], index=names, columns=names)
    counts = {g.name: g.n for g in prep.groups}
    return REProbitResults(
        params=params,
        cov=cov,
        llf=float(llf),
        nobs=len(prep.y),
        model=model_name,
        dependent=prep.design.dependent,
        cov_type="ML (observed information)",
        llf_null=intercept_only_llf(prep.y),
        converged=bool(converged),
        iterations=int(iterations),
        warnings=list(notes),
        extra={
            "n_dropped": prep.design.n_dropped,
            "dropped_by": prep.design.dropped_by,
            "group_counts": group_counts(prep),
            "theta": theta.copy(),
            "gradient": grad.copy(),
        },
        sigma=pd.Series(sigma, index=sigma_names, name="sigma"),
        sigma_bse=pd.Series(sigma_se, index=sigma_names, name="sigma_se"),
        cov_full=pd.DataFrame(cov_full, index=full_names, columns=full_names),
        method=method,
        nodes=nodes,
        groups=counts,
        gradient_norm=float(np.max(np.abs(grad))),
        message=message,
        llf_pooled=float(llf_pooled),
        lr_stat=float(lr),
        lr_pvalue=pval,
        formula=formula,
        design_info=prep.design.design_info,
    )
