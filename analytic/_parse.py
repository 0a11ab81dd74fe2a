"""Whitelist parser for user-written loss expressions.

User text is parsed by :mod:`ast` (which only *reads* the text) and every node is
checked against a whitelist before a SymPy object is built from it. Nothing is ever
passed to ``eval``, ``exec`` or ``sympy.sympify``.
"""

from __future__ import annotations

import ast
import math
import numbers
import re
from collections.abc import Sequence
from typing import Any

import numpy as np
import sympy

__all__ = [
    "ALLOWED_FUNCTIONS",
    "LEARNING_RATE",
    "ExpressionError",
    "as_expression",
    "parse_expression",
    "symbol",
]

MAX_LENGTH = 2000
MAX_DEPTH = 60
MAX_EXPONENT = 64

ALLOWED_FUNCTIONS: dict[str, object] = {
    "sin": sympy.sin,
    "cos": sympy.cos,
    "tan": sympy.tan,
    "asin": sympy.asin,
    "acos": sympy.acos,
    "atan": sympy.atan,
    "sinh": sympy.sinh,
    "cosh": sympy.cosh,
    "tanh": sympy.tanh,
    "exp": sympy.exp,
    "log": sympy.log,
    "sqrt": sympy.sqrt,
    "Abs": sympy.Abs,
    "abs": sympy.Abs,
    "erf": sympy.erf,
    "Max": sympy.Max,
    "Min": sympy.Min,
}
_ARITY = {"Max": (2, 8), "Min": (2, 8)}
_CONSTANTS = {"pi": sympy.pi, "E": sympy.E}
# Names SymPy reads as special values: as hyperparameters they would silently stand for a
# symbol the user did not mean (``nan``, ``oo``, ``I`` are not numbers one can sweep).
_RESERVED = {
    "nan": "not a number",
    "NaN": "not a number",
    "oo": "infinity",
    "zoo": "complex infinity",
    "inf": "infinity",
    "Inf": "infinity",
    "infinity": "infinity",
    "Infinity": "infinity",
    "ComplexInfinity": "complex infinity",
    "I": "the imaginary unit",
    "j": "the imaginary unit",
    "EulerGamma": "a constant",
    "Catalan": "a constant",
    "GoldenRatio": "a constant",
    "TribonacciConstant": "a constant",
    "true": "a boolean",
    "false": "a boolean",
}
_IDENTIFIER = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,31}$")
_VARIABLE = re.compile(r"^x([1-9][0-9]*)?$")

#: Name of the learning-rate symbol in derived GD maps; reserved in user expressions.
LEARNING_RATE = "s"


class ExpressionError(ValueError):
    """A user expression is malformed or uses something outside the whitelist."""


def symbol(name: str) -> sympy.Symbol:
    """The one way the package makes a symbol: real-valued, so every layer agrees."""
    return sympy.Symbol(name, real=True)


def _binop(op: ast.operator, a: sympy.Expr, b: sympy.Expr) -> sympy.Expr:
    if isinstance(op, ast.Add):
        return a + b
    if isinstance(op, ast.Sub):
        return a - b
    if isinstance(op, ast.Mult):
        return a * b
    if isinstance(op, ast.Div):
        if b == 0:
            raise ExpressionError("division by zero")
        return a / b
    if isinstance(op, ast.Pow):
        # Huge numeric exponents make SymPy build enormous integers; refuse them.
        if b.is_number and (not b.is_finite or abs(complex(b)) > MAX_EXPONENT):
            raise ExpressionError(f"exponent {b} is too large (at most {MAX_EXPONENT})")
        return a**b
    if isinstance(op, ast.BitXor):
        raise ExpressionError("'^' is not a power here; write '**'")
    raise ExpressionError(f"operator {type(op).__name__} is not allowed (use + - * / **)")


def _build(node: ast.AST, depth: int) -> sympy.Expr:
    if depth > MAX_DEPTH:
        raise ExpressionError(f"expression nests deeper than {MAX_DEPTH} levels")
    if isinstance(node, ast.Expression):
        return _build(node.body, depth + 1)
    if isinstance(node, ast.BinOp):
        return _binop(node.op, _build(node.left, depth + 1), _build(node.right, depth + 1))
    if isinstance(node, ast.UnaryOp):
        operand = _build(node.operand, depth + 1)
        if isinstance(node.op, ast.USub):
            return -operand
        if isinstance(node.op, ast.UAdd):
            return operand
        raise ExpressionError(f"unary operator {type(node.op).__name__} is not allowed")
    if isinstance(node, ast.Constant):
        value = node.value
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ExpressionError(f"only numbers are allowed as constants, got {value!r}")
        if isinstance(value, float):
            # Decimal literals become exact rationals so derivations stay exact.
            text = repr(value)
            if "inf" in text or "nan" in text:
                raise ExpressionError(f"number {text} is not finite")
            return sympy.Rational(text)
        if abs(value) > 10**30:
            raise ExpressionError("integer constant is too large")
        return sympy.Integer(value)
    if isinstance(node, ast.Name):
        name = node.id
        if name in _CONSTANTS:
            return _CONSTANTS[name]
        if name in _RESERVED:
            raise ExpressionError(
                f"name '{name}' is not allowed: SymPy reads it as {_RESERVED[name]}; "
                "losses are real and finite (rename the hyperparameter)"
            )
        if name in ALLOWED_FUNCTIONS:
            raise ExpressionError(f"function '{name}' must be called with arguments")
        if not _IDENTIFIER.match(name):
            raise ExpressionError(f"name '{name}' is not allowed")
        if name == LEARNING_RATE:
            raise ExpressionError(f"name '{name}' is reserved for the learning rate")
        return symbol(name)
    if isinstance(node, ast.Call):
        if not isinstance(node.func, ast.Name):
            raise ExpressionError("only calls of named functions are allowed")
        fname = node.func.id
        if fname not in ALLOWED_FUNCTIONS:
            allowed = ", ".join(sorted(ALLOWED_FUNCTIONS))
            raise ExpressionError(f"unknown function '{fname}' (allowed: {allowed})")
        if node.keywords:
            raise ExpressionError(f"keyword arguments are not allowed in '{fname}'")
        if any(isinstance(a, ast.Starred) for a in node.args):
            raise ExpressionError("starred arguments are not allowed")
        lo, hi = _ARITY.get(fname, (1, 1))
        if not lo <= len(node.args) <= hi:
            raise ExpressionError(f"'{fname}' takes {lo} argument(s), got {len(node.args)}")
        args = [_build(a, depth + 1) for a in node.args]
        return ALLOWED_FUNCTIONS[fname](*args)
    if isinstance(node, ast.Attribute):
        raise ExpressionError("attribute access is not allowed")
    if isinstance(node, ast.Lambda):
        raise ExpressionError("lambda is not allowed")
    raise ExpressionError(f"{type(node).__name__} is not allowed in a loss expression")


