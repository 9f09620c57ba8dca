"""GAME.md's worked example (q = 0.5, c_A = c_O = 0.1, m_O = 1, k_S = W = 0.3)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from restraint.game import WORKED_EXAMPLE, cutoffs, solve, solve_numeric, value_revise
from restraint.game.params import thresholds

# GAME.md prints these to the digits shown; compare to half a unit in the last digit.
PRINTED = {
    "D_O": (2 / 3, 1e-12),
    "D_A": (1.5, 1e-12),
    "k_hat": (0.16, 1e-12),
    "k1": (0.135, 5e-4),
    "k2": (0.24, 1e-12),
    "k3": (0.75, 1e-12),
}
POINTS = [  # k, s, m_A (None: not printed), tolerance
    (0.2, 0.167, 0.5, 5e-4),
    (1.0, 0.294, 0.373, 5e-4),
    (3.0, 0.590, None, 5e-4),
]


@pytest.mark.parametrize("name", list(PRINTED))
@pytest.mark.parametrize("method", ["closed", "brentq"])
def test_thresholds_and_cutoffs(name: str, method: str) -> None:
    c = cutoffs(method=method).as_dict()
    value, tol = PRINTED[name]
    assert c[name] == pytest.approx(value, abs=tol)


@pytest.mark.parametrize("solver", ["closed", "numeric"])
@pytest.mark.parametrize(("k", "s", "m_a", "tol"), POINTS)
def test_offers_and_arms(solver: str, k: float, s: float, m_a: float | None, tol: float) -> None:
    eq = solve(k) if solver == "closed" else solve_numeric(k)
    assert eq.s == pytest.approx(s, abs=tol)
    if m_a is not None:
        assert eq.m_A == pytest.approx(m_a, abs=tol)
    # The alliance exactly deters O: S's forces plus A's arms reach D_O, no more.
    assert eq.s + eq.m_A == pytest.approx(2 / 3, abs=1e-9)
    assert eq.region == ("restraint" if k < 0.24 else "deterrence")


def test_exact_values_derived_by_hand() -> None:
    # k = 0.2 > k_hat: V_R = q + c_A + c_O - k D_A = 0.4, s_R = D_O - (q - V_R)/k = 1/6.
    eq = solve(0.2)
    assert eq.V_R == pytest.approx(0.4, abs=1e-14)
    assert eq.s == pytest.approx(1 / 6, abs=1e-14)
    assert eq.burden_share == pytest.approx(0.25, abs=1e-14)
    # k = 1: V_S(k, s) = max(0, s/(s+1) - 0.1) and q - (2/3 - s) = s/(s+1) - 0.1 gives
    # s^2 - s/15 - 1/15 = 0.
    s1 = (1 / 15 + math.sqrt(1 / 225 + 4 / 15)) / 2
    assert solve(1.0).s == pytest.approx(s1, abs=1e-13)
    # k = 3: 3 s^2 + 0.6 s - 1.4 = 0.
    s3 = (-0.6 + math.sqrt(0.36 + 16.8)) / 6
    assert solve(3.0).s == pytest.approx(s3, abs=1e-13)


def test_payoffs_at_the_worked_points() -> None:
    eq = solve(0.2)
    assert eq.payoffs == pytest.approx({"A": 0.5 - 0.2 * 0.5, "O": 0.5, "S": 0.3 - 0.3 / 6})
    eq = solve(0.1)  # k < k1: A arms sqrt(m_O/k) - m_O and revises
    m = math.sqrt(10) - 1
    assert eq.region == "revision" and eq.who_revises == "A"
    assert eq.m_A == pytest.approx(m)
    assert eq.payoff_A == pytest.approx((1 - math.sqrt(0.1)) ** 2 + 0.1)
    assert eq.payoff_O == pytest.approx(1 / (1 + m) - 0.1)
    assert eq.payoff_S == 0.0


@pytest.mark.parametrize(
    ("k", "region"),
    [
        (0.13, "revision"),
        (0.135089, "restraint"),
        (0.24, "no_alliance"),
        (0.5, "no_alliance"),
        (0.75, "no_alliance"),
        (0.7501, "deterrence"),
    ],
)
def test_regions_at_and_around_the_cutoffs(k: float, region: str) -> None:
    assert solve(k).region == region
    assert solve_numeric(k).region == region


def test_vr_is_game_md_formula_where_the_floor_is_slack() -> None:
    # GAME.md: V_R = (1 - sqrt(k m_O))^2 + c_O for k <= k_hat, q + c_A + c_O - k D_A above.
    ks = np.linspace(0.02, 2.0, 500)
    v, _ = value_revise(ks)
    p = WORKED_EXAMPLE
    _, d_a = thresholds(p["q"], p["c_A"], p["c_O"], p["m_O"])
    k_hat = (1 - p["q"] - p["c_A"]) ** 2 / p["m_O"]
    spec = np.where(
        ks <= k_hat,
        (1 - np.sqrt(ks * p["m_O"])) ** 2 + p["c_O"],
        p["q"] + p["c_A"] + p["c_O"] - ks * d_a,
    )
    np.testing.assert_allclose(v, spec, atol=1e-13)
    assert not np.any(solve(ks).vr_floor_binds)


def test_vr_floor_binds_where_o_war_value_would_be_negative() -> None:
    # k < c_O^2/m_O: the printed formula exceeds 1 (A cannot get more than the whole good).
    eq = solve(0.005)
    assert eq.vr_floor_binds
    assert eq.V_R < (1 - math.sqrt(0.005)) ** 2 + 0.1
    assert eq.V_R == pytest.approx(1 - 0.005 * (1 - 0.1) / 0.1)  # kink m = m_O(1-c_O)/c_O = 9
    assert eq.m_A == pytest.approx(9.0)
    assert solve_numeric(0.005).payoff_A == pytest.approx(eq.V_R, abs=1e-9)
