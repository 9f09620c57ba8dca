"""Parameter validation, result objects, figures, tables and the `restraint game` CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from restraint.cli import app
from restraint.game import (
    GameParameterError,
    cutoff_table,
    solve,
    to_markdown,
)
from restraint.game.plots import CATEGORIES, curves, plot_curves, plot_region_map, region_map

PNG = b"\x89PNG\r\n\x1a\n"


# -- validation ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"k": 0.0}, r"k = 0.0: must be > 0"),
        ({"k": -1.0}, r"k = -1.0: must be > 0"),
        ({"k": float("nan")}, r"k = nan: must be a finite number"),
        ({"k": 0.2, "q": 1.2}, r"q = 1.2: must lie in \(0, 1\)"),
        ({"k": 0.2, "q": 0.05}, r"c_O = 0.1 \(q = 0.05\): must be < q"),
        ({"k": 0.2, "q": 0.95}, r"c_A = 0.1 \(q = 0.95\): must be < 1 - q"),
        ({"k": 0.2, "m_O": 0.0}, r"m_O = 0.0: must be > 0"),
        ({"k": 0.2, "k_S": -0.3}, r"k_S = -0.3: must be > 0"),
        ({"k": 0.2, "W": 0.0}, r"W = 0.0: must be > 0"),
        ({"k": 0.2, "c_A": 0.0}, r"c_A = 0.0: must be > 0"),
        ({"k": [0.2, -1.0, -2.0]}, r"k = -1.0 at index \(1,\) \(2 offending values\)"),
        ({"k": "abc"}, r"k must be a number"),
        ({"k": np.ones(3), "q": np.full(2, 0.5)}, r"do not broadcast"),
    ],
)
def test_invalid_parameters_are_named(kwargs: dict, match: str) -> None:
    with pytest.raises(GameParameterError, match=match):
        solve(**kwargs)


def test_game_parameter_error_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        solve(k=-1)


def test_invalid_nan_masks_points() -> None:
    q = np.array([0.05, 0.5, 0.95])
    eq = solve(0.2, q=q, invalid="nan")
    assert list(eq.region) == ["invalid", "restraint", "invalid"]
    assert np.isnan(eq.s[0]) and np.isnan(eq.s[2]) and np.isfinite(eq.s[1])
    assert list(eq.valid) == [False, True, False]


def test_broadcasting_shapes_and_frame() -> None:
    eq = solve(np.array([0.1, 0.2, 1.0])[:, None], q=np.array([0.4, 0.5]))
    assert eq.shape == (3, 2)
    df = eq.to_frame()
    assert len(df) == 6 and {"k", "q", "region", "s", "m_A", "k1"} <= set(df.columns)
    assert df.loc[(df.k == 0.2) & (df.q == 0.5), "region"].item() == "restraint"
    with pytest.raises(ValueError, match="scalar"):
        eq.to_dict()


def test_scalar_results_are_python_scalars() -> None:
    eq = solve(0.2)
    assert isinstance(eq.s, float) and isinstance(eq.region, str)
    assert isinstance(eq.vr_floor_binds, bool)
    d = eq.to_dict()
    assert d["region"] == "restraint" and d["k"] == 0.2
    assert "restraint" in eq.summary()


# -- S's budget ----------------------------------------------------------------------------


def test_no_offer_when_s_cannot_afford_it() -> None:
    # k = 0.2 needs s = 1/6: affordable iff k_S / 6 <= W.
    assert solve(0.2, k_S=1.8, W=0.3).region == "restraint"  # exactly at the budget
    eq = solve(0.2, k_S=2.0, W=0.3)
    assert eq.region == "no_offer" and eq.who_revises == "A"
    assert eq.s == 0.0 and eq.payoff_S == 0.0 and eq.m_A == pytest.approx(1.5)
    eq = solve(3.0, k_S=1.0, W=0.5)  # s_D ~ 0.59 > 0.5
    assert eq.region == "no_offer" and eq.who_revises == "O"
    assert eq.payoff_O == pytest.approx(1.0)  # A arms nothing, war value 0 - c_A floored


# -- tables ---------------------------------------------------------------------------------


def test_cutoff_table_and_markdown() -> None:
    df = cutoff_table()
    assert list(df["quantity"]) == ["D_O", "D_A", "k_hat", "k1", "k2", "k3"]
    np.testing.assert_allclose(df["value"], df["brentq"], rtol=1e-9)
    md = to_markdown(df)
    lines = md.splitlines()
    assert lines[0].startswith("| quantity | formula | value")
    assert lines[1].count("---") == 5 and len(lines) == 8
    assert "| k2 | V_R(k) = q - k D_O | 0.24 |" in md


# -- figures ----------------------------------------------------------------------------------


def test_region_map_categories_and_shape() -> None:
    rm = region_map("k", "q", n=60, ny=40)
    assert rm.categories.shape == (40, 60)
    shares = rm.shares()
    assert set(shares) == set(CATEGORIES)
    assert sum(shares.values()) == pytest.approx(1.0)
    assert shares["restraint"] > 0 and shares["deterrence"] > 0
    # Along every row (fixed q) categories only move forward in k.
    assert np.all(np.diff(rm.categories, axis=1) >= 0)


def test_region_map_masks_invalid_part_of_the_plane() -> None:
    rm = region_map("c_A", "q", n=30, x_range=(0.01, 0.9), y_range=(0.2, 0.9))
    invalid = rm.categories < 0
    c_a, q = np.meshgrid(rm.xs, rm.ys)
    np.testing.assert_array_equal(invalid, ~(q < 1 - c_a))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"x": "k", "y": "k"}, "different"),
        ({"x": "z", "y": "q"}, "unknown axis parameter 'z'"),
        ({"x": "k", "y": "q", "x_range": (1.0, 0.5)}, "max > min"),
        ({"x": "k", "y": "q", "bogus": 1.0}, "unknown parameter"),
    ],
)
def test_region_map_errors(kwargs: dict, match: str) -> None:
    with pytest.raises(GameParameterError, match=match):
        region_map(n=10, **kwargs)


def test_plots_write_png_atomically(tmp_path: Path) -> None:
    import matplotlib.pyplot as plt

    out = tmp_path / "sub" / "map.png"
    plt.close(plot_region_map("k", "m_O", out, n=50))
    assert out.read_bytes()[:8] == PNG
    out2 = tmp_path / "curves.svg"
    plt.close(plot_curves(out2, n=80))
    assert out2.read_text().lstrip().startswith("<?xml")
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["curves.svg", "map.png", "sub"]


def test_curves_closed_and_numeric_agree() -> None:
    c = curves((0.1, 2.0), 25)
    n = curves((0.1, 2.0), 25, numeric=True)
    np.testing.assert_allclose(n["s"], c["s"], atol=1e-6)
    np.testing.assert_array_equal(n["category"], c["category"])
    assert c["k1"] < c["k2"] < c["k3"]


# -- CLI ----------------------------------------------------------------------------------------


runner = CliRunner()


def test_cli_solve_defaults_to_worked_example() -> None:
    res = runner.invoke(app, ["game", "solve", "--k", "0.2"])
    assert res.exit_code == 0, res.output
    assert "restraint" in res.stdout and "0.166667" in res.stdout


def test_cli_solve_json_and_generalisations() -> None:
    res = runner.invoke(app, ["game", "solve", "--k", "1", "--json"])
    d = json.loads(res.stdout)
    assert d["region"] == "deterrence" and d["s"] == pytest.approx(0.2937, abs=1e-4)
    res = runner.invoke(app, ["game", "solve", "--k", "1", "--offer", "share", "--json"])
    d = json.loads(res.stdout)
    assert d["solver"] == "numeric" and d["s"] == pytest.approx(1 / 6, abs=1e-9)
    res = runner.invoke(app, ["game", "solve", "--k", "0.6", "--r", "3"])
    assert res.exit_code == 0 and "claim 1 fails" in res.stdout


def test_cli_solve_bad_parameter_exits_2() -> None:
    res = runner.invoke(app, ["game", "solve", "--k", "0.2", "--q", "0.05"])
    assert res.exit_code == 2
    assert "c_O = 0.1 (q = 0.05): must be < q" in res.output


def test_cli_map_curves_cutoffs(tmp_path: Path) -> None:
    out = tmp_path / "m.png"
    res = runner.invoke(
        app, ["game", "map", "--x", "k", "--y", "q", "--out", str(out), "--n", "40"]
    )
    assert res.exit_code == 0, res.output
    assert out.read_bytes()[:8] == PNG and "restraint" in res.stdout
    out = tmp_path / "c.png"
    res = runner.invoke(app, ["game", "curves", "--out", str(out), "--n", "50"])
    assert res.exit_code == 0, res.output
    assert out.read_bytes()[:8] == PNG
    res = runner.invoke(app, ["game", "cutoffs"])
    assert res.exit_code == 0 and "| k3 |" in res.stdout
    out = tmp_path / "cut.csv"
    res = runner.invoke(app, ["game", "cutoffs", "--format", "csv", "--out", str(out)])
    assert res.exit_code == 0 and out.read_text().startswith("quantity,formula,value")
    res = runner.invoke(app, ["game", "map", "--x", "k", "--y", "q", "--x-range", "1", "--n", "5"])
    assert res.exit_code == 2 and "MIN,MAX" in res.output
