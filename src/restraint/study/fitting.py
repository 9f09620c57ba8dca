"""Fit every model of a :class:`StudySpec`, each selection stage only once.

A selection stage is identified by its variant (``published``, ``crossed``, ...) and its
period; all outcome models that share both reuse one fit and one IMR column. Models
without a selection stage are fitted once whatever the variants.
"""

from __future__ import annotations

import os
import time
import warnings
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from restraint.errors import EstimationError
from restraint.study.backend import Backend, fixed_xb, sigma_of
from restraint.study.predict import Prediction, predict_levels
from restraint.study.spec import ModelSpec, Period, SelectionVariant, SpecError, StudySpec

if TYPE_CHECKING:
    from restraint.models.results import ModelResults

Progress = Callable[[str], None]


@dataclass
class Fit:
    """One fitted model with everything the tables and results.json show."""

    key: str
    model_id: str
    kind: str  # "outcome" or "selection"
    label: str
    formula: str
    estimator: str
    result: ModelResults
    data: str
    filter: str = ""
    period: Period = field(default_factory=Period)
    variant: str | None = None
    selection_key: str | None = None
    sigma: dict[str, tuple[float, float | None]] = field(default_factory=dict)
    sigma_test: dict[str, float] | None = None
    prediction: Prediction | None = None
    options: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0
    #: Warnings raised while fitting that the result does not already list.
    notes: list[str] = field(default_factory=list)
    #: Cache of :func:`restraint.study.tables.term_frame`.
    terms: pd.DataFrame | None = field(default=None, repr=False)


@dataclass
class Fits:
    """All fits of a run, addressable by model id and selection variant."""

    variants: list[str]
    primary: str | None
    outcome: dict[tuple[str, str | None], Fit] = field(default_factory=dict)
    selection: dict[tuple[str, str], Fit] = field(default_factory=dict)

    def get(self, model_id: str, variant: str | None) -> Fit | None:
        """The fit of ``model_id`` under ``variant`` (variant-free models ignore it)."""
        return self.outcome.get((model_id, variant)) or self.outcome.get((model_id, None))

    def all(self) -> list[Fit]:
        """Every fit: selection stages first, then outcome models, in fitting order."""
        return [*self.selection.values(), *self.outcome.values()]

    def result_key(self, variant: str | None) -> str:
        """Group in results.json: ``models`` or ``models_<variant>``."""
        return "models" if variant in (None, self.primary) else f"models_{variant}"


def selection_key(variant: str, primary: str | None, period: Period) -> str:
    """results.json id of a selection fit: ``sel``, ``sel_crossed``, ``sel_1946_1990`` ..."""
    key = "sel" if variant == primary else f"sel_{variant}"
    return f"{key}_{period.key}" if period else key


def check_columns(spec: StudySpec, data: dict[str, pd.DataFrame], variants: list[str]) -> None:
    """Fail before any fitting if a model, filter or group refers to a missing column."""

    def need(where: str, frame: str, cols: set[str]) -> None:
        missing = sorted(cols - set(data[frame].columns))
        if missing:
            raise SpecError(
                f"{spec.source}: {where}: column(s) {missing} not in the {frame} data "
                f"(available: {', '.join(map(str, data[frame].columns))})"
            )

    for m in spec.models.values():
        need(f"models.{m.id}", m.data, m.columns)
    if any(m.selection for m in spec.models.values()):
        sel = spec.selection
        cols = {sel.dependent, *sel.regressors, *sel.filter.columns, "year"}
        for v in variants:
            cols |= set(sel.variants[v].groups)
        need("selection", sel.data, cols)


