"""Time the analysis data-set builders and report peak memory.

Usage: ``python benchmarks/bench_datasets.py [DATA_DIR]`` (default: ``RESTRAINT_DATA_DIR``
or ``../shared/data/raw``). Prints, for a cold build from the raw files (reading included)
and for a cached rebuild, the wall time of ``build_all`` and the process's peak RSS. The
cache goes to a temporary folder so the user's cache is untouched. Targets (2-core
machine): cold <= 3 s, cached <= 1 s, peak RSS <= 2 GB.
"""

from __future__ import annotations

import os
import resource
import sys
import tempfile
import time
from pathlib import Path


def _peak_rss_mb() -> float:
    # ru_maxrss is in KiB on Linux.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    """Run the benchmark and print the figures."""
    root = Path(__file__).resolve().parents[1]
    default = os.environ.get("RESTRAINT_DATA_DIR") or str(root.parent / "shared" / "data" / "raw")
    data_dir = sys.argv[1] if len(sys.argv) > 1 else default
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["RESTRAINT_CACHE_DIR"] = tmp
        t0 = time.perf_counter()
        from restraint.datasets import build_all, load_tables
        from restraint.datasets.build import build_actor_level_from, build_dyad_year_from

        t_import = time.perf_counter() - t0
        t0 = time.perf_counter()
        tables = load_tables(data_dir)
        t_read = time.perf_counter() - t0
        t0 = time.perf_counter()
        build_actor_level_from(tables)
        t_actor = time.perf_counter() - t0
        t0 = time.perf_counter()
        build_dyad_year_from(tables)
        t_dyad = time.perf_counter() - t0
        del tables
        cold = []
        for _ in range(3):
            for p in Path(tmp).glob("datasets/*"):
                import shutil

                shutil.rmtree(p)
            t0 = time.perf_counter()
            build_all(data_dir, use_cache=True)
            cold.append(time.perf_counter() - t0)
        warm = []
        for _ in range(3):
            t0 = time.perf_counter()
            actor, dyad = build_all(data_dir, use_cache=True)
            warm.append(time.perf_counter() - t0)
        print(f"data dir: {data_dir}")
        print(f"import restraint.datasets        {t_import:6.2f} s")
        print(f"read all source tables           {t_read:6.2f} s")
        print(f"build actor level (from tables)  {t_actor:6.2f} s")
        print(f"build dyad-year (from tables)    {t_dyad:6.2f} s")
        print(f"build_all, cold (best of 3)      {min(cold):6.2f} s   (target <= 3 s)")
        print(f"build_all, cached (best of 3)    {min(warm):6.2f} s   (target <= 1 s)")
        print(f"rows: actor {len(actor.data):,}, dyad-year {len(dyad.data):,}")
        print(f"peak RSS                         {_peak_rss_mb():6.0f} MB (target <= 2048 MB)")


if __name__ == "__main__":
    main()
