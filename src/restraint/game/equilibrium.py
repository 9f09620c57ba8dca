"""The equilibrium object both solvers return."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np
import pandas as pd

#: Region names, indexed by the integer codes the solvers use internally.
REGIONS: tuple[str, ...] = ("revision", "restraint", "no_alliance", "deterrence", "no_offer")
REVISION, RESTRAINT, NO_ALLIANCE, DETERRENCE, NO_OFFER = range(5)
#: Code of a parameter point outside the model's domain (maps with ``invalid="nan"``).
INVALID = -1

#: Who makes a revisionist demand in equilibrium, indexed by code.
WHO: tuple[str, ...] = ("none", "A", "O")
NOBODY, A_REVISES, O_REVISES = range(3)

#: Order of the regions along k (used by the ordering property and the plots): A revises,
#: S cannot afford restraint, restraint, no alliance needed, deterrence, S cannot afford it.
K_ORDER: tuple[tuple[int, int], ...] = (
    (REVISION, A_REVISES),
    (NO_OFFER, A_REVISES),
    (RESTRAINT, NOBODY),
    (NO_ALLIANCE, NOBODY),
    (DETERRENCE, NOBODY),
    (NO_OFFER, O_REVISES),
)


def _label(codes: Any, names: tuple[str, ...], invalid: str = "invalid") -> Any:
    """Map integer codes (scalar or array) to names."""
    if np.ndim(codes) == 0:
        c = int(codes)
        return names[c] if 0 <= c < len(names) else invalid
    table = np.array([*names, invalid], dtype=object)
    arr = np.asarray(codes, dtype=int)
    return table[np.where(arr < 0, len(names), arr)]


@dataclass
class Equilibrium:
    """A subgame-perfect equilibrium of the burden-sharing game (or an array of them).

    Every numeric field is a float for a scalar parameter point and an array of the
    broadcast parameter shape otherwise; points outside the domain (``invalid="nan"``) hold
    NaN and region code -1.

    Fields: ``region_code`` / ``region`` (one of :data:`REGIONS`), ``who_code`` /
    ``who_revises`` ("none", "A" or "O"), ``s`` (S's committed forces), ``m_A`` (A's arms),
    ``burden_share`` (s / (s + m_A), 0 when S commits nothing), payoffs of A, O and S, the
    offers S would need against A's revision (``s_R``, NaN below k1 where none suffices)
    and against O's revision (``s_D``, 0 where none is needed), A's values ``V_R`` (revise
    alone, arms ``m_R``) and ``V_S0`` (let O revise without an alliance, arms ``m_S0``), the
    thresholds ``D_O``, ``D_A`` and the cut-offs ``k_hat``, ``k1``, ``k2``, ``k3`` (NaN when a
    solver does not compute them), ``vr_floor_binds`` (True where O's war value is floored at
    0 at A's revising optimum, the one place GAME.md's printed V_R formula is not the game's
    value; see docs/game.md), ``valid`` and the solver's name and model options.
    """

    params: dict[str, Any]
    region_code: Any
    who_code: Any
    s: Any
    m_A: Any
    burden_share: Any
    payoff_A: Any
    payoff_O: Any
    payoff_S: Any
    s_R: Any
    s_D: Any
    V_R: Any
    m_R: Any
    V_S0: Any
    m_S0: Any
    D_O: Any
    D_A: Any
    k_hat: Any
    k1: Any
    k2: Any
    k3: Any
    vr_floor_binds: Any
    valid: Any
    solver: str = "closed_form"
    model: dict[str, Any] = field(default_factory=dict)

    @property
    def region(self) -> Any:
        """Region name(s): revision, restraint, no_alliance, deterrence or no_offer."""
        return _label(self.region_code, REGIONS)

    @property
    def who_revises(self) -> Any:
        """Who makes a revisionist demand: "none", "A" or "O"."""
        return _label(self.who_code, WHO)

    @property
    def shape(self) -> tuple[int, ...]:
        """Broadcast shape of the parameter point(s); () for a single point."""
        return np.shape(self.region_code)

    @property
    def payoffs(self) -> dict[str, Any]:
        """Payoffs as a dict {A, O, S}."""
        return {"A": self.payoff_A, "O": self.payoff_O, "S": self.payoff_S}

    _SKIP = ("params", "solver", "model")

    def to_dict(self) -> dict[str, Any]:
        """Flat dict of a scalar equilibrium (parameters, results, model options)."""
        if self.shape != ():
            raise ValueError("to_dict() needs a scalar equilibrium; use to_frame() for arrays")
        out: dict[str, Any] = {k: float(v) for k, v in self.params.items()}
        out["region"] = self.region
        out["who_revises"] = self.who_revises
        for f in fields(self):
            if f.name in self._SKIP or f.name in ("region_code", "who_code"):
                continue
            v = getattr(self, f.name)
            out[f.name] = bool(v) if isinstance(v, bool | np.bool_) else float(v)
        out["solver"] = self.solver
        out.update({f"model.{k}": v for k, v in self.model.items()})
        return out

    def to_frame(self) -> pd.DataFrame:
        """One row per parameter point (flattened in C order)."""
        n = int(np.prod(self.shape)) if self.shape else 1
        cols: dict[str, Any] = {}
        for k, v in self.params.items():
            cols[k] = np.broadcast_to(np.asarray(v, dtype=float), self.shape).ravel()
        cols["region"] = np.asarray(self.region, dtype=object).reshape(n)
        cols["who_revises"] = np.asarray(self.who_revises, dtype=object).reshape(n)
        for f in fields(self):
            if f.name in self._SKIP or f.name in ("region_code", "who_code"):
                continue
            cols[f.name] = np.broadcast_to(np.asarray(getattr(self, f.name)), self.shape).ravel()
        return pd.DataFrame(cols)

    def summary(self) -> str:
        """Human-readable description of a scalar equilibrium."""
        d = self.to_dict()
        p = ", ".join(f"{k}={v:g}" for k, v in self.params.items())
        lines = [f"Equilibrium ({self.solver}) at {p}"]
        if self.model:
            lines.append("  model: " + ", ".join(f"{k}={v}" for k, v in self.model.items()))
        lines += [
            f"  region        {d['region']}   (who revises: {d['who_revises']})",
            f"  S's forces s  {d['s']:.6g}",
            f"  A's arms m_A  {d['m_A']:.6g}",
            f"  S's share     {d['burden_share']:.6g}",
            f"  payoffs       A {d['payoff_A']:.6g}   O {d['payoff_O']:.6g}"
            f"   S {d['payoff_S']:.6g}",
            f"  thresholds    D_O {d['D_O']:.6g}   D_A {d['D_A']:.6g}",
            f"  cut-offs      k_hat {d['k_hat']:.6g}   k1 {d['k1']:.6g}   k2 {d['k2']:.6g}"
            f"   k3 {d['k3']:.6g}",
            f"  A's options   revise {d['V_R']:.6g} (arms {d['m_R']:.6g}); let O revise "
            f"{d['V_S0']:.6g} (arms {d['m_S0']:.6g}); needed offers s_R {d['s_R']:.6g}, "
            f"s_D {d['s_D']:.6g}",
        ]
        if self.model.get("restrain_and_deter"):
            lines.append(
                "  note: here the alliance must restrain A and deter O at once: GAME.md's "
                "claim 1 fails (possible with r > 1, never in the base model; docs/game.md)"
            )
        if d["vr_floor_binds"]:
            lines.append(
                "  note: O's war value is floored at 0 at A's revising optimum; V_R is the "
                "game's value, not GAME.md's printed formula (docs/game.md)"
            )
        return "\n".join(lines)


def scalarise(arrays: dict[str, np.ndarray]) -> dict[str, Any]:
    """Turn 0-d arrays into Python scalars (bool, int or float); keep other arrays."""
    out: dict[str, Any] = {}
    for k, v in arrays.items():
        a = np.asarray(v)
        if a.ndim == 0:
            if a.dtype == bool:
                out[k] = bool(a)
            elif np.issubdtype(a.dtype, np.integer):
                out[k] = int(a)
            else:
                out[k] = float(a)
        else:
            out[k] = a
    return out
