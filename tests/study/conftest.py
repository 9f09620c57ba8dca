"""Fixtures of the study tests: the R reference fixtures behind a stand-in backend.

``FixtureBackend`` serves the reference fixture data sets (``../shared/reference``) and
fits with the package's probit; the full-sample selection stages return the reference
estimates (pglm's GH-20 one-way fit; the crossed AGQ prototype) so that the runner's IMR,
outcome and prediction steps can be checked against R's numbers. Period selection stages
are pooled probits (no random effect), which is all these tests need.
"""

from __future__ import annotations

import json
import os
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from restraint.models.results import ModelResults
from restraint.study.backend import StudyData
from restraint.study.spec import SelectionVariant

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = ROOT.parent / "shared" / "reference"
if not REFERENCE.exists():  # a checkout whose shared folder sits elsewhere
    REFERENCE = Path("/work/shared/reference")


def _need_reference() -> None:
    if not (REFERENCE / "reference_r.json").exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"reference fixtures missing under {REFERENCE}")
        pytest.skip("reference fixtures not available")


@cache
def reference() -> dict:
    """reference_r.json."""
    return json.loads((REFERENCE / "reference_r.json").read_text())


@cache
def _fixture(name: str) -> pd.DataFrame:
    return pd.read_csv(REFERENCE / name)


def _canned(
    block: dict, sigma: dict[str, float], sigma_se: dict[str, float | None]
) -> ModelResults:
    # pglm lists sigma among its coefficients; here it travels in ``sigma`` like the
    # package's random-effects results.
    names = ["Intercept" if n == "(Intercept)" else n for n in block["names"] if n != "sigma"]
    k = len(names)
    coef = np.asarray(block["coef"][:k], dtype=float)
    se = np.asarray(block.get("se", [np.nan] * k)[:k], dtype=float)
    se = np.where(np.isfinite(se), se, 0.05)  # the AGQ prototype has no SEs
    params = pd.Series(coef, index=names)
    cov = pd.DataFrame(np.diag(se**2), index=names, columns=names)
    res = ModelResults(
        params=params,
        cov=cov,
        llf=float(block["loglik"]),
        nobs=0,
        model="canned reference",
        dependent="crisis",
        cov_type="ML",
    )
    # Shaped like REProbitResults: sigma and its SEs as Series by grouping factor.
    res.sigma = pd.Series(sigma, dtype=float)
    res.sigma_bse = pd.Series(sigma_se, dtype=float)
    return res


def _canned_xb(pooled, params: pd.Series):
    """``xb(data)`` for canned coefficients: the pooled fit's design times ``params``."""
    from restraint.models.probit import ProbitResults

    def xb(data: pd.DataFrame) -> np.ndarray:
        X, ok = ProbitResults.design_matrix(pooled, data)
        out = np.full(len(data), np.nan)
        out[ok] = np.asarray(X, dtype=float) @ params[pooled.params.index].to_numpy(float)
        return out

    return xb


class FixtureBackend:
    """Reference fixtures plus the package's probit (see module docstring)."""

    name = "fixture"

    def __init__(self, describe: bool = True) -> None:
        self.calls: list[tuple[str, int]] = []
        self._describe = describe

    def build(self, data_dir, use_cache: bool = True) -> StudyData:
        actor = _fixture("fixture_actor.csv").copy()
        dyad = _fixture("fixture_dyadyear.csv").copy()
        return StudyData(actor, dyad, {"source": "reference fixtures"})

    def probit(self, formula: str, data: pd.DataFrame, cov: str) -> ModelResults:
        from restraint.models.probit import probit

        self.calls.append(("probit", len(data)))
        return probit(formula, data, cov=cov)

    def selection(
        self, formula: str, data: pd.DataFrame, variant: SelectionVariant
    ) -> ModelResults:
        self.calls.append((f"selection:{variant.name}", len(data)))
        full = len(data) == len(_fixture("fixture_dyadyear.csv"))
        ref = reference()
        if full and variant.estimator == "re_probit":
            block = ref["selection_pglm"]
            res = _canned(
                block, {"directed_dyad": block["coef"][-1]}, {"directed_dyad": block["se"][-1]}
            )
        elif full and variant.estimator == "crossed_re_probit":
            block = ref["selection_crossed_agq_prototype"]
            res = _canned(
                block,
                {"directed_dyad": block["sd_dyad"], "year": block["sd_year"]},
                {"directed_dyad": None, "year": None},
            )
        else:
            return self.probit(formula, data, "ML")
        res.nobs = len(data)
        # Like the package's random-effects results: an LR test of the σs against the
        # pooled probit, p from the χ̄² mixture with binomial(k, 1/2) weights.
        pooled = self.probit(formula, data, "ML")
        # ... and x'β of the fixed part on any data, through the formula's design.
        res.xb = _canned_xb(pooled, res.params)
        k = len(res.sigma)
        res.llf_pooled = pooled.llf
        res.lr_stat = max(0.0, 2 * (res.llf - pooled.llf))
        res.lr_pvalue = sum(
            stats.binom.pmf(j, k, 0.5) * stats.chi2.sf(res.lr_stat, j) for j in range(1, k + 1)
        )
        return res

    def describe(self, actor: pd.DataFrame, dyad: pd.DataFrame) -> dict[str, pd.DataFrame]:
        if not self._describe:
            return {}
        cols = ["mp", "dp", "jd", "contig", "ic", "mt"]
        t1 = pd.DataFrame(
            {
                "actor: N": [int(actor[c].sum()) for c in cols],
                "actor: %": [100 * actor[c].mean() for c in cols],
            },
            index=pd.Index(cols, name="variable"),
        )
        t2 = actor[["mp", "dp", "jd", "prep", "contig", "ic", "mt"]].corr(method="spearman")
        return {"table1": t1, "table2": t2.round(3)}


@pytest.fixture(scope="session")
def fixture_backend() -> FixtureBackend:
    """A :class:`FixtureBackend` (skips without the reference fixtures)."""
    _need_reference()
    return FixtureBackend()


@pytest.fixture(scope="session")
def fixture_run(fixture_backend: FixtureBackend):
    """One full run of the built-in spec on the fixtures, both selection variants."""
    from restraint.study.runner import replicate

    return replicate(selection="both", progress=False, backend=fixture_backend)
