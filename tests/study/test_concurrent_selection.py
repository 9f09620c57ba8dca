"""Selection stages fitted two at a time give what fitting them one by one gives."""

from __future__ import annotations

import numpy as np
import pytest

from restraint.study.fitting import fit_study
from restraint.study.runner import prepare_data
from restraint.study.spec import load_spec

from .conftest import FixtureBackend


def _fit(backend: FixtureBackend, monkeypatch: pytest.MonkeyPatch, threads: str):
    monkeypatch.setenv("RESTRAINT_THREADS", threads)
    data = prepare_data(backend.build(None))
    said: list[str] = []
    fits = fit_study(
        load_spec(),
        data,
        backend,
        ["published", "crossed"],
        progress=said.append,
    )
    return fits, said


def test_concurrent_selection_stages_match_sequential(
    fixture_backend: FixtureBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    seq, said_seq = _fit(FixtureBackend(), monkeypatch, "1")
    par, said_par = _fit(FixtureBackend(), monkeypatch, "2")
    # Same stages, in the same (spec) order, with the same progress messages (concurrently,
    # the selection stages are all reported before the models that use them).
    assert list(seq.selection) == list(par.selection)
    assert sorted(said_seq) == sorted(said_par)

    def stages(said: list[str]) -> list[str]:
        return [m for m in said if m.startswith("selection stage")]

    assert stages(said_seq) == stages(said_par) and len(stages(said_par)) == 8
    for key, fit in seq.selection.items():
        other = par.selection[key]
        assert fit.key == other.key
        np.testing.assert_array_equal(fit.result.params, other.result.params)
        np.testing.assert_array_equal(fit.result.bse, other.result.bse)
        assert fit.notes == other.notes
    for key, fit in seq.outcome.items():
        np.testing.assert_array_equal(fit.result.params, par.outcome[key].result.params)
