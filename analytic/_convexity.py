r"""Convexity of a landscape on the whole real line: exact conditions, certified bounds, or
"unknown" with the reason. Never "convex" from a finite window.

A twice-differentiable loss is convex iff its Hessian is positive semi-definite everywhere.
In one dimension that is :math:`\inf_x f''(x) \ge 0`; the module finds that infimum from the
structure of ``f''`` (written as polynomial terms, ``x**m`` times sines and cosines, and
other terms):

- **periodic** :math:`f'' = c + T(x)` with ``T`` a trigonometric polynomial: one frequency gives
  :math:`c - \sqrt{A^2 + B^2}`; commensurate frequencies (rational ratios, possibly after putting
  in the given values) reduce to a polynomial in :math:`u = \cos(k_0 x)` or :math:`s = \sin(k_0 x)`
  on ``[-1, 1]`` minimised exactly (:mod:`._trig`); one amplitude scaling the whole
  perturbation gives an exact critical invariant, several give a relation in the
  hyperparameters. Symbolic (generic) frequency ratios use Kronecker's theorem.
- **polynomial** ``f''``: exact minimum (real roots of the derivative), or the closed form of a
  quadratic with symbolic coefficients.
- **growth plus oscillation** (:math:`x^4 + \epsilon \cos(k x)`): at the real zeros of the growth
  term's curvature ``f''`` is the oscillation alone; negative there for every admissible
  value means never convex. Where the oscillation is minimal at the growth term's minimiser
  the condition is exact.
- **unbounded**: ``x**m`` times an oscillation that outgrows the polynomial part.
- **profile**: with a scaling symmetry :math:`x = s y` (``s`` a hyperparameter of weight 1),
  :math:`f''(s y) = c + M\, G(y)` with one amplitude monomial ``M`` and a numeric profile ``G``;
  :math:`\inf G` is exact for polynomial times one exponential, and certified by ball arithmetic
  over the whole line otherwise (:mod:`._interval`).
- **at given values** (all hyperparameters known): the same analyses on the numeric ``f''``,
  else a certified global bound (tail proof plus branch and bound), else "unknown" with a
  numeric estimate that is labelled as such.

In ``d`` dimensions a separable loss :math:`\sum_i g(x_i)` has a diagonal Hessian and is convex iff
every ``g`` is; for other losses the diagonal entries on the coordinate axes give necessary
conditions (enough to detect "never convex"), and the answer is otherwise "unknown".
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import reduce

import numpy as np
import sympy
from sympy.simplify.fu import TR8

from ._budget import check_budget
from ._cache import ArtifactCache
from ._interval import NotCertifiable, global_minimum
from ._landscape import Landscape
from ._parse import as_expression, symbol
from ._trig import (
    exact_sign,
    polynomial_extremum,
    real_roots,
    reduce_harmonics,
    smallest,
    trig_minimum,
)

__all__ = ["Convexity", "ValueConvexity", "convexity", "min_curvature", "critical_scale"]

#: Status values of :class:`Convexity`.
STATUSES = ("always convex", "never convex", "depends", "unknown")


@dataclass(frozen=True)
class ValueConvexity:
    r"""Convexity at the landscape's hyperparameter values.

    Attributes:
        status: ``"convex"``, ``"not convex"`` or ``"unknown"``.
        method: ``"closed form"`` (the exact condition evaluated), ``"certified"`` (ball
            arithmetic over the whole line: a tail proof plus branch and bound, or a witness
            point), or ``"estimate"`` (sampled on a window: not a proof; status is then
            ``"unknown"``).
        min_curvature: :math:`\inf f''` (exact value, or the certified upper end, or the estimate).
        lower_bound / upper_bound: certified enclosure of :math:`\inf f''` where one was proven.
        witness: a point where :math:`f'' < 0` is proven (ball arithmetic), if any.
        note: how the answer was obtained, or why it is unknown.
    """

    status: str
    method: str
    min_curvature: float | None = None
    lower_bound: float | None = None
    upper_bound: float | None = None
    witness: float | None = None
    note: str = ""

    def to_dict(self) -> dict[str, str | float | None]:
        """The fields by name (JSON-ready)."""
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


@dataclass(frozen=True)
class Convexity:
    r"""The convexity theory of one landscape.

    Attributes:
        condition: SymPy relation in the hyperparameters only, true iff the loss is convex
            (``sympy.true``/``sympy.false`` when it does not depend on them); ``None`` when
            no closed or certified form was found (``status == "unknown"``).
        status: ``"always convex"`` (every admissible value), ``"never convex"`` (every
            admissible value at which the perturbation does not vanish), ``"depends"`` (the
            condition decides), ``"unknown"``.
        method: which analysis decided (see the module docstring): ``"constant"``,
            ``"polynomial"``, ``"single-frequency"``, ``"commensurate"``, ``"incommensurate"``,
            ``"growth"``, ``"unbounded"``, ``"profile"``, ``"unknown"``.
        exact: the condition is a closed form (``False``: certified numerics inside it, or
            unknown).
        min_curvature: :math:`\inf_x f''(x)` in the hyperparameters, where it has a closed form.
        polynomial / substitution: for commensurate sums, ``f''`` as a polynomial in ``u`` and
            what ``u`` stands for (e.g. :math:`\sin(2\pi x/\lambda)`).
        at_values: the answer at the landscape's values (when all are given).
        assumptions: the hyperparameter domains used, e.g. ``{"lam": "positive"}``.
        note: one sentence on validity, or the reason for "unknown".
    """

    condition: sympy.Basic | None
    status: str
    method: str
    exact: bool
    min_curvature: sympy.Expr | None = None
    polynomial: sympy.Expr | None = None
    substitution: sympy.Expr | None = None
    at_values: ValueConvexity | None = None
    assumptions: dict[str, str] = field(default_factory=dict)
    note: str = ""

    @property
    def always_convex(self) -> bool:
        return self.status == "always convex"

    @property
    def never_convex(self) -> bool:
        return self.status == "never convex"

    def condition_text(self) -> str:
        """The condition in SymPy syntax, or ``"unknown: <reason>"``."""
        if self.condition is None:
            return f"unknown: {self.note}" if self.note else "unknown"
        return str(self.condition)


def _unknown(note: str, method: str = "unknown") -> Convexity:
    return Convexity(None, "unknown", method, False, note=note)


# --------------------------------------------------------------------------- assumptions


def assumed_symbols(
    land: Landscape,
) -> tuple[dict[sympy.Symbol, sympy.Symbol], dict[sympy.Symbol, sympy.Symbol], dict[str, str]]:
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
    return {n: as_expression(values[n]) for n in names if n in values}


# --------------------------------------------------------------------- 1-D structure of f''

_NOT_SMOOTH = (sympy.DiracDelta, sympy.Heaviside, sympy.sign, sympy.Abs, sympy.Piecewise)


def _smoothness_problem(h: sympy.Expr, x: sympy.Symbol) -> str | None:
    """Why ``h = f''`` is not a real function on the whole line, or ``None``."""
    for kind in _NOT_SMOOTH:
        bad = [a for a in h.atoms(kind) if a.has(x)]
        if bad:
            return f"f'' contains {bad[0]}: the loss is not twice differentiable everywhere"
    if h.has(sympy.Max, sympy.Min):
        return "f'' contains Max/Min: the loss is not twice differentiable everywhere"
    if h.has(sympy.Derivative, sympy.Subs):
        return "f'' has unevaluated derivatives"
    for p in h.atoms(sympy.Pow):
        base, e = p.args
        if base.has(x) and not e.is_Integer and base.is_positive is not True:
            if base.is_nonnegative and e.is_positive:
                continue
            return f"{p} is not real or not smooth for every real x"
        if base.has(x) and e.is_Integer and e < 0 and base.is_polynomial(x):
            if base.is_positive or base.is_negative:
                continue
            roots = _real_polynomial_roots(base, x)
            if roots is None or roots:
                return f"f'' has a pole where {base} = 0"
    for fn in h.atoms(sympy.log):
        if fn.args[0].has(x) and fn.args[0].is_positive is not True:
            return f"{fn} is not real for every real x"
    for fn in h.atoms(sympy.tan):
        if fn.args[0].has(x):
            return f"{fn} has poles on the real line"
    for fn in h.atoms(sympy.asin, sympy.acos):
        if fn.args[0].has(x):
            return f"{fn} is not real for every real x"
    if h.has(sympy.I, sympy.zoo, sympy.nan):
        return "f'' is not real"
    return None


def _real_polynomial_roots(p: sympy.Expr, x: sympy.Symbol):
    if (p.free_symbols - {x}) or not p.is_polynomial(x):
        return None
    return sympy.Poly(p, x).real_roots()


@dataclass
class _Terms:
    poly: dict  # power m -> coefficient
    trig: list  # (m, k, kind, coeff): coeff * x**m * kind(k*x)
    other: list  # terms outside both classes


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
    """Write ``h`` as ``sum c_m x**m + sum c x**m cos|sin(k x)`` plus other terms."""
    if h.has(sympy.sin, sympy.cos):
        for _ in range(4):  # TR8 of cos(a)**2*sin(a)**2 leaves cos(2a)**2: repeat to a fixpoint
            reduced = sympy.expand(TR8(sympy.expand(h)))
            if reduced == h:
                break
            h = reduced
        h = sympy.expand(
            h.replace(
                lambda e: isinstance(e, sympy.cos | sympy.sin) and e.args[0].has(x),
                lambda e: _split_phase(e, x),
            )
        )
    else:
        h = sympy.expand(h, power_exp=False)
    poly, trig, other = {}, [], []
    for term in sympy.Add.make_args(h):
        check_budget()
        coeff, rest = term.as_independent(x, as_Add=False)
        m, trigs, ok = 0, [], True
        for factor in sympy.Mul.make_args(rest):
            base, exp = factor.as_base_exp()
            if base == x and exp.is_Integer and exp >= 0:
                m += int(exp)
            elif isinstance(factor, sympy.cos | sympy.sin):
                k = sympy.cancel(sympy.expand(factor.args[0]) / x)
                if k.has(x):
                    ok = False
                    break
                trigs.append((k, type(factor)))
            elif factor != 1:
                ok = False
                break
        if not ok or len(trigs) > 1:
            other.append(term)
        elif not trigs:
            poly[m] = poly.get(m, 0) + coeff
        else:
            k, kind = trigs[0]
            if k.could_extract_minus_sign():
                k = -k
                coeff = coeff if kind is sympy.cos else -coeff
            trig.append((m, k, kind, coeff))
    poly = {m: sympy.expand(c) for m, c in poly.items() if sympy.expand(c) != 0}
    return _Terms(poly, trig, other)


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
        a, b = sympy.expand(a), sympy.expand(b)
        if a != 0 or b != 0:
            out.append((k, a, b))
    return out


def _amplitude(a, b):
    return sympy.Abs(a) if b == 0 else sympy.sqrt(a**2 + b**2)


def _from_minimum(m: sympy.Expr, method: str, exact: bool = True, **kw) -> Convexity:
    """A result whose condition is ``m >= 0`` for the infimum ``m`` of ``f''``."""
    m = sympy.simplify(m) if sympy.count_ops(m) < 60 else m
    cond = sympy.Ge(m, 0)
    if cond is sympy.true:
        status = "always convex"
    elif cond is sympy.false:
        status = "never convex"
    else:
        s = exact_sign(m)
        if s is not None:
            cond = sympy.true if s >= 0 else sympy.false
            status = "always convex" if s >= 0 else "never convex"
        else:
            status = "depends"
    return Convexity(cond, status, method, exact, min_curvature=m, **kw)


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


def _never_unless(zero: dict, rest: Convexity, note: str) -> Convexity:
    """Non-convex for every admissible value except where ``zero`` holds (then ``rest``)."""
    cond = sympy.And(*[sympy.Eq(k, v) for k, v in zero.items()])
    if rest.condition is not None:
        cond = sympy.And(cond, rest.condition)
    unless = ", ".join(f"{k} = {v}" for k, v in zero.items())
    return Convexity(cond, "never convex", rest.method, rest.exact, note=f"{note} unless {unless}")


def _one_dim(h: sympy.Expr, x: sympy.Symbol, land: Landscape, depth: int = 0) -> Convexity:
    """Convexity from the second derivative ``h(x)`` of a 1-D loss (assumed symbols)."""
    check_budget()
    problem = _smoothness_problem(h, x)
    if problem:
        return _unknown(problem)
    if h.is_nonnegative:  # SymPy's assumptions prove it (x real, hyperparameter domains)
        return Convexity(sympy.true, "always convex", "sign", True, note="f'' >= 0 term by term")
    terms = _split_terms(h, x)
    if terms.other:
        return _profile(h, x, land) or _unknown(
            f"no closed form for f'' terms such as {terms.other[0]}"
        )
    deg = max(terms.poly, default=-1)
    osc = [t for t in terms.trig if sympy.expand(t[3]) != 0]
    m_osc = max((t[0] for t in osc), default=-1)

    if m_osc >= 1 and m_osc > deg:
        # x**M * oscillation outgrows the polynomial part: f'' is unbounded below unless the
        # oscillation's amplitude at power M vanishes.
        lead = [t[3] for t in osc if t[0] == m_osc]
        zero = _solve_for_zero(lead)
        note = "an oscillation times x**m outgrows the polynomial part"
        if zero is None or not zero or depth > 3:
            return Convexity(
                sympy.false,
                "never convex",
                "unbounded",
                True,
                min_curvature=sympy.S.NegativeInfinity,
                note=note,
            )
        rest = _one_dim(sympy.expand(h.subs(zero)), x, land, depth + 1)
        return replace(
            _never_unless(zero, rest, f"f'' is unbounded below ({note})"), method="unbounded"
        )
    if m_osc >= 1:
        return _profile(h, x, land) or _unknown(
            "x**m times an oscillation as fast as the polynomial part: no closed form"
        )
    if deg >= 1:
        if not osc:
            return _polynomial(terms.poly, x, land, depth)
        return _growth(terms.poly, osc, h, x, land, depth)
    c = terms.poly.get(0, sympy.S.Zero)
    groups = _group_frequencies(osc)
    if not groups:
        return _from_minimum(c, "constant")
    return _periodic(c, groups, x, land)


# ----------------------------------------------------------------------------- polynomial


def _polynomial(poly: dict, x, land: Landscape, depth: int) -> Convexity:
    p = sum(cf * x**m for m, cf in poly.items())
    deg = max(poly)
    lead = poly[deg]
    if not (p.free_symbols - {x}):
        value, _ = polynomial_extremum(sympy.Poly(p, x), None, None)
        return _from_minimum(value, "polynomial")
    if deg % 2 == 1 or (lead.is_nonpositive and lead != 0):
        # Odd degree (or negative leading coefficient): unbounded below unless it vanishes.
        zero = _solve_for_zero([lead])
        note = "f'' is a polynomial unbounded below"
        if zero is None or not zero or depth > 3:
            return Convexity(sympy.false, "never convex", "polynomial", True, note=note)
        rest = _one_dim(sympy.expand(p.subs(zero)), x, land, depth + 1)
        return replace(_never_unless(zero, rest, note), method="polynomial")
    if deg == 2:
        a, b, c = (poly.get(i, sympy.S.Zero) for i in (2, 1, 0))
        if a.is_positive:
            return _from_minimum(c - b**2 / (4 * a), "polynomial")
    return _profile(p, x, land) or _unknown(
        f"polynomial f'' of degree {deg} with symbolic coefficients: no closed form"
    )


# ------------------------------------------------------------------ growth and oscillation


def _growth(poly: dict, osc, h, x, land: Landscape, depth: int) -> Convexity:
    r"""Polynomial growth plus an oscillation (:math:`x^4 + \epsilon \cos(k x)`)."""
    p = sum(cf * x**m for m, cf in poly.items())
    deg = max(poly)
    if p.free_symbols - {x}:
        return _profile(h, x, land) or _unknown(
            "polynomial growth with symbolic coefficients plus an oscillation: no closed form"
        )
    if deg % 2 == 1 or poly[deg] < 0:
        return Convexity(
            sympy.false,
            "never convex",
            "growth",
            True,
            min_curvature=sympy.S.NegativeInfinity,
            note="the polynomial part of f'' is unbounded below",
        )
    # Where the growth term's curvature vanishes, f'' is the oscillation alone.
    for r in sympy.Poly(p, x).real_roots():
        e = sympy.simplify(h.subs(x, r))
        if e.is_nonpositive and e != 0:
            zero = _solve_for_zero([e])
            note = f"f''({r}) = {e} < 0 where the growth term's curvature vanishes"
            if zero is None or not zero or depth > 3:
                return Convexity(sympy.false, "never convex", "growth", True, note=note)
            rest = _one_dim(sympy.expand(h.subs(zero)), x, land, depth + 1)
            return replace(_never_unless(zero, rest, note), method="growth")
    # inf f'' >= min p + min T, with equality when T is minimal at a minimiser of p.
    p_min, p_args = polynomial_extremum(sympy.Poly(p, x), None, None)
    groups = _group_frequencies(osc)
    periodic = _periodic(sympy.S.Zero, groups, x, land)
    t = sum(a * sympy.cos(k * x) + b * sympy.sin(k * x) for k, a, b in groups)
    if periodic.min_curvature is not None and periodic.exact:
        for xp in p_args:
            if sympy.simplify(t.subs(x, xp) - periodic.min_curvature) == 0:
                return _from_minimum(
                    p_min + periodic.min_curvature,
                    "growth",
                    note=f"the oscillation is minimal at the growth term's minimiser x = {xp}",
                )
    return _profile(h, x, land) or _unknown(
        "polynomial growth plus an oscillation minimal elsewhere: no closed form "
        "(the condition min p + min T >= 0 is only sufficient)"
    )


# ------------------------------------------------------------------------------- periodic


def _periodic(c, groups, x, land: Landscape) -> Convexity:
    if len(groups) == 1:
        _, a, b = groups[0]
        return _from_minimum(c - _amplitude(a, b), "single-frequency")
    k1 = groups[0][0]
    ratios = [sympy.simplify(k / k1) for k, _, _ in groups]
    note = ""
    if not all(r.is_Rational for r in ratios):
        # Put known values into the frequencies only, as rationals; amplitudes stay symbolic.
        names = {s.name for k, _, _ in groups for s in k.free_symbols}
        values = _rational_values(land, names)
        if names and len(values) == len(names):
            sub = {s: values[s.name] for k, _, _ in groups for s in k.free_symbols}
            trial = [sympy.simplify(k.subs(sub) / k1.subs(sub)) for k, _, _ in groups]
            if all(r.is_Rational for r in trial):
                ratios = trial
                k1 = k1.subs(sub)
                note = "frequency ratio at " + ", ".join(f"{s} = {v}" for s, v in sub.items())
    if all(r.is_Rational for r in ratios):
        lcm = reduce(sympy.ilcm, [r.q for r in ratios], 1)
        ints = [int(r * lcm) for r in ratios]
        g = reduce(math.gcd, ints)
        ns = [n // g for n in ints]
        k0 = sympy.simplify(k1 * g / lcm)
        harmonics = [(n, a, b) for n, (_, a, b) in zip(ns, groups, strict=True)]
        tp = reduce_harmonics(c, harmonics)
        tm = trig_minimum(tp)
        sub_expr = {"cos": sympy.cos(k0 * x), "sin": sympy.sin(k0 * x)}.get(tp.kind)
        note = "; ".join(
            filter(None, [f"harmonics {', '.join(map(str, ns))} of {k0}", tm.note, note])
        )
        if tm.value is None:
            return Convexity(
                None,
                "unknown",
                "commensurate",
                False,
                polynomial=tp.polynomial,
                substitution=sub_expr,
                note=note + ": exact only at given values",
            )
        return _from_minimum(
            tm.value,
            "commensurate",
            tm.exact,
            polynomial=tp.polynomial,
            substitution=sub_expr,
            note=note,
        )
    # Rationally independent (generic) frequencies: the phases are dense (Kronecker).
    m = c - sum(_amplitude(a, b) for _, a, b in groups)
    peak = all(b == 0 and a.is_nonpositive for _, a, b in groups)
    # Exact for every frequency only when all cosines are lowest together at x = 0; otherwise
    # exact for rationally independent frequencies and merely sufficient for commensurate ones.
    return _from_minimum(
        m,
        "incommensurate",
        exact=peak,
        note=(
            "every cosine term is lowest at x = 0: exact for all frequencies"
            if peak
            else "infimum for rationally independent frequencies (Kronecker); "
            "commensurate values can only raise it"
        ),
    )


# -------------------------------------------------------------------------------- profile


def _weight_one_scale(land: Landscape, forward: dict) -> sympy.Expr:
    """A hyperparameter monomial of scaling weight 1 (``lam`` in ``cos(2 pi x/lam)``), or 1."""
    from ._renormalization import renormalization

    ren = renormalization(land)
    if not ren.exists or ren.free_directions:
        return sympy.S.One
    for h in land.hyperparameters:
        if ren.exponents.get(h.name) == 1:
            return forward.get(h, h)
    return sympy.S.One


def _profile(h, x, land: Landscape) -> Convexity | None:
    r""":math:`f''(s y) = c + M\, G(y)` with one amplitude monomial ``M`` and numeric ``G``."""
    forward, _, _ = assumed_symbols(land)
    s = _weight_one_scale(land, forward)
    y = sympy.Dummy("y", real=True)
    hy = sympy.expand(sympy.powsimp(h.subs(x, s * y), force=True), power_exp=False)
    c, rest = hy.as_independent(y, as_Add=True)
    if rest == 0:
        return None
    mono, profile = None, sympy.S.Zero
    for term in sympy.Add.make_args(rest):
        coeff, shape = term.as_independent(y, as_Add=False)
        num, m = (
            coeff.as_independent(*coeff.free_symbols, as_Add=False)
            if coeff.free_symbols
            else (coeff, sympy.S.One)
        )
        if mono is None:
            mono = m
        elif sympy.simplify(m / mono).free_symbols:
            return None
        else:
            num = num * sympy.simplify(m / mono)
        profile += num * shape
    if profile.free_symbols - {y}:
        return None
    if mono == 1 and c.free_symbols:
        return None
    if mono.is_nonnegative:
        found = numeric_minimum(profile, y)  # inf G
        value = None if found is None else c + mono * found.value_or_bound
    elif mono.is_nonpositive:
        found = numeric_minimum(-profile, y)  # -sup G
        value = None if found is None else c - mono * found.value_or_bound
    else:
        return None
    if found is None:
        return None
    what = f"f''({s}*y) = {c} + {mono}*G(y)" if s != 1 else "f'' = c + M*G(x)"
    return _from_minimum(
        value,
        "profile",
        found.exact,
        note=f"{what}, inf G {found.how}",
    )


@dataclass(frozen=True)
class _NumericMin:
    value: sympy.Expr | None  # exact infimum, when known
    lower: float
    upper: float
    exact: bool
    how: str
    witness: float | None = None

    @property
    def value_or_bound(self) -> sympy.Expr:
        if self.value is not None:
            return self.value
        # Certified: report the proven enclosure's upper end (a value attained at a point).
        return sympy.Float(self.upper, 15)


def _rational_minimum(g, y) -> sympy.Expr | None:
    """Exact ``inf`` of a rational function without real poles: limits at +-oo and the
    values at the real roots of the derivative's numerator."""
    if not g.is_rational_function(y):
        return None
    num, den = sympy.fraction(sympy.cancel(sympy.together(g)))
    if sympy.Poly(den, y).degree() > 0 and sympy.Poly(den, y).real_roots():
        return None
    limits = [sympy.limit(g, y, sympy.oo), sympy.limit(g, y, -sympy.oo)]
    if any(v.is_infinite and v.is_negative for v in limits):
        return sympy.S.NegativeInfinity
    dn = sympy.Poly(sympy.expand(sympy.diff(num, y) * den - num * sympy.diff(den, y)), y)
    candidates = [v for v in limits if v.is_finite]
    candidates += [sympy.simplify(g.subs(y, r)) for r in real_roots(dn)]
    return smallest(candidates) if candidates else None


