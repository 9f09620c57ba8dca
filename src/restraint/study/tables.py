"""Publication tables: one neutral representation, four renderings (md, tex, html, csv).

Every number shown is formatted here from the fitted results, and the same formatting
helpers are used by the tests to check that each table agrees with ``results.json``.
"""

from __future__ import annotations

import csv
import functools
import html
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from restraint.study.fitting import Fit
from restraint.study.spec import StudySpec

STAR_LEVELS = ((0.01, "***"), (0.05, "**"), (0.1, "*"))
STARS_NOTE = "* p<0.1, ** p<0.05, *** p<0.01"


@dataclass
class Row:
    """One table row; ``kind`` drives styling (coef, se, ci, sigma, test, stat, data)."""

    label: str
    cells: list[str]
    kind: str = "data"


@dataclass
class Table:
    """A finished table: title, column headers (first is the row-label column), rows, notes."""

    id: str
    title: str
    header: list[str]
    rows: list[Row]
    notes: list[str] = field(default_factory=list)
    #: Per data column: where its numbers live in results.json (group, model id).
    sources: list[tuple[str, str]] = field(default_factory=list)

    # -- renderings ----------------------------------------------------------------------
    def to_markdown(self) -> str:
        """GitHub-flavoured Markdown."""
        esc = _md_escape
        lines = [f"**{esc(self.title)}**", ""]
        lines.append("| " + " | ".join(esc(h) for h in self.header) + " |")
        lines.append("|" + "|".join([":---"] + [":---:"] * (len(self.header) - 1)) + "|")
        for r in self.rows:
            lines.append("| " + " | ".join(esc(c) for c in [r.label, *r.cells]) + " |")
        if self.notes:
            # Stars are escaped in notes only: a note may start with "*", a list marker.
            for n in self.notes:
                lines += ["", esc(n).replace("*", "\\*")]
        return "\n".join(lines) + "\n"

    def to_latex(self) -> str:
        """A ``table`` float with a booktabs ``tabular`` (needs ``\\usepackage{booktabs}``)."""
        tex = _tex_escape
        spec = "l" + "c" * (len(self.header) - 1)
        out = [
            "\\begin{table}[htbp]",
            "\\centering",
            f"\\caption{{{tex(self.title)}}}",
            f"\\label{{tab:{self.id}}}",
            "\\small",
            f"\\begin{{tabular}}{{{spec}}}",
            "\\toprule",
            " & ".join(tex(h) for h in self.header) + " \\\\",
            "\\midrule",
        ]
        previous = None
        for r in self.rows:
            if r.kind == "stat" and previous not in (None, "stat"):
                out.append("\\midrule")
            out.append(" & ".join(tex(c) for c in [r.label, *r.cells]) + " \\\\")
            previous = r.kind
        out.append("\\bottomrule")
        out.append("\\end{tabular}")
        if self.notes:
            out.append("\\par\\smallskip")
            out.append(
                "\\parbox{\\linewidth}{\\footnotesize " + " ".join(tex(n) for n in self.notes) + "}"
            )
        out.append("\\end{table}")
        return "\n".join(out) + "\n"

    def to_html(self, *, standalone: bool = False) -> str:
        """An HTML ``<table>`` (or a whole page with ``standalone``)."""
        e = html.escape
        parts = [f'<table class="restraint-table" id="{e(self.id)}">']
        parts.append(f"<caption>{e(self.title)}</caption>")
        parts.append(
            "<thead><tr>"
            + "".join(f'<th scope="col">{e(h)}</th>' for h in self.header)
            + "</tr></thead>"
        )
        parts.append("<tbody>")
        for r in self.rows:
            cells = "".join(f"<td>{e(c)}</td>" for c in r.cells)
            parts.append(f'<tr class="{e(r.kind)}"><th scope="row">{e(r.label)}</th>{cells}</tr>')
        parts.append("</tbody>")
        if self.notes:
            span = len(self.header)
            notes = "<br>".join(e(n) for n in self.notes)
            parts.append(f'<tfoot><tr><td colspan="{span}">{notes}</td></tr></tfoot>')
        parts.append("</table>")
        body = "\n".join(parts) + "\n"
        if not standalone:
            return body
        return (
            '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f"<title>{e(self.title)}</title><style>{TABLE_CSS}</style></head>\n"
            f"<body>\n{body}</body></html>\n"
        )

    def to_csv(self) -> str:
        """The displayed layout as CSV (first column the row labels)."""
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(self.header)
        for r in self.rows:
            w.writerow([r.label, *r.cells])
        return buf.getvalue()

    def column(self, header: str) -> dict[str, list[str]]:
        """Cells of one column keyed by row label (labels may repeat: a list each)."""
        j = self.header.index(header) - 1
        out: dict[str, list[str]] = {}
        for r in self.rows:
            out.setdefault(r.label, []).append(r.cells[j])
        return out


