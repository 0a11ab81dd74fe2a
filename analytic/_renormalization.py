r"""Renormalization: scaling symmetries ``x -> b x`` of a loss family and their invariants.

A symmetry rescales every hyperparameter as :math:`p_i \mapsto b^{a_i} p_i` such that

    f(b y; b**a p) = b**2 f(y; p)        for all b > 0.

Then GD on ``f(.; p)`` from ``x0`` and GD on :math:`f(\cdot\,; p / b^a)` from :math:`x_0 / b` at the
*same* learning rate give the same orbit up to the factor ``b`` (:math:`y_k = x_k / b`), since
:math:`f(b y; p) = b^2 f(y; p / b^a)` has gradient ``b f'(b y; p)`` in ``y``.

The exponents ``a`` are found by weight counting: ``x`` has weight 1, ``p_i`` weight
``a_i``; every term of the loss must have weight 2 and every argument of a transcendental
function weight 0. That is a linear system; its solutions are checked by substitution.
Invariants are the monomials ``prod p_i**n_i`` with ``n . a = 0`` for every solution ``a``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from itertools import combinations
from typing import TYPE_CHECKING

import sympy

from ._cache import ArtifactCache
from ._landscape import Landscape

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import ArrayLike, NDArray

__all__ = [
    "CriticalInvariant",
    "Renormalization",
    "critical_invariant",
    "invariants",
    "renormalization",
    "rescaled",
]


@dataclass(frozen=True)
class Renormalization:
    """Scaling symmetries of a landscape.

    Attributes:
        exists: whether a power-law symmetry :math:`f(b y; b^a p) = b^2 f(y; p)` exists.
        exponents: ``{name: a_i}`` for the particular symmetry used by :func:`rescaled`
            (SymPy numbers); empty when none exists.
        free_directions: further exponent vectors that may be added (multi-parameter
            symmetry groups), as ``{name: a_i}`` dicts.
        invariants: monomials in the hyperparameters left unchanged by every symmetry.
    """

    exists: bool
    exponents: dict[str, sympy.Expr]
    free_directions: tuple[dict[str, sympy.Expr], ...]
    invariants: tuple[sympy.Expr, ...]


class _NoSymmetry(Exception):
    pass


def _weights(expr, xs, weight_of, constraints):
    """Weight of ``expr`` (linear in the unknown exponents); collects constraints."""
    if expr.is_Number or expr.is_NumberSymbol:
        return sympy.S.Zero
    if expr.is_Symbol:
        return sympy.S.One if expr in xs else weight_of[expr]
    if isinstance(expr, sympy.Mul):
        return sympy.Add(*[_weights(a, xs, weight_of, constraints) for a in expr.args])
    if isinstance(expr, sympy.Add):
        ws = [_weights(a, xs, weight_of, constraints) for a in expr.args]
        constraints += [w - ws[0] for w in ws[1:]]
        return ws[0]
    if isinstance(expr, sympy.Pow):
        base, exp = expr.args
        wb = _weights(base, xs, weight_of, constraints)
        if exp.is_Number:
            return exp * wb
        constraints += [wb, _weights(exp, xs, weight_of, constraints)]
        return sympy.S.Zero
    if isinstance(expr, sympy.Abs):
        return _weights(expr.args[0], xs, weight_of, constraints)
    if isinstance(expr, sympy.Max | sympy.Min):
        ws = [_weights(a, xs, weight_of, constraints) for a in expr.args]
        constraints += [w - ws[0] for w in ws[1:]]
        return ws[0]
    if isinstance(expr, sympy.Function):
        for a in expr.args:
            constraints.append(_weights(a, xs, weight_of, constraints))
        return sympy.S.Zero
    raise _NoSymmetry(f"cannot weigh {type(expr).__name__}")


def _integer_basis(vectors: list[list[sympy.Rational]]) -> list[list[int]]:
    out = []
    for v in vectors:
        # The leading 1 and 0 keep one-element vectors valid (ilcm/igcd need two arguments).
        lcm = sympy.ilcm(1, *[sympy.Rational(c).q for c in v])
        ints = [int(c * lcm) for c in v]
        g = sympy.igcd(0, *ints) if any(ints) else 1
        ints = [i // g for i in ints]
        first = next(i for i in ints if i != 0)
        out.append([-i for i in ints] if first < 0 else ints)
    return out


def _nice_invariants(land: Landscape, rows: sympy.Matrix) -> list[list[int]]:
    """A basis of integer exponent vectors n with rows * n = 0, preferring simple pairs.

    Single invariant hyperparameters first, then pairs ``p_i**x p_j**y`` of parameters that
    occur in the same term of the loss, then any other pairs, then the remaining null space.
    """
    k = len(land.hyperparameters)
    null = rows.nullspace() if rows.rows else [sympy.eye(k)[:, i] for i in range(k)]
    rank_needed = len(null)
    if rank_needed == 0:
        return []
    terms = sympy.Add.make_args(sympy.expand(land.expr))
    together = {
        (i, j)
        for t in terms
        for i, j in combinations(range(k), 2)
        if land.hyperparameters[i] in t.free_symbols and land.hyperparameters[j] in t.free_symbols
    }
    candidates = []
    for i in range(k):
        v = [0] * k
        v[i] = 1
        candidates.append(v)
    # Among the rest, pairs of lighter parameters first (lam1/lam2 before eps1/eps2).
    weight = [max(abs(rows[r, i]) for r in range(rows.rows)) if rows.rows else 0 for i in range(k)]
    pairs = sorted(
        combinations(range(k), 2),
        key=lambda ij: (ij not in together, max(weight[ij[0]], weight[ij[1]]), ij),
    )
    for i, j in pairs:
        sub = rows[:, [i, j]]
        ns = sub.nullspace()
        if len(ns) == 1:
            v = [0] * k
            v[i], v[j] = ns[0][0], ns[0][1]
            candidates.append(v)
    chosen: list[list] = []
    for v in candidates:
        vec = sympy.Matrix(v)
        if rows.rows and any(x != 0 for x in rows * vec):
            continue
        trial = sympy.Matrix.hstack(*[sympy.Matrix(c) for c in chosen], vec)
        if trial.rank() > len(chosen):
            chosen.append(v)
        if len(chosen) == rank_needed:
            break
    if len(chosen) < rank_needed:
        for vec in null:
            trial = sympy.Matrix.hstack(*[sympy.Matrix(c) for c in chosen], vec)
            if trial.rank() > len(chosen):
                chosen.append(list(vec))
    return _integer_basis(chosen)


# Keyed by expression and domains (not values), so landscapes differing only in
# hyperparameter values share one derivation.
_RENORMALIZATIONS: ArtifactCache[Renormalization] = ArtifactCache("renormalizations", 256)


def renormalization(land: Landscape) -> Renormalization:
    """Scaling symmetries and invariants of ``land`` (see the module docstring).

    >>> from trainability.analytic import family
    >>> renormalization(family("additive")).invariants
    (eps/lam**2,)
    >>> renormalization(family("multiplicative")).invariants
    (eps,)
    """
    return _RENORMALIZATIONS(land, lambda: _renormalization(land))


def _renormalization(land: Landscape) -> Renormalization:
    hyper = land.hyperparameters
    unknowns = sympy.symbols(f"a0:{len(hyper)}")
    weight_of = dict(zip(hyper, unknowns, strict=True))
    constraints: list = []
    try:
        w = _weights(sympy.expand(land.expr), set(land.variables), weight_of, constraints)
        constraints.append(w - 2)
        eqs = [sympy.expand(c) for c in constraints if sympy.expand(c) != 0]
        if not eqs:
            sol = [sympy.S.Zero] * len(hyper)
            free: list[list[sympy.Expr]] = []
        else:
            system = sympy.linear_eq_to_matrix(eqs, unknowns)
            a_mat, b_vec = system
            solution = sympy.linsolve((a_mat, b_vec), unknowns)
            if solution == sympy.S.EmptySet:
                raise _NoSymmetry("inconsistent weights")
            (general,) = tuple(solution)
            params = sorted(set().union(*(g.free_symbols for g in general)), key=str)
            sol = [g.subs({p: 0 for p in params}) for g in general]
            free = [[sympy.diff(g, p) for g in general] for p in params]
    except _NoSymmetry:
        result = Renormalization(False, {}, (), ())
        return result
    _check_symmetry(land, sol)
    rows = sympy.Matrix([sol, *free]) if hyper else sympy.zeros(0, 0)
    basis = _nice_invariants(land, rows) if hyper else []
    invariants = tuple(sympy.Mul(*[h**n for h, n in zip(hyper, v, strict=True)]) for v in basis)
    names = [h.name for h in hyper]
    result = Renormalization(
        True,
        dict(zip(names, sol, strict=True)),
        tuple(dict(zip(names, f, strict=True)) for f in free),
        invariants,
    )
    return result


def _check_symmetry(land: Landscape, exponents) -> None:
    """Substitute and simplify: ``f(b y; b**a p) - b**2 f(y; p) == 0`` (else raise)."""
    b = sympy.Symbol("b", positive=True)
    sub = {h: b**a * h for h, a in zip(land.hyperparameters, exponents, strict=True)}
    sub.update({v: b * v for v in land.variables})
    diff = land.expr.xreplace(sub) - b**2 * land.expr
    if (
        sympy.count_ops(diff) < 400
        and sympy.simplify(sympy.expand_power_base(sympy.expand(diff), force=True)) != 0
    ):
        raise RuntimeError(f"derived scaling symmetry fails the substitution check: {diff}")


def invariants(land: Landscape) -> tuple[sympy.Expr, ...]:
    """The renormalization invariants of ``land`` (monomials in its hyperparameters)."""
    return renormalization(land).invariants


def rescaled(
    land: Landscape,
    b: float,
    values: Mapping[str, float] | None = None,
    x0: ArrayLike | None = None,
) -> tuple[dict[str, float], NDArray[np.float64] | None]:
    r"""Hyperparameters and initial point of the same orbit seen at scale ``1/b``.

    Returns ``(values', x0')`` with :math:`v'_i = v_i / b^{a_i}` and :math:`x_0' = x_0 / b`,
    so that GD on ``(values', x0')`` gives :math:`x_k / b` at the same learning rate (for the
    additive family: :math:`(\epsilon / b^2, \lambda / b, x_0 / b)`).
    """
    if not b > 0:
        raise ValueError(f"scale b must be > 0, got {b}")
    ren = renormalization(land)
    if not ren.exists:
        raise ValueError("this loss has no scaling symmetry x -> b*x")
    values = land.value_dict if values is None else dict(values)
    new = {n: float(v) / float(b) ** float(ren.exponents[n]) for n, v in values.items()}
    new_x0 = None
    if x0 is not None:
        import numpy as np

        new_x0 = np.asarray(x0, dtype=float) / b
    return new, new_x0


@dataclass(frozen=True)
class CriticalInvariant:
    r"""The roughness of a family: the invariant its convexity condition depends on.

    Attributes:
        invariant: the monomial (e.g. :math:`\epsilon/\lambda^2`).
        value: its critical value (e.g. :math:`1/(2\pi^2)`): exact when ``exact``, otherwise a
            Float from a certified enclosure of :math:`\inf f''` (see ``Convexity.note``).
        convex_when: ``"below"`` (convex iff ``invariant <= value``) or ``"above"``.
        exact: whether ``value`` is a closed form.
    """

    invariant: sympy.Expr
    value: sympy.Expr
    convex_when: str
    exact: bool = True


def critical_invariant(land: Landscape) -> CriticalInvariant | None:
    """The invariant on which convexity alone depends, with its critical value.

    ``None`` when the condition involves several invariants (two-cosine), none (always or
    never convex without hyperparameters), or has no closed form.

    >>> from trainability.analytic import family
    >>> critical_invariant(family("additive"))
    CriticalInvariant(invariant=eps/lam**2, value=1/(2*pi**2), convex_when='below', exact=True)
    """
    from ._convexity import assumed_symbols, convexity

    conv = convexity(land)
    forward, back, _ = assumed_symbols(land)
    if isinstance(conv.condition, sympy.Eq) and conv.condition.rhs == 0:
        # Convex only where the perturbation vanishes (multiplicative): critical value 0.
        margin, equality = conv.condition.lhs.xreplace(forward), True
    elif conv.status == "depends" and conv.min_curvature is not None:
        margin, equality = conv.min_curvature.xreplace(forward), False
    else:
        return None
    if not margin.free_symbols or margin.has(sympy.Piecewise, sympy.Min, sympy.Max):
        return None
    t = sympy.Symbol("t", nonnegative=True)
    for inv in renormalization(land).invariants:
        inv_a = inv.xreplace(forward)
        params = (
            [p for p in inv_a.free_symbols if sympy.degree(inv_a, p) != 0]
            if inv_a.is_polynomial()
            else sorted(inv_a.free_symbols, key=str)
        )
        for p in sorted(params, key=str):
            sols = sympy.solve(sympy.Eq(inv_a, t), p, dict=True)
            if len(sols) != 1:
                continue
            reduced = sympy.simplify(margin.subs(sols[0]))
            if reduced.free_symbols - {t}:
                continue
            roots = [r for r in sympy.solve(reduced, t) if r.is_real and r >= 0]
            if len(roots) != 1:
                break
            value = roots[0]
            exact = conv.exact and not value.has(sympy.Float)
            if equality:
                return CriticalInvariant(inv, value, "below", exact)
            probe = value / 2 if value > 0 else sympy.S.One
            below_ok = bool(sympy.N(reduced.subs(t, probe)) >= 0) if value > 0 else False
            return CriticalInvariant(
                inv, value, "below" if below_ok or value == 0 else "above", exact
            )
    return None
