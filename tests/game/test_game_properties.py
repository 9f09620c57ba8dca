"""GAME.md's claims as properties over random valid parameter points (hypothesis)."""

from __future__ import annotations

import os

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from restraint.game import cutoffs, solve, solve_numeric, value_submit
from restraint.game.equilibrium import K_ORDER
from restraint.game.plots import category_codes

from .strategies import bf_revise, bf_submit, game_params, k_between

# GAME_HYPOTHESIS_SCALE multiplies the example counts for a thorough run (default 1: quick).
_SCALE = float(os.environ.get("GAME_HYPOTHESIS_SCALE", "1"))


def _settings(n: int) -> settings:
    return settings(
        max_examples=max(1, int(n * _SCALE)),
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
    )


FAST = _settings(80)
# Brute-force (dense-grid) checks and the numerical solver cost more per example.
BRUTE = _settings(40)
NUMERIC = _settings(60)


def _k_grid(p: dict[str, float], n: int = 3000) -> np.ndarray:
    c = cutoffs(p["q"], p["c_A"], p["c_O"], p["m_O"])
    return np.geomspace(c.k1 / 4, 4 * c.k3, n)


@FAST
@given(game_params())
def test_cutoffs_ordered_and_closed_form_matches_root_finding(p: dict[str, float]) -> None:
    args = (p["q"], p["c_A"], p["c_O"], p["m_O"])
    c = cutoffs(*args)
    b = cutoffs(*args, method="brentq")
    assert 0 < c.k1 < c.k2 < c.k3
    assert c.D_O < c.D_A
    for name in ("k1", "k2", "k3"):
        assert getattr(c, name) == pytest.approx(getattr(b, name), rel=1e-9)


@FAST
@given(game_params())
def test_regions_disjoint_and_ordered_in_k(p: dict[str, float]) -> None:
    ks = _k_grid(p)
    eq = solve(ks, **p)
    cats = category_codes(eq)
    assert np.all(cats >= 0)  # every point in exactly one category
    assert np.all(np.diff(cats) >= 0), "regions out of the order of K_ORDER along k"
    regions = np.asarray(eq.region)
    c = cutoffs(p["q"], p["c_A"], p["c_O"], p["m_O"])
    restr = ks[regions == "restraint"]
    deter = ks[regions == "deterrence"]
    # Claim 1: restraint and deterrence in separate regions, restraint strictly below.
    if restr.size and deter.size:
        assert restr.max() < deter.min()
    assert np.all((restr >= c.k1) & (restr < c.k2))
    assert np.all(deter > c.k3)
    # Claim 4: the intermediate no-alliance band is never empty.
    assert np.any(regions == "no_alliance")
    assert len(K_ORDER) == 6


@BRUTE
@given(game_params(), st.floats(0.0, 1.0))
def test_never_both_threats_without_an_alliance(p: dict[str, float], u: float) -> None:
    """Claim 1 checked by brute force: A never prefers both revising and letting O revise
    to deterring alone, so an alliance never has to restrain and deter at once."""
    k = k_between(p, u)
    d_o = p["m_O"] * (p["q"] - p["c_O"]) / (1 - p["q"] + p["c_O"])
    deter_alone = p["q"] - k * d_o
    a_threat = bf_revise(k, p["q"], p["c_A"], p["c_O"], p["m_O"]) > deter_alone + 1e-9
    o_threat = bf_submit(k, 0.0, p["q"], p["c_A"], p["c_O"], p["m_O"]) > deter_alone + 1e-9
    assert not (a_threat and o_threat)
    eq = solve(k, **p)
    assert not (eq.s_R > 0 and eq.s_D > 0)


