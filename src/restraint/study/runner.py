"""``restraint replicate``: data -> every model -> tables, figure, results.json, report.

:func:`replicate` builds the two data sets, fits the selection stages (each variant and
period once) and every model of the spec, and assembles a :class:`Replication`. Writing is
atomic: everything goes into a hidden temporary folder next to the output folder, which is
renamed into place only when complete, so a crash never leaves complete-looking output.
Timestamps and timings appear only in ``report.html``'s provenance section and in
``timings.json``; every other file is byte-identical between runs on the same inputs.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import html
import json
import os
import platform
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd

from restraint.errors import RestraintError
from restraint.study import figure as figmod
from restraint.study.agreement import ClaimResult, compare_variants, evaluate
from restraint.study.backend import Backend, DefaultBackend, StudyData, jsonable
from restraint.study.fitting import Fit, Fits, fit_study
from restraint.study.spec import StudySpec, load_spec
from restraint.study.tables import (
    STARS_NOTE,
    TABLE_CSS,
    Column,
    Table,
    coefficient_table,
    frame_table,
    prediction_table,
    term_frame,
)

TABLE_FORMATS = ("md", "tex", "html", "csv")
PACKAGES = (
    "restraint",
    "numpy",
    "pandas",
    "scipy",
    "statsmodels",
    "patsy",
    "matplotlib",
    "jinja2",
    "pyarrow",
)


@dataclass
class Replication:
    """Everything a run produced; :meth:`write` puts it on disk."""

    spec: StudySpec
    fits: Fits
    tables: dict[str, Table]
    results: dict[str, Any]
    agreement: dict[str, list[ClaimResult]]
    changes: list[str]
    figure_png: bytes
    figure_pdf: bytes
    timings: dict[str, float]
    provenance: dict[str, Any]
    created: str
    out: Path | None = None
    _report: str | None = field(default=None, repr=False)

    # -- files -----------------------------------------------------------------------------
    def files(self) -> dict[str, bytes]:
        """Every output file name with its content."""
        out: dict[str, bytes] = {}
        for tid, t in self.tables.items():
            out[f"{tid}.md"] = t.to_markdown().encode()
            out[f"{tid}.tex"] = t.to_latex().encode()
            out[f"{tid}.html"] = t.to_html(standalone=True).encode()
            out[f"{tid}.csv"] = t.to_csv().encode()
        out["figure1.png"] = self.figure_png
        out["figure1.pdf"] = self.figure_pdf
        out["results.json"] = dumps(self.results).encode()
        out["report.html"] = self.report_html().encode()
        out["timings.json"] = dumps(self.timings).encode()
        return out

    def write(self, out: str | Path) -> Path:
        """Write every output into ``out`` atomically (temp folder beside it, then rename)."""
        t0 = time.perf_counter()
        target = Path(out).resolve()
        if target.exists() and not target.is_dir():
            raise RestraintError(f"--out {target}: exists and is not a folder")
        if target.is_dir() and any(target.iterdir()) and not (target / "results.json").exists():
            raise RestraintError(
                f"--out {target}: folder exists, is not empty and holds no earlier replication "
                "(results.json); refusing to replace it"
            )
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.partial-", dir=target.parent))
        try:
            files = self.files()
            for name, content in files.items():
                (tmp / name).write_bytes(content)
            old = None
            if target.exists():
                old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
                os.replace(target, old / "previous")
            os.replace(tmp, target)
            if old is not None:
                shutil.rmtree(old, ignore_errors=True)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        self.out = target
        self.timings["write"] = time.perf_counter() - t0
        return target

    # -- report ----------------------------------------------------------------------------
    def report_html(self) -> str:
        """The self-contained HTML report (figure embedded as base64 PNG, inline CSS)."""
        if self._report is None:
            self._report = render_report(self)
        return self._report

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><td>{html.escape(c.text)}</td><td>{html.escape(c.verdict)}</td></tr>"
            for c in self.agreement.get(self._primary_name(), [])
        )
        tables = "".join(self.tables[t].to_html() for t in self.tables if t.startswith("table3"))
        img = base64.b64encode(self.figure_png).decode()
        return (
            f"<div><b>{html.escape(self.spec.title)}</b>: {len(self.fits.all())} fits; "
            f"{html.escape(self._data_line())}"
            f"<table><tr><th>Claim</th><th>Verdict</th></tr>{rows}</table>{tables}"
            f'<img alt="Figure 1" style="max-width:100%" src="data:image/png;base64,{img}">'
            "</div>"
        )

    def __repr__(self) -> str:
        lines = [f"<Replication: {self.spec.title}>", f"  {self._data_line()}"]
        for fit in self.fits.all():
            tf = term_frame(fit)
            key = next((t for t in ("mp", "dpmp_2", "dp") if t in tf.index), None)
            coef = ""
            if key:
                coef = f"{key} = {tf.at[key, 'coef']:.3f} (p = {tf.at[key, 'p']:.3f})"
            tag = f" [{fit.variant}]" if fit.variant not in (None, self.fits.primary) else ""
            lines.append(f"  {fit.label + tag:<40} N = {fit.result.nobs:>7}  {coef}")
        claims = self.agreement.get(self._primary_name(), [])
        n_ok = sum(c.verdict == "agrees" for c in claims)
        lines.append(f"  claims: {n_ok} of {len(claims)} agree")
        if self.out:
            lines.append(f"  written to {self.out}")
        return "\n".join(lines)

    def _primary_name(self) -> str:
        return next(iter(self.agreement), "")

    def _data_line(self) -> str:
        d = self.results["data"]
        return (
            f"actor-level rows {d['actor_level_rows']}, dyad-years {d['dyad_year_rows']}, "
            f"crisis dyad-years {d['crisis_dyad_years']}"
        )


def dumps(obj: Any) -> str:
    """Stable JSON: fixed key order as built, two-space indent, no NaN."""
    return json.dumps(jsonable(obj), indent=2, ensure_ascii=False, allow_nan=False) + "\n"


# ---------------------------------------------------------------------------------------
# the run


def resolve_variants(spec: StudySpec, selection: str) -> list[str]:
    """Selection variants to run: a variant's name, or ``both``/``all`` for every one."""
    names = list(spec.selection.variants) if spec.selection is not None else []
    if selection in ("both", "all"):
        return names
    if selection not in names:
        raise RestraintError(
            f"--selection {selection!r}: expected one of {', '.join([*names, 'both'])}"
        )
    return [selection]


