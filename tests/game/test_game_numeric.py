"""The numerical solver's generalisations: Tullock exponent, share offers, O arming."""

from __future__ import annotations

import numpy as np
import pytest

from restraint.game import GameParameterError, solve, solve_numeric, thresholds
from restraint.game.equilibrium import K_ORDER
from restraint.game.numeric import cutoffs_numeric
from restraint.game.plots import category_codes

from .strategies import grid_max

Q, C_A, C_O, M_O = 0.5, 0.1, 0.1, 1.0


def tullock(x: np.ndarray, r: float, m_O: float = M_O) -> np.ndarray:
    return x**r / (x**r + m_O**r)


def bf_revise_r(k: float, r: float, n: int = 200_001) -> float:
    """Dense-grid A's revising value under a Tullock contest (worked-example values)."""
    _, d_a = thresholds(Q, C_A, C_O, M_O, r)

    def f(m: np.ndarray) -> np.ndarray:
        p = tullock(m, r)
        val = 1 - np.maximum(0, 1 - p - C_O) - k * m
        return np.where(p - C_A > Q, val, -np.inf)

    # The revising set is open at D_A: its supremum is approached just above it.
    return grid_max(f, 0.0, 2 / k + 10, [float(d_a) * (1 + 1e-12)], n)


def bf_submit_r(k: float, s: float, r: float, n: int = 200_001) -> float:
    d_o, _ = thresholds(Q, C_A, C_O, M_O, r)

    def f(m: np.ndarray) -> np.ndarray:
        return np.maximum(0, tullock(m + s, r) - C_A) - k * m

    return grid_max(f, 0.0, float(d_o - s) * (1 - 1e-12), [0.0], n)


@pytest.mark.parametrize("r", [0.5, 2.0, 3.0])
def test_tullock_thresholds_and_values(r: float) -> None:
    d_o, d_a = thresholds(Q, C_A, C_O, M_O, r)
    for k in (0.1, 0.3, 1.0):
        eq = solve_numeric(k, r=r)
        assert eq.D_O == pytest.approx(float(d_o), rel=1e-12)
        assert eq.D_A == pytest.approx(float(d_a), rel=1e-12)
        assert eq.V_R == pytest.approx(bf_revise_r(k, r), abs=1e-6)
        assert eq.model["r"] == r


@pytest.mark.parametrize(("r", "k"), [(2.0, 0.3), (0.5, 0.1), (3.0, 0.4)])
def test_tullock_restraint_offer_makes_a_indifferent(r: float, k: float) -> None:
    eq = solve_numeric(k, r=r)
    assert eq.region == "restraint"
    assert eq.s + eq.m_A == pytest.approx(eq.D_O, abs=1e-12)
    # S's least offer leaves A exactly indifferent between keeping q and revising.
    assert eq.payoff_A == pytest.approx(eq.V_R, abs=1e-9)
    assert eq.m_A < eq.D_A


@pytest.mark.parametrize(("r", "k"), [(2.0, 1.0), (0.5, 3.0), (2.0, 3.0)])
def test_tullock_deterrence_offer_is_least(r: float, k: float) -> None:
    eq = solve_numeric(k, r=r)
    assert eq.region == "deterrence"
    deter = Q - k * (eq.D_O - eq.s)
    assert bf_submit_r(k, eq.s, r) == pytest.approx(deter, abs=1e-6)
    less = eq.s * (1 - 1e-3)
    assert bf_submit_r(k, less, r) > Q - k * (eq.D_O - less)


