"""Full-information ML probit with sample selection (van de Ven & van Praag 1981).

The model of Stata's ``heckprobit``::

    selection  s* = z'γ + u,   s = 1[s* > 0]            (observed for every row)
    outcome    y* = x'β + e,   y = 1[y* > 0]            (observed only where s = 1)
    (u, e) standard bivariate normal with correlation ρ

Log-likelihood contributions: ``log Φ(−z'γ)`` where s = 0, and
``log Φ₂(q x'β, z'γ; q ρ)`` with ``q = 2y − 1`` where s = 1. ρ is estimated as
``athrho = atanh ρ`` (unbounded), as Stata does. Gradients are analytic; the Hessian is
analytic for the (many) unselected rows and a central difference of the analytic gradient
for the (few) selected rows, so Newton's method converges quadratically at little cost.

Φ₂ comes from Owen's T function (``scipy.special.owens_t``, vectorised C code), evaluated in
whichever of the four orthant forms avoids cancellation; see :func:`bivariate_normal_cdf`.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import linalg, special

from restraint.errors import EstimationError, EstimationWarning
from restraint.models.covariance import group_codes, n_clusters, normalize_cov_type, sandwich
from restraint.models.formula import design
from restraint.models.probit import (
    ProbitResults,
    log_norm_pdf,
    model_variables,
    probit_from_arrays,
)
from restraint.models.results import ModelResults

__all__ = [
    "HeckprobitResults",
    "bivariate_normal_cdf",
    "bivariate_normal_pdf",
    "heckprobit",
]

_TWO_PI = 2.0 * np.pi
# |athrho| beyond this is ρ = ±(1 − 2e-13): the boundary, reported as such.
_ATHRHO_MAX = 15.0
# Beyond this (|ρ| > 1 − 2e-6) a step that gains nothing means the fit drifts to ±1.
_ATHRHO_DRIFT = 7.0
_TINY = 1e-300


# ---------------------------------------------------------------------- Φ₂ and φ₂
def _half_cdf_minus_t(h: np.ndarray, a: np.ndarray) -> np.ndarray:
    """½Φ(h) − T(h, a) for h < 0, without cancellation when |a| > 1.

    For |a| > 1, T(h, a) is close to ±½Φ(h) and the difference loses digits; Owen's
    identity T(h, a) + T(ah, 1/a) = ½Φ(h) + ½Φ(ah) − Φ(h)Φ(ah) (h < 0, a > 0) rewrites
    it in terms of T(ah, 1/a), which is of the size of the result.
    """
    out = np.empty_like(h)
    small = np.abs(a) <= 1.0
    out[small] = 0.5 * special.ndtr(h[small]) - special.owens_t(h[small], a[small])
    big = ~small
    hb, ab = h[big], a[big]
    b = np.abs(ab)
    c = b * hb
    tail = special.ndtr(c) * (0.5 - special.ndtr(hb))
    t_swap = special.owens_t(c, 1.0 / b)
    out[big] = np.where(ab > 0, t_swap - tail, special.ndtr(hb) + tail - t_swap)
    return out


def _bvn_lower(h: np.ndarray, k: np.ndarray, r: np.ndarray) -> np.ndarray:
    """Φ₂(h, k; r) for h ≤ 0 and k ≤ 0 by Owen (1956); no ½ correction term is needed."""
    s = np.sqrt((1.0 - r) * (1.0 + r))
    out = np.empty_like(h)
    both = (h < 0) & (k < 0)
    hb, kb, rb, sb = h[both], k[both], r[both], s[both]
    out[both] = _half_cdf_minus_t(hb, (kb - rb * hb) / (hb * sb)) + _half_cdf_minus_t(
        kb, (hb - rb * kb) / (kb * sb)
    )
    # One argument at 0: T(0, ±∞) = ±1/4 reduces the formula to one Owen's T term.
    h0 = (h == 0) & (k < 0)
    out[h0] = _half_cdf_minus_t(k[h0], -r[h0] / s[h0])
    k0 = (k == 0) & (h < 0)
    out[k0] = _half_cdf_minus_t(h[k0], -r[k0] / s[k0])
    zero = (h == 0) & (k == 0)
    out[zero] = 0.25 + np.arcsin(r[zero]) / _TWO_PI
    return out


def _owen_piece(x: np.ndarray, a: np.ndarray) -> np.ndarray:
    """Owen's ½Φ(x) − T(x, a) for x < 0; for x > 0 the same less its constant ½."""
    out = np.empty_like(x)
    neg = x < 0
    out[neg] = _half_cdf_minus_t(x[neg], a[neg])
    # x > 0: ½Φ(x) − T(x, a) = ½ − [½Φ(−x) − T(−x, −a)]; the ½ is added by the caller.
    out[~neg] = -_half_cdf_minus_t(-x[~neg], -a[~neg])
    return out


