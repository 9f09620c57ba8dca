"""Fixtures of the estimator tests: R's reference results and the fixture data sets.

The reference folder is ``RESTRAINT_REFERENCE_DIR`` if set, else ``../shared/reference``
beside the repository. Tests using these fixtures skip when it is missing, except under
``CI=true``, where missing reference data is a failure.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest


def reference_dir() -> Path:
    """Where ``reference_r.json`` and the fixture CSV files are."""
    env = os.environ.get("RESTRAINT_REFERENCE_DIR")
    if env:
        return Path(env).expanduser().resolve()
    return Path(__file__).resolve().parents[3] / "shared" / "reference"


def _require(name: str) -> Path:
    path = reference_dir() / name
    if not path.is_file():
        msg = (
            f"reference file {path} not found; set RESTRAINT_REFERENCE_DIR to the folder "
            "holding reference_r.json, fixture_actor.csv and fixture_dyadyear.csv"
        )
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(msg)
        pytest.skip(msg)
    return path


@pytest.fixture(scope="session")
def reference() -> dict:
    """reference_r.json as a dict (one block per model)."""
    return json.loads(_require("reference_r.json").read_text())


@pytest.fixture(scope="session")
def fixture_actor() -> pd.DataFrame:
    """The actor-level fixture (779 crisis actors)."""
    return pd.read_csv(_require("fixture_actor.csv"))


@pytest.fixture(scope="session")
def fixture_dyadyear() -> pd.DataFrame:
    """The directed dyad-year fixture (167,690 rows)."""
    return pd.read_csv(_require("fixture_dyadyear.csv"))


def _fd_gradient(fun, theta: np.ndarray, h: float = 1e-4) -> np.ndarray:
    """Central differences of ``fun(theta)[0]``, one coordinate at a time."""
    out = np.empty_like(theta)
    for j in range(len(theta)):
        e = np.zeros_like(theta)
        e[j] = h
        out[j] = (fun(theta + e)[0] - fun(theta - e)[0]) / (2 * h)
    return out


@pytest.fixture
def fd_gradient():
    """The central-difference gradient used to check analytic gradients."""
    return _fd_gradient


def _agq_gradients(model, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A crossed-AGQ model's analytic gradient at ``theta`` and its central differences,
    with the nodes adapted at ``theta`` and held there and the modes converged tightly."""
    model.adapt(theta)

    def fun(th: np.ndarray):
        return model.evaluate(th, tol=1e-12)

    return fun(theta)[1], _fd_gradient(fun, theta)


@pytest.fixture
def agq_gradients():
    """(analytic, finite-difference) gradients of a crossed-AGQ model, see _agq_gradients."""
    return _agq_gradients
