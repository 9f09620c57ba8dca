"""Predicted probabilities of probit-type models, with delta-method confidence intervals.

Two kinds of prediction:

* ``kind="profile"`` (default): Pr(y = 1) at one covariate profile per grid point. The
  variables named in ``at`` take the given values; every other variable is held at its
  reference level if it is categorical (a ``C(x)`` factor, or a 0/1 numeric variable
  under ``binary="reference"``) and at its estimation-sample mean if it is continuous --
  the rule of R's ``ggeffects::ggpredict`` (factors) and of the study (binaries at 0).
  The confidence interval is computed on the index scale, ``x'β ± z·se(x'β)``, and mapped
  through Φ, so it stays inside (0, 1).
* ``kind="average"``: the sample average of Pr(y = 1) with the ``at`` variables set to
  each grid value for every row (Stata's ``margins`` without ``atmeans``); its standard
  error is the delta method on the probability scale.

:func:`changes` reports the change between levels of one regressor, both *relative*
(``(p₁ − p₀)/p₀ · 100``, percent) and *absolute* (``(p₁ − p₀) · 100``, percentage points),
each with a delta-method standard error and confidence interval.

The covariance is the model's ML covariance by default (``cov="ML"``, what ggeffects uses),
or the one the model reports (``"model"``: e.g. HC0 or bootstrap), ``"HC0"``/``"HC1"``, or
any covariance DataFrame over the coefficients.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import patsy
from scipy import special

from restraint.errors import EstimationError
from restraint.models.formula import _variables

__all__ = ["changes", "predict", "profile_values"]


@dataclass
class _IndexModel:
    """What predictions need: design, coefficients, covariance, estimation sample."""

    design_info: patsy.DesignInfo
    beta: np.ndarray
    cov: np.ndarray
    frame: pd.DataFrame
    names: list[str]
    cov_label: str


def _index_model(result: Any, cov: str | pd.DataFrame) -> _IndexModel:
    if hasattr(result, "outcome_part"):  # heckprobit: the outcome equation, Φ(x'β)
        result = result.outcome_part()
    for attr in ("design_info", "frame", "params"):
        if getattr(result, attr, None) is None:
            raise EstimationError(
                f"{type(result).__name__} has no {attr!r}: predictions need a model fitted "
                "from a formula and a DataFrame"
            )
    names = list(result.params.index)
    if isinstance(cov, pd.DataFrame):
        missing = [n for n in names if n not in cov.index or n not in cov.columns]
        if missing:
            raise EstimationError(f"the covariance lacks the coefficient(s) {missing}")
        mat, label = cov.loc[names, names].to_numpy(), "user"
    elif isinstance(cov, str) and cov.lower() == "ml":
        if getattr(result, "cov_ml", None) is None:
            raise EstimationError(f"{type(result).__name__} has no ML covariance (cov_ml)")
        mat, label = result.cov_ml.to_numpy(), "ML"
    elif isinstance(cov, str) and cov.lower() == "model":
        mat, label = result.cov.to_numpy(), str(result.cov_type)
    elif isinstance(cov, str) and cov.upper() in ("HC0", "HC1") and hasattr(result, "with_cov"):
        mat, label = result.with_cov(cov.upper()).cov.to_numpy(), cov.upper()
    else:
        raise EstimationError(
            f"cov={cov!r}: expected 'ML', 'model', 'HC0', 'HC1' or a covariance DataFrame"
        )
    return _IndexModel(
        design_info=result.design_info,
        beta=result.params.to_numpy(dtype=float),
        cov=np.asarray(mat, dtype=float),
        frame=result.frame,
        names=names,
        cov_label=label,
    )


# ---------------------------------------------------------------------- variable roles
def _roles(model: _IndexModel) -> dict[str, dict[str, Any]]:
    """For each model variable: categorical (levels, reference) or numeric (binary?)."""
    roles: dict[str, dict[str, Any]] = {}
    for factor, info in model.design_info.factor_infos.items():
        variables = _variables(factor.name(), model.frame)
        for var in variables:
            if info.type == "categorical" and len(variables) == 1:
                roles[var] = {
                    "type": "categorical",
                    "levels": list(info.categories),
                    "reference": _reference_level(model.design_info, factor, info),
                }
            elif var not in roles:
                col = pd.to_numeric(model.frame[var], errors="coerce")
                values = set(np.unique(col.dropna().to_numpy()).tolist())
                roles[var] = {"type": "numeric", "binary": values <= {0, 1} and len(values) == 2}
    return roles


def _reference_level(design_info: patsy.DesignInfo, factor: Any, info: Any) -> Any:
    """The level whose contrast row is all zeros (treatment coding), else the first level."""
    for subterms in design_info.term_codings.values():
        for sub in subterms:
            matrix = sub.contrast_matrices.get(factor)
            if matrix is None:
                continue
            zero_rows = np.flatnonzero(np.all(np.asarray(matrix.matrix) == 0, axis=1))
            if zero_rows.size == 1:
                return info.categories[int(zero_rows[0])]
    return info.categories[0]


def profile_values(
    result: Any, *, binary: str = "reference", data: pd.DataFrame | None = None
) -> dict[str, Any]:
    """The value each variable takes in a profile prediction unless set by ``at``.

    Categorical: the reference level. Numeric 0/1: 0 (``binary="reference"``) or the
    mean (``binary="mean"``). Other numeric: the mean over the estimation sample (or over
    ``data``).
    """
    model = _index_model(result, "ML")
    return _defaults(model, _roles(model), binary, data)


def _defaults(
    model: _IndexModel, roles: dict[str, dict[str, Any]], binary: str, data: pd.DataFrame | None
) -> dict[str, Any]:
    if binary not in ("reference", "mean"):
        raise EstimationError(f"binary={binary!r}: expected 'reference' or 'mean'")
    source = model.frame if data is None else data
    out: dict[str, Any] = {}
    for var, role in roles.items():
        if role["type"] == "categorical":
            out[var] = role["reference"]
        elif role["binary"] and binary == "reference":
            out[var] = 0
        else:
            out[var] = float(pd.to_numeric(source[var], errors="coerce").mean())
    return out


# ---------------------------------------------------------------------- evaluation
def _grid(at: Mapping[str, Any] | None, roles: dict[str, dict[str, Any]]) -> pd.DataFrame:
    """Cartesian product of the ``at`` values (scalars are held fixed)."""
    at = dict(at or {})
    unknown = [v for v in at if v not in roles]
    if unknown:
        raise EstimationError(
            f"at: {unknown} are not variables of the model (variables: {sorted(roles)})"
        )
    lists: dict[str, list[Any]] = {}
    for var, value in at.items():
        values = list(value) if _is_listlike(value) else [value]
        if not values:
            raise EstimationError(f"at: no values given for {var!r}")
        role = roles[var]
        if role["type"] == "categorical":
            bad = [v for v in values if v not in role["levels"]]
            if bad:
                raise EstimationError(
                    f"at: {var!r} has no level(s) {bad} (levels: {role['levels']})"
                )
        lists[var] = values
    if not lists:
        return pd.DataFrame(index=[0])
    rows = list(itertools.product(*lists.values()))
    return pd.DataFrame(rows, columns=list(lists))


def _is_listlike(value: Any) -> bool:
    return isinstance(value, list | tuple | np.ndarray | pd.Series | pd.Index | range)


def _design(model: _IndexModel, frame: pd.DataFrame) -> np.ndarray:
    try:
        (X,) = patsy.build_design_matrices([model.design_info], frame, return_type="matrix")
    except patsy.PatsyError as exc:
        raise EstimationError(f"cannot build the prediction design: {exc}") from exc
    return np.asarray(X, dtype=float)


def _evaluate(
    model: _IndexModel,
    grid: pd.DataFrame,
    defaults: dict[str, Any],
    kind: str,
    data: pd.DataFrame | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray | None]:
    """Probabilities, their gradients wrt β (rows), and for profiles x'β and X."""
    if kind == "profile":
        frame = model.frame.iloc[np.zeros(len(grid), dtype=int)].reset_index(drop=True)
        for var, value in defaults.items():
            if var not in grid.columns:
                frame[var] = [value] * len(grid)
        for var in grid.columns:
            frame[var] = grid[var].to_list()
        X = _design(model, frame)
        eta = X @ model.beta
        return special.ndtr(eta), _pdf(eta)[:, None] * X, eta, X
    if kind != "average":
        raise EstimationError(f"kind={kind!r}: expected 'profile' or 'average'")
    base = model.frame if data is None else data
    probs, grads = [], []
    for _, row in grid.iterrows():
        frame = base.copy()
        for var in grid.columns:
            frame[var] = row[var]
        variables = [v for v in defaults if v in frame.columns]
        frame = frame.loc[~frame[variables].isna().any(axis=1)]
        if frame.empty:
            raise EstimationError("average prediction: no complete rows in the data")
        X = _design(model, frame)
        eta = X @ model.beta
        probs.append(special.ndtr(eta).mean())
        grads.append((_pdf(eta)[:, None] * X).mean(axis=0))
    return np.asarray(probs), np.vstack(grads), None, None