TABLE_CSS = (
    "table.restraint-table{border-collapse:collapse;margin:1em 0;font-size:0.92em}"
    "table.restraint-table caption{text-align:left;font-weight:bold;padding:0.3em 0}"
    "table.restraint-table th,table.restraint-table td{padding:0.15em 0.7em;"
    "text-align:center;white-space:nowrap}"
    "table.restraint-table tbody th{text-align:left;font-weight:normal}"
    "table.restraint-table thead th{border-top:2px solid #222;border-bottom:1px solid #222}"
    "table.restraint-table tr.se td{color:#555}"
    "table.restraint-table tbody tr:last-child th,table.restraint-table tbody tr:last-child td"
    "{border-bottom:2px solid #222}"
    "table.restraint-table tfoot td{text-align:left;font-size:0.85em;color:#444;"
    "white-space:normal}"
)

# ---------------------------------------------------------------------------------------
# number formatting (shared with the tests)


def stars(p: float | None) -> str:
    """Significance stars: *** p<0.01, ** p<0.05, * p<0.1."""
    if p is None or not np.isfinite(p):
        return ""
    for level, mark in STAR_LEVELS:
        if p < level:
            return mark
    return ""


def num(x: float | None, digits: int = 3) -> str:
    """Fixed-point number with a plain hyphen-minus; '' for missing; no negative zero."""
    if x is None or not np.isfinite(x):
        return ""
    text = f"{x:.{digits}f}"
    if re.fullmatch(r"-0\.?0*", text):
        text = text[1:]
    return text


def coef_cell(coef: float, p: float | None, digits: int = 3) -> str:
    """Coefficient with stars."""
    return num(coef, digits) + stars(p)


def se_cell(se: float | None, digits: int = 3) -> str:
    """Standard error in parentheses."""
    return f"({num(se, digits)})" if se is not None and np.isfinite(se) else ""


def ci_cell(low: float, high: float, digits: int = 3) -> str:
    """Confidence interval in brackets."""
    return f"[{num(low, digits)}, {num(high, digits)}]"


def pvalue_text(p: float) -> str:
    """p-value for prose: '< 0.001' or three decimals."""
    return "< 0.001" if p < 0.001 else f"= {p:.3f}"


# ---------------------------------------------------------------------------------------
# term names

_FACTOR = re.compile(r"^C\((?P<var>[A-Za-z_][A-Za-z0-9_]*)(?:,.*)?\)\[T\.(?P<level>.+)\]$")


def clean_term(name: str) -> str:
    """Stable, readable term name: ``C(dpmp)[T.1]`` -> ``dpmp_1``; ``(Intercept)`` ->
    ``Intercept``; plain columns unchanged."""
    if name in ("(Intercept)", "const"):
        return "Intercept"
    m = _FACTOR.match(name)
    if not m:
        return name
    level = m["level"]
    if re.fullmatch(r"-?\d+\.0+", level):
        level = level.split(".")[0]
    return f"{m['var']}_{level}"


