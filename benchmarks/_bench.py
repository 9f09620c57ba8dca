"""Helpers shared by the benchmark scripts (run as ``python benchmarks/bench_*.py``)."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path


def reference_dir() -> Path:
    """The shared reference folder (``RESTRAINT_REFERENCE_DIR``, else beside the repository)."""
    env = os.environ.get("RESTRAINT_REFERENCE_DIR")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2] / "shared" / "reference"


def best_of(fn: Callable[[], object], repeat: int) -> tuple[float, object]:
    """Minimum wall time over ``repeat`` calls, and the last result."""
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return min(times), out