def replicate(
    out: str | Path | None = None,
    data_dir: str | Path | None = None,
    selection: str = "both",
    spec: str | Path | StudySpec | None = None,
    progress: bool = True,
    *,
    backend: Backend | None = None,
    use_cache: bool = True,
    console: Any = None,
) -> Replication:
    """Reproduce the study: build the data, fit every model, make tables, figure, report.

    ``out``: folder to write (nothing is written when None; call ``.write(out)`` later).
    ``data_dir``: raw data folder (else ``RESTRAINT_DATA_DIR``, the cache, downloads).
    ``selection``: ``published``, ``crossed`` or ``both`` (default) selection stages.
    ``spec``: a TOML file with the models (default: the built-in study).
    ``progress``: show progress and a short summary on the console (rich).
    ``backend``: data and estimator provider (default :class:`DefaultBackend`).
    """
    t_start = time.perf_counter()
    study = spec if isinstance(spec, StudySpec) else load_spec(spec)
    variants = resolve_variants(study, selection)
    backend = backend or DefaultBackend()
    timings: dict[str, float] = {}
    with (
        contextlib.ExitStack() as cleanup,
        _Stages(progress, _count_stages(study, variants), console) as stages,
    ):
        stages.start("building the data sets")
        t0 = time.perf_counter()
        built = backend.build(data_dir, use_cache=use_cache)
        data = prepare_data(built)
        timings["data"] = time.perf_counter() - t0
        worker: figmod.FigureWorker | None = None
        want_worker = study.predictions is not None and figmod.FigureWorker.worthwhile()

        def fitting(stage: str) -> None:
            nonlocal worker
            stages.start(stage)
            if want_worker and worker is None:
                # The helper loads matplotlib on the other core while the models are
                # fitted. Not earlier: beside this process's own imports (the data stage,
                # the estimators) it gains nothing, as concurrent imports hold each other up.
                worker = cleanup.enter_context(figmod.FigureWorker())

        fits = fit_study(study, data, backend, variants, progress=fitting)
        for fit in fits.all():
            group = "models" if fit.kind == "selection" else fits.result_key(fit.variant)
            tag = f"{group}.{fit.key}"
            timings[f"fit {tag}"] = fit.seconds
        stages.start("tables, figure and report")
        t0 = time.perf_counter()
        panels = figure_panels(study, fits)
        if worker is not None and panels is not None:
            worker.submit(*panels)  # drawn in the helper beside the tables and results
        describe = backend.describe(data["actor"], data["dyad"])
        rep = assemble(
            study,
            data,
            fits,
            describe,
            built.provenance,
            {
                "selection": selection,
                "variants": variants,
                "data_dir": None if data_dir is None else os.fspath(data_dir),
                "use_cache": use_cache,
                "backend": backend.name,
            },
            timings,
            figure=worker.result if worker is not None and panels is not None else None,
        )
        timings["tables, figure"] = time.perf_counter() - t0
        if out is not None:
            stages.start("writing the outputs")
            timings["total"] = time.perf_counter() - t_start
            rep.write(out)
        timings["total"] = time.perf_counter() - t_start
    if progress:
        print_summary(rep, console)
    return rep


