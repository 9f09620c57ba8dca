"""Predicted probabilities over the levels of one regressor (Table 5, Figure 1).

A thin adapter over :func:`restraint.models.predict`: the "typical" profile holds the
other factors at their reference level, 0/1 regressors at 0 and continuous ones (Prep, the
IMR) at their estimation-sample means (ggeffects' rule, the paper's software), with the
CI on the probit index from the chosen covariance mapped through Φ; "average" averages
the probability over the estimation sample instead (Stata's ``margins``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from restraint.errors import EstimationError
from restraint.study.backend import jsonable
from restraint.study.spec import ModelSpec

if TYPE_CHECKING:
    from restraint.models.results import ModelResults


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


def predict_levels(result: ModelResults, model: ModelSpec) -> Prediction:
    """Predictions of a fitted ``model`` at each level of ``model.predict.over``."""
    from restraint import models

    spec = model.predict
    if spec is None:
        raise EstimationError(f"model {model.id!r} has no predict specification")
    frame = models.predict(
        result,
        at={**spec.at, spec.over: list(spec.levels)},
        kind="profile" if spec.method == "typical" else "average",
        cov=spec.cov,
        alpha=1.0 - spec.ci,
    )
    return Prediction(
        over=spec.over,
        levels=list(spec.levels),
        pred=[float(v) for v in frame["predicted"]],
        low=[float(v) for v in frame["ci_low"]],
        high=[float(v) for v in frame["ci_high"]],
        ci=spec.ci,
        cov=str(frame.attrs.get("cov", spec.cov)),
        method=spec.method,
        profile=jsonable(frame.attrs.get("profile", {})),
    )
