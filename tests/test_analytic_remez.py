"""The Remez fit and the certified polynomial bound of ``analytic/_remez.py``.

Independent references: the closed-form best approximation of ``x**5`` by quartics on
``[-1, 1]`` (``x**5 - T_5(x)/16``, error level ``1/16``: Chebyshev), the known maximum 1
of ``|T_n|`` on any interval holding one of its extrema, and mpmath's ``sin`` for the
Taylor remainder ``max |T_7 - sin|`` on ``[-1, 1]`` (reached at ``x = 1``).
"""

import math

import mpmath
import pytest
from flint import fmpq, fmpq_poly

from trainability.analytic import _remez
from trainability.analytic._remez import (
    certified_deviation,
    certified_sup,
    float64_minimax,
    minimax,
)


def test_minimax_of_x5_is_chebyshev():
    """Best quartic for x**5 on [-1, 1]: x**5 - T_5/16 = 1.25 x**3 - 0.3125 x, level 1/16,
    equioscillating on the 6 extrema cos(k pi/5) of T_5."""
    fit = minimax(lambda x: x**5, lambda x: mpmath.mpf(1), -1, 1, range(5))
    expected = [0, -0.3125, 0, 1.25, 0]
    assert [float(c) for c in fit.coefficients] == pytest.approx(expected, abs=1e-12)
    assert float(fit.level) == pytest.approx(1 / 16, rel=1e-10)
    assert fit.spread < 1e-9
    signs = [1 if e > 0 else -1 for e in fit.errors]
    assert all(a == -b for a, b in zip(signs, signs[1:], strict=False))  # alternation
    extrema = sorted(float(x) for x in fit.reference)
    assert extrema == pytest.approx(sorted(math.cos(k * math.pi / 5) for k in range(6)), abs=1e-6)


def test_minimax_beats_taylor_and_equioscillates_for_exp():
    """Degree 5 for exp on [-1, 1], relative error: 7 alternating equal extrema, and its
    error below the Taylor polynomial's (which it must be: minimax is the optimum)."""
    fit = minimax(mpmath.exp, lambda x: 1 / mpmath.exp(x), -1, 1, range(6))
    assert len(fit.reference) == 7 and fit.spread < 1e-9
    assert all((a > 0) != (b > 0) for a, b in zip(fit.errors, fit.errors[1:], strict=False))
    taylor = max(
        abs(sum(x**k / mpmath.factorial(k) for k in range(6)) / mpmath.exp(x) - 1)
        for x in mpmath.linspace(-1, 1, 201)
    )
    assert fit.max_error < taylor / 10
    xs = mpmath.linspace(-1, 1, 2001)  # the level is the maximum (sampled, finer grid)
    err = max(
        abs(sum(c * x**k for k, c in enumerate(fit.coefficients)) / mpmath.exp(x) - 1) for x in xs
    )
    assert float(err) <= float(fit.level) * (1 + 1e-6)


def test_float64_minimax_rounds_and_stays_near_the_level():
    coefs, fit = float64_minimax(mpmath.exp, lambda x: 1 / mpmath.exp(x), -1, 1, range(6))
    assert all(isinstance(c, float) for c in coefs)
    P = fmpq_poly([_remez.as_fmpq(c) for c in coefs])
    # exp(-x) P(x) - 1 certified with a Taylor polynomial of exp(-x) of degree 30.
    E = fmpq_poly([fmpq((-1) ** k, math.factorial(k)) for k in range(31)])
    tail = 3 * mpmath.e / mpmath.factorial(31)
    bound = certified_sup(P * E - 1, -1, 1) + tail
    # Rounding costs ~1e-16 of 4e-5; the Markov factor of the certificate up to 1e-3.
    assert fit.level <= bound <= fit.level * (1 + 2e-3)


@pytest.mark.parametrize("n", [8, 15])
def test_certified_sup_covers_maxima_between_grid_points(n):
    """|T_n| has maximum exactly 1 on [-0.9, 0.8] at interior points (cos(k pi/n)) that
    the uniform grid misses: the bound must reach 1 (and be tight to 0.1 %)."""
    t0, t1 = fmpq_poly([1]), fmpq_poly([0, 1])
    x = fmpq_poly([0, 1])
    for _ in range(n - 1):
        t0, t1 = t1, 2 * x * t1 - t0
    a, b = fmpq(-9, 10), fmpq(8, 10)
    bound = certified_sup(t1, a, b, cells=4000)
    assert 1 <= bound <= 1.001
    # The grid alone (what a sampled bound would report) stays below the maximum: the
    # Markov factor is what makes the bound rigorous.
    assert max(abs(t1(a + (b - a) * fmpq(i, 4000))) for i in range(4001)) < 1


def test_certified_deviation_of_a_taylor_polynomial_against_mpmath():
    """max |T_7 - sin| on [-1, 1] is at x = 1: certified bound >= the mpmath value, tight."""
    T7 = fmpq_poly([0, 1, 0, fmpq(-1, 6), 0, fmpq(1, 120), 0, fmpq(-1, 5040)])

    def taylor(k):
        return fmpq(0) if k % 2 == 0 else fmpq((-1) ** (k // 2), math.factorial(k))

    b = certified_deviation(T7, taylor, -1, 1, lambda K: mpmath.mpf(1) / mpmath.factorial(K + 1))
    with mpmath.workdps(40):
        true = abs(
            mpmath.sin(1) - (1 - mpmath.mpf(1) / 6 + mpmath.mpf(1) / 120 - mpmath.mpf(1) / 5040)
        )
    assert true <= b <= true * (1 + 1e-3)
