"""The IMR's x'β comes from the selection result's own ``xb``; without one it is an error."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from restraint.errors import EstimationError
from restraint.models.results import ModelResults
from restraint.study.backend import fixed_xb


def test_fixed_xb_uses_the_results_xb_and_rejects_results_without_one() -> None:
    data = pd.DataFrame({"x": [0.0, 1.0, np.nan]})
    params = pd.Series([0.5, 2.0], index=["Intercept", "x"])
    res = ModelResults(
        params=params,
        cov=pd.DataFrame(np.eye(2), index=params.index, columns=params.index),
        llf=-1.0,
        nobs=3,
    )
    with pytest.raises(EstimationError, match="no xb"):
        fixed_xb(res, "y ~ x", data)
    res.xb = lambda d: 0.5 + 2.0 * d["x"].to_numpy()
    np.testing.assert_array_equal(fixed_xb(res, "y ~ x", data), [0.5, 2.5, np.nan])
