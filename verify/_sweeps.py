"""Sweeps of symbolic landscapes: analytic kernels fed to the numeric sweep engine."""

from __future__ import annotations

import numpy as np

from trainability.analytic import ExpressionError, Landscape, jax_kernels
from trainability.numeric import SweepResult, lr_sweep

__all__ = ["sweep_landscape", "initial_point"]


def initial_point(land: Landscape, x0) -> np.ndarray:
    """``x0`` as a ``(d,)`` float64 vector: a scalar is repeated, a sequence must have length d."""
    arr = np.atleast_1d(np.asarray(x0, dtype=np.float64))
    if arr.ndim != 1 or arr.size not in (1, land.dim):
        raise ExpressionError(f"x0 must be a number or {land.dim} numbers, got {arr.size}")
    if not np.all(np.isfinite(arr)):
        raise ExpressionError("x0 must be finite")
    return np.broadcast_to(arr, (land.dim,)).copy()


def sweep_landscape(land: Landscape, x0, **kwargs) -> SweepResult:
    """Learning-rate sweep of ``land`` from ``x0``; keyword arguments go to ``lr_sweep``.

    >>> from trainability.analytic import family
    >>> r = sweep_landscape(family("quadratic"), 1.0, levels=3, steps=100)
    >>> r.labels.tolist()   # s = 0, 0.1875, ..., 1.5: trainable up to s = 1 inclusive
    [True, True, True, True, True, True, False, False, False]
    """
    params = land.parameter_values()
    return lr_sweep(jax_kernels(land).loss_and_grad, initial_point(land, x0), params, **kwargs)
