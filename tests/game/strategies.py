"""Hypothesis strategies and brute-force references for the game tests.

The brute-force values maximise A's payoff over a dense grid of its arms, written from the
verbal rules of GAME.md (crisis bargaining with floored war values), so they check the
closed form's case analysis (clamping, branch choice) rather than repeat it.
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from restraint.game import cutoffs


@st.composite
def game_params(draw: st.DrawFn) -> dict[str, float]:
    """A random valid parameter point (without k)."""
    q = draw(st.floats(0.03, 0.97))
    c_O = q * draw(st.floats(0.02, 0.98))
    c_A = (1 - q) * draw(st.floats(0.02, 0.98))
    m_O = draw(st.floats(0.1, 10.0))
    k_S = draw(st.floats(0.01, 10.0))
    W = draw(st.floats(0.01, 10.0))
    return {"q": q, "c_A": c_A, "c_O": c_O, "m_O": m_O, "k_S": k_S, "W": W}


def k_between(p: dict[str, float], u: float) -> float:
    """Map u in [0, 1] to k log-uniformly in [k1/4, 4 k3] for the point p."""
    c = cutoffs(p["q"], p["c_A"], p["c_O"], p["m_O"])
    lo, hi = np.log(c.k1 / 4), np.log(4 * c.k3)
    return float(np.exp(lo + u * (hi - lo)))


def p_win(x: np.ndarray, m_O: float) -> np.ndarray:
    """Contest success function of the base model."""
    return x / (x + m_O)


def grid_max(f, lo: float, hi: float, extra: list[float], n: int) -> float:
    """Max of f over a dense grid on [lo, hi] plus extra points, then a zoomed second grid."""
    m = np.unique(
        np.concatenate([np.linspace(lo, hi, n), np.geomspace(max(lo, 1e-12), hi, n), extra])
    )
    v = f(m)
    i = int(np.argmax(v))
    a, b = m[max(i - 2, 0)], m[min(i + 2, len(m) - 1)]
    m2 = np.linspace(a, b, n)
    return float(max(v[i], np.max(f(m2))))


def bf_revise(k: float, q: float, c_A: float, c_O: float, m_O: float, n: int = 40_001) -> float:
    """A's best payoff from revising: dense grid over arms that make A a revisionist."""
    d_a = m_O * (q + c_A) / (1 - q - c_A)

    def f(m: np.ndarray) -> np.ndarray:
        # A revises iff p(m) - c_A > q; it then keeps all but O's floored war value.
        p = p_win(m, m_O)
        val = 1 - np.maximum(0.0, 1 - p - c_O) - k * m
        return np.where(p - c_A > q, val, -np.inf)

    # The revising set is open at D_A: its supremum is approached just above it.
    return grid_max(f, 0.0, 2.0 / k + 10 * m_O, [d_a * (1 + 1e-12)], n)


def bf_submit(
    k: float, s: float, q: float, c_A: float, c_O: float, m_O: float, n: int = 40_001
) -> float:
    """A's best payoff letting O revise, given alliance forces s: dense grid."""
    d_o = m_O * (q - c_O) / (1 - q + c_O)
    top = d_o - s
    if top <= 0:
        return -np.inf

    def f(m: np.ndarray) -> np.ndarray:
        p = p_win(m + s, m_O)
        val = np.maximum(0.0, p - c_A) - k * m
        return np.where(1 - p - c_O > 1 - q, val, -np.inf)

    return grid_max(f, 0.0, top * (1 - 1e-12), [0.0], n)
