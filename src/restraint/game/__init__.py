"""The formal model: asymmetric burden-sharing, restraint and deterrence (docs/game.md).

A superpower S, a prospective ally A and an opponent O; S may offer an alliance, A arms,
and a crisis is bargained in the shadow of war. :func:`solve` gives the closed-form
equilibrium (vectorised over parameter arrays), :func:`solve_numeric` an independent
backward-induction solution that also handles the generalisations (Tullock exponent r,
O arming at cost k_O, offers as burden shares of a fixed total).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from restraint._lazy import lazy_exports

if TYPE_CHECKING:
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
    from restraint.game.plots import curves, plot_curves, plot_region_map, region_map

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

# The solvers import scipy and the plots matplotlib: each loaded on first use, so that the
# command line starts without them (see restraint._lazy).
__getattr__, __dir__ = lazy_exports(
    __name__,
    submodules=("cli", "closed_form", "equilibrium", "numeric", "params", "plots"),
)
