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


class _ProbeBackend(FixtureBackend):
    """Records, inside each selection fit, the fit's inner thread count and BLAS's."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[tuple[int, list[int]]] = []

    def selection(self, formula, data, variant):
        from threadpoolctl import threadpool_info

        from restraint.models import process_threads
        from restraint.models._re_common import n_threads

        blas = [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"]
        self.seen.append((n_threads(), blas))
        assert process_threads() == 2
        return super().selection(formula, data, variant)


def test_concurrent_stages_share_the_cores_and_keep_blas_on_one_thread(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Two stages at a time on two threads: each fit gets one thread for its inner loops,
    # and BLAS stays on one thread inside the worker threads (a limit set from a worker
    # thread is not reliable, so fit_study sets it around them).
    backend = _ProbeBackend()
    _fit(backend, monkeypatch, "2")
    assert len(backend.seen) == 8
    for inner, blas in backend.seen:
        assert inner == 1
        assert all(n == 1 for n in blas)
