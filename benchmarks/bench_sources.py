"""Time reading every raw data set: cold (fresh interpreter) and warm (same process).

Usage: ``python benchmarks/bench_sources.py [DATA_DIR] [--repeat N]``. DATA_DIR defaults
to ``RESTRAINT_DATA_DIR`` or ``../shared/data/raw``. Prints wall-clock figures; "cold"
includes starting Python, importing pandas and hashing every file (the OS page cache is
not dropped, so disk reads are warm). "warm, re-parse" repeats the reads in one process
with hashes cached per (path, size, mtime) but every file parsed and validated again;
"warm, cached frames" is what a repeated ``read_x()`` costs (resolve plus a copy).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

_COLD = """
import time, warnings
t0 = time.perf_counter()
from restraint.sources import READERS
t1 = time.perf_counter()
for key, read in READERS.items():
    read({data_dir!r})
t2 = time.perf_counter()
print(f"{{t1 - t0:.4f}} {{t2 - t1:.4f}}")
"""


def _default_dir() -> Path:
    env = os.environ.get("RESTRAINT_DATA_DIR")
    return Path(env) if env else ROOT.parent / "shared" / "data" / "raw"


def main() -> None:
    """Run the benchmark and print a small table."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("data_dir", nargs="?", type=Path, default=_default_dir())
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    data_dir = args.data_dir.resolve()
    env = {**os.environ, "RESTRAINT_OFFLINE": "1"}

    cold = []
    for _ in range(args.repeat):
        t = time.perf_counter()
        out = subprocess.run(
            [sys.executable, "-c", _COLD.format(data_dir=str(data_dir))],
            capture_output=True, text=True, env=env, check=True,
        )  # fmt: skip
        total = time.perf_counter() - t
        imp, read = map(float, out.stdout.split())
        cold.append((total, imp, read))

    os.environ["RESTRAINT_OFFLINE"] = "1"
    from restraint.sources import READERS, resolve
    from restraint.sources.readers import clear_cache

    per_key: dict[str, list[float]] = {k: [] for k in READERS}
    hash_cold: dict[str, float] = {}
    for key in READERS:
        t = time.perf_counter()
        rf = resolve(key, data_dir)
        hash_cold[key] = time.perf_counter() - t
        assert rf.verified, key
    reparse_totals = []
    for _ in range(args.repeat):
        t_all = time.perf_counter()
        for read in READERS.values():
            clear_cache()
            read(data_dir)
        reparse_totals.append(time.perf_counter() - t_all)
    warm_totals = []
    for _ in range(args.repeat):
        t_all = time.perf_counter()
        for key, read in READERS.items():
            t = time.perf_counter()
            df = read(data_dir)
            per_key[key].append(time.perf_counter() - t)
            assert len(df) > 0
        warm_totals.append(time.perf_counter() - t_all)

    print(f"data: {data_dir}  (python {sys.version.split()[0]}, {os.cpu_count()} cpus)")
    print(f"repeats: {args.repeat}; medians in seconds")
    print()
    print(f"{'data set':<20} {'first resolve+hash':>18} {'cached read':>12}")
    for key in READERS:
        print(f"{key:<20} {hash_cold[key]:>18.4f} {statistics.median(per_key[key]):>12.4f}")
    print()
    tot, imp, read = (statistics.median(x) for x in zip(*cold, strict=True))
    print(f"cold, fresh process : {tot:.3f} s total = interpreter + import {imp:.3f} s "
          f"+ read all {read:.3f} s")  # fmt: skip
    print(
        f"warm, re-parse      : {statistics.median(reparse_totals):.3f} s to read all ten "
        "(hashes cached, every file parsed and validated again)"
    )
    print(
        f"warm, cached frames : {statistics.median(warm_totals):.3f} s to read all ten "
        "(resolve + copy of the parsed frame)"
    )


if __name__ == "__main__":
    main()