def _exp_family_minimum(g, y) -> sympy.Expr | None:
    """Exact ``inf`` of ``c + P(y) exp(Q(y))`` with ``Q -> -oo`` on both sides."""
    c, rest = g.as_independent(y, as_Add=True)
    if c.free_symbols:
        return None
    q, p = None, sympy.S.Zero
    for term in sympy.Add.make_args(sympy.expand(rest)):
        factors = sympy.Mul.make_args(sympy.powsimp(term, combine="exp"))
        exps = [f for f in factors if isinstance(f, sympy.exp)]
        if len(exps) != 1:
            return None
        arg = sympy.expand(exps[0].args[0])
        coeff = sympy.Mul(*[f for f in factors if f is not exps[0]])
        if not (arg.is_polynomial(y) and coeff.is_polynomial(y)):
            return None
        a_const, a_var = arg.as_independent(y, as_Add=True)
        if q is None:
            q = a_var
        elif sympy.expand(a_var - q) != 0:
            return None
        p += coeff * sympy.exp(a_const)
    if q is None:
        return None
    qp = sympy.Poly(q, y)
    if qp.degree() < 2 or qp.degree() % 2 or qp.LC() >= 0:
        return None
    p = sympy.expand(p)
    crit = sympy.Poly(sympy.expand(sympy.diff(p, y) + p * sympy.diff(q, y)), y)
    candidates = [sympy.S.Zero]  # the limit at +-oo
    candidates += [p.subs(y, r) * sympy.exp(q.subs(y, r)) for r in real_roots(crit)]
    return sympy.simplify(c + smallest(candidates))


