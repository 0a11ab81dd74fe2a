"""Code generation: JAX, NumPy and mpmath kernels from one SymPy expression.

All kernels share one calling convention so that the numeric layer can use any of them:

- ``loss(x, params) -> f``           x: ``(..., d)``, f: ``(...)``
- ``grad(x, params) -> g``           g: ``(..., d)``
- ``loss_and_grad(x, params) -> (f, g)`` (one pass, shared subexpressions)
- ``step(x, s, params) -> x - s * g`` s broadcasts against ``x[..., 0]``

``params`` is the tuple of hyperparameter values in ``Landscape.parameter_names`` order.
mpmath kernels take ``x`` as a sequence of ``d`` numbers instead of an array.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sympy

from ._cache import ArtifactCache
from ._derive import gradient
from ._landscape import Landscape

__all__ = ["Kernels", "fast_jax_kernels", "jax_kernels", "mpmath_kernels", "numpy_kernels"]


@dataclass(frozen=True)
class Kernels:
    """Generated kernels for one landscape (see the module docstring for shapes)."""

    loss: Callable[..., Any]  # (x, params) -> f
    grad: Callable[..., Any]  # (x, params) -> g
    loss_and_grad: Callable[..., tuple[Any, Any]]  # (x, params) -> (f, g)
    step: Callable[..., Any]  # (x, s, params) -> x - s g
    dim: int
    parameter_names: tuple[str, ...]
    backend: str


def _jax_modules():
    import jax

    # x64 must be on before any array is made; float32 stays available explicitly.
    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp
    import jax.scipy.special as jsp

    return [{"erf": jsp.erf}, "jax"], jnp


def _numpy_modules():
    import numpy as np
    import scipy.special

    return [{"erf": scipy.special.erf}, "numpy"], np


def _raw(land: Landscape, modules):
    args = [*land.variables, *land.hyperparameters]
    exprs = [land.expr, *gradient(land)]
    return sympy.lambdify(args, exprs, modules=modules, cse=True)


def _array_kernels(land: Landscape, modules, xp, backend: str) -> Kernels:
    raw = _raw(land, modules)
    d = land.dim

    def loss_and_grad(x, params=()):
        cols = [x[..., i] for i in range(d)]
        out = raw(*cols, *params)
        shape = x.shape[:-1]
        # Constant components come back as Python scalars; give them the batch shape.
        f = xp.broadcast_to(xp.asarray(out[0], dtype=x.dtype), shape)
        g = xp.stack([xp.broadcast_to(xp.asarray(c, dtype=x.dtype), shape) for c in out[1:]], -1)
        return f, g

    def loss(x, params=()):
        return loss_and_grad(x, params)[0]

    def grad(x, params=()):
        return loss_and_grad(x, params)[1]

    def step(x, s, params=()):
        return x - xp.asarray(s)[..., None] * grad(x, params)

    return Kernels(loss, grad, loss_and_grad, step, d, land.parameter_names, backend)


# Kernels depend on the expression only (values are passed at call time), so landscapes that
# differ only in hyperparameter values share one kernel and one jit compilation.
_KERNELS: ArtifactCache[Kernels] = ArtifactCache("array kernels", maxsize=128)


def jax_kernels(land: Landscape) -> Kernels:
    """JAX kernels (jit-able, vmap-able, differentiable), built with lambdify + CSE.

    >>> import jax.numpy as jnp
    >>> from trainability.analytic import family
    >>> k = jax_kernels(family("quadratic"))
    >>> k.step(jnp.array([[1.0]]), 0.25, ()).tolist()
    [[0.5]]
    """

    def build() -> Kernels:
        modules, jnp = _jax_modules()
        return _array_kernels(land, modules, jnp, "jax")

    return _KERNELS(land, build, "jax")


def numpy_kernels(land: Landscape) -> Kernels:
    """NumPy kernels with the same calling convention as :func:`jax_kernels`."""

    def build() -> Kernels:
        modules, np = _numpy_modules()
        return _array_kernels(land, modules, np, "numpy")

    return _KERNELS(land, build, "numpy")


def mpmath_kernels(land: Landscape, dps: int = 50) -> Kernels:
    """mpmath kernels evaluated at ``dps`` decimal digits (the high-precision reference).

    ``x`` is a sequence of ``d`` numbers; results are ``mpf`` (loss) and a list (gradient).
    Inputs are converted with ``mpmath.mpf`` so that binary floats are taken exactly.
    """
    import mpmath

    raw = _raw(land, "mpmath")

    def loss_and_grad(x, params=()):
        with mpmath.workdps(dps):
            args = [mpmath.mpf(v) for v in (*x, *params)]
            out = raw(*args)
            return mpmath.mpf(out[0]), [mpmath.mpf(c) for c in out[1:]]

    def loss(x, params=()):
        return loss_and_grad(x, params)[0]

    def grad(x, params=()):
        return loss_and_grad(x, params)[1]

    def step(x, s, params=()):
        with mpmath.workdps(dps):
            g = grad(x, params)
            s = mpmath.mpf(s)
            return [mpmath.mpf(v) - s * gi for v, gi in zip(x, g, strict=True)]

    return Kernels(loss, grad, loss_and_grad, step, land.dim, land.parameter_names, "mpmath")


#: Error bound of :func:`fast_jax_kernels`' sin/cos of a float32 argument: the float64
#: polynomial's certified bound (``sincos_error_bound()["total"]``) plus the final rounding
#: to float32 (half an ulp of a value of magnitude <= 1: ``2**-25``).
FLOAT32_ROUNDING = 2.0**-25


def _widened(fn: Callable) -> Callable:
    """``fn`` (float64 only) also for float32: the argument is widened exactly, ``fn``
    evaluated in float64 and the result rounded once to float32."""

    def call(u):
        import jax.numpy as jnp

        u = jnp.asarray(u)
        if u.dtype == jnp.float32:
            return fn(u.astype(jnp.float64)).astype(jnp.float32)
        return fn(u)

    return call


def fast_jax_kernels(land: Landscape) -> Kernels:
    """JAX kernels of ``land`` with ``sin``/``cos`` replaced by the certified polynomial.

    Same calling convention as :func:`~trainability.analytic.jax_kernels`. In float32 the
    rest of the kernel runs in float32 and sin/cos run the float64 polynomial (its
    reduction constants need float64) on the exactly widened argument, rounded back:
    error at most ``sincos_error_bound()["total"] + 2**-25`` (``FLOAT32_ROUNDING``).

    >>> import jax.numpy as jnp
    >>> from trainability.analytic import family
    >>> k = fast_jax_kernels(family("additive", eps=0.2, lam=0.1))
    >>> f, g = k.loss_and_grad(jnp.array([[0.05]]), (0.2, 0.1))
    >>> round(float(f[0]), 12)    # 0.0025 + 0.2 * cos(pi)
    -0.1975
    """
    from ._sincos import _jax_cos, _jax_sin

    def build() -> Kernels:
        modules, jnp = _jax_modules()
        modules = [{"sin": _widened(_jax_sin), "cos": _widened(_jax_cos)}, *modules]
        return _array_kernels(land, modules, jnp, "jax-poly")

    return _KERNELS(land, build, "jax-poly")
