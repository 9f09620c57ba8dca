"""The faster paths give exactly what the straightforward ones gave: term frames built from
arrays, normal quantiles from scipy.special, the plain-type shortcut of ``jsonable``."""

from __future__ import annotations

import enum
import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from restraint.models.results import ModelResults
from restraint.study.backend import jsonable
from restraint.study.fitting import Fit
from restraint.study.tables import _z_values, clean_term, term_frame


def _fit(names: list[str], seed: int) -> Fit:
    rng = np.random.default_rng(seed)
    k = len(names)
    a = rng.normal(size=(k, k))
    cov = pd.DataFrame(a @ a.T / k + np.eye(k) * 0.01, index=names, columns=names)
    res = ModelResults(
        params=pd.Series(rng.normal(size=k), index=names),
        cov=cov,
        llf=-100.0,
        nobs=500,
        model="test",
        dependent="y",
        cov_type="HC1",
    )
    return Fit("m1", "m1", "outcome", "Model 1", "y ~ x", "probit", res, "actor")


def _term_frame_by_columns(fit: Fit) -> pd.DataFrame:
    # The construction term_frame replaced, column by column with scipy.stats.
    r = fit.result
    out = pd.DataFrame({"coef": r.params, "se": r.bse, "p": r.pvalues})
    for level in (0.90, 0.95):
        z = stats.norm.ppf(0.5 + level / 2)
        out[f"low{int(level * 100)}"] = r.params - z * r.bse
        out[f"high{int(level * 100)}"] = r.params + z * r.bse
    out.index = [clean_term(str(t)) for t in out.index]
    return out


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_term_frame_is_exactly_the_column_by_column_frame(seed: int) -> None:
    names = ["Intercept", "C(dpmp)[T.1]", "C(dpmp)[T.2]", "jd", "prep", "imr"]
    fit = _fit(names, seed)
    expected = _term_frame_by_columns(fit)
    got = term_frame(fit)
    pd.testing.assert_frame_equal(got, expected, check_exact=True)
    assert list(got.index) == ["Intercept", "dpmp_1", "dpmp_2", "jd", "prep", "imr"]
    assert term_frame(fit) is got  # cached on the fit


def test_normal_quantiles_match_scipy_stats() -> None:
    z = dict(_z_values())
    assert z[90] == stats.norm.ppf(0.95) and z[95] == stats.norm.ppf(0.975)
    x = np.abs(np.random.default_rng(3).normal(size=1000)) * 4
    from scipy import special

    assert np.array_equal(2 * special.ndtr(-x), 2 * stats.norm.sf(x))


class Colour(enum.StrEnum):
    RED = "red"


def test_jsonable_plain_types_and_the_rest() -> None:
    value = {
        "a": [1, 2.5, math.nan, math.inf, -math.inf, True, None, "x"],
        "t": (1, (2, 3)),
        3: {"nested": [{"deep": math.nan}]},
        "np": [np.float64(1.5), np.int64(2), np.bool_(True), np.float64("nan")],
        "enum": Colour.RED,
        "series": pd.Series([1.0, math.nan], index=["u", "v"]),
    }
    assert jsonable(value) == {
        "a": [1, 2.5, None, None, None, True, None, "x"],
        "t": [1, [2, 3]],
        "3": {"nested": [{"deep": None}]},
        "np": [1.5, 2, True, None],
        "enum": "red",
        "series": {"u": 1.0, "v": None},
    }
    assert type(jsonable(np.int64(2))) is int and type(jsonable(True)) is bool
