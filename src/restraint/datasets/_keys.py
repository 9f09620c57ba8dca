"""Integer keys for fast vectorised joins on (state, year) and (state, state, year).

COW codes are below 1000 and years below 10000, so a state-year packs into
``ccode * 10_000 + year`` and a directed dyad-year into ``(ccode1 * 1000 + ccode2) * 10_000
+ year``; lookups are hash joins on one int64 column (``pd.Index.get_indexer``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from restraint.errors import DataFileError


def int_column(df: pd.DataFrame, column: str, table: str) -> np.ndarray:
    """``df[column]`` as int64, raising :class:`DataFileError` on missing or odd values."""
    if column not in df.columns:
        raise DataFileError(
            f"table {table!r} has no column {column!r} (has {list(df.columns)})", column=column
        )
    s = df[column]
    if s.isna().any():
        row = int(np.flatnonzero(s.isna().to_numpy())[0])
        raise DataFileError(
            f"table {table!r}: missing value in {column!r} at row {row}; expected an integer",
            column=column,
            path=_source_path(df),
        )
    try:
        arr = s.to_numpy(dtype=np.int64)
    except (TypeError, ValueError) as exc:
        raise DataFileError(
            f"table {table!r}: column {column!r} is not integer ({exc})",
            column=column,
            path=_source_path(df),
        ) from exc
    return arr


def _source_path(df: pd.DataFrame) -> object | None:
    src = df.attrs.get("source")
    if isinstance(src, dict):
        return src.get("path") or src.get("file")
    return None


def check_codes(codes: np.ndarray, table: str, column: str) -> None:
    """State codes must lie in 1..999 for the key packing to be exact."""
    bad = (codes < 0) | (codes > 999)
    if bad.any():
        raise DataFileError(
            f"table {table!r}: state code {int(codes[bad][0])} outside 0-999 in {column!r}",
            column=column,
        )


def state_key(ccode: np.ndarray, year: np.ndarray) -> np.ndarray:
    """Pack (ccode, year) into one int64."""
    return np.asarray(ccode, dtype=np.int64) * 10_000 + np.asarray(year, dtype=np.int64)


def dyad_key(ccode1: np.ndarray, ccode2: np.ndarray, year: np.ndarray) -> np.ndarray:
    """Pack a directed (ccode1, ccode2, year) into one int64."""
    c1 = np.asarray(ccode1, dtype=np.int64)
    c2 = np.asarray(ccode2, dtype=np.int64)
    return (c1 * 1000 + c2) * 10_000 + np.asarray(year, dtype=np.int64)


def lookup(keys: np.ndarray, query: np.ndarray) -> np.ndarray:
    """Position of each ``query`` key in ``keys`` (unique), -1 where absent."""
    return pd.Index(keys).get_indexer(query)


def isin(keys: np.ndarray, query: np.ndarray) -> np.ndarray:
    """Whether each ``query`` key occurs in ``keys`` (hash-based; ``keys`` may repeat)."""
    return pd.Series(np.asarray(query, dtype=np.int64)).isin(np.asarray(keys)).to_numpy()


def unique_sorted(values: np.ndarray) -> np.ndarray:
    """Sorted unique values of an int64 array (sort-based; numpy's hash-based
    ``np.unique`` is several times slower on these arrays)."""
    v = np.sort(np.asarray(values, dtype=np.int64), kind="quicksort")
    if len(v) == 0:
        return v
    return v[np.concatenate(([True], v[1:] != v[:-1]))]


def nullable_int8(values: np.ndarray, na: np.ndarray | None = None) -> pd.arrays.IntegerArray:
    """``values`` as a nullable Int8 array, NA where ``na`` is True."""
    v = np.asarray(values).astype(np.int8)
    mask = np.zeros(len(v), dtype=bool) if na is None else np.asarray(na, dtype=bool).copy()
    return pd.arrays.IntegerArray(v, mask)


def nullable_float(values: np.ndarray) -> pd.arrays.FloatingArray:
    """``values`` as a nullable Float64 array, NA where NaN."""
    v = np.asarray(values, dtype=np.float64)
    mask = np.isnan(v)
    return pd.arrays.FloatingArray(np.where(mask, 0.0, v), mask)
