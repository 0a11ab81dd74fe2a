"""Activation constants (analytic/_activations.py) and theory predictions."""

import math

import mpmath
import numpy as np
import pytest
import sympy

from trainability.analytic import (
    Activation,
    ExpressionError,
    activation,
    activation_constants,
    first_phase_bound,
    large_stepsize_predictions,
    stable_phase_rate_bound,
    stable_phase_threshold,
)
from trainability.analytic._activations import Z


def _brute(f, lo=-60.0, hi=60.0, n=400001):
    """Independent reference: dense grid with mpmath-accurate values at the best point."""
    z = np.linspace(lo, hi, n)
    v = f(z)
    return float(np.max(v))


def _sigmoid(z):
    return 0.5 * (1 + np.tanh(z / 2))


@pytest.mark.parametrize("c", [0.0, 0.25, 0.5, 0.9])
def test_leaky_softplus_closed_forms(c):
    """Closed forms c, 1, (1-c) ln 2, (1-c)/4 against a brute-force NumPy grid."""
    k = activation("leaky_softplus", c=c).constants()
    assert k.c.method == "exact" and k.kappa.closed_form is not None
    assert k.c.value == pytest.approx(c)
    assert k.derivative_sup.value == 1.0
    assert k.kappa.value == pytest.approx((1 - c) * math.log(2), rel=1e-15)
    assert k.beta.value == pytest.approx((1 - c) / 4, rel=1e-15)
    # brute force: phi - z phi' = (1-c)(softplus(z) - z sigmoid(z)); phi'' = (1-c) s (1-s)
    sp = lambda z: np.logaddexp(0, z)  # noqa: E731
    defect = lambda z: np.abs((1 - c) * (sp(z) - z * _sigmoid(z)))  # noqa: E731
    assert _brute(defect) == pytest.approx(k.kappa.value, rel=1e-9)
    assert _brute(lambda z: (1 - c) * _sigmoid(z) * (1 - _sigmoid(z))) == pytest.approx(
        k.beta.value, rel=1e-9
    )
    assert k.bounded_derivative == (c > 0)
    assert k.near_homogeneous and k.smooth


def test_leaky_softplus_symbolic_in_c():
    """The closed forms stay expressions in c when no value is given."""
    act = activation("leaky_softplus")
    closed = dict(act.closed_forms)
    c = sympy.Symbol("c", real=True)
    assert sympy.simplify(closed["kappa"] - (1 - c) * sympy.log(2)) == 0
    assert sympy.simplify(closed["beta"] - (1 - c) / 4) == 0
    # and the defect really is maximal at z = 0: d/dz (phi - z phi') = -z phi'' vanishes there
    assert sympy.simplify(sympy.diff(act.homogeneity_defect(), Z).subs(Z, 0)) == 0


@pytest.mark.parametrize(
    "name",
    [
        "silu",
        pytest.param("softplus", marks=pytest.mark.slow),
        pytest.param("gelu", marks=pytest.mark.slow),
        pytest.param("tanh", marks=pytest.mark.slow),
    ],
)
def test_numeric_route_matches_closed_forms(name):
    """The certified/numeric route (closed forms removed) reproduces every exact constant."""
    act = activation(name)
    exact = act.constants()
    numeric = activation_constants(Activation(act.expr, act.values, "copy"))
    for field in ("c", "derivative_sup", "kappa", "beta"):
        e, n = getattr(exact, field), getattr(numeric, field)
        assert n.method != "exact"
        assert n.value == pytest.approx(e.value, abs=2e-6), field
        assert n.enclosure[0] - 1e-9 <= e.value <= n.enclosure[1] + 1e-9, field


def test_gelu_silu_conditions():
    """GELU and SiLU: near-homogeneous and smooth, but phi' leaves [c, 1] (reference file)."""
    for name in ("gelu", "silu"):
        k = activation(name).constants()
        assert k.near_homogeneous and k.smooth
        assert not k.bounded_derivative
        assert k.c.value < 0 and k.derivative_sup.value > 1
    # GELU closed forms against mpmath at the stationary points z = -+sqrt(2)
    g = activation("gelu").constants()
    npdf = lambda z: mpmath.exp(-z * z / 2) / mpmath.sqrt(2 * mpmath.pi)  # noqa: E731
    d1 = lambda z: mpmath.ncdf(z) + z * npdf(z)  # noqa: E731
    assert g.c.value == pytest.approx(float(d1(-mpmath.sqrt(2))), rel=1e-14)
    assert g.kappa.value == pytest.approx(float(2 * npdf(mpmath.sqrt(2))), rel=1e-14)
    assert g.beta.value == pytest.approx(float(2 * npdf(0)), rel=1e-14)


def test_linear_and_tanh():
    """Linear: c = 1, kappa = beta = 0. tanh: kappa = 1 (limit), beta = 4/(3 sqrt 3)."""
    k = activation("linear").constants()
    assert (k.c.value, k.kappa.value, k.beta.value, k.bounded_derivative) == (1, 0, 0, True)
    t = activation("tanh").constants()
    assert t.kappa.value == 1.0 and t.beta.value == pytest.approx(4 / (3 * math.sqrt(3)))
    assert not t.bounded_derivative  # inf sech^2 = 0


