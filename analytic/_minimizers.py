r"""Minimizer sets: the set ``S`` of global minimizers of a finite sum and every
:math:`f_i^*`, symbolically where SymPy can (``sympy.solve`` on the gradient), otherwise by a
multistart search refined with mpmath to high precision and marked ``numeric``; the
projection onto ``S``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import mpmath
import numpy as np
import sympy

from ._codegen import numpy_kernels
from ._derive import hessian
from ._finite_sum import NUMERIC_DPS, FiniteSum, plain_landscape

#: Largest Bezout number of grad f = 0 that is handed to ``sympy.solve``.
MAX_BEZOUT = 36

__all__ = ["MinimizerSet", "critical_points", "minimizer_set", "piece_minima", "projection"]


@dataclass(frozen=True)
class MinimizerSet:
    """The set of global minimizers of a loss: finitely many points, or an affine set.

    Attributes:
        kind: ``"points"`` (isolated minimizers) or ``"affine"`` (``point + span(directions)``).
        points: the minimizers (``"points"``) or one point of the affine set, each a tuple of
            ``d`` SymPy numbers (exact when ``exact``; otherwise ``Float`` at ``dps`` digits).
        directions: spanning directions of the affine set (empty for ``"points"``).
        value: the minimum value ``f*`` (exact or ``Float``).
        exact: True when found symbolically, False when located numerically with mpmath.
        method: how it was found, in words.
    """

    kind: str
    points: tuple[tuple[sympy.Expr, ...], ...]
    directions: tuple[tuple[sympy.Expr, ...], ...]
    value: sympy.Expr
    exact: bool
    method: str

    def as_arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """``(points (m, d), directions (k, d))`` as float64 arrays."""
        pts = np.array([[float(v) for v in p] for p in self.points], dtype=np.float64)
        dirs = np.array([[float(v) for v in u] for u in self.directions], dtype=np.float64)
        return pts, dirs.reshape(len(self.directions), pts.shape[1])

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "points": [[str(v) for v in p] for p in self.points],
            "points_float": self.as_arrays()[0].tolist(),
            "directions": [[str(v) for v in u] for u in self.directions],
            "value": str(self.value),
            "value_float": float(self.value),
            "exact": self.exact,
            "method": self.method,
        }


def _is_rational(expr: sympy.Expr, xs) -> bool:
    try:
        return bool(expr.is_rational_function(*xs))
    except Exception:  # noqa: BLE001 - SymPy raises assorted errors on odd input
        return False


def _symbolic_candidates(expr: sympy.Expr, xs) -> list[dict[sympy.Symbol, sympy.Expr]] | None:
    """Real critical points of a rational ``expr`` by ``sympy.solve`` (None if it fails)."""
    if not _is_rational(expr, xs) or sympy.count_ops(expr) > 400:
        return None
    eqs = [sympy.numer(sympy.together(sympy.diff(expr, v))) for v in xs]
    eqs = [e for e in eqs if e != 0]
    if not eqs:
        return [{}]
    # Bezout bound on the number of isolated solutions: beyond it sympy.solve can run for
    # hours (three rational pieces already give 9^2 = 81), so leave it to the numerics.
    bezout = 1
    for e in set(eqs):
        bezout *= max(1, sympy.Poly(e, *xs).total_degree())
    if bezout > MAX_BEZOUT:
        return None
    try:
        sols = sympy.solve(eqs, list(xs), dict=True)
    except (NotImplementedError, ValueError, TypeError):
        return None
    real = []
    for sol in sols:
        if all(sympy.im(sympy.N(v, 30)).is_zero is not False and _real(v) for v in sol.values()):
            real.append(sol)
    return real


def _real(v: sympy.Expr) -> bool:
    val = complex(sympy.N(v.subs({s: 0 for s in v.free_symbols}), 30))
    return abs(val.imag) < 1e-20


def multistart_points(lo: np.ndarray, hi: np.ndarray, starts: int, seed: int) -> np.ndarray:
    """Starting points of a multistart search in the box ``[lo, hi]``: a regular grid of about
    ``starts`` points (at least 2 per axis, corners included) followed by ``starts`` seeded
    uniform draws; shape ``(n, d)``."""
    d = len(lo)
    per_axis = max(2, int(round(starts ** (1.0 / d))))
    axes = [np.linspace(a, b, per_axis) for a, b in zip(lo, hi, strict=True)]
    grid = np.stack(np.meshgrid(*axes, indexing="ij"), -1).reshape(-1, d)
    return np.concatenate([grid, np.random.default_rng(seed).uniform(lo, hi, (starts, d))])


def _numeric_minima(expr: sympy.Expr, xs, box, starts: int, dps: int, seed: int):
    """Local minima from a grid of starts (SciPy), polished with mpmath ``findroot``."""
    from scipy.optimize import minimize

    k = numpy_kernels(plain_landscape(expr, xs, "minimizer-search"))
    lo, hi = np.array(box, dtype=np.float64).T
    d = len(xs)
    grid = multistart_points(lo, hi, starts, seed)

    def fun(z):
        f, g = k.loss_and_grad(z[None, :])
        return float(f[0]), np.asarray(g[0], dtype=np.float64)

    found = []
    with np.errstate(all="ignore"):
        for z0 in grid:
            res = minimize(
                fun, z0, jac=True, method="BFGS", options={"gtol": 1e-12, "maxiter": 500}
            )
            if np.all(np.isfinite(res.x)) and np.isfinite(res.fun):
                found.append((res.fun, res.x))
    found.sort(key=lambda t: t[0])
    grad_exprs = [sympy.diff(expr, v) for v in xs]
    g_mp = sympy.lambdify(xs, grad_exprs, modules="mpmath")
    f_mp = sympy.lambdify(xs, expr, modules="mpmath")
    polished = []
    with mpmath.workdps(dps):
        for _, z in found[: min(len(found), 16)]:
            try:
                root = mpmath.findroot(lambda *a: g_mp(*a), [mpmath.mpf(float(v)) for v in z])
                root = [root[i] for i in range(d)] if isinstance(root, mpmath.matrix) else [root]
            except (ZeroDivisionError, ValueError):
                root = [mpmath.mpf(float(v)) for v in z]
            if float(f_mp(*root)) <= float(fun(z)[0]) + 1e-12:
                polished.append((f_mp(*root), root))
            else:
                polished.append(
                    (f_mp(*[mpmath.mpf(float(v)) for v in z]), [mpmath.mpf(float(v)) for v in z])
                )
    return polished


def _distinct(points, tol):
    out = []
    for p in points:
        if all(max(abs(float(a - b)) for a, b in zip(p, q, strict=True)) > tol for q in out):
            out.append(p)
    return out


def minimizer_set(
    expr: sympy.Expr,
    variables: Sequence[sympy.Symbol],
    box: Sequence[Sequence[float]],
    starts: int = 32,
    dps: int = NUMERIC_DPS,
    seed: int = 0,
) -> MinimizerSet:
    """Global minimizers of ``expr`` (searched in ``box``; symbolic where possible).

    Symbolic route (rational losses): the real solutions of ``grad f = 0`` by
    :func:`sympy.solve`; a solution with free variables is an affine set (a line in 2-D). The
    symbolic answer is accepted only if a numeric multistart search in ``box`` finds nothing
    lower. Otherwise the minimizers are located numerically (BFGS from a grid of starts,
    polished by mpmath ``findroot`` at ``dps`` digits) and marked ``exact=False``.
    """
    xs = tuple(variables)
    numeric = _numeric_minima(expr, xs, box, starts, dps, seed)
    if not numeric:
        raise ValueError("no finite local minimum found in the box")
    best_numeric = min(float(v) for v, _ in numeric)
    scale = max(1.0, abs(best_numeric))
    cands = _symbolic_candidates(expr, xs)
    if cands:
        valued = []
        for sol in cands:
            free = [v for v in xs if v not in sol]
            value = sympy.nsimplify(sympy.simplify(expr.subs(sol))) if not free else None
            if free:
                restricted = sympy.simplify(expr.subs(sol))
                if restricted.free_symbols:
                    continue  # a critical curve along which f varies: not a minimizer set
                value = restricted
            valued.append((sympy.simplify(value), sol, free))
        if valued:
            low = min(float(v) for v, _, _ in valued)
            if low <= best_numeric + 1e-9 * scale:
                best = [(v, s, fr) for v, s, fr in valued if float(v) <= low + 1e-12 * scale]
                value = best[0][0]
                if any(fr for _, _, fr in best):
                    _, sol, free = next(b for b in best if b[2])
                    base = {v: 0 for v in free}
                    point = tuple(sympy.simplify(sol.get(v, v).subs(base)) for v in xs)
                    dirs = []
                    for fv in free:
                        dirs.append(
                            tuple(sympy.simplify(sympy.diff(sol.get(v, v), fv)) for v in xs)
                        )
                    return MinimizerSet(
                        "affine",
                        (point,),
                        tuple(dirs),
                        value,
                        True,
                        "symbolic: real solutions of grad f = 0 (sympy.solve)",
                    )
                pts = tuple(
                    tuple(sympy.radsimp(sympy.simplify(s[v])) for v in xs) for _, s, _ in best
                )
                return MinimizerSet(
                    "points",
                    pts,
                    (),
                    value,
                    True,
                    "symbolic: real solutions of grad f = 0 (sympy.solve)",
                )
    with mpmath.workdps(dps):
        low = min(v for v, _ in numeric)
        tol = mpmath.mpf(10) ** (-(dps // 2)) * max(1, abs(low)) + mpmath.mpf(1e-13) * scale
        pts = [p for v, p in numeric if v <= low + tol]
        pts = _distinct(pts, 1e-6)
        pts = sorted(pts, key=lambda p: [float(c) for c in p])
        spts = tuple(tuple(sympy.Float(c, dps) for c in p) for p in pts)
        return MinimizerSet(
            "points",
            spts,
            (),
            sympy.Float(low, dps),
            False,
            f"numeric: BFGS multistart in the box, mpmath findroot at {dps} digits",
        )


def critical_points(fs: FiniteSum, starts: int = 64, seed: int = 0) -> np.ndarray:
    """Critical points of ``f`` in the box (minima, saddles, maxima), shape ``(m, d)``.

    Real solutions of ``grad f = 0`` by :func:`sympy.solve` for rational ``f`` with isolated
    solutions; otherwise (or in addition) Newton-type root finding on ``grad f`` from a grid
    of starts (SciPy ``root``), de-duplicated. Used to test PL and aiming at saddles and
    spurious local minima, which sampling alone almost never hits.
    """
    from scipy.optimize import root

    key = ("critical", starts, seed)
    if key in fs._cache:
        return fs._cache[key]
    xs = fs.variables
    lo, hi = fs.region()
    found = []
    cands = _symbolic_candidates(fs.loss, xs)
    for sol in cands or []:
        if all(v in sol for v in xs):
            found.append(np.array([float(sympy.N(sol[v], 30)) for v in xs]))
    land = fs.landscape()
    k = numpy_kernels(land)
    H = sympy.lambdify(xs, hessian(land) if fs.dim <= 4 else sympy.zeros(fs.dim), "numpy")
    d = fs.dim
    grid = multistart_points(lo, hi, starts, seed)
    with np.errstate(all="ignore"):
        for z0 in grid:
            res = root(
                lambda z: np.asarray(k.grad(z[None, :])[0], dtype=np.float64),
                z0,
                jac=lambda z: np.asarray(H(*z), dtype=np.float64),
                method="hybr",
            )
            z = res.x
            if (
                res.success
                and np.all(np.isfinite(z))
                and np.all(z >= lo)
                and np.all(z <= hi)
                and np.linalg.norm(k.grad(z[None, :])[0]) < 1e-9
            ):
                found.append(z)
    out = []
    for z in found:
        if all(np.max(np.abs(z - q)) > 1e-6 for q in out):
            out.append(z)
    arr = np.array(out, dtype=np.float64).reshape(-1, d)
    fs._cache[key] = arr
    return arr


def sum_minimizers(fs: FiniteSum, starts: int, dps: int) -> MinimizerSet:
    key = ("S", starts, dps)
    if key not in fs._cache:
        lo, hi = fs.region()
        fs._cache[key] = minimizer_set(
            fs.loss, fs.variables, list(zip(lo, hi, strict=True)), starts, dps
        )
    return fs._cache[key]


def piece_minima(
    fs: FiniteSum, starts: int = 32, dps: int = NUMERIC_DPS
) -> tuple[MinimizerSet, ...]:
    """:math:`f_i^*` and its minimizers for every piece (see :func:`minimizer_set`).

    The search box is :attr:`FiniteSum.box` widened by half its size on each side.
    """
    key = ("fi*", starts, dps)
    if key not in fs._cache:
        lo, hi = fs.region()
        pad = 0.5 * (hi - lo)
        box = list(zip(lo - pad, hi + pad, strict=True))
        fs._cache[key] = tuple(minimizer_set(p, fs.variables, box, starts, dps) for p in fs.pieces)
    return fs._cache[key]


def projection(S: MinimizerSet, variables: Sequence[sympy.Symbol]) -> list[sympy.Matrix]:
    r"""The projection of ``x`` onto ``S`` as SymPy column vectors in ``variables``.

    Affine :math:`S = p + \operatorname{span}(U)`: one closed form
    :math:`p + U (U^\top U)^{-1} U^\top (x - p)`. Finitely many points: every point is returned;
    ``Proj(x, S)`` is the nearest of them (set-valued where several are equally near), which the
    caller selects numerically.
    """
    x = sympy.Matrix(list(variables))
    if S.kind == "affine":
        p = sympy.Matrix(list(S.points[0]))
        U = sympy.Matrix([list(u) for u in S.directions]).T
        P = U * (U.T * U).inv() * U.T
        return [sympy.simplify(p + P * (x - p))]
    return [sympy.Matrix(list(pt)) for pt in S.points]
