"""Figure 1: predicted probability of a military response by DP-MP, one panel per model.

Output is deterministic: fixed style (matplotlib's file defaults plus :data:`STYLE`, so a
style changed in the calling process does not leak in), no timestamps in the files (PDF
``CreationDate`` and PNG ``Software`` are blanked) and a fixed SVG hash salt.

Importing matplotlib costs about a second, drawing half a second more. :class:`FigureWorker`
moves both into a helper process that the runner starts when the model fitting begins, so
that they overlap the fits and the tables instead of adding to them; the bytes are the same
either way.
"""

from __future__ import annotations

import io
import json
import os
import struct
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from restraint.study.predict import Prediction

#: Line colour of the primary variant and of the alternative one (tests look for them).
COLOURS = ("#1f5fa8", "#c0392b")

#: rc settings on top of matplotlib's file defaults.
STYLE = {
    "svg.hashsalt": "restraint",
    "font.family": "DejaVu Sans",
    "font.size": 10,
    "axes.spines.top": False,
    "axes.spines.right": False,
}

# What travels to the helper process: plain titles, labels and floats, so that the worker
# needs neither the study's classes nor the estimators they import.
_Line = tuple[str, list[float], list[float], list[float]]
_PlainPanel = tuple[str, list[_Line]]


@dataclass
class Series:
    """One line in a panel."""

    label: str
    prediction: Prediction


@dataclass
class Panel:
    """One panel: a title and one or more prediction series."""

    title: str
    series: Sequence[Series]


def render(panels: Sequence[Panel], level_labels: Sequence[str]) -> tuple[bytes, bytes]:
    """Draw the figure; return (PNG bytes, PDF bytes)."""
    return _draw(_plain(panels), list(level_labels))


def _plain(panels: Sequence[Panel]) -> list[_PlainPanel]:
    return [
        (
            p.title,
            [
                (
                    s.label,
                    [float(v) for v in s.prediction.pred],
                    [float(v) for v in s.prediction.low],
                    [float(v) for v in s.prediction.high],
                )
                for s in p.series
            ],
        )
        for p in panels
    ]


def _draw(panels: list[_PlainPanel], level_labels: list[str]) -> tuple[bytes, bytes]:
    # The object-oriented API without pyplot: no GUI backend, and pyplot's import (seconds
    # on a busy machine) is not paid.
    import matplotlib
    from matplotlib.figure import Figure

    with matplotlib.rc_context():
        # The same style in this process as in a fresh helper process (see FigureWorker).
        matplotlib.rc_file_defaults()
        matplotlib.rcParams.update(STYLE)
        fig = Figure(figsize=(4.2 * len(panels), 3.8))
        axes = fig.subplots(1, len(panels), sharey=True, squeeze=False)
        for ax, (title, lines) in zip(axes[0], panels, strict=True):
            n_series = len(lines)
            for k, (label, pred, low, high) in enumerate(lines):
                # Offset overlaid series slightly so their intervals stay readable.
                shift = (k - (n_series - 1) / 2) * 0.08
                x = [i + shift for i in range(len(pred))]
                colour = COLOURS[k % len(COLOURS)]
                ax.fill_between(x, low, high, color=colour, alpha=0.18, linewidth=0)
                ax.plot(
                    x,
                    pred,
                    color=colour,
                    marker="o",
                    linewidth=2.2,
                    label=label,
                    linestyle="-" if k == 0 else "--",
                )
                ax.vlines(x, low, high, color=colour, linewidth=1.2)
            ax.set_title(title)
            ax.set_xticks(range(len(level_labels)), list(level_labels))
            ax.set_xlabel("DP-MP")
            ax.set_xlim(-0.4, len(level_labels) - 0.6)
            ax.grid(axis="y", color="#dddddd", linewidth=0.6)
            if n_series > 1:
                ax.legend(frameon=False, fontsize=8, loc="upper right")
        axes[0][0].set_ylabel("Pr(military response), 95% CI")
        axes[0][0].set_ylim(0, 1)
        fig.tight_layout()
        png, pdf = io.BytesIO(), io.BytesIO()
        fig.savefig(png, format="png", dpi=150, metadata={"Software": None})
        fig.savefig(
            pdf, format="pdf", metadata={"CreationDate": None, "Producer": None, "Creator": None}
        )
    return png.getvalue(), pdf.getvalue()


def _preload() -> None:
    """Import what drawing needs."""
    import matplotlib.backends.backend_agg
    import matplotlib.backends.backend_pdf
    import matplotlib.figure  # noqa: F401


