"""Time the selection estimators on the dyad-year fixture, with statsmodels alongside.

Usage: ``python benchmarks/bench_heckman.py [--repeat N] [--bootstrap B] [--skip-statsmodels]``.
Needs ``fixture_dyadyear.csv`` (``../shared/reference`` or ``RESTRAINT_REFERENCE_DIR``).
Selection ``crisis ~ dp + jd + prep + contig + sc`` on 167,690 dyad-years, outcome
``milresp ~ mp + dp + jd + prep + contig + ic + mt`` on the 671 crisis rows.

Timed (wall clock):

- ``heckprobit`` (FIML, analytic gradients, Newton): best of N. Target <= 5 s.
- ``heckman_two_step`` with a probit selection stage: best of N.
- the two-step bootstrap over directed dyads (B replicates, all cores).
- statsmodels has no heckprobit; the comparison system is statsmodels'
  ``GenericLikelihoodModel`` maximising the *same* log-likelihood with its default
  numerical derivatives (BFGS, then its numerical Hessian), from the same start values --
  what one would write with statsmodels alone. Its optimum is printed next to ours.
"""

from __future__ import annotations

import argparse
import os
import time
import warnings

import numpy as np
import pandas as pd
from _bench import best_of, reference_dir

from restraint.models import heckman_two_step, heckprobit, probit
from restraint.models.heckprobit import _build_problem, _loglik_grad

SELECTION = "crisis ~ dp + jd + prep + contig + sc"
OUTCOME = "milresp ~ mp + dp + jd + prep + contig + ic + mt"


def statsmodels_fiml(data: pd.DataFrame, start: np.ndarray) -> tuple[float, np.ndarray, float]:
    """Seconds, estimates and log-likelihood of GenericLikelihoodModel on our likelihood."""
    from statsmodels.base.model import GenericLikelihoodModel

    problem, _ = _build_problem(SELECTION, OUTCOME, data, None)

    class FIML(GenericLikelihoodModel):
        def loglike(self, params: np.ndarray) -> float:
            return _loglik_grad(problem, params)[0]

    # endog/exog are placeholders: the likelihood closes over the prepared arrays.
    n = len(problem.s)
    model = FIML(np.zeros(n), np.zeros((n, len(start))))
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = model.fit(start_params=start, method="bfgs", maxiter=2000, disp=0)
        _ = fit.bse  # its numerical Hessian is part of the job
    return time.perf_counter() - t0, np.asarray(fit.params), float(fit.llf)


def main() -> None:
    """Parse options and run the benchmarks."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--bootstrap", type=int, default=20)
    parser.add_argument("--skip-statsmodels", action="store_true")
    args = parser.parse_args()
    path = reference_dir() / "fixture_dyadyear.csv"
    if not path.is_file():
        raise SystemExit(f"{path} not found; set RESTRAINT_REFERENCE_DIR")
    data = pd.read_csv(path)
    print(f"dyad-year fixture: {len(data):,} rows, {int(data.crisis.sum())} selected")

    t_fiml, fiml = best_of(lambda: heckprobit(SELECTION, OUTCOME, data), args.repeat)
    print(
        f"  restraint heckprobit (FIML)            {t_fiml:7.3f} s   (target <= 5 s), "
        f"{fiml.iterations} Newton iterations, llf {fiml.llf:.6f}, rho {fiml.rho:.4f}"
    )
    t_two, _ = best_of(lambda: heckman_two_step(SELECTION, OUTCOME, data), args.repeat)
    print(f"  restraint heckman_two_step             {t_two:7.3f} s")
    if args.bootstrap:
        t0 = time.perf_counter()
        heckman_two_step(
            SELECTION,
            OUTCOME,
            data,
            bootstrap=args.bootstrap,
            bootstrap_cluster="directed_dyad",
            seed=1,
            progress=False,
        )
        t_boot = time.perf_counter() - t0
        print(
            f"  two-step bootstrap, B = {args.bootstrap:<4d} ({os.cpu_count()} cores)  "
            f"{t_boot:7.3f} s   ({t_boot / args.bootstrap:.3f} s per replicate)"
        )
    if not args.skip_statsmodels:
        # Same start values as restraint: the two separate probits and athrho = 0.
        out0 = probit(OUTCOME, data[data.crisis == 1], cov="ML").params.to_numpy()
        sel0 = probit(SELECTION, data, cov="ML").params.to_numpy()
        start = np.concatenate([out0, sel0, [0.0]])
        assert len(start) == len(fiml.params)
        t_sm, params, llf = statsmodels_fiml(data, start)
        diff = np.max(np.abs(params - fiml.params.to_numpy()))
        print(
            f"  statsmodels GenericLikelihoodModel     {t_sm:7.3f} s   (numerical derivatives), "
            f"llf {llf:.6f}, max |coef diff| {diff:.2e}"
        )


if __name__ == "__main__":
    main()
