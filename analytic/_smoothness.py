r"""The smoothness constant ``L`` of a finite sum (every ``f_i`` ``L``-smooth): closed forms
for ridge and radial pieces, a sampled spectral norm otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import sympy

from ._derive import hessian
from ._finite_sum import FiniteSum
from ._landscape import Landscape
from ._parse import symbol

__all__ = ["Smoothness", "smoothness_constant"]


@dataclass(frozen=True)
class Smoothness:
    """Smoothness constants: ``L_i = sup_x ||Hess f_i(x)||_2`` and ``L = max_i L_i``.

    Attributes:
        L: the largest piece constant (exact SymPy number when ``exact``).
        pieces: ``L_i`` per piece.
        structure: per piece, ``"ridge"`` (``f_i = h(w.x)``), ``"radial"``
            (:math:`f_i = g(|x - a|^2)`) or ``"numeric"`` (sampled spectral norm over the box).
        exact: True when every ``L_i`` was derived symbolically.
    """

    L: sympy.Expr
    pieces: tuple[sympy.Expr, ...]
    structure: tuple[str, ...]
    exact: bool


def _sup_abs_1d(expr: sympy.Expr, t: sympy.Symbol, lo) -> sympy.Expr | None:
    """``sup |expr(t)|`` over ``t >= lo`` (``lo`` = -oo allowed) from critical points + ends."""
    cands = []
    try:
        crit = sympy.solve(sympy.diff(expr, t), t)
    except (NotImplementedError, ValueError, TypeError):
        return None
    for c in crit:
        if not c.is_real:
            continue
        if lo != -sympy.oo and bool(c < lo):
            continue
        cands.append(sympy.simplify(expr.subs(t, c)))
    ends = [sympy.limit(expr, t, sympy.oo)]
    ends.append(expr.subs(t, lo) if lo != -sympy.oo else sympy.limit(expr, t, -sympy.oo))
    vals = [sympy.Abs(sympy.simplify(v)) for v in cands + ends]
    if any(not v.is_finite for v in vals):
        return None
    best = vals[0]
    for v in vals[1:]:
        if float(v) > float(best):
            best = v
    return sympy.nsimplify(best) if best.is_rational else best


def _ridge(expr, xs):
    """``expr = h(w.x)``? returns (h(u), |w|^2, u) or None."""
    g = [sympy.diff(expr, v) for v in xs]
    k = next((j for j, gj in enumerate(g) if gj != 0), None)
    if k is None:
        return None
    w = []
    for gj in g:
        r = sympy.simplify(gj / g[k])
        if r.free_symbols:
            return None
        w.append(r)
    u = symbol("u")
    h = expr.subs({v: (u / w[k] if j == k else 0) for j, v in enumerate(xs)})
    return sympy.simplify(h), sum(wj**2 for wj in w), u


def _radial(expr, xs):
    """``expr = g(|x - a|^2)``? returns (g(q), q) or None."""
    g = [sympy.diff(expr, v) for v in xs]
    # centre: grad f = 2 g'(q) (x - a) vanishes at a; solve one coordinate at a time.
    a = []
    for j, v in enumerate(xs):
        others = {u: 0 for i, u in enumerate(xs) if i != j}
        try:
            sol = sympy.solve(sympy.numer(sympy.together(g[j].subs(others))), v)
        except (NotImplementedError, ValueError, TypeError):
            return None
        sol = [s for s in sol if s.is_real]
        if len(sol) != 1:
            return None
        a.append(sol[0])
    ratios = [sympy.simplify(gj / (v - aj)) for gj, v, aj in zip(g, xs, a, strict=True)]
    if any(sympy.simplify(r - ratios[0]) != 0 for r in ratios[1:]):
        return None
    q = symbol("q")
    qpos = sympy.Symbol("q", nonnegative=True)
    prof = expr.subs({v: aj for v, aj in zip(xs[1:], a[1:], strict=True)})
    prof = sympy.simplify(prof.subs(xs[0], a[0] + sympy.sqrt(qpos)))
    return prof.xreplace({qpos: q}), q


def _numeric_hessian_norm(land: Landscape, box, samples: int = 4096, seed: int = 0) -> float:
    H = hessian(land)
    f = sympy.lambdify(land.variables, H, modules="numpy")
    lo, hi = np.array(box, dtype=np.float64).T
    z = np.random.default_rng(seed).uniform(lo, hi, size=(samples, len(lo)))
    best = 0.0
    for row in z:
        best = max(best, float(np.linalg.norm(np.asarray(f(*row), dtype=np.float64), 2)))
    return best


def smoothness_constant(fs: FiniteSum) -> Smoothness:
    r"""``L`` with every ``f_i`` ``L``-smooth, derived where the structure allows it.

    Ridge pieces ``f_i = h(w.x)`` have Hessian :math:`h''(u)\, w w^\top`:
    :math:`L_i = |w|^2 \sup |h''|`. Radial pieces ``f_i = g(q)``, :math:`q = |x - a|^2`, have
    Hessian eigenvalues ``2 g'(q)`` (tangential) and ``2 g'(q) + 4 q g''(q)`` (radial): ``L_i`` is
    the larger sup over :math:`q \ge 0`. Each 1-D sup comes from the critical points
    (``sympy.solve``) and the ends. Other pieces fall back to the largest sampled spectral norm over
    the box (``"numeric"``, a lower estimate of the true constant on the box).

    >>> from trainability.analytic import finite_sum
    >>> smoothness_constant(finite_sum(["(x1 + x2)**2", "(x1 - 1)**2"])).L  # ridge |w|^2 h''
    4
    """
    if "L" in fs._cache:
        return fs._cache["L"]
    xs = fs.variables
    values, kinds = [], []
    for i, fi in enumerate(fs.pieces):
        val, kind = None, "numeric"
        ridge = _ridge(fi, xs)
        if ridge is not None:
            h, w2, u = ridge
            s = _sup_abs_1d(sympy.diff(h, u, 2), u, -sympy.oo)
            if s is not None:
                val, kind = sympy.simplify(w2 * s), "ridge"
        if val is None and len(xs) >= 1:
            radial = _radial(fi, xs)
            if radial is not None:
                g, q = radial
                g1, g2 = sympy.diff(g, q), sympy.diff(g, q, 2)
                eig = [2 * g1 + 4 * q * g2] + ([2 * g1] if len(xs) > 1 else [])
                sups = [_sup_abs_1d(sympy.simplify(e), q, 0) for e in eig]
                if all(s is not None for s in sups):
                    val = sups[0] if len(sups) == 1 else sympy.Max(*sups)
                    kind = "radial"
        if val is None:
            lo, hi = fs.region()
            val = sympy.Float(_numeric_hessian_norm(fs.piece(i), list(zip(lo, hi, strict=True))))
        values.append(sympy.simplify(val))
        kinds.append(kind)
    L = values[0]
    for v in values[1:]:
        L = v if float(v) > float(L) else L
    out = Smoothness(L, tuple(values), tuple(kinds), all(k != "numeric" for k in kinds))
    fs._cache["L"] = out
    return out
