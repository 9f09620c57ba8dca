"""Sample filters written as small boolean expressions, evaluated without ``eval``.

Specs come from users' TOML files, so a filter is parsed with :mod:`ast` and only a
whitelisted subset is accepted (comparisons, ``and``/``or``/``not``, ``in [..]``, numbers,
strings and column names). Anything else is rejected with a message naming the filter.
"""

from __future__ import annotations

import ast
import operator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from restraint.errors import RestraintError


class FilterError(RestraintError):
    """A sample filter is malformed or refers to something the data does not have."""


_COMPARE = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
}


@dataclass(frozen=True)
class Filter:
    """A parsed, validated filter expression; the empty filter keeps every row."""

    text: str
    tree: ast.Expression | None = field(default=None, compare=False, repr=False)
    columns: frozenset[str] = frozenset()

    @classmethod
    def parse(cls, text: str | None) -> Filter:
        """Parse ``text`` (e.g. ``"crisis == 1 and dp == 1"``); raise :class:`FilterError`."""
        text = (text or "").strip()
        if not text:
            return cls("")
        try:
            tree = ast.parse(text, mode="eval")
        except SyntaxError as exc:
            raise FilterError(f"filter {text!r} is not a valid expression: {exc.msg}") from exc
        columns: set[str] = set()
        _check(tree.body, text, columns)
        return cls(text, tree, frozenset(columns))

    def __bool__(self) -> bool:
        return bool(self.text)

    def mask(self, data: pd.DataFrame, *, what: str = "data") -> pd.Series:
        """Boolean mask of the rows of ``data`` that satisfy the filter.

        Rows where a referenced column is missing never match, so a filter cannot keep rows
        it cannot judge (``x != 1`` would otherwise be true for a missing ``x``).
        """
        if not self.text:
            return pd.Series(True, index=data.index)
        missing = sorted(self.columns - set(data.columns))
        if missing:
            raise FilterError(
                f"filter {self.text!r}: column(s) {missing} not in the {what} "
                f"(available: {sorted(map(str, data.columns))})"
            )
        assert self.tree is not None
        out = _evaluate(self.tree.body, data)
        if not isinstance(out, pd.Series):
            # A filter without any column (e.g. "1 == 1") is a constant.
            return pd.Series(bool(out), index=data.index)
        known = data[sorted(self.columns)].notna().all(axis=1)
        return out.fillna(False).astype(bool) & known

    def apply(self, data: pd.DataFrame, *, what: str = "data") -> pd.DataFrame:
        """Rows of ``data`` that satisfy the filter."""
        if not self.text:
            return data
        return data.loc[self.mask(data, what=what)]


def _check(node: ast.AST, text: str, columns: set[str]) -> None:
    if isinstance(node, ast.BoolOp) and isinstance(node.op, ast.And | ast.Or):
        for value in node.values:
            _check(value, text, columns)
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        _check(node.operand, text, columns)
    elif isinstance(node, ast.Compare):
        for op in node.ops:
            if type(op) not in _COMPARE and not isinstance(op, ast.In | ast.NotIn):
                raise FilterError(
                    f"filter {text!r}: operator {type(op).__name__} is not allowed "
                    "(use == != < <= > >= in, not in)"
                )
        for operand in [node.left, *node.comparators]:
            _check_operand(operand, text, columns)
    elif isinstance(node, ast.Name):
        # A bare column is read as "column is true (non-zero)".
        columns.add(node.id)
    else:
        raise FilterError(
            f"filter {text!r}: {ast.unparse(node)!r} is not allowed; write comparisons of "
            "columns with numbers joined by and / or / not, e.g. 'crisis == 1 and dp == 1'"
        )


def _check_operand(node: ast.AST, text: str, columns: set[str]) -> None:
    if isinstance(node, ast.Name):
        columns.add(node.id)
    elif isinstance(node, ast.Constant) and isinstance(node.value, int | float | str):
        return
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        _check_operand(node.operand, text, columns)
    elif isinstance(node, ast.List | ast.Tuple):
        for elt in node.elts:
            if not isinstance(elt, ast.Constant):
                raise FilterError(f"filter {text!r}: lists may hold only numbers or strings")
    else:
        raise FilterError(
            f"filter {text!r}: {ast.unparse(node)!r} is not allowed as an operand "
            "(use a column name, a number, a string or a list of them)"
        )


def _evaluate(node: ast.AST, data: pd.DataFrame) -> Any:
    if isinstance(node, ast.BoolOp):
        parts = [_as_bool(_evaluate(v, data)) for v in node.values]
        combine = np.logical_and if isinstance(node.op, ast.And) else np.logical_or
        out = parts[0]
        for part in parts[1:]:
            out = combine(out, part)
        return out
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        return ~_as_bool(_evaluate(node.operand, data))
    if isinstance(node, ast.Compare):
        left = _operand(node.left, data)
        result = None
        for op, comp in zip(node.ops, node.comparators, strict=True):
            right = _operand(comp, data)
            if isinstance(op, ast.In | ast.NotIn):
                values = right if isinstance(right, list) else [right]
                part = _isin(left, values)
                if isinstance(op, ast.NotIn):
                    part = ~part
            else:
                part = _as_bool(_COMPARE[type(op)](left, right))
            result = part if result is None else np.logical_and(result, part)
            left = right
        return result
    if isinstance(node, ast.Name):
        return _as_bool(data[node.id].fillna(0) != 0)
    raise FilterError(f"cannot evaluate {ast.unparse(node)!r}")  # unreachable after _check


def _operand(node: ast.AST, data: pd.DataFrame) -> Any:
    if isinstance(node, ast.Name):
        return data[node.id]
    if isinstance(node, ast.List | ast.Tuple):
        return [ast.literal_eval(e) for e in node.elts]
    return ast.literal_eval(node)


def _isin(left: Any, values: list[Any]) -> Any:
    if isinstance(left, pd.Series):
        return left.isin(values)
    return left in values


def _as_bool(value: Any) -> Any:
    if isinstance(value, pd.Series):
        return value.fillna(False).astype(bool)
    return value
