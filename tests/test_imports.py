"""Import laziness: the command line and the runner start without the heavy libraries, and
the lazily re-exported package names still resolve to the real objects."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from types import ModuleType

import pytest

HEAVY = (
    "pandas",
    "scipy",
    "matplotlib",
    "numba",
    "statsmodels",
    "patsy",
    "jinja2",
    "pyarrow",
)


def _loaded_after(statement: str) -> set[str]:
    """Top-level modules (and restraint modules) loaded by ``statement`` in a fresh
    interpreter."""
    code = f"import sys, json\n{statement}\nprint(json.dumps(sorted({{m for m in sys.modules}})))"
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    return set(json.loads(res.stdout.strip().splitlines()[-1]))


def test_cli_starts_without_heavy_libraries() -> None:
    loaded = _loaded_after("import restraint.cli")
    assert not {m for m in HEAVY if m in loaded}, "restraint.cli imports a heavy library"
    # Every sub-command is still mounted.
    assert {"restraint.sources.cli", "restraint.datasets.cli", "restraint.study.cli"} <= loaded


def test_runner_defers_estimators_figure_and_report() -> None:
    loaded = _loaded_after("import restraint.study.runner")
    for name in ("restraint.models", "numba", "matplotlib", "scipy.stats", "jinja2", "patsy"):
        assert name not in loaded, f"importing the runner loads {name}"


def test_top_level_package_is_light() -> None:
    loaded = _loaded_after("import restraint, restraint.study, restraint.game")
    assert not {m for m in HEAVY if m in loaded}
    assert "numpy" not in loaded


@pytest.mark.parametrize(
    "package", ["restraint.sources", "restraint.datasets", "restraint.game", "restraint.study"]
)
def test_lazy_names_resolve_to_their_modules(package: str) -> None:
    pkg = importlib.import_module(package)
    for name in pkg.__all__:
        value = getattr(pkg, name)
        home = getattr(value, "__module__", None)
        if isinstance(home, str) and home.startswith(package + "."):
            assert getattr(importlib.import_module(home), name) is value, name
    assert set(pkg.__all__) <= set(dir(pkg))
    with pytest.raises(AttributeError, match="no attribute 'not_a_name'"):
        pkg.not_a_name  # noqa: B018


def test_submodules_and_from_imports() -> None:
    import restraint.datasets as datasets
    import restraint.sources as sources

    assert isinstance(datasets.describe, ModuleType)
    from restraint.datasets import BuildOptions, build_all, describe

    assert describe is datasets.describe and callable(build_all)
    assert BuildOptions.__module__ == "restraint.datasets.options"
    # ``resolve`` is both a module and a function of restraint.sources; the package's name
    # is the function, as with the eager __init__.
    from restraint.sources import resolve

    assert callable(resolve) and not isinstance(resolve, ModuleType)
    assert sources.resolve is resolve
