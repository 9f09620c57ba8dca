"""The results object every estimator returns (statsmodels vocabulary).

Estimators fill a :class:`ModelResults`; subclasses add estimator-specific fields
(e.g. ``sigma`` for random-effects models, ``rho`` for selection models). Problems met
during estimation are carried in ``warnings`` (and also emitted as
:class:`restraint.errors.EstimationWarning`), never hidden behind NaN.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import special


@dataclass
class ModelResults:
    """Fitted model: estimates, covariance, fit statistics and diagnostics.

    ``params`` and ``bse`` are Series indexed by term name (intercept ``Intercept``);
    ``cov`` is a DataFrame over the same terms. ``llf_null`` (log-likelihood of the
    intercept-only model) enables McFadden's pseudo-R².
    """

    params: pd.Series
    cov: pd.DataFrame
    llf: float
    nobs: int
    model: str = ""
    dependent: str = ""
    cov_type: str = "ML"
    llf_null: float | None = None
    converged: bool = True
    iterations: int | None = None
    warnings: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def bse(self) -> pd.Series:
        """Standard errors (square roots of the covariance diagonal)."""
        return pd.Series(np.sqrt(np.diag(self.cov.to_numpy())), index=self.params.index)

    @property
    def tvalues(self) -> pd.Series:
        """z statistics."""
        return self.params / self.bse

    @property
    def pvalues(self) -> pd.Series:
        """Two-sided p-values from the standard normal."""
        return pd.Series(2 * special.ndtr(-np.abs(self.tvalues)), index=self.params.index)

    @property
    def df_model(self) -> int:
        """Number of estimated parameters."""
        return len(self.params)

    @property
    def aic(self) -> float:
        """Akaike information criterion, -2 llf + 2 k."""
        return -2.0 * self.llf + 2.0 * self.df_model

    @property
    def bic(self) -> float:
        """Bayesian information criterion."""
        return -2.0 * self.llf + np.log(self.nobs) * self.df_model

    @property
    def prsquared(self) -> float:
        """McFadden's pseudo-R² (NaN when the null log-likelihood is unknown)."""
        if self.llf_null is None or self.llf_null == 0:
            return float("nan")
        return 1.0 - self.llf / self.llf_null

    def conf_int(self, alpha: float = 0.05) -> pd.DataFrame:
        """Wald confidence intervals at level 1 - alpha."""
        z = special.ndtri(1 - alpha / 2)
        return pd.DataFrame(
            {"lower": self.params - z * self.bse, "upper": self.params + z * self.bse}
        )

    def to_frame(self) -> pd.DataFrame:
        """Coefficient table: estimate, SE, z, p, 95% CI."""
        ci = self.conf_int()
        return pd.DataFrame(
            {
                "coef": self.params,
                "se": self.bse,
                "z": self.tvalues,
                "p": self.pvalues,
                "ci_low": ci["lower"],
                "ci_high": ci["upper"],
            }
        )

    def summary(self) -> str:
        """Plain-text summary in the spirit of statsmodels."""
        head = [
            f"{self.model or 'model'}: {self.dependent}",
            f"N = {self.nobs}, log-likelihood = {self.llf:.4f}, AIC = {self.aic:.3f}, "
            f"pseudo-R2 = {self.prsquared:.4f}, covariance = {self.cov_type}, "
            f"converged = {self.converged}",
        ]
        body = self.to_frame().to_string(float_format=lambda v: f"{v: .5f}")
        tail = [f"warning: {w}" for w in self.warnings]
        return "\n".join([*head, body, *tail])

    def __repr__(self) -> str:  # short, notebook friendly
        return f"<{type(self).__name__} {self.model} N={self.nobs} llf={self.llf:.3f}>"