@pytest.mark.parametrize("r", [0.7, 1.5, 2.0])
def test_tullock_claims_hold_along_k(r: float) -> None:
    c = cutoffs_numeric(r=r)
    assert c["claims_hold"] and c["k1"] < c["k2"] < c["k3"]
    ks = np.geomspace(0.02, 10, 60)
    eqs = [solve_numeric(float(k), r=r) for k in ks]
    cats = np.array([category_codes(e) for e in eqs]).ravel()
    assert np.all(cats >= 0) and np.all(np.diff(cats) >= 0), cats
    regions = [e.region for e in eqs]
    assert "restraint" in regions and "deterrence" in regions and "no_alliance" in regions
    for k, e in zip(ks, eqs, strict=True):
        assert not e.model["restrain_and_deter"]
        if e.region == "restraint":
            assert c["k1"] <= k < c["k2"]
        if e.region == "deterrence":
            assert k > c["k3"]
        if e.region in ("restraint", "deterrence"):
            assert e.m_A < e.D_A and e.payoff_O == pytest.approx(1 - Q)
    assert len(K_ORDER) == 6


def test_tullock_claims_fail_for_a_decisive_contest() -> None:
    """With r = 3 (worked-example values) k3 < k2: the no-alliance band vanishes and between
    k3 and k2 the alliance must restrain A and deter O at once; the solver says so."""
    c = cutoffs_numeric(r=3.0)
    assert not c["claims_hold"] and c["k3"] < c["k2"]
    for k in np.linspace(c["k3"], c["k2"], 7)[1:-1]:
        e = solve_numeric(float(k), r=3.0)
        assert e.model["restrain_and_deter"]
        assert e.s_R > 0 and e.s_D > 0
        assert e.s == pytest.approx(max(e.s_R, e.s_D), abs=1e-12)
        assert e.region in ("restraint", "deterrence") and e.who_revises == "none"
        assert "claim 1 fails" in e.summary()
    regions = {solve_numeric(float(k), r=3.0).region for k in np.geomspace(0.02, 10, 40)}
    assert "no_alliance" not in regions


def test_numeric_cutoffs_match_closed_form_at_r_one() -> None:
    from restraint.game import cutoffs

    c = cutoffs().as_dict()
    n = cutoffs_numeric(r=1.0)
    for name in ("D_O", "D_A", "k1", "k2", "k3"):
        assert n[name] == pytest.approx(c[name], rel=1e-9), name


def test_r_one_is_the_base_model() -> None:
    for k in (0.1, 0.2, 0.5, 1.0, 3.0):
        assert solve_numeric(k, r=1.0).s == pytest.approx(solve(k).s, abs=1e-9)


# -- share offers ------------------------------------------------------------------------


def test_share_offer_worked_example() -> None:
    # Restraint: A's reject option (revise) is unchanged, so the share equals s_R / D_O.
    eq = solve_numeric(0.2, offer="share")
    assert eq.region == "restraint"
    assert eq.s == pytest.approx(1 / 6, abs=1e-9)
    assert eq.model["sigma"] == pytest.approx(0.25, abs=1e-9)
    # Deterrence: A is held to (1 - sigma) D_O, so S needs only q - k(1-sigma)D_O = V_S(k, 0)
    # = 0 at k = 1 and 3 (A cannot free-ride by letting O revise inside the alliance).
    for k, s in ((1.0, 2 / 3 - 0.5), (3.0, 2 / 3 - 0.5 / 3)):
        eq = solve_numeric(k, offer="share")
        assert eq.region == "deterrence"
        assert eq.s == pytest.approx(s, abs=1e-9)
        assert eq.m_A == pytest.approx(2 / 3 - s, abs=1e-9)
        assert eq.payoff_A == pytest.approx(0.0, abs=1e-9)
        assert eq.s < solve(k).s  # cheaper for S than a force offer


def test_share_offer_with_a_larger_total_costs_s_more() -> None:
    # T = 1 > D_O: A must provide (1 - sigma) T; indifference with V_S(1, 0) = 0 gives
    # q = k (1 - sigma) T, so s = sigma T = T - q/k = 0.5.
    eq = solve_numeric(1.0, offer="share", total=1.0)
    assert eq.s == pytest.approx(0.5, abs=1e-9)
    assert eq.m_A == pytest.approx(0.5, abs=1e-9)
    assert eq.model["total"] == 1.0


