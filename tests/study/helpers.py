"""Small builders of synthetic fits for the study's unit tests."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from restraint.models.results import ModelResults
from restraint.study.fitting import Fit


def make_fit(
    key: str,
    coefs: dict[str, tuple[float, float]],
    *,
    kind: str = "outcome",
    label: str | None = None,
    llf: float = -100.0,
    llf_null: float | None = -120.0,
    nobs: int = 500,
    sigma: dict | None = None,
    variant: str | None = None,
) -> Fit:
    """A Fit whose terms have the given (coefficient, SE) pairs."""
    names = list(coefs)
    params = pd.Series([coefs[n][0] for n in names], index=names)
    cov = pd.DataFrame(np.diag([coefs[n][1] ** 2 for n in names]), index=names, columns=names)
    res = ModelResults(
        params=params, cov=cov, llf=llf, nobs=nobs, llf_null=llf_null, cov_type="HC0"
    )
    return Fit(
        key=key,
        model_id=key,
        kind=kind,
        label=label or key,
        formula="y ~ x",
        estimator="probit",
        result=res,
        data="actor",
        variant=variant,
        sigma=sigma or {},
    )


def se_for_p(coef: float, p: float) -> float:
    """The SE that gives a two-sided normal p-value ``p`` for ``coef``."""
    return abs(coef) / stats.norm.isf(p / 2)
