"""Learning-rate sweeps: label every learning rate of a nested grid trainable or divergent.

Protocol (Liu 2024): ``s_k = lr_min + (lr_max - lr_min) * k / N``, ``k = 0..N``,
``N = 2**levels``; run ``steps`` GD steps from ``x0``; a learning rate is *divergent* if the
loss exceeds ``bound`` (or is NaN/inf) at any of the iterates ``x_0..x_steps``.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from . import _x64  # noqa: F401
from ._boundary import DimensionFit, boundary_counts, fit_dimension
from ._progress import Progress

__all__ = ["SweepResult", "learning_rates", "lr_sweep", "trainable", "MAX_LEVELS"]

#: Finest level accepted in memory (2**30 + 1 booleans = 1 GiB).
MAX_LEVELS = 30
_DTYPES = {"float64": jnp.float64, "float32": jnp.float32}

LossAndGrad = Callable[[jax.Array, tuple], tuple[jax.Array, jax.Array]]


def learning_rates(
    levels: int, lr_min: float = 0.0, lr_max: float = 1.5, start: int = 0, stop: int | None = None
) -> np.ndarray:
    """Grid points ``s_k`` for ``k in [start, stop)`` of the level-``levels`` grid (float64).

    ``k / N`` is exact in binary, so a point has the same value at every level it belongs to:
    the grids are nested exactly, not just approximately.
    """
    n = 2**levels
    stop = n + 1 if stop is None else stop
    k = np.arange(start, stop, dtype=np.float64)
    return lr_min + (lr_max - lr_min) * (k / n)


@functools.lru_cache(maxsize=64)
def _chunk_kernel(loss_and_grad: LossAndGrad, steps: int) -> Callable:
    """One jitted kernel per (loss, steps); shapes/dtypes retrace inside jax.jit as usual."""

    def run(lrs, x0, params, bound):
        x = jnp.broadcast_to(x0, lrs.shape + x0.shape[-1:]).astype(lrs.dtype)
        f0, g0 = loss_and_grad(x, params)
        div0 = ~(f0 <= bound)

        def cond(state):
            k, _, _, div = state
            # Early exit: stop when every lane of the chunk has diverged.
            return (k < steps) & ~jnp.all(div)

        def body(state):
            k, x, g, div = state
            x = x - lrs[:, None] * g
            f, g = loss_and_grad(x, params)
            return k + 1, x, g, div | ~(f <= bound)

        _, _, _, div = jax.lax.while_loop(cond, body, (0, x, g0, div0))
        return ~div

    return jax.jit(run)


def trainable(
    loss_and_grad: LossAndGrad,
    lrs,
    x0,
    params: Sequence = (),
    *,
    steps: int = 1000,
    bound: float = 1e8,
    dtype: str = "float64",
) -> jax.Array:
    """Boolean trainability label for each learning rate in ``lrs`` (one vectorised run).

    Args:
        loss_and_grad: ``(x: (C, d), params) -> (f: (C,), g: (C, d))``, e.g. from
            :func:`trainability.analytic.jax_kernels`. Params may be scalars or ``(C,)``.
        lrs: ``(C,)`` learning rates.
        x0: scalar or ``(d,)`` or ``(C, d)`` initial point.
    """
    dt = _DTYPES[dtype]
    lrs = jnp.asarray(lrs, dtype=dt)
    x0 = jnp.atleast_1d(jnp.asarray(x0, dtype=dt))
    params = tuple(jnp.asarray(p, dtype=dt) for p in params)
    return _chunk_kernel(loss_and_grad, int(steps))(lrs, x0, params, jnp.asarray(bound, dt))


@dataclass(frozen=True)
class SweepResult:
    """Labels of one sweep on the finest grid, with its boundary counts and dimension fit."""

    labels: np.ndarray  # (2**levels + 1,) bool, True = trainable
    levels: int
    lr_min: float
    lr_max: float
    steps: int
    bound: float
    seconds: float

    @property
    def n_points(self) -> int:
        return int(self.labels.shape[0])

    @functools.cached_property
    def boundary_counts(self) -> np.ndarray:
        return boundary_counts(self.labels, self.levels)

    @functools.cached_property
    def fit(self) -> DimensionFit:
        return fit_dimension(self.boundary_counts)

    @property
    def divergent_fraction(self) -> float:
        return float(1.0 - self.labels.mean())

    def learning_rates(self) -> np.ndarray:
        return learning_rates(self.levels, self.lr_min, self.lr_max)


def check_sweep_arguments(
    levels: int, lr_min: float, lr_max: float, steps: int, bound: float, dtype: str
) -> None:
    """Raise ``ValueError`` with a one-line reason for any bad sweep setting."""
    if not isinstance(levels, int | np.integer) or not 1 <= levels <= MAX_LEVELS:
        raise ValueError(f"levels must be an integer in 1..{MAX_LEVELS}, got {levels}")
    if not (np.isfinite(lr_min) and np.isfinite(lr_max)) or lr_max <= lr_min:
        raise ValueError(f"need finite lr_min < lr_max, got {lr_min} and {lr_max}")
    if not isinstance(steps, int | np.integer) or not 1 <= steps <= 10**7:
        raise ValueError(f"steps must be an integer in 1..10^7, got {steps}")
    if not bound > 0:
        raise ValueError(f"bound must be > 0, got {bound}")
    if dtype not in _DTYPES:
        raise ValueError(f"dtype must be one of {', '.join(_DTYPES)}, got {dtype}")


def lr_sweep(
    loss_and_grad: LossAndGrad,
    x0,
    params: Sequence = (),
    *,
    levels: int = 16,
    lr_min: float = 0.0,
    lr_max: float = 1.5,
    steps: int = 1000,
    bound: float = 1e8,
    dtype: str = "float64",
    chunk_size: int = 2**12,
    progress: bool = False,
) -> SweepResult:
    """Sweep the nested learning-rate grid at level ``levels`` in bounded memory.

    The grid is processed in chunks of ``chunk_size`` learning rates (the last chunk padded,
    so one compiled kernel serves every chunk); only the boolean labels are kept.

    >>> from trainability.analytic import family, jax_kernels
    >>> k = jax_kernels(family("quadratic"))
    >>> r = lr_sweep(k.loss_and_grad, 1.0, levels=4, steps=200)
    >>> r.boundary_counts.tolist()    # one boundary, at s = 1, on every level
    [1, 1, 1, 1, 1]
    """
    check_sweep_arguments(levels, lr_min, lr_max, steps, bound, dtype)
    n_points = 2**levels + 1
    chunk = int(min(chunk_size, n_points))
    labels = np.empty(n_points, dtype=bool)
    meter = Progress(n_points, "sweep", "learning rates", enabled=progress)
    t0 = time.perf_counter()
    for start in range(0, n_points, chunk):
        stop = min(start + chunk, n_points)
        lrs = learning_rates(levels, lr_min, lr_max, start, start + chunk)
        lrs[stop - start :] = lr_max  # padding lanes, discarded
        out = trainable(loss_and_grad, lrs, x0, params, steps=steps, bound=bound, dtype=dtype)
        labels[start:stop] = np.asarray(out)[: stop - start]
        meter.update(stop - start)
    seconds = time.perf_counter() - t0
    return SweepResult(
        labels, levels, float(lr_min), float(lr_max), int(steps), float(bound), seconds
    )
