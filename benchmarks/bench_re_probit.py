"""Time the random-effects probits on the dyad-year fixture and print the figures.

Usage::

    .venv/bin/python benchmarks/bench_re_probit.py [--repeat 3] [--methods gh,agh,laplace,agq]
        [--fixture PATH] [--glmm-python PATH]

Each fit is the full public call (design, start values, optimisation, standard errors).
The fixture (≈168k rows, ≈3.8k directed dyads, 94 years) is
``$RESTRAINT_REFERENCE_DIR/fixture_dyadyear.csv`` (default ``../shared/reference``).

Peers, side by side, only where installed (never required):

* ``--glmm-python``: a Python interpreter with the ``glmm`` package (Rust; e.g. a separate
  virtual environment with ``pip install glmm``); it is run in a subprocess on the same
  fixture for crossed Laplace and one-way adaptive quadrature (15 nodes).
* R's timings measured on a 2-core machine are recorded in ``reference_r.json`` and
  printed for comparison (lme4 glmer, glmmTMB, pglm).

Timings on a shared machine are noisy: the minimum over repeats is reported with the
median; CPU time (all threads) is shown too, since wall time counts waiting for a core.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
from _bench import reference_dir

from restraint.models import crossed_re_probit, re_probit

FORMULA = "crisis ~ dp + jd + prep + contig + sc"
TARGETS = {"gh": 2.0, "agh": None, "laplace": 3.0, "agq": 10.0}

_PEER = r"""
import json, sys, time, warnings
import pandas as pd, glmm
warnings.simplefilter("ignore")
d = pd.read_csv(sys.argv[1])
fx = "crisis ~ dp + jd + prep + contig + sc"
out = {}
for key, f, n in [("laplace", fx + " + (1 | directed_dyad) + (1 | year)", 1),
                  ("agh", fx + " + (1 | directed_dyad)", 15)]:
    t = time.perf_counter()
    m = glmm.fit(d, f, family="binomial", link="probit", nagq=n)
    out[key] = {"seconds": time.perf_counter() - t, "loglik": float(m.loglik)}
print(json.dumps(out))
"""


def fit(method: str, data: pd.DataFrame):
    if method in ("gh", "agh"):
        return re_probit(FORMULA, data, "directed_dyad", method=method)
    return crossed_re_probit(FORMULA, data, ("directed_dyad", "year"), method=method)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--methods", default="gh,agh,laplace,agq")
    ap.add_argument("--fixture", type=Path, default=None)
    ap.add_argument("--glmm-python", default=None)
    args = ap.parse_args()
    path = args.fixture or reference_dir() / "fixture_dyadyear.csv"
    data = pd.read_csv(path)
    print(
        f"fixture: {path} ({len(data)} rows, {data['directed_dyad'].nunique()} dyads, "
        f"{data['year'].nunique()} years); cores available: {len(os.sched_getaffinity(0))}"
    )
    print(
        f"{'method':8s} {'min s':>7s} {'median s':>9s} {'cpu s':>7s} {'target':>7s} "
        f"{'llf':>12s}  sigma"
    )
    for method in args.methods.split(","):
        walls, cpus = [], []
        res = None
        for _ in range(args.repeat):
            t0, c0 = time.perf_counter(), time.process_time()
            res = fit(method, data)
            walls.append(time.perf_counter() - t0)
            cpus.append(time.process_time() - c0)
        walls.sort()
        target = TARGETS.get(method)
        sig = ", ".join(f"{k}={v:.4f}" for k, v in res.sigma.items())
        print(
            f"{method:8s} {walls[0]:7.2f} {walls[len(walls) // 2]:9.2f} {min(cpus):7.2f} "
            f"{(f'{target:.0f}' if target else '-'):>7s} {res.llf:12.4f}  {sig}"
        )

    ref_file = reference_dir() / "reference_r.json"
    if ref_file.is_file():
        ref = json.loads(ref_file.read_text())
        print("recorded peers (R 4.2.2, 2-core machine; from reference_r.json):")
        for key, label in [
            ("selection_pglm", "pglm GH-20 one-way"),
            ("selection_glmmtmb_crossed", "glmmTMB crossed Laplace"),
            ("selection_glmer_crossed", "lme4 glmer crossed Laplace"),
            ("selection_glmm_agq15_oneway", "glmm (Rust) one-way AGQ-15"),
            ("selection_crossed_agq_prototype", "numpy prototype crossed AGQ"),
        ]:
            if key in ref and "seconds" in ref[key]:
                print(f"  {label:30s} {ref[key]['seconds']:9.1f} s  llf {ref[key]['loglik']:.4f}")

    if args.glmm_python:
        with tempfile.TemporaryDirectory() as tmp:
            script = Path(tmp) / "peer.py"
            script.write_text(_PEER)
            out = subprocess.run(
                [args.glmm_python, str(script), str(path)], capture_output=True, text=True
            )
        if out.returncode != 0:
            print(f"glmm peer failed: {out.stderr.strip()[-400:]}", file=sys.stderr)
        else:
            for key, val in json.loads(out.stdout.strip().splitlines()[-1]).items():
                print(
                    f"  glmm (this machine) {key:10s} {val['seconds']:7.2f} s  "
                    f"llf {val['loglik']:.4f}"
                )


if __name__ == "__main__":
    main()
