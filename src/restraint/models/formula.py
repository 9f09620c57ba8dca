"""R/patsy-style formulas to arrays, with every dropped row counted.

Shared by all estimators so that terms are named identically everywhere (the intercept
is ``Intercept``; ``C(x)`` gives ``C(x)[T.level]``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import patsy

from restraint.errors import EstimationError


@dataclass
class Design:
    """Outcome vector, design matrix and bookkeeping for one formula on one data set."""

    y: np.ndarray
    X: np.ndarray
    names: list[str]
    dependent: str
    index: pd.Index
    n_dropped: int = 0
    dropped_by: dict[str, int] = field(default_factory=dict)
    design_info: patsy.DesignInfo | None = None


def design(formula: str, data: pd.DataFrame, *, extra: list[str] | None = None) -> Design:
    """Build ``y`` and ``X`` from ``formula`` on ``data``, dropping rows with missing values.

    ``extra`` names further columns (e.g. a grouping factor) that must also be non-missing,
    so the same rows are used for the model and its groups. The number of dropped rows and,
    per variable, how many were missing, are recorded in the result rather than hidden.
    """
    if "~" not in formula:
        raise EstimationError(f"formula {formula!r} has no '~' (expected 'y ~ x1 + x2')")
    lhs = formula.split("~", 1)[0].strip()
    try:
        desc = patsy.ModelDesc.from_formula(formula)
        needed: set[str] = set()
        in_expressions: set[str] = set()
        for term in desc.lhs_termlist + desc.rhs_termlist:
            for factor in term.factors:
                found = _variables(factor.name(), data)
                needed |= found
                if factor.name() not in data.columns:
                    in_expressions |= found
    except patsy.PatsyError as exc:
        raise EstimationError(f"cannot parse formula {formula!r}: {exc}") from exc
    cols = sorted(needed | set(extra or []))
    missing_cols = [c for c in cols if c not in data.columns]
    if missing_cols:
        raise EstimationError(
            f"formula {formula!r}: column(s) {missing_cols} not in the data "
            f"(available: {list(data.columns)})"
        )
    sub = data[cols]
    na = sub.isna()
    keep = ~na.any(axis=1)
    dropped_by = {c: int(na[c].sum()) for c in cols if na[c].any()}
    clean = data.loc[keep]
    if len(clean) == 0:
        raise EstimationError(f"formula {formula!r}: no complete rows (missing: {dropped_by})")
    # Numeric columns used as they are go to patsy as numpy arrays: the same matrices, a
    # few times faster than pandas columns (patsy's missing-value checks on Series are
    # slow). Columns inside expressions such as C(x) stay pandas columns, which keep
    # patsy's level names (numpy scalars would print as np.int64(1)).
    frame = {
        c: (
            clean[c].to_numpy()
            if c in needed and c not in in_expressions and clean[c].dtype.kind in "fiu"
            else clean[c]
        )
        for c in clean.columns
    }
    try:
        y_arr, x_arr = patsy.dmatrices(desc, frame, return_type="matrix", NA_action="raise")
    except patsy.PatsyError as exc:
        raise EstimationError(f"cannot build design for {formula!r}: {exc}") from exc
    if y_arr.shape[1] != 1:
        raise EstimationError(
            f"formula {formula!r}: the outcome must be one numeric 0/1 column, "
            f"got {y_arr.design_info.column_names}"
        )
    return Design(
        y=np.asarray(y_arr, dtype=float).ravel(),
        X=np.asarray(x_arr, dtype=float),
        names=list(x_arr.design_info.column_names),
        dependent=lhs,
        index=clean.index,
        n_dropped=int((~keep).sum()),
        dropped_by=dropped_by,
        design_info=x_arr.design_info,
    )


def _variables(expr: str, data: pd.DataFrame) -> set[str]:
    """Column names referenced by a patsy factor expression such as ``C(x, Treatment(0))``."""
    import ast

    try:
        tree = ast.parse(expr, mode="eval")
    except SyntaxError:
        return {expr}
    names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    return {n for n in names if n in data.columns} or ({expr} if expr.isidentifier() else set())
