"""Heckman-type two-step probit with sample selection (Heckman 1979 applied to a probit).

Stage 1 fits (or receives) a selection model for the selection indicator; its fixed part
gives each row the inverse Mills ratio ``IMR = φ(x'γ)/Φ(x'γ)``. Stage 2 is a probit of
the outcome on the selected rows with the IMR as an extra regressor (named ``imr``).

The selection stage may be any fitted model that satisfies :class:`SelectionResult`:
an object with a method ``xb(data) -> np.ndarray`` returning the fixed-part linear
predictor for every row of ``data`` (NaN where it cannot be computed). Random-effects
probits qualify by exposing their fixed part this way, so the IMR never includes predicted
random effects. Objects that only offer ``linear_predictor(data)`` are accepted too.

Standard errors of stage 2 treat the IMR as known (HC0 by default, as the study does).
``bootstrap=B`` replaces them with a (cluster) bootstrap that re-fits *both* stages on each
resample -- the selection stage with the estimator the user passes -- so that they account
for the estimated IMR. Replicates run in parallel processes, are seeded per replicate
(identical results for any number of processes) and show a progress bar.
"""

from __future__ import annotations

import dataclasses
import functools
import multiprocessing
import os
import pickle
import sys
import warnings
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np
import pandas as pd

from restraint.errors import EstimationError, EstimationWarning
from restraint.models.probit import ProbitResults, mills_ratio, probit

__all__ = [
    "HeckmanResults",
    "SelectionResult",
    "heckman_two_step",
    "inverse_mills_ratio",
    "selection_index",
]


@runtime_checkable
class SelectionResult(Protocol):
    """A fitted selection model, as the two-step estimator needs it.

    ``xb(data)`` returns the linear predictor of the *fixed part* (no random effects) for
    every row of ``data``, as a float array of length ``len(data)`` with NaN where a
    covariate is missing. :class:`restraint.models.probit.ProbitResults` implements it.
    """

    def xb(self, data: pd.DataFrame) -> np.ndarray:
        """Fixed-part linear predictor for every row of ``data``."""
        ...


#: Signature of a selection estimator for the bootstrap: ``(formula, data) -> result``.
SelectionEstimator = Callable[[str, pd.DataFrame], Any]


def inverse_mills_ratio(xb: np.ndarray | pd.Series) -> np.ndarray:
    """IMR = φ(xb)/Φ(xb), computed in logs (accurate for very negative indices)."""
    return mills_ratio(np.asarray(xb, dtype=float))


def selection_index(selection: object, data: pd.DataFrame) -> np.ndarray:
    """Fixed-part linear predictor of a fitted selection model on ``data`` (the protocol)."""
    if hasattr(selection, "xb"):
        out = selection.xb(data)
    elif hasattr(selection, "linear_predictor"):
        out = selection.linear_predictor(data)
    else:
        raise EstimationError(
            f"{type(selection).__name__} is not a selection result: it needs a method "
            "xb(data) returning the fixed-part linear predictor (see SelectionResult)"
        )
    out = np.asarray(out, dtype=float).ravel()
    if out.shape != (len(data),):
        raise EstimationError(
            f"{type(selection).__name__}.xb(data) returned {out.shape[0]} values for "
            f"{len(data)} rows; it must return one per row (NaN where unavailable)"
        )
    return out


@dataclass(repr=False, eq=False)
class HeckmanResults(ProbitResults):
    """Outcome-stage probit of the two-step estimator plus its selection stage.

    ``params``/``cov``/``bse`` are the outcome equation's (the IMR included, named
    ``imr_name``). ``selection`` is the fitted selection result, ``imr`` the IMR for every
    row of the data (NaN where the selection covariates are missing). With a bootstrap,
    ``cov`` is the bootstrap covariance, ``cov_analytic`` the one that treats the IMR as
    known, and ``bootstrap_params`` holds one row of estimates per successful replicate.
    """

    selection: Any = None
    selection_formula: str | None = None
    outcome_formula: str | None = None
    selected_name: str | None = None
    imr_name: str = "imr"
    imr: pd.Series | None = field(default=None, repr=False)
    n_selected: int = 0
    cov_analytic: pd.DataFrame | None = None
    bootstrap_params: pd.DataFrame | None = field(default=None, repr=False)
    bootstrap_failures: list[str] = field(default_factory=list)

    def xb(self, data: pd.DataFrame | np.ndarray) -> np.ndarray:
        """Outcome index for ``data``; the IMR is computed from the selection stage if absent."""
        if isinstance(data, pd.DataFrame) and self.imr_name not in data.columns:
            imr = inverse_mills_ratio(selection_index(self.selection, data))
            data = data.assign(**{self.imr_name: imr})
        return super().xb(data)

    def summary(self) -> str:
        """Outcome table, then how the IMR was made and which errors are shown."""
        head = (
            f"two-step selection probit: selection {self.selection_formula or '(fitted)'} "
            f"[{type(self.selection).__name__}], {self.n_selected} selected rows"
        )
        text = head + "\n" + super().summary()
        if self.bootstrap_params is not None and self.bootstrap_failures:
            text += f"\n{len(self.bootstrap_failures)} bootstrap replicate(s) failed"
        return text


