"""Numerical backward induction: the base model and its generalisations.

This solver shares no formula with :mod:`restraint.game.closed_form`. It only knows the
stage-4 crisis rule (who demands what, given forces) and the contest function, and works
backwards:

* thresholds: the forces at which O is deterred and at which A turns revisionist are found
  by bracketing root-finding on the contest function (``brentq``);
* stage 3, A's arms: A's payoff is maximised separately on each piece of its arms on which
  the crisis outcome is the same (A revises, the status quo holds, O revises), by a grid
  followed by a bounded Brent refinement of the best grid cell; A picks the best piece,
  preferring the status quo on ties (as GAME.md's k1 <= k does);
* stage 2, acceptance: A accepts an offer iff its best payoff with the alliance is at least
  its best payoff without;
* stage 1, S's offer: S offers the least commitment that makes A keep the status quo,
  found by a grid over the commitment followed by ``brentq`` on A's margin for the status
  quo, and only if k_S s <= W.

Generalisations (docs/game.md states each modelling choice):

* ``r``: Tullock contest, A's (defensive) chance (m_A + s)^r / ((m_A + s)^r + m_O^r) and
  offensive chance m_A^r / (m_A^r + m_O^r); r = 1 is the base model.
* ``k_O``: O chooses its forces m_O >= 0 at a cost k_O per unit *before* S's offer (stage 0),
  anticipating the rest of the game; its payoff is its share minus k_O m_O.
* ``offer="share"``: S offers to carry a share sigma in [0, 1] of a fixed total T of forces
  committed to A's defence (default T = D_O, the total that deters O); by accepting, A
  undertakes to provide the rest, (1 - sigma) T, itself (its arms cannot fall below that;
  it may arm more). Without that obligation a share offer would just be a force offer
  s = sigma T.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from scipy import optimize

from restraint.errors import EstimationError
from restraint.game.equilibrium import (
    A_REVISES,
    DETERRENCE,
    NO_ALLIANCE,
    NO_OFFER,
    NOBODY,
    O_REVISES,
    RESTRAINT,
    REVISION,
    Equilibrium,
)
from restraint.game.params import (
    WORKED_EXAMPLE,
    GameParameterError,
    broadcast_params,
    validate,
)

_W = WORKED_EXAMPLE
_TIE = 1e-12  # payoff differences below this count as ties (resolved for the status quo)
_NEG = -np.inf


@dataclass
class _Choice:
    """A's best arms on one piece of its arms, with the payoff and the crisis outcome."""

    value: float
    m: float
    who: int


