"""The study as data: selection stages, outcome models, tables, predictions and claims.

The built-in specification ships as ``specs.toml`` beside this module. A user file of the
same shape replaces it (``restraint replicate --spec my.toml``); with ``extends =
"builtin"`` at its top it is merged over the built-in one instead, so a variant only needs
the sections it changes. Every key is checked: a misspelt key, an unknown estimator, a
malformed filter or a reference to a model that does not exist is a :class:`SpecError`
naming the file and the key.
"""

from __future__ import annotations

import copy
import hashlib
import re
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from restraint.errors import RestraintError
from restraint.study.filters import Filter, FilterError

BUILTIN = "builtin"

#: Estimators an outcome model may use.
OUTCOME_ESTIMATORS = ("probit",)
#: Estimators a selection stage may use (``probit`` is the pooled probit, without effects).
SELECTION_ESTIMATORS = ("re_probit", "crossed_re_probit", "probit")
COVARIANCES = ("HC0", "HC1", "ML")
DATASETS = ("actor", "dyad")
_ID = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


class SpecError(RestraintError):
    """A study specification is invalid; the message names the file and the key."""


@dataclass(frozen=True)
class Period:
    """Inclusive range of years; ``None`` leaves that end open."""

    start: int | None = None
    end: int | None = None

    @property
    def key(self) -> str:
        """Stable name used in result keys, e.g. ``to_1945``, ``1946_1990``, ``from_1991``."""
        if self.start is None and self.end is None:
            return ""
        if self.start is None:
            return f"to_{self.end}"
        if self.end is None:
            return f"from_{self.start}"
        return f"{self.start}_{self.end}"

    @property
    def label(self) -> str:
        """Readable label, e.g. ``1946-1990``, ``up to 1945``."""
        if self.start is None and self.end is None:
            return "all years"
        if self.start is None:
            return f"up to {self.end}"
        if self.end is None:
            return f"from {self.start}"
        return f"{self.start}-{self.end}"

    def __bool__(self) -> bool:
        return self.start is not None or self.end is not None


@dataclass(frozen=True)
class SelectionVariant:
    """One way of estimating the selection stage (e.g. ``published``, ``crossed``)."""

    name: str
    label: str
    estimator: str
    groups: tuple[str, ...] = ()
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class SelectionSpec:
    """The selection equation, shared by all variants."""

    data: str
    dependent: str
    regressors: tuple[str, ...]
    filter: Filter
    variants: dict[str, SelectionVariant]

    @property
    def formula(self) -> str:
        """Patsy formula of the fixed part."""
        return f"{self.dependent} ~ {' + '.join(self.regressors)}"


@dataclass(frozen=True)
class PredictSpec:
    """Predicted probabilities over the levels of one regressor."""

    over: str
    levels: tuple[Any, ...]
    ci: float = 0.95
    cov: str = "ML"
    method: str = "typical"  # "typical": others at reference/means; "average": over sample
    at: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ModelSpec:
    """One outcome model: data, sample filter, dependent variable, regressors, estimator."""

    id: str
    label: str
    data: str
    dependent: str
    regressors: tuple[str, ...]
    factors: tuple[str, ...] = ()
    filter: Filter = field(default_factory=lambda: Filter(""))
    period: Period = field(default_factory=Period)
    selection: bool = False
    estimator: str = "probit"
    cov: str = "HC0"
    predict: PredictSpec | None = None

    @property
    def formula(self) -> str:
        """Patsy formula: factors as ``C(x)``, plus ``imr`` when a selection stage is used."""
        terms = [f"C({r})" if r in self.factors else r for r in self.regressors]
        if self.selection:
            terms.append("imr")
        return f"{self.dependent} ~ {' + '.join(terms)}"

    @property
    def columns(self) -> set[str]:
        """Data columns the model reads (``imr`` excluded: the runner makes it)."""
        cols = {self.dependent, *self.regressors, *self.filter.columns}
        if self.period:
            cols.add("year")
        return cols


@dataclass(frozen=True)
class TableSpec:
    """A coefficient table: its models in column order."""

    id: str
    title: str
    models: tuple[str, ...]
    ci_terms: tuple[str, ...] = ()
    show_selection: bool = True


@dataclass(frozen=True)
class PredictionsSpec:
    """Table 5 and Figure 1."""

    title: str
    models: tuple[str, ...]
    level_labels: tuple[str, ...]
    changes: dict[str, tuple[int, int]]


