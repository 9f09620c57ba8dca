"""Fixed costs around the fits: process start-up, imports, and Figure 1.

Usage::

    python benchmarks/bench_startup.py [--repeat 5]

Prints the best of ``--repeat`` fresh processes for each start-up step, and the cost of
Figure 1 drawn in this process (matplotlib's import plus the drawing) against what is
left of it when a :class:`~restraint.study.figure.FigureWorker` started beforehand draws
it (the wait for its result). The machine is shared, so figures are indicative (best of
the repeats); nothing here asserts.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

BIN = Path(sys.executable).parent

STEPS = {
    "python -c pass": [sys.executable, "-c", "pass"],
    "import restraint": [sys.executable, "-c", "import restraint"],
    "import restraint.cli": [sys.executable, "-c", "import restraint.cli"],
    "restraint --version": [str(BIN / "restraint"), "--version"],
    "restraint --help": [str(BIN / "restraint"), "--help"],
    "restraint replicate --help": [str(BIN / "restraint"), "replicate", "--help"],
    "import restraint.study.runner": [sys.executable, "-c", "import restraint.study.runner"],
    "import restraint.models": [sys.executable, "-c", "import restraint.models"],
}

FIGURE = """
import sys, time
import restraint.study.runner  # what is loaded before the figure in a run
from restraint.study import figure
from restraint.study.predict import Prediction

def pr(s):
    p = [0.30 + s, 0.22 + s, 0.12 + s]
    return Prediction("dpmp", [0, 1, 2], p, [v - 0.05 for v in p], [v + 0.06 for v in p],
                      0.95, "HC1", "typical")

panels = [figure.Panel("Model 5", [figure.Series("Published", pr(0)),
                                   figure.Series("Crossed", pr(0.02))]),
          figure.Panel("Model 6", [figure.Series("Model 6", pr(0.05))])]
levels = ["No alliance", "DP only", "DP and MP"]
if sys.argv[1] == "worker":
    if not hasattr(figure, "FigureWorker"):  # an older checkout
        print("nan")
        sys.exit()
    worker = figure.FigureWorker()
    time.sleep(float(sys.argv[2]))  # the data and model stages
    t0 = time.perf_counter()
    worker.submit(panels, levels)
    time.sleep(float(sys.argv[3]))  # tables and results, drawn beside them
    t1 = time.perf_counter()
    worker.result()
    print(time.perf_counter() - t1)
else:
    t0 = time.perf_counter()
    figure.render(panels, levels)
    print(time.perf_counter() - t0)
"""


def best(cmd: list[str], repeat: int) -> float:
    """Best wall time of ``repeat`` runs of ``cmd``."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True)
        times.append(time.perf_counter() - t0)
    return min(times)


def figure_cost(mode: str, repeat: int) -> float:
    """Best of ``repeat``: seconds the run spends on Figure 1 in ``mode``."""
    args = ["worker", "3", "0.3"] if mode == "worker" else ["here"]
    out = []
    for _ in range(repeat):
        res = subprocess.run(
            [sys.executable, "-c", FIGURE, *args], check=True, capture_output=True, text=True
        )
        out.append(float(res.stdout.strip().splitlines()[-1]))
    return min(out)


def main() -> None:
    """Run the benchmark and print the figures."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    print(f"start-up, best of {args.repeat} fresh processes (cpu count {os.cpu_count()}):")
    for name, cmd in STEPS.items():
        print(f"  {name:<32} {best(cmd, args.repeat):6.2f} s")
    print("Figure 1 (PNG + PDF), seconds the run spends on it:")
    print(f"  {'drawn here (import + draw)':<32} {figure_cost('here', args.repeat):6.2f} s")
    print(f"  {'FigureWorker (wait after 0.3 s)':<32} {figure_cost('worker', args.repeat):6.2f} s")


if __name__ == "__main__":
    main()
