"""Shared test fixtures.

``raw_dir`` is the folder of real raw data files: ``RESTRAINT_DATA_DIR`` if set, else
``../shared/data/raw`` beside the repository. Tests that use it are skipped when it is
missing, except under ``CI=true``, where missing data is a failure.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _raw_dir_candidate() -> Path:
    env = os.environ.get("RESTRAINT_DATA_DIR")
    if env:
        return Path(env).expanduser().resolve()
    return (ROOT.parent / "shared" / "data" / "raw").resolve()


@pytest.fixture(scope="session")
def raw_dir() -> Path:
    """The folder of real raw data files (mirrors the layout icb/, cow/, polity/, atop/)."""
    path = _raw_dir_candidate()
    if not path.is_dir():
        msg = (
            f"real raw data folder not found at {path}; set RESTRAINT_DATA_DIR to the folder "
            "holding icb/, cow/, polity/ and atop/ (e.g. ../shared/data/raw)"
        )
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(msg)
        pytest.skip(msg)
    return path