# The helper's protocol: one request on stdin (8-byte little-endian length, then JSON
# {"panels", "levels"}); one reply on stdout (PNG and PDF lengths as two 8-byte integers,
# then the bytes). Lengths, not end-of-file, delimit the request, so the parent keeps the
# pipe open and can still use ``communicate`` with a timeout.
_LEN = struct.Struct("<Q")
_REPLY = struct.Struct("<QQ")
#: Seconds to wait for the helper's drawing before drawing here instead.
TIMEOUT = 120.0


def _serve() -> None:
    """Body of the helper process: load matplotlib, wait for one figure, draw it."""
    out = sys.stdout.buffer
    sys.stdout = sys.stderr  # nothing but the reply may reach the pipe
    _preload()
    head = sys.stdin.buffer.read(_LEN.size)
    if len(head) < _LEN.size:
        return  # the parent went away without a figure
    job = json.loads(sys.stdin.buffer.read(_LEN.unpack(head)[0]))
    png, pdf = _draw(job["panels"], job["levels"])
    out.write(_REPLY.pack(len(png), len(pdf)) + png + pdf)
    out.flush()


class FigureWorker:
    """Draws the figure in a helper process that loads matplotlib as soon as it starts.

    Start it when this process starts computing (the fits): matplotlib's import then runs
    on the other core, and :meth:`submit` lets the drawing run beside the tables and the
    report. Started beside this process's own imports it gains little: concurrent imports
    hold each other up (measured on the 2-core machine). The helper is a plain
    ``python -c`` child, not ``multiprocessing``, whose spawn start would re-run the
    caller's script in it. Any failure of the helper (it cannot start, dies, times out,
    answers nonsense) falls back to drawing in this process, so the worst case is the cost
    without it, and genuine drawing errors are raised from here.
    """

    def __init__(self) -> None:
        self._proc: subprocess.Popen[bytes] | None = None
        self._args: tuple[list[_PlainPanel], list[str]] | None = None
        if not sys.executable:
            return
        # The helper imports this very copy of the package, whatever put it on sys.path here;
        # -P keeps the current folder, which could shadow it, off the helper's sys.path.
        root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        code = (
            f"import sys; r = {root!r}; r in sys.path or sys.path.insert(0, r); "
            "from restraint.study.figure import _serve; _serve()"
        )
        try:
            self._proc = subprocess.Popen(
                [sys.executable, "-P", "-c", code],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
            )
        except OSError:
            self._proc = None

    @staticmethod
    def worthwhile() -> bool:
        """True when a helper saves time: matplotlib not yet loaded here, and a spare core.

        Never in a frozen application, whose executable is not a Python interpreter.
        """
        if "matplotlib.figure" in sys.modules or getattr(sys, "frozen", False):
            return False
        affinity = getattr(os, "sched_getaffinity", None)
        cores = len(affinity(0)) if affinity is not None else os.cpu_count() or 1
        return cores > 1

    def submit(self, panels: Sequence[Panel], level_labels: Sequence[str]) -> None:
        """Hand the figure to the helper (returns at once)."""
        self._args = (_plain(panels), list(level_labels))
        if self._proc is None or self._proc.stdin is None:
            return
        body = json.dumps({"panels": self._args[0], "levels": self._args[1]}).encode()
        try:
            self._proc.stdin.write(_LEN.pack(len(body)) + body)
            self._proc.stdin.flush()
        except OSError:
            self.close()

    def result(self) -> tuple[bytes, bytes]:
        """(PNG bytes, PDF bytes) of the submitted figure."""
        if self._args is None:
            raise RuntimeError("FigureWorker.result() called before submit()")
        reply = b""
        if self._proc is not None:
            try:
                reply, _ = self._proc.communicate(timeout=TIMEOUT)
            except (OSError, ValueError, subprocess.TimeoutExpired):
                reply = b""
            ok = self._proc.returncode == 0 and len(reply) >= _REPLY.size
            self.close()
            if ok:
                n_png, n_pdf = _REPLY.unpack_from(reply)
                if len(reply) == _REPLY.size + n_png + n_pdf:
                    body = reply[_REPLY.size :]
                    return body[:n_png], body[n_png:]
        return _draw(*self._args)

    def close(self) -> None:
        """Stop the helper process (idempotent)."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.returncode is None:
            proc.kill()
            proc.communicate()  # reap it and close the pipes

    def __enter__(self) -> FigureWorker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
