"""Predicted probabilities over the levels of one regressor, with delta-method CIs.

The default ("typical") profile follows the paper's software (ggeffects): the other
factors at their reference level, numeric 0/1 regressors at 0, continuous ones (Prep, the
IMR) at their means over the estimation sample. The CI is built on the probit index with
the chosen covariance and mapped through Φ, so it stays inside (0, 1). The "average"
method averages the predicted probability over the estimation sample instead (CI by the
delta method on the probability scale).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import patsy
from scipy import stats

from restraint.errors import EstimationError
from restraint.models.formula import design
from restraint.models.results import ModelResults
from restraint.study.spec import ModelSpec, PredictSpec


@dataclass
class Prediction:
    """Predicted Pr(y = 1) at each level of ``over`` with its confidence interval."""

    over: str
    levels: list[Any]
    pred: list[float]
    low: list[float]
    high: list[float]
    ci: float
    cov: str
    method: str
    profile: dict[str, Any] = field(default_factory=dict)

    def change(self, i: int, j: int, kind: str = "relative") -> float:
        """Change from level position ``i`` to ``j``: in percent of p_i, or in points."""
        pi, pj = self.pred[i], self.pred[j]
        if kind == "relative":
            return (pj - pi) / pi * 100.0
        return (pj - pi) * 100.0


def profile_values(model: ModelSpec, sample: pd.DataFrame, at: dict[str, Any]) -> dict[str, Any]:
    """Values of the regressors other than ``over`` in the typical profile."""
    assert model.predict is not None
    values: dict[str, Any] = {}
    regressors = [*model.regressors, *(["imr"] if model.selection else [])]
    for col in regressors:
        if col == model.predict.over:
            continue
        if col in at:
            values[col] = at[col]
            continue
        x = sample[col]
        uniq = pd.unique(x.dropna())
        if col in model.factors:
            values[col] = sorted(uniq)[0]  # reference level of the treatment contrast
        elif set(np.asarray(uniq, dtype=float).tolist()) <= {0.0, 1.0}:
            values[col] = 0
        else:
            values[col] = float(x.mean())
    return values


def predict_levels(
    result: ModelResults,
    model: ModelSpec,
    data: pd.DataFrame,
    cov: pd.DataFrame,
    cov_label: str,
) -> Prediction:
    """Predictions of a fitted ``model`` at each level of ``model.predict.over``.

    ``data`` is the model's sample before the formula dropped incomplete rows (the
    estimation sample is rebuilt here so the means are over exactly the rows fitted);
    ``cov`` is the covariance of the coefficients to use for the CI.
    """
    spec: PredictSpec | None = model.predict
    if spec is None:
        raise EstimationError(f"model {model.id!r} has no predict specification")
    d = design(model.formula, data)
    sample = data.loc[d.index]
    if d.design_info is None:
        raise EstimationError(f"model {model.id!r}: no design information for predictions")
    names = list(result.params.index)
    beta = result.params.to_numpy(dtype=float)
    V = cov.loc[names, names].to_numpy(dtype=float)
    z = stats.norm.ppf(0.5 + spec.ci / 2)
    pred, low, high = [], [], []
    profile: dict[str, Any] = {}
    if spec.method == "typical":
        profile = profile_values(model, sample, spec.at)
        rows = pd.DataFrame([{**profile, spec.over: lev} for lev in spec.levels])
        for col in rows.columns:
            # Keep the sample's dtype so patsy maps factor levels exactly as in fitting.
            rows[col] = rows[col].astype(sample[col].dtype)
        X = _design(d.design_info, rows, names)
        index = X @ beta
        se = np.sqrt(np.einsum("ij,jk,ik->i", X, V, X))
        pred = stats.norm.cdf(index).tolist()
        low = stats.norm.cdf(index - z * se).tolist()
        high = stats.norm.cdf(index + z * se).tolist()
    else:
        for lev in spec.levels:
            rows = sample.copy()
            rows[spec.over] = pd.Series(lev, index=rows.index).astype(sample[spec.over].dtype)
            X = _design(d.design_info, rows, names)
            eta = X @ beta
            p = float(stats.norm.cdf(eta).mean())
            grad = (stats.norm.pdf(eta)[:, None] * X).mean(axis=0)
            se = float(np.sqrt(grad @ V @ grad))
            pred.append(p)
            low.append(max(0.0, p - z * se))
            high.append(min(1.0, p + z * se))
    return Prediction(
        over=spec.over,
        levels=list(spec.levels),
        pred=[float(v) for v in pred],
        low=[float(v) for v in low],
        high=[float(v) for v in high],
        ci=spec.ci,
        cov=cov_label,
        method=spec.method,
        profile=profile,
    )


def _design(info: patsy.DesignInfo, rows: pd.DataFrame, names: list[str]) -> np.ndarray:
    (X,) = patsy.build_design_matrices([info], rows, return_type="dataframe")
    missing = [n for n in names if n not in X.columns]
    if missing:
        raise EstimationError(f"prediction design lacks the term(s) {missing}")
    return X[names].to_numpy(dtype=float)