def heckman_two_step(
    selection: str | SelectionResult,
    outcome: str,
    data: pd.DataFrame,
    *,
    selected: str | Sequence[bool] | pd.Series | None = None,
    cov: str = "HC0",
    cluster: str | None = None,
    imr_name: str = "imr",
    bootstrap: int = 0,
    bootstrap_cluster: str | None = None,
    selection_estimator: SelectionEstimator | None = None,
    selection_formula: str | None = None,
    seed: int | None = None,
    n_jobs: int | None = None,
    progress: bool = True,
    mp_context: str | None = None,
) -> HeckmanResults:
    """Two-step probit with sample selection.

    ``selection``: a formula (a plain probit is fitted) or a fitted :class:`SelectionResult`.
    ``outcome``: the outcome formula *without* the IMR; ``+ imr`` is appended. Rows with
    ``selected`` == 1 enter stage 2; by default ``selected`` is the selection formula's (or
    result's ``dependent``) column. ``cov``/``cluster`` as in :func:`probit` for stage 2.

    ``bootstrap=B`` (> 1) re-fits both stages on ``B`` resamples of ``bootstrap_cluster``
    groups (rows when None), using ``selection_estimator(formula, data)`` for stage 1
    (default: a plain probit) and ``selection_formula`` (default: ``selection`` or the
    result's ``formula``). Groups drawn more than once get distinct ids in the resample, so
    a random-effects estimator treats them as distinct groups. ``seed`` makes it
    reproducible; ``n_jobs`` processes (default: all cores, 1 = in this process);
    ``mp_context`` their start method (default ``"fork"`` on Linux, else ``"spawn"``, which
    needs the ``if __name__ == "__main__":`` guard in scripts and a picklable estimator).
    """
    if imr_name in data.columns:
        raise EstimationError(
            f"the data already has a column {imr_name!r}; pass imr_name='...' to name the "
            "inverse Mills ratio differently"
        )
    if isinstance(selection, str):
        sel_formula = selection_formula or selection
        sel_result: Any = probit(selection, data, cov="ML")
    else:
        sel_result = selection
        sel_formula = selection_formula or getattr(selection, "formula", None)
    sel_col = _selected_name(selected, sel_result)
    outcome_res, imr, sel_mask = _two_step_core(
        sel_result, outcome, data, selected, sel_col, imr_name, cov, cluster
    )
    base = {f.name: getattr(outcome_res, f.name) for f in dataclasses.fields(ProbitResults)}
    res = HeckmanResults(
        **base,
        selection=sel_result,
        selection_formula=sel_formula,
        outcome_formula=outcome,
        selected_name=sel_col,
        imr_name=imr_name,
        imr=pd.Series(imr, index=data.index, name=imr_name),
        n_selected=int(sel_mask.sum()),
    )
    res.model = "two-step selection probit"
    if bootstrap:
        _run_bootstrap(
            res,
            data,
            outcome=outcome,
            selected=selected,
            cluster_col=bootstrap_cluster,
            estimator=_default_estimator(selection, selection_estimator),
            replicates=bootstrap,
            seed=seed,
            n_jobs=n_jobs,
            progress=progress,
            mp_context=mp_context,
        )
    return res


# ---------------------------------------------------------------------- the two stages
def _selected_name(selected: object, sel_result: object) -> str | None:
    if isinstance(selected, str):
        return selected
    if selected is not None:
        return None
    dep = getattr(sel_result, "dependent", None)
    if not dep:
        raise EstimationError(
            f"cannot tell which rows are selected: {type(sel_result).__name__} has no "
            "'dependent'; pass selected=<column name or boolean array>"
        )
    return str(dep)


def _selection_mask(data: pd.DataFrame, selected: object, sel_col: str | None) -> np.ndarray:
    if sel_col is not None:
        if sel_col not in data.columns:
            raise EstimationError(
                f"selection indicator {sel_col!r} is not a column of the data (if the "
                "selection formula's left side is an expression, pass selected=...)"
            )
        col = pd.to_numeric(data[sel_col], errors="coerce")
        bad = col.notna() & ~col.isin([0, 1])
        if bad.any():
            raise EstimationError(
                f"selection indicator {sel_col!r} must be 0/1; found "
                f"{sorted(col[bad].unique().tolist())[:5]}"
            )
        return col.eq(1).to_numpy()
    mask = np.asarray(selected, dtype=bool).ravel()
    if mask.shape != (len(data),):
        raise EstimationError(f"selected has {mask.size} values for {len(data)} rows")
    return mask


