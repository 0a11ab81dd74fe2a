"""Sweeps of symbolic landscapes: analytic kernels fed to the numeric sweep engine."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import sympy

from trainability.analytic import (
    ExpressionError,
    Landscape,
    c_sweep_source,
    c_wide_sweep_source,
    fast_jax_kernels,
    jax_kernels,
)
from trainability.numeric import (
    CompileError,
    CSweepKernel,
    StoredSweep,
    SweepResult,
    load_sweep_kernel,
    lr_sweep,
    stored_lr_sweep,
)

if TYPE_CHECKING:
    import argparse

    import jax
    from numpy.typing import ArrayLike

__all__ = [
    "c_sweep_kernel",
    "kernel_layout",
    "sweep_landscape",
    "initial_point",
    "sweep_backend",
    "backend_name",
    "add_backend_option",
    "sweep_protocol",
    "sweep_run",
    "BACKENDS",
]

#: Backend names. None of them is a label reference: next to a fractal boundary labels are
#: rounding-sensitive, and the reference is the mpmath orbit of
#: :func:`~trainability.verify.reference_label`.
#:
#: - ``"jax"``: the lambdified loss in JAX with ``jnp.sin``/``jnp.cos``. XLA fuses and contracts
#:   the step's arithmetic, so it is one float64 orbit among several (one jitted GD step
#:   differs from the same NumPy expression in the last bit on 29% of inputs).
#: - ``"jax-poly"``: the same with the certified polynomial sine/cosine.
#: - ``"c-poly"``: compiled C with the certified polynomial sin, cos, exp, log, tanh, cosh and
#:   sinh (the fast engine).
#: - ``"c-libm"``: compiled C with the C library's ``sin``/``cos``: the plain libm path.
#: - ``"auto"``: ``c-poly`` if a C compiler works, otherwise ``jax`` (with a note on stderr).
BACKENDS = ("jax", "jax-poly", "c-poly", "c-libm", "auto")

BACKEND_HELP = (
    "c-poly: compiled C, certified polynomial sin, cos, exp, log, tanh, cosh, sinh "
    "(fastest); c-libm: compiled C with libm; jax: JAX/XLA float64 (XLA contracts the "
    "step: one float64 orbit among several, not a reference); jax-poly: JAX with the "
    "polynomial sin/cos; auto: c-poly if a C compiler works, else jax. Labels next to the "
    "boundary are rounding-sensitive; the reference is an mpmath orbit"
)


def add_backend_option(parser: argparse.ArgumentParser, default: str = "auto") -> None:
    """Add the one ``--backend`` option (choices :data:`BACKENDS`) to an argparse parser."""
    parser.add_argument(
        "--backend",
        default=default,
        choices=BACKENDS,
        help=f"sweep engine: {BACKEND_HELP} (default {default})",
    )


def sweep_protocol(
    *,
    steps: int,
    bound: float,
    lr_min: float,
    lr_max: float,
    x0: ArrayLike,
    dtype: str = "float64",
    levels: int,
    fit_levels: Sequence[int] | Sequence[Sequence[int]],
    criterion: str = "max",
) -> dict[str, Any]:
    """The protocol block of every sweep-like JSON summary.

    ``criterion`` is the divergence rule: ``"max"`` (the loss exceeds ``bound`` at some step)
    or ``"sum"`` (the summed loss over the run reaches it).

    ``x0`` is the initial point (``(d,)``, or ``(cells, d)`` when it varies per cell);
    ``fit_levels`` are the levels the dimension fit used: a list for one sweep, one list per
    point for a grid.
    """
    return {
        "steps": int(steps),
        "bound": float(bound),
        "criterion": criterion,
        "lr_min": float(lr_min),
        "lr_max": float(lr_max),
        "x0": np.asarray(x0, dtype=np.float64).tolist(),
        "dtype": dtype,
        "levels": int(levels),
        "fit_levels": fit_levels,
    }


def initial_point(land: Landscape, x0: ArrayLike) -> np.ndarray:
    """``x0`` as a ``(d,)`` float64 vector: a scalar is repeated, a sequence must have length d."""
    arr = np.atleast_1d(np.asarray(x0, dtype=np.float64))
    if arr.ndim != 1 or arr.size not in (1, land.dim):
        raise ExpressionError(f"x0 must be a number or {land.dim} numbers, got {arr.size}")
    if not np.all(np.isfinite(arr)):
        raise ExpressionError("x0 must be finite")
    return np.broadcast_to(arr, (land.dim,)).copy()


def sweep_run(
    result: SweepResult | StoredSweep,
    backend: str,
    x0: ArrayLike,
    dtype: str = "float64",
    land: Landscape | None = None,
) -> dict[str, Any]:
    """``{"backend", "protocol"}`` of one sweep: the engine actually used (``backend`` is
    the name asked for, e.g. ``"auto"``) and the protocol block (:func:`sweep_protocol`);
    ``"engine"`` too when JAX ran it (``"runs"`` or ``"steps"``), and with ``land`` (the
    swept landscape) ``"kernel_layout"`` (:func:`kernel_layout`) when a C kernel did: the
    kernel :func:`sweep_backend` resolves for it, the one :func:`sweep_landscape` ran
    (both are cached, so this compiles nothing)."""
    config = getattr(result, "config", None)  # a StoredSweep keeps its settings there
    if config is None:
        keys = ("steps", "bound", "lr_min", "lr_max")
        config = {k: getattr(result, k) for k in keys} | {
            "backend": result.backend,
            "criterion": getattr(result, "criterion", "max"),
        }
    protocol = sweep_protocol(
        steps=config["steps"],
        bound=config["bound"],
        lr_min=config["lr_min"],
        lr_max=config["lr_max"],
        x0=x0,
        dtype=config.get("dtype", dtype),
        levels=result.levels,
        fit_levels=list(result.fit.levels),
        criterion=config.get("criterion", "max"),
    )
    record = {"backend": backend_name(backend, config["backend"]), "protocol": protocol}
    if land is not None and record["backend"].startswith("c-"):
        kernel = sweep_backend(land, backend, config.get("dtype", dtype))[1]
        if isinstance(kernel, CSweepKernel):  # which C kernel: looped or unrolled
            record["kernel_layout"] = kernel_layout(kernel)
    engine = getattr(result, "engine", "")  # the JAX loop (numeric.ENGINES); "" for C kernels
    if engine:
        record["engine"] = engine
    return record


#: Smallest dimension at which :func:`c_sweep_kernel` picks the wide (looped) kernel for a
#: coordinate-separable loss: the measured crossover (``benchmarks/bench_wide.py
#: --crossover``, one thread, CPU time, starts off the diagonal): wide/unrolled x0.76
#: (additive) and x1.12 (multiplicative) at d = 3, x0.99 and x1.10 at d = 4, x4.3 and x3.0
#: at d = 5 (the unrolled kernel gets much slower from d = 5 on).
WIDE_MIN_DIM = 5
#: Learning rates per block of the wide kernel (``bench_wide.py --blocks``): its tiles run
#: in L1 whatever the block, so the block only sets the compaction and scheduling grain.
WIDE_BLOCK = 256
LAYOUTS = ("auto", "wide", "unrolled")


def c_sweep_kernel(
    land: Landscape,
    transcendentals: str = "poly",
    *,
    threads: int | None = None,
    block: int | None = None,
    half_turn: bool = False,
    layout: str = "auto",
) -> CSweepKernel:
    """The compiled C sweep kernel of ``land``: analytic source, numeric compiler.

    :func:`~trainability.analytic.c_sweep_source` (``transcendentals`` ``"poly"`` or
    ``"libm"``, ``half_turn``) compiled and loaded by
    :func:`~trainability.numeric.load_sweep_kernel` (``threads``, ``block``); both steps are
    cached, so landscapes that differ only in hyperparameter values share one kernel.

    ``layout``: ``"unrolled"`` is that kernel (the whole gradient printed straight-line);
    ``"wide"`` is :func:`~trainability.analytic.c_wide_sweep_source` (loops over the
    coordinates of a coordinate-separable loss; a :class:`ValueError` if the loss is not
    one); ``"auto"`` (default) takes the wide kernel for a separable loss of at least
    ``WIDE_MIN_DIM`` (5) dimensions without ``half_turn``, else the unrolled one. Both
    have the same name (``"c-poly"``/``"c-libm"``: the same arithmetic rules; labels differ
    only where rounding decides them); the kernel's ``source`` says which it is (its first
    line), and :func:`kernel_layout` reads it.

    Raises :class:`~trainability.numeric.CompileError` when no working C compiler is
    available; :func:`sweep_backend` with ``"auto"`` then falls back to JAX.

    >>> from trainability.analytic import family
    >>> k = c_sweep_kernel(family("quadratic"))
    >>> k.name, k(np.array([0.5, 1.5]), [1.0], (), steps=100)[0].tolist()
    ('c-poly', [True, False])
    >>> kernel_layout(c_sweep_kernel(family("multiplicative", dim=8)))
    'wide'
    """
    if layout not in LAYOUTS:
        raise ValueError(f"layout must be one of {', '.join(LAYOUTS)}, got {layout!r}")
    wide = layout == "wide" or (layout == "auto" and land.dim >= WIDE_MIN_DIM and not half_turn)
    source = c_wide_sweep_source(land, transcendentals) if wide else None
    if source is None and layout == "wide":
        raise ValueError("layout 'wide' needs a coordinate-separable loss (see separable_form)")
    if source is None:
        source = c_sweep_source(land, transcendentals, half_turn)
    elif block is None:
        block = WIDE_BLOCK
    return load_sweep_kernel(
        source,
        f"c-{transcendentals}",
        land.dim,
        len(land.hyperparameters),
        threads=threads,
        block=block,
    )


def kernel_layout(kernel: CSweepKernel) -> str:
    """``"wide"`` or ``"unrolled"``: which C kernel :func:`c_sweep_kernel` compiled."""
    return "wide" if kernel.source.startswith("/* trainability sweep kernel (wide") else "unrolled"


def sweep_backend(
    land: Landscape, backend: str = "jax", dtype: str = "float64"
) -> tuple[Callable[..., tuple[jax.Array, jax.Array]] | None, str | CSweepKernel]:
    """``(loss_and_grad, backend)`` arguments of ``numeric.lr_sweep``/``grid_sweep`` for a name.

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


