"""Certified bounds of a one-variable function on the whole real line (ball arithmetic).

A claim such as "``f'' >= 0`` everywhere" needs a proof on all of ``R``, not a window. This
module gives one for a numeric expression ``h(x)`` (no free hyperparameters) in two parts:

- a **tail bound**: a radius ``R`` and a proof that ``h > 0`` for ``|x| >= R`` (or, for a
  periodic part whose minimum is negative, that ``h < 0`` somewhere beyond ``R``). Every
  additive term of ``h`` is classified as polynomial growth, a bounded oscillation times
  ``x**m``, a periodic part (minimised exactly by :mod:`._trig`), or a decaying term
  (``x**m exp(Q(x))`` with ``Q -> -oo``, or a proper rational function without real poles)
  with an explicit majorant that decreases beyond a computed radius.
- **branch and bound** on ``[-R, R]`` with python-flint ``arb`` balls: every cell's enclosure
  is a rigorous bound, and a negative value at a point is a rigorous witness.

What cannot be classified raises :class:`NotCertifiable` with the reason; the caller then
reports "unknown" (and, at most, a numeric estimate clearly marked as such).
"""

from __future__ import annotations

import heapq
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import sympy
from flint import arb, ctx, fmpq

from ._parse import as_expression

__all__ = [
    "NotCertifiable",
    "GlobalMinimum",
    "arb_function",
    "global_minimum",
]

#: Working precision of the balls (bits); far above float64 so enclosures stay tight.
PRECISION = 96


#: ``periodic_minimum(expr, x) -> (lower ball of the minimum, period)`` of a periodic part.
PeriodicMinimum = Callable[[sympy.Expr, sympy.Symbol], tuple[arb, float]]


class NotCertifiable(Exception):
    """No rigorous bound could be built; ``str(exc)`` says why."""


# ------------------------------------------------------------------------- arb evaluation


def _arb_number(v: sympy.Expr) -> arb:
    if v.is_Integer:
        return arb(int(v))
    if v.is_Rational:
        return arb(fmpq(int(v.p), int(v.q)))
    if v.is_Float:
        r = sympy.Rational(v)  # the binary value exactly
        return arb(fmpq(int(r.p), int(r.q)))
    if v is sympy.pi:
        return arb.pi()
    if v is sympy.E:
        return arb.const_e()
    raise NotCertifiable(f"no ball arithmetic for the constant {v}")


def _point(v: arb) -> tuple[arb, arb]:
    return v.lower(), v.upper()


def _ipow(b: arb, n: int) -> arb:
    """``b**n`` for an integer ``n >= 0``, tight for balls containing 0 (no dependency)."""
    lo, hi = _point(b)

    def pw(p: arb) -> arb:
        out = arb(1)
        for _ in range(n):
            out = out * p
        return out

    if n % 2 == 1:
        return pw(lo).union(pw(hi))
    if lo >= 0:
        return pw(lo).union(pw(hi))
    if hi <= 0:
        return pw(hi).union(pw(lo))
    return arb(0).union(pw(lo)).union(pw(hi))


_UNARY: dict[type, Callable[[arb], arb]] = {
    sympy.sin: arb.sin,
    sympy.cos: arb.cos,
    sympy.tan: arb.tan,
    sympy.exp: arb.exp,
    sympy.log: arb.log,
    sympy.sinh: arb.sinh,
    sympy.cosh: arb.cosh,
    sympy.tanh: arb.tanh,
    sympy.atan: arb.atan,
    sympy.asin: arb.asin,
    sympy.acos: arb.acos,
    sympy.erf: arb.erf,
    sympy.Abs: lambda b: b.__abs__(),
}


