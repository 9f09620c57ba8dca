"""Simulation study: crossed random-effects probit with a rare outcome.

Known truth, many small groups (like directed dyads) crossed with a few large ones (like
years), an outcome as rare as crises. For each replicate both estimators of
:func:`restraint.models.crossed_re_probit` are fitted: ``laplace`` and ``agq``. Printed:
bias, RMSE and the coverage of 95% Wald intervals for β, σ_a (small groups) and σ_b (large
groups), and failures/warnings.

Usage::

    .venv/bin/python benchmarks/sim_re_probit.py [--reps 100] [--n-a 800] [--n-b 40]
        [--sigma-a 0.7] [--sigma-b 0.3] [--intercept -3.0] [--nodes 15] [--seed 1]
        [--out sim.json]

The design mimics the fixture at a smaller scale: each small group is observed in a random
80% of the periods, a binary covariate ``d`` (share 0.4) with β = 0.3 and a continuous
``x`` with β = -0.2; with the default intercept about 1% of rows are events.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from restraint.models import crossed_re_probit

BETA = {"Intercept": -3.0, "d": 0.3, "x": -0.2}


def simulate(rng: np.random.Generator, n_a: int, n_b: int, beta: dict, sa: float, sb: float):
    a, b = np.meshgrid(np.arange(n_a), np.arange(n_b), indexing="ij")
    a, b = a.ravel(), b.ravel()
    keep = rng.random(a.size) < 0.8
    a, b = a[keep], b[keep]
    # d is a property of the small group (as a defence pact of a dyad), x varies by row.
    d = (rng.random(n_a) < 0.4).astype(float)[a]
    x = rng.normal(size=a.size)
    eta = (
        beta["Intercept"]
        + beta["d"] * d
        + beta["x"] * x
        + rng.normal(scale=sa, size=n_a)[a]
        + rng.normal(scale=sb, size=n_b)[b]
    )
    y = (eta + rng.normal(size=a.size) > 0).astype(float)
    return pd.DataFrame({"y": y, "d": d, "x": x, "a": a, "b": b})


def summarise(records: list[dict], truth: dict) -> pd.DataFrame:
    rows = []
    df = pd.DataFrame(records)
    for method, sub in df.groupby("method"):
        ok = sub[sub["ok"]]
        for name, value in truth.items():
            est = ok[f"est_{name}"]
            se = ok[f"se_{name}"]
            cover = ((est - 1.96 * se <= value) & (value <= est + 1.96 * se)).mean()
            rows.append(
                {
                    "method": method,
                    "parameter": name,
                    "truth": value,
                    "mean": est.mean(),
                    "bias": est.mean() - value,
                    "rmse": float(np.sqrt(((est - value) ** 2).mean())),
                    "coverage95": cover,
                    "fits": len(ok),
                    "failed": int((~sub["ok"]).sum()),
                    "seconds": sub["seconds"].mean(),
                }
            )
    return pd.DataFrame(rows)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=100)
    ap.add_argument("--n-a", type=int, default=800)
    ap.add_argument("--n-b", type=int, default=40)
    ap.add_argument("--sigma-a", type=float, default=0.7)
    ap.add_argument("--sigma-b", type=float, default=0.3)
    ap.add_argument("--intercept", type=float, default=BETA["Intercept"])
    ap.add_argument("--nodes", type=int, default=15)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", type=Path, default=None, help="write records and summary (JSON)")
    args = ap.parse_args()
    beta = {**BETA, "Intercept": args.intercept}
    truth = {**beta, "sigma_a": args.sigma_a, "sigma_b": args.sigma_b}
    rng = np.random.default_rng(args.seed)
    records = []
    t_start = time.perf_counter()
    for rep in range(args.reps):
        data = simulate(rng, args.n_a, args.n_b, beta, args.sigma_a, args.sigma_b)
        for method in ("laplace", "agq"):
            rec = {"rep": rep, "method": method, "events": int(data["y"].sum())}
            t0 = time.perf_counter()
            try:
                with warnings.catch_warnings(record=True) as caught:
                    warnings.simplefilter("always")
                    res = crossed_re_probit(
                        "y ~ d + x", data, ("a", "b"), method=method, nodes=args.nodes
                    )
                rec["ok"] = bool(res.converged)
                rec["warnings"] = len(caught)
                for name in beta:
                    rec[f"est_{name}"] = res.params[name]
                    rec[f"se_{name}"] = res.bse[name]
                for key, col in (("sigma_a", "a"), ("sigma_b", "b")):
                    rec[f"est_{key}"] = res.sigma[col]
                    rec[f"se_{key}"] = res.sigma_bse[col]
            except Exception as exc:  # a failed fit is a result of the study, not a crash
                rec["ok"] = False
                rec["error"] = f"{type(exc).__name__}: {exc}"
            rec["seconds"] = time.perf_counter() - t0
            records.append(rec)
        if (rep + 1) % 10 == 0:
            print(
                f"  {rep + 1}/{args.reps} replicates, {time.perf_counter() - t_start:.0f} s",
                flush=True,
            )
    table = summarise(records, truth)
    events = np.mean([r["events"] for r in records])
    print(
        f"design: {args.n_a} small groups x {args.n_b} large groups (80% of cells), "
        f"mean events per data set {events:.0f}; {args.reps} replicates; "
        f"agq nodes {args.nodes}"
    )
    with pd.option_context("display.width", 140, "display.float_format", "{:.4f}".format):
        print(table.to_string(index=False))
    if args.out:
        payload = {
            "args": vars(args) | {"out": str(args.out)},
            "summary": table.to_dict("records"),
            "records": records,
        }
        args.out.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=args.out.parent, suffix=".tmp")
        with os.fdopen(fd, "w") as fh:
            json.dump(payload, fh, indent=1, default=float)
        os.replace(tmp, args.out)


if __name__ == "__main__":
    main()