class _Game:
    """One parameter point: contest, crisis rule, A's best response, S's offer."""

    def __init__(
        self,
        k: float,
        q: float,
        c_A: float,
        c_O: float,
        m_O: float,
        k_S: float,
        W: float,
        r: float,
        n_grid: int,
        n_offer: int,
    ) -> None:
        self.k, self.q, self.c_A, self.c_O, self.m_O = k, q, c_A, c_O, m_O
        self.k_S, self.W, self.r = k_S, W, r
        self.n_grid, self.n_offer = n_grid, n_offer
        self._mr = m_O**r
        # Threshold forces from the contest function alone.
        self.M_O = self._inverse(q - c_O)  # total defending forces that deter O
        self.b_A = self._inverse(q + c_A)  # A's arms beyond which A revises
        self._revise_cache: _Choice | None = None

    # -- contest and crisis ------------------------------------------------------------
    def p(self, x: np.ndarray) -> np.ndarray:
        """Probability that forces x beat O's m_O."""
        x = np.maximum(x, 0.0)
        if self.r == 1.0:
            return x / (x + self.m_O)
        xr = x**self.r
        return xr / (xr + self._mr)

    def _inverse(self, target: float) -> float:
        """Forces x with p(x) = target, by bracketing root-finding (p is increasing)."""
        hi = self.m_O
        while float(self.p(np.array(hi))) < target:
            hi *= 2.0
        return optimize.brentq(
            lambda x: float(self.p(np.array(x))) - target, 0.0, hi, xtol=1e-15, rtol=1e-15
        )

    def crisis(self, m: np.ndarray, s: float) -> tuple[np.ndarray, np.ndarray]:
        """Stage 4 for A's arms m and alliance forces s: (who revises, A's share).

        A revises iff its war value (offensive chance minus c_A) exceeds q; O revises iff its
        war value (1 minus A's defensive chance minus c_O) exceeds 1 - q. The revisionist
        takes everything but the other's war value, floored at 0.
        """
        p_off = self.p(m)
        p_def = self.p(m + s)
        a_rev = p_off - self.c_A > self.q
        o_rev = ~a_rev & (1 - p_def - self.c_O > 1 - self.q)
        share = np.where(
            a_rev,
            1 - np.maximum(0.0, 1 - p_off - self.c_O),
            np.where(o_rev, np.maximum(0.0, p_def - self.c_A), self.q),
        )
        who = np.where(a_rev, A_REVISES, np.where(o_rev, O_REVISES, NOBODY))
        return who, share

    def p1(self, x: float) -> float:
        """Scalar p (the refinement steps call it thousands of times; numpy is slow there)."""
        x = max(x, 0.0)
        if self.r == 1.0:
            return x / (x + self.m_O)
        xr = x**self.r
        return xr / (xr + self._mr)

    def crisis1(self, m: float, s: float) -> tuple[int, float]:
        """Scalar version of :meth:`crisis` (same rule, same floating-point operations)."""
        p_off = self.p1(m)
        if p_off - self.c_A > self.q:
            return A_REVISES, 1 - max(0.0, 1 - p_off - self.c_O)
        p_def = self.p1(m + s)
        if 1 - p_def - self.c_O > 1 - self.q:
            return O_REVISES, max(0.0, p_def - self.c_A)
        return NOBODY, self.q

    # -- stage 3: A's arms ---------------------------------------------------------------
    def _maximise(
        self,
        f: Callable[[np.ndarray], np.ndarray],
        f1: Callable[[float], float],
        lo: float,
        hi: float,
    ) -> tuple[float, float]:
        """Maximise f on [lo, hi]: vectorised grid (f), then bounded Brent (scalar f1)."""
        if not hi > lo:
            return lo, f1(lo)
        xs = np.linspace(lo, hi, self.n_grid)
        vals = f(xs)
        i = int(np.argmax(vals))
        best_x, best_v = float(xs[i]), float(vals[i])
        if not np.isfinite(best_v):
            return best_x, best_v
        if i in (0, len(xs) - 1):
            # Best at an end of the interval: if the objective falls just inside, the end is
            # the maximum (Brent would crawl towards the bound for ~40 steps to find it).
            inward = best_x + (1e-9 if i == 0 else -1e-9) * (hi - lo)
            if f1(inward) <= best_v:
                return best_x, best_v
        a, b = xs[max(i - 1, 0)], xs[min(i + 1, len(xs) - 1)]
        res = optimize.minimize_scalar(
            lambda x: -f1(x),
            bounds=(a, b),
            method="bounded",
            options={"xatol": 1e-10 * max(1.0, b)},
        )
        if np.isfinite(res.fun) and -res.fun > best_v:
            best_x, best_v = float(res.x), float(-res.fun)
        return best_x, best_v

    def revise(self, floor: float = 0.0) -> _Choice:
        """A's best payoff when it arms past b_A and revises (alliance forces do not help)."""
        if floor == 0.0 and self._revise_cache is not None:
            return self._revise_cache

        def f(m: np.ndarray) -> np.ndarray:
            who, share = self.crisis(m, 0.0)
            return np.where(who == A_REVISES, share - self.k * m, _NEG)

        def f1(m: float) -> float:
            who, share = self.crisis1(m, 0.0)
            return share - self.k * m if who == A_REVISES else _NEG

        # The revisionist set m > b_A is open: start a hair above b_A (supremum, as GAME.md),
        # moving up until rounding in p no longer puts the point on the boundary.
        eps = 1e-13
        lo = max(self.b_A * (1 + eps), floor)
        while f1(lo) == _NEG and eps < 1e-6:
            eps *= 10
            lo = max(self.b_A * (1 + eps), floor)
        hi = max(lo, floor + 1.0 / self.k)  # beyond it the payoff is below its value at lo

        m, v = self._maximise(f, f1, lo, hi)
        out = _Choice(v, m, A_REVISES)
        if floor == 0.0:
            self._revise_cache = out
        return out

    def status_quo(self, s: float, floor: float = 0.0) -> _Choice | None:
        """A's best payoff keeping the status quo: the least arms that deter O.

        Within the status quo A's share is q whatever it arms, so it arms as little as
        deters O (and as its obligation requires); None if that makes it a revisionist.
        """
        m = max(self.M_O - s, 0.0, floor)
        if m > self.b_A:
            return None
        return _Choice(self.q - self.k * m, m, NOBODY)

    def submit(self, s: float, floor: float = 0.0) -> _Choice | None:
        """A's best payoff letting O revise (arms below the deterring level, >= floor)."""
        top = self.M_O - s
        if not top > floor:
            return None
        hi = floor + (top - floor) * (1 - 1e-12)

        def f(m: np.ndarray) -> np.ndarray:
            who, share = self.crisis(m, s)
            return np.where(who == O_REVISES, share - self.k * m, _NEG)

        def f1(m: float) -> float:
            who, share = self.crisis1(m, s)
            return share - self.k * m if who == O_REVISES else _NEG

        m, v = self._maximise(f, f1, floor, hi)
        if not np.isfinite(v):
            return None
        return _Choice(v, m, O_REVISES)

    def best_response(self, s: float, floor: float = 0.0) -> _Choice:
        """A's arms given S's forces s and A's obligation floor; ties go to the status quo."""
        sq = self.status_quo(s, floor)
        others = [c for c in (self.revise(floor), self.submit(s, floor)) if c is not None]
        best_other = max(others, key=lambda c: c.value) if others else None
        if sq is not None and (best_other is None or sq.value >= best_other.value - _TIE):
            return sq
        assert best_other is not None
        return best_other


