"""The reproduced study as data and the runner behind ``restraint replicate``.

``specs.toml`` declares the selection stages, Models 1-9, A1, A2, the tables and the
paper's claims; :func:`replicate` runs them end to end (see ``docs/replication.md``).

The names below are loaded on first use (PEP 562), so that importing a light module of
this package (the CLI, the figure) does not import pandas through the spec parser.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from restraint.study.spec import SpecError, StudySpec, load_spec, parse_spec

__all__ = ["SpecError", "StudySpec", "load_spec", "parse_spec", "replicate"]

_SPEC_NAMES = frozenset({"SpecError", "StudySpec", "load_spec", "parse_spec"})


def __getattr__(name: str) -> object:
    if name in _SPEC_NAMES:
        from restraint.study import spec

        value = getattr(spec, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


def replicate(*args, **kwargs):  # noqa: ANN002, ANN003 - lazy: the runner imports pandas
    """Reproduce the study; see :func:`restraint.study.runner.replicate`."""
    from restraint.study.runner import replicate as _replicate

    return _replicate(*args, **kwargs)
