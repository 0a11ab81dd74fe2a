r"""The alpha-beta condition of Islamov et al. (2024) for finite sums, derived symbolically.

A finite sum is :math:`f(x) = \frac{1}{n} \sum_i f_i(x)` with SymPy pieces ``f_i`` in the parameter
variables ``x1..xd``. With ``S`` the set of minimizers of ``f``, :math:`f_i^* = \min f_i` and
``x_p`` a projection of ``x`` onto ``S``, the condition with constants :math:`\alpha > \beta \ge 0`
reads, for every piece ``i``,

.. math::

    \langle \nabla f_i(x), x - x_p \rangle \ \ge\ \alpha \bigl(f_i(x) - f_i(x_p)\bigr)
    - \beta \bigl(f_i(x) - f_i^*\bigr).

This module finds ``S`` and every :math:`f_i^*` (symbolically where SymPy can, otherwise with
mpmath to high precision and marked ``numeric``), writes the projection and the slack
:math:`\text{lhs} - \text{rhs}` of the inequality as SymPy expressions, derives the smoothness
constant ``L`` where the structure allows it, and holds the worked examples of the paper. It imports
neither :mod:`trainability.numeric` nor :mod:`trainability.verify`.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, field

import mpmath
import numpy as np
import sympy

from ._codegen import numpy_kernels
from ._derive import gradient, hessian
from ._landscape import Landscape
from ._parse import ExpressionError, as_expression, split_symbols, symbol

__all__ = [
    "FiniteSum",
    "MinimizerSet",
    "Smoothness",
    "ALPHA_BETA_EXAMPLES",
    "aiming_slack",
    "alpha_beta_example",
    "alpha_beta_slack",
    "alpha_beta_terms",
    "critical_points",
    "finite_sum",
    "minimizer_set",
    "piece_minima",
    "pl_slack",
    "projection",
    "quasar_convexity_slack",
    "remark1_family",
    "smoothness_constant",
]

#: Decimal digits used for numerically located minimizers.
NUMERIC_DPS = 40
#: Largest Bezout number of grad f = 0 that is handed to ``sympy.solve``.
MAX_BEZOUT = 36


def _variables(dim: int) -> tuple[sympy.Symbol, ...]:
    return tuple(symbol(f"x{i}") for i in range(1, dim + 1))


def _plain(expr: sympy.Expr, xs, name: str) -> Landscape:
    """A Landscape of one piece (its gradient is the plain derivative, as for every landscape)."""
    return Landscape(expr, tuple(xs), (), name=name)


@dataclass(frozen=True)
class FiniteSum:
    r"""A finite-sum loss :math:`f = \frac{1}{n} \sum_i f_i` on :math:`\mathbb{R}^d`.

    Attributes:
        pieces: the ``n`` pieces ``f_i`` as SymPy expressions in ``variables``.
        variables: the parameter variables ``(x1, ..., xd)``.
        name: a label (example name or ``"finite-sum"``).
        proven: the region the source proves, as a plain dict (empty if none is known).
        box: a default bounded region ``((lo_1, hi_1), ..., (lo_d, hi_d))`` for numerics,
            chosen to contain ``S``, the piece minimizers and the interesting features.
    """

    pieces: tuple[sympy.Expr, ...]
    variables: tuple[sympy.Symbol, ...]
    name: str = "finite-sum"
    proven: tuple[tuple[str, object], ...] = ()
    box: tuple[tuple[float, float], ...] = ()
    _cache: dict = field(default_factory=dict, compare=False, hash=False, repr=False)

    @property
    def n(self) -> int:
        return len(self.pieces)

    @property
    def dim(self) -> int:
        return len(self.variables)

    @property
    def loss(self) -> sympy.Expr:
        r""":math:`f = \frac{1}{n} \sum_i f_i`."""
        return sympy.Add(*self.pieces) / self.n

    @property
    def proven_region(self) -> dict:
        return dict(self.proven)

    def piece(self, i: int) -> Landscape:
        """Piece ``f_i`` as a :class:`Landscape` (for gradient, Hessian and kernels)."""
        key = ("piece", i)
        if key not in self._cache:
            self._cache[key] = _plain(self.pieces[i], self.variables, f"{self.name}[{i}]")
        return self._cache[key]

    def landscape(self) -> Landscape:
        """The average ``f`` as a :class:`Landscape`."""
        if "loss" not in self._cache:
            self._cache["loss"] = _plain(self.loss, self.variables, self.name)
        return self._cache["loss"]

    def minimizers(self, starts: int = 32, dps: int = NUMERIC_DPS) -> MinimizerSet:
        """The minimizer set ``S`` of ``f`` (see :func:`minimizer_set`), cached."""
        return _sum_minimizers(self, starts, dps)

    def region(self) -> tuple[np.ndarray, np.ndarray]:
        """Lower and upper corners of :attr:`box` as float64 arrays of shape ``(d,)``."""
        box = self.box or tuple((-5.0, 5.0) for _ in range(self.dim))
        lo, hi = np.array(box, dtype=np.float64).T
        return lo, hi


def finite_sum(
    pieces: Sequence[str | sympy.Expr],
    dim: int | None = None,
    name: str = "finite-sum",
    box: Sequence[Sequence[float]] | None = None,
) -> FiniteSum:
    """Build a :class:`FiniteSum` from user text (through the whitelist parser) or SymPy.

    Every free symbol must be a parameter variable ``x`` or ``x1..xd``; a 1-D ``x`` becomes
    ``x1``.

    >>> finite_sum(["(x1 - 1)**2", "(x1 + 1)**2"]).loss
    (x1 - 1)**2/2 + (x1 + 1)**2/2
    """
    if isinstance(pieces, str) or len(pieces) < 1:
        raise ExpressionError("give the pieces f_i as a non-empty list of expressions")
    exprs = [as_expression(p) for p in pieces]
    used = 1
    for e in exprs:
        variables, hyper = split_symbols(e)
        if hyper:
            names = ", ".join(h.name for h in hyper)
            raise ExpressionError(f"finite-sum pieces take no hyperparameters, got: {names}")
        if variables and variables[-1].name != "x":
            used = max(used, int(variables[-1].name[1:]))
    d = used if dim is None else int(dim)
    if d < used or d < 1 or d > 64:
        raise ExpressionError(f"dimension must be between {used} and 64, got {d}")
    xs = _variables(d)
    exprs = [e.xreplace({symbol("x"): xs[0]}) for e in exprs]
    if box is not None:
        box = tuple((float(lo), float(hi)) for lo, hi in box)
        if len(box) != d or any(not lo < hi for lo, hi in box):
            raise ExpressionError(f"box must give d = {d} intervals (lo < hi)")
    return FiniteSum(tuple(exprs), xs, name, (), box or ())


# --------------------------------------------------------------------------------------------
# Minimizer sets
# --------------------------------------------------------------------------------------------


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

    def to_dict(self) -> dict:
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


def _symbolic_candidates(expr: sympy.Expr, xs) -> list[dict] | None:
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


def _numeric_minima(expr: sympy.Expr, xs, box, starts: int, dps: int, seed: int):
    """Local minima from a grid of starts (SciPy), polished with mpmath ``findroot``."""
    from scipy.optimize import minimize

    k = numpy_kernels(_plain(expr, xs, "minimizer-search"))
    lo, hi = np.array(box, dtype=np.float64).T
    d = len(xs)
    per_axis = max(2, int(round(starts ** (1.0 / d))))
    grid = np.stack(
        np.meshgrid(
            *[np.linspace(a, b, per_axis) for a, b in zip(lo, hi, strict=True)], indexing="ij"
        ),
        -1,
    ).reshape(-1, d)
    rng = np.random.default_rng(seed)
    grid = np.concatenate([grid, rng.uniform(lo, hi, size=(starts, d))])

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
    per_axis = max(2, int(round(starts ** (1.0 / d))))
    grid = np.stack(
        np.meshgrid(
            *[np.linspace(a, b, per_axis) for a, b in zip(lo, hi, strict=True)], indexing="ij"
        ),
        -1,
    ).reshape(-1, d)
    grid = np.concatenate([grid, np.random.default_rng(seed).uniform(lo, hi, (starts, d))])
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


def _sum_minimizers(fs: FiniteSum, starts: int, dps: int) -> MinimizerSet:
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


# --------------------------------------------------------------------------------------------
# The inequalities
# --------------------------------------------------------------------------------------------


def alpha_beta_terms(fs: FiniteSum, x_p: sympy.Matrix, piece_star: Sequence[sympy.Expr]):
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


def alpha_beta_slack(fs: FiniteSum, alpha=None, beta=None, which: int = 0):
    """The alpha-beta inequality as ``lhs - rhs`` per piece (non-negative where it holds).

    ``alpha`` and ``beta`` default to symbols ``alpha``, ``beta``; numbers are substituted.
    ``which`` picks the projection candidate for a finite ``S`` (see :func:`projection`).
    Returns a tuple of ``n`` SymPy expressions in ``x1..xd`` (and the symbols).

    >>> from trainability.analytic import alpha_beta_example
    >>> s = alpha_beta_slack(alpha_beta_example(1), 5, 0)
    >>> s[0].subs({symbol("x1"): 5, symbol("x2"): 5}) < 0    # beta = 0 fails far away
    True
    """
    a = symbol("alpha") if alpha is None else sympy.nsimplify(alpha)
    b = symbol("beta") if beta is None else sympy.nsimplify(beta)
    S = fs.minimizers()
    stars = [m.value for m in piece_minima(fs)]
    x_p = projection(S, fs.variables)[which]
    return tuple(A - a * B + b * C for A, B, C in alpha_beta_terms(fs, x_p, stars))


def pl_slack(fs: FiniteSum, mu=None) -> sympy.Expr:
    r"""PL: :math:`\|\nabla f(x)\|^2 - 2\mu (f(x) - f^*)`."""
    m = symbol("mu") if mu is None else sympy.nsimplify(mu)
    g = gradient(fs.landscape())
    return sum(gi**2 for gi in g) - 2 * m * (fs.loss - fs.minimizers().value)


def aiming_slack(fs: FiniteSum, theta=None, which: int = 0) -> sympy.Expr:
    """Aiming: ``<grad f(x), x - Proj(x, S)> - theta (f(x) - f*)`` (``theta f`` when f* = 0)."""
    t = symbol("theta") if theta is None else sympy.nsimplify(theta)
    x = sympy.Matrix(list(fs.variables))
    x_p = projection(fs.minimizers(), fs.variables)[which]
    g = sympy.Matrix(list(gradient(fs.landscape())))
    return (g.T * (x - x_p))[0, 0] - t * (fs.loss - fs.minimizers().value)


def quasar_convexity_slack(fs: FiniteSum, theta=None, which: int = 0) -> sympy.Expr:
    r"""Quasar-convexity about the minimizer ``x*``:
    :math:`\langle \nabla f, x - x^* \rangle - \theta (f - f^*)`."""
    S = fs.minimizers()
    if S.kind != "points":
        raise ValueError("quasar-convexity needs isolated minimizers; S is an affine set")
    t = symbol("theta") if theta is None else sympy.nsimplify(theta)
    x = sympy.Matrix(list(fs.variables))
    xstar = sympy.Matrix(list(S.points[which]))
    g = sympy.Matrix(list(gradient(fs.landscape())))
    return (g.T * (x - xstar))[0, 0] - t * (fs.loss - S.value)


# --------------------------------------------------------------------------------------------
# Smoothness
# --------------------------------------------------------------------------------------------


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

    >>> smoothness_constant(alpha_beta_example(1)).L
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


# --------------------------------------------------------------------------------------------
# The paper's examples
# --------------------------------------------------------------------------------------------


def _example1():
    x, y = _variables(2)
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
    x, y = _variables(2)
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
    x, y = _variables(2)
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
    x, y = _variables(2)
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
        return FiniteSum(pieces, _variables(2), name, tuple(proven.items()), box)
    pieces, proven, box = ALPHA_BETA_EXAMPLES[number]()
    return FiniteSum(pieces, _variables(2), f"example-{number}", tuple(proven.items()), box)


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
    xs = _variables(d)
    pieces = []
    for i in range(n):
        q = sum(
            sympy.nsimplify(b[i, j]) * (xs[j] - sympy.nsimplify(a[i, j])) ** 2 for j in range(d)
        )
        pieces.append(1 - sympy.exp(-q) if profile == "exp" else q / (1 + q))
    lo, hi = a.min(0) - 3.0, a.max(0) + 3.0
    return FiniteSum(
        tuple(pieces),
        xs,
        f"remark1-{profile}",
        (),
        tuple(zip(lo.tolist(), hi.tolist(), strict=True)),
    )