def _least_root(
    margin: Callable[[float], float], x_max: float, n: int, tol: float = 1e-13
) -> float:
    """Least x in [0, x_max] with margin(x) >= 0 (NaN if none on the grid).

    A grid locates the first sign change and brentq refines it; the returned point is moved
    right, if need be, until margin(x) >= 0 holds there (up to the tie tolerance).
    """
    if margin(0.0) >= -_TIE:
        return 0.0
    xs = np.linspace(0.0, x_max, n)
    prev, m_prev = 0.0, margin(0.0)
    for x in xs[1:]:
        mx = margin(float(x))
        if mx >= -_TIE:
            if mx <= 0.0:
                return float(x)
            lo, hi, m_lo = prev, float(x), m_prev
            while not math.isfinite(m_lo):
                # An infeasible left end (A's obligation would make it a revisionist):
                # bisect until brentq gets finite values, or the bracket is tight.
                if hi - lo <= tol:
                    return hi
                mid = 0.5 * (lo + hi)
                m_mid = margin(mid)
                if m_mid >= -_TIE:
                    hi = mid
                else:
                    lo, m_lo = mid, m_mid
            x = hi
            if margin(hi) <= 0.0:
                return hi
            root = optimize.brentq(margin, lo, hi, xtol=tol, rtol=1e-15)
            # Step right until the margin is non-negative (brentq's root may sit a hair left).
            step = tol
            while margin(root) < -_TIE and root < x:
                root = min(root + step, float(x))
                step *= 2
            return root
        prev, m_prev = float(x), mx
    return math.nan


