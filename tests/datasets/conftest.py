"""Fixtures for the data-set tests on the real raw files (``raw_dir`` from tests/conftest)."""

from __future__ import annotations

from pathlib import Path

import pytest

from restraint.datasets import SourceTables, load_tables


@pytest.fixture(scope="session")
def real_tables(raw_dir: Path) -> SourceTables:
    """Every source table read from the real raw files."""
    return load_tables(raw_dir)


@pytest.fixture(scope="session")
def reference_dir(raw_dir: Path) -> Path:
    """The shared reference folder (``shared/reference`` beside ``shared/data/raw``)."""
    path = raw_dir.parent.parent / "reference"
    if not (path / "fixture_actor.csv").is_file():
        pytest.skip(f"reference fixtures not found in {path}")
    return path