def _pdf(x: np.ndarray) -> np.ndarray:
    return np.exp(-0.5 * x * x) / np.sqrt(2.0 * np.pi)


def _se(grads: np.ndarray, cov: np.ndarray) -> np.ndarray:
    return np.sqrt(np.maximum(np.einsum("ij,jk,ik->i", grads, cov, grads), 0.0))


# ---------------------------------------------------------------------- public API
def predict(
    result: Any,
    at: Mapping[str, Any] | None = None,
    *,
    kind: str = "profile",
    cov: str | pd.DataFrame = "ML",
    alpha: float = 0.05,
    binary: str = "reference",
    data: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Predicted probabilities with (1 − alpha) confidence intervals, one row per grid point.

    ``at`` maps variables to a value or a list of values (lists are crossed into a grid),
    e.g. ``{"dp_mp": [0, 1, 2]}``. Columns: the ``at`` variables, ``predicted``, ``se``,
    ``ci_low``, ``ci_high`` and, for profiles, ``xb`` and ``se_xb`` (index scale). The
    values used for the other variables are in ``.attrs["profile"]``. ``data``: the
    sample to average over (``kind="average"``) or to take means from (profiles).
    """
    model = _index_model(result, cov)
    roles = _roles(model)
    grid = _grid(at, roles)
    defaults = _defaults(model, roles, binary, data)
    probs, grads, eta, X = _evaluate(model, grid, defaults, kind, data)
    z = special.ndtri(1.0 - alpha / 2.0)
    out = grid.copy() if len(grid.columns) else pd.DataFrame(index=range(len(probs)))
    if eta is not None and X is not None:
        se_xb = _se(X, model.cov)
        out["xb"] = eta
        out["se_xb"] = se_xb
        out["predicted"] = probs
        out["se"] = _pdf(eta) * se_xb
        out["ci_low"] = special.ndtr(eta - z * se_xb)
        out["ci_high"] = special.ndtr(eta + z * se_xb)
    else:
        se = _se(grads, model.cov)
        out["predicted"] = probs
        out["se"] = se
        out["ci_low"] = np.clip(probs - z * se, 0.0, 1.0)
        out["ci_high"] = np.clip(probs + z * se, 0.0, 1.0)
    out.attrs.update(
        {
            "kind": kind,
            "cov": model.cov_label,
            "alpha": alpha,
            "profile": {k: v for k, v in defaults.items() if k not in grid.columns},
        }
    )
    return out


def changes(
    result: Any,
    variable: str,
    levels: list[Any] | None = None,
    *,
    at: Mapping[str, Any] | None = None,
    base: str = "previous",
    kind: str = "profile",
    cov: str | pd.DataFrame = "ML",
    alpha: float = 0.05,
    binary: str = "reference",
    data: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Changes in Pr(y = 1) between levels of ``variable``, relative and absolute.

    ``levels`` default to a factor's levels (or 0, 1 for a binary). ``base="previous"``
    compares each level with the one before it (the study's (p₁ − p₀)/p₀ and
    (p₂ − p₁)/p₁); ``base="first"`` compares each with the first. Columns: ``from``,
    ``to``, ``p_from``, ``p_to``, ``abs_change`` (percentage points) and ``rel_change``
    (percent), each with ``_se``, ``_ci_low``, ``_ci_high`` (delta method).
    """
    model = _index_model(result, cov)
    roles = _roles(model)
    if variable not in roles:
        raise EstimationError(f"{variable!r} is not a variable of the model ({sorted(roles)})")
    if at and variable in at:
        raise EstimationError(f"give the levels of {variable!r} in levels=, not in at=")
    if levels is None:
        role = roles[variable]
        if role["type"] == "categorical":
            levels = list(role["levels"])
        elif role["binary"]:
            levels = [0, 1]
        else:
            raise EstimationError(f"{variable!r} is continuous: pass levels=[...] to compare")
    if len(levels) < 2:
        raise EstimationError("changes need at least two levels")
    if base not in ("previous", "first"):
        raise EstimationError(f"base={base!r}: expected 'previous' or 'first'")
    held = {k: v for k, v in (at or {}).items()}
    if any(_is_listlike(v) for v in held.values()):
        raise EstimationError("at= in changes() takes single values only")
    grid = _grid({**held, variable: levels}, roles)
    defaults = _defaults(model, roles, binary, data)
    probs, grads, _, _ = _evaluate(model, grid, defaults, kind, data)
    z = special.ndtri(1.0 - alpha / 2.0)
    rows = []
    for j in range(1, len(levels)):
        i = j - 1 if base == "previous" else 0
        p_i, p_j, g_i, g_j = probs[i], probs[j], grads[i], grads[j]
        abs_change = 100.0 * (p_j - p_i)
        abs_se = 100.0 * _se((g_j - g_i)[None, :], model.cov)[0]
        rel_change = 100.0 * (p_j - p_i) / p_i
        rel_grad = 100.0 * (g_j * p_i - p_j * g_i) / p_i**2
        rel_se = _se(rel_grad[None, :], model.cov)[0]
        rows.append(
            {
                "variable": variable,
                "from": levels[i],
                "to": levels[j],
                "p_from": p_i,
                "p_to": p_j,
                "abs_change": abs_change,
                "abs_se": abs_se,
                "abs_ci_low": abs_change - z * abs_se,
                "abs_ci_high": abs_change + z * abs_se,
                "rel_change": rel_change,
                "rel_se": rel_se,
                "rel_ci_low": rel_change - z * rel_se,
                "rel_ci_high": rel_change + z * rel_se,
            }
        )
    out = pd.DataFrame(rows)
    out.attrs.update(
        {
            "kind": kind,
            "cov": model.cov_label,
            "alpha": alpha,
            "base": base,
            "profile": {k: v for k, v in defaults.items() if k not in grid.columns},
            "held": held,
        }
    )
    return out