def _solve_point(
    k: float,
    q: float,
    c_A: float,
    c_O: float,
    m_O: float,
    k_S: float,
    W: float,
    *,
    r: float,
    offer: str,
    total: float | None,
    n_grid: int,
    n_offer: int,
) -> dict[str, Any]:
    """Backward induction at one parameter point with O's forces fixed."""
    g = _Game(k, q, c_A, c_O, m_O, k_S, W, r, n_grid, n_offer)
    # No alliance: A's best response to s = 0.
    rev0 = g.revise()
    sub0 = g.submit(0.0)
    base = g.best_response(0.0)
    v_r0 = rev0.value
    v_s0 = sub0.value if sub0 is not None else math.nan

    if offer == "forces":
        t_total = math.nan
        x_max = g.M_O

        def to_offer(x: float) -> tuple[float, float]:
            return x, 0.0
    else:
        t_total = g.M_O if total is None else float(total)
        x_max = 1.0

        def to_offer(x: float) -> tuple[float, float]:
            return x * t_total, (1.0 - x) * t_total

    v_s0_or_neg = v_s0 if sub0 is not None else _NEG

    # Rejecting is always possible, so the alliance must also beat the no-alliance values.
    def margin_r(x: float) -> float:
        """A's margin for the status quo over revising, given the offer x."""
        s, floor = to_offer(x)
        sq = g.status_quo(s, floor)
        if sq is None:
            return _NEG
        rev = rev0.value if floor <= g.b_A else g.revise(floor).value
        return sq.value - max(rev, v_r0)

    def margin_d(x: float) -> float:
        """A's margin for the status quo over letting O revise, given the offer x."""
        s, floor = to_offer(x)
        sq = g.status_quo(s, floor)
        if sq is None:
            return _NEG
        sub = g.submit(s, floor)
        return sq.value - max(sub.value if sub is not None else _NEG, v_s0_or_neg)

    def margin(x: float) -> float:
        return min(margin_r(x), margin_d(x))

    x_r = _least_root(margin_r, x_max, n_offer)
    x_d = _least_root(margin_d, x_max, n_offer)
    x_star = max(x_r, x_d) if not (math.isnan(x_r) or math.isnan(x_d)) else math.nan
    if not math.isnan(x_star) and margin(x_star) < -_TIE:
        # The two conditions' acceptable sets are not nested (not seen in the base model):
        # search the combined margin directly.
        x_star = _least_root(margin, x_max, 4 * n_offer)

    def as_forces(x: float) -> float:
        return to_offer(x)[0] if not math.isnan(x) else math.nan

    s_r_forces, s_d_forces = as_forces(x_r), as_forces(x_d)
    out: dict[str, Any] = {
        # Claim 1 fails where an alliance must both restrain A and deter O (seen for r > 1).
        "restrain_and_deter": bool(s_r_forces > 0 and s_d_forces > 0),
        "s_R": as_forces(x_r),
        "s_D": as_forces(x_d),
        "V_R": v_r0,
        "m_R": rev0.m,
        "V_S0": v_s0 if sub0 is not None else math.nan,
        "m_S0": sub0.m if sub0 is not None else math.nan,
        "D_O": g.M_O,
        "D_A": g.b_A,
        "total": t_total,
        # O's war value floored at 0 at A's revising optimum (see Equilibrium).
        "vr_floor_binds": bool(1 - float(g.p(np.array(rev0.m))) - c_O <= 1e-9),
    }
    if base.who == NOBODY:
        region, choice, s, sigma = NO_ALLIANCE, base, 0.0, 0.0
    elif math.isnan(x_star):
        # No commitment secures the status quo.
        region = REVISION if base.who == A_REVISES else NO_OFFER
        choice, s, sigma = base, 0.0, math.nan
    else:
        s_star, floor = to_offer(x_star)
        if k_S * s_star <= W * (1 + 1e-12):
            region = RESTRAINT if base.who == A_REVISES else DETERRENCE
            choice = g.best_response(s_star, floor)
            s = s_star
            sigma = x_star if offer == "share" else math.nan
            if choice.who != NOBODY:  # cannot happen when the margins at x_star are >= 0
                raise EstimationError(
                    f"numerical solver: S's offer s = {s_star!r} found at k = {k!r}, q = {q!r}, "
                    f"c_A = {c_A!r}, c_O = {c_O!r}, m_O = {m_O!r} does not hold the status quo"
                )
        else:
            region, choice, s, sigma = NO_OFFER, base, 0.0, math.nan
    m_a = choice.m
    if choice.who == NOBODY:
        share_a = q
    else:
        share_a = float(g.crisis(np.array([m_a]), s)[1][0])
    out.update(
        region_code=region,
        who_code=choice.who,
        s=s,
        m_A=m_a,
        burden_share=s / (s + m_a) if s > 0 else 0.0,
        payoff_A=share_a - k * m_a,
        share_O=1 - share_a,
        payoff_S=(W - k_S * s) if choice.who == NOBODY else 0.0,
        sigma=sigma,
    )
    return out