# -- O arms endogenously ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("k", "k_O"), [(0.2, 0.05), (0.2, 0.3), (1.0, 0.3), (3.0, 0.5), (0.5, 0.15)]
)
def test_endogenous_o_matches_brute_force_over_m_o(k: float, k_O: float) -> None:
    eq = solve_numeric(k, k_O=k_O)
    m_grid = np.geomspace(1e-4, 1 / k_O, 200_001)
    net = np.asarray(solve(k, m_O=m_grid).payoff_O) - k_O * m_grid
    assert eq.payoff_O >= net.max() - 1e-6
    # The continuation at O's chosen forces is the base model's equilibrium.
    m_star = eq.params["m_O"]
    base = solve(k, m_O=m_star)
    assert eq.payoff_O == pytest.approx(base.payoff_O - k_O * m_star, abs=1e-9)
    assert (eq.region, eq.who_revises) == (base.region, base.who_revises)
    assert eq.model["arms_cost_O"] == pytest.approx(k_O * m_star)


def test_endogenous_o_arms_to_price_s_out_of_deterrence() -> None:
    # Cheap arms for O: it builds up until S's deterrence offer exceeds W/k_S, then revises.
    eq = solve_numeric(0.2, k_O=0.05)
    assert eq.region == "no_offer" and eq.who_revises == "O"
    at = solve(0.2, m_O=eq.params["m_O"] * (1 - 1e-6))
    assert at.region == "deterrence"
    assert 0.3 * at.s == pytest.approx(0.3, rel=1e-5)  # k_S s_D reaches W = 0.3


# -- errors ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"k": 0.2, "m_O": 1.0, "k_O": 0.1}, "m_O = 1.0 was given together with k_O"),
        ({"k": 0.2, "r": 0.0}, r"r = 0.0: must be"),
        ({"k": 0.2, "r": float("nan")}, r"r = nan"),
        ({"k": 0.2, "k_O": -1.0}, r"k_O = -1.0: must be > 0"),
        ({"k": 0.2, "total": 1.0}, r"total = 1.0 is only used with offer='share'"),
        ({"k": 0.2, "offer": "cash"}, r"offer must be 'forces' or 'share', got 'cash'"),
        ({"k": np.array([0.1, 0.2])}, r"k must be a scalar"),
        ({"k": 0.2, "q": 0.05}, r"c_O = 0.1 \(q = 0.05\): must be < q"),
    ],
)
def test_numeric_errors(kwargs: dict, match: str) -> None:
    with pytest.raises(GameParameterError, match=match):
        solve_numeric(**kwargs)


def test_endogenous_o_that_should_not_arm_is_flagged() -> None:
    # Expensive arms for O (k_O = 1) and cheap ones for A: any m_O that stops A's revision
    # costs O more than the status quo is worth, so O's best is the limit m_O -> 0.
    eq = solve_numeric(0.2, k_O=1.0)
    assert eq.model["m_O_at_lower_bound"]
    assert eq.region == "revision" and eq.who_revises == "A"
    assert eq.params["m_O"] == pytest.approx(1e-3 * min(1 / 0.2, 1 / 1.0))
    assert -1e-2 < eq.payoff_O <= 0.0
    assert not solve_numeric(0.2, k_O=0.3).model["m_O_at_lower_bound"]


def test_share_offer_with_a_total_beyond_d_a() -> None:
    # T = 3 > D_A = 1.5: small shares oblige A to arm past D_A (infeasible for the status
    # quo), so S's search starts from an infeasible end. Restraint needs q - k(1-sigma)T =
    # V_R = 0.4 at k = 0.2, i.e. A's part (1 - sigma)T = 0.5 and s = 2.5.
    eq = solve_numeric(0.2, offer="share", total=3.0, W=10.0)
    assert eq.region == "restraint"
    assert eq.s == pytest.approx(2.5, abs=1e-9)
    assert eq.m_A == pytest.approx(0.5, abs=1e-9)
    # With the worked example's budget (k_S s = 0.75 > W = 0.3) S makes no offer.
    eq = solve_numeric(0.2, offer="share", total=3.0)
    assert eq.region == "no_offer" and eq.who_revises == "A"
