"""`restraint game`: solve the model, draw maps and curves, print the cut-offs."""

from __future__ import annotations

import json
import math
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from restraint.game.params import PARAM_HELP, PARAM_NAMES, WORKED_EXAMPLE, GameParameterError

app = typer.Typer(
    name="game",
    help="The alliance burden-sharing model (restraint vs deterrence): docs/game.md.",
    no_args_is_help=True,
    add_completion=False,
)

_W = WORKED_EXAMPLE


class Offer(StrEnum):
    """How S's offer is expressed."""

    forces = "forces"
    share = "share"


class Fmt(StrEnum):
    """Output format of a table."""

    md = "md"
    csv = "csv"
    json = "json"


def _param(name: str, flag: str) -> Any:
    return typer.Option(flag, help=f"{PARAM_HELP[name]}.")


K = Annotated[float, _param("k", "--k")]
Q = Annotated[float, _param("q", "--q")]
CA = Annotated[float, _param("c_A", "--c-A")]
CO = Annotated[float, _param("c_O", "--c-O")]
MO = Annotated[float, _param("m_O", "--m-O")]
KS = Annotated[float, _param("k_S", "--k-S")]
WW = Annotated[float, _param("W", "--W")]
R = Annotated[float, typer.Option("--r", help="Tullock exponent of the contest (numeric).")]
KO = Annotated[
    float | None,
    typer.Option(
        "--k-O", help="O's cost per unit of forces: O chooses m_O (numeric; ignores --m-O)."
    ),
]
OFFER = Annotated[Offer, typer.Option("--offer", help="S offers forces or a share (numeric).")]


def _fail(exc: Exception) -> None:
    typer.echo(f"error: {exc}", err=True)
    raise typer.Exit(code=2)


