r"""Activation functions and the constants of the large-stepsize theory (Cai et al. 2024).

An activation is a SymPy expression ``phi(z)`` in the *pre-activation variable* ``z``.
User text is parsed through the whitelist parser :func:`~trainability.analytic.parse_expression`;
the variable must be written ``z`` (``x`` is accepted as an alias when ``z`` does not occur).
Every other name is a hyperparameter of the activation (for example ``c`` in
:math:`c z + (1 - c) \log(1 + e^z)`) and needs a value before constants can be computed.

The three conditions of the theory and their constants:

- bounded derivative: :math:`c \le \phi'(z) \le 1`; ``c = inf phi'`` and ``sup phi'``;
- near-homogeneity: ``|phi(z) - z phi'(z)| <= kappa``, :math:`\kappa = \sup |\phi - z \phi'|`;
- smoothness: :math:`|\phi''(z)| \le \beta`, ``beta = sup |phi''|``.

Constants are exact closed forms for the built-in activations (checked in the tests against
the numeric route) and *certified-numeric* otherwise: interval arithmetic (``mpmath.iv``)
with branch and bound encloses the supremum over ``[-R, R]``, and the limits at ``+-oo``
cover the tails (50-digit evaluation far out when it has converged, SymPy's symbolic limit
otherwise). When an expression uses a function that ``mpmath.iv``
cannot evaluate, a dense grid with local refinement is used instead and the constant is
marked ``"numeric"`` (not certified).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import sympy

from ._parse import ExpressionError, as_expression, parse_expression, symbol

__all__ = [
    "ACTIVATIONS",
    "ACTIVATION_VARIABLE",
    "Activation",
    "ActivationConstants",
    "Bound",
    "activation",
    "activation_constants",
]

#: Name of the pre-activation variable in activation expressions.
ACTIVATION_VARIABLE = "z"
Z = symbol(ACTIVATION_VARIABLE)
_C = symbol("c")

# Radius of the certified interval search and the enclosure tolerance.
_RADIUS = 40.0
_TOL = 1e-9
_MAX_BOXES = 400


@dataclass(frozen=True)
class Bound:
    """A supremum or infimum of a function of ``z`` over the real line.

    Attributes:
        value: the value as a float (``inf`` when unbounded).
        enclosure: ``(lo, hi)`` containing the true value (equal for exact values).
        method: ``"exact"`` (closed form), ``"interval"`` (certified on ``[-R, R]`` by
            interval arithmetic to relative width 1e-6, tails by symbolic limits),
            ``"interval-loose"`` (the enclosure is rigorous on ``[-R, R]`` but wider; the value
            is the best point found, typically a supremum approached only at infinity) or
            ``"numeric"`` (grid with local refinement, not certified).
        closed_form: the closed form as a SymPy expression, when known.
    """

    value: float
    enclosure: tuple[float, float]
    method: str
    closed_form: sympy.Expr | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "value": self.value,
            "enclosure": list(self.enclosure),
            "method": self.method,
            "closed_form": None if self.closed_form is None else str(self.closed_form),
        }


@dataclass(frozen=True)
class ActivationConstants:
    r"""The constants of the three activation conditions and whether each holds.

    Attributes:
        name: activation name.
        c: ``inf phi'`` (the lower derivative bound; the first phase provably ends when > 0).
        derivative_sup: ``sup phi'`` (must be <= 1).
        kappa: ``sup |phi(z) - z phi'(z)|`` (near-homogeneity).
        beta: ``sup |phi''(z)|`` (smoothness).
        bounded_derivative: ``0 < c`` and :math:`\sup \phi' \le 1` (decided on the values, with
            a 1e-9 tolerance; see each constant's ``enclosure`` and ``method``).
        near_homogeneous: ``kappa`` finite.
        smooth: ``beta`` finite.
    """

    name: str
    c: Bound
    derivative_sup: Bound
    kappa: Bound
    beta: Bound
    bounded_derivative: bool
    near_homogeneous: bool
    smooth: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "c": self.c.to_dict(),
            "derivative_sup": self.derivative_sup.to_dict(),
            "kappa": self.kappa.to_dict(),
            "beta": self.beta.to_dict(),
            "bounded_derivative": self.bounded_derivative,
            "near_homogeneous": self.near_homogeneous,
            "smooth": self.smooth,
        }


@dataclass(frozen=True)
class Activation:
    """An activation ``phi(z)`` with hyperparameter values.

    Attributes:
        expr: ``phi`` as a SymPy expression in :data:`ACTIVATION_VARIABLE` and parameters.
        values: hyperparameter values, as ``((name, value), ...)``.
        name: built-in name or ``"expression"``.
        closed_forms: exact constants (``c``, ``derivative_sup``, ``kappa``, ``beta``) as
            SymPy expressions in the hyperparameters, when known.
    """

    expr: sympy.Expr
    values: tuple[tuple[str, float], ...] = ()
    name: str = "expression"
    closed_forms: tuple[tuple[str, sympy.Expr], ...] = ()
    _cache: dict[str, Any] = field(default_factory=dict, compare=False, hash=False, repr=False)

    @property
    def parameters(self) -> tuple[sympy.Symbol, ...]:
        return tuple(sorted(self.expr.free_symbols - {Z}, key=lambda s: s.name))

    def substituted(self) -> sympy.Expr:
        """``phi`` with every hyperparameter replaced by its (exact rational) value."""
        values = dict(self.values)
        missing = [p.name for p in self.parameters if p.name not in values]
        if missing:
            raise ValueError(f"activation parameter(s) without a value: {', '.join(missing)}")
        subs = {p: as_expression(values[p.name]) for p in self.parameters}
        return self.expr.subs(subs)

    def derivative(self, order: int = 1) -> sympy.Expr:
        r""":math:`d^{\text{order}} \phi / dz^{\text{order}}` (symbolic, hyperparameters kept)."""
        return sympy.diff(self.expr, Z, order)

    def homogeneity_defect(self) -> sympy.Expr:
        """``phi(z) - z phi'(z)``, whose sup-norm is ``kappa``."""
        return sympy.simplify(self.expr - Z * self.derivative())

    def constants(self) -> ActivationConstants:
        """The constants of the three conditions (see the module docstring)."""
        if "constants" not in self._cache:
            self._cache["constants"] = activation_constants(self)
        return self._cache["constants"]

    def kernels(self, backend: str = "jax") -> tuple[Callable[[Any], Any], Callable[[Any], Any]]:
        """``(phi, dphi)`` as elementwise callables for ``"jax"`` or ``"numpy"`` arrays.

        The derivative is symbolic (not ``jax.grad``), so Piecewise-free kernels stay NaN-free.
        """
        if backend not in ("jax", "numpy"):
            raise ValueError(f"backend must be 'jax' or 'numpy', got {backend!r}")
        key = f"kernels-{backend}"
        if key not in self._cache:
            phi = self.substituted()
            dphi = _stabilize(sympy.diff(phi, Z))
            phi = _stabilize(phi)
            if backend == "jax":
                import jax

                jax.config.update("jax_enable_x64", True)
                import jax.numpy as jnp
                import jax.scipy.special as jsp

                modules = [
                    {
                        "erf": jsp.erf,
                        "softplus": lambda u: jnp.logaddexp(0.0, u),
                        "sigmoid": jax.nn.sigmoid,
                    },
                    "jax",
                ]
            else:
                import numpy as np
                import scipy.special

                modules = [
                    {
                        "erf": scipy.special.erf,
                        "softplus": lambda u: np.logaddexp(0.0, u),
                        "sigmoid": scipy.special.expit,
                    },
                    "numpy",
                ]
            f = sympy.lambdify([Z], phi, modules=modules)
            g = sympy.lambdify([Z], dphi, modules=modules)

            def _broadcast(fn):
                def call(z):
                    return fn(z) + 0.0 * z  # constants (linear') get the input's shape

                return call

            self._cache[key] = (_broadcast(f), _broadcast(g))
        return self._cache[key]


_SOFTPLUS = sympy.Function("softplus")
_SIGMOID = sympy.Function("sigmoid")


def _stabilize(expr: sympy.Expr) -> sympy.Expr:
    """Rewrite overflow-prone pieces for floating point: ``log(1 + exp(u))`` -> softplus(u),
    ``(1 + exp(u))**-k`` -> ``sigmoid(-u)**k`` and ``exp(u) sigmoid(-u)`` -> ``sigmoid(u)``.

    The result is mathematically equal; only the kernels (not the derivations) use it.
    """
    u = sympy.Wild("u")
    k = sympy.Wild("k")
    expr = expr.replace(sympy.log(1 + sympy.exp(u)), lambda u: _SOFTPLUS(u))

    def inverse_power(u, k):
        return _SIGMOID(-u) ** (-k) if k.is_negative else (1 + sympy.exp(u)) ** k

    expr = expr.replace((1 + sympy.exp(u)) ** k, inverse_power)

    def merge(e):
        if not isinstance(e, sympy.Mul):
            return e
        factors = list(e.args)
        for i, f in enumerate(factors):
            if isinstance(f, sympy.exp):
                arg = f.args[0]
                for j, g in enumerate(factors):
                    base, power = g.as_base_exp()
                    if (
                        j != i
                        and isinstance(base, _SIGMOID)
                        and base.args[0] == -arg
                        and power.is_positive
                    ):
                        rest = [h for n_, h in enumerate(factors) if n_ not in (i, j)]
                        return sympy.Mul(*rest, _SIGMOID(arg), base ** (power - 1))
        return e

    for _ in range(4):
        new = expr.replace(lambda e: isinstance(e, sympy.Mul), merge)
        if new == expr:
            break
        expr = new
    return expr


# --- built-in activations --------------------------------------------------------------

_LN2 = sympy.log(2)
_SQ2PI = sympy.sqrt(2 * sympy.pi)


def _softplus(z):
    return sympy.log(1 + sympy.exp(z))


def _gelu():
    return Z * (1 + sympy.erf(Z / sympy.sqrt(2))) / 2


_BUILTINS = {
    # phi, parameter domain check, closed forms (c, derivative_sup, kappa, beta)
    "leaky_softplus": (
        _C * Z + (1 - _C) * _softplus(Z),
        {"c": (0.0, 1.0)},
        {
            "c": _C,
            "derivative_sup": sympy.Integer(1),
            "kappa": (1 - _C) * _LN2,
            "beta": (1 - _C) / 4,
        },
    ),
    "softplus": (
        _softplus(Z),
        {},
        {
            "c": sympy.Integer(0),
            "derivative_sup": sympy.Integer(1),
            "kappa": _LN2,
            "beta": sympy.Rational(1, 4),
        },
    ),
    "linear": (
        Z,
        {},
        {
            "c": sympy.Integer(1),
            "derivative_sup": sympy.Integer(1),
            "kappa": sympy.Integer(0),
            "beta": sympy.Integer(0),
        },
    ),
    "tanh": (
        sympy.tanh(Z),
        {},
        # phi' = sech^2 in (0, 1]; phi - z phi' -> +-1 as z -> +-oo; |phi''| max at tanh = 1/sqrt3.
        {
            "c": sympy.Integer(0),
            "derivative_sup": sympy.Integer(1),
            "kappa": sympy.Integer(1),
            "beta": 4 / (3 * sympy.sqrt(3)),
        },
    ),
    "gelu": (
        _gelu(),
        {},
        # kappa = sup z^2 N(z) at z^2 = 2; beta = |phi''(0)| = 2 N(0); c, sup phi' at z^2 = 2.
        {
            "c": (1 + sympy.erf(-1)) / 2 - sympy.sqrt(2) * sympy.exp(-1) / _SQ2PI,
            "derivative_sup": (1 + sympy.erf(1)) / 2 + sympy.sqrt(2) * sympy.exp(-1) / _SQ2PI,
            "kappa": 2 * sympy.exp(-1) / _SQ2PI,
            "beta": 2 / _SQ2PI,
        },
    ),
    "silu": (
        Z / (1 + sympy.exp(-Z)),
        {},
        # Extremes of phi' and of z^2 s(1-s) solve transcendental equations: certified
        # numerics; beta = |phi''(0)| = 1/2 exactly.
        {"beta": sympy.Rational(1, 2)},
    ),
}

#: Names of the built-in activations.
ACTIVATIONS = tuple(_BUILTINS)


def activation(spec: str | sympy.Expr, **values: float) -> Activation:
    """An activation by built-in name or expression, with hyperparameter values.

    Args:
        spec: a built-in name (:data:`ACTIVATIONS`: ``leaky_softplus`` with parameter ``c``
            in ``[0, 1]``, ``softplus``, ``gelu``, ``silu``, ``tanh``, ``linear``), user text
            in ``z`` parsed by the whitelist parser, or a SymPy expression in ``z``.
        **values: hyperparameter values, e.g. ``c=0.5``.

    >>> activation("leaky_softplus", c=0.5).constants().kappa.value  # (1 - c) ln 2
    0.34657359027997264
    """
    key = (spec, tuple(sorted(values.items()))) if isinstance(spec, str) else None
    if key is not None and key in _MEMO:
        return _MEMO[key]  # same object: its compiled kernels are reused
    if isinstance(spec, str) and spec in _BUILTINS:
        expr, domains, closed = _BUILTINS[spec]
        name = spec
        for pname, (lo, hi) in domains.items():
            if pname in values and not lo <= values[pname] <= hi:
                raise ValueError(f"{spec}: parameter {pname} must be in [{lo}, {hi}]")
    elif isinstance(spec, str):
        expr = parse_expression(spec)
        names = {s.name for s in expr.free_symbols}
        if ACTIVATION_VARIABLE not in names and "x" in names:
            expr = expr.subs(symbol("x"), Z)
        elif ACTIVATION_VARIABLE not in names:
            raise ExpressionError(
                f"an activation must be written in the variable '{ACTIVATION_VARIABLE}'"
            )
        name, closed = "expression", {}
    elif isinstance(spec, sympy.Expr):
        if Z not in spec.free_symbols:
            raise ExpressionError(f"an activation must depend on '{ACTIVATION_VARIABLE}'")
        expr, name, closed = spec, "expression", {}
    else:
        raise ValueError(f"activation must be a name, text or SymPy expression, got {spec!r}")
    params = {s.name for s in expr.free_symbols} - {ACTIVATION_VARIABLE}
    unknown = set(values) - params
    if unknown:
        raise ValueError(f"unknown activation parameter(s): {', '.join(sorted(unknown))}")
    for k, v in values.items():
        if not math.isfinite(float(v)):
            raise ValueError(f"activation parameter {k} must be finite")
    vals = tuple(sorted((k, float(v)) for k, v in values.items()))
    act = Activation(expr, vals, name, tuple(closed.items()))
    if key is not None and len(_MEMO) < 256:
        _MEMO[key] = act
    return act


_MEMO: dict[str, Any] = {}


# --- suprema over the real line ------------------------------------------------------

_IV_FUNCTIONS = {"exp", "log", "sqrt", "sin", "cos"}


def _iv_lambdify(expr: sympy.Expr):
    import mpmath

    rewritten = expr.rewrite(sympy.exp)
    funcs = {type(f).__name__ for f in rewritten.atoms(sympy.Function)}
    if not funcs <= _IV_FUNCTIONS or rewritten.has(sympy.Abs, sympy.Piecewise, sympy.Max):
        return None
    table = {n: getattr(mpmath.iv, n) for n in _IV_FUNCTIONS}
    table.update(mpf=mpmath.iv.mpf, pi=mpmath.iv.pi, e=mpmath.iv.e)
    return sympy.lambdify([Z], rewritten, modules=[table, "mpmath"])


def _iv_callable(expr: sympy.Expr):
    """Upper/lower interval enclosure of ``expr`` over ``[lo, hi]``, or None if unsupported.

    The enclosure is the intersection of the natural interval extension and the mean-value
    form ``f(m) + f'([lo, hi]) ([lo, hi] - m)``, which is tight where ``f`` is flat (tails).
    """
    import mpmath

    fn, dfn = _iv_lambdify(expr), _iv_lambdify(sympy.diff(expr, Z))
    if fn is None or dfn is None:
        return None
    ivtype = type(mpmath.iv.mpf(0))

    def ev(f, x):
        out = f(x)
        return out if isinstance(out, ivtype) else mpmath.iv.mpf(out)

    def call(lo: float, hi: float):
        box = mpmath.iv.mpf([lo, hi])
        natural = ev(fn, box)
        if lo == hi:
            return natural
        mid = mpmath.iv.mpf(0.5 * (lo + hi))
        mv = ev(fn, mid) + ev(dfn, box) * (box - mid)
        return mpmath.iv.mpf([max(natural.a, mv.a), min(natural.b, mv.b)])

    try:
        call(-1.0, 1.0)
    except Exception:  # noqa: BLE001 - mpmath.iv lacks some special functions
        return None
    return call


def _tail_limits(expr: sympy.Expr) -> list[float]:
    """Values of ``expr`` at ``z -> +-oo``.

    Fast path: 50-digit evaluations at ``|z| = 1e6`` and ``1e9`` that agree to 1e-12 are
    taken as the limit; otherwise SymPy's symbolic limit (Gruntz) decides, which also
    reports unbounded tails as ``+-inf``.
    """
    import mpmath

    f = sympy.lambdify([Z], expr, "mpmath")
    out = []
    for sign, end in ((1, sympy.oo), (-1, -sympy.oo)):
        try:
            with mpmath.workdps(50):
                near, far = f(mpmath.mpf(sign * 10**6)), f(mpmath.mpf(sign * 10**9))
            if mpmath.isfinite(near) and mpmath.isfinite(far) and abs(far - near) < 1e-12:
                out.append(float(far))
                continue
        except (ValueError, ZeroDivisionError, OverflowError, TypeError):
            pass
        try:
            lim = sympy.limit(expr, Z, end)
        except Exception:  # noqa: BLE001 - SymPy raises many types on hard limits
            lim = None
        if lim is None or lim.has(sympy.AccumBounds) or not lim.is_extended_real:
            with mpmath.workdps(50):
                out.extend(float(f(mpmath.mpf(sign * s))) for s in (10**3, 10**5))
        else:
            out.append(float(lim))
    return out


def _grid_sup(expr: sympy.Expr) -> float:
    import numpy as np
    import scipy.special

    f = sympy.lambdify([Z], expr, [{"erf": scipy.special.erf}, "numpy"])
    grid = np.concatenate(
        [
            np.linspace(-_RADIUS, _RADIUS, 200001),
            np.geomspace(_RADIUS, 1e6, 2000),
            -np.geomspace(_RADIUS, 1e6, 2000),
        ]
    )
    with np.errstate(all="ignore"):
        vals = np.asarray(f(grid), dtype=float) + 0.0 * grid
    vals = np.where(np.isfinite(vals), vals, -np.inf)
    i = int(np.argmax(vals))
    best = float(vals[i])
    # local refinement with a bounded scalar search around the best grid point
    from scipy.optimize import minimize_scalar

    h = grid[1] - grid[0]
    res = minimize_scalar(
        lambda t: -float(f(t)),
        bounds=(grid[i] - h, grid[i] + h),
        method="bounded",
        options={"xatol": 1e-13},
    )
    return max(best, -float(res.fun))


def _polish(expr: sympy.Expr, z0: float) -> float | None:
    from scipy.optimize import minimize_scalar

    f = sympy.lambdify([Z], expr, "math")

    def neg(t):
        try:
            return -float(f(t))
        except (OverflowError, ValueError, ZeroDivisionError):
            return math.inf

    res = minimize_scalar(
        neg, bounds=(z0 - 1.0, z0 + 1.0), method="bounded", options={"xatol": 1e-12}
    )
    return float(res.x) if math.isfinite(res.fun) else None


def _sup(expr: sympy.Expr) -> Bound:
    """Supremum of ``expr(z)`` over the real line (see the module docstring)."""
    if Z not in expr.free_symbols:
        v = float(expr)
        return Bound(v, (v, v), "exact", expr)
    tails = _tail_limits(expr)
    if any(math.isinf(t) and t > 0 for t in tails):
        return Bound(math.inf, (math.inf, math.inf), "interval")
    tail = max(tails)
    iv = _iv_callable(expr)
    if iv is None:
        v = max(_grid_sup(expr), tail)
        return Bound(v, (v, v), "numeric")
    # Branch and bound on [-R, R]: boxes with an upper bound above the best point value.
    # Point values are rigorous lower bounds (``.a`` of a thin interval).
    lo_best, z_best = float(iv(0.0, 0.0).a), 0.0
    boxes = [(-_RADIUS, _RADIUS, float(iv(-_RADIUS, _RADIUS).b))]
    evaluated = 0
    while boxes and evaluated < _MAX_BOXES:
        boxes.sort(key=lambda b: -b[2])
        a, b, ub = boxes.pop(0)
        if ub <= max(lo_best, tail) + _TOL:
            boxes.insert(0, (a, b, ub))
            break
        mid = 0.5 * (a + b)
        v = float(iv(mid, mid).a)
        if v > lo_best:
            lo_best, z_best = v, mid
        for aa, bb in ((a, mid), (mid, b)):
            u = float(iv(aa, bb).b)
            evaluated += 1
            if u > max(lo_best, tail) + _TOL:
                boxes.append((aa, bb, u))
    # Polish the best point with a local float search, then re-evaluate it rigorously.
    z_star = _polish(expr, z_best)
    if z_star is not None:
        lo_best = max(lo_best, float(iv(z_star, z_star).a))
    lo_best = max(lo_best, tail)
    hi = max([lo_best] + [b[2] for b in boxes])
    tight = hi - lo_best <= 1e-6 * max(1.0, abs(lo_best))
    method = "interval" if tight else "interval-loose"
    return Bound(lo_best, (lo_best, hi), method)


def _neg(b: Bound) -> Bound:
    closed = None if b.closed_form is None else -b.closed_form
    return Bound(-b.value, (-b.enclosure[1], -b.enclosure[0]), b.method, closed)


def _abs_sup(expr: sympy.Expr) -> Bound:
    up, down = _sup(expr), _sup(-expr)
    return up if up.value >= down.value else down


def _exact(closed: sympy.Expr, subs: dict[str, Any]) -> Bound:
    e = sympy.simplify(closed.subs(subs))
    v = float(e)
    return Bound(v, (v, v), "exact", e)


def activation_constants(act: Activation | str, **values: float) -> ActivationConstants:
    """Constants ``c, sup phi', kappa, beta`` of an activation and which conditions hold.

    Args:
        act: an :class:`Activation`, or a name/text passed to :func:`activation`.
        **values: hyperparameter values when ``act`` is a name or text.

    Returns:
        :class:`ActivationConstants`; exact closed forms where known, otherwise certified
        interval enclosures (or, for functions outside ``mpmath.iv``, grid numerics).
    """
    if not isinstance(act, Activation):
        act = activation(act, **values)
    phi = act.substituted()
    values_ = dict(act.values)
    subs = {p: as_expression(values_[p.name]) for p in act.parameters}
    closed = dict(act.closed_forms)
    d1 = sympy.diff(phi, Z)
    d2 = sympy.diff(phi, Z, 2)
    defect = phi - Z * d1
    c = _exact(closed["c"], subs) if "c" in closed else _neg(_sup(-d1))
    dsup = _exact(closed["derivative_sup"], subs) if "derivative_sup" in closed else _sup(d1)
    kappa = _exact(closed["kappa"], subs) if "kappa" in closed else _abs_sup(defect)
    beta = _exact(closed["beta"], subs) if "beta" in closed else _abs_sup(d2)
    tol = 1e-9
    return ActivationConstants(
        name=act.name,
        c=c,
        derivative_sup=dsup,
        kappa=kappa,
        beta=beta,
        bounded_derivative=bool(c.value > tol and dsup.value <= 1 + tol),
        near_homogeneous=bool(math.isfinite(kappa.value)),
        smooth=bool(math.isfinite(beta.value)),
    )
