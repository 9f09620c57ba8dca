"""Figure 1: predicted probability of a military response by DP-MP, one panel per model.

Output is deterministic: fixed style, no timestamps in the files (PDF ``CreationDate`` and
PNG ``Software`` are blanked) and a fixed SVG hash salt.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass

from restraint.study.predict import Prediction

#: Line colour of the primary variant and of the alternative one (tests look for them).
COLOURS = ("#1f5fa8", "#c0392b")


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
    # The object-oriented API without pyplot: no GUI backend, and pyplot's import (seconds
    # on a busy machine) is not paid.
    import matplotlib
    from matplotlib.figure import Figure

    with matplotlib.rc_context(
        {
            "svg.hashsalt": "restraint",
            "font.family": "DejaVu Sans",
            "font.size": 10,
            "axes.spines.top": False,
            "axes.spines.right": False,
        }
    ):
        fig = Figure(figsize=(4.2 * len(panels), 3.8))
        axes = fig.subplots(1, len(panels), sharey=True, squeeze=False)
        for ax, panel in zip(axes[0], panels, strict=True):
            n_series = len(panel.series)
            for k, s in enumerate(panel.series):
                pr = s.prediction
                # Offset overlaid series slightly so their intervals stay readable.
                shift = (k - (n_series - 1) / 2) * 0.08
                x = [i + shift for i in range(len(pr.pred))]
                colour = COLOURS[k % len(COLOURS)]
                ax.fill_between(x, pr.low, pr.high, color=colour, alpha=0.18, linewidth=0)
                ax.plot(
                    x,
                    pr.pred,
                    color=colour,
                    marker="o",
                    linewidth=2.2,
                    label=s.label,
                    linestyle="-" if k == 0 else "--",
                )
                ax.vlines(x, pr.low, pr.high, color=colour, linewidth=1.2)
            ax.set_title(panel.title)
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
