"""Whitelist parser: accepts the grammar, rejects everything else with ExpressionError."""

import pytest
import sympy
from hypothesis import given, strategies as st

from trainability.analytic import (
    ALLOWED_FUNCTIONS,
    ExpressionError,
    as_expression,
    parse_expression,
    symbol,
)

x, eps, lam = symbol("x"), symbol("eps"), symbol("lam")


@pytest.mark.parametrize(
    "text, expected",
    [
        ("x**2", x**2),
        ("x**2 + eps*cos(2*pi*x/lam)", x**2 + eps * sympy.cos(2 * sympy.pi * x / lam)),
        ("-x + +x", sympy.Integer(0)),
        ("0.2*x", sympy.Rational(1, 5) * x),  # decimals become exact rationals
        ("tanh(x) + Abs(x) + abs(x) + sqrt(x**2) + exp(log(x))", None),
        ("Max(0, x)", sympy.Max(0, x)),
        ("erf(x)", sympy.erf(x)),
    ],
)
def test_accepts_whitelisted(text, expected):
    expr = parse_expression(text)
    if expected is not None:
        assert sympy.simplify(expr - expected) == 0


REJECTED = [
    "__import__('os').system('echo hi')",
    "x.__class__",
    "x.real",
    "lambda: 1",
    "(lambda y: y)(x)",
    "open('f')",
    "eval('1')",
    "exec('1')",
    "sympify('x')",
    "globals()",
    "[x for x in (1,)]",
    "x[0]",
    "'x'",
    "b'x'",
    "x if x else 1",
    "x == 1",
    "x < 1",
    "x and 1",
    "(y := 1)",
    "x ^ 2",
    "x @ x",
    "x % 2",
    "x // 2",
    "~x",
    "not x",
    "cos(x, x)",
    "cos(x=1)",
    "cos(*x)",
    "cos",
    "{x: 1}",
    "(x, x)",
    "f'{x}'",
    "x**1000",
    "10**10**10",
    "s*x",
    "1/0",
    "",
    "   ",
    "x" + "+x" * 1500,
    "sin(" * 200 + "x" + ")" * 200,
    "x; import os",
    "True*x",
    "None",
]


@pytest.mark.parametrize("text", REJECTED)
def test_rejects_everything_else(text):
    with pytest.raises(ExpressionError):
        parse_expression(text)


_ATOMS = [
    "x",
    "eps",
    "2",
    "0.5",
    "pi",
    "__class__",
    "x.real",
    "'a'",
    "lambda: 0",
    "[1]",
    "{}",
    "None",
    "True",
    "...",
    "x[0]",
    "getattr",
]
_OPS = [
    "+",
    "-",
    "*",
    "/",
    "**",
    "^",
    "%",
    "//",
    "@",
    "<",
    "==",
    " and ",
    " if x else ",
    ".",
    ",",
    ":=",
]
_FUNCS = [*ALLOWED_FUNCTIONS, "eval", "exec", "open", "__import__", "compile", "getattr", "type"]


@st.composite
def expressions(draw, depth=3):
    if depth == 0 or draw(st.booleans()):
        return draw(st.sampled_from(_ATOMS))
    kind = draw(st.integers(0, 2))
    if kind == 0:
        a, b = draw(expressions(depth=depth - 1)), draw(expressions(depth=depth - 1))
        return f"({a}{draw(st.sampled_from(_OPS))}{b})"
    if kind == 1:
        return f"{draw(st.sampled_from(_FUNCS))}({draw(expressions(depth=depth - 1))})"
    return f"-{draw(expressions(depth=depth - 1))}"


# A bare name like "getattr" is just a hyperparameter symbol; calling it is not allowed.
_FORBIDDEN_TOKENS = (
    "__",
    "'",
    ".real",
    "lambda",
    "[",
    "{",
    "None",
    "True",
    "...",
    "getattr(",
    "eval(",
    "exec(",
    "open(",
    "compile(",
    "type(",
    "^",
    "%",
    "//",
    "@",
    "<",
    "==",
    " and ",
    " if ",
    ",",
    ":=",
)


@given(expressions())
def test_parser_fuzz(text):
    """Random mixes of allowed and forbidden constructs: a text containing any forbidden
    token must be rejected; anything accepted is a SymPy expression built only from
    whitelisted functions and real symbols."""
    try:
        expr = parse_expression(text)
    except ExpressionError:
        return
    # Only accepted if every token was whitelisted (the '.' in '0.5' is a decimal point).
    stripped = text.replace("0.5", "")
    assert not any(tok in stripped for tok in _FORBIDDEN_TOKENS), text
    assert isinstance(expr, sympy.Expr)
    allowed = {type(f(x)) if not isinstance(f, type) else f for f in ALLOWED_FUNCTIONS.values()}
    for fn in expr.atoms(sympy.Function):
        assert any(isinstance(fn, a) for a in allowed), fn
    assert all(s.is_real for s in expr.free_symbols)


@given(st.text(max_size=60))
def test_parser_never_crashes(text):
    """Arbitrary text either parses or raises ExpressionError: no other exception escapes."""
    try:
        parse_expression(text)
    except ExpressionError:
        pass


def test_as_expression_routes_text_through_the_parser():
    """Text goes through the whitelist (so it is rejected the same way); SymPy objects pass
    through; floats become the same exact rationals the parser makes."""
    with pytest.raises(ExpressionError):
        as_expression("__import__('os')")
    assert as_expression(x**2) is not None and as_expression(x**2) == x**2
    assert as_expression(0.2) == parse_expression("0.2") == sympy.Rational(1, 5)
    assert as_expression(3) == 3
    for bad in (float("nan"), True, None, [1]):
        with pytest.raises(ExpressionError):
            as_expression(bad)


def test_one_naming_rule_for_landscapes_and_finite_sums():
    """Landscapes name their one variable x; finite sums index theirs (x1) in every
    dimension; both accept either spelling of a 1-D variable and rename it the same way."""
    from trainability.analytic import finite_sum, from_expression, parameter_variables

    x1, x2 = sympy.Symbol("x1", real=True), sympy.Symbol("x2", real=True)
    assert parameter_variables(1) == (x,) and parameter_variables(1, indexed=True) == (x1,)
    assert parameter_variables(3, indexed=True) == parameter_variables(3) == (x1, x2, symbol("x3"))
    assert from_expression("x1**2").variables == (x,) and from_expression("x1**2").expr == x**2
    assert from_expression("x**2", dim=2).expr == x1**2  # a 1-D x in d dimensions is x1
    fs = finite_sum(["(x - 1)**2", "(x1 + 1)**2"])
    assert fs.variables == (x1,) and fs.loss == ((x1 - 1) ** 2 + (x1 + 1) ** 2) / 2
