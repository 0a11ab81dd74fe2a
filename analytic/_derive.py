"""Symbolic derivation: gradient, Hessian, the GD map and its Jacobian."""

from __future__ import annotations

import sympy

from ._landscape import Landscape
from ._parse import LEARNING_RATE, symbol

__all__ = ["gradient", "hessian", "gd_map", "gd_jacobian", "learning_rate_symbol"]

# simplify() is worth it on small expressions and ruinous on the d = 100 families.
_SIMPLIFY_MAX_OPS = 120


def learning_rate_symbol() -> sympy.Symbol:
    """The learning-rate symbol ``s`` used in GD maps."""
    return symbol(LEARNING_RATE)


def _tidy(expr: sympy.Expr) -> sympy.Expr:
    if sympy.count_ops(expr) <= _SIMPLIFY_MAX_OPS:
        return sympy.simplify(expr)
    return expr


def _cached(land: Landscape, key: str, build):
    if key not in land._cache:
        land._cache[key] = build()
    return land._cache[key]


def gradient(land: Landscape) -> tuple[sympy.Expr, ...]:
    """The gradient ``(df/dx_1, ..., df/dx_d)``, simplified.

    >>> from trainability.analytic import family
    >>> gradient(family("additive"))
    (2*x - 2*pi*eps*sin(2*pi*x/lam)/lam,)
    """
    return _cached(
        land, "gradient", lambda: tuple(_tidy(sympy.diff(land.expr, v)) for v in land.variables)
    )


def hessian(land: Landscape) -> sympy.Matrix:
    """The Hessian matrix ``d^2 f / dx_i dx_j`` (symmetric), simplified."""

    def build():
        grad = gradient(land)
        d = land.dim
        h = sympy.zeros(d, d)
        for i in range(d):
            for j in range(i, d):
                h[i, j] = h[j, i] = _tidy(sympy.diff(grad[i], land.variables[j]))
        return h

    return _cached(land, "hessian", build)


def gd_map(land: Landscape) -> sympy.Matrix:
    """The gradient-descent map ``x -> x - s * grad f(x)`` as a column matrix."""
    s = learning_rate_symbol()
    return sympy.Matrix([v - s * g for v, g in zip(land.variables, gradient(land), strict=True)])


def gd_jacobian(land: Landscape) -> sympy.Matrix:
    """Jacobian of the GD map, ``I - s * H``."""
    return sympy.eye(land.dim) - learning_rate_symbol() * hessian(land)
