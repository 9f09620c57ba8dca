"""Closed-form solution of the base model (docs/game.md, GAME.md).

Everything here is vectorised: parameters are numpy arrays that broadcast together, and a
400 x 400 map is a handful of elementwise operations.

Notation: p(x) = x / (x + m_O) is the defender's (or attacker's) probability of winning with
forces x against O's m_O. A revising alone with arms m gets min(1, p(m) + c_O) - k m (it
demands everything but O's war value 1 - p(m) - c_O, floored at 0); letting O revise with
arms m and alliance forces s it gets max(0, p(m + s) - c_A) - k m; keeping the status quo
it gets q - k m with m + s >= D_O.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import optimize

from restraint.game.equilibrium import (
    A_REVISES,
    DETERRENCE,
    INVALID,
    NO_ALLIANCE,
    NO_OFFER,
    NOBODY,
    O_REVISES,
    RESTRAINT,
    REVISION,
    Equilibrium,
    scalarise,
)
from restraint.game.params import (
    WORKED_EXAMPLE,
    InvalidPolicy,
    broadcast_params,
    thresholds,
    validate,
)

_W = WORKED_EXAMPLE
_RTOL = 1e-12


def value_revise(
    k: Any, q: Any = _W["q"], c_A: Any = _W["c_A"], c_O: Any = _W["c_O"], m_O: Any = _W["m_O"]
) -> tuple[np.ndarray, np.ndarray]:
    """A's best value from arming and revising alone, V_R(k), and the arms that attain it.

    A maximises min(1, m/(m + m_O) + c_O) - k m over m > D_A. The objective is concave, so
    the optimum is the unconstrained one clamped at D_A; the unconstrained one is the
    stationary point sqrt(m_O/k) - m_O unless O's war value is already floored at 0 there,
    in which case it is the kink m_O(1 - c_O)/c_O. Where the floor does not bind this is
    GAME.md's V_R = (1 - sqrt(k m_O))^2 + c_O (k <= k_hat), q + c_A + c_O - k D_A (k > k_hat).
    (At m = D_A exactly A is still indifferent; the value is the supremum, as in GAME.md.)
    """
    k, q, c_A, c_O, m_O = (np.asarray(x, dtype=float) for x in (k, q, c_A, c_O, m_O))
    _, d_a = thresholds(q, c_A, c_O, m_O)
    m_int = np.sqrt(m_O / k) - m_O
    m_kink = m_O * (1 - c_O) / c_O
    m_r = np.maximum(np.minimum(m_int, m_kink), d_a)
    v_r = np.minimum(1.0, m_r / (m_r + m_O) + c_O) - k * m_r
    return v_r, m_r


def value_submit(
    k: Any,
    s: Any = 0.0,
    q: Any = _W["q"],
    c_A: Any = _W["c_A"],
    c_O: Any = _W["c_O"],
    m_O: Any = _W["m_O"],
) -> tuple[np.ndarray, np.ndarray]:
    """A's best value from letting O revise, V_S(k, s), and A's arms there.

    V_S = sup over 0 <= m < D_O - s of max(0, (m+s)/(m+s+m_O) - c_A) - k m. On the set
    where the war value is positive the objective is concave with stationary point
    m* = sqrt(m_O/k) - m_O - s, so the supremum is max(0, value at clamp(m*, 0, D_O - s));
    when the value is 0 A arms nothing. At the bound D_O - s the supremum is not attained
    (O is deterred there) but is then dominated by deterring, which costs the same and
    keeps q. NaN where s >= D_O (A cannot let O revise any more).
    """
    k, s, q, c_A, c_O, m_O = (np.asarray(x, dtype=float) for x in (k, s, q, c_A, c_O, m_O))
    d_o, _ = thresholds(q, c_A, c_O, m_O)
    room = d_o - s
    m_c = np.clip(np.sqrt(m_O / k) - m_O - s, 0.0, np.maximum(room, 0.0))
    h = (s + m_c) / (s + m_c + m_O) - c_A - k * m_c
    v_s = np.where(room > 0, np.maximum(h, 0.0), np.nan)
    m_s = np.where(room > 0, np.where(h > 0, m_c, 0.0), np.nan)
    return v_s, m_s


def _cutoff_arrays(q: np.ndarray, c_A: np.ndarray, c_O: np.ndarray, m_O: np.ndarray) -> dict:
    """Closed forms of D_O, D_A, k_hat, k1, k2, k3 (see docs/game.md for the derivations)."""
    d_o, d_a = thresholds(q, c_A, c_O, m_O)
    k_hat = (1 - q - c_A) ** 2 / m_O
    # The revising value at the corner D_A: A takes everything but O's floored war value.
    share_corner = np.minimum(1.0, q + c_A + c_O)
    # k1: V_R(k) = q. V_R is continuous and falling; pick the branch by its value at the
    # branch ends (interior branch exists only when the floor kink lies beyond D_A).
    interior_possible = c_O < 1 - q - c_A
    k1_corner = (share_corner - q) / d_a
    k1_interior = (1 - np.sqrt(q - c_O)) ** 2 / m_O
    k1_kink = c_O * (1 - q) / (m_O * (1 - c_O))
    v_at_khat = (q + c_A) ** 2 + c_O
    v_at_kink = 1 - c_O + c_O**2
    k1 = np.where(
        ~interior_possible | (v_at_khat > q),
        k1_corner,
        np.where(v_at_kink > q, k1_interior, k1_kink),
    )
    # k2: V_R(k) = q - k D_O. On the interior branch V_R - q + k D_O is a perfect square in
    # sqrt(k) touching 0 only at k = (1-q+c_O)^2/m_O > k_hat, so k2 is always on the corner.
    k2 = (share_corner - q) / (d_a - d_o)
    # k3: q - k D_O = V_S(k, 0). V_S(k, 0) > 0 only when A's interior arming pays, i.e.
    # sqrt(k m_O) < 1 - sqrt(c_A); if it does not at k = q / D_O, then k3 = q / D_O.
    k_q = q / d_o
    interior_pays = np.sqrt(k_q * m_O) < 1 - np.sqrt(c_A)
    a = 1 - q + c_O
    k3_interior = (a + np.sqrt((c_A + c_O) * a)) ** 2 / m_O
    k3 = np.where(interior_pays, k3_interior, k_q)
    return {"D_O": d_o, "D_A": d_a, "k_hat": k_hat, "k1": k1, "k2": k2, "k3": k3}


def _offer_deterrence(
    k: np.ndarray, q: np.ndarray, c_A: np.ndarray, d_o: np.ndarray, m_O: np.ndarray
) -> np.ndarray:
    """Least s with q - k(D_O - s) >= V_S(k, s) (the deterrence offer s_D, 0 if none needed).

    L(s) = q - k(D_O - s) minus V_S(k, s) is non-decreasing in s (flat while A's own interior
    arms absorb s one for one), so the set of acceptable s is [s_D, D_O]. s_D is the larger of
    D_O - q/k (where L reaches the floor 0 of V_S) and the upper root of L(s) = s/(s+m_O) - c_A,
    the latter needed only when A's interior arming beats deterring, i.e. the quadratic
    k s^2 + (q + c_A - k D_O + k m_O - 1) s + (q + c_A - k D_O) m_O has real roots and the
    interior optimum sqrt(m_O/k) - m_O lies below D_O.
    """
    s0 = d_o - q / k
    x_star = np.sqrt(m_O / k) - m_O
    b = q + c_A - k * d_o + k * m_O - 1
    c = (q + c_A - k * d_o) * m_O
    disc = b * b - 4 * k * c
    s_hi = (-b + np.sqrt(np.maximum(disc, 0.0))) / (2 * k)
    s1 = np.where((disc > 0) & (x_star <= d_o), s_hi, 0.0)
    return np.clip(np.maximum(s0, s1), 0.0, d_o)


def solve(
    k: Any,
    q: Any = _W["q"],
    c_A: Any = _W["c_A"],
    c_O: Any = _W["c_O"],
    m_O: Any = _W["m_O"],
    k_S: Any = _W["k_S"],
    W: Any = _W["W"],
    *,
    invalid: InvalidPolicy = "raise",
) -> Equilibrium:
    """Closed-form subgame-perfect equilibrium of the base model (vectorised).

    Parameters broadcast together (defaults: GAME.md's worked example). With
    ``invalid="raise"`` a parameter outside the domain raises
    :class:`~restraint.game.params.GameParameterError`; with ``invalid="nan"`` such points
    get region code -1 ("invalid") and NaN.

    Regions: k < k1 revision; k1 <= k < k2 restraint (S offers s_R = D_O - (q - V_R)/k);
    k2 <= k <= k3 no alliance (A deters alone); k > k3 deterrence (S offers s_D); an offer
    with k_S s > W is not made (region "no_offer", the no-alliance outcome stands).
    """
    p = broadcast_params(k=k, q=q, c_A=c_A, c_O=c_O, m_O=m_O, k_S=k_S, W=W)
    ok = validate(p, invalid)
    if not ok.all():
        # Compute on harmless stand-in values, then blank the invalid points.
        p_calc = {n: np.where(ok, a, WORKED_EXAMPLE[n]) for n, a in p.items()}
    else:
        p_calc = p
    k, q, c_A, c_O, m_O, k_S, W = (p_calc[n] for n in ("k", "q", "c_A", "c_O", "m_O", "k_S", "W"))

    cut = _cutoff_arrays(q, c_A, c_O, m_O)
    d_o, d_a = cut["D_O"], cut["D_A"]
    v_r, m_r = value_revise(k, q, c_A, c_O, m_O)
    v_s0, m_s0 = value_submit(k, 0.0, q, c_A, c_O, m_O)
    m_lit = np.maximum(np.sqrt(m_O / k) - m_O, d_a)
    floor_binds = m_lit / (m_lit + m_O) + c_O > 1

    # Compare with the cut-offs up to a relative 1e-12 so that k typed as a cut-off's value
    # lands in the region GAME.md assigns to the cut-off despite rounding in its formula.
    below_k1 = k < cut["k1"] * (1 - _RTOL)
    restrain = ~below_k1 & (k < cut["k2"] * (1 - _RTOL))
    deter = k > cut["k3"] * (1 + _RTOL)
    s_r = np.where(below_k1, np.nan, np.where(restrain, np.clip(d_o - (q - v_r) / k, 0, d_o), 0.0))
    s_d = np.where(deter, _offer_deterrence(k, q, c_A, d_o, m_O), 0.0)

    s_need = np.where(restrain, s_r, np.where(deter, s_d, 0.0))
    # An offer of zero forces is no alliance (the cut-offs themselves belong there).
    restrain &= s_need > 0
    deter &= s_need > 0
    s_need = np.where(restrain | deter, s_need, 0.0)
    affordable = k_S * s_need <= W
    region = np.full(k.shape, NO_ALLIANCE, dtype=np.int8)
    region[below_k1] = REVISION
    region[restrain] = RESTRAINT
    region[deter] = DETERRENCE
    region[(restrain | deter) & ~affordable] = NO_OFFER
    a_rev = (region == REVISION) | ((region == NO_OFFER) & restrain)
    o_rev = (region == NO_OFFER) & deter
    sq = ~(a_rev | o_rev)
    who = np.where(a_rev, A_REVISES, np.where(o_rev, O_REVISES, NOBODY)).astype(np.int8)

    s = np.where(sq, s_need, 0.0)
    m_a = np.where(sq, d_o - s, np.where(a_rev, m_r, m_s0))
    share = np.where(s > 0, s / np.where(s > 0, s + m_a, 1.0), 0.0)
    pay_a = np.where(sq, q - k * m_a, np.where(a_rev, v_r, v_s0))
    o_after_a = np.maximum(0.0, 1 - m_r / (m_r + m_O) - c_O)
    o_after_o = 1 - np.maximum(0.0, m_s0 / (m_s0 + m_O) - c_A)
    pay_o = np.where(sq, 1 - q, np.where(a_rev, o_after_a, o_after_o))
    pay_s = np.where(sq, W - k_S * s, 0.0)

    out = {
        "s": s,
        "m_A": m_a,
        "burden_share": share,
        "payoff_A": pay_a,
        "payoff_O": pay_o,
        "payoff_S": pay_s,
        "s_R": s_r,
        "s_D": s_d,
        "V_R": v_r,
        "m_R": m_r,
        "V_S0": v_s0,
        "m_S0": m_s0,
        **cut,
    }
    if not ok.all():
        out = {n: np.where(ok, a, np.nan) for n, a in out.items()}
        region = np.where(ok, region, INVALID).astype(np.int8)
        who = np.where(ok, who, INVALID).astype(np.int8)
    arrays = {
        **out,
        "region_code": region,
        "who_code": who,
        "vr_floor_binds": floor_binds & ok,
        "valid": ok,
    }
    return Equilibrium(params=scalarise(p), solver="closed_form", **scalarise(arrays))


@dataclass
class Cutoffs:
    """Thresholds and cut-offs in k (floats, or arrays for array parameters)."""

    D_O: Any
    D_A: Any
    k_hat: Any
    k1: Any
    k2: Any
    k3: Any
    params: dict[str, Any]
    method: str = "closed"

    def as_dict(self) -> dict[str, Any]:
        """{name: value} for the six quantities."""
        return {n: getattr(self, n) for n in ("D_O", "D_A", "k_hat", "k1", "k2", "k3")}


def cutoffs(
    q: Any = _W["q"],
    c_A: Any = _W["c_A"],
    c_O: Any = _W["c_O"],
    m_O: Any = _W["m_O"],
    *,
    method: Literal["closed", "brentq"] = "closed",
) -> Cutoffs:
    """D_O, D_A, k_hat and the cut-offs k1 < k2 < k3 (vectorised).

    ``method="closed"`` uses the closed forms; ``method="brentq"`` solves the defining
    equations V_R(k) = q, V_R(k) = q - k D_O and q - k D_O = V_S(k, 0) with a bracketing
    root finder point by point (slower; an independent check of the closed forms).
    """
    p = broadcast_params(q=q, c_A=c_A, c_O=c_O, m_O=m_O)
    validate(p, "raise")
    q, c_A, c_O, m_O = (p[n] for n in ("q", "c_A", "c_O", "m_O"))
    cut = _cutoff_arrays(q, c_A, c_O, m_O)
    if method == "brentq":
        k1 = np.empty(q.shape)
        k2 = np.empty(q.shape)
        k3 = np.empty(q.shape)
        for idx in np.ndindex(q.shape):
            args = (q[idx], c_A[idx], c_O[idx], m_O[idx])
            k1[idx], k2[idx], k3[idx] = _cutoffs_brentq(*args)
        cut.update(k1=k1, k2=k2, k3=k3)
    elif method != "closed":
        raise ValueError(f"method must be 'closed' or 'brentq', got {method!r}")
    return Cutoffs(**scalarise(cut), params=scalarise(p), method=method)


def _cutoffs_brentq(q: float, c_A: float, c_O: float, m_O: float) -> tuple[float, float, float]:
    """Cut-offs by bracketing root-finding on the defining equations (scalar)."""
    d_o, d_a = (float(x) for x in thresholds(q, c_A, c_O, m_O))

    def vr(k: float) -> float:
        return float(value_revise(k, q, c_A, c_O, m_O)[0])

    def vs0(k: float) -> float:
        return float(value_submit(k, 0.0, q, c_A, c_O, m_O)[0])

    lo = 1e-12 / m_O
    # V_R <= 1 - k D_A, so these upper ends make the functions negative.
    k1 = optimize.brentq(lambda k: vr(k) - q, lo, 2 * (1 - q) / d_a, xtol=1e-15, rtol=1e-13)
    k2 = optimize.brentq(
        lambda k: vr(k) - q + k * d_o, lo, 2 * (1 - q) / (d_a - d_o), xtol=1e-15, rtol=1e-13
    )
    k_q = q / d_o
    # At k = q/D_O the deterrence value is 0 <= V_S; when V_S is 0 there (rounding aside),
    # that end is the root.
    if q - k_q * d_o - vs0(k_q) >= -1e-15:
        k3 = k_q
    else:
        k3 = optimize.brentq(lambda k: q - k * d_o - vs0(k), lo, k_q, xtol=1e-15, rtol=1e-13)
    return k1, k2, k3


def cutoff_table(
    q: Any = _W["q"], c_A: Any = _W["c_A"], c_O: Any = _W["c_O"], m_O: Any = _W["m_O"]
) -> pd.DataFrame:
    """The thresholds and cut-offs for one parameter point, with formulas and a check.

    Columns: quantity, formula, value (closed form), brentq (root-finding on the defining
    equation; equal to the closed form up to rounding) and meaning.
    """
    closed = cutoffs(q, c_A, c_O, m_O).as_dict()
    num = cutoffs(q, c_A, c_O, m_O, method="brentq").as_dict()
    rows = [
        ("D_O", "m_O(q - c_O)/(1 - q + c_O)", "forces that deter O"),
        ("D_A", "m_O(q + c_A)/(1 - q - c_A)", "A's arms above which A revises"),
        ("k_hat", "(1 - q - c_A)^2/m_O", "above it A's revising arms sit at D_A"),
        ("k1", "V_R(k) = q", "below it A revises whatever S offers"),
        ("k2", "V_R(k) = q - k D_O", "restraint region ends; A deters alone"),
        ("k3", "q - k D_O = V_S(k, 0)", "above it S must deter for A"),
    ]
    return pd.DataFrame(
        [
            {
                "quantity": n,
                "formula": f,
                "value": float(closed[n]),
                "brentq": float(num[n]),
                "meaning": m,
            }
            for n, f, m in rows
        ]
    )


def to_markdown(df: pd.DataFrame, floatfmt: str = ".6g") -> str:
    """A GitHub-flavoured Markdown table (no tabulate dependency)."""

    def fmt(v: Any) -> str:
        if isinstance(v, float | np.floating):
            return format(float(v), floatfmt)
        return str(v).replace("|", "\\|")

    header = "| " + " | ".join(str(c) for c in df.columns) + " |"
    align = (
        "| "
        + " | ".join("---:" if pd.api.types.is_numeric_dtype(df[c]) else "---" for c in df.columns)
        + " |"
    )
    body = ["| " + " | ".join(fmt(v) for v in row) + " |" for row in df.itertuples(index=False)]
    return "\n".join([header, align, *body])
