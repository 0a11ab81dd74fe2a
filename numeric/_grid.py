"""Sweeps over grids of hyperparameters: many cells, each a full learning-rate sweep.

Two engines. JAX: cells and learning rates are flattened into one lane axis, so one
compiled kernel (:func:`trainability.numeric.trainable`, with per-lane ``(C,)``
hyperparameters and initial points) serves every cell: a chunk of ``chunk_size`` lanes may
span several cells. A compiled :class:`~trainability.numeric.LabelKernel`: groups of cells
go to its ``sweep_cells`` method in one call (or to the kernel cell by cell when it has
none).
"""

from __future__ import annotations

import functools
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from ._boundary import DimensionFit, boundary_counts, fit_dimension
from ._progress import Progress
from ._sweep import (
    LabelKernel,
    LossAndGrad,
    chunk_bounds,
    learning_rates,
    trainable,
    validate_sweep_arguments,
    with_criterion,
)

__all__ = ["GridResult", "grid_sweep", "parameter_grid"]


def parameter_grid(**axes: Sequence[float]) -> tuple[tuple[str, ...], np.ndarray]:
    """Cartesian product of named axes: ``(names, values)`` with values ``(cells, P)``.

    The last axis varies fastest (``np.meshgrid(..., indexing="ij")`` order).

    >>> names, values = parameter_grid(eps=[0.1, 0.2], lam=[1.0, 2.0, 3.0])
    >>> names, values.shape, values[1].tolist()
    (('eps', 'lam'), (6, 2), [0.1, 2.0])
    """
    if not axes:
        raise ValueError("parameter_grid needs at least one axis")
    names = tuple(axes)
    arrays = [np.asarray(v, dtype=np.float64).ravel() for v in axes.values()]
    if any(a.size == 0 for a in arrays):
        raise ValueError("every grid axis needs at least one value")
    mesh = np.meshgrid(*arrays, indexing="ij")
    return names, np.stack([m.ravel() for m in mesh], axis=-1)


@dataclass(frozen=True)
class GridResult:
    """Labels of every cell on the finest grid, with boundary counts and dimension fits.

    Attributes:
        params: ``(cells, P)`` hyperparameter values per cell.
        x0: ``(cells, d)`` initial point per cell.
        labels: ``(cells, 2**levels + 1)`` booleans, True = trainable.
    """

    params: np.ndarray
    x0: np.ndarray
    labels: np.ndarray
    levels: int
    lr_min: float
    lr_max: float
    steps: int
    bound: float
    seconds: float
    #: the engine that labelled the cells: ``"jax"`` or the kernel's ``name`` (``"c-poly"``).
    backend: str = "jax"
    #: divergence rule, ``"max"`` or ``"sum"`` (see :mod:`trainability.numeric` sweeps).
    criterion: str = "max"

    @property
    def n_cells(self) -> int:
        return int(self.labels.shape[0])

    @functools.cached_property
    def boundary_counts(self) -> np.ndarray:
        """``(cells, levels + 1)`` boundary counts ``B_N``."""
        return np.stack([boundary_counts(row, self.levels) for row in self.labels])

    @functools.cached_property
    def fits(self) -> list[DimensionFit]:
        return [fit_dimension(c) for c in self.boundary_counts]

    @property
    def dimension(self) -> np.ndarray:
        """``(cells,)`` fitted boundary dimension."""
        return np.array([f.dimension for f in self.fits])

    @property
    def dimension_stderr(self) -> np.ndarray:
        """``(cells,)`` standard error of the fitted dimension."""
        return np.array([f.stderr for f in self.fits])

    def learning_rates(self) -> np.ndarray:
        return learning_rates(self.levels, self.lr_min, self.lr_max)