def _solve_endogenous_o(
    k: float,
    q: float,
    c_A: float,
    c_O: float,
    k_O: float,
    k_S: float,
    W: float,
    *,
    n_outer: int,
    **kw: Any,
) -> tuple[float, dict[str, Any], dict[str, Any]]:
    """Stage 0: O picks m_O to maximise its share minus k_O m_O, anticipating the rest.

    O's payoff is piecewise in m_O (it jumps where the continuation switches region), so a
    log grid over (0, 1/k_O] (beyond 1/k_O the cost exceeds any share) locates the pieces;
    each switch is bisected down to 1e-10 relative, both sides are evaluated, and interior
    maxima within a piece are refined with a bounded Brent search.
    """
    cache: dict[float, dict[str, Any]] = {}

    def inner(m: float) -> dict[str, Any]:
        if m not in cache:
            cache[m] = _solve_point(k, q, c_A, c_O, m, k_S, W, **kw)
        return cache[m]

    def net(m: float) -> float:
        return inner(m)["share_O"] - k_O * m

    def key(m: float) -> tuple[int, int]:
        d = inner(m)
        return d["region_code"], d["who_code"]

    hi = 1.0 / k_O
    lo = min(1e-3 / k, 1e-3 * hi)
    grid = list(np.geomspace(lo, hi, n_outer))
    cands = list(grid)
    for a, b in zip(grid[:-1], grid[1:], strict=True):
        if key(a) != key(b):
            ka = key(a)
            la, lb = math.log(a), math.log(b)
            while lb - la > 1e-10:
                mid = 0.5 * (la + lb)
                if key(math.exp(mid)) == ka:
                    la = mid
                else:
                    lb = mid
            cands += [math.exp(la), math.exp(lb)]
    values = [net(m) for m in grid]
    for i in range(1, len(grid) - 1):
        if values[i] >= values[i - 1] and values[i] >= values[i + 1]:
            same = key(grid[i - 1]) == key(grid[i]) == key(grid[i + 1])
            if same:
                res = optimize.minimize_scalar(
                    lambda m: -net(m),
                    bounds=(grid[i - 1], grid[i + 1]),
                    method="bounded",
                    options={"xatol": 1e-10 * grid[i + 1]},
                )
                cands.append(float(res.x))
    best = float(max(cands, key=net))
    info = {
        "m_O_grid_points": len(grid),
        "m_O_evaluations": len(cache),
        # O's best is not to arm: the supremum is the limit m_O -> 0, reported at lo.
        "m_O_at_lower_bound": bool(best <= lo * (1 + 1e-9)),
    }
    return best, inner(best), info


def solve_numeric(
    k: float,
    q: float = _W["q"],
    c_A: float = _W["c_A"],
    c_O: float = _W["c_O"],
    m_O: float | None = None,
    k_S: float = _W["k_S"],
    W: float = _W["W"],
    *,
    r: float = 1.0,
    k_O: float | None = None,
    offer: Literal["forces", "share"] = "forces",
    total: float | None = None,
    n_grid: int = 65,
    n_offer: int = 24,
    n_outer: int = 48,
) -> Equilibrium:
    """Equilibrium by numerical backward induction at one parameter point.

    Same parameters and defaults as :func:`restraint.game.solve` (m_O defaults to 1), plus:
    ``r`` (Tullock exponent, > 0), ``k_O`` (O's cost per unit of forces; when given, O
    chooses m_O at stage 0 and ``m_O`` must not be passed), ``offer`` ("forces": S offers a
    force level s; "share": S offers a share sigma of the fixed total ``total``, default
    D_O, and A undertakes to provide the rest) and grid sizes for A's arms (``n_grid``),
    S's offer (``n_offer``) and O's forces (``n_outer``).

    The cut-offs k_hat, k1, k2, k3 are NaN (they are closed-form quantities); ``D_O`` and
    ``D_A`` are the numerically found thresholds. ``model`` records r, k_O, offer, total,
    sigma and, with k_O, O's share and arms cost.
    """
    if k_O is not None and m_O is not None:
        raise GameParameterError(
            f"m_O = {m_O!r} was given together with k_O = {k_O!r}: with k_O, O chooses its "
            "forces m_O itself; pass one of them"
        )
    if offer not in ("forces", "share"):
        raise GameParameterError(f"offer must be 'forces' or 'share', got {offer!r}")
    m_O_val = 1.0 if m_O is None else m_O
    values = {"k": k, "q": q, "c_A": c_A, "c_O": c_O, "m_O": m_O_val, "k_S": k_S, "W": W}
    for name, v in values.items():
        if np.ndim(v) != 0:
            raise GameParameterError(
                f"{name} must be a scalar for solve_numeric (got shape {np.shape(v)}); "
                "loop over points or use the vectorised closed form solve()"
            )
    p = broadcast_params(**values)
    validate(p, "raise")
    for name, v, cond, rule in (
        ("r", r, r is not None and math.isfinite(r) and r > 0, "must be a finite number > 0"),
        ("k_O", k_O, k_O is None or (math.isfinite(k_O) and k_O > 0), "must be > 0"),
        ("total", total, total is None or (math.isfinite(total) and total > 0), "must be > 0"),
    ):
        if not cond:
            raise GameParameterError(f"{name} = {v!r}: {rule}")
    if total is not None and offer != "share":
        raise GameParameterError(f"total = {total!r} is only used with offer='share'")
    for name, n, least in (("n_grid", n_grid, 9), ("n_offer", n_offer, 4), ("n_outer", n_outer, 8)):
        if int(n) < least:
            raise GameParameterError(f"{name} = {n!r}: must be an integer >= {least}")
    pf = {n: float(a) for n, a in p.items()}
    kw = {
        "r": float(r),
        "offer": offer,
        "total": total,
        "n_grid": int(n_grid),
        "n_offer": int(n_offer),
    }
    model: dict[str, Any] = {"r": float(r), "offer": offer}
    if k_O is None:
        d = _solve_point(**pf, **kw)
        payoff_o = d["share_O"]
    else:
        args = {n: pf[n] for n in ("k", "q", "c_A", "c_O", "k_S", "W")}
        m_star, d, info = _solve_endogenous_o(**args, k_O=float(k_O), n_outer=int(n_outer), **kw)
        pf["m_O"] = m_star
        payoff_o = d["share_O"] - k_O * m_star
        model.update(
            k_O=float(k_O), share_O=float(d["share_O"]), arms_cost_O=float(k_O * m_star), **info
        )
    if offer == "share":
        model.update(total=d["total"], sigma=d["sigma"])
    model["restrain_and_deter"] = d["restrain_and_deter"]
    nan = math.nan
    return Equilibrium(
        params=pf,
        region_code=int(d["region_code"]),
        who_code=int(d["who_code"]),
        s=d["s"],
        m_A=d["m_A"],
        burden_share=d["burden_share"],
        payoff_A=d["payoff_A"],
        payoff_O=payoff_o,
        payoff_S=d["payoff_S"],
        s_R=d["s_R"],
        s_D=d["s_D"],
        V_R=d["V_R"],
        m_R=d["m_R"],
        V_S0=d["V_S0"],
        m_S0=d["m_S0"],
        D_O=d["D_O"],
        D_A=d["D_A"],
        k_hat=nan,
        k1=nan,
        k2=nan,
        k3=nan,
        vr_floor_binds=d["vr_floor_binds"],
        valid=True,
        solver="numeric",
        model=model,
    )


