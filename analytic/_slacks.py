r"""The inequalities as SymPy slacks (``lhs - rhs``, non-negative where they hold): the
alpha-beta condition of Islamov et al. (2024), and the PL, aiming and quasar-convexity
conditions it is compared with.

.. math::

    \langle \nabla f_i(x), x - x_p \rangle \ \ge\ \alpha \bigl(f_i(x) - f_i(x_p)\bigr)
    - \beta \bigl(f_i(x) - f_i^*\bigr).
"""

from __future__ import annotations

from collections.abc import Sequence

import sympy

from ._derive import gradient
from ._finite_sum import FiniteSum
from ._minimizers import piece_minima, projection
from ._parse import as_expression, symbol

# A constant of an inequality: a number (made exact as the decimal it prints as), or an exact
# SymPy number.
Number = float | int | sympy.Expr

__all__ = [
    "aiming_slack",
    "alpha_beta_slack",
    "alpha_beta_terms",
    "pl_slack",
    "quasar_convexity_slack",
]


def alpha_beta_terms(
    fs: FiniteSum, x_p: sympy.Matrix, piece_star: Sequence[sympy.Expr]
) -> list[tuple[sympy.Expr, sympy.Expr, sympy.Expr]]:
    r"""``(A_i, B_i, C_i)`` per piece, so that the slack is :math:`A_i - \alpha B_i + \beta C_i`.

    :math:`A_i = \langle \nabla f_i(x), x - x_p \rangle`, ``B_i = f_i(x) - f_i(x_p)``,
    :math:`C_i = f_i(x) - f_i^*`.
    """
    xs = fs.variables
    x = sympy.Matrix(list(xs))
    sub = dict(zip(xs, list(x_p), strict=True))
    out = []
    for i, fi in enumerate(fs.pieces):
        g = sympy.Matrix(list(gradient(fs.piece(i))))
        A = (g.T * (x - x_p))[0, 0]
        B = fi - fi.xreplace(sub)
        C = fi - piece_star[i]
        out.append((A, B, C))
    return out


def alpha_beta_slack(
    fs: FiniteSum, alpha: Number | None = None, beta: Number | None = None, which: int = 0
) -> tuple[sympy.Expr, ...]:
    """The alpha-beta inequality as ``lhs - rhs`` per piece (non-negative where it holds).

    ``alpha`` and ``beta`` default to symbols ``alpha``, ``beta``; numbers are substituted.
    ``which`` picks the projection candidate for a finite ``S`` (see :func:`projection`).
    Returns a tuple of ``n`` SymPy expressions in ``x1..xd`` (and the symbols).

    >>> from trainability.analytic import finite_sum
    >>> ex1 = finite_sum(  # Example 1 of Islamov et al. (2024)
    ...     ["(x1+x2)**2/((x1+x2)**2+1)", "(x1+x2+1)**2/((x1+x2+1)**2+1)"], box=[(-6, 6)] * 2
    ... )
    >>> s = alpha_beta_slack(ex1, 5, 0)
    >>> s[0].subs({symbol("x1"): 5, symbol("x2"): 5}) < 0    # beta = 0 fails far away
    True
    """
    a = symbol("alpha") if alpha is None else as_expression(alpha)
    b = symbol("beta") if beta is None else as_expression(beta)
    S = fs.minimizers()
    stars = [m.value for m in piece_minima(fs)]
    x_p = projection(S, fs.variables)[which]
    return tuple(A - a * B + b * C for A, B, C in alpha_beta_terms(fs, x_p, stars))


def pl_slack(fs: FiniteSum, mu: Number | None = None) -> sympy.Expr:
    r"""PL: :math:`\|\nabla f(x)\|^2 - 2\mu (f(x) - f^*)`."""
    m = symbol("mu") if mu is None else as_expression(mu)
    g = gradient(fs.landscape())
    return sum(gi**2 for gi in g) - 2 * m * (fs.loss - fs.minimizers().value)


def aiming_slack(fs: FiniteSum, theta: Number | None = None, which: int = 0) -> sympy.Expr:
    """Aiming: ``<grad f(x), x - Proj(x, S)> - theta (f(x) - f*)`` (``theta f`` when f* = 0)."""
    t = symbol("theta") if theta is None else as_expression(theta)
    x = sympy.Matrix(list(fs.variables))
    x_p = projection(fs.minimizers(), fs.variables)[which]
    g = sympy.Matrix(list(gradient(fs.landscape())))
    return (g.T * (x - x_p))[0, 0] - t * (fs.loss - fs.minimizers().value)


def quasar_convexity_slack(
    fs: FiniteSum, theta: Number | None = None, which: int = 0
) -> sympy.Expr:
    r"""Quasar-convexity about the minimizer ``x*``:
    :math:`\langle \nabla f, x - x^* \rangle - \theta (f - f^*)`."""
    S = fs.minimizers()
    if S.kind != "points":
        raise ValueError("quasar-convexity needs isolated minimizers; S is an affine set")
    t = symbol("theta") if theta is None else as_expression(theta)
    x = sympy.Matrix(list(fs.variables))
    xstar = sympy.Matrix(list(S.points[which]))
    g = sympy.Matrix(list(gradient(fs.landscape())))
    return (g.T * (x - xstar))[0, 0] - t * (fs.loss - S.value)
