"""Fixed points of the GD map and their linear-stability learning-rate intervals."""

import numpy as np
import sympy

from trainability.analytic import family, fixed_points, from_expression


def test_quadratic():
    """x^2: fixed point 0, stable for 0 < s < 1 (reference: boundary at s = 1)."""
    (fp,) = fixed_points(family("quadratic"))
    assert fp.location == (0,) and fp.stable_for == (0, 1)


def test_double_well():
    """x^4 - x^2: 0 unstable (f'' = -2), +-1/sqrt(2) stable for s < 2/4."""
    fps = fixed_points(from_expression("x**4 - x**2"))
    by_loc = {p.location[0]: p for p in fps}
    assert by_loc[0].stable_for is None
    for r in (sympy.sqrt(2) / 2, -sympy.sqrt(2) / 2):
        assert by_loc[r].stable_for == (0, sympy.Rational(1, 2))


def test_additive_origin_interval():
    """Additive: f''(0) = 2 - 4 pi^2 eps/lam^2, so s < 2 / f''(0) (symbolic)."""
    fp = fixed_points(family("additive"))[0]
    eps, lam = sympy.symbols("eps lam", real=True)
    expected = 2 / (2 - 4 * sympy.pi**2 * eps / lam**2)
    assert sympy.simplify(fp.stable_for[1] - expected) == 0


def test_numeric_fixed_points_are_stable_where_predicted():
    """Brute force: GD started next to each numeric stable fixed point stays there for s in
    the interval and leaves it just above."""
    land = family("additive", eps=0.02, lam=0.5)  # roughness 0.08: non-convex
    fps = [p for p in fixed_points(land, window=2.0, samples=4001) if not p.exact]
    assert fps, "expected non-trivial critical points"
    eps, lam = 0.02, 0.5

    def step(x, s):
        return x - s * (2 * x - 2 * np.pi * eps / lam * np.sin(2 * np.pi * x / lam))

    for p in fps:
        x_star = float(p.location[0])
        assert abs(step(x_star, 1.0) - x_star) < 1e-12
        if p.stable_for is None:
            continue
        s_max = float(p.stable_for[1])
        for s, stays in ((0.9 * s_max, True), (1.1 * s_max, False)):
            x = x_star + 1e-7
            for _ in range(400):
                x = step(x, s)
            assert (abs(x - x_star) < 1e-6) == stays
