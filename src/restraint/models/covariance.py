"""Sandwich covariance estimators shared by the maximum-likelihood estimators.

Every estimator hands over the same two ingredients: the *bread*, i.e. the inverse of the
information matrix it uses for its ML covariance (expected or observed), and the matrix of
per-observation score contributions evaluated at the estimate. The covariance types differ
only in how the meat is formed and scaled, so they live here once (the separation
linearmodels uses: one estimator, many covariance estimators).

Conventions (all documented in ``docs/models.md``):

* ``HC0``: ``A⁻¹ (Σ sᵢ sᵢ') A⁻¹`` (White 1980), as R's ``sandwich::vcovHC(type = "HC0")``.
* ``HC1``: HC0 times ``n / (n - k)``.
* ``cluster``: ``A⁻¹ (Σ_g S_g S_g') A⁻¹`` with ``S_g`` the summed scores of group ``g``,
  times ``G / (G - 1)`` (Stata's ``vce(cluster)`` for ML models and R's
  ``sandwich::vcovCL(type = "HC0", cadjust = TRUE)``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from restraint.errors import EstimationError

#: Accepted spellings of each covariance type (lower case) mapped to the canonical name.
COV_TYPES: dict[str, str] = {
    "ml": "ML",
    "nonrobust": "ML",
    "oim": "ML",
    "hc0": "HC0",
    "robust": "HC0",
    "hc1": "HC1",
    "cluster": "cluster",
}


def normalize_cov_type(cov: str, cluster: object | None) -> str:
    """Canonical covariance name for the user's ``cov`` and ``cluster`` options.

    A cluster variable with ``cov`` HC0/HC1/cluster means cluster-robust errors; asking for
    ``cluster`` without a cluster variable, or for ML errors with one, is a contradiction
    and raises :class:`EstimationError` rather than silently ignoring an option.
    """
    if not isinstance(cov, str) or cov.lower() not in COV_TYPES:
        raise EstimationError(
            f"cov={cov!r} is not a covariance type; expected one of "
            f"'ML', 'HC0', 'HC1' or 'cluster' (with cluster=...)"
        )
    kind = COV_TYPES[cov.lower()]
    if cluster is not None:
        if kind == "ML":
            raise EstimationError(
                "cov='ML' with cluster=... is contradictory: ML standard errors ignore "
                "clusters; use cov='cluster' (or 'HC0') with cluster=..."
            )
        return "cluster"
    if kind == "cluster":
        raise EstimationError("cov='cluster' needs cluster=<column name or array of group ids>")
    return kind


def group_codes(groups: Sequence[object] | np.ndarray | pd.Series, n: int) -> np.ndarray:
    """Integer codes 0..G-1 for a vector of group labels of length ``n``.

    Missing labels raise :class:`EstimationError`: an observation without a cluster cannot
    be placed in the meat, and dropping it silently would change the sample.
    """
    arr = pd.Series(np.asarray(groups) if not isinstance(groups, pd.Series) else groups.values)
    if len(arr) != n:
        raise EstimationError(f"cluster variable has {len(arr)} values, expected {n} (one per row)")
    if arr.isna().any():
        raise EstimationError(
            f"cluster variable has {int(arr.isna().sum())} missing values; every row used in "
            "the model needs a cluster id"
        )
    codes, _ = pd.factorize(arr, sort=False)
    return codes.astype(np.intp)


def sum_by_group(scores: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """Column sums of ``scores`` within each group (rows = groups, in code order)."""
    n_groups = int(codes.max()) + 1 if len(codes) else 0
    out = np.empty((n_groups, scores.shape[1]))
    # bincount per column is much faster than np.add.at for ~10^5 rows.
    for j in range(scores.shape[1]):
        out[:, j] = np.bincount(codes, weights=scores[:, j], minlength=n_groups)
    return out


def sandwich(
    bread: np.ndarray,
    scores: np.ndarray,
    kind: str = "HC0",
    *,
    groups: np.ndarray | None = None,
) -> np.ndarray:
    """Robust covariance ``bread · meat · bread`` scaled by the convention of ``kind``.

    ``bread`` is the ML covariance (inverse information), ``scores`` the n × k matrix of
    per-observation score contributions at the estimate, ``groups`` integer group codes
    (see :func:`group_codes`) for ``kind='cluster'``.
    """
    n, k = scores.shape
    if kind == "ML":
        return bread.copy()
    if kind in ("HC0", "HC1"):
        meat = scores.T @ scores
        scale = 1.0 if kind == "HC0" else n / (n - k) if n > k else float("nan")
        if not np.isfinite(scale):
            raise EstimationError(f"HC1 needs more observations ({n}) than parameters ({k})")
    elif kind == "cluster":
        if groups is None:
            raise EstimationError("cluster-robust covariance needs group codes")
        summed = sum_by_group(scores, groups)
        n_groups = summed.shape[0]
        if n_groups < 2:
            raise EstimationError(
                f"cluster-robust covariance needs at least 2 clusters, got {n_groups}"
            )
        meat = summed.T @ summed
        scale = n_groups / (n_groups - 1)
    else:  # pragma: no cover - callers normalise first
        raise EstimationError(f"unknown covariance type {kind!r}")
    cov = scale * (bread @ meat @ bread)
    return (cov + cov.T) / 2.0


def n_clusters(groups: np.ndarray | None) -> int | None:
    """Number of distinct groups in a code vector (None when there is none)."""
    return None if groups is None else int(groups.max()) + 1