@dataclass(frozen=True)
class Check:
    """One model's expected sign and/or significance of a claim's term."""

    model: str
    sign: str | None = None
    significant: bool | None = None


@dataclass(frozen=True)
class ClaimSpec:
    """A claim of the paper, checked against the estimates."""

    id: str
    text: str
    term: str
    checks: tuple[Check, ...]
    require: str = "all"


@dataclass(frozen=True)
class StudySpec:
    """The whole study."""

    title: str
    alpha: float
    labels: dict[str, str]
    selection: SelectionSpec
    models: dict[str, ModelSpec]
    tables: dict[str, TableSpec]
    predictions: PredictionsSpec | None
    claims: tuple[ClaimSpec, ...]
    source: str = BUILTIN
    sha256: str = ""

    def label(self, term: str) -> str:
        """Readable label of a term (the term itself when none is given)."""
        return self.labels.get(term, term)


# ---------------------------------------------------------------------------------------
# loading


def builtin_text() -> str:
    """Text of the built-in ``specs.toml``."""
    return resources.files("restraint.study").joinpath("specs.toml").read_text("utf-8")


def load_spec(path: str | Path | None = None) -> StudySpec:
    """Load and validate a study specification (the built-in one when ``path`` is None)."""
    if path is None:
        text, where = builtin_text(), BUILTIN
    else:
        p = Path(path)
        try:
            text = p.read_text("utf-8")
        except FileNotFoundError as exc:
            raise SpecError(f"{p}: spec file not found") from exc
        except (OSError, UnicodeDecodeError) as exc:
            raise SpecError(f"{p}: cannot read spec file: {exc}") from exc
        where = str(p)
    return parse_spec(text, where=where)


