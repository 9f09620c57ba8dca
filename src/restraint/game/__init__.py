"""The formal model: asymmetric burden-sharing, restraint and deterrence (docs/game.md).

A superpower S, a prospective ally A and an opponent O; S may offer an alliance, A arms,
and a crisis is bargained in the shadow of war. :func:`solve` gives the closed-form
equilibrium (vectorised over parameter arrays), :func:`solve_numeric` an independent
backward-induction solution that also handles the generalisations (Tullock exponent r,
O arming at cost k_O, offers as burden shares of a fixed total).
"""

from __future__ import annotations

from restraint.game.closed_form import (
    Cutoffs,
    cutoff_table,
    cutoffs,
    solve,
    to_markdown,
    value_revise,
    value_submit,
)
from restraint.game.equilibrium import REGIONS, WHO, Equilibrium
from restraint.game.numeric import cutoffs_numeric, solve_numeric
from restraint.game.params import PARAM_NAMES, WORKED_EXAMPLE, GameParameterError, thresholds

__all__ = [
    "PARAM_NAMES",
    "REGIONS",
    "WHO",
    "WORKED_EXAMPLE",
    "Cutoffs",
    "Equilibrium",
    "GameParameterError",
    "cutoff_table",
    "cutoffs",
    "cutoffs_numeric",
    "curves",
    "plot_curves",
    "plot_region_map",
    "region_map",
    "solve",
    "solve_numeric",
    "thresholds",
    "to_markdown",
    "value_revise",
    "value_submit",
]


def __getattr__(name: str):  # noqa: ANN202 - lazy access to the plotting helpers
    if name in ("region_map", "plot_region_map", "curves", "plot_curves"):
        from restraint.game import plots

        return getattr(plots, name)
    raise AttributeError(f"module 'restraint.game' has no attribute {name!r}")