def prepare_data(built: StudyData) -> dict[str, pd.DataFrame]:
    """The analysis frames by name, with ``dpmp`` derived where the builder left it out."""
    frames = {"actor": built.actor, "dyad": built.dyad}
    for name, df in frames.items():
        if "dpmp" not in df.columns and {"dp", "mp"} <= set(df.columns):
            bad = (df["mp"] == 1) & (df["dp"] != 1)
            if bad.any():
                raise RestraintError(
                    f"{name} data: {int(bad.sum())} rows have mp = 1 but dp != 1 "
                    "(MP implies DP); cannot derive dpmp"
                )
            df = df.copy()
            df["dpmp"] = df["dp"] + df["mp"]
            frames[name] = df
    return frames


def _count_stages(spec: StudySpec, variants: list[str]) -> int:
    periods = {m.period.key for m in spec.models.values() if m.selection}
    n = 2 + len(periods) * len(variants)
    n += sum(len(variants) if m.selection else 1 for m in spec.models.values())
    return n + 1


def assemble(
    spec: StudySpec,
    data: dict[str, pd.DataFrame],
    fits: Fits,
    describe: dict[str, pd.DataFrame],
    data_provenance: dict[str, Any],
    options: dict[str, Any],
    timings: dict[str, float],
    figure: Callable[[], tuple[bytes, bytes]] | None = None,
) -> Replication:
    """Tables, agreement, figure and results.json from the fits.

    ``figure``: returns the figure's (PNG, PDF) bytes when it is drawn elsewhere (a
    :class:`~restraint.study.figure.FigureWorker`); by default it is drawn here.
    """
    variants = fits.variants
    tables: dict[str, Table] = {}
    titles = {
        "table1": "Table 1. Descriptive statistics of the independent and control variables",
        "table2": "Table 2. Spearman rank correlations, actor level",
    }
    for tid in ("table1", "table2"):
        if tid in describe:
            tables[tid] = frame_table(tid, titles[tid], describe[tid])
    changes: list[str] = []
    if len(variants) > 1:
        changes = compare_variants(spec, fits, variants[0], variants[1])
        for other in variants[2:]:
            changes += compare_variants(spec, fits, variants[0], other)
    for tid, ts in spec.tables.items():
        tables[tid] = _coef_table(
            spec, fits, ts.id, ts.title, ts.models, ts.ci_terms, ts.show_selection, changes
        )
    if spec.predictions is not None:
        p = spec.predictions
        cols = _columns(spec, fits, p.models, show_selection=False, prediction=True)
        tables["table5"] = prediction_table(
            "table5",
            p.title,
            cols,
            p.level_labels,
            p.changes,
            spec.labels,
            notes=[_prediction_note(spec, cols)],
        )
    tables = dict(sorted(tables.items(), key=lambda kv: _table_order(kv[0])))
    agreement = {v or "estimates": evaluate(spec, fits, v) for v in (variants or [None])}
    panels = figure_panels(spec, fits) if figure is None else None
    png, pdf = figmod.render(*panels) if panels is not None else (b"", b"")
    provenance = {
        "spec": {"source": spec.source, "sha256": spec.sha256},
        "packages": package_versions(),
        "data": data_provenance,
    }
    results = build_results(spec, data, fits, options, provenance, agreement, changes)
    results["tables"] = {
        tid: {
            "title": t.title,
            "columns": [
                {"header": h, "group": g, "key": k}
                for h, (g, k) in zip(t.header[1:], t.sources, strict=True)
            ],
        }
        for tid, t in tables.items()
        if t.sources
    }
    results["provenance"] = results.pop("provenance")
    if figure is not None:
        _report_template()  # compiled while the figure is being drawn elsewhere
        png, pdf = figure()
    return Replication(
        spec=spec,
        fits=fits,
        tables=tables,
        results=results,
        agreement=agreement,
        changes=changes,
        figure_png=png,
        figure_pdf=pdf,
        timings=timings,
        provenance=provenance,
        created=datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
    )


