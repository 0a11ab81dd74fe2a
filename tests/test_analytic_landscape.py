"""Landscapes and built-in families against the formulas of the reference file."""

import pytest
import sympy

from trainability.analytic import ExpressionError, family, from_expression, symbol

x, eps, lam = symbol("x"), symbol("eps"), symbol("lam")
TWO_PI = 2 * sympy.pi


def test_families_match_reference_formulas():
    assert family("quadratic").expr == x**2
    assert sympy.simplify(family("additive").expr - (x**2 + eps * sympy.cos(TWO_PI * x / lam))) == 0
    mult = family("multiplicative").expr
    assert sympy.simplify(mult - x**2 * (1 + eps * sympy.cos(TWO_PI * x / lam))) == 0
    two = family("two-cosine")
    assert two.value_dict == {"lam1": 0.3, "lam2": 0.5}
    assert two.parameter_names == ("eps1", "eps2", "lam1", "lam2")


def test_d_dimensional_families():
    xs = [symbol(f"x{i}") for i in (1, 2, 3)]
    add = family("additive", dim=3)
    expected = sum(v**2 + eps * sympy.cos(TWO_PI * v / lam) for v in xs)
    assert sympy.simplify(add.expr - expected) == 0
    mult = family("multiplicative", dim=3)
    # Cosines summed, not averaged.
    expected = sum(v**2 for v in xs) * (1 + eps * sum(sympy.cos(TWO_PI * v / lam) for v in xs))
    assert sympy.simplify(mult.expr - expected) == 0
    assert mult.variables == tuple(xs)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: family("nope"), "unknown family"),
        (lambda: family("additive", eps=0.2, lam=0.0), "lam must be > 0"),
        (lambda: family("additive", eps=-0.1, lam=0.1), "eps must be >= 0"),
        (lambda: family("additive", eps=0.2, mu=1.0), "unknown parameter"),
        (lambda: family("additive", eps=0.2).parameter_values(), "missing value"),
        (lambda: family("two-cosine", dim=2), "one-dimensional"),
        (lambda: family("additive", dim=0), "dimension"),
        (lambda: family("additive", eps=float("nan"), lam=0.1), "finite"),
        (lambda: from_expression("eps*2"), "no parameter variable"),
        (lambda: from_expression("x + x1"), "either"),
        (lambda: from_expression("x3**2", dim=2), "smaller"),
    ],
)
def test_bad_input_raises_clear_error(call, message):
    with pytest.raises(ExpressionError, match=message):
        call()


def test_from_expression_variables_and_values():
    land = from_expression("x1**2 + a*x3", {"a": 2.0})
    assert [v.name for v in land.variables] == ["x1", "x2", "x3"]
    assert land.parameter_values() == (2.0,)
    assert land.substituted() == symbol("x1") ** 2 + 2.0 * symbol("x3")
    assert from_expression("x**2", dim=2).variables == (symbol("x1"), symbol("x2"))