def bivariate_normal_cdf(
    h: np.ndarray | float, k: np.ndarray | float, rho: np.ndarray | float
) -> np.ndarray:
    """Φ₂(h, k; ρ) = P(X ≤ h, Y ≤ k) for standard normals with correlation ρ, |ρ| < 1.

    Vectorised over broadcastable arrays. Owen's (1956) formula
    Φ₂ = ½Φ(h) + ½Φ(k) − T(h, a_h) − T(k, a_k) − ½·[hk < 0] is evaluated with each
    ``½Φ(x) − T(x, a)`` written so that no two terms of similar size are subtracted (the
    constant ½'s cancel exactly and are dropped), which keeps small probabilities accurate
    relative to their size: absolute accuracy is about 1e-16; relative accuracy is about
    1e-9 for probabilities above 1e-10, 1e-7 above 1e-15 and 1e-5 near 1e-19.
    """
    h, k, r = (np.asarray(v, dtype=float) for v in np.broadcast_arrays(h, k, rho))
    shape = h.shape
    h, k, r = h.ravel().copy(), k.ravel().copy(), r.ravel()
    if np.any(np.abs(r) >= 1) or np.any(np.isnan(r)):
        raise EstimationError("bivariate normal CDF needs |rho| < 1")
    out = np.full_like(h, np.nan)
    finite = np.isfinite(h) & np.isfinite(k)
    general = finite & (h != 0) & (k != 0)
    hg, kg, rg = h[general], k[general], r[general]
    sg = np.sqrt((1.0 - rg) * (1.0 + rg))
    # Signs, not the product hk, which underflows to 0 for tiny arguments.
    const = 0.5 * (hg > 0) + 0.5 * (kg > 0) - 0.5 * ((hg > 0) != (kg > 0))
    # For subnormal arguments a_h, a_k overflow to ±inf, where the pieces take their
    # exact limits (0 or Φ(x)), so the overflow is harmless.
    with np.errstate(over="ignore"):
        a_h = (kg - rg * hg) / (hg * sg)
        a_k = (hg - rg * kg) / (kg * sg)
    out[general] = const + _owen_piece(hg, a_h) + _owen_piece(kg, a_k)
    # An argument at 0: reflect into the lower orthant, where _bvn_lower handles zeros.
    zero = finite & ~general
    hz, kz, rz = h[zero], k[zero], r[zero]
    lo_h, lo_k = hz <= 0, kz <= 0
    res = np.empty_like(hz)
    m = lo_h & lo_k
    res[m] = _bvn_lower(hz[m], kz[m], rz[m])
    m = ~lo_h & lo_k
    res[m] = special.ndtr(kz[m]) - _bvn_lower(-hz[m], kz[m], -rz[m])
    m = lo_h & ~lo_k
    res[m] = special.ndtr(hz[m]) - _bvn_lower(hz[m], -kz[m], -rz[m])
    out[zero] = res
    # Infinite limits: one margin, or nothing.
    inf = ~finite & ~np.isnan(h) & ~np.isnan(k)
    out[inf] = np.where(
        (h[inf] == -np.inf) | (k[inf] == -np.inf),
        0.0,
        np.where(h[inf] == np.inf, special.ndtr(k[inf]), special.ndtr(h[inf])),
    )
    return np.clip(out, 0.0, 1.0).reshape(shape)