def backend_name(backend: str, resolved: str | CSweepKernel) -> str:
    """The engine actually used, for summaries: the kernel's name (``"c-poly"``),
    ``"jax-poly"`` when that was asked for, else ``"jax"`` (also after a fallback)."""
    if not isinstance(resolved, str):
        return resolved.name
    return "jax-poly" if backend == "jax-poly" else resolved


def _identity(land: Landscape, backend: str, resolved: str | CSweepKernel) -> dict[str, Any]:
    name = backend_name(backend, resolved)
    return {
        "expr": sympy.srepr(land.expr),
        "variables": [v.name for v in land.variables],
        "parameters": list(land.parameter_names),
        "kernel": name,
    }


def sweep_landscape(
    land: Landscape,
    x0: ArrayLike,
    *,
    backend: str = "auto",
    out: str | Path | None = None,
    resume: bool = False,
    **kwargs: Any,
) -> SweepResult | StoredSweep:
    """Learning-rate sweep of ``land`` from ``x0``; keyword arguments go to ``lr_sweep``.

    Args:
        backend: one of :data:`BACKENDS` (default ``"auto"``, as on the command line); the
            result's ``backend`` is the engine used, except that
            ``jax-poly`` reports ``"jax"`` there (:func:`backend_name` tells them apart).
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
