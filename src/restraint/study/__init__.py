"""The reproduced study as data and the runner behind ``restraint replicate``.

``specs.toml`` declares the selection stages, Models 1-9, A1, A2, the tables and the
paper's claims; :func:`replicate` runs them end to end (see ``docs/replication.md``).
"""

from __future__ import annotations

from restraint.study.spec import SpecError, StudySpec, load_spec, parse_spec

__all__ = ["SpecError", "StudySpec", "load_spec", "parse_spec", "replicate"]


def replicate(*args, **kwargs):  # noqa: ANN002, ANN003 - lazy: the runner imports matplotlib
    """Reproduce the study; see :func:`restraint.study.runner.replicate`."""
    from restraint.study.runner import replicate as _replicate

    return _replicate(*args, **kwargs)
