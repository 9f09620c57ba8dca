"""Parameters of the burden-sharing game: defaults, validation and the two thresholds.

All functions broadcast over numpy arrays. Validation either raises
:class:`GameParameterError` naming the parameter, the offending value and the rule it
breaks, or (``invalid="nan"``) returns a mask of the valid points so that maps can grey
out the part of a parameter plane where the model is not defined.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

import numpy as np

from restraint.errors import RestraintError

#: Order and names of the base-model parameters.
PARAM_NAMES: tuple[str, ...] = ("k", "q", "c_A", "c_O", "m_O", "k_S", "W")

#: The worked example of GAME.md (k varies; 0.2 is its restraint point).
WORKED_EXAMPLE: dict[str, float] = {
    "k": 0.2,
    "q": 0.5,
    "c_A": 0.1,
    "c_O": 0.1,
    "m_O": 1.0,
    "k_S": 0.3,
    "W": 0.3,
}

#: Plain-language meaning of each parameter (CLI help, tables, docs).
PARAM_HELP: dict[str, str] = {
    "k": "A's cost per unit of arms",
    "q": "A's status-quo share of the good (O holds 1 - q)",
    "c_A": "A's cost of war",
    "c_O": "O's cost of war",
    "m_O": "O's forces",
    "k_S": "S's cost per unit of forces",
    "W": "S's value of the status quo",
}

InvalidPolicy = Literal["raise", "nan"]


class GameParameterError(RestraintError, ValueError):
    """A game parameter is outside the domain on which the model is defined."""


def _describe(name: str, arr: np.ndarray, bad: np.ndarray) -> str:
    """Name the first offending value and how many there are."""
    idx = np.argwhere(bad)[0]
    value = float(arr[tuple(idx)]) if arr.ndim else float(arr)
    where = "" if arr.ndim == 0 else f" at index {tuple(int(i) for i in idx)}"
    count = int(bad.sum())
    more = f" ({count} offending values)" if count > 1 else ""
    return f"{name} = {value!r}{where}{more}"


def broadcast_params(**params: object) -> dict[str, np.ndarray]:
    """Convert every parameter to a float array and broadcast them to one shape."""
    arrays = {}
    for name, value in params.items():
        try:
            arrays[name] = np.asarray(value, dtype=float)
        except (TypeError, ValueError) as exc:
            raise GameParameterError(
                f"{name} must be a number or an array of numbers, got {value!r}"
            ) from exc
    shapes = [a.shape for a in arrays.values()]
    try:
        shape = np.broadcast_shapes(*shapes)
    except ValueError as exc:
        desc = ", ".join(f"{n}{a.shape}" for n, a in arrays.items() if a.ndim)
        raise GameParameterError(f"parameter arrays do not broadcast together: {desc}") from exc
    return {n: np.broadcast_to(a, shape) for n, a in arrays.items()}


def validate(p: Mapping[str, np.ndarray], invalid: InvalidPolicy = "raise") -> np.ndarray:
    """Check the model's domain; return the boolean mask of valid points.

    Rules (GAME.md): every parameter finite; k, m_O, k_S, W, c_A, c_O > 0; 0 < q < 1 and
    c_O < q < 1 - c_A (O prefers the status quo to war against an unarmed A, and A cannot
    profit from war without arms). With ``invalid="raise"`` the first broken rule raises
    :class:`GameParameterError` naming the parameter and the value.
    """
    if invalid not in ("raise", "nan"):
        raise GameParameterError(f"invalid must be 'raise' or 'nan', got {invalid!r}")
    shape = next(iter(p.values())).shape if p else ()
    ok = np.ones(shape, dtype=bool)
    rules: list[tuple[str, np.ndarray, np.ndarray, str]] = []
    for name, arr in p.items():
        rules.append((name, arr, ~np.isfinite(arr), "must be a finite number"))
    for name in ("k", "m_O", "k_S", "W", "c_A", "c_O"):
        if name in p:
            arr = p[name]
            rules.append((name, arr, np.isfinite(arr) & ~(arr > 0), "must be > 0"))
    if "q" in p:
        q = p["q"]
        rules.append(("q", q, np.isfinite(q) & ~((q > 0) & (q < 1)), "must lie in (0, 1)"))
        if "c_O" in p:
            c_O = p["c_O"]
            bad = np.isfinite(q) & np.isfinite(c_O) & ~(c_O < q)
            rules.append(
                ("c_O", c_O, bad, "must be < q (O must not profit from war against an unarmed A)")
            )
        if "c_A" in p:
            c_A = p["c_A"]
            bad = np.isfinite(q) & np.isfinite(c_A) & ~(q < 1 - c_A)
            rules.append(("c_A", c_A, bad, "must be < 1 - q (A must not profit from war unarmed)"))
    for name, arr, bad, rule in rules:
        if bad.any():
            if invalid == "raise":
                extra = ""
                if name in ("c_O", "c_A") and "q" in p and "must be <" in rule:
                    qv = p["q"][tuple(np.argwhere(bad)[0])] if bad.ndim else p["q"]
                    extra = f" (q = {float(qv)!r})"
                raise GameParameterError(f"{_describe(name, arr, bad)}{extra}: {rule}")
            ok &= ~bad
    return ok


def thresholds(
    q: np.ndarray, c_A: np.ndarray, c_O: np.ndarray, m_O: np.ndarray, r: float = 1.0
) -> tuple[np.ndarray, np.ndarray]:
    """The deterrence thresholds (D_O, D_A) for a Tullock contest with exponent r.

    O is deterred iff the forces defending A reach D_O; A becomes a revisionist iff its own
    arms exceed D_A. With r = 1 these are GAME.md's m_O(q - c_O)/(1 - q + c_O) and
    m_O(q + c_A)/(1 - q - c_A).
    """
    d_o = m_O * ((q - c_O) / (1 - q + c_O)) ** (1.0 / r)
    d_a = m_O * ((q + c_A) / (1 - q - c_A)) ** (1.0 / r)
    return d_o, d_a