@FAST
@given(game_params())
def test_alliance_regions_keep_a_below_d_a_and_exactly_deter_o(p: dict[str, float]) -> None:
    eq = solve(_k_grid(p, 600), **p)
    regions = np.asarray(eq.region)
    ally = (regions == "restraint") | (regions == "deterrence")
    assume(ally.any())
    m_a, s = np.asarray(eq.m_A)[ally], np.asarray(eq.s)[ally]
    d_o, d_a = np.asarray(eq.D_O)[ally], np.asarray(eq.D_A)[ally]
    assert np.all(m_a < d_a)
    assert np.all(m_a >= 0) and np.all(s > 0)
    # Claims 2-3: the alliance does not threaten O: total forces exactly D_O, O keeps 1 - q.
    np.testing.assert_allclose(m_a + s, d_o, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(np.asarray(eq.payoff_O)[ally], 1 - p["q"], rtol=1e-12)
    # S pays what it offers and still gains: W - k_S s >= 0.
    assert np.all(np.asarray(eq.payoff_S)[ally] >= -1e-12)


@BRUTE
@given(game_params(), st.floats(0.0, 1.0))
def test_a_indifferent_at_s_d_and_s_d_is_least(p: dict[str, float], u: float) -> None:
    c = cutoffs(p["q"], p["c_A"], p["c_O"], p["m_O"])
    k = float(np.exp(np.log(c.k3) + u * np.log(4.0))) * (1 + 1e-6)  # deterrence side
    eq = solve(k, **p)
    s_d = eq.s_D
    assert 0 < s_d < eq.D_O
    args = (p["q"], p["c_A"], p["c_O"], p["m_O"])
    deter = p["q"] - k * (eq.D_O - s_d)
    # Indifference: closed-form V_S and a dense-grid V_S both equal the deterrence value.
    assert float(value_submit(k, s_d, *args)[0]) == pytest.approx(deter, abs=1e-10)
    assert bf_submit(k, s_d, *args) == pytest.approx(deter, abs=1e-6)
    # Less than s_D does not do: A then strictly prefers letting O revise.
    s_less = s_d * (1 - 1e-3)
    assert bf_submit(k, s_less, *args) > p["q"] - k * (eq.D_O - s_less)


@FAST
@given(game_params())
def test_burden_share_falls_from_one_to_zero_across_restraint(p: dict[str, float]) -> None:
    c = cutoffs(p["q"], p["c_A"], p["c_O"], p["m_O"])
    ks = np.linspace(c.k1, c.k2, 402)[1:-1]
    p_big = {**p, "W": 1e9}  # S can afford any offer here
    eq = solve(ks, **p_big)
    share = np.asarray(eq.burden_share)
    assert np.all(np.asarray(eq.region) == "restraint")
    assert np.all(np.diff(share) < 0)
    assert solve(c.k1, **p_big).burden_share == pytest.approx(1.0, abs=1e-9)
    assert share[-1] < 0.01
    # A is indifferent between revising and keeping the status quo at s_R.
    np.testing.assert_allclose(np.asarray(eq.payoff_A), np.asarray(eq.V_R), atol=1e-12)


@BRUTE
@given(game_params(), st.floats(0.0, 1.0))
def test_revision_value_matches_brute_force(p: dict[str, float], u: float) -> None:
    k = k_between(p, u)
    eq = solve(k, **p)
    assert eq.V_R == pytest.approx(bf_revise(k, p["q"], p["c_A"], p["c_O"], p["m_O"]), abs=1e-6)
    assert eq.V_S0 == pytest.approx(
        bf_submit(k, 0.0, p["q"], p["c_A"], p["c_O"], p["m_O"]), abs=1e-6
    )


@FAST
@given(game_params())
def test_vectorised_equals_pointwise(p: dict[str, float]) -> None:
    ks = _k_grid(p, 7)
    eq = solve(ks, **p)
    for i, k in enumerate(ks):
        one = solve(float(k), **p)
        assert one.region == eq.region[i]
        assert one.s == pytest.approx(float(np.asarray(eq.s)[i]), abs=1e-15)


@NUMERIC
@given(game_params(), st.floats(0.0, 1.0))
def test_closed_form_equals_numerical_solver(p: dict[str, float], u: float) -> None:
    k = k_between(p, u)
    c = cutoffs(p["q"], p["c_A"], p["c_O"], p["m_O"])
    # Within rounding of a cut-off the two solvers may legitimately fall on either side.
    assume(min(abs(k / c.k1 - 1), abs(k / c.k2 - 1), abs(k / c.k3 - 1)) > 1e-6)
    e = solve(k, **p)
    n = solve_numeric(k, **p)
    assume(abs(p["k_S"] * e.s - p["W"]) > 1e-7 * p["W"])  # same for S's budget edge
    assert (n.region, n.who_revises) == (e.region, e.who_revises)
    scale = max(1.0, p["m_O"], e.m_A)
    for name in ("s", "m_A", "D_O", "D_A"):
        assert getattr(n, name) == pytest.approx(getattr(e, name), abs=1e-6 * scale), name
    for name in ("payoff_A", "payoff_O", "payoff_S", "burden_share", "V_R"):
        assert getattr(n, name) == pytest.approx(getattr(e, name), abs=1e-7), name
