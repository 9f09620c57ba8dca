"""Time probit + HC0 on ~170k rows, restraint against statsmodels in the same process.

Usage: ``python benchmarks/bench_probit.py [--repeat N]``. Data: the selection stage of the
study on the dyad-year fixture (167,690 rows, ``crisis ~ dp + jd + prep + contig + sc``)
when ``../shared/reference`` (or ``RESTRAINT_REFERENCE_DIR``) is there, and a synthetic
170,000-row probit with six regressors in any case.

Timed (best of N, wall clock):

- ``restraint formula``: ``probit(formula, data)`` -- patsy design, Newton fit, HC0;
- ``restraint arrays``: ``probit_from_arrays(y, X)`` -- fit + HC0 on ready arrays;
- ``statsmodels Probit``: ``Probit(y, X).fit(cov_type="HC0")`` (Newton, observed Hessian);
- ``statsmodels GLM``: ``GLM(y, X, Binomial(probit)).fit(cov_type="HC0")`` (IRLS).

Also printed: the largest relative difference of the coefficients and HC0 standard errors
from statsmodels. The HC0 errors differ by design (R's expected-information bread here,
the observed Hessian in statsmodels); with ``information="observed"`` they coincide.
Target: restraint formula <= 0.5 s.
"""

from __future__ import annotations

import argparse
import warnings

import numpy as np
import pandas as pd
import statsmodels.api as sm
from _bench import best_of, reference_dir

from restraint.models import probit, probit_from_arrays


def synthetic(n: int = 170_000, seed: int = 1) -> pd.DataFrame:
    """A rare-event probit like the selection stage (about 0.5% ones)."""
    rng = np.random.default_rng(seed)
    df = pd.DataFrame(
        {
            "a": rng.binomial(1, 0.7, n),
            "b": rng.binomial(1, 0.1, n),
            "c": rng.uniform(0, 1, n),
            "d": rng.binomial(1, 0.3, n),
            "e": rng.binomial(1, 0.4, n),
            "f": rng.normal(size=n),
        }
    )
    eta = -2.8 + 0.08 * df.a - 0.4 * df.b - 0.15 * df.c + 0.7 * df.d - 0.15 * df.e + 0.1 * df.f
    df["y"] = (eta + rng.normal(size=n) > 0).astype(int)
    return df


def run(label: str, formula: str, data: pd.DataFrame, repeat: int) -> None:
    """Time the four fits on one data set and print a small table."""
    t_formula, ours = best_of(lambda: probit(formula, data), repeat)
    y, X = ours.y, ours.X
    t_arrays, _ = best_of(lambda: probit_from_arrays(y, X, list(ours.params.index)), repeat)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t_sm, sm_probit = best_of(
            lambda: sm.Probit(y, X).fit(disp=0, cov_type="HC0", method="newton"), repeat
        )
        family = sm.families.Binomial(sm.families.links.Probit())
        t_glm, sm_glm = best_of(lambda: sm.GLM(y, X, family=family).fit(cov_type="HC0"), repeat)
    observed = probit_from_arrays(y, X, information="observed")
    rel = lambda a, b: float(np.max(np.abs(np.asarray(a) / np.asarray(b) - 1)))  # noqa: E731
    print(f"\n{label}: n = {len(y):,}, k = {X.shape[1]}, best of {repeat}")
    print(f"  restraint probit(formula, data), HC0   {t_formula:7.3f} s   (target <= 0.5 s)")
    print(f"  restraint probit_from_arrays, HC0      {t_arrays:7.3f} s")
    print(f"  statsmodels Probit.fit(HC0)            {t_sm:7.3f} s")
    print(f"  statsmodels GLM(probit).fit(HC0)       {t_glm:7.3f} s")
    print(f"  max rel. diff coef vs statsmodels      {rel(ours.params, sm_probit.params):.2e}")
    print(
        f"  max rel. diff HC0 SE vs sm Probit      {rel(ours.bse, sm_probit.bse):.2e}"
        "  (expected vs observed bread)"
    )
    print(f"  ... with information='observed'        {rel(observed.bse, sm_probit.bse):.2e}")


def main() -> None:
    """Parse options and run the benchmarks."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    fixture = reference_dir() / "fixture_dyadyear.csv"
    if fixture.is_file():
        data = pd.read_csv(fixture)
        run(
            "dyad-year fixture, selection probit",
            "crisis ~ dp + jd + prep + contig + sc",
            data,
            args.repeat,
        )
    else:
        print(f"(no {fixture}; fixture benchmark skipped)")
    run("synthetic", "y ~ a + b + c + d + e + f", synthetic(), args.repeat)


if __name__ == "__main__":
    main()