def term_frame(fit: Fit) -> pd.DataFrame:
    """Coefficients, SEs, p-values and 90/95% CIs under clean term names (computed once
    per fit: every table, check and record reads it)."""
    if fit.terms is not None:
        return fit.terms
    r = fit.result
    params, bse, p = r.params, r.bse, r.pvalues
    if not (bse.index.equals(params.index) and p.index.equals(params.index)):
        # Differently labelled estimates: let pandas align them, as a frame would.
        aligned = pd.DataFrame({"coef": params, "se": bse, "p": p})
        params, bse, p = aligned["coef"], aligned["se"], aligned["p"]
    coef = params.to_numpy(dtype=float)
    se = bse.to_numpy(dtype=float)
    columns = {"coef": coef, "se": se, "p": p.to_numpy(dtype=float)}
    for level, z in _z_values():
        columns[f"low{level}"] = coef - z * se
        columns[f"high{level}"] = coef + z * se
    # One frame from arrays: building it column by column cost milliseconds per fit.
    out = pd.DataFrame(columns, index=[clean_term(str(t)) for t in params.index])
    fit.terms = out
    return out


@functools.cache
def _z_values() -> tuple[tuple[int, float], ...]:
    """Normal quantiles of the 90% and 95% intervals (``ndtri`` is ``norm.ppf``)."""
    # scipy.special, not scipy.stats: the same functions without half a second of import.
    from scipy import special

    return tuple(
        (int(level * 100), float(special.ndtri(0.5 + level / 2))) for level in (0.90, 0.95)
    )


# ---------------------------------------------------------------------------------------
# builders


@dataclass
class Column:
    """One column of a coefficient table."""

    header: str
    fit: Fit
    group: str = "models"  # results.json group of the fit (models, models_crossed, ...)


def coefficient_table(
    spec: StudySpec,
    table_id: str,
    title: str,
    columns: Sequence[Column],
    ci_terms: Sequence[str] = (),
    notes: Sequence[str] = (),
) -> Table:
    """Coefficients with SEs below, CI rows for ``ci_terms``, σ and its test, fit statistics."""
    from scipy import special

    frames = [term_frame(c.fit) for c in columns]
    terms: list[str] = []
    for f in frames:
        terms += [t for t in f.index if t not in terms]
    # Rows follow the order of the spec's labels; unlisted terms keep their order of first
    # appearance after them; the constant goes last, as in the paper's tables.
    order = {t: i for i, t in enumerate(spec.labels)}
    terms.sort(key=lambda t: (t == "Intercept", order.get(t, len(order))))
    rows: list[Row] = []
    # Terms with one label (``jd`` and the factor dummy ``jd_1``) share a row unless some
    # column has both.
    merged: list[list[str]] = []
    for t in terms:
        row = next(
            (
                r
                for r in merged
                if spec.label(r[0]) == spec.label(t)
                and not any(t in f.index and any(u in f.index for u in r) for f in frames)
            ),
            None,
        )
        if row is None:
            merged.append([t])
        else:
            row.append(t)
    for group in merged:
        label = spec.label(group[0])
        picks = [next((u for u in group if u in f.index), None) for f in frames]
        coef = [
            coef_cell(f.at[u, "coef"], f.at[u, "p"]) if u else ""
            for f, u in zip(frames, picks, strict=True)
        ]
        se = [se_cell(f.at[u, "se"]) if u else "" for f, u in zip(frames, picks, strict=True)]
        rows.append(Row(label, coef, "coef"))
        rows.append(Row("", se, "se"))
        if any(u in ci_terms for u in group):
            for level in (90, 95):
                cells = [
                    ci_cell(f.at[u, f"low{level}"], f.at[u, f"high{level}"]) if u else ""
                    for f, u in zip(frames, picks, strict=True)
                ]
                rows.append(Row(f"{label} {level}% CI", cells, "ci"))
    groups: list[str] = []
    for c in columns:
        groups += [g for g in c.fit.sigma if g not in groups]
    for g in groups:
        est, ses = [], []
        for c in columns:
            if g in c.fit.sigma:
                s, s_se = c.fit.sigma[g]
                p = None
                if s_se:
                    p = float(2 * special.ndtr(-abs(s / s_se)))  # 2 norm.sf(|z|)
                est.append(coef_cell(s, p))
                ses.append(se_cell(s_se))
            else:
                est.append("")
                ses.append("")
        rows.append(Row(f"σ ({g})", est, "sigma"))
        rows.append(Row("", ses, "se"))
    if any(c.fit.sigma_test for c in columns):
        cells = []
        for c in columns:
            t = c.fit.sigma_test
            cells.append(f"{num(t['lr'], 2)} (p {pvalue_text(t['p'])})" if t else "")
        rows.append(Row("LR test σ = 0 (χ̄²)", cells, "test"))
    rows.append(Row("N", [str(int(c.fit.result.nobs)) for c in columns], "stat"))
    rows.append(Row("Log-likelihood", [num(c.fit.result.llf, 2) for c in columns], "stat"))
    rows.append(Row("McFadden R²", [num(c.fit.result.prsquared, 3) for c in columns], "stat"))
    rows.append(Row("AIC", [num(c.fit.result.aic, 2) for c in columns], "stat"))
    header = ["", *[c.header for c in columns]]
    sources = [(c.group, c.fit.key) for c in columns]
    return Table(table_id, title, header, rows, list(notes), sources)


