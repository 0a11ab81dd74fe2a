"""Sweeps of symbolic landscapes: analytic kernels fed to the numeric sweep engine."""

from __future__ import annotations

import sys

import numpy as np
import sympy

from trainability.analytic import (
    CompileError,
    ExpressionError,
    Landscape,
    c_sweep_kernel,
    fast_jax_kernels,
    jax_kernels,
)
from trainability.numeric import StoredSweep, SweepResult, lr_sweep, stored_lr_sweep

__all__ = ["sweep_landscape", "initial_point", "sweep_backend", "BACKENDS"]

#: Backend names: JAX with libm (default), JAX with the certified polynomial sin/cos, the
#: compiled C kernel with the polynomial or with libm, and "auto" (C polynomial if a compiler
#: works, otherwise JAX).
BACKENDS = ("jax", "jax-poly", "c-poly", "c-libm", "auto")


def initial_point(land: Landscape, x0) -> np.ndarray:
    """``x0`` as a ``(d,)`` float64 vector: a scalar is repeated, a sequence must have length d."""
    arr = np.atleast_1d(np.asarray(x0, dtype=np.float64))
    if arr.ndim != 1 or arr.size not in (1, land.dim):
        raise ExpressionError(f"x0 must be a number or {land.dim} numbers, got {arr.size}")
    if not np.all(np.isfinite(arr)):
        raise ExpressionError("x0 must be finite")
    return np.broadcast_to(arr, (land.dim,)).copy()


def sweep_backend(land: Landscape, backend: str = "jax", dtype: str = "float64"):
    """``(loss_and_grad, backend)`` arguments of ``numeric.lr_sweep`` for a backend name.

    ``"auto"`` falls back to ``"jax"`` (with a note on stderr) when the C kernel cannot be
    compiled, or when ``dtype`` is float32 (the C kernels compute in float64).
    """
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {', '.join(BACKENDS)}, got {backend!r}")
    if backend == "auto":
        if dtype != "float64":
            return jax_kernels(land).loss_and_grad, "jax"
        try:
            return None, c_sweep_kernel(land, "poly")
        except CompileError as exc:
            print(f"trainability: C backend unavailable ({exc}); using JAX", file=sys.stderr)
            return jax_kernels(land).loss_and_grad, "jax"
    if backend == "jax":
        return jax_kernels(land).loss_and_grad, "jax"
    if backend == "jax-poly":
        return fast_jax_kernels(land).loss_and_grad, "jax"
    try:
        return None, c_sweep_kernel(land, backend[2:])
    except CompileError as exc:
        raise ValueError(str(exc)) from None


def _identity(land: Landscape, backend: str, resolved) -> dict:
    name = resolved if isinstance(resolved, str) else resolved.name
    if backend == "jax-poly":
        name = "jax-poly"
    return {
        "expr": sympy.srepr(land.expr),
        "variables": [v.name for v in land.variables],
        "parameters": list(land.parameter_names),
        "kernel": name,
    }


def sweep_landscape(
    land: Landscape, x0, *, backend: str = "jax", out=None, resume: bool = False, **kwargs
) -> SweepResult | StoredSweep:
    """Learning-rate sweep of ``land`` from ``x0``; keyword arguments go to ``lr_sweep``.

    Args:
        backend: one of :data:`BACKENDS` (default ``"jax"``, the libm reference).
        out: a store folder: the sweep streams chunk by chunk into a
            :class:`~trainability.numeric.SweepStore` there and a
            :class:`~trainability.numeric.StoredSweep` is returned.
        resume: with ``out``, reuse the valid chunks already stored.

    >>> from trainability.analytic import family
    >>> r = sweep_landscape(family("quadratic"), 1.0, levels=3, steps=100)
    >>> r.labels.tolist()   # s = 0, 0.1875, ..., 1.5: trainable up to s = 1 inclusive
    [True, True, True, True, True, True, False, False, False]
    """
    params = land.parameter_values()
    x0 = initial_point(land, x0)
    lg, resolved = sweep_backend(land, backend, kwargs.get("dtype", "float64"))
    if out is None:
        if resume:
            raise ValueError("resume needs an output folder (out)")
        return lr_sweep(lg, x0, params, backend=resolved, **kwargs)
    kwargs.pop("chunk_size", None)
    return stored_lr_sweep(
        lg,
        x0,
        params,
        out=out,
        identity=_identity(land, backend, resolved),
        backend=resolved,
        resume=resume,
        **kwargs,
    )
