"""Drop accounting: every row a builder removes is counted with its reason.

A :class:`BuildLog` is a list of steps; each step says which unit it counts (actor rows,
dyad-years, crisis rows), how many rows it had, how many it removed and why. It also
holds tallies that remove nothing (codes mapped to NA, imputed zeros) and, per output
variable, how many rows are missing.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import pandas as pd


@dataclass(frozen=True)
class LogStep:
    """One filtering step: ``rows_before - removed == rows_after``."""

    unit: str
    step: str
    reason: str
    rows_before: int
    removed: int
    rows_after: int
    detail: dict[str, int] = field(default_factory=dict)


@dataclass
class BuildLog:
    """What a builder removed and why, plus missing-value tallies of its output."""

    name: str
    steps: list[LogStep] = field(default_factory=list)
    tallies: dict[str, int] = field(default_factory=dict)
    na_counts: dict[str, int] = field(default_factory=dict)
    rows: int = 0

    def start(self, unit: str, step: str, rows: int, reason: str = "input") -> None:
        """Record the input size of ``unit`` (a step that removes nothing)."""
        self.steps.append(LogStep(unit, step, reason, int(rows), 0, int(rows)))

    def drop(
        self,
        unit: str,
        step: str,
        reason: str,
        before: int,
        after: int,
        detail: dict[Any, int] | None = None,
    ) -> None:
        """Record that a step took ``unit`` from ``before`` to ``after`` rows."""
        before, after = int(before), int(after)
        if after > before:
            raise ValueError(f"step {step!r} cannot add rows ({before} -> {after})")
        det = {str(k): int(v) for k, v in (detail or {}).items()}
        if det and sum(det.values()) != before - after:
            raise ValueError(f"step {step!r}: detail {det} does not add up to {before - after}")
        self.steps.append(LogStep(unit, step, reason, before, before - after, after, det))

    def tally(self, name: str, count: int) -> None:
        """Record a count that removes nothing (e.g. codes mapped to NA)."""
        self.tallies[name] = int(count)

    def removed(self, step: str) -> int:
        """Rows removed by the step named ``step`` (0 if absent)."""
        return sum(s.removed for s in self.steps if s.step == step)

    def finish(self, data: pd.DataFrame) -> None:
        """Record the final size and the NA count of every column of ``data``."""
        self.rows = len(data)
        self.na_counts = {c: int(n) for c, n in data.isna().sum().items()}

    def to_frame(self) -> pd.DataFrame:
        """The steps as a table (one row per step)."""
        cols = ["unit", "step", "reason", "rows_before", "removed", "rows_after", "detail"]
        return pd.DataFrame([asdict(s) for s in self.steps], columns=cols)

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form (inverse: :meth:`from_dict`)."""
        return {
            "name": self.name,
            "rows": self.rows,
            "steps": [asdict(s) for s in self.steps],
            "tallies": dict(self.tallies),
            "na_counts": dict(self.na_counts),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BuildLog:
        """Rebuild a log written by :meth:`to_dict`."""
        return cls(
            name=data["name"],
            steps=[LogStep(**s) for s in data["steps"]],
            tallies=dict(data.get("tallies", {})),
            na_counts=dict(data.get("na_counts", {})),
            rows=int(data.get("rows", 0)),
        )

    def render(self) -> str:
        """Human-readable text: the steps, then the tallies and the NA counts."""
        lines = [f"{self.name}: {self.rows:,} rows"]
        for s in self.steps:
            if s.removed == 0 and s.rows_before == s.rows_after and s.reason == "input":
                lines.append(f"  [{s.unit}] {s.step}: {s.rows_before:,}")
                continue
            det = ""
            if s.detail:
                det = " (" + ", ".join(f"{k}: {v:,}" for k, v in s.detail.items()) + ")"
            lines.append(
                f"  [{s.unit}] {s.step}: {s.rows_before:,} -> {s.rows_after:,}, "
                f"-{s.removed:,} {s.reason}{det}"
            )
        if self.tallies:
            lines.append("  tallies (nothing removed):")
            lines += [f"    {k}: {v:,}" for k, v in self.tallies.items()]
        na = {k: v for k, v in self.na_counts.items() if v}
        lines.append(
            "  missing values: "
            + (", ".join(f"{k} {v:,}" for k, v in na.items()) if na else "none")
        )
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.render()