def _periodic_lower(expr, y):
    """For :func:`global_minimum`: exact minimum (as a ball) and period of a periodic part."""
    from flint import arb

    from ._interval import arb_function

    result = _one_dim_numeric_periodic(expr, y)
    if result is None:
        raise NotCertifiable("a periodic part without an exact minimum")
    value, period = result
    # 40 digits of the exact value, widened by far more than their error.
    return arb_function(sympy.N(value, 40), y)(arb(0)) + arb(0, 1e-30), period


def _one_dim_numeric_periodic(expr, y):
    terms = _split_terms(expr, y)
    if terms.other or any(t[0] for t in terms.trig) or (set(terms.poly) - {0}):
        return None
    groups = _group_frequencies(terms.trig)
    fake = Landscape(sympy.S.Zero, (y,), ())
    res = _periodic(terms.poly.get(0, sympy.S.Zero), groups, y, fake)
    if res.min_curvature is None or not res.exact:
        return None
    ks = [float(k) for k, _, _ in groups]
    ratios = [
        sympy.Rational(k / groups[0][0]) for k, _, _ in groups if (k / groups[0][0]).is_Rational
    ]
    if len(ratios) == len(groups):
        lcm = reduce(sympy.ilcm, [r.q for r in ratios], 1)
        period = float(2 * sympy.pi * lcm / groups[0][0])
    else:
        period = 2 * math.pi / min(ks)
    return res.min_curvature, period