def figure_panels(spec: StudySpec, fits: Fits) -> tuple[list[figmod.Panel], list[str]] | None:
    """Figure 1's panels (one per prediction model, a line per selection variant) and its
    level labels; None when the spec has no predictions."""
    if spec.predictions is None:
        return None
    panels = []
    for mid in spec.predictions.models:
        m = spec.models[mid]
        series = []
        for v in fits.variants if m.selection else [None]:
            fit = fits.get(mid, v)
            if fit is not None and fit.prediction is not None:
                name = spec.selection.variants[v].label if v else m.label
                series.append(figmod.Series(name, fit.prediction))
        panels.append(figmod.Panel(m.label, series))
    return panels, list(spec.predictions.level_labels)


def _table_order(tid: str) -> tuple[int, str]:
    digits = "".join(ch for ch in tid if ch.isdigit())
    appendix = 1 if tid.lower().startswith("tablea") else 0
    return (appendix, f"{int(digits):04d}" if digits else tid)


def _columns(
    spec: StudySpec,
    fits: Fits,
    models: tuple[str, ...],
    show_selection: bool,
    prediction: bool = False,
) -> list[Column]:
    """Columns of a table: the first variant's block, then the selection models again for
    each further variant; a selection stage's column precedes its first model."""
    variants = fits.variants or [None]
    cols: list[Column] = []
    shown: set[tuple[str, str]] = set()
    for k, v in enumerate(variants):
        tag = "" if v in (None, fits.primary) else f" [{v}]"
        for mid in models:
            m = spec.models[mid]
            if k > 0 and not m.selection:
                continue
            fit = fits.get(mid, v if m.selection else None)
            if fit is None:
                continue
            if m.selection and show_selection and v is not None:
                skey = (v, m.period.key)
                if skey not in shown and skey in fits.selection:
                    shown.add(skey)
                    sel = fits.selection[skey]
                    head = "Selection" + (f" {m.period.label}" if m.period else "")
                    cols.append(Column(head + tag, sel, "models"))
            group = fits.result_key(v if m.selection else None)
            if prediction:
                group = group.replace("models", "table5", 1)
            cols.append(Column(m.label + (tag if m.selection else ""), fit, group))
    return cols


def _coef_table(
    spec: StudySpec,
    fits: Fits,
    tid: str,
    title: str,
    models: tuple[str, ...],
    ci_terms: tuple[str, ...],
    show_selection: bool,
    changes: list[str],
) -> Table:
    cols = _columns(spec, fits, models, show_selection)
    covs = sorted({c.fit.result.cov_type for c in cols if c.fit.kind == "outcome"})
    notes = [
        f"Probit coefficients with standard errors in parentheses ({', '.join(covs)}); "
        f"{STARS_NOTE}."
    ]
    sel_cols = [c for c in cols if c.fit.kind == "selection"]
    if sel_cols:
        kinds = list(dict.fromkeys(_variant_text(spec, c.fit) for c in sel_cols))
        notes.append(
            "Selection stage: " + "; ".join(kinds) + ". σ is the standard deviation of the "
            "random intercept (z test from its SE); the LR test compares with the pooled "
            "probit (χ̄² mixture, boundary-corrected p). Outcome stages add the inverse Mills "
            "ratio (IMR) from the selection stage's fixed part."
        )
    elif any(spec.models[m].selection for m in models):
        notes.append("IMR: inverse Mills ratio from the selection stage's fixed part (Table 4).")
    if changes and any(spec.models[m].selection for m in models) and len(fits.variants) > 1:
        notes.append(
            "; ".join(
                f"Columns marked [{f.variant}]: the same models with the {f.variant} "
                f"selection stage ({_variant_text(spec, f)})"
                for f in _first_selection(fits)
            )
            + "; the report says what changes."
        )
    return coefficient_table(spec, tid, title, cols, ci_terms, notes)


