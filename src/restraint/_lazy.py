"""Lazy re-exports for package ``__init__`` modules (PEP 562).

A package's public names stay importable from the package (``from restraint.datasets
import build_all``), but the module behind a name is imported on first use, so that
importing a light corner of the package (its CLI, its registry) does not load pandas,
scipy or matplotlib through the package's ``__init__``.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Iterable, Mapping


def lazy_exports(
    package: str, exports: Mapping[str, Iterable[str]], submodules: Iterable[str] = ()
) -> tuple[Callable[[str], object], Callable[[], list[str]]]:
    """``(__getattr__, __dir__)`` for ``package``.

    ``exports`` maps a module to the names the package re-exports from it; ``submodules``
    are the package's modules that attribute access (``package.build``) should import, as
    an eager ``__init__`` would have done.
    """
    where = {name: module for module, names in exports.items() for name in names}
    subs = frozenset(submodules)

    def __getattr__(name: str) -> object:
        module = where.get(name)
        if module is not None:
            value = getattr(importlib.import_module(module), name)
        elif name in subs:
            value = importlib.import_module(f"{package}.{name}")
        else:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        setattr(sys.modules[package], name, value)  # later look-ups skip this function
        return value

    def __dir__() -> list[str]:
        return sorted({*vars(sys.modules[package]), *where, *subs})

    return __getattr__, __dir__