def numeric_minimum(g: sympy.Expr, y: sympy.Symbol, certified: bool = True) -> _NumericMin | None:
    """``inf_y g(y)`` of a numeric function: exact where a closed form applies, else (with
    ``certified``) a tight enclosure by ball arithmetic over the whole line; ``None`` when
    neither works."""
    check_budget()
    if g.is_polynomial(y):
        value, _ = polynomial_extremum(sympy.Poly(g, y), None, None)
        return _NumericMin(value, float(value), float(value), True, "exact (polynomial)")
    periodic = _one_dim_numeric_periodic(g, y)
    if periodic is not None:
        v = periodic[0]
        return _NumericMin(v, float(v), float(v), True, "exact (trigonometric polynomial)")
    value = _rational_minimum(g, y)
    if value is not None:
        return _NumericMin(value, float(value), float(value), True, "exact (rational function)")
    value = _exp_family_minimum(g, y)
    if value is not None:
        return _NumericMin(
            value, float(value), float(value), True, "exact (polynomial times one exponential)"
        )
    found = certify(g, y) if certified else None
    if found is None or not found.certified:
        return None
    if found.upper - found.lower > 1e-8 * (1 + abs(found.upper)):
        return None  # proven but loose: too wide to state a threshold
    return _NumericMin(
        None,
        found.lower,
        found.upper,
        False,
        f"certified in [{found.lower:.12g}, {found.upper:.12g}] by ball arithmetic "
        f"(tail |y| >= {found.radius:.3g} proven)",
    )


