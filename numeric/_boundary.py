"""Boundary counts on nested learning-rate grids and the fractal-dimension fit."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from ._ols import ols_line

__all__ = ["boundary_counts", "fit_dimension", "DimensionFit"]


def boundary_counts(labels: np.ndarray, levels: int | None = None) -> np.ndarray:
    r"""Boundary count ``B_N`` for every nested level ``n = 0..levels``.

    Args:
        labels: ``(2**L + 1,)`` booleans on the finest grid
            :math:`s_k = \text{lr_min} + \text{span}\, k / 2^L`.
        levels: finest level ``L`` (inferred from ``labels`` when omitted).

    Returns:
        ``(L + 1,)`` integers: entry ``n`` counts adjacent pairs with different labels on
        the sub-grid of every ``2**(L - n)``-th point (grid size :math:`N = 2^n`).

    >>> boundary_counts(np.array([1, 1, 0, 1, 0], bool)).tolist()
    [1, 1, 3]
    """
    labels = np.asarray(labels, dtype=bool)
    n_points = labels.shape[0]
    finest = int(np.log2(n_points - 1)) if n_points > 1 else 0
    if n_points != 2**finest + 1:
        raise ValueError(f"labels must have 2**L + 1 entries, got {n_points}")
    if levels is None:
        levels = finest
    if levels != finest:
        raise ValueError(f"labels hold level {finest}, not {levels}")
    counts = np.empty(levels + 1, dtype=np.int64)
    for n in range(levels + 1):
        sub = labels[:: 2 ** (levels - n)]
        counts[n] = np.count_nonzero(sub[1:] != sub[:-1])
    return counts


@dataclass(frozen=True)
class DimensionFit:
    r"""Slope of ``log2 B_N`` against ``n`` (the box-counting dimension of the boundary).

    ``dimension`` is 0 and ``stderr`` 0 when fewer than 3 levels have :math:`B_N \ge 2`.
    """

    dimension: float
    stderr: float
    levels: tuple[int, ...]
    intercept: float = 0.0


def fit_dimension(counts: ArrayLike, min_count: int = 2, min_levels: int = 3) -> DimensionFit:
    r"""Least-squares slope of ``log2 B_N`` vs level over levels with
    :math:`B_N \ge \text{min_count}`.

    The standard error is the usual OLS standard error of the slope (:func:`ols_line`, shared
    with the box-counting fit).

    >>> fit = fit_dimension([1, 2, 4, 8, 16])
    >>> round(fit.dimension, 12), fit.levels
    (1.0, (1, 2, 3, 4))
    """
    counts = np.asarray(counts, dtype=float)
    used = np.flatnonzero(counts >= min_count)
    if used.size < min_levels:
        return DimensionFit(0.0, 0.0, tuple(int(u) for u in used))
    slope, stderr, intercept = ols_line(used.astype(float), np.log2(counts[used]))
    return DimensionFit(slope, stderr, tuple(int(u) for u in used), intercept)