def cutoffs_numeric(
    q: float = _W["q"],
    c_A: float = _W["c_A"],
    c_O: float = _W["c_O"],
    m_O: float = _W["m_O"],
    *,
    r: float = 1.0,
    n_grid: int = 65,
) -> dict[str, float]:
    """Cut-offs in k of the Tullock-r model from the numerical values of A's options.

    k1: V_R(k) = q; k2: V_R(k) = q - k D_O; k3: q - k D_O = V_S(k, 0), with V_R and V_S
    maximised numerically (as in :func:`solve_numeric`) and the roots found by brentq; all
    three functions are monotone in k for any r (envelope theorem), so each root is unique.
    Returns D_O, D_A, k1, k2, k3 and ``claims_hold`` = k2 < k3: where it is False the
    no-alliance band is empty and for k3 < k < k2 an alliance must restrain A and deter O at
    once (GAME.md's claims 1 and 4 fail; with r = 1 this never happens).
    """
    p = broadcast_params(k=1.0, q=q, c_A=c_A, c_O=c_O, m_O=m_O, k_S=1.0, W=1.0)
    validate(p, "raise")
    if not (math.isfinite(r) and r > 0):
        raise GameParameterError(f"r = {r!r}: must be a finite number > 0")

    def game(k: float) -> _Game:
        return _Game(k, q, c_A, c_O, m_O, 1.0, 1.0, float(r), int(n_grid), 4)

    g1 = game(1.0)
    d_o, d_a = g1.M_O, g1.b_A

    def v_r(k: float) -> float:
        return game(k).revise().value

    def v_s(k: float) -> float:
        sub = game(k).submit(0.0)
        return sub.value if sub is not None else 0.0

    # Below lo, revising at D_A alone beats q - k D_O and q, and V_S(k, 0) < q - k D_O.
    lo = 1e-6 * min(min(1.0, q + c_A + c_O) - q, c_A + c_O) / d_a
    k1 = optimize.brentq(lambda k: v_r(k) - q, lo, 2 * (1 - q) / d_a, xtol=1e-14)
    k2 = optimize.brentq(lambda k: v_r(k) - q + k * d_o, lo, 2 * (1 - q) / (d_a - d_o), xtol=1e-14)
    k_q = q / d_o
    if q - k_q * d_o - v_s(k_q) >= -1e-15:
        k3 = k_q
    else:
        k3 = optimize.brentq(lambda k: q - k * d_o - v_s(k), lo, k_q, xtol=1e-14)
    return {"D_O": d_o, "D_A": d_a, "k1": k1, "k2": k2, "k3": k3, "claims_hold": k2 < k3}
