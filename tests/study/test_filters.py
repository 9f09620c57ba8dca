"""Sample filters: evaluation semantics and safety."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from restraint.study.filters import Filter, FilterError


@pytest.fixture
def frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "crisis": [1, 1, 0, 1, np.nan],
            "dp": [1, 0, 1, 1, 1],
            "year": [1940, 1950, 1960, 1995, 2000],
        }
    )


@pytest.mark.parametrize(
    ("text", "rows"),
    [
        ("", [0, 1, 2, 3, 4]),
        ("crisis == 1", [0, 1, 3]),
        ("crisis == 1 and dp == 1", [0, 3]),
        ("crisis == 1 and not dp == 1", [1]),
        ("crisis != 1", [2]),  # the missing crisis is never kept
        ("year <= 1945 or year >= 1991", [0, 3, 4]),
        ("1946 <= year <= 1990", [1, 2]),
        ("year in [1940, 2000]", [0, 4]),
        ("year not in [1940, 2000]", [1, 2, 3]),
        ("crisis", [0, 1, 3]),
        ("(crisis == 1 or dp == 1) and year > 1945", [1, 2, 3]),
        ("year > -1", [0, 1, 2, 3, 4]),
    ],
)
def test_filter_rows(frame: pd.DataFrame, text: str, rows: list[int]) -> None:
    f = Filter.parse(text)
    assert list(f.apply(frame).index) == rows


def test_columns_are_recorded() -> None:
    assert Filter.parse("crisis == 1 and year in [1, 2]").columns == {"crisis", "year"}


def test_unknown_column_names_it(frame: pd.DataFrame) -> None:
    with pytest.raises(FilterError, match=r"column\(s\) \['crises'\] not in the dyad data"):
        Filter.parse("crises == 1").mask(frame, what="dyad data")


@pytest.mark.parametrize(
    "text",
    [
        "open('x')",
        "dp.__class__ == 1",
        "dp + 1 == 2",
        "[x for x in dp]",
        "dp if 1 else 0",
        "lambda: 1",
        "dp == year()",
        "dp = 1",
    ],
)
def test_unsafe_or_malformed_filters_are_rejected(text: str) -> None:
    with pytest.raises(FilterError):
        Filter.parse(text)
