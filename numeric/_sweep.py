"""Learning-rate sweeps: label every learning rate of a nested grid trainable or divergent.

Protocol (Liu 2024): ``s_k = lr_min + (lr_max - lr_min) * k / N``, ``k = 0..N``,
``N = 2**levels``; run ``steps`` GD steps from ``x0``; a learning rate is *divergent* if the
loss exceeds ``bound`` (or is NaN/inf) at any of the iterates ``x_0..x_steps``
(``criterion="max"``), or, with ``criterion="sum"``, if the running sum of the losses
``f(x_1) + ... + f(x_k)`` reaches ``bound`` (NaN counts as reaching it) for some ``k <= steps``:
the rule of Liu's GPU sweeps (``gpuexp-4-2.py``, ``gpuexp-10.py``, bound 1e16). With
``criterion="above"`` a learning rate is divergent when ``f(x_k) > bound`` for some
``k = 1..steps``; a NaN loss never compares above the bound, so a NaN orbit counts as
trainable: the comparison of Liu's ``exp-3.py``/``exp-5.jl`` (Fig. 4b/4c).
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import jax
import jax.numpy as jnp
import numpy as np
from numpy.typing import ArrayLike

from . import _x64  # noqa: F401
from ._boundary import DimensionFit, boundary_counts, fit_dimension
from ._progress import Progress
from ._runs import RUN_STEPS, as_lanes, runs_labels

__all__ = [
    "SweepResult",
    "LabelKernel",
    "learning_rates",
    "lr_sweep",
    "trainable",
    "MAX_LEVELS",
    "label_chunk",
    "CRITERIA",
    "ENGINES",
    "RUN_STEPS",
]

#: Divergence rules (see the module docstring).
CRITERIA = ("max", "sum", "above")

#: Finest level accepted in memory (2**30 + 1 booleans = 1 GiB).
MAX_LEVELS = 30
_DTYPES = {"float64": jnp.float64, "float32": jnp.float32}

LossAndGrad = Callable[[jax.Array, tuple[jax.Array, ...]], tuple[jax.Array, jax.Array]]


@runtime_checkable
class LabelKernel(Protocol):
    """A compiled sweep backend (e.g. from :func:`trainability.verify.c_sweep_kernel`).

    ``kernel(lrs, x0, params, steps, bound)`` with ``lrs: (C,)`` float64, ``x0: (d,)``,
    ``params: (P,)`` returns ``(labels: (C,) bool, evaluations: int)``: True = trainable
    (same protocol as :func:`lr_sweep`), and the number of loss evaluations done (at most
    ``C * (steps + 1)``; the rest were skipped by early exit). ``name`` identifies it.

    Optional: ``kernel.sweep_cells(lrs, x0s, params, steps, bound)`` with ``lrs: (C,)``,
    ``x0s: (cells, d)``, ``params: (cells, P)`` returns ``(labels: (cells, C) bool,
    evaluations)``, row ``c`` being the labels of cell ``c``;
    :func:`~trainability.numeric.grid_sweep` uses it to batch many cells into one call (all
    cores busy even when cells are small), and calls the kernel once per cell otherwise.
    """

    name: str

    def __call__(
        self, lrs: np.ndarray, x0: np.ndarray, params: np.ndarray, steps: int, bound: float
    ) -> tuple[np.ndarray, int]: ...


def chunk_bounds(total: int, size: int) -> list[tuple[int, int]]:
    """``[(start, stop), ...]`` of consecutive chunks of ``size`` covering ``range(total)``
    (the last one shorter): the one chunk loop of the sweep, the grid and the store.

    >>> chunk_bounds(10, 4)
    [(0, 4), (4, 8), (8, 10)]
    """
    return [(start, min(start + size, total)) for start in range(0, total, size)]


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
def _chunk_kernel(loss_and_grad: LossAndGrad, steps: int, criterion: str = "max") -> Callable:
    """One jitted kernel per (loss, steps, criterion); shapes/dtypes retrace inside jax.jit."""
    summed, above = criterion == "sum", criterion == "above"

    def run(lrs, x0, params, bound):
        x = x_start = jnp.broadcast_to(x0, lrs.shape + x0.shape[-1:]).astype(lrs.dtype)
        f0, g0 = loss_and_grad(x, params)
        # sum: the initial loss is not part of the sum (Liu's scripts add f(x_1)..f(x_T)).
        div0 = (
            jnp.zeros(lrs.shape, bool) if summed or above else ~(jnp.isfinite(f0) & (f0 <= bound))
        )

        def cond(state):
            k, _, _, div, _ = state
            # Early exit: stop when every lane of the chunk has diverged.
            return (k < steps) & ~jnp.all(div)

        def body(state):
            k, x, g, div, total = state
            # Diverged lanes restart from x0: their label is final, and this keeps huge or
            # non-finite iterates away from the (slow) exact paths of fast kernels.
            x = jnp.where(div[:, None], x_start, x - lrs[:, None] * g)
            f, g = loss_and_grad(x, params)
            if summed:
                total = total + f
                return k + 1, x, g, div | ~(total < bound), total
            if above:  # Liu's exp-3.py: only a loss above the bound diverges (NaN does not)
                return k + 1, x, g, div | (f > bound), total
            # A non-finite loss diverges whatever the bound (inf <= inf would pass).
            return k + 1, x, g, div | ~(jnp.isfinite(f) & (f <= bound)), total

        state = (0, x, g0, div0, jnp.zeros(lrs.shape, lrs.dtype))
        k, _, _, div, _ = jax.lax.while_loop(cond, body, state)
        return ~div, k

    return jax.jit(run)


#: JAX engines: ``"runs"`` (runs of :data:`RUN_STEPS` steps, periodic lanes finished,
#: finished lanes compacted into smaller buckets) and ``"steps"`` (one step per while_loop
#: iteration, the engine before the restructuring, kept as the benchmarks' baseline);
#: see :mod:`trainability.numeric._runs`.
ENGINES = ("runs", "steps")


def trainable(
    loss_and_grad: LossAndGrad,
    lrs: ArrayLike,
    x0: ArrayLike,
    params: Sequence[ArrayLike] = (),
    *,
    steps: int = 1000,
    bound: float = 1e8,
    dtype: str = "float64",
    criterion: str = "max",
    engine: str = "runs",
) -> jax.Array:
    """Boolean trainability label for each learning rate in ``lrs`` (one vectorised run).

    Args:
        loss_and_grad: ``(x: (C, d), params) -> (f: (C,), g: (C, d))``, e.g. from
            :func:`trainability.analytic.jax_kernels`. Params may be scalars or ``(C,)``.
        lrs: ``(C,)`` learning rates.
        x0: scalar or ``(d,)`` or ``(C, d)`` initial point.
        criterion: ``"max"``, ``"sum"`` or ``"above"`` (see the module docstring).
        engine: ``"runs"`` (default) or ``"steps"`` (:data:`ENGINES`; same labels).
    """
    return _trainable_and_steps(
        loss_and_grad, lrs, x0, params, steps, bound, dtype, criterion, engine
    )[0]


@functools.lru_cache(maxsize=1)
def _lane_sharding():
    devices = jax.devices()
    if len(devices) < 2:
        return None
    mesh = jax.sharding.Mesh(np.array(devices), ("lanes",))
    return jax.sharding.NamedSharding(mesh, jax.sharding.PartitionSpec("lanes"))


def _shard_lanes(lrs: jax.Array) -> jax.Array:
    """Spread the learning rates over all JAX devices (several GPUs); no-op on one device."""
    sharding = _lane_sharding()
    if sharding is None or lrs.shape[0] % len(sharding.mesh.devices) != 0:
        return lrs
    return jax.device_put(lrs, sharding)


def _trainable_and_steps(
    loss_and_grad, lrs, x0, params, steps, bound, dtype, criterion="max", engine="runs", n_real=None
):
    """``(labels: (C,) bool, evaluations)`` of the lanes ``lrs: (C,)``; the first ``n_real``
    lanes (default all) are counted in ``evaluations``, the rest are padding."""
    if criterion not in CRITERIA:
        raise ValueError(f"criterion must be one of {', '.join(CRITERIA)}, got {criterion!r}")
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {', '.join(ENGINES)}, got {engine!r}")
    dt = _DTYPES[dtype]
    lanes = int(np.shape(lrs)[0])
    n_real = lanes if n_real is None else int(n_real)
    x0 = jnp.atleast_1d(jnp.asarray(x0, dtype=dt))
    params = tuple(jnp.asarray(p, dtype=dt) for p in params)
    if engine == "steps":
        kernel = _chunk_kernel(loss_and_grad, int(steps), criterion)
        labels, k = kernel(
            _shard_lanes(jnp.asarray(lrs, dtype=dt)), x0, params, jnp.asarray(bound, dt)
        )
        # The chunk's while_loop ran k GD steps after the first evaluation, for every lane.
        return labels, n_real * (int(k) + 1)
    xs, params = as_lanes(x0, params, lanes)
    return runs_labels(
        loss_and_grad,
        jnp.asarray(lrs, dtype=dt),
        xs,
        params,
        jnp.arange(lanes) < n_real,
        jnp.asarray(bound, dt),
        steps=int(steps),
        criterion=criterion,
        sharding=_lane_sharding(),
    )


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
    #: loss evaluations actually done (``n_points * (steps + 1)`` minus early exits).
    evaluations: int | None = None
    backend: str = "jax"
    #: divergence rule, ``"max"`` or ``"sum"`` (see the module docstring).
    criterion: str = "max"
    #: JAX engine (:data:`ENGINES`), ``""`` for a compiled kernel.
    engine: str = "runs"

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


def validate_sweep_arguments(
    levels: int,
    lr_min: float,
    lr_max: float,
    steps: int,
    bound: float,
    dtype: str,
    criterion: str = "max",
) -> None:
    """Raise ``ValueError`` with a one-line reason for any bad sweep setting."""
    if not isinstance(levels, int | np.integer) or not 1 <= levels <= MAX_LEVELS:
        raise ValueError(f"levels must be an integer in 1..{MAX_LEVELS}, got {levels}")
    if not (np.isfinite(lr_min) and np.isfinite(lr_max)) or lr_max <= lr_min:
        raise ValueError(f"need finite lr_min < lr_max, got {lr_min} and {lr_max}")
    if not isinstance(steps, int | np.integer) or not 1 <= steps <= 10**7:
        raise ValueError(f"steps must be an integer in 1..10^7, got {steps}")
    if not (np.isfinite(bound) and bound > 0):
        raise ValueError(f"bound must be finite and > 0, got {bound}")
    if dtype not in _DTYPES:
        raise ValueError(f"dtype must be one of {', '.join(_DTYPES)}, got {dtype}")
    if criterion not in CRITERIA:
        raise ValueError(f"criterion must be one of {', '.join(CRITERIA)}, got {criterion!r}")


def with_criterion(backend, criterion: str):
    """``backend`` (``"jax"`` or a :class:`LabelKernel`) set to the divergence rule
    ``criterion``; a kernel without ``with_criterion`` only supports ``"max"``."""
    if isinstance(backend, str) or criterion == "max" and not hasattr(backend, "with_criterion"):
        return backend
    if not hasattr(backend, "with_criterion"):
        raise ValueError(f"backend {backend.name} supports criterion 'max' only")
    return backend.with_criterion(criterion)


def label_chunk(
    loss_and_grad,
    x0,
    params,
    lrs: np.ndarray,
    *,
    steps: int,
    bound: float,
    dtype: str = "float64",
    backend="jax",
    chunk_size: int = 2**12,
    criterion: str = "max",
    engine: str = "runs",
):
    """Labels of the learning rates ``lrs: (C,)`` and the loss evaluations done.

    ``backend="jax"`` runs ``loss_and_grad`` in JAX in chunks of exactly ``chunk_size``
    lanes (the last one padded, so one compiled kernel serves every chunk; padding lanes
    are neither computed once compacted nor counted) with the JAX ``engine``
    (:data:`ENGINES`); a :class:`LabelKernel` runs the whole array.
    Returns ``(labels: (C,) bool, evaluations: int)``.
    """
    lrs = np.asarray(lrs, dtype=np.float64)
    backend = with_criterion(backend, criterion)
    if not isinstance(backend, str):
        if dtype != "float64":
            raise ValueError(f"backend {backend.name} computes in float64, got dtype {dtype}")
        return backend(
            lrs,
            np.atleast_1d(np.asarray(x0, np.float64)),
            np.asarray(params, np.float64),
            int(steps),
            float(bound),
        )
    if backend != "jax":
        raise ValueError(f"backend must be 'jax' or a compiled LabelKernel, got {backend!r}")
    labels = np.empty(lrs.size, dtype=bool)
    chunk = int(chunk_size)  # every call pads to this size: one compiled shape
    evaluations = 0
    for start, stop in chunk_bounds(lrs.size, chunk):
        block = np.full(chunk, lrs[-1])
        block[: stop - start] = lrs[start:stop]  # padding lanes, discarded
        out, ev = _trainable_and_steps(
            loss_and_grad, block, x0, params, steps, bound, dtype, criterion, engine, stop - start
        )
        labels[start:stop] = np.asarray(out)[: stop - start]
        evaluations += ev
    return labels, evaluations


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
    backend: str | LabelKernel = "jax",
    criterion: str = "max",
    engine: str = "runs",
) -> SweepResult:
    """Sweep the nested learning-rate grid at level ``levels`` in bounded memory.

    The grid is processed in chunks of ``chunk_size`` learning rates (the last chunk padded,
    so one compiled kernel serves every chunk); only the boolean labels are kept.

    Args:
        backend: ``"jax"`` (default; runs ``loss_and_grad`` with JAX on any device) or a
            compiled :class:`LabelKernel` such as
            :func:`trainability.verify.c_sweep_kernel` (``loss_and_grad`` is then unused
            and may be None). Chunks for a kernel are ``max(chunk_size, 2**16)`` wide.
        criterion: divergence rule, ``"max"`` (default) or ``"sum"`` (module docstring).
        engine: JAX engine, ``"runs"`` (default: runs of :data:`RUN_STEPS` steps, early
            exit, periodic lanes finished, compaction) or ``"steps"`` (one step per loop
            iteration); same labels. Ignored by a compiled kernel.

    >>> from trainability.analytic import family, jax_kernels
    >>> k = jax_kernels(family("quadratic"))
    >>> r = lr_sweep(k.loss_and_grad, 1.0, levels=4, steps=200)
    >>> r.boundary_counts.tolist()    # one boundary, at s = 1, on every level
    [1, 1, 1, 1, 1]
    """
    validate_sweep_arguments(levels, lr_min, lr_max, steps, bound, dtype, criterion)
    n_points = 2**levels + 1
    compiled = not isinstance(backend, str)
    chunk = int(min(max(chunk_size, 2**16) if compiled else chunk_size, n_points))
    labels = np.empty(n_points, dtype=bool)
    meter = Progress(n_points, "sweep", "learning rates", enabled=progress)
    evaluations = 0
    t0 = time.perf_counter()
    for start, stop in chunk_bounds(n_points, chunk):
        lrs = learning_rates(levels, lr_min, lr_max, start, stop)
        labels[start:stop], ev = label_chunk(
            loss_and_grad,
            x0,
            params,
            lrs,
            steps=steps,
            bound=bound,
            dtype=dtype,
            backend=backend,
            chunk_size=chunk,
            criterion=criterion,
            engine=engine,
        )
        evaluations += ev
        meter.update(stop - start)
    seconds = time.perf_counter() - t0
    name = backend if isinstance(backend, str) else backend.name
    return SweepResult(
        labels,
        levels,
        float(lr_min),
        float(lr_max),
        int(steps),
        float(bound),
        seconds,
        evaluations,
        name,
        criterion,
        "" if compiled else engine,
    )