def prediction_table(
    table_id: str,
    title: str,
    columns: Sequence[Column],
    level_labels: Sequence[str],
    changes: dict[str, tuple[int, int]],
    labels: dict[str, str],
    notes: Sequence[str] = (),
) -> Table:
    """Predicted probabilities (with CI) per level and relative changes in percent."""
    header = [""]
    for c in columns:
        ci = int(round(c.fit.prediction.ci * 100))  # type: ignore[union-attr]
        header += [f"{c.header}: Pr(military response)", f"{c.header}: {ci}% CI"]
    rows = []
    for i, lab in enumerate(level_labels):
        cells = []
        for c in columns:
            pr = c.fit.prediction
            assert pr is not None
            cells += [num(pr.pred[i]), ci_cell(pr.low[i], pr.high[i])]
        rows.append(Row(lab, cells, "data"))
    for name, (i, j) in changes.items():
        cells = []
        for c in columns:
            pr = c.fit.prediction
            assert pr is not None
            cells += [num(pr.change(i, j), 2), ""]
        rows.append(
            Row(
                f"Change, {labels.get(name, name)} (%): {level_labels[i]} to {level_labels[j]}",
                cells,
                "stat",
            )
        )
    sources = [(c.group, c.fit.model_id) for c in columns for _ in range(2)]
    return Table(table_id, title, header, rows, list(notes), sources)


def frame_table(
    table_id: str, title: str, frame: pd.DataFrame, digits: int = 3, notes: Sequence[str] = ()
) -> Table:
    """A descriptive DataFrame (index = row labels) as a :class:`Table`."""
    header = [str(frame.index.name or ""), *[_flat(c) for c in frame.columns]]
    rows = [
        Row(_flat(idx), [_cell(v, digits) for v in row], "data")
        for idx, row in zip(frame.index, frame.itertuples(index=False), strict=True)
    ]
    return Table(table_id, title, header, rows, list(notes))


def _flat(label: Any) -> str:
    if isinstance(label, tuple):
        return " ".join(str(x) for x in label if str(x))
    return str(label)


def _cell(v: Any, digits: int) -> str:
    if v is None or v is pd.NA:
        return ""
    if isinstance(v, bool | np.bool_):
        return str(bool(v))
    if isinstance(v, int | np.integer):
        return str(int(v))
    if isinstance(v, float | np.floating):
        if not np.isfinite(v):
            return ""
        return str(int(v)) if float(v).is_integer() and abs(v) >= 1 else num(float(v), digits)
    return str(v)


# ---------------------------------------------------------------------------------------
# escaping

_TEX_CHARS = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    "σ": r"$\sigma$",
    "χ̄²": r"$\bar\chi^2$",
    "χ²": r"$\chi^2$",
    "²": r"$^2$",
    "≤": r"$\leq$",
    "≥": r"$\geq$",
    "–": "--",
    "−": "-",
    "<": r"$<$",
    ">": r"$>$",
}
_TEX_RE = re.compile("|".join(re.escape(k) for k in sorted(_TEX_CHARS, key=len, reverse=True)))


def _tex_escape(text: str) -> str:
    return _TEX_RE.sub(lambda m: _TEX_CHARS[m.group(0)], text)


def _md_escape(text: str) -> str:
    return text.replace("|", "\\|")