def fit_study(
    spec: StudySpec,
    data: dict[str, pd.DataFrame],
    backend: Backend,
    variants: list[str],
    progress: Progress | None = None,
) -> Fits:
    """Fit the selection stages (once per variant and period) and every model."""
    # Here, not at module level: restraint.models loads every estimator (about a second),
    # which only a run that fits needs.
    from restraint.models import inverse_mills_ratio

    say = progress or (lambda _msg: None)
    check_columns(spec, data, variants)
    # The spec's first variant is the primary one whether or not it is run, so result
    # keys depend only on the variant's name.
    primary = next(iter(spec.selection.variants)) if spec.selection is not None else None
    fits = Fits(variants=list(variants), primary=primary)
    imr_frames: dict[tuple[str, str], pd.DataFrame] = {}
    period_frames: dict[str, pd.DataFrame] = {}

    def selection_data(period: Period) -> pd.DataFrame:
        """The selection data set restricted to ``period`` (each period cut once)."""
        if period.key not in period_frames:
            period_frames[period.key] = _in_period(data[spec.selection.data], period)
        return period_frames[period.key]

    def selection_frame(variant: str, period: Period) -> pd.DataFrame:
        key = (variant, period.key)
        if key in imr_frames:
            return imr_frames[key]
        sel = spec.selection
        frame = selection_data(period)
        if key in fits.selection:
            fit = fits.selection[key]
        else:
            skey = selection_key(variant, primary, period)
            say(_stage_label(spec, variant, period))
            with _Captured() as caught:
                fit = _fit_selection(spec, frame, backend, sel.variants[variant], skey, period)
            caught.attach(fit)
            fits.selection[key] = fit
        # IMR from the fixed part only, for every row of the period (no predicted effects).
        xb = fixed_xb(fit.result, sel.formula, frame)
        out = frame.copy()
        out["imr"] = inverse_mills_ratio(xb)
        imr_frames[key] = out
        return out

    # The selection stages are independent and their estimators release the GIL in their
    # inner loops: fit them two at a time in threads, then assemble in spec order.
    needed = list(
        {
            (variant, m.period.key): (variant, m.period)
            for m in spec.models.values()
            if m.selection
            for variant in variants
        }.values()
    )
    if len(needed) > 1 and _selection_workers() > 1:
        _fit_selection_stages(spec, selection_data, backend, primary, needed, fits, say)

    for m in spec.models.values():
        runs = variants if m.selection else [None]
        for variant in runs:
            if variant is None:
                frame = _in_period(data[m.data], m.period)
                skey = None
            else:
                frame = selection_frame(variant, m.period)
                skey = selection_key(variant, primary, m.period)
            sample = m.filter.apply(frame, what=f"{m.data} data (models.{m.id}.filter)")
            if len(sample) == 0:
                raise EstimationError(
                    f"models.{m.id}: no rows left after filter {m.filter.text!r}"
                    + (f" and period {m.period.label}" if m.period else "")
                )
            tag = "" if variant in (None, primary) else f" [{variant}]"
            say(f"{m.label}{tag}")
            with _Captured() as caught:
                fit = _fit_outcome(m, sample, backend, variant, skey)
            caught.attach(fit)
            fits.outcome[(m.id, variant)] = fit
    return fits


def _selection_workers() -> int:
    """Selection stages fitted at the same time: two, or one when ``RESTRAINT_THREADS=1``
    asks for a single thread (each fit's inner loops use the cores in any case)."""
    return 1 if os.environ.get("RESTRAINT_THREADS", "").strip() == "1" else 2


def _stage_label(spec: StudySpec, variant: str, period: Period) -> str:
    """Progress message for a selection stage."""
    label = spec.selection.variants[variant].label
    return f"selection stage {label}" + (f", {period.label}" if period else "")