def parse_expression(text: str) -> sympy.Expr:
    """Parse a loss expression through the whitelist.

    Allowed: numbers, names (parameter variables ``x`` or ``x1..xd``, hyperparameters,
    ``pi``, ``E``), ``+ - * / **``, parentheses and calls of the functions in
    :data:`ALLOWED_FUNCTIONS`. Anything else raises :class:`ExpressionError`.

    >>> parse_expression("x**2 + eps*cos(2*pi*x/lam)")
    eps*cos(2*pi*x/lam) + x**2
    """
    if not isinstance(text, str):
        raise ExpressionError("expression must be a string")
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"expression is longer than {MAX_LENGTH} characters")
    if not text.strip():
        raise ExpressionError("expression is empty")
    if "__" in text:
        raise ExpressionError("dunder names are not allowed")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        raise ExpressionError(f"malformed expression: {exc.msg}") from None
    except (ValueError, MemoryError, RecursionError):
        raise ExpressionError("malformed expression") from None
    try:
        expr = _build(tree, 0)
    except RecursionError:
        raise ExpressionError(f"expression nests deeper than {MAX_DEPTH} levels") from None
    if not isinstance(expr, sympy.Expr):
        raise ExpressionError("expression does not evaluate to a scalar")
    if expr.has(sympy.zoo, sympy.nan, sympy.oo, -sympy.oo):
        raise ExpressionError("expression is not finite")
    return expr


def as_expression(obj: str | sympy.Basic | float | np.number[Any]) -> sympy.Expr:
    """A SymPy expression from text (through the whitelist parser), a SymPy object or a number.

    The one conversion entry point: text is never handed to ``sympify``; numbers are made
    exact the same way the parser makes them.

    >>> as_expression("x**2"), as_expression(0.5), as_expression(2)
    (x**2, 1/2, 2)
    """
    if isinstance(obj, str):
        return parse_expression(obj)
    if isinstance(obj, sympy.Basic):
        return obj
    if isinstance(obj, bool | np.bool_):
        raise ExpressionError(f"expected an expression or a number, got {obj!r}")
    if isinstance(obj, numbers.Integral):  # int and NumPy integers
        return sympy.Integer(int(obj))
    if isinstance(obj, numbers.Real):  # float and NumPy floats
        value = float(obj)
        if not math.isfinite(value):
            raise ExpressionError(f"number {value} is not finite")
        return sympy.Rational(repr(value))
    raise ExpressionError(f"expected an expression or a number, got {type(obj).__name__}")


def split_symbols(expr: sympy.Expr) -> tuple[list[sympy.Symbol], list[sympy.Symbol]]:
    """Split the free symbols of ``expr`` into parameter variables and hyperparameters.

    Variables are ``x`` (1-D) or ``x1..xd``; mixing the two is an error.
    """
    variables, hyper = [], []
    for sym in expr.free_symbols:
        (variables if _VARIABLE.match(sym.name) else hyper).append(sym)
    names = {v.name for v in variables}
    if "x" in names and len(names) > 1:
        raise ExpressionError("use either 'x' or 'x1..xd' for the parameter variables, not both")
    variables.sort(key=lambda v: 0 if v.name == "x" else int(v.name[1:]))
    hyper.sort(key=lambda h: h.name)
    return variables, hyper


def parameter_variables(dim: int, indexed: bool = False) -> tuple[sympy.Symbol, ...]:
    """The parameter variables of a ``dim``-dimensional loss, the one naming rule.

    ``(x,)`` in one dimension and ``(x1, ..., xd)`` otherwise; ``indexed=True`` gives
    ``(x1, ..., xd)`` in every dimension (the pieces of a finite sum are indexed by coordinate).

    >>> parameter_variables(1), parameter_variables(1, indexed=True), parameter_variables(2)
    ((x,), (x1,), (x1, x2))
    """
    if dim == 1 and not indexed:
        return (symbol("x"),)
    return tuple(symbol(f"x{i}") for i in range(1, dim + 1))


def with_variables(expr: sympy.Expr, xs: Sequence[sympy.Symbol]) -> sympy.Expr:
    """``expr`` written in the variables ``xs``: a 1-D ``x`` becomes ``x1`` (or ``x1`` alone
    becomes ``x``) when ``xs`` names the first variable the other way."""
    first = xs[0].name
    other = symbol("x1" if first == "x" else "x")
    return expr.xreplace({other: xs[0]}) if first in ("x", "x1") else expr
