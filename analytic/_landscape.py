"""Landscapes: a loss expression, its parameter variables and named hyperparameters."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import sympy

from ._parse import (
    ExpressionError,
    parameter_variables,
    parse_expression,
    split_symbols,
    symbol,
    with_variables,
)

__all__ = ["Landscape", "family", "FAMILIES", "from_expression"]

# Hyperparameter domains: a value outside raises a clear error.
_DOMAINS = {"positive": (lambda v: v > 0, "> 0"), "nonnegative": (lambda v: v >= 0, ">= 0")}


@dataclass(frozen=True)
class Landscape:
    """A loss ``f(x; p)`` with parameter variables ``x`` and hyperparameters ``p``.

    Attributes:
        expr: the loss as a SymPy expression.
        variables: the parameter variables ``(x,)`` or ``(x1, ..., xd)``.
        hyperparameters: the named hyperparameter symbols, sorted by name.
        values: hyperparameter values, by name (may be partial).
        domains: ``{name: "positive" | "nonnegative"}`` constraints on hyperparameters.
        name: family name, or ``"expression"`` for user input.
    """

    expr: sympy.Expr
    variables: tuple[sympy.Symbol, ...]
    hyperparameters: tuple[sympy.Symbol, ...]
    values: tuple[tuple[str, float], ...] = ()
    domains: tuple[tuple[str, str], ...] = ()
    name: str = "expression"

    @property
    def dim(self) -> int:
        return len(self.variables)

    @property
    def parameter_names(self) -> tuple[str, ...]:
        return tuple(h.name for h in self.hyperparameters)

    @property
    def value_dict(self) -> dict[str, float]:
        return dict(self.values)

    def with_values(self, values: Mapping[str, float] | None = None, **kw: float) -> Landscape:
        """Return a copy with hyperparameter values set (checked against domains)."""
        merged = {**self.value_dict, **(values or {}), **kw}
        unknown = set(merged) - set(self.parameter_names)
        if unknown:
            names = ", ".join(self.parameter_names) or "none"
            raise ExpressionError(
                f"unknown parameter(s) {', '.join(sorted(unknown))} (this loss has: {names})"
            )
        domains = dict(self.domains)
        for name, value in merged.items():
            value = float(value)
            if not math.isfinite(value):
                raise ExpressionError(f"parameter {name} must be finite, got {value}")
            if name in domains:
                ok, text = _DOMAINS[domains[name]]
                if not ok(value):
                    raise ExpressionError(f"parameter {name} must be {text}, got {value:g}")
            merged[name] = value
        ordered = tuple((n, merged[n]) for n in self.parameter_names if n in merged)
        return Landscape(
            self.expr, self.variables, self.hyperparameters, ordered, self.domains, self.name
        )

    def parameter_values(self) -> tuple[float, ...]:
        """Values of all hyperparameters in order; raises if any is missing."""
        values = self.value_dict
        missing = [n for n in self.parameter_names if n not in values]
        if missing:
            raise ExpressionError(f"missing value for parameter(s): {', '.join(missing)}")
        return tuple(values[n] for n in self.parameter_names)

    def substituted(self) -> sympy.Expr:
        """The loss with every hyperparameter that has a value replaced by it."""
        values = self.value_dict
        return self.expr.subs(
            {h: sympy.Float(values[h.name]) for h in self.hyperparameters if h.name in values}
        )

    def assumed(self) -> tuple[sympy.Expr, dict[sympy.Symbol, sympy.Symbol]]:
        r"""The expression with hyperparameters replaced by symbols carrying their domains.

        Useful for derivations that need :math:`\lambda > 0` or :math:`\epsilon \ge 0` to simplify.
        Returns the new expression and the map from new symbols back to the originals.
        """
        domains = dict(self.domains)
        forward, back = {}, {}
        for h in self.hyperparameters:
            kind = domains.get(h.name)
            if kind == "positive":
                new = sympy.Symbol(h.name, positive=True)
            elif kind == "nonnegative":
                new = sympy.Symbol(h.name, nonnegative=True)
            else:
                continue
            forward[h], back[new] = new, h
        return self.expr.xreplace(forward), back


def from_expression(
    text: str, values: Mapping[str, float] | None = None, dim: int | None = None
) -> Landscape:
    """Build a :class:`Landscape` from user text through the whitelist parser.

    ``dim`` may raise the dimension above the highest ``x<i>`` used in the text.

    >>> from_expression("x**2 + eps*cos(2*pi*x/lam)").parameter_names
    ('eps', 'lam')
    """
    expr = parse_expression(text)
    variables, hyper = split_symbols(expr)
    if not variables and dim is None:
        raise ExpressionError("expression has no parameter variable (use x, or x1..xd)")
    used = 1 if not variables or variables[0].name == "x" else int(variables[-1].name[1:])
    d = used if dim is None else int(dim)
    if d < used:
        raise ExpressionError(f"dimension {d} is smaller than the highest variable index {used}")
    if d < 1 or d > 4096:
        raise ExpressionError(f"dimension must be between 1 and 4096, got {d}")
    xs = parameter_variables(d)
    # A 1-D x asked for in d dimensions is x1; x1 alone in one dimension is x (the fuzzer
    # found x1 left as neither variable nor hyperparameter).
    land = Landscape(with_variables(expr, xs), xs, tuple(hyper), name="expression")
    return land.with_values(values or {})


def _additive(d: int):
    eps, lam = symbol("eps"), symbol("lam")
    xs = parameter_variables(d)
    expr = sum(x**2 + eps * sympy.cos(2 * sympy.pi * x / lam) for x in xs)
    return expr, xs, (eps, lam), {}


def _multiplicative(d: int):
    eps, lam = symbol("eps"), symbol("lam")
    xs = parameter_variables(d)
    # Cosines are summed, not averaged (reference: multiplicative, d dims).
    expr = sum(x**2 for x in xs) * (1 + eps * sum(sympy.cos(2 * sympy.pi * x / lam) for x in xs))
    return expr, xs, (eps, lam), {}


def _quadratic(d: int):
    xs = parameter_variables(d)
    return sum(x**2 for x in xs), xs, (), {}


def _two_cosine(d: int):
    if d != 1:
        raise ExpressionError("family 'two-cosine' is one-dimensional")
    e1, e2, l1, l2 = symbol("eps1"), symbol("eps2"), symbol("lam1"), symbol("lam2")
    x = symbol("x")
    two_pi = 2 * sympy.pi
    expr = x**2 + e1 * sympy.cos(two_pi * x / l1) + e2 * sympy.cos(two_pi * x / l2)
    return expr, (x,), (e1, e2, l1, l2), {"lam1": 0.3, "lam2": 0.5}


FAMILIES = {
    "quadratic": _quadratic,
    "additive": _additive,
    "multiplicative": _multiplicative,
    "two-cosine": _two_cosine,
}
_FAMILY_DOMAINS = {
    "eps": "nonnegative",
    "eps1": "nonnegative",
    "eps2": "nonnegative",
    "lam": "positive",
    "lam1": "positive",
    "lam2": "positive",
}


def family(name: str, dim: int = 1, **values: float) -> Landscape:
    """A built-in loss family of the fractal-boundary papers (Liu 2024).

    ``quadratic``: sum x_i^2; ``additive``: sum [x_i^2 + eps cos(2 pi x_i / lam)];
    ``multiplicative``: (sum x_i^2)(1 + eps sum cos(2 pi x_i / lam));
    ``two-cosine``: x^2 + eps1 cos(2 pi x/lam1) + eps2 cos(2 pi x/lam2), lam1 = 0.3, lam2 = 0.5.

    >>> family("additive", eps=0.2, lam=0.1).expr
    eps*cos(2*pi*x/lam) + x**2
    """
    if name not in FAMILIES:
        raise ExpressionError(f"unknown family '{name}' (choose from: {', '.join(FAMILIES)})")
    if not isinstance(dim, int) or dim < 1 or dim > 4096:
        raise ExpressionError(f"dimension must be an integer between 1 and 4096, got {dim}")
    expr, xs, hyper, defaults = FAMILIES[name](dim)
    domains = tuple((h.name, _FAMILY_DOMAINS[h.name]) for h in hyper)
    land = Landscape(expr, xs, hyper, (), domains, name)
    return land.with_values({**defaults, **values})