def arb_function(expr: sympy.Expr, x: sympy.Symbol) -> Callable[[arb], arb]:
    """A function of one ``arb`` ball evaluating ``expr`` rigorously (its natural extension).

    Raises :class:`NotCertifiable` for symbols other than ``x`` or unsupported functions.
    The result may be ``nan`` (no information), e.g. for a ball containing a pole.
    """
    if expr == x:
        return lambda v: v
    if expr.is_Number or expr.is_NumberSymbol:
        c = _arb_number(expr)
        return lambda v: c
    if expr.is_Symbol:
        raise NotCertifiable(f"the hyperparameter {expr} has no value")
    if isinstance(expr, sympy.Add):
        parts = [arb_function(a, x) for a in expr.args]

        def add(v):
            out = parts[0](v)
            for p in parts[1:]:
                out = out + p(v)
            return out

        return add
    if isinstance(expr, sympy.Mul):
        parts = [arb_function(a, x) for a in expr.args]

        def mul(v):
            out = parts[0](v)
            for p in parts[1:]:
                out = out * p(v)
            return out

        return mul
    if isinstance(expr, sympy.Pow):
        base, exp = expr.args
        fb = arb_function(base, x)
        if exp.is_Integer:
            n = int(exp)
            if n >= 0:
                return lambda v: _ipow(fb(v), n)
            return lambda v: 1 / _ipow(fb(v), -n)
        if exp == sympy.S.Half:
            return lambda v: fb(v).sqrt()
        fe = arb_function(exp, x)
        return lambda v: (fe(v) * fb(v).log()).exp()
    fn = _UNARY.get(type(expr))
    if fn is not None and len(expr.args) == 1:
        inner = arb_function(expr.args[0], x)
        return lambda v: fn(inner(v))
    raise NotCertifiable(f"no ball arithmetic for {type(expr).__name__}")


def _ball(lo, hi) -> arb:
    """The smallest ball holding ``[lo, hi]`` (exact end points as ``arb``)."""
    return arb(lo).union(arb(hi))


def _float(v: arb) -> float:
    return float(v.mid())


# ------------------------------------------------------------------------- tail bounds

_BOUNDED = {sympy.sin: 1, sympy.cos: 1, sympy.tanh: 1, sympy.erf: 1}


@dataclass
class _Term:
    coeff: arb  # |coefficient| as an upper bound
    m: int  # power of x
    bounded: arb  # sup of the product of bounded factors (1 if none)
    q: sympy.Poly | None  # exponent polynomial of exp(...), if any
    den: list  # [(Poly D, j)]: factors 1/D**j


def _classify(term: sympy.Expr, x: sympy.Symbol) -> tuple[str, object]:
    """Kind of one additive term of ``h``.

    ``("poly", (m, c))`` for ``c x**m``; ``("periodic", term)`` for ``c cos|sin(k x + phi)``;
    ``("bound", _Term)`` for a bounded factor times ``x**m`` times decaying factors.
    """
    coeff, rest = term.as_independent(x, as_Add=False)
    base, e = rest.as_base_exp()
    if rest == 1:
        return "poly", (0, coeff)
    if base == x and e.is_Integer and e > 0:
        return "poly", (int(e), coeff)
    if isinstance(rest, sympy.cos | sympy.sin):
        a = sympy.expand(rest.args[0])
        if a.is_polynomial(x) and sympy.Poly(a, x).degree() == 1:
            return "periodic", term
    m, bounded, q, den = 0, arb(1), None, []
    for f in sympy.Mul.make_args(rest):
        base, e = f.as_base_exp()
        if base == x and e.is_Integer and e > 0:
            m += int(e)
        elif isinstance(f, sympy.exp) or (isinstance(base, sympy.exp) and e.is_Integer):
            arg = f.args[0] if isinstance(f, sympy.exp) else base.args[0] * e
            arg = sympy.expand(arg)
            if not arg.is_polynomial(x):
                raise NotCertifiable(f"exp of a non-polynomial in {term}")
            p = sympy.Poly(arg, x)
            q = p if q is None else q + p
        elif type(base) in _BOUNDED and e.is_Integer and e > 0:
            pass  # |sin|, |cos|, |tanh|, |erf| <= 1
        elif isinstance(base, sympy.atan) and e.is_Integer and e > 0:
            bounded = bounded * _ipow(arb.pi() / 2, int(e))
        elif e.is_Integer and e < 0 and base.is_polynomial(x):
            den.append((sympy.Poly(base, x), int(-e)))
        else:
            raise NotCertifiable(f"cannot bound {f} for large |x|")
    c = arb_function(coeff, x)(arb(0)).__abs__()
    return "bound", _Term(c, m, bounded, q, den)


def _abs_sum(coeffs) -> arb:
    out = arb(0)
    for c in coeffs:
        out = out + arb_function(as_expression(c), sympy.Symbol("_"))(arb(0)).__abs__()
    return out