def _first_selection(fits: Fits) -> list[Fit]:
    """One selection fit per variant, primary excluded (for notes)."""
    seen: dict[str, Fit] = {}
    for (v, _period), fit in fits.selection.items():
        if v != fits.primary:
            seen.setdefault(v, fit)
    return list(seen.values())


def _variant_text(spec: StudySpec, fit: Fit) -> str:
    v = spec.selection.variants[fit.variant] if fit.variant else None
    if v is None:
        return fit.estimator
    opts = ", ".join(f"{k}={val}" for k, val in v.options.items())
    return f"{v.name}: {v.estimator}({', '.join(v.groups)}{'; ' + opts if opts else ''})"


def _prediction_note(spec: StudySpec, cols: list[Column]) -> str:
    pr = cols[0].fit.prediction if cols else None
    if pr is None:
        return ""
    how = (
        "other factors at their reference level, 0/1 regressors at 0 and continuous "
        "regressors (Prep, IMR) at their estimation-sample means"
        if pr.method == "typical"
        else "averaged over the estimation sample"
    )
    return (
        f"Predicted probabilities ({how}); {int(round(pr.ci * 100))}% confidence intervals "
        f"from the {pr.cov} covariance on the probit index. Changes are relative, in percent "
        "of the lower level's probability."
    )


# ---------------------------------------------------------------------------------------
# results.json


def fit_record(fit: Fit) -> dict[str, Any]:
    """One model's entry in results.json."""
    r = fit.result
    tf = term_frame(fit)
    rec: dict[str, Any] = {
        "label": fit.label,
        "kind": fit.kind,
        "estimator": fit.estimator,
        "formula": fit.formula,
        "data": fit.data,
        "filter": fit.filter,
        "period": {"from": fit.period.start, "to": fit.period.end},
        "selection_variant": fit.variant,
        "selection_stage": fit.selection_key,
        "cov_type": r.cov_type,
        "options": fit.options,
        "params": tf["coef"].to_dict(),
        "bse": tf["se"].to_dict(),
        "pvalues": tf["p"].to_dict(),
        "ci90": {t: [tf.at[t, "low90"], tf.at[t, "high90"]] for t in tf.index},
        "ci95": {t: [tf.at[t, "low95"], tf.at[t, "high95"]] for t in tf.index},
        "nobs": int(r.nobs),
        "llf": r.llf,
        "llf_null": r.llf_null,
        "prsquared": r.prsquared,
        "aic": r.aic,
        "converged": r.converged,
        "warnings": [*r.warnings, *fit.notes],
    }
    if fit.sigma:
        rec["sigma"] = {g: s for g, (s, _se) in fit.sigma.items()}
        rec["sigma_bse"] = {g: se for g, (_s, se) in fit.sigma.items()}
    if fit.sigma_test:
        rec["sigma_test"] = fit.sigma_test
    return rec


def prediction_record(fit: Fit, spec: StudySpec) -> dict[str, Any]:
    """Table 5 entry of one model."""
    pr = fit.prediction
    assert pr is not None
    changes = spec.predictions.changes if spec.predictions else {}
    return {
        "over": pr.over,
        "levels": pr.levels,
        "pred": pr.pred,
        "low": pr.low,
        "high": pr.high,
        "ci": pr.ci,
        "cov": pr.cov,
        "method": pr.method,
        "profile": pr.profile,
        "rel_change": {k: pr.change(i, j) for k, (i, j) in changes.items()},
        "abs_change_points": {k: pr.change(i, j, "absolute") for k, (i, j) in changes.items()},
    }


