"""Formulas to arrays: the same matrices and names as patsy on the data frame."""

from __future__ import annotations

import numpy as np
import pandas as pd
import patsy

from restraint.models.formula import design


def _frame() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    n = 60
    return pd.DataFrame(
        {
            "y": (rng.random(n) < 0.4).astype(int),
            "x": rng.normal(size=n),
            "k": rng.integers(0, 3, size=n),
            "flag": rng.random(n) < 0.5,
            "odd name": rng.normal(size=n),
            "grp": rng.choice(["a", "b", "c"], size=n),
        }
    )


def test_design_equals_patsy_on_the_frame() -> None:
    df = _frame()
    df.loc[3, "x"] = np.nan
    for formula in [
        "y ~ x + k",
        "y ~ x + C(k)",
        "y ~ C(k) + k + flag",
        "y ~ grp + np.log(x ** 2) + x:k",
        'y ~ Q("odd name") + x',
    ]:
        d = design(formula, df)
        uses_x = "x" in formula.replace("flag", "")
        clean = df.dropna() if uses_x else df
        y_ref, x_ref = patsy.dmatrices(formula, clean, return_type="dataframe")
        assert d.names == list(x_ref.columns), formula
        np.testing.assert_array_equal(d.X, x_ref.to_numpy(dtype=float))
        np.testing.assert_array_equal(d.y, y_ref.to_numpy(dtype=float).ravel())
        assert (d.n_dropped, d.dropped_by) == ((1, {"x": 1}) if uses_x else (0, {}))
        # The design information rebuilds the matrix on a data frame (predictions).
        (again,) = patsy.build_design_matrices([d.design_info], clean, return_type="matrix")
        np.testing.assert_array_equal(np.asarray(again), d.X)
