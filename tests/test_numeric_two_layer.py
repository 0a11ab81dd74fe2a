"""Two-layer GD, phase analysis and data sets (numeric/_two_layer.py, numeric/_datasets.py)."""

import numpy as np
import pytest

from trainability.analytic import activation
from trainability.numeric import (
    digits_data,
    five_point_data,
    initial_weights,
    largest_margin_decrease,
    max_margin,
    output_weights,
    phase_summary,
    stable_phase_start,
    steps_to_risk,
    two_layer_gd,
    xor_data,
)

ACT = activation("leaky_softplus", c=0.5)
PHI, DPHI = ACT.kernels("jax")


def _numpy_reference(X, y, W0, eta, steps, c=0.5):
    """Independent brute-force NumPy loop with the same model and the closed-form gradient."""
    a = output_weights(W0.shape[0])
    m = W0.shape[0]
    phi = lambda z: c * z + (1 - c) * np.logaddexp(0, z)  # noqa: E731
    dphi = lambda z: c + (1 - c) / (1 + np.exp(-z))  # noqa: E731
    W = W0.copy()
    risks, margins, own = [], [], []
    for t in range(steps + 1):
        Z = X @ W.T
        q = y * (phi(Z) @ a) / m
        risks.append(np.mean(np.log1p(np.exp(-q))))
        margins.append(q.min() / np.linalg.norm(W))
        own.append([(y * a[j] * phi(Z[:, j])).min() / np.linalg.norm(W[j]) for j in range(m)])
        if t == steps:
            break
        g = -y / (1 + np.exp(q)) / len(y)
        W = W - eta * ((g[:, None] * dphi(Z)) * (a / m)).T @ X
    return np.array(risks), np.array(margins), np.array(own), W


def test_gd_matches_numpy_loop():
    """JAX vmap run over two stepsizes equals a plain NumPy loop, step by step."""
    d = five_point_data()
    W0 = initial_weights(2, 3, 0.1, seed=1)
    run = two_layer_gd(d.X, d.y, W0, [3.0, 0.5], 200, PHI, DPHI, every=10)
    for k, eta in enumerate([3.0, 0.5]):
        r, mg, own, W = _numpy_reference(d.X, d.y, W0, eta, 200)
        np.testing.assert_allclose(run.risk[k], r, rtol=1e-11)
        np.testing.assert_allclose(run.margin[k], mg[::10], rtol=1e-10, atol=1e-13)
        np.testing.assert_allclose(run.neuron_margins[k], own[::10], rtol=1e-10, atol=1e-13)
        np.testing.assert_allclose(run.final_weights[k], W, rtol=1e-10)
    # potential G = mean sigmoid(-q) is below the risk (log(1 + e^-q) >= sigmoid(-q))
    assert np.all(run.potential <= run.risk[:, ::10] + 1e-15)


def test_chunking_does_not_change_the_run():
    d = five_point_data()
    W0 = initial_weights(2, 3, 0.1, seed=2)
    a = two_layer_gd(d.X, d.y, W0, [3.0], 300, PHI, DPHI, every=10)
    b = two_layer_gd(d.X, d.y, W0, [3.0], 300, PHI, DPHI, every=10, chunk=100)
    np.testing.assert_array_equal(a.risk, b.risk)
    np.testing.assert_array_equal(a.margin, b.margin)


def test_bad_inputs():
    d = five_point_data()
    W0 = initial_weights(2, 3)
    with pytest.raises(ValueError):
        two_layer_gd(d.X, d.y, W0, [0.0], 10, PHI, DPHI)
    with pytest.raises(ValueError):
        two_layer_gd(d.X, d.y, W0, [1.0], 15, PHI, DPHI, every=10)
    with pytest.raises(ValueError):
        two_layer_gd(d.X, d.y, np.zeros((2, 4)), [1.0], 10, PHI, DPHI)
    with pytest.raises(ValueError):
        xor_data(3)
    with pytest.raises(ValueError):
        digits_data((3, 3))
    with pytest.raises(ValueError):
        max_margin([[1.0, 0.0]], [2])


def test_stable_phase_start_and_summary():
    """Hand-made curves: last increase at index 3 -> start 4; threshold = min before it."""
    risk = np.array([1.0, 2.0, 0.5, 0.4, 0.9, 0.3, 0.2, 0.1, 0.05, 0.025, 0.0125])
    assert stable_phase_start(risk) == 4
    ph = phase_summary(risk, eta=2.0)
    assert ph.start == 4 and ph.threshold == 0.4 and ph.risk_at_start == 0.9
    assert ph.oscillations == 2
    assert stable_phase_start(np.array([1.0, 0.5, 0.6])) is None
    assert stable_phase_start(np.array([1.0, 0.5, 0.25])) == 0
    # exact 1/(eta t) tail gives rate exponent -1 and constant 1
    t = np.arange(1, 2001)
    curve = np.concatenate([[5.0], 1.0 / (2.0 * t)])
    ph = phase_summary(curve, eta=2.0)
    assert ph.rate_exponent == pytest.approx(-1.0, abs=1e-3)
    assert ph.rate_constant == pytest.approx(1.0, rel=1e-2)
    assert steps_to_risk(curve, 1e-3) == 500
    assert largest_margin_decrease([0.0, 1.0, 0.5, 2.0]) == pytest.approx(0.25)
    assert largest_margin_decrease([0.0, 1.0, 2.0]) == 0.0


def test_five_point_max_margin():
    """Reference file: direction (1, 0, 0), margin 0.05."""
    d = five_point_data()
    np.testing.assert_allclose(d.direction, [1, 0, 0], atol=1e-8)
    assert d.margin == pytest.approx(0.05, abs=1e-9)
    assert d.separable


def test_max_margin_against_brute_force():
    """2-D separable data: SVM margin equals the best over 200k directions on the circle."""
    rng = np.random.default_rng(3)
    X = rng.uniform(-1, 1, (30, 2))
    y = np.where(X @ np.array([0.6, 0.8]) > 0, 1.0, -1.0)
    u, g, sep = max_margin(X, y)
    Z = y[:, None] * X

    def best(theta):
        vals = np.min(Z @ np.stack([np.cos(theta), np.sin(theta)], 0), axis=0)
        return theta[np.argmax(vals)], np.max(vals)

    t0, _ = best(np.linspace(0, 2 * np.pi, 100001))
    _, brute = best(np.linspace(t0 - 1e-4, t0 + 1e-4, 100001))  # refine: step 2e-9 rad
    assert sep and g == pytest.approx(brute, abs=1e-9) and g >= brute - 1e-12


def test_xor_and_digits():
    x = xor_data(40, 0.1, seed=0)
    assert not x.separable and x.margin < 0
    assert np.max(np.linalg.norm(x.X, axis=1)) == pytest.approx(1.0)
    np.testing.assert_array_equal(x.X, xor_data(40, 0.1, seed=0).X)
    dg = digits_data((3, 8), n_per_class=30)
    assert dg.n == 60 and dg.dim == 64 and dg.separable and dg.margin > 0
    assert set(np.unique(dg.y)) == {-1.0, 1.0}
    assert np.min(dg.y[:, None] * dg.X @ dg.direction) == pytest.approx(dg.margin)
