"""Convexity conditions derived from the expression, against closed forms and brute force."""

import math

import numpy as np
import pytest
import sympy

from trainability.analytic import (
    convexity,
    critical_scale,
    family,
    from_expression,
    min_curvature,
    symbol,
)

EPS, LAM = symbol("eps"), symbol("lam")


def _brute_min_f2(f2, lo=-3.0, hi=3.0, n=400_001):
    """Independent reference: min of f'' on a dense NumPy grid."""
    x = np.linspace(lo, hi, n)
    return float(np.min(f2(x)))


def test_additive_threshold_from_expression():
    """Reference file: f_+ convex iff eps/lam^2 <= 1/(2 pi^2), derived from the text alone."""
    conv = convexity(from_expression("x**2 + eps*cos(2*pi*x/lam)"))
    assert conv.exact and conv.method == "single-frequency"
    assert conv.condition == sympy.Le(EPS / LAM**2, 1 / (2 * sympy.pi**2))
    assert not conv.always_convex and not conv.never_convex
    assert sympy.simplify(conv.min_curvature - (2 - 4 * sympy.pi**2 * EPS / LAM**2)) == 0


def test_additive_family_and_d_dims_agree():
    """The separable d-dim family has the 1-D condition (diagonal Hessian)."""
    one = convexity(family("additive")).condition
    assert convexity(family("additive", dim=4)).condition == one


@pytest.mark.parametrize("dim", [1, 3])
def test_multiplicative_never_convex(dim):
    """Reference file: x^2 (1 + eps cos) is non-convex for every eps > 0."""
    conv = convexity(family("multiplicative", dim=dim))
    assert conv.never_convex and not conv.always_convex
    assert conv.condition == sympy.Eq(EPS, 0)


def test_multiplicative_is_really_nonconvex_numerically():
    """Brute force: f'' of the multiplicative family goes negative for a small eps."""
    eps, lam = 0.01, 1.0
    k = 2 * np.pi / lam

    def f2(x):
        c, s = np.cos(k * x), np.sin(k * x)
        return 2 + 2 * eps * c - 4 * eps * k * x * s - eps * k**2 * x**2 * c

    assert _brute_min_f2(f2, -20, 20) < 0


@pytest.mark.parametrize(
    ("text", "always", "never"),
    [
        ("x**2", True, False),
        ("x**4", True, False),
        ("x**3", False, True),
        ("x**2 - x**4", False, True),
    ],
)
def test_polynomials(text, always, never):
    """Closed forms: x^2, x^4 convex; x^3 and x^2 - x^4 not."""
    conv = convexity(from_expression(text))
    assert (conv.always_convex, conv.never_convex) == (always, never)


def test_two_cosine_commensurate_polynomial_matches_brute_force():
    """lam1 = 0.3, lam2 = 0.5: the polynomial in u = cos(4 pi x / 3) gives min f''."""
    conv = convexity(family("two-cosine"))
    assert conv.method == "commensurate" and conv.exact
    assert str(conv.substitution) == "cos(4*pi*x/3)"
    for e1, e2 in [(0.003, 0.004), (0.006, 0.015), (0.0, 0.01)]:
        k1, k2 = 2 * np.pi / 0.3, 2 * np.pi / 0.5

        def f2(x, e1=e1, e2=e2, k1=k1, k2=k2):
            return 2 - e1 * k1**2 * np.cos(k1 * x) - e2 * k2**2 * np.cos(k2 * x)

        got = min_curvature(conv, {"eps1": e1, "eps2": e2, "lam1": 0.3, "lam2": 0.5})
        assert got == pytest.approx(_brute_min_f2(f2, 0, 3.0), abs=1e-6)


def test_two_cosine_axis_critical_values():
    """On each axis the two-cosine boundary reduces to the one-cosine lam^2/(2 pi^2)."""
    conv = convexity(family("two-cosine"))
    lams = {"lam1": 0.3, "lam2": 0.5}
    assert critical_scale(conv, {"eps1": 1.0, "eps2": 0.0}, lams) == pytest.approx(
        0.3**2 / (2 * math.pi**2), rel=1e-12
    )
    assert critical_scale(conv, {"eps1": 0.0, "eps2": 1.0}, lams) == pytest.approx(
        0.5**2 / (2 * math.pi**2), rel=1e-12
    )


def test_incommensurate_generic_frequencies():
    """Symbolic lam1/lam2 (generic, irrational ratio): Kronecker, amplitudes add."""
    conv = convexity(from_expression("x**2 + eps1*cos(2*pi*x/lam1) + eps2*cos(2*pi*x/lam2)"))
    assert conv.method == "incommensurate"
    e1, e2, l1, l2 = (symbol(n) for n in ("eps1", "eps2", "lam1", "lam2"))
    expected = 2 - 4 * sympy.pi**2 * (e1 / l1**2 + e2 / l2**2)
    assert sympy.simplify(conv.min_curvature - expected) == 0


def test_phase_and_product_terms():
    """cos^2 = (1 + cos 2a)/2 and a phase shift reduce to one frequency."""
    conv = convexity(from_expression("x**2 + eps*cos(2*pi*x/lam)**2"))
    assert conv.condition == sympy.Le(EPS / LAM**2, 1 / (4 * sympy.pi**2))
    conv = convexity(from_expression("x**2 + eps*cos(x + 1)"))
    assert conv.condition == sympy.Le(EPS, 2)


def test_tanh_is_certified_at_values_with_an_enclosure():
    """x^2 + tanh(x)/10: no closed form; at its values, ball arithmetic proves convexity.

    Reference: dense NumPy evaluation of f'' = 2 - 0.2 tanh(x) (1 - tanh(x)^2); the proven
    lower bound must sit below the sampled minimum and the sampled minimum must lie in the
    enclosure."""
    conv = convexity(from_expression("x**2 + 0.1*tanh(x)"))
    assert (conv.status, conv.method, conv.exact) == ("always convex", "certified", False)
    at = conv.at_values
    assert (at.status, at.method) == ("convex", "certified")
    x = np.linspace(-10, 10, 200_001)
    t = np.tanh(x)
    brute = float(np.min(2 + 0.1 * (-2 * t * (1 - t**2))))
    assert 0 < at.lower_bound <= brute + 1e-12  # the proof: positive, and below the truth
    assert at.upper_bound == pytest.approx(brute, abs=1e-3)  # a value attained at a point


def test_closed_form_uses_the_value_as_given_not_a_nearby_rational():
    """lam = 1 - 2**-24 (a float32 1 - ulp, as Hypothesis draws it): the closed-form
    minimum curvature of x**2 + eps*sin(2*pi*x/lam)**3 at the values must be that of this
    lam, not of lam = 1 (``nsimplify(rational=True)`` snapped it to 1, off by 2.7e-7
    relative, a "closed form" bound above the true minimum). Reference: mpmath, 40 digits,
    the root of f''' next to x = lam/4 and f'' there."""
    import mpmath

    lam = 0.999999940395357
    land = from_expression("x**2 + eps*sin(2*pi*x/lam)**3", {"eps": 0.03, "lam": lam})
    got = convexity(land).at_values
    assert got.method == "closed form"
    with mpmath.workdps(40):
        eps, lm = mpmath.mpf(0.03), mpmath.mpf(lam)

        def f2(x):
            return mpmath.diff(lambda t: t**2 + eps * mpmath.sin(2 * mpmath.pi * t / lm) ** 3, x, 2)

        xm = mpmath.findroot(lambda x: mpmath.diff(f2, x), lm / 4)
        ref = float(f2(xm))
    assert got.min_curvature == pytest.approx(ref, rel=1e-13)