def _lead_and_rest(p: sympy.Poly) -> tuple[arb, arb, int]:
    """``(leading coefficient, sum of |lower coefficients|, degree)`` as balls."""
    coeffs = p.all_coeffs()
    lead = arb_function(as_expression(coeffs[0]), sympy.Symbol("_"))(arb(0))
    return lead, _abs_sum(coeffs[1:]), p.degree()


def _majorant(t: _Term) -> tuple[float, Callable[[arb], arb]]:
    """``(r0, M)``: ``|term(x)| <= M(r)`` for ``|x| = r >= r0``, with ``M`` decreasing there.

    For ``r >= 1`` a polynomial of degree ``n`` obeys ``|P(x)| <= |lead| r^n + rest r^(n-1)``
    and ``|P(x)| >= r^(n-1) (|lead| r - rest)``, ``rest`` the sum of the other ``|coeffs|``.
    """
    r0 = arb(1)
    factors: list[Callable[[arb], arb]] = []
    power = t.m  # the power of r still to place
    if t.q is not None:
        lead, rest, n = _lead_and_rest(t.q)
        if n < 2 or n % 2 or not lead < 0:
            raise NotCertifiable("an exponential that does not decay on both sides")
        # Q(x) <= lead r^n + rest r^(n-1); r^m exp(that) decreases once
        # r > (rest (n - 1) + m) / (n |lead|).
        r0 = max(r0, (rest * (n - 1) + power) / (-lead * n) + 1, key=_float)

        def expo(r, lead=lead, rest=rest, n=n, m=power):
            return _ipow(r, m) * (lead * _ipow(r, n) + rest * _ipow(r, n - 1)).exp()

        factors.append(expo)
        power = 0
    decay = 0
    for p, j in t.den:
        lead, rest, n = _lead_and_rest(p)
        if n == 0:
            factors.append(lambda r, c=lead, j=j: 1 / _ipow(c.__abs__(), j))
            continue
        if sympy.real_roots(p.as_expr()):
            raise NotCertifiable(f"f'' has a real pole at a root of {p.as_expr()}")
        a = lead.__abs__()
        r0 = max(r0, 2 * rest / a + 1, key=_float)
        factors.append(
            lambda r, a=a, rest=rest, n=n, j=j: 1 / _ipow(_ipow(r, n - 1) * (a * r - rest), j)
        )
        decay += j * n
    if t.q is None and power >= decay:
        raise NotCertifiable("a term that does not decay at infinity")

    def bound(r, m=power):
        out = t.coeff * t.bounded * _ipow(r, m)
        for f in factors:
            out = out * f(r)
        return out

    return _float(r0.upper()), bound


@dataclass(frozen=True)
class Tail:
    """What is proven about ``|x| >= radius``.

    Attributes:
        radius: ``R``.
        lower: a rigorous lower bound of ``h`` on ``|x| >= R``.
        limit: where known, a rigorous upper bound of ``inf h`` from the behaviour at
            infinity (``c + min T`` when only decaying terms are added to a constant and a
            periodic part: the periodic minimum recurs while the rest dies out).
        period: the period of the periodic part (0 if none).
    """

    radius: float
    lower: float
    limit: float | None = None
    period: float = 0.0


