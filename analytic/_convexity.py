"""Convexity of a landscape: the exact condition on its hyperparameters, and where it fails.

A twice-differentiable loss is convex iff its Hessian is positive semi-definite everywhere.
In one dimension that is ``min_x f''(x) >= 0``; the module computes that minimum from the
structure of ``f''``:

- ``f'' = c + A cos(k x) + B sin(k x)`` (one frequency): ``min = c - sqrt(A**2 + B**2)``.
- several frequencies with rational ratios (commensurate): ``k_j = n_j k0``; with cosines only,
  ``cos(n k0 x) = T_n(u)`` (Chebyshev), so ``f''`` is a polynomial ``Q(u)`` in
  ``u = cos(k0 x)`` on ``[-1, 1]`` and its minimum is at an end point or a root of ``Q'``.
- several frequencies with a symbolic (generic, irrational) ratio: by Kronecker's theorem the
  phases are independent, so ``inf = c - sum_j sqrt(A_j**2 + B_j**2)``.
- an oscillation multiplied by ``x**m`` that outgrows the polynomial part (the multiplicative
  family: ``x**2 cos(k x)`` in ``f''``) makes ``f''`` unbounded below: never convex unless its
  amplitude vanishes.
- otherwise, with all hyperparameter values known: a numeric minimum on a window, marked as
  numeric, with a lower bound certified by mpmath interval arithmetic.

In ``d`` dimensions a separable loss ``sum_i g(x_i)`` has a diagonal Hessian and is convex iff
every ``g`` is; for other losses the diagonal entries on the coordinate axes give necessary
conditions (enough to detect "never convex").
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import reduce

import mpmath
import sympy
from sympy.simplify.fu import TR8

from ._landscape import Landscape
from ._parse import symbol

__all__ = ["Convexity", "convexity", "min_curvature", "critical_scale"]

#: The trigonometric variable of commensurate reductions, ``u = cos(k0 x)``.
TRIG_VARIABLE = "u"


@dataclass(frozen=True)
class Convexity:
    """The convexity theory of one landscape.

    Attributes:
        condition: SymPy relation in the hyperparameters (and, for ``method ==
            "commensurate"``, in ``u``, read "for all u in [-1, 1]") that holds iff the loss
            is convex; ``sympy.true`` / ``sympy.false`` when it does not depend on them.
        always_convex: convex for every admissible hyperparameter value.
        never_convex: non-convex for every admissible value at which the perturbation does
            not vanish (the multiplicative family for every ``eps > 0``).
        method: ``"constant"``, ``"single-frequency"``, ``"commensurate"``,
            ``"incommensurate"``, ``"unbounded"``, ``"numeric"`` or ``"unknown"``.
        exact: whether ``condition`` is exact (numeric minima are not).
        min_curvature: ``min_x f''(x)`` as an expression in the hyperparameters, when it has a
            closed form (``None`` otherwise).
        polynomial: for ``"commensurate"``, ``f''`` as a polynomial in ``u``.
        substitution: for ``"commensurate"``, what ``u`` stands for, e.g. ``cos(4*pi*x/3)``.
        numeric: for ``"numeric"``: ``{"minimum", "certified_lower_bound", "window"}``.
        assumptions: the hyperparameter domains used, e.g. ``{"lam": "positive"}``.
        note: one sentence on validity (e.g. generic frequencies).
    """

    condition: sympy.Basic
    always_convex: bool
    never_convex: bool
    method: str
    exact: bool
    min_curvature: sympy.Expr | None = None
    polynomial: sympy.Expr | None = None
    substitution: sympy.Expr | None = None
    numeric: dict | None = None
    assumptions: dict = field(default_factory=dict)
    note: str = ""

    def condition_text(self) -> str:
        """The condition in SymPy syntax, with its quantifier spelled out where there is one."""
        text = str(self.condition)
        if self.method == "commensurate":
            text += f" for all {TRIG_VARIABLE} in [-1, 1], {TRIG_VARIABLE} = {self.substitution}"
        return text


# --------------------------------------------------------------------------- assumptions


def assumed_symbols(land: Landscape) -> tuple[dict, dict, dict]:
    """Symbols carrying domains: declared ones from ``Landscape.assumed``, else inferred.

    An undeclared hyperparameter that appears as a divisor (``x/lam``) is taken positive,
    any other undeclared one nonnegative (a perturbation strength).

    Returns ``(forward, back, domains)``: original -> assumed symbol, its inverse, and the
    domain names by hyperparameter name.
    """
    _, back = land.assumed()
    forward = {orig: new for new, orig in back.items()}
    domains = dict(land.domains)
    divisors = {
        p.base for p in land.expr.atoms(sympy.Pow) if p.base.is_Symbol and p.exp.is_negative
    }
    for h in land.hyperparameters:
        if h not in forward:
            kind = "positive" if h in divisors else "nonnegative"
            new = sympy.Symbol(h.name, **{kind: True})
            forward[h], back[new] = new, h
            domains[h.name] = kind
    return forward, back, {h.name: domains[h.name] for h in land.hyperparameters}


def _rational_values(land: Landscape, names) -> dict:
    values = land.value_dict
    return {n: sympy.nsimplify(values[n], rational=True) for n in names if n in values}


# --------------------------------------------------------------------- 1-D structure of f''


@dataclass
class _Terms:
    poly: dict  # power m -> coefficient
    trig: list  # (m, k, kind, coeff): coeff * x**m * kind(k*x)
    ok: bool


def _split_phase(e, x):
    """``cos(k x + phi)`` -> ``cos(phi) cos(k x) - sin(phi) sin(k x)`` (likewise sin)."""
    arg = sympy.expand(e.args[0])
    phi, kx = arg.as_independent(x, as_Add=True)
    if phi == 0:
        return type(e)(kx)
    if isinstance(e, sympy.cos):
        return sympy.cos(phi) * sympy.cos(kx) - sympy.sin(phi) * sympy.sin(kx)
    return sympy.sin(phi) * sympy.cos(kx) + sympy.cos(phi) * sympy.sin(kx)


def _split_terms(h: sympy.Expr, x: sympy.Symbol) -> _Terms:
    """Write ``h`` as ``sum c_m x**m + sum c * x**m * cos|sin(k x)`` (or report failure)."""
    h = sympy.expand(TR8(sympy.expand(h)))
    h = sympy.expand(
        h.replace(
            lambda e: isinstance(e, sympy.cos | sympy.sin) and e.args[0].has(x),
            lambda e: _split_phase(e, x),
        )
    )
    poly, trig = {}, []
    for term in sympy.Add.make_args(h):
        coeff, rest = term.as_independent(x, as_Add=False)
        m, trigs = 0, []
        for factor in sympy.Mul.make_args(rest):
            base, exp = factor.as_base_exp()
            if base == x and exp.is_Integer and exp >= 0:
                m += int(exp)
            elif isinstance(factor, sympy.cos | sympy.sin):
                arg = sympy.expand(factor.args[0])
                k = sympy.simplify(arg / x)
                if k.has(x):
                    return _Terms({}, [], False)
                trigs.append((k, type(factor)))
            elif factor == 1:
                continue
            else:
                return _Terms({}, [], False)
        if not trigs:
            poly[m] = poly.get(m, 0) + coeff
        elif len(trigs) == 1:
            k, kind = trigs[0]
            if k.could_extract_minus_sign():
                k = -k
                coeff = coeff if kind is sympy.cos else -coeff
            trig.append((m, k, kind, coeff))
        else:
            return _Terms({}, [], False)
    poly = {m: sympy.simplify(c) for m, c in poly.items() if sympy.simplify(c) != 0}
    return _Terms(poly, trig, True)


def _group_frequencies(trig):
    """``[(k, A, B)]``: ``A cos(k x) + B sin(k x)`` per distinct frequency (for m = 0)."""
    groups: list[list] = []
    for _, k, kind, coeff in trig:
        for g in groups:
            if sympy.simplify(g[0] - k) == 0:
                break
        else:
            g = [k, sympy.S.Zero, sympy.S.Zero]
            groups.append(g)
        g[1 if kind is sympy.cos else 2] += coeff
    out = []
    for k, a, b in groups:
        a, b = sympy.simplify(a), sympy.simplify(b)
        if a != 0 or b != 0:
            out.append((k, a, b))
    return out


def _amplitude(a, b):
    return sympy.Abs(a) if b == 0 else sympy.sqrt(a**2 + b**2)


def _relation(expr) -> sympy.Basic:
    """``expr >= 0``; SymPy decides it to true/false when the domains allow."""
    return sympy.Ge(sympy.simplify(expr), 0)


def _status(condition) -> tuple[bool, bool]:
    """(always, never) for a relation over assumed-domain symbols."""
    if condition is sympy.true:
        return True, False
    if condition is sympy.false:
        return False, True
    return False, False


def _solve_for_zero(coeffs):
    """Hyperparameter substitutions that make every coefficient in ``coeffs`` vanish."""
    eqs = [sympy.simplify(c) for c in coeffs]
    eqs = [e for e in eqs if e != 0]
    if not eqs:
        return {}
    unknowns = sorted(set().union(*(e.free_symbols for e in eqs)), key=lambda s: s.name)
    if not unknowns:
        return None
    sols = sympy.solve(eqs, unknowns, dict=True)
    return sols[0] if sols else None


def _one_dim(
    h: sympy.Expr, x: sympy.Symbol, land: Landscape, forward: dict, depth: int = 0
) -> Convexity:
    """Convexity from the second derivative ``h(x)`` of a 1-D loss (assumed symbols)."""
    terms = _split_terms(h, x)
    if not terms.ok:
        return _numeric(h, x, land, forward)
    deg = max(terms.poly, default=-1)
    osc = [t for t in terms.trig if sympy.simplify(t[3]) != 0]
    m_osc = max((t[0] for t in osc), default=-1)

    if m_osc >= 1 and m_osc > deg:
        # x**M * oscillation outgrows the polynomial part: f'' is unbounded below unless the
        # oscillation's amplitude at power M vanishes.
        lead = [t[3] for t in osc if t[0] == m_osc]
        zero = _solve_for_zero(lead)
        if zero is None or not zero or depth > 3:
            return Convexity(
                sympy.false,
                False,
                True,
                "unbounded",
                True,
                min_curvature=sympy.S.NegativeInfinity,
                note="an oscillation times x**m outgrows the polynomial part",
            )
        rest = _one_dim(h.subs(zero), x, land, forward, depth + 1)
        cond = sympy.And(*[sympy.Eq(k, v) for k, v in zero.items()], rest.condition)
        return Convexity(
            cond,
            False,
            True,
            "unbounded",
            rest.exact,
            min_curvature=None,
            note=(
                "f'' is unbounded below (an oscillation times x**m outgrows the "
                "polynomial part) unless " + ", ".join(f"{k} = {v}" for k, v in zero.items())
            ),
        )
    if m_osc >= 1 or deg >= 1:
        if not osc and deg >= 1 and deg % 2 == 1:
            return Convexity(
                sympy.false,
                False,
                True,
                "unbounded",
                True,
                min_curvature=sympy.S.NegativeInfinity,
                note="f'' is a polynomial of odd degree",
            )
        if not osc:
            return _polynomial_min(terms.poly, x, land, forward, h)
        return _numeric(h, x, land, forward)

    c = terms.poly.get(0, sympy.S.Zero)
    groups = _group_frequencies(osc)
    if not groups:
        cond = _relation(c)
        always, never = _status(cond)
        return Convexity(cond, always, never, "constant", True, min_curvature=sympy.simplify(c))
    if len(groups) == 1:
        _, a, b = groups[0]
        m = sympy.simplify(c - _amplitude(a, b))
        cond = _relation(m)
        always, never = _status(cond)
        return Convexity(cond, always, never, "single-frequency", True, min_curvature=m)
    return _several_frequencies(c, groups, h, x, land, forward)


def _several_frequencies(c, groups, h, x, land, forward) -> Convexity:
    k1 = groups[0][0]
    ratios = [sympy.simplify(k / k1) for k, _, _ in groups]
    if not all(r.is_Rational for r in ratios):
        # Substitute known values of the hyperparameters inside the frequencies, as rationals.
        names = {s.name for k, _, _ in groups for s in k.free_symbols}
        values = _rational_values(land, names)
        if len(values) == len(names) and names:
            sub = {s: values[s.name] for s in forward.values() if s.name in values}
            groups = [(sympy.simplify(k.subs(sub)), a.subs(sub), b.subs(sub)) for k, a, b in groups]
            c = c.subs(sub)
            h = h.subs(sub)
            k1 = groups[0][0]
            ratios = [sympy.simplify(k / k1) for k, _, _ in groups]
    if all(r.is_Rational for r in ratios) and all(b == 0 for _, _, b in groups):
        lcm = reduce(sympy.ilcm, [r.q for r in ratios], 1)
        ints = [int(r * lcm) for r in ratios]
        g = reduce(math.gcd, ints)
        ns = [n // g for n in ints]
        k0 = sympy.simplify(k1 * g / lcm)
        u = symbol(TRIG_VARIABLE)
        q = sympy.expand(
            c + sum(a * sympy.chebyshevt(n, u) for n, (_, a, _) in zip(ns, groups, strict=True))
        )
        cond = sympy.Ge(q, 0)
        m = None
        if not (q.free_symbols - {u}):
            m = _poly_min_on_interval(q, u)
            cond = sympy.true if m >= 0 else sympy.false
        always, never = _status(cond)
        return Convexity(
            cond,
            always,
            never,
            "commensurate",
            True,
            min_curvature=m,
            polynomial=q,
            substitution=sympy.cos(k0 * x),
            note=f"frequencies {', '.join(str(n) for n in ns)} times {k0}",
        )
    if not all(r.is_Rational for r in ratios):
        m = sympy.simplify(c - sum(_amplitude(a, b) for _, a, b in groups))
        cond = _relation(m)
        always, never = _status(cond)
        return Convexity(
            cond,
            always,
            never,
            "incommensurate",
            True,
            min_curvature=m,
            note=(
                "infimum over x for rationally independent frequencies "
                "(Kronecker); commensurate values can only raise it"
            ),
        )
    return _numeric(h, x, land, forward)


def _poly_min_on_interval(q, u, dps: int = 50) -> sympy.Float:
    """Minimum of a numeric polynomial on ``[-1, 1]``: end points and real roots of ``Q'``."""
    with mpmath.workdps(dps):
        poly = sympy.Poly(q, u)
        coeffs = [mpmath.mpf(sympy.N(cf, dps + 10)) for cf in poly.all_coeffs()]
        dcoeffs = [cf * (len(coeffs) - 1 - i) for i, cf in enumerate(coeffs[:-1])]
        candidates = [mpmath.mpf(-1), mpmath.mpf(1)]
        if len(dcoeffs) > 1 and any(dcoeffs):
            while dcoeffs and dcoeffs[0] == 0:
                dcoeffs.pop(0)
            if len(dcoeffs) > 1:
                for r in mpmath.polyroots(dcoeffs, maxsteps=200, extraprec=200):
                    if abs(mpmath.im(r)) < mpmath.mpf(10) ** (-dps // 2):
                        re = mpmath.re(r)
                        if -1 <= re <= 1:
                            candidates.append(re)
        m = min(mpmath.polyval(coeffs, t) for t in candidates)
        return sympy.Float(m, dps)


def _polynomial_min(poly, x, land, forward, h) -> Convexity:
    p = sum(cf * x**m for m, cf in poly.items())
    if not (p.free_symbols - {x}):
        m = sympy.calculus.util.minimum(p, x, sympy.S.Reals)
        cond = sympy.true if m >= 0 else sympy.false
        return Convexity(
            cond, cond is sympy.true, cond is sympy.false, "constant", True, min_curvature=m
        )
    return _numeric(h, x, land, forward)


# ----------------------------------------------------------------------------- numeric


def _numeric(
    h, x, land: Landscape, forward: dict, window: float = 10.0, cells: int = 2000
) -> Convexity:
    """Numeric minimum of ``h`` on ``[-window, window]`` with an interval-arithmetic bound."""
    values = land.value_dict
    sub = {
        s: sympy.nsimplify(values[s.name], rational=True)
        for s in forward.values()
        if s.name in values
    }
    hn = h.subs(sub)
    if hn.free_symbols - {x}:
        return Convexity(
            sympy.Ge(sympy.Function("min_x")(h), 0),
            False,
            False,
            "unknown",
            False,
            note="no closed form; give hyperparameter values for a numeric minimum",
        )
    minimum, bound = certified_minimum(hn, x, -window, window, cells=cells)
    if minimum < 0:
        cond = sympy.false
    elif bound is not None and bound >= 0:
        cond = sympy.true
    else:
        cond = sympy.Ge(sympy.Float(minimum, 15), 0)
    return Convexity(
        cond,
        False,
        False,
        "numeric",
        False,
        min_curvature=None,
        numeric={
            "minimum": float(minimum),
            "certified_lower_bound": None if bound is None else float(bound),
            "window": [-window, window],
        },
        note="numeric minimum of f'' on a window at the given hyperparameter values; the "
        "lower bound is certified by mpmath interval arithmetic on that window",
    )


_IV_FUNCTIONS = ("sin", "cos", "tan", "exp", "log", "sqrt")


def certified_minimum(
    h: sympy.Expr,
    x: sympy.Symbol,
    lo: float,
    hi: float,
    *,
    cells: int = 2000,
    refine: int = 4,
    dps: int = 30,
):
    """``(minimum, lower_bound)`` of ``h`` on ``[lo, hi]``: sampled and interval-certified.

    ``minimum`` is the smallest value at cell mid-points (an upper bound on the true
    minimum); ``lower_bound`` is a rigorous lower bound from mpmath interval arithmetic,
    refined by bisecting the cells whose enclosure reaches below ``minimum``.
    """
    iv = mpmath.iv
    table = {name: getattr(iv, name) for name in (*_IV_FUNCTIONS, "mpf", "pi", "e")}
    modules = [table, "mpmath"]
    hyperbolic = (sympy.sinh, sympy.cosh, sympy.tanh)
    f_iv = sympy.lambdify([x], h.rewrite(sympy.exp) if h.has(*hyperbolic) else h, modules=modules)
    f_mp = sympy.lambdify([x], h, modules="mpmath")
    with mpmath.workdps(dps):
        iv.dps = dps
        width = (mpmath.mpf(hi) - mpmath.mpf(lo)) / cells
        boxes = [
            (mpmath.mpf(lo) + i * width, mpmath.mpf(lo) + (i + 1) * width) for i in range(cells)
        ]
        best = min(f_mp((a + b) / 2) for a, b in boxes)
        for _ in range(refine + 1):
            try:
                lows = [(_iv_low(f_iv, a, b), a, b) for a, b in boxes]
            except (TypeError, ValueError, AttributeError):
                return best, None  # a function without an interval version: no certificate
            bound = min(v for v, _, _ in lows)
            keep = [(a, b) for v, a, b in lows if v < best - mpmath.mpf(10) ** -12]
            if not keep or len(keep) > 4 * cells:
                break
            boxes = []
            for a, b in keep:
                mid = (a + b) / 2
                best = min(best, f_mp(mid))
                boxes += [(a, mid), (mid, b)]
        return best, min(bound, best)


def _iv_low(f_iv, a, b):
    val = f_iv(mpmath.iv.mpf([a, b]))
    low = val.a if hasattr(val, "a") else val
    return mpmath.mpf(low)


# ----------------------------------------------------------------------------- public


def _diag_conditions(land: Landscape, forward: dict) -> Convexity:
    x = symbol("x")
    expr = land.expr.xreplace(forward)
    variables = land.variables
    terms = sympy.Add.make_args(sympy.expand(expr, deep=False))
    separable = all(len(t.free_symbols & set(variables)) <= 1 for t in terms)
    # Per variable, f'' along the coordinate axis (other coordinates 0), renamed to x.
    seen: dict = {}
    for v in variables:
        if separable:
            part = sum(t for t in terms if v in t.free_symbols)
            h = sympy.diff(part, v, 2)
        else:
            axis = expr.subs({w: 0 for w in variables if w != v})
            h = sympy.diff(axis, v, 2)
        key = h.xreplace({v: x})
        if key not in seen:
            seen[key] = _one_dim(key, x, land, forward)
    results = list(seen.values())
    if any(r.never_convex for r in results):
        bad = next(r for r in results if r.never_convex)
        return bad
    if separable:
        cond = (
            sympy.And(*[r.condition for r in results]) if len(results) > 1 else results[0].condition
        )
        exact = all(r.exact for r in results)
        always = all(r.always_convex for r in results)
        m = results[0].min_curvature if len(results) == 1 else None
        first = results[0]
        return Convexity(
            cond,
            always,
            False,
            first.method,
            exact,
            m,
            first.polynomial,
            first.substitution,
            first.numeric,
            note="separable loss: diagonal Hessian, one condition per coordinate",
        )
    return Convexity(
        sympy.Ge(sympy.Function("min_eigenvalue")(sympy.Symbol("H")), 0),
        False,
        False,
        "unknown",
        False,
        note="non-separable loss in d dimensions: only the necessary axis "
        "conditions were checked, and they hold",
    )


# Keyed by expression and domains (not values), so landscapes differing only in
# hyperparameter values share one derivation.
_CACHE: dict = {}


def _cache_key(land: Landscape) -> tuple:
    return (land.expr, land.variables, land.hyperparameters, land.domains)


def convexity(land: Landscape) -> Convexity:
    """The convexity condition of ``land`` on its hyperparameters (see module docstring).

    Hyperparameters with declared domains use them (``Landscape.assumed``); undeclared ones
    are taken positive if they divide, else nonnegative (see :func:`assumed_symbols`). The
    condition is returned in the original symbols.

    >>> from trainability.analytic import family
    >>> convexity(family("additive")).condition
    eps/lam**2 <= 1/(2*pi**2)
    >>> convexity(family("multiplicative")).never_convex
    True
    """
    key = _cache_key(land)
    if key in _CACHE:
        return _CACHE[key]
    forward, back, domains = assumed_symbols(land)
    if land.dim == 1:
        x = land.variables[0]
        h = sympy.diff(land.expr.xreplace(forward), x, 2)
        result = _one_dim(h, x, land, forward)
    else:
        result = _diag_conditions(land, forward)
    cond = _tidy_relation(result.condition)
    result = Convexity(
        cond.xreplace(back),
        result.always_convex,
        result.never_convex,
        result.method,
        result.exact,
        None if result.min_curvature is None else result.min_curvature.xreplace(back),
        None if result.polynomial is None else result.polynomial.xreplace(back),
        result.substitution,
        result.numeric,
        domains,
        result.note,
    )
    _CACHE[key] = result
    return result


def _tidy_relation(cond):
    """Rewrite ``a - b*t >= 0`` as ``t <= a/b`` when one monomial carries the hyperparameters."""
    if not isinstance(cond, sympy.Ge) or cond.rhs != 0:
        return cond
    lhs = sympy.expand(cond.lhs)
    const, rest = lhs.as_independent(*lhs.free_symbols, as_Add=True)
    if const == 0 or rest == 0 or len(sympy.Add.make_args(rest)) != 1:
        return cond
    coeff, mono = rest.as_independent(*rest.free_symbols, as_Add=False)
    if coeff.is_negative and const.is_positive:
        return sympy.Le(mono, sympy.simplify(const / -coeff))
    if coeff.is_positive and const.is_negative:
        return sympy.Ge(mono, sympy.simplify(-const / coeff))
    return cond


def min_curvature(conv: Convexity, values: dict, dps: int = 30) -> float:
    """``min_x f''(x)`` at the given hyperparameter values, from a convexity result.

    Uses the closed form where there is one and the commensurate polynomial otherwise.
    """
    sub = {symbol(k): sympy.nsimplify(v, rational=True) for k, v in values.items()}
    if conv.min_curvature is not None and conv.min_curvature.free_symbols <= set(sub):
        return float(sympy.N(conv.min_curvature.subs(sub), dps))
    if conv.method == "commensurate":
        u = symbol(TRIG_VARIABLE)
        q = conv.polynomial.subs(sub)
        if q.free_symbols - {u}:
            missing = ", ".join(sorted(s.name for s in q.free_symbols - {u}))
            raise ValueError(f"missing value for parameter(s): {missing}")
        return float(_poly_min_on_interval(q, u, dps))
    raise ValueError(f"no minimum curvature available for method {conv.method!r}")


def critical_scale(conv: Convexity, direction: dict, fixed: dict | None = None) -> float:
    """Largest ``r`` with the loss convex at hyperparameters ``r * direction`` (+ ``fixed``).

    For amplitudes entering ``f''`` linearly (perturbation strengths), ``min f''`` is
    ``c + r * m1`` with ``m1 < 0``, so ``r* = c / -m1``; e.g. the convexity boundary of the
    two-cosine family along the ray ``(eps1, eps2) = r * (cos t, sin t)``.
    """
    fixed = dict(fixed or {})
    zero = {k: 0.0 for k in direction}
    c = min_curvature(conv, {**fixed, **zero})
    m = min_curvature(conv, {**fixed, **direction}) - c
    if m >= 0:
        return math.inf
    return c / -m
