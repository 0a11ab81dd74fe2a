r"""Exact minima of trigonometric polynomials :math:`c + \sum_n A_n \cos(n t) + B_n \sin(n t)`.

A trigonometric polynomial in one angle ``t = k0 x`` is reduced to an algebraic problem:

- cosines only: ``cos(n t) = T_n(u)`` (Chebyshev), a polynomial ``Q(u)``, ``u = cos t``;
- sines of odd and cosines of even harmonics: :math:`\sin(n t) = (-1)^{(n-1)/2} T_n(s)` and
  :math:`\cos(n t) = (-1)^{n/2} T_n(s)`, a polynomial ``Q(s)``, ``s = sin t``;
- otherwise (numeric coefficients only): the half-angle substitution ``w = tan(t/2)`` gives
  a rational function whose critical points are the real roots of a polynomial.

The minimum of a polynomial on ``[-1, 1]`` is at an end point or a real root of ``Q'``
(exact: rationals, radicals of degree <= 2, ``CRootOf`` otherwise). Coefficients may carry
hyperparameters: ``Q = c0 + sum_j M_j Q_j`` with amplitude monomials ``M_j`` and numeric
polynomials ``Q_j``; one amplitude gives ``c0 + M min Q_1`` (an exact critical invariant),
several give a closed form when their minimisers coincide, or when the minimiser moves as a
root of a quadratic (a ``Piecewise`` in the amplitudes).
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy

from ._parse import as_expression

__all__ = [
    "TrigPolynomial",
    "TrigMinimum",
    "reduce_harmonics",
    "trig_minimum",
    "polynomial_extremum",
    "exact_sign",
    "real_roots",
    "smallest",
]


def exact_sign(v: sympy.Expr, dps: int = 60) -> int | None:
    """Sign of a real constant ``v`` (-1, 0, 1), decided by high-precision evaluation and an
    exact zero test; ``None`` when undecidable (symbols left, or not real)."""
    v = as_expression(v)
    if v.free_symbols:
        return None
    if v.is_zero:
        return 0
    n = sympy.N(v, dps)
    if not n.is_real:
        if abs(sympy.im(n)) > 10 ** (-dps // 2):
            return None
        n = sympy.re(n)
    if abs(n) > 10 ** (-dps // 2):
        return 1 if n > 0 else -1
    return 0 if v.equals(0) else None


def smallest(values) -> sympy.Expr:
    """The least of exact real constants (ties and undecidable pairs keep the earlier one)."""
    values = list(values)
    best = values[0]
    for v in values[1:]:
        s = exact_sign(v - best)
        if s is not None and s < 0:
            best = v
    return best


def real_roots(p: sympy.Poly, lo=None, hi=None) -> list[sympy.Expr]:
    """Exact real roots of ``p`` in the open interval ``(lo, hi)`` (``None``: unbounded),
    as radicals up to degree 2 and ``CRootOf`` above."""
    if p.is_zero or p.degree() < 1:
        return []
    out = []
    for factor, _ in p.factor_list()[1]:
        if factor.degree() <= 2:
            roots = [r for r in sympy.roots(factor, filter="R")]
        else:
            roots = factor.real_roots()
        for r in roots:
            if (lo is None or exact_sign(r - lo) == 1) and (hi is None or exact_sign(hi - r) == 1):
                out.append(r)
    return out


def polynomial_extremum(q: sympy.Poly, lo=-1, hi=1, sign: int = 1) -> tuple[sympy.Expr, list]:
    """Exact ``min`` (``sign=1``) or ``max`` (``sign=-1``) of a numeric polynomial on
    ``[lo, hi]`` (``None`` end points mean unbounded) and the points where it is attained.

    Returns ``(value, argmins)``; ``value`` is ``-oo``/``oo`` when unbounded.
    """
    q = sympy.Poly(q, q.gens[0])
    u = q.gens[0]
    if q.degree() <= 0:
        return q.as_expr(), []
    if (lo is None) != (hi is None):
        raise ValueError("polynomial_extremum takes a bounded interval or the whole line")
    if lo is None and (q.degree() % 2 == 1 or q.LC() * sign < 0):
        return (-sympy.oo if sign == 1 else sympy.oo), []  # escapes at one end of the line
    candidates = [e for e in (lo, hi) if e is not None] + real_roots(q.diff(u), lo, hi)
    values = [sympy.expand(q.as_expr().subs(u, c)) for c in candidates]
    best = sign * smallest(sign * v for v in values)
    args = [c for c, v in zip(candidates, values, strict=True) if exact_sign(v - best) == 0]
    return best, args  # never nsimplify: a guessed closed form is not a derived one


@dataclass(frozen=True)
class TrigPolynomial:
    r""":math:`c + \sum_n A_n \cos(n t) + B_n \sin(n t)` as a polynomial ``polynomial(variable)`` on
    ``[-1, 1]``, with ``variable = substitution(t)``; ``None`` polynomial for mixed parity."""

    harmonics: tuple  # ((n, A_n, B_n), ...)
    constant: sympy.Expr
    polynomial: sympy.Expr | None
    variable: sympy.Symbol | None
    kind: str  # "cos", "sin" or "mixed"


def reduce_harmonics(constant, harmonics, variable_name: str = "u") -> TrigPolynomial:
    r"""Reduce :math:`c + \sum_n A_n \cos(n t) + B_n \sin(n t)` (integer :math:`n \ge 1`) to one
    variable."""
    harmonics = tuple((int(n), as_expression(a), as_expression(b)) for n, a, b in harmonics)
    v = sympy.Symbol(variable_name, real=True)
    if all(b == 0 for _, _, b in harmonics):
        q = constant + sum(a * sympy.chebyshevt(n, v) for n, a, _ in harmonics)
        return TrigPolynomial(harmonics, constant, sympy.expand(q), v, "cos")
    if all((a == 0 or n % 2 == 0) and (b == 0 or n % 2 == 1) for n, a, b in harmonics):
        q = constant
        for n, a, b in harmonics:
            sgn = (-1) ** (n // 2) if n % 2 == 0 else (-1) ** ((n - 1) // 2)
            q += (a + b) * sgn * sympy.chebyshevt(n, v)
        return TrigPolynomial(harmonics, constant, sympy.expand(q), v, "sin")
    return TrigPolynomial(harmonics, constant, None, None, "mixed")


@dataclass(frozen=True)
class TrigMinimum:
    """``min_t`` of a trigonometric polynomial.

    Attributes:
        value: the minimum as an expression in the hyperparameters (``None`` if no closed form).
        exact: ``value`` is exact for every admissible hyperparameter value.
        note: which closed form (one amplitude, common minimiser, moving minimiser).
    """

    value: sympy.Expr | None
    exact: bool
    note: str = ""


def _mixed_numeric_minimum(constant, harmonics) -> sympy.Expr:
    """Exact minimum of a numeric trigonometric polynomial of mixed parity (half angle)."""
    w = sympy.Symbol("w", real=True)
    cos_t, sin_t = (1 - w**2) / (1 + w**2), 2 * w / (1 + w**2)
    t = sympy.Symbol("t", real=True)
    expr = constant + sum(a * sympy.cos(n * t) + b * sympy.sin(n * t) for n, a, b in harmonics)
    expanded = sympy.expand_trig(expr)
    rational = sympy.together(expanded.subs({sympy.cos(t): cos_t, sympy.sin(t): sin_t}))
    num, den = sympy.fraction(rational)
    deriv = sympy.Poly(sympy.expand(sympy.diff(num, w) * den - num * sympy.diff(den, w)), w)
    # t = pi is w = oo: the limit is the ratio of the leading coefficients (equal degrees).
    pn, pd = sympy.Poly(num, w), sympy.Poly(den, w)
    at_pi = pn.LC() / pd.LC() if pn.degree() == pd.degree() else sympy.S.Zero
    candidates = [at_pi]
    for r in real_roots(deriv, None, None):
        candidates.append(rational.subs(w, r))  # exact; compared at 60 digits
    return smallest(candidates)


def _mixed_minimum(tp: TrigPolynomial) -> TrigMinimum:
    """Mixed parities: ``c0 + M T0(t)`` with one amplitude monomial ``M`` and numeric ``T0``
    whose coefficients are rational up to one common factor (e.g. ``pi**2``), minimised
    exactly by the half-angle map."""
    c0, rest = as_expression(tp.constant).as_independent(*tp.constant.free_symbols, as_Add=True)
    if rest != 0 and c0.free_symbols:
        return TrigMinimum(None, False, "a symbolic constant beside mixed harmonics")
    mono, scaled = None, []
    for n, a, b in tp.harmonics:
        pair = []
        for coeff in (a, b, rest if n == tp.harmonics[0][0] else sympy.S.Zero):
            num, m = (coeff, sympy.S.One)
            if coeff.free_symbols:
                num, m = coeff.as_independent(*coeff.free_symbols, as_Add=False)
            if coeff != 0 and mono is not None and m != mono:
                return TrigMinimum(None, False, "mixed parities with several amplitudes")
            if coeff != 0:
                mono = m
            pair.append(num)
        scaled.append((n, pair[0], pair[1]))
        if pair[2] != 0:
            return TrigMinimum(None, False, "a symbolic constant beside mixed harmonics")
    if mono is None:
        return TrigMinimum(c0, True, "constant")
    scale = next(abs(c) for _, a, b in scaled for c in (a, b) if c != 0)
    rational = [(n, sympy.nsimplify(a / scale), sympy.nsimplify(b / scale)) for n, a, b in scaled]
    if not all(c.is_Rational for _, a, b in rational for c in (a, b)):
        return TrigMinimum(None, False, "mixed parities with incommensurable coefficients")
    sign = 1 if mono.is_nonnegative else -1 if mono.is_nonpositive else 0
    if sign == 0:
        return TrigMinimum(None, False, "mixed parities with an amplitude of either sign")
    # min of M*scale*T1 for M >= 0 is M*scale*min T1; for M <= 0 it is -M*scale*min(-T1).
    flipped = [(n, sign * a, sign * b) for n, a, b in rational]
    lowest = _mixed_numeric_minimum(sympy.S.Zero, flipped)
    return TrigMinimum(c0 + sign * mono * scale * lowest, True, "one amplitude; half angle")


def _amplitudes(q: sympy.Expr, v: sympy.Symbol):
    """``q = c0 + sum_j M_j Q_j(v)``: ``(c0, [(M_j, Q_j)])`` with hyperparameter-free ``c0``
    and ``Q_j``; ``None`` if a coefficient is not a sum of number times monomial terms."""
    poly = sympy.Poly(q, v)
    c0 = sympy.S.Zero
    groups: dict = {}
    for (power,), coeff in poly.terms():
        for term in sympy.Add.make_args(sympy.expand(coeff)):
            num, mono = term.as_independent(*term.free_symbols, as_Add=False)
            if not mono.free_symbols:
                num, mono = term, sympy.S.One
            if not num.is_number:
                return None
            if mono == 1:
                if power == 0:
                    c0 += num
                    continue
            groups.setdefault(mono, sympy.S.Zero)
            groups[mono] += num * v**power
    return c0, [(m, sympy.expand(qj)) for m, qj in groups.items() if sympy.expand(qj) != 0]


def trig_minimum(tp: TrigPolynomial) -> TrigMinimum:
    """The minimum over ``t`` of a reduced trigonometric polynomial (see module docstring)."""
    if tp.kind == "mixed":
        return _mixed_minimum(tp)
    v, q = tp.variable, tp.polynomial
    if not (q.free_symbols - {v}):
        value, _ = polynomial_extremum(sympy.Poly(q, v))
        return TrigMinimum(value, True, "numeric polynomial")
    split = _amplitudes(q, v)
    if split is None:
        return TrigMinimum(None, False, "coefficients are not sums of amplitude monomials")
    c0, parts = split
    signs = []
    for mono, _ in parts:
        if mono.is_nonnegative:
            signs.append(1)
        elif mono.is_nonpositive:
            signs.append(-1)
        else:
            signs.append(None)
    if len(parts) == 1:
        (mono, qj), sign = parts[0], signs[0]
        lo, _ = polynomial_extremum(sympy.Poly(qj, v), sign=1)
        hi, _ = polynomial_extremum(sympy.Poly(qj, v), sign=-1)
        if sign == 1:
            return TrigMinimum(c0 + mono * lo, True, "one amplitude")
        if sign == -1:
            return TrigMinimum(c0 + mono * hi, True, "one amplitude")
        return TrigMinimum(
            sympy.Piecewise((c0 + mono * lo, mono >= 0), (c0 + mono * hi, True)),
            True,
            "one amplitude of either sign",
        )
    if None not in signs:
        # Each amplitude's own minimisers (of sign * Q_j); a common one gives a linear form.
        common = None
        for (_, qj), sign in zip(parts, signs, strict=True):
            _, args = polynomial_extremum(sympy.Poly(sign * qj, v))
            here = set(args)
            common = here if common is None else {a for a in common if a in here}
        if common:
            point = sorted(common, key=lambda a: float(sympy.N(a)))[0]
            value = c0 + sum(m * qj.subs(v, point) for m, qj in parts)
            return TrigMinimum(sympy.expand(value), True, f"common minimiser {v} = {point}")
    dq = sympy.Poly(sympy.diff(q, v), v)
    if dq.degree() <= 2:
        # Candidates: the end points and the roots of dQ/dv inside [-1, 1]. The conditions
        # are written without dividing by coefficients that vanish for some amplitudes.
        a2, a1, a0 = ([0] * (2 - dq.degree()) + dq.all_coeffs())[-3:]
        pieces = [q.subs(v, -1), q.subs(v, 1)]
        inside_linear = sympy.And(sympy.Eq(a2, 0), sympy.Ne(a1, 0), a0**2 <= a1**2)
        pieces.append(
            sympy.Piecewise((q.subs(v, -a0 / a1), inside_linear), (sympy.oo, True))
            if a1 != 0
            else sympy.oo
        )
        if a2 != 0:
            disc = a1**2 - 4 * a2 * a0
            for sgn in (1, -1):
                root = (-a1 + sgn * sympy.sqrt(disc)) / (2 * a2)
                inside = sympy.And(
                    sympy.Ne(a2, 0),
                    disc >= 0,
                    sympy.Abs(-a1 + sgn * sympy.sqrt(disc)) <= 2 * sympy.Abs(a2),
                )
                pieces.append(sympy.Piecewise((q.subs(v, root), inside), (sympy.oo, True)))
        value = sympy.Min(*pieces)
        return TrigMinimum(value, True, f"moving minimiser: end points and roots of dQ/d{v}")
    return TrigMinimum(None, False, "several amplitudes with a moving minimiser of high degree")