def _max_frequency(g, y) -> float:
    ks = [1.0]
    for fn in g.atoms(sympy.sin, sympy.cos):
        a = fn.args[0]
        if a.is_polynomial(y):
            try:
                ks.append(abs(float(sympy.diff(a, y).subs(y, 0))))
            except TypeError:
                pass
    return max(ks)


def certify(g, y, *, decide_sign: bool = False, seconds: float = 20.0):
    """:func:`global_minimum` of a numeric ``g(y)``, or ``None`` when no tail proof exists."""
    try:
        return global_minimum(
            g,
            y,
            periodic_minimum=_periodic_lower,
            decide_sign=decide_sign,
            seconds=seconds,
            frequency=_max_frequency(g, y),
        )
    except NotCertifiable:
        return None


# ----------------------------------------------------------------------------- at values


def _estimate(h, x, window: float = 10.0, n: int = 200_001) -> tuple[float, float] | None:
    """``(min, argmin)`` of ``h`` sampled on ``[-window, window]`` (an estimate, no proof)."""
    f = sympy.lambdify([x], h, modules=[{"erf": _np_erf}, "numpy"])
    grid = np.linspace(-window, window, n)
    with np.errstate(all="ignore"):
        vals = np.asarray(f(grid), dtype=float) * np.ones_like(grid)
    ok = np.isfinite(vals)
    if not ok.any():
        return None
    i = int(np.argmin(np.where(ok, vals, np.inf)))
    return float(vals[i]), float(grid[i])