def build_results(
    spec: StudySpec,
    data: dict[str, pd.DataFrame],
    fits: Fits,
    options: dict[str, Any],
    provenance: dict[str, Any],
    agreement: dict[str, list[ClaimResult]],
    changes: list[str],
) -> dict[str, Any]:
    """The content of results.json (stable keys; no timings)."""
    dyad = data["dyad"]
    out: dict[str, Any] = {
        "study": spec.title,
        "options": {**options, "alpha": spec.alpha},
        "data": {
            "actor_level_rows": len(data["actor"]),
            "dyad_year_rows": len(dyad),
            "crisis_dyad_years": int((dyad["crisis"] == 1).sum()) if "crisis" in dyad else None,
        },
        "models": {},
    }
    for fit in fits.selection.values():
        out["models"][fit.key] = fit_record(fit)
    for (_mid, v), fit in fits.outcome.items():
        out.setdefault(fits.result_key(v), {})[fit.key] = fit_record(fit)
    for (mid, v), fit in fits.outcome.items():
        if fit.prediction is not None:
            group = "table5" if v in (None, fits.primary) else f"table5_{v}"
            out.setdefault(group, {})[mid] = prediction_record(fit, spec)
    out["agreement"] = {
        variant: [
            {
                "id": c.id,
                "text": c.text,
                "verdict": c.verdict,
                "checks": [
                    {
                        "model": k.model,
                        "term": k.term,
                        "expected": k.expected,
                        "agrees": k.agrees,
                        "coef": k.coef,
                        "p": k.p,
                        "level": k.level,
                    }
                    for k in c.checks
                ],
            }
            for c in claims
        ]
        for variant, claims in agreement.items()
    }
    out["changes"] = changes
    out["provenance"] = provenance
    return jsonable(out)


def package_versions() -> dict[str, str]:
    """Versions of Python and the packages the results depend on."""
    return dict(_package_versions())


@functools.cache
def _package_versions() -> dict[str, str]:
    # Reading the installed metadata scans site-packages; once per process is enough.
    out = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


# ---------------------------------------------------------------------------------------
# report


def render_report(rep: Replication) -> str:
    """Render ``report.html`` with jinja2."""
    template = _report_template()
    css = {"agrees": "agrees", "partly agrees": "partly", "does not agree": "disagrees"}
    variants = list(rep.agreement)
    rows = []
    for i, claim in enumerate(rep.agreement[variants[0]] if variants else []):
        cells = []
        for v in variants:
            c = rep.agreement[v][i]
            judged = [k for k in c.checks if k.agrees is not None]
            cells.append(
                {
                    "verdict": c.verdict,
                    "css": css.get(c.verdict, "na"),
                    "n_agree": c.n_agree,
                    "n": len(judged),
                }
            )
        rows.append({"text": claim.text, "cells": cells})
    detail = [
        {
            "name": f"Selection stage: {v}" if v in rep.spec.selection.variants else v,
            "claims": [
                {
                    "text": c.text,
                    "verdict": c.verdict,
                    "css": css.get(c.verdict, "na"),
                    "statements": [k.statement for k in c.checks],
                }
                for c in rep.agreement[v]
            ],
        }
        for v in variants
    ]
    warnings = [
        f"{f.label}{' [' + f.variant + ']' if f.variant else ''}: {w}"
        for f in rep.fits.all()
        for w in [*f.result.warnings, *f.notes]
    ]
    opts = rep.results["options"]
    return template.render(
        title=rep.spec.title,
        version=rep.provenance["packages"].get("restraint", "?"),
        spec_source=rep.spec.source,
        spec_sha256=rep.spec.sha256,
        variants_text=", ".join(
            f"{v} ({rep.spec.selection.variants[v].estimator})" for v in rep.fits.variants
        )
        or "none",
        data=rep.results["data"],
        agreement_variants=variants,
        agreement_rows=rows,
        tables=[t.to_html() for t in rep.tables.values()],
        figure_b64=base64.b64encode(rep.figure_png).decode(),
        alpha=rep.spec.alpha,
        agreement_detail=detail,
        changes=rep.changes,
        warnings=warnings,
        created=rep.created,
        options_text=json.dumps(opts, ensure_ascii=False),
        packages=rep.provenance["packages"],
        total_time=f"{rep.timings.get('total', 0.0):.1f} s",
        timings=rep.timings,
        inputs=_data_inputs(rep.provenance["data"]),
        data_provenance=json.dumps(jsonable(rep.provenance["data"]), indent=2, ensure_ascii=False),
        table_css=TABLE_CSS,
    )