def bivariate_normal_pdf(
    h: np.ndarray | float, k: np.ndarray | float, rho: np.ndarray | float
) -> np.ndarray:
    """φ₂(h, k; ρ), the standard bivariate normal density with correlation ρ."""
    h, k, r = (np.asarray(v, dtype=float) for v in np.broadcast_arrays(h, k, rho))
    one_m_r2 = (1.0 - r) * (1.0 + r)
    return np.exp(-(h * h - 2.0 * r * h * k + k * k) / (2.0 * one_m_r2)) / (
        _TWO_PI * np.sqrt(one_m_r2)
    )


# ---------------------------------------------------------------------- the likelihood
@dataclass
class _Problem:
    """Arrays of one heckprobit fit: all rows for selection, selected rows for outcome."""

    Z: np.ndarray  # N × kz
    s: np.ndarray  # N, 0/1
    X: np.ndarray  # n1 × kx, selected rows in order
    y: np.ndarray  # n1, 0/1
    sel: np.ndarray  # positions of the selected rows in Z

    @property
    def kx(self) -> int:
        return self.X.shape[1]

    @property
    def kz(self) -> int:
        return self.Z.shape[1]

    def split(self, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
        return theta[: self.kx], theta[self.kx : self.kx + self.kz], float(theta[-1])


def _selected_terms(
    p: _Problem, beta: np.ndarray, zg_sel: np.ndarray, athrho: float
) -> dict[str, np.ndarray]:
    """Log-likelihood and derivative factors of the selected rows."""
    rho = np.tanh(athrho)
    one_m_rho2 = 1.0 / np.cosh(athrho) ** 2  # 1 − ρ², without cancellation near ±1
    sr = np.sqrt(one_m_rho2)
    q = 2.0 * p.y - 1.0
    a = q * (p.X @ beta)
    b = zg_sel
    r = q * rho
    prob = bivariate_normal_cdf(a, b, np.clip(r, -1 + 1e-16, 1 - 1e-16))
    underflow = ~(prob > _TINY)
    logp = np.log(np.where(underflow, _TINY, prob))
    log_ga = log_norm_pdf(a) + special.log_ndtr((b - r * a) / sr) - logp
    log_gb = log_norm_pdf(b) + special.log_ndtr((a - r * b) / sr) - logp
    log_gr = -(a * a - 2.0 * r * a * b + b * b) / (2.0 * one_m_rho2) - np.log(_TWO_PI * sr) - logp
    return {
        "logp": logp,
        "q": q,
        "ga": np.exp(log_ga),
        "gb": np.exp(log_gb),
        "galpha": np.exp(log_gr) * q * one_m_rho2,
        "underflow": underflow,
    }


def _loglik_grad(p: _Problem, theta: np.ndarray) -> tuple[float, np.ndarray]:
    beta, gamma, athrho = p.split(theta)
    zg = p.Z @ gamma
    t = -zg  # unselected rows: log Φ(−z'γ)
    unsel = p.s == 0
    logcdf_u = special.log_ndtr(t[unsel])
    lam_u = np.exp(log_norm_pdf(t[unsel]) - logcdf_u)
    terms = _selected_terms(p, beta, zg[p.sel], athrho)
    llf = float(logcdf_u.sum() + terms["logp"].sum())
    g_beta = p.X.T @ (terms["q"] * terms["ga"])
    g_gamma = p.Z[unsel].T @ (-lam_u) + p.Z[p.sel].T @ terms["gb"]
    grad = np.concatenate([g_beta, g_gamma, [terms["galpha"].sum()]])
    return llf, grad


def _scores(p: _Problem, theta: np.ndarray) -> np.ndarray:
    """Per-row score contributions (N × k), for robust covariances."""
    beta, gamma, athrho = p.split(theta)
    zg = p.Z @ gamma
    out = np.zeros((len(p.s), p.kx + p.kz + 1))
    unsel = p.s == 0
    t = -zg[unsel]
    lam_u = np.exp(log_norm_pdf(t) - special.log_ndtr(t))
    out[unsel, p.kx : p.kx + p.kz] = -lam_u[:, None] * p.Z[unsel]
    terms = _selected_terms(p, beta, zg[p.sel], athrho)
    out[p.sel, : p.kx] = (terms["q"] * terms["ga"])[:, None] * p.X
    out[p.sel, p.kx : p.kx + p.kz] = terms["gb"][:, None] * p.Z[p.sel]
    out[p.sel, -1] = terms["galpha"]
    return out


def _selected_grad(p: _Problem, theta: np.ndarray, Zs: np.ndarray) -> np.ndarray:
    beta, gamma, athrho = p.split(theta)
    terms = _selected_terms(p, beta, Zs @ gamma, athrho)
    return np.concatenate(
        [p.X.T @ (terms["q"] * terms["ga"]), Zs.T @ terms["gb"], [terms["galpha"].sum()]]
    )


def _hessian(p: _Problem, theta: np.ndarray) -> np.ndarray:
    """Analytic Hessian of the unselected rows + central differences for the selected ones."""
    k = len(theta)
    _, gamma, _ = p.split(theta)
    unsel = p.s == 0
    Zu = p.Z[unsel]
    t = -(Zu @ gamma)
    lam = np.exp(log_norm_pdf(t) - special.log_ndtr(t))
    hess = np.zeros((k, k))
    gs = slice(p.kx, p.kx + p.kz)
    hess[gs, gs] = -(Zu * (lam * (lam + t))[:, None]).T @ Zu
    Zs = p.Z[p.sel]
    eps = np.cbrt(np.finfo(float).eps) * np.maximum(1.0, np.abs(theta))
    num = np.empty((k, k))
    for j in range(k):
        step = np.zeros(k)
        step[j] = eps[j]
        num[:, j] = (_selected_grad(p, theta + step, Zs) - _selected_grad(p, theta - step, Zs)) / (
            2.0 * eps[j]
        )
    hess += (num + num.T) / 2.0
    return hess


def _maximize(
    p: _Problem, theta: np.ndarray, maxiter: int, tol: float
) -> tuple[np.ndarray, float, bool, int, list[str]]:
    """Newton–Raphson with step halving and a Levenberg shift where −H is not PD."""
    llf, grad = _loglik_grad(p, theta)
    notes: list[str] = []
    if not np.isfinite(llf):
        raise EstimationError("the heckprobit log-likelihood is not finite at the start values")
    size = float("nan")
    for it in range(1, maxiter + 1):
        neg_h = -_hessian(p, theta)
        shift = 0.0
        scale = max(1.0, float(np.max(np.abs(np.diag(neg_h)))))
        while True:
            try:
                cho = linalg.cho_factor(neg_h + shift * np.eye(len(theta)))
                break
            except linalg.LinAlgError:
                shift = max(2.0 * shift, 1e-8 * scale)
                if shift > 1e8 * scale:
                    notes.append(f"iteration {it}: the Hessian cannot be made definite")
                    return theta, llf, False, it, notes
        step = linalg.cho_solve(cho, grad)
        t = 1.0
        while True:
            cand = theta + t * step
            if abs(cand[-1]) <= _ATHRHO_MAX:
                llf_c, grad_c = _loglik_grad(p, cand)
                if np.isfinite(llf_c) and llf_c >= llf - 1e-12 * (1.0 + abs(llf)):
                    break
            t /= 2.0
            if t < 1e-10:
                notes.append(
                    f"iteration {it}: no step increases the log-likelihood "
                    f"(athrho = {theta[-1]:.3g}); stopped"
                )
                return theta, llf, False, it, notes
        gain = llf_c - llf
        theta, llf, grad = cand, llf_c, grad_c
        size = float(np.max(np.abs(t * step)) / (1.0 + np.max(np.abs(theta))))
        if t == 1.0 and shift == 0.0 and size <= tol:
            return theta, llf, True, it, notes
        if abs(theta[-1]) > _ATHRHO_DRIFT and gain < 1e-9 * (1.0 + abs(llf)):
            # athrho creeps towards ±∞ with no gain in fit: the supremum is at ρ = ±1.
            notes.append(
                f"iteration {it}: athrho = {theta[-1]:.3g} keeps growing without improving "
                "the log-likelihood (rho -> ±1); stopped"
            )
            return theta, llf, False, it, notes
    notes.append(
        f"heckprobit did not converge in {maxiter} Newton iterations (last relative step "
        f"{size:.2g})"
    )
    return theta, llf, False, maxiter, notes


# ---------------------------------------------------------------------- results
@dataclass(repr=False, eq=False)
class HeckprobitResults(ModelResults):
    """FIML probit with sample selection.

    ``params`` is indexed ``"<outcome dependent>:<term>"``, ``"<selection dependent>:<term>"``
    and ``"athrho"`` (atanh ρ), as Stata labels its equations; ``outcome_params`` and
    ``selection_params`` give each equation with plain term names. ``rho``, ``rho_se``
    (delta method) and ``rho_ci(alpha)`` describe ρ; ``lr_stat``/``lr_pvalue`` test ρ = 0
    against the two separate probits (``llf_independent``).
    """

    outcome_names: list[str] = field(default_factory=list)
    selection_names: list[str] = field(default_factory=list)
    outcome_dependent: str = ""
    selection_dependent: str = ""
    n_selected: int = 0
    n_dropped: int = 0
    dropped_by: dict[str, int] = field(default_factory=dict)
    llf_independent: float = float("nan")
    cov_ml: pd.DataFrame | None = None
    outcome_formula: str | None = None
    selection_formula: str | None = None
    outcome_design_info: Any = field(default=None, repr=False)
    selection_design_info: Any = field(default=None, repr=False)
    outcome_frame: pd.DataFrame | None = field(default=None, repr=False)
    n_clusters: int | None = None

    @property
    def outcome_params(self) -> pd.Series:
        """Outcome-equation coefficients with plain term names."""
        return pd.Series(
            self.params.iloc[: len(self.outcome_names)].to_numpy(), index=self.outcome_names
        )

    @property
    def selection_params(self) -> pd.Series:
        """Selection-equation coefficients with plain term names."""
        k = len(self.outcome_names)
        return pd.Series(
            self.params.iloc[k : k + len(self.selection_names)].to_numpy(),
            index=self.selection_names,
        )

    @property
    def athrho(self) -> float:
        """atanh ρ, the estimated parameter."""
        return float(self.params["athrho"])

    @property
    def rho(self) -> float:
        """Correlation of the selection and outcome errors."""
        return float(np.tanh(self.athrho))

    @property
    def rho_se(self) -> float:
        """Standard error of ρ by the delta method, (1 − ρ²) · se(athrho)."""
        return float((1.0 - self.rho**2) * self.bse["athrho"])

    def rho_ci(self, alpha: float = 0.05) -> tuple[float, float]:
        """Confidence interval for ρ: the athrho interval mapped through tanh (as Stata)."""
        lo, hi = self.conf_int(alpha).loc["athrho"]
        return float(np.tanh(lo)), float(np.tanh(hi))

    @property
    def lr_stat(self) -> float:
        """LR statistic of ρ = 0: 2 (llf − llf of the two independent probits)."""
        return float(max(0.0, 2.0 * (self.llf - self.llf_independent)))

    @property
    def lr_pvalue(self) -> float:
        """p-value of the LR test of ρ = 0 (χ² with 1 degree of freedom)."""
        return float(special.chdtrc(1, self.lr_stat))

    def outcome_part(self) -> ProbitResults:
        """The outcome equation as a :class:`ProbitResults` (for marginal predictions Φ(x'β))."""
        k = len(self.outcome_names)
        names = pd.Index(self.outcome_names)
        block = slice(0, k)
        return ProbitResults(
            params=self.outcome_params,
            cov=pd.DataFrame(self.cov.to_numpy()[block, block], index=names, columns=names),
            llf=self.llf,
            nobs=self.n_selected,
            model="heckprobit outcome equation",
            dependent=self.outcome_dependent,
            cov_type=self.cov_type,
            cov_ml=pd.DataFrame(self.cov_ml.to_numpy()[block, block], index=names, columns=names),
            formula=self.outcome_formula,
            design_info=self.outcome_design_info,
            frame=self.outcome_frame,
        )

    def summary(self) -> str:
        """Both equations, ρ with its CI and the LR test of independence."""
        lo, hi = self.rho_ci()
        text = super().summary()
        return (
            f"{text}\nrho = {self.rho:.5f} (se {self.rho_se:.5f}, 95% CI {lo:.4f} to {hi:.4f}); "
            f"LR test of rho = 0: chi2(1) = {self.lr_stat:.4f}, p = {self.lr_pvalue:.4g}; "
            f"selected {self.n_selected} of {self.nobs}"
        )


# ---------------------------------------------------------------------- public API
def heckprobit(
    selection: str,
    outcome: str,
    data: pd.DataFrame,
    *,
    cov: str | None = None,
    cluster: str | None = None,
    maxiter: int = 100,
    tol: float = 1e-8,
    start: np.ndarray | None = None,
) -> HeckprobitResults:
    """Fit the probit with sample selection by full-information maximum likelihood.

    ``selection``: ``"s ~ z1 + z2"`` on all rows, s = 1 marks rows whose outcome is
    observed. ``outcome``: ``"y ~ x1 + x2"`` on those rows. Rows missing a selection
    variable are dropped; selected rows missing an outcome variable are dropped from both
    equations (as Stata does); both are counted in ``dropped_by``. ``cov``: ``"ML"``
    (observed information, Stata's default), ``"HC0"``, ``"HC1"``, or cluster-robust with
    ``cluster`` (a column; then the default). ``start``: β, γ, athrho (default: the two
    probits and ρ = 0).
    """
    kind = normalize_cov_type(cov or ("cluster" if cluster is not None else "ML"), cluster)
    p, info = _build_problem(selection, outcome, data, cluster)
    kx, kz = p.kx, p.kz

    notes: list[str] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        sel0 = probit_from_arrays(p.s, p.Z, info["z_names"], cov="ML", dependent=info["s_dep"])
        out0 = probit_from_arrays(p.y, p.X, info["x_names"], cov="ML", dependent=info["y_dep"])
    notes.extend(
        f"start values: {w.message}" for w in caught if issubclass(w.category, EstimationWarning)
    )
    llf_indep = sel0.llf + out0.llf
    if start is None:
        theta0 = np.concatenate([out0.params.to_numpy(), sel0.params.to_numpy(), [0.0]])
    else:
        theta0 = np.asarray(start, dtype=float).ravel()
        if theta0.shape != (kx + kz + 1,):
            raise EstimationError(f"start has {theta0.size} values; expected {kx + kz + 1}")
    theta, llf, converged, iterations, fit_notes = _maximize(p, theta0, maxiter, tol)
    notes.extend(fit_notes)

    neg_h = -_hessian(p, theta)
    try:
        cov_ml = linalg.inv(neg_h)
        if not np.all(np.isfinite(cov_ml)) or np.any(np.diag(cov_ml) <= 0):
            raise linalg.LinAlgError("not positive definite")
        cov_ml = (cov_ml + cov_ml.T) / 2.0
    except linalg.LinAlgError:
        cov_ml = np.linalg.pinv(neg_h, hermitian=True)
        notes.append(
            "the observed information is singular or not positive definite at the estimate; "
            "standard errors use a pseudo-inverse and are unreliable"
        )
    rho = np.tanh(theta[-1])
    if abs(rho) > 0.9999:
        notes.append(
            f"rho = {rho:.6f} is at the boundary ±1: the likelihood has no interior maximum "
            "in rho, so its standard error and the Wald test are not meaningful (use the LR "
            "test, or consider the two-step estimator)"
        )
    beta_hat, gamma_hat, athrho_hat = p.split(theta)
    terms = _selected_terms(p, beta_hat, p.Z[p.sel] @ gamma_hat, athrho_hat)
    if terms["underflow"].any():
        notes.append(
            f"{int(terms['underflow'].sum())} selected row(s) have a bivariate normal "
            "probability below 1e-300 at the estimate (log-likelihood floored there)"
        )
    codes = group_codes(info["groups"], len(p.s)) if kind == "cluster" else None
    cov_mat = sandwich(cov_ml, _scores(p, theta), kind, groups=codes)

    names = (
        [f"{info['y_dep']}:{n}" for n in info["x_names"]]
        + [f"{info['s_dep']}:{n}" for n in info["z_names"]]
        + ["athrho"]
    )
    index = pd.Index(names)
    for msg in notes:
        warnings.warn(msg, EstimationWarning, stacklevel=2)
    label = {"ML": "ML (observed information)"}.get(kind, kind)
    if kind == "cluster":
        label = f"cluster ({n_clusters(codes)} groups)"
    return HeckprobitResults(
        params=pd.Series(theta, index=index),
        cov=pd.DataFrame(cov_mat, index=index, columns=index),
        llf=float(llf),
        nobs=len(p.s),
        model="heckprobit (FIML)",
        dependent=info["y_dep"],
        cov_type=label,
        converged=converged,
        iterations=iterations,
        warnings=notes,
        outcome_names=list(info["x_names"]),
        selection_names=list(info["z_names"]),
        outcome_dependent=info["y_dep"],
        selection_dependent=info["s_dep"],
        n_selected=len(p.sel),
        n_dropped=info["n_dropped"],
        dropped_by=info["dropped_by"],
        llf_independent=float(llf_indep),
        cov_ml=pd.DataFrame(cov_ml, index=index, columns=index),
        outcome_formula=outcome,
        selection_formula=selection,
        outcome_design_info=info["x_design_info"],
        selection_design_info=info["z_design_info"],
        outcome_frame=info["outcome_frame"],
        n_clusters=n_clusters(codes),
    )


def _build_problem(
    selection: str, outcome: str, data: pd.DataFrame, cluster: str | None
) -> tuple[_Problem, dict[str, Any]]:
    """Selection sample, outcome sample and the bookkeeping of dropped rows."""
    if cluster is not None and cluster not in data.columns:
        raise EstimationError(f"cluster column {cluster!r} is not in the data")
    ds = design(selection, data, extra=[cluster] if cluster else None)
    bad = np.unique(ds.y[(ds.y != 0) & (ds.y != 1)])
    if bad.size:
        raise EstimationError(
            f"selection dependent {ds.dependent!r} must be 0/1; found {bad[:5].tolist()}"
        )
    chosen = ds.index[ds.y == 1]
    if len(chosen) == 0:
        raise EstimationError(f"no row has {ds.dependent} = 1: nothing is selected")
    do = design(outcome, data.loc[chosen])
    if do.dependent == ds.dependent:
        raise EstimationError("the outcome and selection equations have the same dependent")
    keep = ~ds.index.isin(chosen.difference(do.index))
    dropped_by = {f"selection: {k}": v for k, v in ds.dropped_by.items()}
    dropped_by.update({f"outcome (selected rows): {k}": v for k, v in do.dropped_by.items()})
    Z, s = ds.X[keep], ds.y[keep]
    p = _Problem(Z=Z, s=s, X=do.X, y=do.y, sel=np.flatnonzero(s == 1))
    if len(p.sel) != len(p.y):  # pragma: no cover - guards the bookkeeping above
        raise EstimationError("internal error: selected rows and outcome rows disagree")
    variables = sorted(model_variables(do.design_info, data))
    info = {
        "z_names": ds.names,
        "x_names": do.names,
        "s_dep": ds.dependent,
        "y_dep": do.dependent,
        "n_dropped": ds.n_dropped + do.n_dropped,
        "dropped_by": dropped_by,
        "x_design_info": do.design_info,
        "z_design_info": ds.design_info,
        "outcome_frame": data.loc[do.index, variables].copy() if variables else None,
        "groups": data.loc[ds.index[keep], cluster].to_numpy() if cluster else None,
    }
    return p, info