def _np_erf(v):
    import scipy.special

    return scipy.special.erf(v)


def _witness(h, x, point: float) -> float | None:
    """A rigorous upper bound of ``h(point)`` if it is negative (ball arithmetic), else None."""
    from flint import arb

    from ._interval import arb_function

    try:
        v = arb_function(h, x)(arb(point))
    except NotCertifiable:
        return None
    return None if v.is_nan() or not v < 0 else float(v.upper().mid())


def _at_values(result: Convexity, h, x, land: Landscape, forward: dict) -> ValueConvexity | None:
    """Convexity at the landscape's values: closed form, certified bound, or unknown."""
    values = land.value_dict
    names = {s.name for s in h.free_symbols} - {x.name}
    if names - set(values):
        return None
    sub = {s: as_expression(values[s.name]) for s in h.free_symbols if s != x}
    try:
        closed = _closed_form_at(result, sub)
    except (TypeError, ValueError, ZeroDivisionError):
        closed = None
    if closed is not None:
        return closed
    return _certified_at(h, x, sub)


def _closed_form_at(result: Convexity, sub: dict) -> ValueConvexity | None:
    if result.min_curvature is not None and result.exact and result.status != "unknown":
        m = result.min_curvature.xreplace(sub)
        if m is sympy.S.NegativeInfinity:
            return ValueConvexity("not convex", "closed form", -math.inf, note="unbounded below")
        s = exact_sign(m)
        if s is not None:
            v = float(sympy.N(m, 30))
            return ValueConvexity(
                "convex" if s >= 0 else "not convex", "closed form", v, v, v, note=result.note
            )
    if (
        result.condition is not None
        and result.exact
        and not result.condition.free_symbols - set(sub)
    ):
        truth = result.condition.xreplace(sub)
        if truth in (sympy.true, sympy.false):
            return ValueConvexity(
                "convex" if truth is sympy.true else "not convex", "closed form", note=result.note
            )
    return None


