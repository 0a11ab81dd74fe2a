r"""Fixed points of the GD map and the learning rates at which each is linearly stable.

For ``s > 0`` the fixed points of :math:`x \mapsto x - s \nabla f(x)` are the critical points of
``f``. The Jacobian there is ``I - s H(x*)``; the fixed point is linearly stable iff every
eigenvalue ``1 - s h_i`` lies in ``(-1, 1)``, i.e. iff every Hessian eigenvalue ``h_i > 0``
and :math:`0 < s < 2 / \max_i h_i`. A critical point with some :math:`h_i \le 0` is unstable for
every ``s > 0``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import mpmath
import sympy

from ._derive import gradient
from ._landscape import Landscape
from ._parse import as_expression

__all__ = ["FixedPoint", "fixed_points", "stability_interval"]


@dataclass(frozen=True)
class FixedPoint:
    r"""One fixed point of the GD map.

    Attributes:
        location: ``(d,)`` coordinates (SymPy expressions, ``0`` for the origin found by
            substitution, or Floats when found numerically).
        curvatures: Hessian eigenvalues at the point (SymPy).
        stable_for: :math:`(0,\ 2 / \max \text{curvature})` learning-rate interval of linear
            stability, or ``None`` when the point is unstable for every ``s > 0`` (as far as can be
            decided; with symbolic hyperparameters the interval holds where its end is > 0).
        exact: whether the location is exact (symbolic) rather than a numeric root.
    """

    location: tuple[sympy.Expr | int, ...]
    curvatures: tuple[sympy.Expr, ...]
    stable_for: tuple[sympy.Expr, sympy.Expr] | None
    exact: bool


def stability_interval(
    curvatures: Iterable[str | sympy.Basic | float],
) -> tuple[sympy.Expr, sympy.Expr] | None:
    r""":math:`(0,\ 2 / \max h)` if all curvatures can be positive, ``None`` if some is ``<= 0``."""
    hs = [as_expression(h) for h in curvatures]
    if any(h.is_nonpositive for h in hs):
        return None
    top = hs[0] if len(hs) == 1 else sympy.Max(*hs)
    return (sympy.S.Zero, sympy.simplify(2 / top))


def _curvatures(land: Landscape, point: dict) -> tuple[sympy.Expr, ...]:
    x = land.variables
    if land.dim == 1:
        return (sympy.simplify(sympy.diff(land.expr, x[0], 2).subs(point)),)
    h = sympy.Matrix(land.dim, land.dim, lambda i, j: sympy.diff(land.expr, x[i], x[j]))
    h = h.subs(point)
    if h.is_diagonal():
        return tuple(sympy.simplify(h[i, i]) for i in range(land.dim))
    eig = h.eigenvals()
    return tuple(sympy.simplify(k) for k in eig)


def fixed_points(
    land: Landscape,
    window: float = 10.0,
    samples: int = 20001,
    dps: int = 30,
    numeric: bool = True,
) -> list[FixedPoint]:
    """Fixed points of the GD map of ``land`` with their stability intervals.

    Exact where the critical-point equation is polynomial (or the origin solves it);
    otherwise, in one dimension with all hyperparameter values known (and ``numeric``),
    every sign change of ``f'`` on ``[-window, window]`` (``samples`` points) is refined
    with ``mpmath.findroot``.

    >>> from trainability.analytic import family
    >>> [(p.location, p.stable_for) for p in fixed_points(family("quadratic"))]
    [((0,), (0, 1))]
    """
    grad = gradient(land)
    xs = land.variables
    found: list[FixedPoint] = []
    if all(g.is_polynomial(*xs) for g in grad):
        sols = sympy.solve(list(grad), list(xs), dict=True)
        for sol in sols:
            if all(as_expression(sol.get(v, v)).is_real is not False for v in xs):
                point = {v: sol.get(v, v) for v in xs}
                curv = _curvatures(land, point)
                found.append(
                    FixedPoint(tuple(point[v] for v in xs), curv, stability_interval(curv), True)
                )
        return found
    origin = {v: 0 for v in xs}
    if all(sympy.simplify(g.subs(origin)) == 0 for g in grad):
        curv = _curvatures(land, origin)
        found.append(FixedPoint(tuple(0 for _ in xs), curv, stability_interval(curv), True))
    if land.dim != 1 or not numeric:
        return found
    values = land.value_dict
    if any(n not in values for n in land.parameter_names):
        return found
    x = xs[0]
    sub = {h: as_expression(values[h.name]) for h in land.hyperparameters}
    g = grad[0].subs(sub)
    g_mp = sympy.lambdify([x], g, modules="mpmath")
    with mpmath.workdps(dps):
        grid = mpmath.linspace(-window, window, samples)
        vals = [g_mp(t) for t in grid]
        roots = []
        for a, b, ga, gb in zip(grid[:-1], grid[1:], vals[:-1], vals[1:], strict=True):
            if ga == 0:
                roots.append(a)
            elif ga * gb < 0:
                roots.append(mpmath.findroot(g_mp, (a, b), solver="anderson"))
        for r in roots:
            if abs(r) < mpmath.mpf(10) ** (-dps + 5) and found:
                continue  # the exact origin is already listed
            point = {x: sympy.Float(r, dps)}
            curv = (
                sympy.Float(sympy.N(sympy.diff(land.expr, x, 2).subs(sub).subs(point), dps), dps),
            )
            found.append(FixedPoint((sympy.Float(r, dps),), curv, stability_interval(curv), False))
    return found