def tail_bound(
    h: sympy.Expr,
    x: sympy.Symbol,
    periodic_minimum: PeriodicMinimum | None = None,
    target: float = 0.0,
) -> Tail:
    """Find ``R`` and a rigorous lower bound of ``h`` on ``|x| >= R`` (module docstring).

    ``R`` is grown until the tail bound exceeds ``target`` (a value ``h`` takes somewhere, so
    that the minimum lies in the box), or, when the tail tends to a level at or below
    ``target``, until the bound is within ``1e-10`` of that level.

    ``periodic_minimum(expr, x) -> (lower ball of the minimum, period)`` minimises a periodic
    part exactly; it comes from the convexity module (passed in to keep this one
    independent of it).
    """
    monomials: dict[int, sympy.Expr] = {}
    periodic: list[sympy.Expr] = []
    oscillating: list[_Term] = []  # bounded factor times x**m, nothing decaying
    decaying: list[tuple[float, Callable]] = []
    for term in sympy.Add.make_args(sympy.expand(h)):
        kind, info = _classify(term, x)
        if kind == "poly":
            m, c = info
            monomials[m] = monomials.get(m, 0) + c
        elif kind == "periodic":
            periodic.append(info)
        elif info.q is None and not info.den:
            oscillating.append(info)
        else:
            decaying.append(_majorant(info))
    monomials = {m: c for m, c in monomials.items() if c != 0}
    const = arb_function(as_expression(monomials.pop(0, 0)), x)(arb(0))
    r0 = max([1.0, *(d[0] for d in decaying)])
    goal = arb(target)

    def delta(r: float) -> arb:
        out = arb(0)
        for _, f in decaying:
            out = out + f(arb(r))
        return out

    n = max(monomials, default=0)
    if n >= 1:
        lead = arb_function(as_expression(monomials[n]), x)(arb(0))
        if n % 2 or not lead > 0:
            raise NotCertifiable("the polynomial part of f'' does not grow to +oo on both sides")
        # For r = |x| >= R >= 1: h >= lead r^n - s r^(n-1) - delta(r) >= lead R - s - delta(R)
        # once lead R > s (s collects every lower power, oscillation and periodic amplitude).
        s = const.__abs__() + _abs_sum(c for m, c in monomials.items() if m < n)
        for t in oscillating:
            if t.m >= n:
                raise NotCertifiable("an oscillation grows as fast as the polynomial part")
            s = s + t.coeff * t.bounded
        s = s + _abs_sum(p.as_independent(x, as_Add=False)[0] for p in periodic)
        r = max(r0, _float((2 * s / lead).upper()) + 1)
        for _ in range(200):
            low = lead * r - s - delta(r)
            if low > goal and low > 0:
                return Tail(r, _float(low.lower()))
            r *= 2
        raise NotCertifiable("no tail radius found")
    if any(t.m for t in oscillating):
        raise NotCertifiable("an oscillation times x**m without polynomial growth to dominate it")
    low, period = arb(0), 0.0
    if periodic:
        if periodic_minimum is None:
            raise NotCertifiable("a periodic part without an exact minimum")
        low, period = periodic_minimum(sympy.Add(*periodic), x)
    for t in oscillating:  # bounded terms without a known limit: their sup bound
        low = low - t.coeff * t.bounded
    level = const + low
    limit = None if oscillating else _float(level.upper())
    r = r0
    for _ in range(200):
        bound = level - delta(r)
        if bound > goal or (decaying and delta(r) < 1e-10 * (1 + level.__abs__())):
            return Tail(r, _float(bound.lower()), limit, period)
        if not decaying:
            return Tail(r, _float(bound.lower()), limit, period)
        r *= 2
    raise NotCertifiable("no tail radius found")


# ------------------------------------------------------------------------- branch and bound


@dataclass(frozen=True)
class GlobalMinimum:
    """A certified enclosure of ``inf h`` on the real line.

    Attributes:
        lower: rigorous lower bound of ``inf h`` (``-inf`` when not proven).
        upper: rigorous upper bound: ``h(argmin) <= upper``, proven by a ball at a point.
        argmin: the point where ``upper`` was proven.
        radius: the tail radius ``R`` (the box was ``[-R, R]``).
        certified: whether ``lower`` is a proof (tail and box both closed).
        reason: why not, when not certified.
        cells: cells evaluated.
    """

    lower: float
    upper: float
    argmin: float
    radius: float
    certified: bool
    reason: str = ""
    cells: int = 0


def _enclosure(fa, fd, a: float, b: float) -> arb:
    """``h([a, b])``: the natural extension intersected with the mean-value form
    ``h(c) + h'([a, b]) ([a, b] - c)`` (quadratic convergence as cells shrink)."""
    box = _ball(a, b)
    natural = fa(box)
    if fd is None:
        return natural
    c = arb((a + b) / 2)
    centred = fa(c) + fd(box) * (box - c)
    if natural.is_nan() or not natural.is_finite():
        return centred
    if centred.is_nan() or not centred.is_finite():
        return natural
    return natural.intersection(centred) if natural.overlaps(centred) else natural