def _certified_at(h, x, sub: dict) -> ValueConvexity:
    hn = h.xreplace(sub)  # not expanded: the factored form gives tighter enclosures
    problem = _smoothness_problem(hn, x)
    if problem:
        return ValueConvexity("unknown", "estimate", note=problem)
    exact = numeric_minimum(hn, x, certified=False)  # closed forms; then the sign below
    if exact is not None and exact.exact:
        s = exact_sign(exact.value)
        if s is not None:
            v = float(sympy.N(exact.value, 30))
            return ValueConvexity(
                "convex" if s >= 0 else "not convex", "closed form", v, v, v, note=exact.how
            )
    found = certify(hn, x, decide_sign=True)
    if found is not None:
        if found.upper < 0:
            return ValueConvexity(
                "not convex",
                "certified",
                found.upper,
                None if not found.certified else found.lower,
                found.upper,
                witness=found.argmin,
                note=f"f''({found.argmin:.12g}) <= {found.upper:.6g} < 0, proven by ball "
                "arithmetic",
            )
        if found.certified and found.lower >= 0:
            return ValueConvexity(
                "convex",
                "certified",
                found.upper,
                found.lower,
                found.upper,
                note=f"f'' >= {found.lower:.6g} on [-R, R] by branch and bound and on |x| >= R "
                f"by a tail bound (R = {found.radius:.4g})",
            )
        reason = found.reason or (
            f"inf f'' lies in [{found.lower:.3g}, {found.upper:.3g}], which contains 0: "
            "its sign is not decided"
        )
    else:
        reason = "no tail bound: " + _tail_reason(hn, x)
    found = _estimate(hn, x)
    if found is None:
        return ValueConvexity("unknown", "estimate", note=reason)
    est, where = found
    proven = _witness(hn, x, where) if est < 0 else None
    if proven is not None:  # no global proof is needed to refute convexity
        return ValueConvexity(
            "not convex",
            "certified",
            proven,
            upper_bound=proven,
            witness=where,
            note=f"f''({where:.12g}) <= {proven:.6g} < 0, proven by ball arithmetic",
        )
    return ValueConvexity(
        "unknown",
        "estimate",
        est,
        note=f"{reason}; the minimum of f'' sampled on [-10, 10] is {est:.6g} (not a proof)",
    )


def _tail_reason(h, x) -> str:
    from ._interval import tail_bound

    try:
        tail_bound(h, x, _periodic_lower)
    except NotCertifiable as exc:
        return str(exc)
    except Exception as exc:  # noqa: BLE001 - report, never crash
        return type(exc).__name__
    return "branch and bound failed"


# ----------------------------------------------------------------------------- d dims


def _combine_values(results: list[Convexity]) -> ValueConvexity | None:
    vals = [r.at_values for r in results]
    if any(v is None for v in vals):
        return None
    if any(v.status == "not convex" for v in vals):
        return next(v for v in vals if v.status == "not convex")
    if all(v.status == "convex" for v in vals):
        return vals[0]
    return next(v for v in vals if v.status == "unknown")


def _diag_conditions(land: Landscape, forward: dict) -> Convexity:
    x = symbol("x")
    expr = land.expr.xreplace(forward)
    variables = land.variables
    terms = sympy.Add.make_args(sympy.expand(expr, deep=False))
    separable = all(len(t.free_symbols & set(variables)) <= 1 for t in terms)
    # Per variable, f'' along the coordinate axis (other coordinates 0), renamed to x.
    seen: dict = {}
    curvature: dict = {}  # the loss along an axis (renamed to x) -> its f''
    for v in variables:
        check_budget()
        if separable:
            part = sympy.Add(*[t for t in terms if v in t.free_symbols])  # 0 if v is absent
        else:
            part = expr.xreplace({w: sympy.S.Zero for w in variables if w != v})
        part = part.xreplace({v: x})  # symmetric losses repeat one axis: derive it once
        if part not in curvature:
            curvature[part] = sympy.diff(part, x, 2)
        key = curvature[part]
        if key not in seen:
            r = _one_dim(key, x, land)
            seen[key] = replace(r, at_values=_at_values(r, key, x, land, forward))
    results = list(seen.values())
    if any(r.never_convex for r in results):
        bad = next(r for r in results if r.never_convex)
        return replace(bad, note=(bad.note + "; " if bad.note else "") + "along a coordinate axis")
    if separable:
        first = results[0]
        if any(r.condition is None for r in results):
            cond, status = None, "unknown"
        else:
            cond = sympy.And(*[r.condition for r in results])
            status = (
                "always convex"
                if all(r.always_convex for r in results)
                else "never convex"
                if cond is sympy.false
                else "depends"
            )
        return Convexity(
            cond,
            status,
            first.method,
            all(r.exact for r in results),
            first.min_curvature if len(results) == 1 else None,
            first.polynomial,
            first.substitution,
            _combine_values(results),
            note="separable loss: diagonal Hessian, one condition per coordinate"
            + (f"; {first.note}" if first.note else ""),
        )
    at = _combine_values(results)
    if at is not None and at.status == "convex":
        at = ValueConvexity(
            "unknown", at.method, note="the axis conditions hold; off-axis curvature unchecked"
        )
    return Convexity(
        None,
        "unknown",
        "unknown",
        False,
        at_values=at,
        note="non-separable loss in d dimensions: only the necessary conditions along the "
        "coordinate axes were checked, and they hold",
    )


# ----------------------------------------------------------------------------- public

# Keyed by expression, domains and values: the symbolic part (condition) does not depend on
# values, but the answer at values does.
_CONVEXITIES: ArtifactCache[Convexity] = ArtifactCache("convexities", maxsize=256)