def _two_step_core(
    sel_result: object,
    outcome: str,
    data: pd.DataFrame,
    selected: object,
    sel_col: str | None,
    imr_name: str,
    cov: str,
    cluster: str | None,
) -> tuple[ProbitResults, np.ndarray, np.ndarray]:
    """IMR for every row, then the outcome probit on the selected rows."""
    imr = inverse_mills_ratio(selection_index(sel_result, data))
    mask = _selection_mask(data, selected, sel_col)
    if not mask.any():
        raise EstimationError("no row is selected (selection indicator never equals 1)")
    sub = data.loc[mask].assign(**{imr_name: imr[mask]})
    formula = f"{outcome.rstrip()} + {imr_name}"
    return probit(formula, sub, cov=cov, cluster=cluster), imr, mask


# ---------------------------------------------------------------------- bootstrap
def _default_estimator(
    selection: object, estimator: SelectionEstimator | None
) -> SelectionEstimator:
    if estimator is not None:
        return estimator
    if isinstance(selection, str) or isinstance(selection, ProbitResults):
        return functools.partial(probit, cov="ML")
    raise EstimationError(
        f"bootstrap with a fitted {type(selection).__name__} needs "
        "selection_estimator=<callable(formula, data) -> result> to re-fit the selection "
        "stage on each resample (re-fitting it as a plain probit would change the model)"
    )


@dataclass
class _BootSpec:
    """Everything a replicate needs; pickled once per worker process."""

    data: pd.DataFrame
    selection_formula: str
    outcome: str
    selected: object
    sel_col: str | None
    imr_name: str
    cluster_col: str | None
    estimator: SelectionEstimator
    names: list[str]
    order: np.ndarray
    starts: np.ndarray
    sizes: np.ndarray


def _make_spec(
    res: HeckmanResults,
    data: pd.DataFrame,
    outcome: str,
    selected: object,
    cluster_col: str | None,
    estimator: SelectionEstimator,
) -> _BootSpec:
    if res.selection_formula is None:
        raise EstimationError(
            "bootstrap needs the selection formula: pass selection_formula='y ~ ...'"
        )
    if cluster_col is not None:
        if cluster_col not in data.columns:
            raise EstimationError(f"bootstrap_cluster {cluster_col!r} is not in the data")
        if data[cluster_col].isna().any():
            raise EstimationError(
                f"bootstrap_cluster {cluster_col!r} has {int(data[cluster_col].isna().sum())} "
                "missing ids"
            )
        codes, _ = pd.factorize(data[cluster_col], sort=False)
    else:
        codes = np.arange(len(data))
    order = np.argsort(codes, kind="stable")
    sizes = np.bincount(codes)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    if not isinstance(selected, str | type(None)):
        # A boolean mask has to travel with the rows it marks.
        data = data.assign(_restraint_selected=np.asarray(selected, dtype=bool).astype(int))
        selected, sel_col = "_restraint_selected", "_restraint_selected"
    else:
        sel_col = res.selected_name
    return _BootSpec(
        data=data,
        selection_formula=res.selection_formula,
        outcome=outcome,
        selected=selected,
        sel_col=sel_col,
        imr_name=res.imr_name,
        cluster_col=cluster_col,
        estimator=estimator,
        names=list(res.params.index),
        order=order,
        starts=starts,
        sizes=sizes,
    )


def _replicate(spec: _BootSpec, seed: np.random.SeedSequence) -> tuple[np.ndarray | None, str]:
    """One resample: draw groups, re-fit both stages; (params or None, message)."""
    rng = np.random.default_rng(seed)
    n_groups = len(spec.sizes)
    draw = rng.integers(0, n_groups, size=n_groups)
    lens = spec.sizes[draw]
    first = np.cumsum(lens) - lens
    rows = spec.order[np.repeat(spec.starts[draw] - first, lens) + np.arange(lens.sum())]
    boot = spec.data.iloc[rows].reset_index(drop=True)
    if spec.cluster_col is not None:
        boot[spec.cluster_col] = np.repeat(np.arange(n_groups), lens)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            sel = spec.estimator(spec.selection_formula, boot)
            out, _, _ = _two_step_core(
                sel, spec.outcome, boot, spec.selected, spec.sel_col, spec.imr_name, "ML", None
            )
        except Exception as exc:  # noqa: BLE001 - a failed replicate is reported, not fatal
            return None, f"{type(exc).__name__}: {exc}"
    if list(out.params.index) != spec.names:
        return None, f"terms differ from the full-sample fit: {list(out.params.index)}"
    notes = [str(w.message) for w in caught if issubclass(w.category, EstimationWarning)]
    return out.params.to_numpy(), ("; ".join(notes[:1]) if notes else "")


