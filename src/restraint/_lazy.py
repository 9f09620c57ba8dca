"""Lazy re-exports for package ``__init__`` modules (PEP 562).

A package's public names stay importable from the package (``from restraint.datasets
import build_all``), but the module behind a name is imported on first use, so that
importing a light corner of the package (its CLI, its registry) does not load pandas,
scipy or matplotlib through the package's ``__init__``.
"""

from __future__ import annotations

import ast
import importlib
import sys
from collections.abc import Callable, Iterable


def lazy_exports(
    package: str, submodules: Iterable[str] = ()
) -> tuple[Callable[[str], object], Callable[[], list[str]]]:
    """``(__getattr__, __dir__)`` for ``package``.

    The names re-exported lazily, and the module each comes from, are those of the
    ``from module import ...`` statements in the package's ``if TYPE_CHECKING:`` block
    (read from its source, so that type checkers and this function share one list);
    ``submodules`` are the package's modules that attribute access (``package.build``)
    should import, as an eager ``__init__`` would have done.
    """
    where = _type_checking_imports(sys.modules[package].__file__)
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


def _type_checking_imports(path: str | None) -> dict[str, str]:
    """``{name: module}`` for the ``from module import name`` statements inside the
    top-level ``if TYPE_CHECKING:`` blocks of the file at ``path``."""
    if path is None:
        return {}
    with open(path, encoding="utf-8") as fh:
        tree = ast.parse(fh.read(), filename=path)
    where: dict[str, str] = {}
    for node in tree.body:
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING":
            for stmt in node.body:
                if isinstance(stmt, ast.ImportFrom) and stmt.module:
                    for alias in stmt.names:
                        where[alias.asname or alias.name] = stmt.module
    return where
