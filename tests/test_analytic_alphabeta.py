"""Analytic layer of the alpha-beta condition (Islamov et al. 2024)."""

import mpmath
import numpy as np
import pytest
import sympy

from trainability.analytic import (
    ExpressionError,
    alpha_beta_slack,
    critical_points,
    finite_sum,
    piece_minima,
    projection,
    smoothness_constant,
    symbol,
)
from trainability.verify.targets._islamov_examples import alpha_beta_example, remark1_family

X1, X2 = symbol("x1"), symbol("x2")


def test_example1_minimizer_line_exact():
    """S of Example 1 is the line x + y = -1/2 with f* = 1/5 (closed form: f depends on
    u = x + y only and (h1 + h2)/2 is minimal at u = -1/2 by symmetry)."""
    fs = alpha_beta_example(1)
    S = fs.minimizers()
    assert S.kind == "affine" and S.exact
    assert S.value == sympy.Rational(1, 5)
    p, d = S.as_arrays()
    assert p[0].sum() == pytest.approx(-0.5, abs=1e-15)
    assert d[0, 0] == pytest.approx(-d[0, 1])
    assert [m.value for m in piece_minima(fs)] == [0, 0]
    (xp,) = projection(S, fs.variables)
    # Projection onto x + y = -1/2, by hand: x - ((x + y + 1/2)/2) (1, 1).
    u = (X1 + X2 + sympy.Rational(1, 2)) / 2
    assert sympy.simplify(xp[0] - (X1 - u)) == 0 and sympy.simplify(xp[1] - (X2 - u)) == 0


def test_example1_slack_matches_one_dimensional_form():
    """The alpha-beta slack of Example 1 reduces to h_i'(u)(u + 1/2) - alpha(h_i(u) - 1/5)
    + beta h_i(u) with u = x + y (derived by hand from the projection above)."""
    a, b = sympy.Rational(5, 2), 2
    s1, s2 = alpha_beta_slack(alpha_beta_example(1), a, b)
    u = sympy.Symbol("u")
    for s, h in ((s1, u**2 / (u**2 + 1)), (s2, (u + 1) ** 2 / ((u + 1) ** 2 + 1))):
        ref = sympy.diff(h, u) * (u + sympy.Rational(1, 2)) - a * (h - sympy.Rational(1, 5)) + b * h
        for x, y in ((0.3, -1.7), (4.0, 2.5), (-3.0, 0.25)):
            got = s.subs({X1: sympy.Rational(x), X2: sympy.Rational(y)})
            want = ref.subs(u, sympy.Rational(x) + sympy.Rational(y))
            assert sympy.simplify(got - want) == 0


def test_example6_minimizers_closed_form_and_paper():
    """Example 6: x = y = 1/2 -+ sqrt(2 sqrt 3 - 3)/2 (solve on the diagonal by hand) and the
    paper's f* = 0.316988 at (0.159375, 0.159375), (0.840625, 0.840625)."""
    S = alpha_beta_example(6).minimizers()
    assert S.exact and S.kind == "points" and len(S.points) == 2
    t = (1 - sympy.sqrt(2 * sympy.sqrt(3) - 3)) / 2
    pts = S.as_arrays()[0]
    assert pts[0] == pytest.approx([float(t)] * 2, abs=1e-14)
    assert pts[1] == pytest.approx([1 - float(t)] * 2, abs=1e-14)
    assert float(S.value) == pytest.approx(0.316988, abs=1e-6)
    assert pts[0, 0] == pytest.approx(0.159375, abs=1e-6)


def test_example2_numeric_minimizers_match_mpmath_diagonal_root():
    """Example 2's S is located numerically; on the diagonal the first-order condition is
    t exp(-2t^2) + (t - 2) exp(-2(t - 2)^2) = 0 (independent mpmath root); paper: 0.00067."""
    S = alpha_beta_example(2).minimizers()
    assert not S.exact and len(S.points) == 2
    with mpmath.workdps(40):
        t = mpmath.findroot(
            lambda t: t * mpmath.exp(-2 * t**2) + (t - 2) * mpmath.exp(-2 * (t - 2) ** 2), 0.001
        )
        assert abs(S.points[0][0] - sympy.Float(t, 40)) < 1e-25
    assert float(S.points[0][0]) == pytest.approx(0.00067, abs=1e-5)
    assert float(S.points[1][0]) == pytest.approx(1.99932, abs=1e-5)


