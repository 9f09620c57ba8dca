"""Figure 1 drawn in the helper process is byte-identical to drawing it here, every way
the helper can fail falls back to drawing here, and the caller's matplotlib style does not
leak into the figure."""

from __future__ import annotations

import subprocess

import pytest

from restraint.study import figure
from restraint.study.figure import FigureWorker, Panel, Series
from restraint.study.predict import Prediction

LEVELS = ["No alliance", "DP only", "DP and MP"]


def _prediction(shift: float) -> Prediction:
    pred = [0.30 + shift, 0.22 + shift, 0.12 + shift]
    return Prediction(
        over="dpmp",
        levels=[0, 1, 2],
        pred=pred,
        low=[p - 0.05 for p in pred],
        high=[p + 0.06 for p in pred],
        ci=0.95,
        cov="HC1",
        method="typical",
    )


PANELS = [
    Panel("Model 5", [Series("Published", _prediction(0.0)), Series("Crossed", _prediction(0.02))]),
    Panel("Model 6", [Series("Model 6", _prediction(0.05))]),
]


@pytest.fixture(scope="module")
def drawn_here() -> tuple[bytes, bytes]:
    return figure.render(PANELS, LEVELS)


def test_helper_draws_the_same_bytes(drawn_here) -> None:
    with FigureWorker() as worker:
        assert worker._proc is not None, "the helper process did not start"
        worker.submit(PANELS, LEVELS)
        png, pdf = worker.result()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and pdf[:5] == b"%PDF-"
    assert (png, pdf) == drawn_here
    assert worker._proc is None  # stopped once the figure came back


def test_no_helper_process_falls_back(drawn_here, monkeypatch) -> None:
    def refuse(*args, **kwargs):
        raise OSError("no processes for you")

    monkeypatch.setattr(subprocess, "Popen", refuse)
    worker = FigureWorker()
    assert worker._proc is None
    worker.submit(PANELS, LEVELS)
    assert worker.result() == drawn_here


def test_dead_helper_falls_back(drawn_here) -> None:
    worker = FigureWorker()
    assert worker._proc is not None
    worker._proc.kill()
    worker._proc.wait()
    worker.submit(PANELS, LEVELS)
    assert worker.result() == drawn_here


def test_drawing_errors_surface_from_this_process() -> None:
    worker = FigureWorker()
    worker.submit([], LEVELS)  # no panels: matplotlib refuses 0 columns, in both processes
    with pytest.raises(ValueError):
        worker.result()


def test_close_without_a_figure_stops_the_helper() -> None:
    worker = FigureWorker()
    proc = worker._proc
    assert proc is not None
    worker.close()
    assert proc.poll() is not None
    worker.close()  # idempotent
    with pytest.raises(RuntimeError, match="before submit"):
        worker.result()


def test_caller_style_does_not_leak_in(drawn_here) -> None:
    import matplotlib

    with matplotlib.rc_context({"lines.linewidth": 7.0, "font.size": 22, "axes.grid": True}):
        assert figure.render(PANELS, LEVELS) == drawn_here


def test_runner_draws_in_the_helper_with_the_same_bytes(fixture_backend, monkeypatch) -> None:
    from restraint.study.runner import replicate

    from .conftest import FixtureBackend

    started: list[FigureWorker] = []

    class Counted(FigureWorker):
        def __init__(self) -> None:
            super().__init__()
            started.append(self)

    drawn_in_this_process: list[int] = []
    draw = figure._draw

    def counted_draw(*args):
        drawn_in_this_process.append(1)
        return draw(*args)

    monkeypatch.setattr(figure, "FigureWorker", Counted)
    monkeypatch.setattr(figure, "_draw", counted_draw)
    monkeypatch.setattr(Counted, "worthwhile", staticmethod(lambda: True))
    helper = replicate(selection="published", progress=False, backend=FixtureBackend())
    assert len(started) == 1 and started[0]._proc is None  # used, then stopped
    assert drawn_in_this_process == [], "the helper did not draw the figure"
    monkeypatch.setattr(Counted, "worthwhile", staticmethod(lambda: False))
    here = replicate(selection="published", progress=False, backend=FixtureBackend())
    assert len(started) == 1 and drawn_in_this_process == [1]
    assert helper.figure_png[:8] == b"\x89PNG\r\n\x1a\n"
    assert (helper.figure_png, helper.figure_pdf) == (here.figure_png, here.figure_pdf)


def test_helper_only_where_it_saves_time(monkeypatch) -> None:
    import sys

    import matplotlib.figure  # noqa: F401 - loaded here: drawing here is as cheap

    assert not FigureWorker.worthwhile()
    monkeypatch.delitem(sys.modules, "matplotlib.figure")
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    assert not FigureWorker.worthwhile()  # a frozen app's executable is no interpreter
