"""Probit by maximum likelihood, with ML, HC0, HC1 and cluster-robust covariances.

The fit is a Newton–Raphson iteration on the (globally concave) probit log-likelihood with
step halving; it reaches machine precision in a handful of iterations, so its estimates
agree with R's ``glm(..., binomial("probit"))`` to the digits R prints.

Covariances follow R by default: the ML covariance is the inverse *expected* information
``(X' W X)⁻¹`` with ``W = φ(η)² / (Φ(η)(1 − Φ(η)))`` -- what ``summary.glm`` reports -- and
the robust ones are sandwiches on that bread with the score contributions
``sᵢ = (yᵢ − Φ(ηᵢ)) φ(ηᵢ) / (Φ(ηᵢ)(1 − Φ(ηᵢ))) xᵢ`` as meat, which is exactly
``sandwich::vcovHC(glm, type = "HC0")``. ``information="observed"`` switches the bread to
the observed Hessian (Stata's ``probit`` and statsmodels' ``Probit``).

Numerical trouble (rank deficiency, separation, non-convergence, singular information) is
reported, never hidden behind NaN: rank deficiency raises :class:`EstimationError` naming
the collinear terms; the others are recorded in ``result.warnings`` and emitted as
:class:`EstimationWarning`.
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import patsy
from scipy import linalg, special

from restraint.errors import EstimationError, EstimationWarning
from restraint.models.covariance import (
    group_codes,
    n_clusters,
    normalize_cov_type,
    sandwich,
)
from restraint.models.formula import _variables, design
from restraint.models.results import ModelResults

_LOG_SQRT_2PI = 0.5 * np.log(2.0 * np.pi)
# |η| beyond which Φ(η) is within ~2e-15 of 0 or 1: R's glm warns at 10·eps.
_NUMERICALLY_CERTAIN = 7.9

__all__ = [
    "ProbitResults",
    "log_norm_pdf",
    "mills_ratio",
    "probit",
    "probit_from_arrays",
]


def log_norm_pdf(x: np.ndarray) -> np.ndarray:
    """log φ(x), the standard normal log density."""
    return -0.5 * np.square(x) - _LOG_SQRT_2PI


def mills_ratio(x: np.ndarray) -> np.ndarray:
    """Inverse Mills ratio φ(x)/Φ(x), computed in logs so it stays exact for x → −∞."""
    return np.exp(log_norm_pdf(x) - special.log_ndtr(x))


@dataclass(repr=False, eq=False)
class ProbitResults(ModelResults):
    """A fitted probit. Besides :class:`ModelResults` it keeps what predictions need.

    ``cov`` is the covariance asked for (``cov_type``); ``cov_ml`` is always the ML one
    (inverse information, ``information`` = ``"expected"`` or ``"observed"``), so that
    predictions can use either. ``n_dropped``/``dropped_by`` count the rows the formula
    dropped for missing values. ``frame`` holds the raw model variables of the estimation
    sample (for covariate profiles), ``y``/``X`` the arrays the model was fitted on.
    """

    formula: str | None = None
    cov_ml: pd.DataFrame | None = None
    information: str = "expected"
    n_dropped: int = 0
    dropped_by: dict[str, int] = field(default_factory=dict)
    index: pd.Index | None = None
    n_clusters: int | None = None
    design_info: Any = field(default=None, repr=False)
    frame: pd.DataFrame | None = field(default=None, repr=False)
    y: np.ndarray | None = field(default=None, repr=False)
    X: np.ndarray | None = field(default=None, repr=False)

    # ------------------------------------------------------------------ derived values
    @property
    def fittedvalues(self) -> pd.Series:
        """Linear predictor x'β on the estimation sample."""
        return pd.Series(self._X() @ self.params.to_numpy(), index=self.index, name="xb")

    @property
    def scores(self) -> np.ndarray:
        """Per-observation score contributions (n × k) at the estimate."""
        return _scores(self._y(), self._X(), self.params.to_numpy())

    def _X(self) -> np.ndarray:
        if self.X is None:
            raise EstimationError("this result does not keep its design matrix")
        return self.X

    def _y(self) -> np.ndarray:
        if self.y is None:
            raise EstimationError("this result does not keep its outcome vector")
        return self.y

    def xb(self, data: pd.DataFrame | np.ndarray) -> np.ndarray:
        """Linear predictor x'β for every row of ``data`` (NaN where a variable is missing).

        ``data`` is a DataFrame with the formula's variables (factor levels must be ones
        seen in fitting) or a design matrix with the model's columns. This is the selection
        protocol of :func:`restraint.models.heckman.heckman_two_step`.
        """
        beta = self.params.to_numpy()
        if isinstance(data, np.ndarray):
            if data.ndim != 2 or data.shape[1] != len(beta):
                raise EstimationError(
                    f"design matrix has shape {data.shape}; expected (n, {len(beta)}) "
                    f"with columns {list(self.params.index)}"
                )
            return data @ beta
        X, ok = self.design_matrix(data)
        out = np.full(len(data), np.nan)
        out[ok] = X @ beta
        return out

    def design_matrix(self, data: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """Model matrix for the complete rows of ``data`` and the boolean mask of those rows."""
        if self.design_info is None:
            raise EstimationError("this result was fitted on arrays; pass a design matrix")
        cols = sorted(model_variables(self.design_info, data))
        missing = [c for c in cols if c not in data.columns]
        if missing:
            raise EstimationError(
                f"data lacks the model variable(s) {missing} needed by {self.formula!r}"
            )
        ok = ~data[cols].isna().any(axis=1).to_numpy()
        try:
            (X,) = patsy.build_design_matrices(
                [self.design_info], data.loc[ok], return_type="matrix"
            )
        except patsy.PatsyError as exc:
            raise EstimationError(f"cannot build the design of {self.formula!r}: {exc}") from exc
        return np.asarray(X, dtype=float), ok

    def probability(self, data: pd.DataFrame | None = None) -> pd.Series | np.ndarray:
        """Predicted Pr(y = 1): on the estimation sample, or for the rows of ``data``."""
        if data is None:
            return pd.Series(special.ndtr(self.fittedvalues.to_numpy()), index=self.index)
        return special.ndtr(self.xb(data))

    def with_cov(
        self, cov: str, cluster: Sequence[object] | np.ndarray | pd.Series | None = None
    ) -> ProbitResults:
        """The same fit with another covariance (``"ML"``, ``"HC0"``, ``"HC1"``, cluster).

        ``cluster`` is an array with one group id per estimation row, or a Series indexed
        like the data the model was fitted on (aligned on ``index``).
        """
        kind = normalize_cov_type(cov, cluster)
        codes = None
        if kind == "cluster":
            if isinstance(cluster, pd.Series) and self.index is not None:
                cluster = cluster.reindex(self.index)
            codes = group_codes(cluster, self.nobs)
        bread = self.cov_ml.to_numpy()
        new = sandwich(bread, self.scores, kind, groups=codes)
        names = self.params.index
        return dataclasses.replace(
            self,
            cov=pd.DataFrame(new, index=names, columns=names),
            cov_type=_cov_label(kind, self.information, codes),
            n_clusters=n_clusters(codes),
            warnings=list(self.warnings),
            extra=dict(self.extra),
        )

    def summary(self) -> str:
        """Plain-text summary; adds the rows dropped for missing values."""
        text = super().summary()
        if self.n_dropped:
            text += f"\ndropped {self.n_dropped} row(s) with missing values: {self.dropped_by}"
        return text


# ---------------------------------------------------------------------- public API
def probit(
    formula: str,
    data: pd.DataFrame,
    cov: str = "HC0",
    cluster: str | Sequence[object] | np.ndarray | pd.Series | None = None,
    *,
    information: str = "expected",
    maxiter: int = 100,
    tol: float = 1e-8,
    start: np.ndarray | None = None,
) -> ProbitResults:
    """Fit ``formula`` (``"y ~ a + b + C(x)"``) by probit maximum likelihood.

    ``cov``: ``"HC0"`` (default, R's ``vcovHC(type = "HC0")``), ``"HC1"``, ``"ML"`` or
    ``"cluster"``; giving ``cluster`` (a column name, or one id per row of ``data``) makes
    the errors cluster-robust. ``information``: bread of every covariance, ``"expected"``
    (R's glm) or ``"observed"`` (Stata, statsmodels). Rows with a missing model variable
    (or cluster id) are dropped and counted in ``n_dropped``/``dropped_by``.
    """
    extra: list[str] = []
    cluster_values = None
    if isinstance(cluster, str):
        if cluster not in data.columns:
            raise EstimationError(f"cluster column {cluster!r} is not in the data")
        extra = [cluster]
    elif cluster is not None:
        cluster_values = pd.Series(np.asarray(cluster), index=data.index)
        if len(cluster_values) != len(data):
            raise EstimationError(
                f"cluster has {len(cluster_values)} values, expected {len(data)} (one per row)"
            )
    d = design(formula, data, extra=extra)
    groups = None
    if isinstance(cluster, str):
        groups = data.loc[d.index, cluster].to_numpy()
    elif cluster_values is not None:
        groups = cluster_values.loc[d.index]
        if groups.isna().any():
            raise EstimationError(f"cluster ids are missing for {int(groups.isna().sum())} rows")
        groups = groups.to_numpy()
    res = probit_from_arrays(
        d.y,
        d.X,
        d.names,
        cov=cov,
        cluster=groups,
        information=information,
        maxiter=maxiter,
        tol=tol,
        start=start,
        dependent=d.dependent,
        _stacklevel=3,
    )
    res.formula = formula
    res.n_dropped = d.n_dropped
    res.dropped_by = dict(d.dropped_by)
    res.index = d.index
    res.design_info = d.design_info
    variables = sorted(model_variables(d.design_info, data))
    res.frame = data.loc[d.index, variables].copy() if variables else None
    return res


def probit_from_arrays(
    y: np.ndarray,
    X: np.ndarray,
    names: Sequence[str] | None = None,
    *,
    cov: str = "HC0",
    cluster: Sequence[object] | np.ndarray | None = None,
    information: str = "expected",
    maxiter: int = 100,
    tol: float = 1e-8,
    start: np.ndarray | None = None,
    dependent: str = "y",
    _stacklevel: int = 2,
) -> ProbitResults:
    """Probit on an outcome vector ``y`` (0/1) and design matrix ``X`` (see :func:`probit`).

    No rows are dropped here: missing or infinite values raise :class:`EstimationError`.
    """
    y = np.asarray(y, dtype=float).ravel()
    X = np.asarray(X, dtype=float)
    if X.ndim != 2 or X.shape[0] != len(y):
        raise EstimationError(f"X has shape {X.shape}; expected ({len(y)}, k)")
    n, k = X.shape
    names = list(names) if names is not None else [f"x{j}" for j in range(k)]
    if len(names) != k:
        raise EstimationError(f"{len(names)} names for {k} columns of X")
    if information not in ("expected", "observed"):
        raise EstimationError(f"information={information!r}; expected 'expected' or 'observed'")
    kind = normalize_cov_type(cov, cluster)
    codes = group_codes(cluster, n) if kind == "cluster" else None
    _check_inputs(y, X, names, dependent)

    notes: list[str] = []
    for msg in _separation_by_binary_terms(y, X, names, dependent):
        notes.append(msg)
    beta0 = _start_values(y, X) if start is None else np.asarray(start, dtype=float).copy()
    if beta0.shape != (k,):
        raise EstimationError(f"start has shape {beta0.shape}; expected ({k},)")
    beta, llf, converged, iterations, fit_notes = _newton(y, X, beta0, maxiter, tol)
    notes.extend(fit_notes)
    eta = X @ beta
    notes.extend(_separation_after_fit(y, eta, dependent))

    info = _information(y, X, eta, information)
    bread, inv_note = _invert_information(info, names)
    if inv_note:
        notes.append(inv_note)
    cov_mat = sandwich(bread, _scores(y, X, beta), kind, groups=codes)

    index = pd.Index(names)
    for msg in notes:
        warnings.warn(msg, EstimationWarning, stacklevel=_stacklevel)
    return ProbitResults(
        params=pd.Series(beta, index=index),
        cov=pd.DataFrame(cov_mat, index=index, columns=index),
        llf=float(llf),
        nobs=n,
        model="probit",
        dependent=dependent,
        cov_type=_cov_label(kind, information, codes),
        llf_null=_null_llf(y, X),
        converged=converged,
        iterations=iterations,
        warnings=notes,
        cov_ml=pd.DataFrame(bread, index=index, columns=index),
        information=information,
        n_clusters=n_clusters(codes),
        index=pd.RangeIndex(n),
        y=y,
        X=X,
    )


def model_variables(design_info: patsy.DesignInfo, data: pd.DataFrame) -> set[str]:
    """Data columns referenced by the right-hand side of a fitted design."""
    out: set[str] = set()
    for factor in design_info.factor_infos:
        out |= _variables(factor.name(), data)
    return out


# ---------------------------------------------------------------------- internals
def _cov_label(kind: str, information: str, codes: np.ndarray | None) -> str:
    if kind == "ML":
        return "ML (expected information)" if information == "expected" else "ML (observed)"
    if kind == "cluster":
        return f"cluster ({n_clusters(codes)} groups)"
    return kind


def _check_inputs(y: np.ndarray, X: np.ndarray, names: list[str], dependent: str) -> None:
    """Reject what no probit can fit, with the offending variable named."""
    if not np.all(np.isfinite(y)):
        raise EstimationError(f"dependent {dependent!r} has missing or infinite values")
    bad = np.unique(y[(y != 0) & (y != 1)])
    if bad.size:
        raise EstimationError(
            f"dependent {dependent!r} must be 0/1; found value(s) {bad[:5].tolist()}"
        )
    if y.min() == y.max():
        raise EstimationError(
            f"dependent {dependent!r} is always {int(y[0])}: a probit needs both outcomes"
        )
    finite = np.isfinite(X).all(axis=0)
    if not finite.all():
        raise EstimationError(
            f"regressor(s) {[n for n, f in zip(names, finite, strict=True) if not f]} "
            "have missing or infinite values"
        )
    if X.shape[0] <= X.shape[1]:
        raise EstimationError(f"{X.shape[0]} rows for {X.shape[1]} parameters")
    scale = np.sqrt(np.einsum("ij,ij->j", X, X))
    if np.any(scale == 0):
        zero = [n for n, s in zip(names, scale, strict=True) if s == 0]
        raise EstimationError(f"regressor(s) {zero} are identically zero")
    # Cheap screen on the scaled Gram matrix; only when it flags a problem does the
    # (slower) pivoted QR of X run, to name the columns that are combinations of others.
    gram = (X.T @ X) / np.outer(scale, scale)
    eig = np.linalg.eigvalsh(gram)
    if eig[0] > eig[-1] * 1e-13:
        return
    r, piv = linalg.qr(X / scale, mode="r", pivoting=True)
    diag = np.abs(np.diag(r))
    rank = int(np.sum(diag > diag[0] * 1e-7))
    aliased = [names[j] for j in piv[rank:]] or [names[int(np.argmin(diag))]]
    raise EstimationError(
        f"the design matrix is rank deficient: {aliased} are linear combinations of the "
        "other terms (collinear, or a dummy for every level); drop them"
    )


def _separation_by_binary_terms(
    y: np.ndarray, X: np.ndarray, names: list[str], dependent: str
) -> list[str]:
    """Stata-style check: a 0/1 regressor whose level fixes the outcome (quasi-separation)."""
    notes = []
    n, y_total = len(y), float(y.sum())
    lo, hi = X.min(axis=0), X.max(axis=0)
    # For values in [0, 1], sum(x²) == sum(x) exactly when every value is 0 or 1.
    sums, squares, y_sums = X.sum(axis=0), np.einsum("ij,ij->j", X, X), X.T @ y
    for j, name in enumerate(names):
        if not (lo[j] == 0 and hi[j] == 1 and sums[j] == squares[j]):
            continue
        n1, y1 = sums[j], y_sums[j]
        for level, count, ones in ((1, n1, y1), (0, n - n1, y_total - y1)):
            if ones in (0.0, count):
                outcome = int(ones == count)
                notes.append(
                    f"{name} == {level} predicts {dependent} = {outcome} perfectly "
                    f"({int(count)} rows): quasi-complete separation, the MLE of {name!r} is "
                    "infinite and its estimate and standard error are not meaningful"
                )
    return notes


def _separation_after_fit(y: np.ndarray, eta: np.ndarray, dependent: str) -> list[str]:
    q = 2.0 * y - 1.0
    certain = q * eta > _NUMERICALLY_CERTAIN
    if certain.all():
        return [
            f"complete separation: the regressors predict {dependent} perfectly; the MLE "
            "does not exist and the estimates are arbitrary"
        ]
    extreme = np.abs(eta) > _NUMERICALLY_CERTAIN
    if extreme.any():
        return [
            f"fitted probabilities numerically 0 or 1 for {int(extreme.sum())} row(s) "
            "(possible quasi-complete separation)"
        ]
    return []


def _loglik(y: np.ndarray, eta: np.ndarray) -> float:
    return float(special.log_ndtr((2.0 * y - 1.0) * eta).sum())


def _scores(y: np.ndarray, X: np.ndarray, beta: np.ndarray) -> np.ndarray:
    q = 2.0 * y - 1.0
    return X * (q * mills_ratio(q * (X @ beta)))[:, None]


def _information(y: np.ndarray, X: np.ndarray, eta: np.ndarray, kind: str) -> np.ndarray:
    """Expected (Fisher) or observed information at η = Xβ."""
    if kind == "expected":
        # φ² / (Φ(1 − Φ)) in logs: stays finite where Φ or 1 − Φ underflows.
        w = np.exp(2.0 * log_norm_pdf(eta) - special.log_ndtr(eta) - special.log_ndtr(-eta))
    else:
        z = (2.0 * y - 1.0) * eta
        lam = mills_ratio(z)
        w = lam * (lam + z)
    return (X * w[:, None]).T @ X


def _invert_information(info: np.ndarray, names: list[str]) -> tuple[np.ndarray, str | None]:
    try:
        cho = linalg.cho_factor(info)
        inv = linalg.cho_solve(cho, np.eye(len(info)))
        cond = np.linalg.cond(info)
        if not np.isfinite(cond) or cond > 1e14:
            raise linalg.LinAlgError("ill-conditioned")
        return (inv + inv.T) / 2.0, None
    except linalg.LinAlgError:
        inv = np.linalg.pinv(info, hermitian=True)
        return inv, (
            "the information matrix is singular or nearly so (condition number "
            f"{np.linalg.cond(info):.2g}); standard errors use a pseudo-inverse and are "
            f"unreliable (terms {names})"
        )


def _newton(
    y: np.ndarray, X: np.ndarray, beta: np.ndarray, maxiter: int, tol: float
) -> tuple[np.ndarray, float, bool, int, list[str]]:
    """Newton–Raphson with the observed Hessian and step halving.

    log Φ(qη) is computed once per trial point and reused for the Mills ratio: the
    special functions dominate the cost at 10⁵ rows.
    """
    q = 2.0 * y - 1.0
    z = q * (X @ beta)
    logcdf = special.log_ndtr(z)
    llf = float(logcdf.sum())
    notes: list[str] = []
    size = float("nan")
    for it in range(1, maxiter + 1):
        lam = np.exp(log_norm_pdf(z) - logcdf)
        grad = X.T @ (q * lam)
        neg_hess = (X * (lam * (lam + z))[:, None]).T @ X
        try:
            step = linalg.cho_solve(linalg.cho_factor(neg_hess), grad)
        except linalg.LinAlgError:
            notes.append(
                f"Newton iteration {it}: the information matrix is singular (fitted "
                "probabilities at 0 or 1, likely separation); stopped without convergence"
            )
            return beta, llf, False, it, notes
        t = 1.0
        while True:
            cand = beta + t * step
            z_c = q * (X @ cand)
            logcdf_c = special.log_ndtr(z_c)
            llf_c = float(logcdf_c.sum())
            if llf_c >= llf - 1e-12 * (1.0 + abs(llf)) or t < 1e-8:
                break
            t /= 2.0
        beta, z, logcdf, llf = cand, z_c, logcdf_c, llf_c
        if not np.isfinite(llf):
            raise EstimationError("the log-likelihood became non-finite during Newton steps")
        size = float(np.max(np.abs(t * step)) / (1.0 + np.max(np.abs(beta))))
        if t == 1.0 and size <= tol:
            return beta, llf, True, it, notes
    notes.append(
        f"probit did not converge in {maxiter} Newton iterations (last relative step "
        f"{size:.2g}); estimates are unreliable"
    )
    return beta, llf, False, maxiter, notes


def _start_values(y: np.ndarray, X: np.ndarray) -> np.ndarray:
    """Zeros except the intercept at Φ⁻¹(ȳ): saves Newton steps when events are rare."""
    beta = np.zeros(X.shape[1])
    const = np.flatnonzero(np.all(X == 1.0, axis=0))
    if const.size:
        beta[const[0]] = special.ndtri(y.mean())
    return beta


def _null_llf(y: np.ndarray, X: np.ndarray) -> float:
    """Log-likelihood of the intercept-only model (R: fitted 0.5 when there is none)."""
    n = len(y)
    has_const = np.any(np.all(X == 1.0, axis=0))
    if not has_const:
        return float(n * np.log(0.5))
    p = y.mean()
    return float(y.sum() * np.log(p) + (n - y.sum()) * np.log1p(-p))
