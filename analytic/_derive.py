"""Symbolic derivation: gradient, Hessian, the GD map and its Jacobian."""

from __future__ import annotations

import functools

import sympy

from ._landscape import Landscape
from ._parse import LEARNING_RATE, symbol

__all__ = ["gradient", "hessian", "gd_map", "gd_jacobian", "learning_rate_symbol"]


def learning_rate_symbol() -> sympy.Symbol:
    """The learning-rate symbol ``s`` used in GD maps."""
    return symbol(LEARNING_RATE)


@functools.lru_cache(maxsize=256)
def _gradient(expr: sympy.Expr, variables: tuple) -> tuple[sympy.Expr, ...]:
    # No simplify(): SymPy's derivatives of these losses are already in canonical form, and
    # simplify/trigsimp costs seconds per entry on the d-dimensional families.
    return tuple(sympy.diff(expr, v) for v in variables)


@functools.lru_cache(maxsize=256)
def _hessian(expr: sympy.Expr, variables: tuple) -> sympy.ImmutableMatrix:
    grad = _gradient(expr, variables)
    d = len(variables)
    h = sympy.zeros(d, d)
    for i in range(d):
        for j in range(i, d):
            h[i, j] = h[j, i] = sympy.diff(grad[i], variables[j])
    return sympy.ImmutableMatrix(h)


def gradient(land: Landscape) -> tuple[sympy.Expr, ...]:
    r"""The gradient :math:`(\partial f/\partial x_1, \dots, \partial f/\partial x_d)` (SymPy
    canonical form).

    >>> from trainability.analytic import family
    >>> gradient(family("additive"))
    (-2*pi*eps*sin(2*pi*x/lam)/lam + 2*x,)
    """
    # Cached by expression: landscapes differing only in values share the derivation.
    return _gradient(land.expr, land.variables)


def hessian(land: Landscape) -> sympy.Matrix:
    r"""The Hessian matrix :math:`\partial^2 f / \partial x_i \partial x_j` (symmetric)."""

    return _hessian(land.expr, land.variables)


def gd_map(land: Landscape) -> sympy.Matrix:
    r"""The gradient-descent map :math:`x \mapsto x - s \nabla f(x)` as a column matrix."""
    s = learning_rate_symbol()
    return sympy.Matrix([v - s * g for v, g in zip(land.variables, gradient(land), strict=True)])


def gd_jacobian(land: Landscape) -> sympy.Matrix:
    """Jacobian of the GD map, ``I - s * H``."""
    return sympy.eye(land.dim) - learning_rate_symbol() * hessian(land)
