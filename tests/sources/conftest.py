"""Isolate every sources test from the user's environment: no data dir from the
environment, a private cache, and no network downloads unless a test enables them."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.sources import synth


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    cache = tmp_path / "cache"
    monkeypatch.delenv("RESTRAINT_DATA_DIR", raising=False)
    monkeypatch.setenv("RESTRAINT_CACHE_DIR", str(cache))
    monkeypatch.setenv("RESTRAINT_OFFLINE", "1")
    return cache


@pytest.fixture
def cache(_isolated: Path) -> Path:
    """The private cache folder of this test (may not exist yet)."""
    return _isolated


@pytest.fixture
def synth_dir(tmp_path: Path) -> Path:
    """A complete synthetic data folder with every data set in its bare-file form."""
    return synth.write_all(tmp_path / "data")