_WORKER_SPEC: _BootSpec | None = None


def _init_worker(spec: _BootSpec) -> None:
    global _WORKER_SPEC
    _WORKER_SPEC = spec


def _worker_replicate(seed: np.random.SeedSequence) -> tuple[np.ndarray | None, str]:
    assert _WORKER_SPEC is not None
    return _replicate(_WORKER_SPEC, seed)


def _run_bootstrap(
    res: HeckmanResults,
    data: pd.DataFrame,
    *,
    outcome: str,
    selected: object,
    cluster_col: str | None,
    estimator: SelectionEstimator,
    replicates: int,
    seed: int | None,
    n_jobs: int | None,
    progress: bool,
    mp_context: str | None,
) -> None:
    if replicates < 2:
        raise EstimationError(f"bootstrap={replicates}: need at least 2 replicates")
    spec = _make_spec(res, data, outcome, selected, cluster_col, estimator)
    seeds = np.random.SeedSequence(seed).spawn(replicates)
    jobs = min(n_jobs or os.cpu_count() or 1, replicates)
    outputs: list[tuple[np.ndarray | None, str]] = [(None, "not run")] * replicates
    from rich.progress import Progress

    label = f"bootstrap ({'groups: ' + cluster_col if cluster_col else 'rows'})"
    if jobs == 1:
        with Progress(disable=not progress, transient=True) as bar:
            task = bar.add_task(label, total=replicates)
            for b, s in enumerate(seeds):
                outputs[b] = _replicate(spec, s)
                bar.advance(task)
    else:
        ctx = multiprocessing.get_context(mp_context or _default_start_method())
        if ctx.get_start_method() != "fork":
            try:
                pickle.dumps(spec.estimator)
            except Exception as exc:
                raise EstimationError(
                    "selection_estimator cannot be sent to worker processes (define it at "
                    "module level or use functools.partial), or pass n_jobs=1: "
                    f"{exc}"
                ) from exc
        with warnings.catch_warnings():
            # Python >= 3.12 warns about fork() in a process with (BLAS) threads; the
            # workers only run numpy/scipy code and are forked before any Python thread
            # of ours (the progress bar) starts.
            warnings.filterwarnings("ignore", message=".*fork.*", category=DeprecationWarning)
            pool = ProcessPoolExecutor(
                max_workers=jobs, mp_context=ctx, initializer=_init_worker, initargs=(spec,)
            )
            with pool:
                # Submitting before the progress bar starts its refresh thread means the
                # (fork) workers are created while this process has a single Python thread.
                futures = {pool.submit(_worker_replicate, s): b for b, s in enumerate(seeds)}
                with Progress(disable=not progress, transient=True) as bar:
                    task = bar.add_task(label, total=replicates)
                    for fut in as_completed(futures):
                        outputs[futures[fut]] = fut.result()
                        bar.advance(task)
    _store_bootstrap(res, outputs, cluster_col)


def _default_start_method() -> str:
    """fork on Linux (no __main__ guard needed, nothing pickled); spawn elsewhere."""
    if sys.platform.startswith("linux") and "fork" in multiprocessing.get_all_start_methods():
        return "fork"
    return "spawn"


def _store_bootstrap(
    res: HeckmanResults, outputs: list[tuple[np.ndarray | None, str]], cluster_col: str | None
) -> None:
    names = list(res.params.index)
    ok = [(b, p) for b, (p, _) in enumerate(outputs) if p is not None]
    failures = [f"replicate {b}: {msg}" for b, (p, msg) in enumerate(outputs) if p is None]
    flagged = [msg for p, msg in outputs if p is not None and msg]
    if len(ok) < 2:
        raise EstimationError(
            f"bootstrap: only {len(ok)} of {len(outputs)} replicates succeeded ({failures[:3]})"
        )
    draws = pd.DataFrame(
        np.vstack([p for _, p in ok]),
        index=pd.Index([b for b, _ in ok], name="replicate"),
        columns=names,
    )
    res.cov_analytic = res.cov
    res.cov = pd.DataFrame(
        np.cov(draws.to_numpy(), rowvar=False, ddof=1), index=names, columns=names
    )
    res.cov_type = (
        f"bootstrap ({len(ok)} replicates, resampling "
        f"{'groups of ' + cluster_col if cluster_col else 'rows'})"
    )
    res.bootstrap_params = draws
    res.bootstrap_failures = failures
    notes = []
    if failures:
        notes.append(
            f"{len(failures)} of {len(outputs)} bootstrap replicates failed and are left out "
            f"of the covariance (first: {failures[0]})"
        )
    if flagged:
        notes.append(
            f"{len(flagged)} bootstrap replicates raised estimation warnings (first: {flagged[0]})"
        )
    for msg in notes:
        warnings.warn(msg, EstimationWarning, stacklevel=3)
    res.warnings.extend(notes)
