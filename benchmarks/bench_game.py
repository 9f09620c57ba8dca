"""Timings of the formal model (restraint.game); prints figures, asserts nothing.

Targets (issue 2): a 400 x 400 region map in <= 2 s; one numerical solve <= 50 ms.

    .venv/bin/python benchmarks/bench_game.py            # timings
    .venv/bin/python benchmarks/bench_game.py --scan 300 # + how often the claims fail with r

Timings are the median of several runs (best effort on a shared machine: noisy).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np


def timeit(fn: Callable[[], object], repeat: int) -> tuple[float, float]:
    """Median and minimum wall time of fn over repeat runs (after one warm-up run)."""
    fn()
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), min(times)


def row(label: str, med: float, best: float, target: float | None = None) -> None:
    unit, scale = ("ms", 1e3)
    tgt = f"   (target <= {target * scale:.0f} {unit})" if target else ""
    print(f"  {label:<52} median {med * scale:9.2f} {unit}   min {best * scale:9.2f} {unit}{tgt}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--scan", type=int, default=0, help="random points per r for the claims scan")
    args = ap.parse_args()

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from restraint.game import cutoffs, solve, solve_numeric
    from restraint.game.numeric import cutoffs_numeric
    from restraint.game.plots import plot_region_map, region_map

    n = args.repeat
    print("restraint.game benchmarks")
    print("region maps (closed form, vectorised):")
    row("400 x 400 map k x q (compute)", *timeit(lambda: region_map("k", "q", n=400), n), 2.0)
    row("400 x 400 map k x m_O (compute)", *timeit(lambda: region_map("k", "m_O", n=400), n), 2.0)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "map.png"

        def draw() -> None:
            plt.close(plot_region_map("k", "q", out, n=400))

        row("400 x 400 map k x q (compute + draw + PNG)", *timeit(draw, max(3, n // 2)), 2.0)
    row("closed form, one point", *timeit(lambda: solve(0.2), n * 20))
    ks = np.geomspace(0.01, 10, 10_000)
    row("closed form, 10,000 values of k", *timeit(lambda: solve(ks), n))
    row("cut-offs, closed form", *timeit(lambda: cutoffs(), n * 20))
    row("cut-offs, brentq", *timeit(lambda: cutoffs(method="brentq"), n))

    print("numerical backward induction (one solve):")
    for label, kw in (
        ("base, k = 0.2 (restraint)", {"k": 0.2}),
        ("base, k = 0.5 (no alliance)", {"k": 0.5}),
        ("base, k = 1 (deterrence)", {"k": 1.0}),
        ("base, k = 3 (deterrence)", {"k": 3.0}),
        ("Tullock r = 2, k = 1", {"k": 1.0, "r": 2.0}),
        ("share offer, k = 1", {"k": 1.0, "offer": "share"}),
    ):
        row(label, *timeit(lambda kw=kw: solve_numeric(**kw), n * 3), 0.05)
    for label, kw in (
        ("O arms endogenously (k_O = 0.3), k = 1", {"k": 1.0, "k_O": 0.3}),
        ("O arms endogenously (k_O = 0.05), k = 0.2", {"k": 0.2, "k_O": 0.05}),
    ):
        row(label, *timeit(lambda kw=kw: solve_numeric(**kw), max(3, n // 2)))
    row("numerical cut-offs, r = 2", *timeit(lambda: cutoffs_numeric(r=2.0), max(3, n // 2)))

    if args.scan:
        rng = np.random.default_rng(2024)
        print(f"claims scan: share of random (q, c_A, c_O) where k3 < k2 ({args.scan} per r)")
        for r in (0.5, 0.8, 1.0, 1.1, 1.2, 1.5, 2.0, 3.0):
            fails = 0
            for _ in range(args.scan):
                q = rng.uniform(0.01, 0.99)
                c_O = q * rng.uniform(0.005, 0.995)
                c_A = (1 - q) * rng.uniform(0.005, 0.995)
                fails += not cutoffs_numeric(q, c_A, c_O, 1.0, r=r)["claims_hold"]
            print(f"  r = {r:<4}  claims fail at {100 * fails / args.scan:5.1f}% of points")


if __name__ == "__main__":
    main()
