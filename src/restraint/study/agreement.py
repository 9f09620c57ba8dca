"""Does the reproduction agree with the paper? Each claim checked from the estimates.

A claim (``[[claims]]`` in the spec) names a term and, per model, the expected sign and/or
whether it is significant at the study's alpha. Each check is stated plainly with the
estimate, its p-value and the strictest of .01/.05/.1 at which it is significant. A claim
``agrees`` when all its checks pass (``require = "all"``) or more than half do (``most``);
with ``all``, some but not all passing is ``partly agrees``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from restraint.study.fitting import Fit, Fits
from restraint.study.spec import ClaimSpec, StudySpec
from restraint.study.tables import num, term_frame

LEVELS = (0.01, 0.05, 0.1)


def significance_level(p: float) -> str:
    """Strictest conventional level reached: '.01', '.05', '.1' or 'n.s.'."""
    for level in LEVELS:
        if p < level:
            return f"{level:g}".lstrip("0")
    return "n.s."


@dataclass
class CheckResult:
    """One model's check of a claim."""

    model: str
    label: str
    term: str
    expected: str
    agrees: bool | None  # None: the model or term was not estimated
    coef: float | None = None
    se: float | None = None
    p: float | None = None
    level: str = ""
    statement: str = ""


@dataclass
class ClaimResult:
    """A claim with its verdict and the checks behind it."""

    id: str
    text: str
    verdict: str  # agrees | partly agrees | does not agree | not checked
    checks: list[CheckResult] = field(default_factory=list)

    @property
    def n_agree(self) -> int:
        """Checks that pass."""
        return sum(1 for c in self.checks if c.agrees)


def _expected(sign: str | None, significant: bool | None, alpha: float) -> str:
    parts = []
    if sign:
        parts.append(sign)
    if significant is True:
        parts.append(f"significant at {alpha:g}")
    elif significant is False:
        parts.append(f"not significant at {alpha:g}")
    return " and ".join(parts)


def check_claim(claim: ClaimSpec, lookup: Callable[[str], Fit | None], alpha: float) -> ClaimResult:
    """Evaluate one claim; ``lookup(model_id)`` gives the fit to judge (or None)."""
    results = []
    for chk in claim.checks:
        fit = lookup(chk.model)
        expected = _expected(chk.sign, chk.significant, alpha)
        label = fit.label if fit else chk.model
        frame = term_frame(fit) if fit else None
        if frame is None or claim.term not in frame.index:
            why = "model not estimated" if fit is None else f"no term {claim.term!r}"
            results.append(
                CheckResult(
                    chk.model,
                    label,
                    claim.term,
                    expected,
                    None,
                    statement=f"{label}: cannot check ({why}).",
                )
            )
            continue
        coef = float(frame.at[claim.term, "coef"])
        se = float(frame.at[claim.term, "se"])
        p = float(frame.at[claim.term, "p"])
        ok = True
        if chk.sign == "negative":
            ok &= coef < 0
        elif chk.sign == "positive":
            ok &= coef > 0
        if chk.significant is not None and np.isfinite(p):
            ok &= (p < alpha) == chk.significant
        level = significance_level(p)
        sig_text = "not significant" if level == "n.s." else f"significant at {level}"
        statement = (
            f"{label}: {claim.term} = {num(coef)} (SE {num(se)}, p = {p:.3f}, {sig_text}); "
            f"expected {expected}: {'agrees' if ok else 'does not agree'}."
        )
        results.append(
            CheckResult(
                chk.model, label, claim.term, expected, bool(ok), coef, se, p, level, statement
            )
        )
    judged = [r for r in results if r.agrees is not None]
    n_ok = sum(1 for r in judged if r.agrees)
    if not judged:
        verdict = "not checked"
    elif claim.require == "all":
        verdict = "agrees" if n_ok == len(judged) else "partly agrees" if n_ok else "does not agree"
    else:
        verdict = "agrees" if n_ok * 2 > len(judged) else "does not agree"
    return ClaimResult(claim.id, claim.text, verdict, results)


def evaluate(spec: StudySpec, fits: Fits, variant: str | None) -> list[ClaimResult]:
    """All claims of ``spec`` judged on the fits of ``variant`` (None: primary)."""
    v = variant if variant is not None else fits.primary
    return [check_claim(c, lambda mid: fits.get(mid, v), spec.alpha) for c in spec.claims]


def compare_variants(spec: StudySpec, fits: Fits, base: str, other: str) -> list[str]:
    """Plain statements of what changes between two selection variants.

    Compares the random-effect σs of the full-sample selection stage, then, for every
    model with a selection stage, each term whose sign or significance level differs,
    and finally the claims whose verdict differs.
    """
    lines: list[str] = []
    sel_base = fits.selection.get((base, ""))
    sel_other = fits.selection.get((other, ""))
    if sel_base and sel_other:

        def sig(fit: Fit) -> str:
            return ", ".join(f"σ({g}) = {num(s)}" for g, (s, _se) in fit.sigma.items()) or "none"

        lines.append(
            f"Selection stage: {sel_base.label}: {sig(sel_base)}, log-likelihood "
            f"{num(sel_base.result.llf, 2)}; {sel_other.label}: {sig(sel_other)}, "
            f"log-likelihood {num(sel_other.result.llf, 2)}."
        )
    for m in spec.models.values():
        if not m.selection:
            continue
        a, b = fits.outcome.get((m.id, base)), fits.outcome.get((m.id, other))
        if a is None or b is None:
            continue
        fa, fb = term_frame(a), term_frame(b)
        changed = []
        for t in fa.index:
            if t not in fb.index or t == "Intercept":
                continue
            la, lb = significance_level(fa.at[t, "p"]), significance_level(fb.at[t, "p"])
            sa, sb = np.sign(fa.at[t, "coef"]), np.sign(fb.at[t, "coef"])
            if la != lb or sa != sb:
                changed.append(
                    f"{spec.label(t)} {num(fa.at[t, 'coef'])} ({la}) → "
                    f"{num(fb.at[t, 'coef'])} ({lb})"
                )
        if changed:
            lines.append(f"{m.label}: " + "; ".join(changed) + ".")
        else:
            lines.append(f"{m.label}: no coefficient changes sign or significance level.")
    va = {c.id: c for c in evaluate(spec, fits, base)}
    vb = {c.id: c for c in evaluate(spec, fits, other)}
    moved = [cid for cid in va if cid in vb and va[cid].verdict != vb[cid].verdict]
    if moved:
        for cid in moved:
            lines.append(
                f"Claim “{va[cid].text}”: {va[cid].verdict} with {base}, "
                f"{vb[cid].verdict} with {other}."
            )
    elif va:
        lines.append(f"No claim's verdict differs between {base} and {other}.")
    return lines
