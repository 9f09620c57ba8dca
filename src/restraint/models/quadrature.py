"""Gauss–Hermite rules and the probit log-density with its derivatives.

Building blocks shared by the random-effects probits (:mod:`restraint.models.re_probit`,
:mod:`restraint.models.crossed`):

* :func:`gauss_hermite` gives the physicists' rule, ``∫ f(x) exp(-x²) dx ≈ Σ w_k f(x_k)``,
  the same nodes and weights as R's ``statmod::gauss.quad(n, kind = "hermite")`` that pglm
  uses.
* :func:`normal_rule` rewrites it for an expectation over a standard normal, and
  :func:`adaptive_rule` centres and scales it on each group's posterior mode and curvature
  (adaptive Gauss–Hermite quadrature, Liu and Pierce 1994).
* :func:`probit_logpdf` returns ``log Φ(t)`` and its first three derivatives in ``t``,
  computed stably in the far tails (rare events put most rows there).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from restraint.models._kernels import PROBIT_TABLE, probit_logpdf_array

_LOG_SQRT_2PI = 0.5 * np.log(2.0 * np.pi)


@lru_cache(maxsize=64)
def _hermgauss(n: int) -> tuple[np.ndarray, np.ndarray]:
    nodes, weights = np.polynomial.hermite.hermgauss(n)
    nodes.setflags(write=False)
    weights.setflags(write=False)
    return nodes, weights


def gauss_hermite(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Nodes and weights of the ``n``-point Gauss–Hermite rule for the weight ``exp(-x²)``.

    ``Σ w_k f(x_k)`` approximates ``∫ f(x) exp(-x²) dx`` and is exact for polynomials of
    degree ``2n - 1``. Identical to R's ``statmod::gauss.quad(n, kind = "hermite")``.
    """
    if not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"number of quadrature nodes must be a positive integer, got {n!r}")
    if n > 200:
        raise ValueError(f"number of quadrature nodes must be at most 200, got {n}")
    nodes, weights = _hermgauss(int(n))
    return nodes.copy(), weights.copy()


def normal_rule(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Nodes ``ξ_k`` and log-weights for ``E f(Z), Z ~ N(0, 1) ≈ Σ exp(logw_k) f(ξ_k)``.

    This is the non-adaptive rule (nodes ``√2 x_k``, weights ``w_k / √π``) that pglm applies
    to every group alike.
    """
    x, w = gauss_hermite(n)
    return np.sqrt(2.0) * x, np.log(w) - 0.5 * np.log(np.pi)


def adaptive_rule(mode: np.ndarray, scale: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Adaptive rule for ``∫ g(ξ) φ(ξ) dξ`` per group, centred on ``mode`` with ``scale``.

    Returns nodes ``ξ_gk = mode_g + √2 scale_g x_k`` and log-weights that already include the
    standard-normal density at the node, so ``∫ g(ξ) φ(ξ) dξ ≈ Σ_k exp(logw_gk) g(ξ_gk)``.
    With ``mode = 0`` and ``scale = 1`` this is exactly :func:`normal_rule`.
    """
    x, w = gauss_hermite(n)
    mode = np.asarray(mode, dtype=float)[:, None]
    scale = np.asarray(scale, dtype=float)[:, None]
    nodes = mode + np.sqrt(2.0) * scale * x[None, :]
    logw = (
        np.log(w)[None, :]
        + (x * x)[None, :]
        + np.log(np.sqrt(2.0) * scale)
        - 0.5 * nodes * nodes
        - _LOG_SQRT_2PI
    )
    return nodes, logw


def probit_logpdf(
    t: np.ndarray, order: int = 2
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray | None]:
    """``log Φ(t)`` and its derivatives in ``t`` up to ``order`` (1, 2 or 3).

    With ``m = φ(t)/Φ(t)`` (the inverse Mills ratio) the derivatives are ``m``,
    ``-m (t + m)`` and ``m ((t + m)(t + 2m) - 1)``. The values come from the compiled
    kernel :func:`restraint.models._kernels.probit_logpdf_array` (a piecewise-polynomial
    table on ``[-12, 10]``, ``log_ndtr``-type formulas outside), accurate to a few 1e-15
    relative to ``max(1, |value|)`` and finite where ``Φ(t)`` underflows. For a binary
    outcome ``y`` with linear index ``η`` the log-density is ``log Φ(q η)``, ``q = 2y - 1``;
    derivatives in ``η`` are those in ``t`` times ``q``, ``1`` and ``q``.
    """
    if order not in (1, 2, 3):
        raise ValueError(f"order must be 1, 2 or 3, got {order!r}")
    t = np.asarray(t, dtype=float)
    flat = np.ascontiguousarray(t).reshape(-1)
    logcdf, mills, d2, d3 = probit_logpdf_array(flat, order, PROBIT_TABLE)
    shape = t.shape
    return (
        logcdf.reshape(shape),
        mills.reshape(shape),
        d2.reshape(shape) if order >= 2 else None,
        d3.reshape(shape) if order >= 3 else None,
    )