def test_example3_paper_minimum():
    """Example 3: paper's f* = 0.408 at (2.471, 2.471) (default variant), and the reference
    table's literal formula (denominator 4) gives 0.40572 at 2.3762 (hand minimisation)."""
    S = alpha_beta_example(3).minimizers()
    assert float(S.value) == pytest.approx(0.408, abs=5e-4)
    assert S.as_arrays()[0][0] == pytest.approx([2.471, 2.471], abs=1e-3)
    S4 = alpha_beta_example(3, example3_denominator=4).minimizers()
    assert float(S4.value) == pytest.approx(0.40572, abs=1e-5)
    pm = piece_minima(alpha_beta_example(3))
    assert pm[0].value == sympy.Rational(1, 4) and pm[1].value == 0


@pytest.mark.parametrize(("number", "expected"), [(1, 4), (2, 2), (6, 2), (3, 2)])
def test_smoothness_exact_and_above_sampled_hessian_norm(number, expected):
    """L derived in closed form (ridge: |w|^2 sup|h''| = 2 * 2; radial: 2 g'(0) = 2) and
    never below the spectral norm of the Hessian sampled with NumPy."""
    fs = alpha_beta_example(number)
    sm = smoothness_constant(fs)
    assert sm.exact and float(sm.L) == pytest.approx(expected, rel=1e-12)
    rng = np.random.default_rng(0)
    for i in range(fs.n):
        H = sympy.lambdify(fs.variables, sympy.hessian(fs.pieces[i], fs.variables), "numpy")
        pts = rng.uniform(-3, 5, (300, 2))
        norms = [np.linalg.norm(np.asarray(H(*p), dtype=float), 2) for p in pts]
        assert max(norms) <= float(sm.pieces[i]) * (1 + 1e-12)
        assert max(norms) >= 0.5 * float(sm.pieces[i])


def test_critical_points_include_saddle_and_local_minimum():
    """Example 6 has the saddle (1/2, 1/2) (symmetry); Example 3 a local min near (0.08, 0.08).

    Reference for Example 3: by symmetry the point is (t, t) with t the root near 0.08 of
    d/dt [f1 + f2](t, t), f1 = (1 + 2t^2)/(4 + 2t^2), f2 = s/(1 + s), s = 2(t - 5/2)^2,
    found by mpmath at 30 digits (independent of the package's SymPy/SciPy search)."""
    import mpmath

    c6 = critical_points(alpha_beta_example(6))
    assert np.min(np.abs(c6 - 0.5).max(1)) < 1e-9
    with mpmath.workdps(30):

        def diagonal(t):
            s = 2 * (t - mpmath.mpf(5) / 2) ** 2
            return (1 + 2 * t**2) / (4 + 2 * t**2) + s / (1 + s)

        t = mpmath.findroot(lambda t: mpmath.diff(diagonal, t), 0.08)
        assert mpmath.diff(diagonal, t, 2) > 0  # a minimum along the diagonal
    c3 = critical_points(alpha_beta_example(3))
    assert np.min(np.abs(c3 - float(t)).max(1)) < 1e-6


def test_remark1_family_contains_example2():
    """The exp profile with a = ((0,0),(2,2)), b = 1 is Example 2 (symbolic identity)."""
    fam = remark1_family([[0, 0], [2, 2]], [[1, 1], [1, 1]], "exp")
    ex2 = alpha_beta_example(2)
    for p, q in zip(fam.pieces, ex2.pieces, strict=True):
        assert sympy.simplify(sympy.expand(p - q)) == 0


def test_finite_sum_parsing_and_errors():
    fs = finite_sum(["(x - 1)**2", "(x + 1)**2"])
    assert fs.dim == 1 and fs.n == 2
    S = fs.minimizers()
    assert S.exact and S.as_arrays()[0].tolist() == [[0.0]] and S.value == 1
    with pytest.raises(ExpressionError):
        finite_sum(["x1**2 + lam"])
    with pytest.raises(ExpressionError):
        finite_sum(["__import__('os')"])
    with pytest.raises(ExpressionError):
        finite_sum([])
    with pytest.raises(ValueError):
        alpha_beta_example(4)
    with pytest.raises(ValueError):
        remark1_family([[0, 0]], [[1, -1]])


def test_multistart_points_grid_then_seeded_draws():
    """The one multistart grid of the minimizer and critical-point searches: a regular grid
    with the box corners, then ``starts`` seeded uniform draws inside the box."""
    from trainability.analytic._minimizers import multistart_points

    lo, hi = np.array([-1.0, 0.0]), np.array([1.0, 4.0])
    z = multistart_points(lo, hi, 9, seed=5)
    assert z.shape == (9 + 9, 2)
    grid = {tuple(p) for p in z[:9]}
    assert {(-1.0, 0.0), (1.0, 4.0), (-1.0, 4.0), (1.0, 0.0), (0.0, 2.0)} <= grid
    assert np.all((z >= lo) & (z <= hi))
    np.testing.assert_array_equal(z, multistart_points(lo, hi, 9, seed=5))
    assert multistart_points(np.array([0.0]), np.array([1.0]), 1, 0).shape == (2 + 1, 1)