def _jsonable(d: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for key, v in d.items():
        if hasattr(v, "item"):
            v = v.item()
        if isinstance(v, float) and not math.isfinite(v):
            v = None
        out[key] = v
    return out


@app.command("solve")
def solve_cmd(
    k: K = _W["k"],
    q: Q = _W["q"],
    c_A: CA = _W["c_A"],
    c_O: CO = _W["c_O"],
    m_O: MO = _W["m_O"],
    k_S: KS = _W["k_S"],
    W: WW = _W["W"],
    numeric: Annotated[
        bool, typer.Option("--numeric", help="Numerical backward induction instead of closed form.")
    ] = False,
    r: R = 1.0,
    k_O: KO = None,
    offer: OFFER = Offer.forces,
    total: Annotated[
        float | None, typer.Option("--total", help="Total forces of a share offer (default D_O).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the equilibrium as JSON.")] = False,
) -> None:
    """Print the equilibrium at one parameter point (defaults: GAME.md's worked example)."""
    from restraint.game import solve, solve_numeric

    generalised = r != 1.0 or k_O is not None or offer != Offer.forces or total is not None
    try:
        if numeric or generalised:
            eq = solve_numeric(
                k,
                q,
                c_A,
                c_O,
                None if k_O is not None else m_O,
                k_S,
                W,
                r=r,
                k_O=k_O,
                offer=offer.value,
                total=total,
            )
        else:
            eq = solve(k, q, c_A, c_O, m_O, k_S, W)
    except GameParameterError as exc:
        _fail(exc)
    if as_json:
        typer.echo(json.dumps(_jsonable(eq.to_dict()), indent=2))
    else:
        typer.echo(eq.summary())


def _parse_range(text: str | None, name: str) -> tuple[float, float] | None:
    if text is None:
        return None
    try:
        lo, hi = (float(v) for v in text.split(","))
    except ValueError:
        raise GameParameterError(f"--{name}-range must be 'MIN,MAX', got {text!r}") from None
    return lo, hi


_MAP_OUT = Path("game_map.png")
_CURVES_OUT = Path("game_curves.png")


@app.command("map")
def map_cmd(
    x: Annotated[
        str, typer.Option("--x", help=f"Parameter on the x axis: {', '.join(PARAM_NAMES)}.")
    ] = "k",
    y: Annotated[str, typer.Option("--y", help="Parameter on the y axis.")] = "q",
    out: Annotated[
        Path, typer.Option("--out", help="Output figure (.png, .pdf, .svg).")
    ] = _MAP_OUT,
    n: Annotated[int, typer.Option("--n", help="Grid points per axis.")] = 400,
    x_range: Annotated[str | None, typer.Option("--x-range", help="MIN,MAX of the x axis.")] = None,
    y_range: Annotated[str | None, typer.Option("--y-range", help="MIN,MAX of the y axis.")] = None,
    k: K = _W["k"],
    q: Q = _W["q"],
    c_A: CA = _W["c_A"],
    c_O: CO = _W["c_O"],
    m_O: MO = _W["m_O"],
    k_S: KS = _W["k_S"],
    W: WW = _W["W"],
) -> None:
    """Draw the equilibrium regions over two parameters (the others fixed)."""
    import matplotlib.pyplot as plt

    from restraint.game.plots import CATEGORIES, plot_region_map, region_map

    fixed = {"k": k, "q": q, "c_A": c_A, "c_O": c_O, "m_O": m_O, "k_S": k_S, "W": W}
    fixed = {key: v for key, v in fixed.items() if key not in (x, y)}
    try:
        kw = {"x_range": _parse_range(x_range, "x"), "y_range": _parse_range(y_range, "y")}
        rm = region_map(x, y, n=n, **kw, **fixed)
        fig = plot_region_map(x, y, out, precomputed=rm)
    except GameParameterError as exc:
        _fail(exc)
    shares = rm.shares()
    plt.close(fig)
    typer.echo(f"wrote {out}")
    for cat in CATEGORIES:
        typer.echo(f"  {cat:<30} {100 * shares[cat]:5.1f}% of the valid plane")


@app.command("curves")
def curves_cmd(
    out: Annotated[Path, typer.Option("--out", help="Output figure.")] = _CURVES_OUT,
    k_min: Annotated[float, typer.Option("--k-min", help="Smallest k.")] = 0.02,
    k_max: Annotated[float, typer.Option("--k-max", help="Largest k.")] = 5.0,
    n: Annotated[int, typer.Option("--n", help="Points along k.")] = 600,
    q: Q = _W["q"],
    c_A: CA = _W["c_A"],
    c_O: CO = _W["c_O"],
    m_O: MO = _W["m_O"],
    k_S: KS = _W["k_S"],
    W: WW = _W["W"],
    r: R = 1.0,
    k_O: KO = None,
    offer: OFFER = Offer.forces,
) -> None:
    """Draw S's burden share, S's forces and A's arms against k, cut-offs marked."""
    import matplotlib.pyplot as plt

    from restraint.game.plots import plot_curves

    params: dict[str, float] = {"q": q, "c_A": c_A, "c_O": c_O, "m_O": m_O, "k_S": k_S, "W": W}
    opts: dict[str, Any] = {}
    if r != 1.0:
        opts["r"] = r
    if k_O is not None:
        opts["k_O"] = k_O
        params.pop("m_O")
    if offer != Offer.forces:
        opts["offer"] = offer.value
    try:
        fig = plot_curves(
            out,
            k_range=(k_min, k_max),
            n=n,
            numeric=bool(opts),
            numeric_options=opts or None,
            **params,
        )
    except GameParameterError as exc:
        _fail(exc)
    plt.close(fig)
    typer.echo(f"wrote {out}")


@app.command("cutoffs")
def cutoffs_cmd(
    q: Q = _W["q"],
    c_A: CA = _W["c_A"],
    c_O: CO = _W["c_O"],
    m_O: MO = _W["m_O"],
    fmt: Annotated[Fmt, typer.Option("--format", help="md (Markdown), csv or json.")] = Fmt.md,
    out: Annotated[
        Path | None, typer.Option("--out", help="Write the table to this file (atomically).")
    ] = None,
) -> None:
    """Print the thresholds D_O, D_A and the cut-offs k_hat, k1, k2, k3."""
    from restraint._io import atomic_write_text
    from restraint.game import cutoff_table, to_markdown

    try:
        df = cutoff_table(q, c_A, c_O, m_O)
    except GameParameterError as exc:
        _fail(exc)
    if fmt == Fmt.md:
        text = to_markdown(df) + "\n"
    elif fmt == Fmt.csv:
        text = df.to_csv(index=False)
    else:
        text = json.dumps(df.to_dict(orient="records"), indent=2) + "\n"
    if out is not None:
        atomic_write_text(out, text)
        typer.echo(f"wrote {out}")
    else:
        typer.echo(text, nl=False)