def _promote(result: Convexity, h, x) -> Convexity:
    """Without free hyperparameters, a certified answer at the values is the answer."""
    at = result.at_values
    if result.status != "unknown" or at is None or (h.free_symbols - {x}):
        return result
    if at.status == "convex" and at.method == "certified":
        return replace(result, condition=sympy.true, status="always convex", method="certified")
    if at.status == "not convex" and at.method == "certified":
        return replace(result, condition=sympy.false, status="never convex", method="certified")
    return result


def convexity(land: Landscape) -> Convexity:
    """The convexity of ``land`` on the whole real line (see the module docstring).

    Hyperparameters with declared domains use them (``Landscape.assumed``); undeclared ones
    are taken positive if they divide, else nonnegative (see :func:`assumed_symbols`). The
    condition is returned in the original symbols. Symbolic work honours the active
    :func:`~trainability.analytic.time_budget`.

    >>> from trainability.analytic import family, from_expression
    >>> convexity(family("additive")).condition
    eps/lam**2 <= 1/(2*pi**2)
    >>> convexity(family("multiplicative")).never_convex
    True
    >>> convexity(from_expression("x**2 + eps*sin(2*pi*x/lam) + eps*cos(4*pi*x/lam)")).condition
    eps/lam**2 <= 16/(129*pi**2)
    >>> convexity(from_expression("x**2 - 3*exp(-(x-15)**2)")).status
    'never convex'
    """
    return _CONVEXITIES(land, lambda: _convexity(land), land.values)


def _convexity(land: Landscape) -> Convexity:
    forward, back, domains = assumed_symbols(land)
    try:
        if land.dim == 1:
            x = land.variables[0]
            h = sympy.diff(land.expr.xreplace(forward), x, 2)
            result = _one_dim(h, x, land)
            result = replace(result, at_values=_at_values(result, h, x, land, forward))
            result = _promote(result, h, x)
        else:
            result = _diag_conditions(land, forward)
    except (ArithmeticError, TypeError, ValueError, NotImplementedError, RecursionError) as exc:
        # SymPy gives up on some inputs in its own ways: an honest "unknown", never a crash.
        result = _unknown(f"the analysis stopped ({type(exc).__name__}: {exc})")
    cond = None if result.condition is None else _tidy_relation(result.condition)
    result = replace(
        result,
        condition=None if cond is None else cond.xreplace(back),
        min_curvature=None if result.min_curvature is None else result.min_curvature.xreplace(back),
        polynomial=None if result.polynomial is None else result.polynomial.xreplace(back),
        substitution=None if result.substitution is None else result.substitution.xreplace(back),
        assumptions=domains,
    )
    return result


def _tidy_relation(cond):
    """Rewrite ``a - sum b_i t_i >= 0`` (all ``b_i > 0``, ``a > 0``) as ``sum b_i t_i <= a``,
    dividing by ``b`` when there is a single monomial ``t``."""
    if not isinstance(cond, sympy.Ge) or cond.rhs != 0:
        return cond
    lhs = sympy.expand(cond.lhs)
    const, rest = lhs.as_independent(*lhs.free_symbols, as_Add=True)
    if const == 0 or rest == 0:
        return cond
    terms = sympy.Add.make_args(rest)
    coeffs = [t.as_independent(*t.free_symbols, as_Add=False) for t in terms]
    if len(terms) > 1:
        if const.is_positive and all(c.is_negative for c, _ in coeffs):
            return sympy.Le(sympy.Add(*[-c * m for c, m in coeffs]), const)
        return cond
    coeff, mono = coeffs[0]
    if coeff.is_negative and const.is_positive:
        return sympy.Le(mono, sympy.simplify(const / -coeff))
    if coeff.is_positive and const.is_negative:
        return sympy.Ge(mono, sympy.simplify(-const / coeff))
    return cond


def min_curvature(conv: Convexity, values: Mapping[str, float], dps: int = 30) -> float:
    r""":math:`\inf_x f''(x)` at the given hyperparameter values, from the closed form."""
    sub = {symbol(k): as_expression(v) for k, v in values.items()}
    if conv.min_curvature is None:
        raise ValueError(f"no closed-form minimum curvature (method {conv.method!r})")
    try:
        m = conv.min_curvature.xreplace(sub)
    except TypeError as exc:
        raise ValueError(f"the closed form cannot be evaluated here: {exc}") from None
    if m.free_symbols:
        missing = ", ".join(sorted(s.name for s in m.free_symbols))
        raise ValueError(f"missing value for parameter(s): {missing}")
    return float(sympy.N(m, dps))


def critical_scale(
    conv: Convexity, direction: Mapping[str, float], fixed: Mapping[str, float] | None = None
) -> float:
    r"""Largest ``r`` with the loss convex at hyperparameters ``r * direction`` (+ ``fixed``).

    For amplitudes entering ``f''`` linearly (perturbation strengths), :math:`\min f''` is
    :math:`c + r\, m_1` with ``m1 < 0``, so :math:`r^* = c / (-m_1)`; e.g. the convexity boundary of
    the two-cosine family along the ray :math:`(\epsilon_1, \epsilon_2) = r\,(\cos t, \sin t)`.
    """
    fixed = dict(fixed or {})
    zero = {k: 0.0 for k in direction}
    c = min_curvature(conv, {**fixed, **zero})
    m = min_curvature(conv, {**fixed, **direction}) - c
    if m >= 0:
        return math.inf
    return c / -m
