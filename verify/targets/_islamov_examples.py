r"""The worked examples of Islamov et al. (2024), fixtures of the alpha-beta reproduction.

Examples 1, 2, 3 and 6 (``n = 2`` pieces on :math:`\mathbb{R}^2`, each with the region the
paper proves and a plot box) and the generalised family of Remark 1, as
:class:`~trainability.analytic.FiniteSum` objects. They are the paper's data, not part of
the analytic API: the analytic layer derives for any finite sum.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import numpy as np
import sympy

from trainability.analytic import FiniteSum, finite_sum, symbol

__all__ = ["ALPHA_BETA_EXAMPLES", "alpha_beta_example", "remark1_family"]

#: The variables of the paper's examples (on R^2), as :func:`finite_sum` names them.
_XY = (symbol("x1"), symbol("x2"))


def _example1():
    x, y = _XY
    u = x + y
    pieces = (u**2 / (u**2 + 1), (u + 1) ** 2 / ((u + 1) ** 2 + 1))
    proven = {
        "region": "R^2",
        "alpha_min": 2.5,
        "beta": "4*alpha/5 <= beta < alpha",
        "beta_zero_fails": True,
        "statement": "holds for alpha >= 5/2 and beta in [4 alpha/5, alpha); fails for beta = 0",
    }
    return pieces, proven, ((-6.0, 6.0), (-6.0, 6.0))


def _example2():
    x, y = _XY
    pieces = (1 - sympy.exp(-(x**2) - y**2), 1 - sympy.exp(-((x - 2) ** 2) - (y - 2) ** 2))
    proven = {
        "region": "R^2",
        "alpha_min": "8/c, c = min_i min_S f_i",
        "beta": "alpha - 8",
        "beta_zero_fails": True,
        "statement": "holds with beta = alpha - 8 for alpha >= 8/c; fails for beta = 0",
    }
    return pieces, proven, ((-3.0, 5.0), (-3.0, 5.0))


def _example3(denominator: int = 1):
    x, y = _XY
    r2 = x**2 + y**2
    s2 = (x - sympy.Rational(5, 2)) ** 2 + (y - sympy.Rational(5, 2)) ** 2
    pieces = ((1 + r2) / (4 + r2), s2 / (denominator + s2))
    proven = {
        "region": "R^2",
        "alpha_min": 1512.46,
        "beta": "alpha - 1",
        "beta_zero_fails": None,
        "statement": "holds with beta = alpha - 1 for alpha >= about 1512.46",
    }
    return pieces, proven, ((-3.0, 5.5), (-3.0, 5.5))


def _example6():
    x, y = _XY
    r2 = x**2 + y**2
    s2 = (x - 1) ** 2 + (y - 1) ** 2
    pieces = (r2 / (1 + r2), s2 / (1 + s2))
    proven = {
        "region": "R^2",
        "alpha_min": "2/c, c = min_i min_S f_i (about 41.369)",
        "beta": "alpha - 1",
        "beta_zero_fails": True,
        "statement": "holds with beta = alpha - 1 for alpha >= 2/c; fails for beta = 0",
    }
    return pieces, proven, ((-2.5, 3.5), (-2.5, 3.5))


ALPHA_BETA_EXAMPLES = {1: _example1, 2: _example2, 3: _example3, 6: _example6}


@functools.lru_cache(maxsize=16)
def alpha_beta_example(number: int, example3_denominator: int = 1) -> FiniteSum:
    r"""Example ``number`` (1, 2, 3 or 6) of Islamov et al. (2024): ``n = 2`` pieces on
    :math:`\mathbb{R}^2`.

    1: :math:`(x+y)^2/((x+y)^2+1)`, :math:`(x+y+1)^2/((x+y+1)^2+1)` (unbounded ``S``);
    2: :math:`1 - e^{-|x|^2}`, :math:`1 - e^{-|x-(2,2)|^2}` (saddle);
    3: ``(1+|x|^2)/(4+|x|^2)``, ``|x-(2.5,2.5)|^2/(1+|x-(2.5,2.5)|^2)`` (local minimum);
    6: ``|x|^2/(1+|x|^2)``, ``|x-(1,1)|^2/(1+|x-(1,1)|^2)`` (appendix).

    Example 3: the reference's table writes ``4 + |x-(2.5,2.5)|^2`` under ``f_2``, but its
    stated ``f* ~ 0.408`` at ``(2.471, 2.471)`` is reproduced only with ``1 + ...``
    (``example3_denominator=1``, the default); with ``4`` the minimum is ``f* = 0.40572``
    at ``(2.3762, 2.3762)``. The proven ``alpha >= 1512.46`` holds for both.

    The same object is returned for the same arguments, so derived results (``S``, ``L``,
    kernels) are computed once per process.
    """
    if number not in ALPHA_BETA_EXAMPLES:
        raise ValueError(f"unknown example {number} (choose from 1, 2, 3, 6)")
    if number == 3:
        if example3_denominator not in (1, 4):
            raise ValueError("example3_denominator must be 1 or 4")
        pieces, proven, box = _example3(example3_denominator)
        name = "example-3" if example3_denominator == 1 else "example-3-table"
        return FiniteSum(pieces, _XY, name, tuple(proven.items()), box)
    pieces, proven, box = ALPHA_BETA_EXAMPLES[number]()
    return FiniteSum(pieces, _XY, f"example-{number}", tuple(proven.items()), box)


def remark1_family(
    centers: Sequence[Sequence[float]], weights: Sequence[Sequence[float]], profile: str = "exp"
) -> FiniteSum:
    r"""The generalised examples (Remark 1): ``f_i = phi(q_i)``,
    :math:`q_i = \sum_j b_{ij} (x_j - a_{ij})^2`.

    ``centers`` is ``a`` with shape ``(n, d)``, ``weights`` is ``b > 0`` with shape ``(n, d)``.
    ``profile`` ``"exp"`` gives ``phi(q) = 1 - exp(-q)`` (Example 2 is ``a = ((0,0),(2,2))``,
    ``b = 1``); ``"rational"`` gives :math:`\phi(q) = q / (1 + q)` (Example 6 is ``a =
    ((0,0),(1,1))``). The package's reading of the remark: bounded pieces with one minimum each,
    whose average has isolated minimizers; no region is proven for a general member.
    """
    a = np.asarray(centers, dtype=np.float64)
    b = np.asarray(weights, dtype=np.float64)
    if a.ndim != 2 or a.shape != b.shape or a.shape[0] < 1:
        raise ValueError("centers and weights must both have shape (n, d)")
    if not np.all(np.isfinite(a)) or not np.all(b > 0) or not np.all(np.isfinite(b)):
        raise ValueError("centers must be finite and weights positive")
    if profile not in ("exp", "rational"):
        raise ValueError(f"unknown profile {profile!r} (choose 'exp' or 'rational')")
    n, d = a.shape
    xs = [symbol(f"x{j + 1}") for j in range(d)]  # finite_sum's names, checked by it
    pieces = []
    for i in range(n):
        q = sum(
            sympy.nsimplify(b[i, j]) * (xs[j] - sympy.nsimplify(a[i, j])) ** 2 for j in range(d)
        )
        pieces.append(1 - sympy.exp(-q) if profile == "exp" else q / (1 + q))
    lo, hi = a.min(0) - 3.0, a.max(0) + 3.0
    box = tuple(zip(lo.tolist(), hi.tolist(), strict=True))
    return finite_sum(pieces, dim=d, name=f"remark1-{profile}", box=box)