@functools.cache
def _report_template() -> Any:
    """The compiled report template (compiling takes longer than rendering; once per process)."""
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("restraint.study", "templates"),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
        keep_trailing_newline=True,
    )
    return env.get_template("report.html.j2")


def _data_inputs(prov: dict[str, Any]) -> list[dict[str, Any]]:
    """Input files (data set, version, path, SHA-256, verified) from the build provenance."""
    rows: dict[str, dict[str, Any]] = {}
    for built in prov.values():
        inputs = (built.get("provenance") or {}).get("inputs") if isinstance(built, dict) else None
        for name, info in (inputs or {}).items():
            if isinstance(info, dict):
                rows.setdefault(name, {"name": name, **info})
    return [rows[k] for k in sorted(rows)]


# ---------------------------------------------------------------------------------------
# console


class _Stages:
    """Rich progress over the run's stages (silent when disabled)."""

    def __init__(self, enabled: bool, total: int, console: Any = None) -> None:
        self.enabled = enabled
        self.total = total
        self.console = console
        self.progress: Any = None
        self.task: Any = None
        self.current: str | None = None
        self.t0 = 0.0

    def __enter__(self) -> _Stages:
        if self.enabled:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                SpinnerColumn,
                TextColumn,
                TimeElapsedColumn,
            )

            self.console = self.console or Console(stderr=True)
            self.progress = Progress(
                SpinnerColumn(),
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=self.console,
                transient=True,
            )
            self.progress.__enter__()
            self.task = self.progress.add_task("starting", total=self.total)
        return self

    def start(self, name: str) -> None:
        """Finish the current stage (logging its time) and start ``name``."""
        self._finish()
        self.current = name
        self.t0 = time.perf_counter()
        if self.progress is not None:
            self.progress.update(self.task, description=name)

    def _finish(self) -> None:
        from rich.markup import escape

        if self.current is not None and self.progress is not None:
            dt = time.perf_counter() - self.t0
            self.progress.console.log(f"[green]✓[/] {escape(self.current)} ({dt:.1f} s)")
            self.progress.advance(self.task)
        self.current = None

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc_type is None:
            self._finish()
        if self.progress is not None:
            self.progress.__exit__(exc_type, exc, tb)


def print_summary(rep: Replication, console: Any = None) -> None:
    """Short end-of-run summary: key estimates, claim verdicts, where the output is."""
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table as RichTable

    con = console or Console()
    t = RichTable(title="Key estimates", show_lines=False)
    for col in ("model", "N", "term", "coef", "p"):
        t.add_column(col)
    for fit in rep.fits.outcome.values():
        tf = term_frame(fit)
        key = next((k for k in ("mp", "dpmp_2", "dp") if k in tf.index), None)
        if key is None:
            continue
        tag = f" [{fit.variant}]" if fit.variant not in (None, rep.fits.primary) else ""
        t.add_row(
            escape(fit.label + tag),
            str(fit.result.nobs),
            key,
            f"{tf.at[key, 'coef']:.3f}",
            f"{tf.at[key, 'p']:.3f}",
        )
    con.print(t)
    for variant, claims in rep.agreement.items():
        n_ok = sum(c.verdict == "agrees" for c in claims)
        con.print(
            f"Claims ({variant}): {n_ok} of {len(claims)} agree; "
            + ", ".join(f"{c.id}: {c.verdict}" for c in claims)
        )
    n_warn = sum(len(f.result.warnings) + len(f.notes) for f in rep.fits.all())
    if n_warn:
        con.print(f"{n_warn} estimation warning(s): see the report's warnings section")
    where = f" -> {rep.out}" if rep.out else ""
    con.print(f"Done in {rep.timings.get('total', 0.0):.1f} s{where}")