def grid_sweep(
    loss_and_grad: LossAndGrad | None,
    params: ArrayLike,
    x0: ArrayLike,
    *,
    levels: int = 12,
    lr_min: float = 0.0,
    lr_max: float = 1.5,
    steps: int = 1000,
    bound: float = 1e8,
    dtype: str = "float64",
    chunk_size: int = 2**14,
    progress: bool = False,
    backend: str | LabelKernel = "jax",
    criterion: str = "max",
) -> GridResult:
    """Learning-rate sweeps of many hyperparameter cells, batched cells x learning rates.

    Args:
        loss_and_grad: ``(x: (C, d), params) -> (f: (C,), g: (C, d))`` accepting per-lane
            ``(C,)`` hyperparameters (e.g. from :func:`trainability.analytic.jax_kernels`);
            unused (may be None) with a compiled ``backend``.
        params: ``(cells, P)`` hyperparameter values, one row per cell (``P`` may be 0).
        x0: ``(d,)`` initial point shared by all cells, or ``(cells, d)`` one per cell.
        levels: finest level; every cell gets the ``2**levels + 1`` point grid.
        chunk_size: lanes per JAX kernel call (the last chunk is padded).
        backend: ``"jax"`` or a compiled :class:`~trainability.numeric.LabelKernel` (float64
            only) such as :func:`trainability.verify.c_sweep_kernel`; with its optional
            ``sweep_cells`` method, groups of cells go to the kernel in one call.
        criterion: divergence rule, ``"max"`` (default) or ``"sum"`` (as in ``lr_sweep``).

    Returns:
        A :class:`GridResult` whose ``backend`` names the engine used.
    """
    validate_sweep_arguments(levels, lr_min, lr_max, steps, bound, dtype, criterion)
    backend = with_criterion(backend, criterion)
    params = np.asarray(params, dtype=np.float64)
    if params.ndim != 2:
        raise ValueError(f"params must have shape (cells, P), got {params.shape}")
    cells = params.shape[0]
    if cells < 1:
        raise ValueError("grid_sweep needs at least one cell")
    x0 = np.asarray(x0, dtype=np.float64)
    if x0.ndim == 1:
        x0 = np.broadcast_to(x0, (cells, x0.shape[0]))
    if x0.ndim != 2 or x0.shape[0] != cells:
        raise ValueError(f"x0 must have shape (d,) or ({cells}, d), got {x0.shape}")
    if not np.all(np.isfinite(x0)) or not np.all(np.isfinite(params)):
        raise ValueError("params and x0 must be finite")
    n_points = 2**levels + 1
    lrs = learning_rates(levels, lr_min, lr_max)
    meter = Progress(cells * n_points, "grid", "learning rates", enabled=progress)
    t0 = time.perf_counter()
    if isinstance(backend, str):
        if backend != "jax":
            raise ValueError(f"backend must be 'jax' or a compiled LabelKernel, got {backend!r}")
        labels = _jax_cells(
            loss_and_grad, params, x0, lrs, steps, bound, dtype, chunk_size, meter, criterion
        )
        name = "jax"
    else:
        if dtype != "float64":
            raise ValueError(f"backend {backend.name} computes in float64, got dtype {dtype}")
        labels = _kernel_cells(backend, params, x0, lrs, steps, bound, meter)
        name = backend.name
    seconds = time.perf_counter() - t0
    return GridResult(
        params,
        np.array(x0),
        labels,
        int(levels),
        float(lr_min),
        float(lr_max),
        int(steps),
        float(bound),
        seconds,
        name,
        criterion,
    )


def _jax_cells(loss_and_grad, params, x0, lrs, steps, bound, dtype, chunk_size, meter, criterion):
    """``(cells, n_points)`` labels from the JAX kernel, cells x learning rates as lanes."""
    cells, n_points = params.shape[0], lrs.size
    total = cells * n_points
    chunk = int(min(chunk_size, total))
    labels = np.empty(total, dtype=bool)
    for start, stop in chunk_bounds(total, chunk):
        lane = np.arange(start, start + chunk)
        lane[stop - start :] = total - 1  # padding lanes repeat the last one, discarded
        cell, k = np.divmod(lane, n_points)
        lane_params = tuple(params[cell, j] for j in range(params.shape[1]))
        out = trainable(
            loss_and_grad,
            lrs[k],
            x0[cell],
            lane_params,
            steps=steps,
            bound=bound,
            dtype=dtype,
            criterion=criterion,
        )
        labels[start:stop] = np.asarray(out)[: stop - start]
        meter.update(stop - start)
    return labels.reshape(cells, n_points)


#: Learning rates per compiled-kernel call: long enough to keep every core busy, short
#: enough that progress updates and Ctrl-C (handled between calls) stay responsive.
_KERNEL_LANES = 2**18


def _kernel_cells(kernel, params, x0, lrs, steps, bound, meter):
    """``(cells, n_points)`` labels from a compiled kernel, several cells per call."""
    cells, n_points = params.shape[0], lrs.size
    labels = np.empty((cells, n_points), dtype=bool)
    span = min(n_points, _KERNEL_LANES)  # learning rates per call and cell
    group = max(1, _KERNEL_LANES // span)  # cells per call
    multi = getattr(kernel, "sweep_cells", None)
    for c0, c1 in chunk_bounds(cells, group):
        for k0, k1 in chunk_bounds(n_points, span):
            if multi is not None:
                out, _ = multi(lrs[k0:k1], x0[c0:c1], params[c0:c1], steps, bound)
                labels[c0:c1, k0:k1] = out
            else:
                for c in range(c0, c1):
                    labels[c, k0:k1] = kernel(lrs[k0:k1], x0[c], params[c], steps, bound)[0]
            meter.update((c1 - c0) * (k1 - k0))
    return labels
