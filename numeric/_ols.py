"""Ordinary least squares of a line: the one slope fit behind every dimension estimate."""

from __future__ import annotations

import numpy as np

__all__ = ["ols_line"]


def ols_line(x: np.ndarray, y: np.ndarray) -> tuple[float, float, float]:
    """``(slope, stderr, intercept)`` of the least-squares line ``y ~ intercept + slope x``.

    ``stderr`` is the usual OLS standard error of the slope,
    ``sqrt(sum(resid**2) / (n - 2) / sum((x - mean x)**2))``; 0 when ``n <= 2`` (no residual
    degrees of freedom).

    >>> ols_line(np.array([0.0, 1.0, 2.0]), np.array([1.0, 3.0, 5.0]))
    (2.0, 0.0, 1.0)
    """
    xbar = x.mean()
    sxx = np.sum((x - xbar) ** 2)
    slope = float(np.sum((x - xbar) * (y - y.mean())) / sxx)
    intercept = float(y.mean() - slope * xbar)
    resid = y - (intercept + slope * x)
    dof = x.size - 2
    stderr = float(np.sqrt(np.sum(resid**2) / dof / sxx)) if dof > 0 else 0.0
    return slope, stderr, intercept
