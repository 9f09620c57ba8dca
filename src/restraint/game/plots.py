"""Figures of the model: region maps over two parameters, offers and arms against k.

matplotlib is imported lazily and forced onto the non-interactive Agg backend, so the
figures work on servers and in tests. Every ``out=`` path is written atomically.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from restraint._io import atomic_write
from restraint.game.closed_form import solve
from restraint.game.equilibrium import (
    INVALID,
    K_ORDER,
    NO_OFFER,
    Equilibrium,
)
from restraint.game.params import PARAM_HELP, PARAM_NAMES, WORKED_EXAMPLE, GameParameterError

if TYPE_CHECKING:
    from matplotlib.figure import Figure

#: Categories of a region map: the regions in their order along k, no_offer split by who
#: then revises, and the invalid part of the plane.
CATEGORIES: tuple[str, ...] = (
    "revision (A revises)",
    "no offer (A revises)",
    "restraint",
    "no alliance (A deters alone)",
    "deterrence",
    "no offer (O revises)",
)
COLORS: tuple[str, ...] = ("#d73027", "#f4a582", "#4575b4", "#bababa", "#1a9850", "#fdae61")
INVALID_COLOR = "#ffffff"

_LOG_DEFAULT = {"k": True, "m_O": True, "k_S": True, "W": True}


def _mpl() -> Any:
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def category_codes(eq: Equilibrium) -> np.ndarray:
    """Map region and who-revises codes to the indices of :data:`CATEGORIES` (-1 invalid)."""
    region = np.asarray(eq.region_code)
    who = np.asarray(eq.who_code)
    out = np.full(region.shape, INVALID, dtype=np.int8)
    for i, (r, w) in enumerate(K_ORDER):
        if r == NO_OFFER:
            out[(region == r) & (who == w)] = i
        else:
            out[region == r] = i
    return out


def default_range(name: str, fixed: dict[str, float]) -> tuple[float, float]:
    """A range of a parameter that shows its valid domain given the fixed parameters."""
    q, c_A, c_O = fixed.get("q"), fixed.get("c_A"), fixed.get("c_O")
    if name == "k":
        return 0.02, 5.0
    if name == "q":
        lo = (c_O if c_O is not None else 0.0) + 0.002
        hi = 1 - (c_A if c_A is not None else 0.0) - 0.002
        return lo, hi
    if name == "c_A":
        return 0.002, (1 - q) * 0.998 if q is not None else 0.998
    if name == "c_O":
        return 0.002, q * 0.998 if q is not None else 0.998
    if name == "m_O":
        return 0.1, 10.0
    if name in ("k_S", "W"):
        return 0.01, 10.0
    raise GameParameterError(f"unknown parameter {name!r}; expected one of {PARAM_NAMES}")


@dataclass
class RegionMap:
    """A region map: axis values, category codes (:data:`CATEGORIES`) and the equilibria."""

    x: str
    y: str
    xs: np.ndarray
    ys: np.ndarray
    categories: np.ndarray  # shape (len(ys), len(xs))
    equilibrium: Equilibrium
    fixed: dict[str, float]
    log_x: bool
    log_y: bool

    def shares(self) -> dict[str, float]:
        """Fraction of the valid plane in each category."""
        valid = self.categories >= 0
        n = max(int(valid.sum()), 1)
        return {c: float((self.categories == i).sum()) / n for i, c in enumerate(CATEGORIES)}


def _axis(lo: float, hi: float, n: int, log: bool) -> np.ndarray:
    if log:
        if lo <= 0:
            raise GameParameterError(f"a log axis needs a positive lower end, got {lo!r}")
        return np.geomspace(lo, hi, n)
    return np.linspace(lo, hi, n)


def region_map(
    x: str = "k",
    y: str = "q",
    *,
    n: int = 400,
    ny: int | None = None,
    x_range: tuple[float, float] | None = None,
    y_range: tuple[float, float] | None = None,
    log_x: bool | None = None,
    log_y: bool | None = None,
    **fixed: float,
) -> RegionMap:
    """Equilibrium regions over an n x ny grid of two parameters (closed form, vectorised).

    ``fixed`` sets the other parameters (default: GAME.md's worked example). Points outside
    the model's domain (e.g. q <= c_O on a q axis) get category -1 instead of an error.
    """
    for name in (x, y):
        if name not in PARAM_NAMES:
            raise GameParameterError(
                f"unknown axis parameter {name!r}; expected one of {PARAM_NAMES}"
            )
    if x == y:
        raise GameParameterError(f"x and y must be different parameters, both are {x!r}")
    unknown = set(fixed) - set(PARAM_NAMES)
    if unknown:
        raise GameParameterError(f"unknown parameter(s) {sorted(unknown)}; expected {PARAM_NAMES}")
    if int(n) < 2 or (ny is not None and int(ny) < 2):
        raise GameParameterError(f"n = {n!r}, ny = {ny!r}: a map needs at least 2 points per axis")
    params = {**WORKED_EXAMPLE, **{k: float(v) for k, v in fixed.items()}}
    others = {k: v for k, v in params.items() if k not in (x, y)}
    lx = _LOG_DEFAULT.get(x, False) if log_x is None else log_x
    ly = _LOG_DEFAULT.get(y, False) if log_y is None else log_y
    xr = x_range or default_range(x, others)
    yr = y_range or default_range(y, others)
    for name, (lo, hi) in ((x, xr), (y, yr)):
        if not (np.isfinite(lo) and np.isfinite(hi) and hi > lo):
            raise GameParameterError(
                f"range of {name} must be finite with max > min, got {(lo, hi)}"
            )
    xs = _axis(xr[0], xr[1], int(n), lx)
    ys = _axis(yr[0], yr[1], int(ny or n), ly)
    grid = dict(others)
    grid[x] = xs[None, :]
    grid[y] = ys[:, None]
    eq = solve(**grid, invalid="nan")
    return RegionMap(x, y, xs, ys, category_codes(eq), eq, others, lx, ly)


def _legend_handles() -> list:
    from matplotlib.patches import Patch

    return [
        Patch(facecolor=color, edgecolor="k", linewidth=0.3, label=label)
        for color, label in zip(COLORS, CATEGORIES, strict=True)
    ]


def plot_region_map(
    x: str = "k",
    y: str = "q",
    out: str | os.PathLike[str] | None = None,
    *,
    n: int = 400,
    ax: Any = None,
    cutoff_lines: bool = True,
    dpi: int = 150,
    precomputed: RegionMap | None = None,
    **kwargs: Any,
) -> Figure:
    """Draw (and with ``out``, save atomically) a region map; kwargs go to :func:`region_map`.

    With k on an axis the cut-offs k1, k2, k3 are drawn as lines across the other axis.
    ``precomputed`` draws an existing :class:`RegionMap` instead of computing one.
    """
    plt = _mpl()
    from matplotlib.colors import ListedColormap

    rm = precomputed if precomputed is not None else region_map(x, y, n=n, **kwargs)
    if ax is None:
        fig, ax = plt.subplots(figsize=(7.5, 5.2), layout="constrained")
    else:
        fig = ax.figure
    cmap = ListedColormap([INVALID_COLOR, *COLORS])
    data = rm.categories.astype(float) + 1  # invalid (-1) -> 0
    ax.pcolormesh(
        rm.xs,
        rm.ys,
        data,
        cmap=cmap,
        vmin=-0.5,
        vmax=len(COLORS) + 0.5,
        shading="nearest",
        rasterized=True,
    )
    if rm.log_x:
        ax.set_xscale("log")
    if rm.log_y:
        ax.set_yscale("log")
    if cutoff_lines and "k" in (x, y):
        eq = rm.equilibrium
        other_vals = rm.ys if x == "k" else rm.xs
        for name, style in (("k1", "-"), ("k2", "--"), ("k3", ":")):
            vals = np.asarray(getattr(eq, name))
            line = vals[:, 0] if x == "k" else vals[0, :]
            if x == "k":
                ax.plot(line, other_vals, style, color="k", lw=1, label=name)
            else:
                ax.plot(other_vals, line, style, color="k", lw=1, label=name)
        ax.set_xlim(rm.xs[0], rm.xs[-1])
        ax.set_ylim(rm.ys[0], rm.ys[-1])
    ax.set_xlabel(f"{x}: {PARAM_HELP[x]}")
    ax.set_ylabel(f"{y}: {PARAM_HELP[y]}")
    fixed = ", ".join(f"{k}={v:g}" for k, v in rm.fixed.items())
    ax.set_title(f"Equilibrium regions\n{fixed}", fontsize=9)
    handles = _legend_handles()
    if cutoff_lines and "k" in (x, y):
        handles += ax.get_legend_handles_labels()[0]
    ax.legend(
        handles=handles, fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False
    )
    if out is not None:
        save_figure(fig, out, dpi=dpi)
    return fig


def save_figure(fig: Figure, out: str | os.PathLike[str], dpi: int = 150) -> None:
    """Save a figure atomically; the format follows the file's suffix (png, pdf, svg)."""
    suffix = os.path.splitext(os.fspath(out))[1].lower().lstrip(".")
    if not suffix:
        raise GameParameterError(
            f"output file {os.fspath(out)!r} needs a suffix (.png, .pdf, .svg)"
        )
    atomic_write(out, lambda p: fig.savefig(p, dpi=dpi, format=suffix))


def curves(
    k_range: tuple[float, float] = (0.02, 5.0),
    n: int = 600,
    *,
    log_k: bool = True,
    numeric: bool = False,
    numeric_options: dict[str, Any] | None = None,
    **params: float,
) -> dict[str, np.ndarray]:
    """S's forces, A's arms, the burden share and the region along k.

    Closed form by default; ``numeric=True`` runs :func:`restraint.game.solve_numeric` at
    each k (with ``numeric_options`` such as r, k_O, offer), e.g. to plot a generalisation.
    """
    lo, hi = k_range
    if not (0 < lo < hi and np.isfinite(hi)):
        raise GameParameterError(f"k range must satisfy 0 < min < max, got {k_range}")
    ks = _axis(lo, hi, int(n), log_k)
    if numeric:
        from restraint.game.numeric import solve_numeric

        rows = [solve_numeric(float(k), **params, **(numeric_options or {})) for k in ks]
        get = lambda name: np.array([getattr(e, name) for e in rows], dtype=float)  # noqa: E731
        cat = np.array([category_codes(e) for e in rows]).reshape(-1)
        return {
            "k": ks,
            "s": get("s"),
            "m_A": get("m_A"),
            "burden_share": get("burden_share"),
            "category": cat,
            "D_O": get("D_O"),
            "D_A": get("D_A"),
        }
    if numeric_options:
        raise GameParameterError("numeric_options need numeric=True")
    eq = solve(ks, **params)
    return {
        "k": ks,
        "s": eq.s,
        "m_A": eq.m_A,
        "burden_share": eq.burden_share,
        "category": category_codes(eq),
        "D_O": np.broadcast_to(eq.D_O, ks.shape),
        "D_A": np.broadcast_to(eq.D_A, ks.shape),
        "k1": float(np.ravel(eq.k1)[0]),
        "k2": float(np.ravel(eq.k2)[0]),
        "k3": float(np.ravel(eq.k3)[0]),
        "k_hat": float(np.ravel(eq.k_hat)[0]),
    }


def plot_curves(
    out: str | os.PathLike[str] | None = None,
    *,
    k_range: tuple[float, float] = (0.02, 5.0),
    n: int = 600,
    log_k: bool = True,
    numeric: bool = False,
    numeric_options: dict[str, Any] | None = None,
    dpi: int = 150,
    **params: float,
) -> Figure:
    """Burden share (top) and forces (bottom) against k, regions shaded, cut-offs marked."""
    plt = _mpl()
    c = curves(k_range, n, log_k=log_k, numeric=numeric, numeric_options=numeric_options, **params)
    fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(7.5, 6.5), sharex=True, layout="constrained")
    ks = c["k"]
    # Shade the regions: contiguous runs of one category.
    cats = c["category"]
    edges = np.concatenate(
        [[ks[0]], np.sqrt(ks[1:] * ks[:-1]) if log_k else (ks[1:] + ks[:-1]) / 2, [ks[-1]]]
    )
    start = 0
    for i in range(1, len(ks) + 1):
        if i == len(ks) or cats[i] != cats[start]:
            if cats[start] >= 0:
                for ax in (ax1, ax2):
                    ax.axvspan(edges[start], edges[i], color=COLORS[cats[start]], alpha=0.18, lw=0)
            start = i
    ax1.plot(ks, c["burden_share"], color="k", lw=1.5, label="S's share s/(s+m_A)")
    ax1.set_ylabel("S's burden share")
    ax1.set_ylim(-0.03, 1.05)
    ax2.plot(ks, c["s"], color="#4575b4", lw=1.5, label="S's forces s")
    ax2.plot(ks, c["m_A"], color="#d73027", lw=1.5, label="A's arms m_A")
    ax2.plot(ks, c["D_O"], color="k", lw=0.8, ls="--", label="D_O (deters O)")
    ax2.plot(ks, c["D_A"], color="k", lw=0.8, ls=":", label="D_A (A revises above)")
    ax2.set_ylabel("forces")
    ax2.set_xlabel("k: A's cost per unit of arms")
    ymax = float(np.nanmax(c["D_A"])) * 1.15
    ax2.set_ylim(0, max(ymax, float(np.nanmax(np.minimum(c["m_A"], 3 * ymax))) * 1.02))
    if log_k:
        ax2.set_xscale("log")
    if "k1" in c:
        labels = (
            ("k_hat", (0, (1, 3)), 0.06),
            ("k1", "-", 1.06),
            ("k2", "--", 1.06),
            ("k3", ":", 1.06),
        )
        for name, style, height in labels:
            kv = c[name]
            if ks[0] <= kv <= ks[-1]:
                for ax in (ax1, ax2):
                    ax.axvline(kv, color="0.25", lw=0.9, ls=style)
                # k_hat sits next to k1; label it at the bottom so the two stay legible.
                ax1.annotate(
                    name,
                    (kv, height),
                    fontsize=8,
                    ha="left",
                    va="center",
                    annotation_clip=False,
                    xytext=(2, 0),
                    textcoords="offset points",
                )
    ax1.legend(
        handles=[*ax1.get_legend_handles_labels()[0], *_legend_handles()],
        fontsize=7,
        loc="upper left",
        bbox_to_anchor=(1.01, 1.0),
        frameon=False,
    )
    ax2.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    p = {**WORKED_EXAMPLE, **params}
    p.pop("k")
    if numeric and (numeric_options or {}).get("k_O") is not None:
        p.pop("m_O")  # O chooses its forces
    title = ", ".join(f"{k}={v:g}" for k, v in p.items())
    if numeric and numeric_options:
        title += " | " + ", ".join(f"{k}={v}" for k, v in numeric_options.items())
    ax1.set_title(f"Burden share and arms against k\n{title}", fontsize=9)
    if out is not None:
        save_figure(fig, out, dpi=dpi)
    return fig


__all__ = [
    "CATEGORIES",
    "COLORS",
    "RegionMap",
    "category_codes",
    "curves",
    "default_range",
    "plot_curves",
    "plot_region_map",
    "region_map",
    "save_figure",
]