def parse_spec(text: str, *, where: str = "<string>") -> StudySpec:
    """Parse and validate spec ``text``; ``where`` names it in error messages."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SpecError(f"{where}: not valid TOML: {exc}") from exc
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    extends = raw.pop("extends", None)
    if extends is not None:
        if extends != BUILTIN:
            raise SpecError(f"{where}: extends = {extends!r}: only 'builtin' is supported")
        base = tomllib.loads(builtin_text())
        raw = _merge(base, raw)
        digest = hashlib.sha256((builtin_text() + text).encode("utf-8")).hexdigest()
    return _Parser(where).study(raw, digest)


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """Merge ``over`` into ``base``: tables merge by key, everything else is replaced."""
    out = copy.deepcopy(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


class _Parser:
    """Validating converter from the TOML dictionary to the spec dataclasses."""

    def __init__(self, where: str) -> None:
        self.where = where

    def error(self, at: str, message: str) -> SpecError:
        return SpecError(f"{self.where}: {at}: {message}" if at else f"{self.where}: {message}")

    def keys(self, at: str, table: Any, allowed: dict[str, bool]) -> dict[str, Any]:
        """Check ``table`` is a table with only ``allowed`` keys (value: required)."""
        if not isinstance(table, dict):
            raise self.error(at, f"expected a table, got {type(table).__name__}")
        unknown = sorted(set(table) - set(allowed))
        if unknown:
            raise self.error(
                at, f"unknown key(s) {unknown} (allowed: {', '.join(sorted(allowed))})"
            )
        missing = sorted(k for k, req in allowed.items() if req and k not in table)
        if missing:
            raise self.error(at, f"missing required key(s) {missing}")
        return table

    def typed(self, at: str, value: Any, kind: type | tuple[type, ...], what: str) -> Any:
        if isinstance(value, bool) and kind is not bool and bool not in _tuple(kind):
            raise self.error(at, f"expected {what}, got a boolean")
        if not isinstance(value, kind):
            raise self.error(at, f"expected {what}, got {value!r}")
        return value

    def names(self, at: str, value: Any) -> tuple[str, ...]:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.error(at, f"expected a list of column names, got {value!r}")
        for v in value:
            if not v.isidentifier():
                raise self.error(at, f"{v!r} is not a column name")
        return tuple(value)

    def filt(self, at: str, value: Any) -> Filter:
        self.typed(at, value, str, "a filter string such as 'crisis == 1'")
        try:
            return Filter.parse(value)
        except FilterError as exc:
            raise self.error(at, str(exc)) from exc

    def choice(self, at: str, value: Any, options: tuple[str, ...]) -> str:
        if value not in options:
            raise self.error(at, f"{value!r} is not one of {', '.join(options)}")
        return value

    # -- sections ------------------------------------------------------------------------

    def study(self, raw: dict[str, Any], digest: str) -> StudySpec:
        self.keys(
            "",
            raw,
            {
                "study": False,
                "labels": False,
                "selection": False,
                "models": True,
                "tables": False,
                "predictions": False,
                "claims": False,
            },
        )
        meta = self.keys("study", raw.get("study", {}), {"title": False, "alpha": False})
        title = self.typed("study.title", meta.get("title", "study"), str, "a string")
        alpha = float(self.typed("study.alpha", meta.get("alpha", 0.1), int | float, "a number"))
        if not 0 < alpha < 1:
            raise self.error("study.alpha", f"must lie in (0, 1), got {alpha}")
        labels = raw.get("labels", {})
        self.keys("labels", labels, {k: False for k in labels})
        for k, v in labels.items():
            self.typed(f"labels.{k}", v, str, "a string")
        selection = self.selection(raw.get("selection"))
        models = raw["models"]
        self.keys("models", models, {k: False for k in models})
        if not models:
            raise self.error("models", "at least one model is needed")
        parsed = {mid: self.model(mid, m) for mid, m in models.items()}
        if selection is None and any(m.selection for m in parsed.values()):
            needing = [m.id for m in parsed.values() if m.selection]
            raise self.error("selection", f"models {needing} use a selection stage; define one")
        tables = raw.get("tables", {})
        self.keys("tables", tables, {k: False for k in tables})
        ptables = {tid: self.table(tid, t, parsed) for tid, t in tables.items()}
        predictions = self.predictions(raw.get("predictions"), parsed)
        claims_raw = raw.get("claims", [])
        if not isinstance(claims_raw, list):
            raise self.error("claims", "expected an array of tables ([[claims]])")
        claims = tuple(self.claim(i, c, parsed) for i, c in enumerate(claims_raw))
        ids = [c.id for c in claims]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise self.error("claims", f"duplicate claim id(s) {dupes}")
        return StudySpec(
            title=title,
            alpha=alpha,
            labels=dict(labels),
            selection=selection,  # type: ignore[arg-type]
            models=parsed,
            tables=ptables,
            predictions=predictions,
            claims=claims,
            source=self.where,
            sha256=digest,
        )

    def selection(self, raw: Any) -> SelectionSpec | None:
        if raw is None:
            return None
        at = "selection"
        self.keys(
            at,
            raw,
            {
                "data": False,
                "dependent": True,
                "regressors": True,
                "filter": False,
                "variants": True,
            },
        )
        data = self.choice(f"{at}.data", raw.get("data", "dyad"), DATASETS)
        dependent = self.names(f"{at}.dependent", [raw["dependent"]])[0]
        regressors = self.names(f"{at}.regressors", raw["regressors"])
        filt = self.filt(f"{at}.filter", raw.get("filter", ""))
        variants_raw = raw["variants"]
        self.keys(f"{at}.variants", variants_raw, {k: False for k in variants_raw})
        if not variants_raw:
            raise self.error(f"{at}.variants", "at least one variant is needed")
        variants = {}
        for name, v in variants_raw.items():
            vat = f"{at}.variants.{name}"
            if not _ID.match(name) or name in ("both", "all"):
                raise self.error(vat, f"{name!r} is not a valid variant name")
            self.keys(
                vat,
                v,
                {
                    "label": False,
                    "estimator": True,
                    "group": False,
                    "groups": False,
                    "options": False,
                },
            )
            est = self.choice(f"{vat}.estimator", v["estimator"], SELECTION_ESTIMATORS)
            if "group" in v and "groups" in v:
                raise self.error(vat, "give either 'group' or 'groups', not both")
            groups = (
                self.names(f"{vat}.group", [v["group"]])
                if "group" in v
                else self.names(f"{vat}.groups", v.get("groups", []))
            )
            need = {"re_probit": 1, "crossed_re_probit": 2, "probit": 0}[est]
            if len(groups) != need:
                raise self.error(
                    vat, f"estimator {est!r} needs {need} grouping column(s), got {list(groups)}"
                )
            options = v.get("options", {})
            self.typed(f"{vat}.options", options, dict, "a table of estimator options")
            label = self.typed(f"{vat}.label", v.get("label", f"Selection ({name})"), str, "str")
            variants[name] = SelectionVariant(name, label, est, groups, dict(options))
        return SelectionSpec(data, dependent, regressors, filt, variants)

    def model(self, mid: str, raw: Any) -> ModelSpec:
        at = f"models.{mid}"
        if not _ID.match(mid) or mid.startswith("sel"):
            raise self.error(
                at, f"{mid!r} is not a valid model id (letters, digits, _, not starting with 'sel')"
            )
        self.keys(
            at,
            raw,
            {
                "label": False,
                "data": True,
                "dependent": True,
                "regressors": True,
                "factors": False,
                "filter": False,
                "period": False,
                "selection": False,
                "estimator": False,
                "cov": False,
                "predict": False,
            },
        )
        data = self.choice(f"{at}.data", raw["data"], DATASETS)
        dependent = self.names(f"{at}.dependent", [raw["dependent"]])[0]
        regressors = self.names(f"{at}.regressors", raw["regressors"])
        if not regressors:
            raise self.error(f"{at}.regressors", "at least one regressor is needed")
        if "imr" in regressors:
            raise self.error(f"{at}.regressors", "use 'selection = true' to add 'imr'")
        factors = self.names(f"{at}.factors", raw.get("factors", []))
        stray = sorted(set(factors) - set(regressors))
        if stray:
            raise self.error(f"{at}.factors", f"{stray} are not among the regressors")
        filt = self.filt(f"{at}.filter", raw.get("filter", ""))
        period = self.period(f"{at}.period", raw.get("period"))
        selection = self.typed(f"{at}.selection", raw.get("selection", False), bool, "true/false")
        if selection and data != "dyad":
            raise self.error(f"{at}.selection", "a selection stage needs data = 'dyad'")
        estimator = self.choice(
            f"{at}.estimator", raw.get("estimator", "probit"), OUTCOME_ESTIMATORS
        )
        cov = self.choice(f"{at}.cov", raw.get("cov", "HC0"), COVARIANCES)
        predict = self.predict(f"{at}.predict", raw.get("predict"), regressors)
        label = self.typed(f"{at}.label", raw.get("label", mid), str, "a string")
        return ModelSpec(
            mid,
            label,
            data,
            dependent,
            regressors,
            factors,
            filt,
            period,
            selection,
            estimator,
            cov,
            predict,
        )

    def period(self, at: str, raw: Any) -> Period:
        if raw is None:
            return Period()
        self.keys(at, raw, {"from": False, "to": False})
        start = raw.get("from")
        end = raw.get("to")
        for key, v in (("from", start), ("to", end)):
            if v is not None:
                self.typed(f"{at}.{key}", v, int, "a year (integer)")
        if start is None and end is None:
            raise self.error(at, "give 'from', 'to' or both")
        if start is not None and end is not None and start > end:
            raise self.error(at, f"from = {start} is after to = {end}")
        return Period(start, end)

    def predict(self, at: str, raw: Any, regressors: tuple[str, ...]) -> PredictSpec | None:
        if raw is None:
            return None
        self.keys(
            at,
            raw,
            {"over": True, "levels": True, "ci": False, "cov": False, "method": False, "at": False},
        )
        over = self.names(f"{at}.over", [raw["over"]])[0]
        if over not in regressors:
            raise self.error(f"{at}.over", f"{over!r} is not a regressor of this model")
        levels = raw["levels"]
        if not isinstance(levels, list) or len(levels) < 2:
            raise self.error(
                f"{at}.levels", f"expected a list of two or more levels, got {levels!r}"
            )
        ci = float(self.typed(f"{at}.ci", raw.get("ci", 0.95), int | float, "a number"))
        if not 0 < ci < 1:
            raise self.error(f"{at}.ci", f"must lie in (0, 1), got {ci}")
        cov = self.choice(f"{at}.cov", raw.get("cov", "ML"), COVARIANCES)
        method = self.choice(f"{at}.method", raw.get("method", "typical"), ("typical", "average"))
        at_values = raw.get("at", {})
        self.typed(f"{at}.at", at_values, dict, "a table of column = value")
        return PredictSpec(over, tuple(levels), ci, cov, method, dict(at_values))

    def table(self, tid: str, raw: Any, models: dict[str, ModelSpec]) -> TableSpec:
        at = f"tables.{tid}"
        if not _ID.match(tid):
            raise self.error(at, f"{tid!r} is not a valid table id")
        self.keys(
            at, raw, {"title": False, "models": True, "ci_terms": False, "show_selection": False}
        )
        mids = self.names(f"{at}.models", raw["models"])
        self.known(f"{at}.models", mids, models)
        ci_terms = self.names(f"{at}.ci_terms", raw.get("ci_terms", []))
        show = self.typed(f"{at}.show_selection", raw.get("show_selection", True), bool, "bool")
        title = self.typed(f"{at}.title", raw.get("title", tid), str, "a string")
        return TableSpec(tid, title, mids, ci_terms, show)

    def predictions(self, raw: Any, models: dict[str, ModelSpec]) -> PredictionsSpec | None:
        if raw is None:
            return None
        at = "predictions"
        self.keys(
            at, raw, {"title": False, "models": True, "level_labels": False, "changes": False}
        )
        mids = self.names(f"{at}.models", raw["models"])
        self.known(f"{at}.models", mids, models)
        for mid in mids:
            if models[mid].predict is None:
                raise self.error(f"{at}.models", f"model {mid!r} has no 'predict' table")
        nlev = {len(models[m].predict.levels) for m in mids}  # type: ignore[union-attr]
        labels = raw.get("level_labels")
        if labels is None:
            labels = [str(v) for v in models[mids[0]].predict.levels]  # type: ignore[union-attr]
        if not isinstance(labels, list) or {len(labels)} != nlev:
            raise self.error(
                f"{at}.level_labels", f"expected {sorted(nlev)} labels, got {labels!r}"
            )
        changes = raw.get("changes", {})
        self.typed(f"{at}.changes", changes, dict, "a table name = [from, to]")
        pchanges = {}
        n = len(labels)
        for name, pair in changes.items():
            if (
                not isinstance(pair, list)
                or len(pair) != 2
                or not all(isinstance(i, int) and 0 <= i < n for i in pair)
            ):
                raise self.error(
                    f"{at}.changes.{name}",
                    f"expected [from, to] level positions in 0..{n - 1}, got {pair!r}",
                )
            pchanges[name] = (pair[0], pair[1])
        title = self.typed(f"{at}.title", raw.get("title", "Predicted probabilities"), str, "str")
        return PredictionsSpec(title, mids, tuple(labels), pchanges)

    def claim(self, i: int, raw: Any, models: dict[str, ModelSpec]) -> ClaimSpec:
        at = f"claims[{i}]"
        self.keys(
            at, raw, {"id": True, "text": True, "term": True, "checks": True, "require": False}
        )
        cid = self.typed(f"{at}.id", raw["id"], str, "a string")
        at = f"claims[{i}] ({cid})"
        text = self.typed(f"{at}.text", raw["text"], str, "a string")
        term = self.typed(f"{at}.term", raw["term"], str, "a term name")
        require = self.choice(f"{at}.require", raw.get("require", "all"), ("all", "most"))
        checks_raw = raw["checks"]
        if not isinstance(checks_raw, list) or not checks_raw:
            raise self.error(f"{at}.checks", "expected a non-empty list of checks")
        checks = []
        for j, c in enumerate(checks_raw):
            cat = f"{at}.checks[{j}]"
            self.keys(cat, c, {"model": True, "sign": False, "significant": False})
            self.known(f"{cat}.model", (c["model"],), models)
            sign = c.get("sign")
            if sign is not None:
                self.choice(f"{cat}.sign", sign, ("negative", "positive"))
            sig = c.get("significant")
            if sig is not None:
                self.typed(f"{cat}.significant", sig, bool, "true/false")
            if sign is None and sig is None:
                raise self.error(cat, "give 'sign', 'significant' or both")
            checks.append(Check(c["model"], sign, sig))
        return ClaimSpec(cid, text, term, tuple(checks), require)

    def known(self, at: str, mids: tuple[str, ...] | list[str], models: dict[str, Any]) -> None:
        unknown = [m for m in mids if m not in models]
        if unknown:
            raise self.error(at, f"unknown model(s) {unknown} (defined: {', '.join(models)})")


def _tuple(kind: type | tuple[type, ...]) -> tuple[type, ...]:
    return kind if isinstance(kind, tuple) else (kind,)
