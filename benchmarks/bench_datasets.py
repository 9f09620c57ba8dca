"""Time the analysis data-set builders and report peak memory.

Usage: ``python benchmarks/bench_datasets.py [DATA_DIR]`` (default: ``RESTRAINT_DATA_DIR``
or ``../shared/data/raw``). Each measurement runs in a fresh Python process, so no
in-memory state (parsed tables, memoised hashes) is shared between runs:

- cold: ``build_all`` with an empty cache (reads and validates the raw files, builds both
  data sets, writes the cache entry);
- cached: ``build_all`` again on unchanged inputs (hashes the inputs, reads the entry);
- the split of a cold build into reading and building.

Prints the best of three for each and the peak RSS of the cold process. The cache lives
in a temporary folder, so the user's cache is untouched. Targets (2-core machine): cold
<= 3 s, cached <= 1 s, peak RSS <= 2 GB.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

_CHILD = r"""
import json, resource, sys, time
t0 = time.perf_counter()
from restraint.datasets import build_all, load_tables
from restraint.datasets.build import build_actor_level_from, build_dyad_year_from
t_import = time.perf_counter() - t0
mode, data_dir = sys.argv[1], sys.argv[2]
out = {"import": t_import}
if mode == "split":
    t0 = time.perf_counter(); tables = load_tables(data_dir); out["read"] = time.perf_counter() - t0
    t0 = time.perf_counter(); build_actor_level_from(tables)
    out["actor"] = time.perf_counter() - t0
    t0 = time.perf_counter(); build_dyad_year_from(tables); out["dyad"] = time.perf_counter() - t0
else:
    t0 = time.perf_counter(); a, d = build_all(data_dir, use_cache=True)
    out["build_all"] = time.perf_counter() - t0
    out["rows"] = [len(a.data), len(d.data)]
out["rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps(out))
"""


def _run(mode: str, data_dir: str, env: dict[str, str]) -> dict:
    res = subprocess.run(
        [sys.executable, "-c", _CHILD, mode, data_dir],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(res.stdout.strip().splitlines()[-1])


def main() -> None:
    """Run the benchmark and print the figures."""
    root = Path(__file__).resolve().parents[1]
    default = os.environ.get("RESTRAINT_DATA_DIR") or str(root.parent / "shared" / "data" / "raw")
    data_dir = sys.argv[1] if len(sys.argv) > 1 else default
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "RESTRAINT_CACHE_DIR": tmp}
        split = [_run("split", data_dir, env) for _ in range(3)]
        cold, warm = [], []
        for _ in range(3):
            for p in Path(tmp).glob("datasets/*"):
                import shutil

                shutil.rmtree(p)
            cold.append(_run("build", data_dir, env))
            warm.append(_run("build", data_dir, env))
    best = min
    print(f"data dir: {data_dir}")
    print(f"import restraint.datasets          {best(r['import'] for r in cold):6.2f} s")
    print(f"read + validate all source tables  {best(r['read'] for r in split):6.2f} s")
    print(f"build actor level (from tables)    {best(r['actor'] for r in split):6.2f} s")
    print(f"build dyad-year (from tables)      {best(r['dyad'] for r in split):6.2f} s")
    print(
        f"build_all, cold                    {best(r['build_all'] for r in cold):6.2f} s"
        "   (target <= 3 s)"
    )
    print(
        f"build_all, cached                  {best(r['build_all'] for r in warm):6.2f} s"
        "   (target <= 1 s)"
    )
    print(f"rows (actor, dyad-year)            {cold[0]['rows']}")
    print(
        f"peak RSS, cold process             {max(r['rss_mb'] for r in cold):6.0f} MB"
        " (target <= 2048 MB)"
    )


if __name__ == "__main__":
    main()
