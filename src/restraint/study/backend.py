"""The runner's only door to the data builders and the estimators.

Everything the study needs from the layers below goes through a :class:`Backend`:
building the two analysis data sets, a probit, a selection-stage fit and the descriptive
tables. :class:`DefaultBackend` calls :mod:`restraint.datasets` and :mod:`restraint.models`;
tests pass a backend of their own (e.g. fixture data with statsmodels stand-ins), so the
runner never depends on how those layers are built.
"""

from __future__ import annotations

import dataclasses
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import pandas as pd

from restraint.errors import EstimationError
from restraint.study.spec import SelectionVariant

if TYPE_CHECKING:
    # A type name only: importing restraint.models loads every estimator (numba and all),
    # which the runner defers to its first fit.
    from restraint.models.results import ModelResults


@dataclass
class StudyData:
    """The two analysis data sets plus what is known of their provenance."""

    actor: pd.DataFrame
    dyad: pd.DataFrame
    provenance: dict[str, Any] = field(default_factory=dict)


class Backend(Protocol):
    """What the runner needs from the layers below."""

    name: str

    def build(self, data_dir: str | Path | None, use_cache: bool = True) -> StudyData:
        """Build the actor-level and directed dyad-year data sets."""
        ...

    def probit(self, formula: str, data: pd.DataFrame, cov: str) -> ModelResults:
        """Probit of ``formula`` on ``data`` with covariance ``cov`` (HC0, HC1, ML)."""
        ...

    def selection(
        self, formula: str, data: pd.DataFrame, variant: SelectionVariant
    ) -> ModelResults:
        """Selection-stage fit (random-effects probit as ``variant`` says)."""
        ...

    def describe(self, actor: pd.DataFrame, dyad: pd.DataFrame) -> dict[str, pd.DataFrame]:
        """Descriptive tables keyed ``table1`` and ``table2``."""
        ...


class DefaultBackend:
    """Backend on :mod:`restraint.datasets` and :mod:`restraint.models`."""

    name = "restraint"

    def build(self, data_dir: str | Path | None, use_cache: bool = True) -> StudyData:
        """Build both data sets with :func:`restraint.datasets.build_all` (default options)."""
        from restraint import datasets

        actor, dyad = datasets.build_all(data_dir=data_dir, options=None, use_cache=use_cache)
        prov = {name: _build_provenance(res) for name, res in (("actor", actor), ("dyad", dyad))}
        return StudyData(actor.numeric(), dyad.numeric(), prov)

    def probit(self, formula: str, data: pd.DataFrame, cov: str) -> ModelResults:
        """:func:`restraint.models.probit`."""
        from restraint.models import probit

        return probit(formula, data, cov=cov)

    def selection(
        self, formula: str, data: pd.DataFrame, variant: SelectionVariant
    ) -> ModelResults:
        """:func:`restraint.models.re_probit` or ``crossed_re_probit`` (or a pooled probit)."""
        from restraint.models import crossed_re_probit, probit, re_probit

        opts = dict(variant.options)
        if variant.estimator == "re_probit":
            return re_probit(formula, data, group=variant.groups[0], **opts)
        if variant.estimator == "crossed_re_probit":
            return crossed_re_probit(formula, data, groups=tuple(variant.groups), **opts)
        return probit(formula, data, cov=opts.pop("cov", "ML"), **opts)

    def describe(self, actor: pd.DataFrame, dyad: pd.DataFrame) -> dict[str, pd.DataFrame]:
        """Tables 1 and 2 from :mod:`restraint.datasets.describe` (printable Table 1)."""
        from restraint.datasets import describe

        return {
            "table1": describe.table1(actor, dyad, formatted=True),
            "table2": describe.table2(actor),
        }


def _build_provenance(res: Any) -> dict[str, Any]:
    """JSON-ready provenance of one :class:`restraint.datasets.BuildResult`."""
    return {
        "provenance": jsonable(res.provenance),
        "options": jsonable(res.options),
        "rows": int(res.log.rows),
        "log_steps": jsonable(res.log.to_dict()["steps"]),
    }


def jsonable(value: Any) -> Any:
    """Convert ``value`` to plain JSON types (NaN and infinities become None)."""
    # Plain JSON types first: results.json is thousands of them, and the general checks
    # below cost microseconds each.
    kind = type(value)
    if kind is str or kind is int or kind is bool or value is None:
        return value
    if kind is float:
        return value if math.isfinite(value) else None
    if kind is dict:
        return {str(k): jsonable(v) for k, v in value.items()}
    if kind is list or kind is tuple:
        return [jsonable(v) for v in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return jsonable(dataclasses.asdict(value))
    if hasattr(value, "to_dict") and not isinstance(value, pd.DataFrame | pd.Series):
        try:
            return jsonable(value.to_dict())
        except TypeError:
            pass
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, pd.Series):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, pd.DataFrame):
        return [jsonable(r) for r in value.to_dict(orient="records")]
    if isinstance(value, list | tuple | set | frozenset):
        seq = sorted(value, key=str) if isinstance(value, set | frozenset) else value
        return [jsonable(v) for v in seq]
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        return value if np.isfinite(value) else None
    if value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, str | int | bool) or value is None:
        return value
    return str(value)


# ---------------------------------------------------------------------------------------
# helpers that work on any backend's results


def fixed_xb(result: ModelResults, formula: str, data: pd.DataFrame) -> np.ndarray:
    """Fixed-part linear predictor x'β of a selection fit for every row of ``data``.

    Every selection estimator of :mod:`restraint.models` gives its results an ``xb``
    (NaN where a regressor is missing); a backend's result without one is an error.
    """
    xb = getattr(result, "xb", None)
    if not callable(xb):
        raise EstimationError(
            f"the selection result for {formula!r} ({type(result).__name__}) has no xb(data) "
            "method to compute the fixed part x'β for the inverse Mills ratio"
        )
    return np.asarray(xb(data), dtype=float)


def sigma_of(result: ModelResults) -> dict[str, tuple[float, float | None]]:
    """Random-effect standard deviations with their SEs, keyed by grouping column.

    Reads ``result.sigma`` and ``result.sigma_bse`` (Series by grouping factor, as
    :class:`restraint.models.re_probit.REProbitResults` carries them); a pooled probit has
    none. A missing or non-finite SE is reported as None.
    """
    sigma = getattr(result, "sigma", None)
    if sigma is None:
        return {}
    se = getattr(result, "sigma_bse", None)
    se = pd.Series(dtype=float) if se is None else pd.to_numeric(se, errors="coerce")
    out: dict[str, tuple[float, float | None]] = {}
    for name, value in sigma.items():
        s = se.get(name)
        out[str(name)] = (float(value), float(s) if s is not None and np.isfinite(s) else None)
    return out
