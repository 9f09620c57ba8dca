"""restraint: from raw public conflict data to published results.

Layers (see docs/architecture.md): ``sources`` (raw data) -> ``datasets`` (analysis
data sets) -> ``models`` (estimators) -> ``study`` (the reproduced study); ``game`` (the
formal model) stands apart.
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__", "replicate"]


def replicate(*args, **kwargs):  # noqa: ANN002, ANN003 - thin lazy re-export
    """Reproduce the study end to end; see :func:`restraint.study.runner.replicate`."""
    from restraint.study.runner import replicate as _replicate

    return _replicate(*args, **kwargs)