def _bisect_min(
    fa, fd, lo: float, hi: float, initial: int, budget: int, deadline: float, stop_sign, best=None
):
    """Best-first branch and bound of ``fa`` (derivative ``fd``) on ``[lo, hi]``; ``best``
    is a known upper bound of the infimum (e.g. its limit at infinity)."""
    edges = [lo + (hi - lo) * i / initial for i in range(initial + 1)]
    heap: list = []
    best, best_x = (math.inf if best is None else best), (lo + hi) / 2
    cells = 0

    def push(a, b):
        nonlocal cells
        cells += 1
        v = _enclosure(fa, fd, a, b)
        low = -math.inf if v.is_nan() else _float(v.lower())
        heapq.heappush(heap, (low, a, b))

    def sample(t):
        nonlocal best, best_x
        v = fa(arb(t))
        if not v.is_nan():
            up = _float(v.upper())
            if up < best:
                best, best_x = up, t

    for a, b in zip(edges[:-1], edges[1:], strict=True):
        push(a, b)
        sample((a + b) / 2)
    exhausted = False
    while heap:
        low, a, b = heap[0]
        tol = 1e-10 * max(1.0, abs(best)) if math.isfinite(best) else 0.0
        if low >= best - tol:
            break
        if stop_sign and (best < 0 or low >= 0):
            break
        if cells >= budget or time.monotonic() > deadline:
            exhausted = True
            break
        heapq.heappop(heap)
        mid = (a + b) / 2
        if not a < mid < b:  # the cell is one float wide: its bound is final
            heapq.heappush(heap, (low if low < best else best, mid, mid))
            exhausted = True
            break
        sample(mid)
        push(a, mid)
        push(mid, b)
    lower = min(best, heap[0][0]) if heap else best
    return lower, best, best_x, cells, exhausted


def global_minimum(
    h: sympy.Expr,
    x: sympy.Symbol,
    *,
    periodic_minimum: PeriodicMinimum | None = None,
    budget: int = 200_000,
    seconds: float = 20.0,
    decide_sign: bool = True,
    frequency: float = 1.0,
) -> GlobalMinimum:
    """Certified enclosure of ``inf_x h(x)`` over the real line (see the module docstring).

    The lower bound is the smaller of the box's branch-and-bound bound on ``[-R, R]`` and the
    tail's bound on ``|x| >= R``; the upper bound is a value proven at a point (or the limit
    at infinity, where the tail gives one).

    Args:
        h: expression in ``x`` only.
        periodic_minimum: exact minimiser of periodic parts (see :func:`tail_bound`).
        budget: most cells evaluated; seconds: wall-clock budget.
        decide_sign: stop as soon as the sign of the minimum is proven (``lower >= 0``, or a
            point with ``h < 0``) instead of narrowing the enclosure.
        frequency: the largest angular frequency in ``h`` (sets the initial cell width).

    Raises :class:`NotCertifiable` when no tail bound exists (the reason says why).
    """
    old = ctx.prec
    ctx.prec = PRECISION
    try:
        fa = arb_function(h, x)
        try:
            fd = arb_function(sympy.diff(h, x), x)
        except NotCertifiable:
            fd = None
        probes = [fa(arb(t)) for t in (-1.0, -0.5, 0.0, 0.5, 1.0)]
        seen = [_float(v.upper()) for v in probes if not v.is_nan() and v.is_finite()]
        target = 0.0 if decide_sign else min([*seen, math.inf])
        if not math.isfinite(target):
            target = 0.0
        tail = tail_bound(h, x, periodic_minimum, target)
        r = tail.radius + tail.period
        initial = int(min(budget // 4, max(64, 2 * r * max(frequency, 1.0) / (math.pi / 4))))
        lower, best, best_x, cells, exhausted = _bisect_min(
            fa, fd, -r, r, initial, budget, time.monotonic() + seconds, decide_sign, tail.limit
        )
    finally:
        ctx.prec = old
    lower = min(lower, tail.lower)
    upper = best
    decided = decide_sign and (best < 0 or lower >= 0)
    if exhausted and not decided:
        return GlobalMinimum(
            lower,
            upper,
            best_x,
            r,
            False,
            f"branch and bound did not close within {cells} cells (f'' may touch zero)",
            cells,
        )
    return GlobalMinimum(lower, upper, best_x, r, True, "", cells)