def test_user_expression_is_parsed_and_certified():
    """User text in z through the whitelist parser; constants by interval arithmetic."""
    act = activation("c*z + (1 - c)*log(1 + exp(z))", c=0.3)
    k = act.constants()
    assert k.kappa.method in ("interval", "interval-loose")
    assert k.kappa.value == pytest.approx(0.7 * math.log(2), abs=1e-8)
    assert k.beta.value == pytest.approx(0.7 / 4, abs=1e-8)
    assert k.c.value == pytest.approx(0.3, abs=1e-8)
    assert k.bounded_derivative
    # x is accepted as an alias of z
    assert activation("x + 1").expr == Z + 1


def test_unbounded_defect_is_reported():
    """z**2: phi - z phi' = -z**2 is unbounded, so near-homogeneity fails."""
    k = activation("z**2").constants()
    assert not k.near_homogeneous and k.smooth  # beta = 2 finite
    assert k.beta.value == pytest.approx(2.0)
    assert math.isinf(k.kappa.value)


def test_bad_activation_input():
    with pytest.raises(ExpressionError):
        activation("__import__('os')")
    with pytest.raises(ExpressionError):
        activation("y + 1")  # no z
    with pytest.raises(ValueError):
        activation("leaky_softplus", c=2.0)
    with pytest.raises(ValueError):
        activation("softplus", c=0.5)
    with pytest.raises(ValueError):
        activation("c*z").constants()  # c without value


def test_kernels_stable_and_match_closed_form():
    """JAX/NumPy kernels: no overflow at |z| = 1e4, derivative equals the closed form."""
    act = activation("leaky_softplus", c=0.5)
    for backend in ("numpy", "jax"):
        phi, dphi = act.kernels(backend)
        z = np.array([-1e4, -3.0, 0.0, 2.0, 1e4])
        p, d = np.asarray(phi(z)), np.asarray(dphi(z))
        assert np.all(np.isfinite(p)) and np.all(np.isfinite(d))
        np.testing.assert_allclose(p, 0.5 * z + 0.5 * np.logaddexp(0, z), rtol=1e-15)
        np.testing.assert_allclose(d, 0.5 + 0.5 * _sigmoid(z), rtol=1e-15)


def test_predictions_forms():
    """Threshold min(1/(eta(1+beta/m)), 1/(e^kappa n)); rate and first-phase scalings."""
    assert stable_phase_threshold(10, 5) == pytest.approx(0.1)
    assert stable_phase_threshold(1, 5, kappa=math.log(2)) == pytest.approx(0.1)
    assert stable_phase_threshold(100, 5, beta=1, m=1) == pytest.approx(1 / 200)
    eta, n = sympy.symbols("eta n", positive=True)
    assert stable_phase_threshold(eta, n) == sympy.Min(1 / eta, 1 / n)
    # (1 + ln^2(1 + (c g)^2 eta t)) / ((c g)^2 eta t), by hand at c g = 0.05, eta t = 1e4
    g2 = 0.05**2
    hand = (1 + math.log(1 + g2 * 1e4) ** 2) / (g2 * 1e4)
    assert stable_phase_rate_bound(10, 1000, 0.1, c=0.5) == pytest.approx(hand, rel=1e-14)
    # O(1/(eta t)) up to logs: far out, doubling t almost halves the bound
    r1 = stable_phase_rate_bound(10, 1e12, 0.1, c=0.5)
    r2 = stable_phase_rate_bound(10, 2e12, 0.1, c=0.5)
    assert 0.5 < r2 / r1 < 0.55
    assert first_phase_bound(100, 10, 0.1, 0.5) == pytest.approx(100 / 0.05**2)
    assert math.isinf(first_phase_bound(100, 10, 0.1, 0.0))
    p = large_stepsize_predictions(3, 5, 0.05, 0.5, 0.3466, 0.125, 2, steps=100)
    assert p["first_phase_ends"]["value"] is True
    assert "standard" in p["stable_phase_threshold"]["status"]


def test_activation_registries_share_one_vocabulary():
    """One name per activation across the layers: every name the numeric registries share
    with :data:`analytic.ACTIVATIONS` is the same function there (ReLU and the sigmoid have
    no symbolic entry: not smooth, or outside the large-stepsize theory)."""
    import jax.numpy as jnp

    from trainability.analytic import ACTIVATIONS
    from trainability.numeric import NETWORK_ACTIVATIONS
    from trainability.numeric._tasks import MLP_ACTIVATIONS

    numeric_only = {"relu", "sigmoid"}
    assert set(NETWORK_ACTIVATIONS) - numeric_only <= set(ACTIVATIONS)
    assert set(MLP_ACTIVATIONS) - numeric_only <= set(ACTIVATIONS)
    z = np.linspace(-3.0, 3.0, 13)
    for name in set(MLP_ACTIVATIONS) & set(ACTIVATIONS):
        f = sympy.lambdify(Z, activation(name).expr, "numpy")
        expected = np.broadcast_to(np.asarray(f(z), dtype=float), z.shape)
        got = np.asarray(MLP_ACTIVATIONS[name](jnp.asarray(z)))
        np.testing.assert_allclose(got, expected, rtol=1e-12)
