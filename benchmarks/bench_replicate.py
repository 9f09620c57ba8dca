"""Time ``restraint replicate`` from the raw files: cold (empty data cache, fresh process)
and warm (data cache filled), and print the per-stage timings of each run.

Usage::

    python benchmarks/bench_replicate.py [--data-dir DIR] [--selection both] [--repeat 1]

Targets (issue 4): cold <= 30 s, warm <= 10 s for the whole job. The machine is shared, so
figures are indicative; nothing here asserts.
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

ROOT = Path(__file__).resolve().parents[1]


def _data_dir(arg: str | None) -> str:
    if arg:
        return arg
    env = os.environ.get("RESTRAINT_DATA_DIR")
    if env:
        return env
    return str(ROOT.parent / "shared" / "data" / "raw")


def run_once(data_dir: str, selection: str, cache: Path, out: Path) -> tuple[float, dict]:
    """One replicate in a fresh Python process; wall time and its timings.json."""
    env = {**os.environ, "RESTRAINT_CACHE_DIR": str(cache), "MPLBACKEND": "Agg"}
    cmd = [
        sys.executable,
        "-m",
        "restraint.cli",
        "replicate",
        "--quiet",
        "--data-dir",
        data_dir,
        "--selection",
        selection,
        "--out",
        str(out),
    ]
    t0 = time.perf_counter()
    res = subprocess.run(cmd, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if res.returncode != 0:
        sys.exit(f"replicate failed ({res.returncode}):\n{res.stdout}\n{res.stderr}")
    return wall, json.loads((out / "timings.json").read_text())


def main() -> None:
    """Run the benchmark and print the figures."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir")
    ap.add_argument("--selection", default="both")
    ap.add_argument("--repeat", type=int, default=1, help="warm runs")
    args = ap.parse_args()
    data_dir = _data_dir(args.data_dir)
    with tempfile.TemporaryDirectory() as tmp:
        cache = Path(tmp) / "cache"
        cold, t_cold = run_once(data_dir, args.selection, cache, Path(tmp) / "cold")
        warm_runs = [
            run_once(data_dir, args.selection, cache, Path(tmp) / f"warm{i}")
            for i in range(args.repeat)
        ]
    print(f"restraint replicate --selection {args.selection}  (cpu count {os.cpu_count()})")
    print(f"  cold (empty cache, new process): {cold:7.2f} s wall   target <= 30 s")
    for i, (wall, _t) in enumerate(warm_runs):
        print(f"  warm run {i + 1} (cache filled):     {wall:7.2f} s wall   target <= 10 s")
    print("  stages (cold | warm 1), seconds:")
    t_warm = warm_runs[0][1] if warm_runs else {}
    for key in t_cold:
        print(f"    {key:<36} {t_cold[key]:7.2f} | {t_warm.get(key, float('nan')):7.2f}")


if __name__ == "__main__":
    main()
