"""`restraint game`: solve the model, draw maps and curves, print the cut-offs."""

from __future__ import annotations

import json
import math
from enum import Enum
from pathlib import Path
from typing import Any

import typer

from restraint.game.params import PARAM_HELP, PARAM_NAMES, WORKED_EXAMPLE, GameParameterError

app = typer.Typer(
    name="game",
    help="The alliance burden-sharing model (restraint vs deterrence): docs/game.md.",
    no_args_is_help=True,
    add_completion=False,
)

_W = WORKED_EXAMPLE


class Offer(str, Enum):
    """How S's offer is expressed."""

    forces = "forces"
    share = "share"


class Fmt(str, Enum):
    """Output format of a table."""

    md = "md"
    csv = "csv"
    json = "json"


def _opt(name: str, flag: str) -> Any:
    return typer.Option(_W[name], flag, help=f"{PARAM_HELP[name]} (default {_W[name]:g}).")


def _fail(exc: Exception) -> None:
    typer.echo(f"error: {exc}", err=True)
    raise typer.Exit(code=2)


def _jsonable(d: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for key, v in d.items():
        if isinstance(v, float) and not math.isfinite(v):
            v = None
        elif hasattr(v, "item"):
            v = v.item()
        out[key] = v
    return out


@app.command("solve")
def solve_cmd(
    k: float = typer.Option(_W["k"], "--k", help=f"{PARAM_HELP['k']} (default {_W['k']:g})."),
    q: float = _opt("q", "--q"),
    c_A: float = _opt("c_A", "--c-A"),
    c_O: float = _opt("c_O", "--c-O"),
    m_O: float = _opt("m_O", "--m-O"),
    k_S: float = _opt("k_S", "--k-S"),
    W: float = _opt("W", "--W"),
    numeric: bool = typer.Option(
        False, "--numeric", help="Solve by numerical backward induction instead of closed form."
    ),
    r: float = typer.Option(1.0, "--r", help="Tullock exponent of the contest (numeric)."),
    k_O: float | None = typer.Option(
        None, "--k-O", help="O's cost per unit of forces: O chooses m_O (numeric; ignores --m-O)."
    ),
    offer: Offer = typer.Option(Offer.forces, "--offer", help="S offers forces or a share (numeric)."),
    total: float | None = typer.Option(None, "--total", help="Total forces of a share offer (default D_O)."),
    as_json: bool = typer.Option(False, "--json", help="Print the equilibrium as JSON."),
) -> None:
    """Print the equilibrium at one parameter point (defaults: GAME.md's worked example)."""
    from restraint.game import solve, solve_numeric

    generalised = r != 1.0 or k_O is not None or offer != Offer.forces or total is not None
    try:
        if numeric or generalised:
            eq = solve_numeric(
                k, q, c_A, c_O, None if k_O is not None else m_O, k_S, W,
                r=r, k_O=k_O, offer=offer.value, total=total,
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


@app.command("map")
def map_cmd(
    x: str = typer.Option("k", "--x", help=f"Parameter on the x axis, one of {', '.join(PARAM_NAMES)}."),
    y: str = typer.Option("q", "--y", help="Parameter on the y axis."),
    out: Path = typer.Option(Path("game_map.png"), "--out", help="Output figure (.png, .pdf, .svg)."),
    n: int = typer.Option(400, "--n", help="Grid points per axis."),
    x_range: str | None = typer.Option(None, "--x-range", help="MIN,MAX of the x axis."),
    y_range: str | None = typer.Option(None, "--y-range", help="MIN,MAX of the y axis."),
    k: float = typer.Option(_W["k"], "--k", help="k when not on an axis."),
    q: float = _opt("q", "--q"),
    c_A: float = _opt("c_A", "--c-A"),
    c_O: float = _opt("c_O", "--c-O"),
    m_O: float = _opt("m_O", "--m-O"),
    k_S: float = _opt("k_S", "--k-S"),
    W: float = _opt("W", "--W"),
) -> None:
    """Draw the equilibrium regions over two parameters (the others fixed)."""
    from restraint.game.plots import CATEGORIES, plot_region_map, region_map

    fixed = {"k": k, "q": q, "c_A": c_A, "c_O": c_O, "m_O": m_O, "k_S": k_S, "W": W}
    fixed = {key: v for key, v in fixed.items() if key not in (x, y)}
    try:
        kw = {"x_range": _parse_range(x_range, "x"), "y_range": _parse_range(y_range, "y")}
        fig = plot_region_map(x, y, out, n=n, **kw, **fixed)
        shares = region_map(x, y, n=min(n, 200), **kw, **fixed).shares()
    except GameParameterError as exc:
        _fail(exc)
    import matplotlib.pyplot as plt

    plt.close(fig)
    typer.echo(f"wrote {out}")
    for cat in CATEGORIES:
        typer.echo(f"  {cat:<30} {100 * shares[cat]:5.1f}% of the valid plane")


@app.command("curves")
def curves_cmd(
    out: Path = typer.Option(Path("game_curves.png"), "--out", help="Output figure."),
    k_min: float = typer.Option(0.02, "--k-min", help="Smallest k."),
    k_max: float = typer.Option(5.0, "--k-max", help="Largest k."),
    n: int = typer.Option(600, "--n", help="Points along k."),
    q: float = _opt("q", "--q"),
    c_A: float = _opt("c_A", "--c-A"),
    c_O: float = _opt("c_O", "--c-O"),
    m_O: float = _opt("m_O", "--m-O"),
    k_S: float = _opt("k_S", "--k-S"),
    W: float = _opt("W", "--W"),
    r: float = typer.Option(1.0, "--r", help="Tullock exponent (numeric solver when != 1)."),
    k_O: float | None = typer.Option(None, "--k-O", help="O's cost of forces (numeric; ignores --m-O)."),
    offer: Offer = typer.Option(Offer.forces, "--offer", help="Offer as forces or share (numeric)."),
) -> None:
    """Draw S's burden share, S's forces and A's arms against k, cut-offs marked."""
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
            out, k_range=(k_min, k_max), n=n, numeric=bool(opts), numeric_options=opts or None, **params
        )
    except GameParameterError as exc:
        _fail(exc)
    import matplotlib.pyplot as plt

    plt.close(fig)
    typer.echo(f"wrote {out}")


@app.command("cutoffs")
def cutoffs_cmd(
    q: float = _opt("q", "--q"),
    c_A: float = _opt("c_A", "--c-A"),
    c_O: float = _opt("c_O", "--c-O"),
    m_O: float = _opt("m_O", "--m-O"),
    fmt: Fmt = typer.Option(Fmt.md, "--format", help="md (Markdown), csv or json."),
    out: Path | None = typer.Option(None, "--out", help="Write the table to this file."),
) -> None:
    """Print the thresholds D_O, D_A and the cut-offs k_hat, k1, k2, k3."""
    from restraint.game import cutoff_table, to_markdown
    from restraint.game._io import atomic_write_text

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