def _fit_selection_stages(
    spec: StudySpec,
    selection_data: Callable[[Period], pd.DataFrame],
    backend: Backend,
    primary: str | None,
    needed: list[tuple[str, Period]],
    fits: Fits,
    say: Progress,
) -> None:
    """Fit the selection stages in ``needed`` two at a time; progress is reported in spec
    order as each result is collected. Each fit's result is the same as fitted alone."""
    from restraint.models import blas_single_thread, inner_threads, process_threads

    sel = spec.selection
    workers = _selection_workers()
    # The cores are shared out between the concurrent fits rather than each fit asking
    # for all of them: oversubscribed cores cost about a tenth more CPU time here.
    per_fit = max(1, process_threads() // workers)

    def one(variant: str, period: Period) -> Fit:
        skey = selection_key(variant, primary, period)
        with inner_threads(per_fit):
            return _fit_selection(
                spec, selection_data(period), backend, sel.variants[variant], skey, period
            )

    # Warnings are process-wide, so they are collected around all the fits together; the
    # estimators also keep their own notes on their results, which say which fit they
    # belong to.
    # The BLAS limit is set here, in the calling thread, for all the fits: OpenBLAS's
    # thread count cannot be relied on when set from a worker thread (threadpoolctl is
    # designed for the main thread), and two fits each with a spinning two-thread BLAS
    # took half as long again.
    with (
        blas_single_thread(),
        _Captured() as caught,
        ThreadPoolExecutor(workers) as pool,
    ):
        # Longest first, so that the two workers finish together: the crossed estimators
        # cost a few times the one-way ones per row. Sorting cuts every period's frame
        # here, in this thread, so the workers only read the cache.
        def cost(key: tuple[str, Period]) -> float:
            variant, period = key
            weight = 3.0 if len(sel.variants[variant].groups) > 1 else 1.0
            return weight * len(selection_data(period))

        submitted = {key: pool.submit(one, *key) for key in sorted(needed, key=cost, reverse=True)}
        futures = [(key, submitted[key]) for key in needed]
        for (variant, period), future in futures:
            say(_stage_label(spec, variant, period))
            fits.selection[(variant, period.key)] = future.result()
    done = [fits.selection[(v, p.key)] for v, p in needed]
    known = {text for fit in done for text in fit.result.warnings}
    for w in caught.log:
        text = str(w.message)
        if text in known:
            continue
        for fit in done:  # not attributable: every stage fitted alongside carries it
            if text not in fit.notes:
                fit.notes.append(text)


class _Captured(warnings.catch_warnings):
    """Collect the warnings of one fit instead of printing them mid-progress; they end up
    in the fit (results.json, the report) and are counted in the run's summary."""

    def __init__(self) -> None:
        super().__init__(record=True)
        self.log: list[warnings.WarningMessage] = []

    def __enter__(self) -> _Captured:
        self.log = super().__enter__() or []
        warnings.simplefilter("always")
        return self

    def attach(self, fit: Fit) -> None:
        """Add the messages the result does not already carry to ``fit.notes``."""
        known = set(fit.result.warnings)
        for w in self.log:
            text = str(w.message)
            if text not in known and text not in fit.notes:
                fit.notes.append(text)


def _in_period(frame: pd.DataFrame, period: Period) -> pd.DataFrame:
    if not period:
        return frame
    keep = pd.Series(True, index=frame.index)
    if period.start is not None:
        keep &= frame["year"] >= period.start
    if period.end is not None:
        keep &= frame["year"] <= period.end
    return frame.loc[keep.fillna(False).astype(bool)]


def _fit_selection(
    spec: StudySpec,
    frame: pd.DataFrame,
    backend: Backend,
    variant: SelectionVariant,
    key: str,
    period: Period,
) -> Fit:
    sel = spec.selection
    t0 = time.perf_counter()
    sample = sel.filter.apply(frame, what=f"{sel.data} data (selection.filter)")
    cols = [sel.dependent, *sel.regressors, *variant.groups]
    # Same rows for the effects model and its pooled comparison.
    sample = sample.loc[~sample[cols].isna().any(axis=1)]
    if len(sample) == 0:
        raise EstimationError(f"selection stage ({key}): no complete rows")
    result = backend.selection(sel.formula, sample, variant)
    sigma = sigma_of(result)
    test = None
    lr, p = getattr(result, "lr_stat", None), getattr(result, "lr_pvalue", None)
    if sigma and lr is not None and np.isfinite(lr) and p is not None and np.isfinite(p):
        # The estimator's own LR test of σ = 0 against the pooled probit (χ̄² p-value).
        test = {
            "lr": float(lr),
            "df": len(sigma),
            "p": float(p),
            "llf_pooled": float(getattr(result, "llf_pooled", np.nan)),
        }
    return Fit(
        key=key,
        model_id="sel",
        kind="selection",
        label=variant.label + (f" {period.label}" if period else ""),
        formula=sel.formula,
        estimator=variant.estimator,
        result=result,
        data=sel.data,
        filter=sel.filter.text,
        period=period,
        variant=variant.name,
        sigma=sigma,
        sigma_test=test,
        options={"groups": list(variant.groups), **variant.options},
        seconds=time.perf_counter() - t0,
    )


def _fit_outcome(
    m: ModelSpec,
    sample: pd.DataFrame,
    backend: Backend,
    variant: str | None,
    skey: str | None,
) -> Fit:
    t0 = time.perf_counter()
    result = backend.probit(m.formula, sample, m.cov)
    prediction = predict_levels(result, m) if m.predict is not None else None
    return Fit(
        key=m.id,
        model_id=m.id,
        kind="outcome",
        label=m.label,
        formula=m.formula,
        estimator=m.estimator,
        result=result,
        data=m.data,
        filter=m.filter.text,
        period=m.period,
        variant=variant,
        selection_key=skey,
        prediction=prediction,
        options={"cov": m.cov},
        seconds=time.perf_counter() - t0,
    )
