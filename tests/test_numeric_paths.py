"""Paths between models: interpolation, lengths, PCA, Adam and the three baselines.

References: direct NumPy loops (interpolation, lengths, Adam), NumPy's eigendecomposition of
the covariance (PCA), and a ring-shaped double well whose min-max path loss is known in
closed form (Gamma = B: every path from x < 0 to x > 0 crosses x = 0, where L >= B).
"""

import jax.numpy as jnp
import numpy as np
import pytest
from _landscapes import A_END, B_END, B, K, ring, ring_np  # the shared double well

from trainability.numeric import (
    Adam,
    bezier_path,
    interpolate,
    interpolated_losses,
    linear_path,
    make_trainer,
    neb_path,
    normalized_length,
    path_length,
    pca_projection,
)


def test_interpolation_and_curve_match_numpy_loop():
    """Theta(t) and gamma(t) against an explicit NumPy loop over t."""
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=7), rng.normal(size=7)
    ts = np.linspace(-0.2, 1.3, 17)
    got = np.asarray(interpolate(jnp.asarray(a), jnp.asarray(b), jnp.asarray(ts)))
    want = np.stack([(1 - t) * a + t * b for t in ts])
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-15)
    np.testing.assert_allclose(np.asarray(interpolate(a, b, 0.25)), 0.75 * a + 0.25 * b)

    def loss(th):
        return jnp.sum(jnp.sin(th) ** 2) + th[0] * th[1]

    curve = np.asarray(interpolated_losses(loss, a, b, ts))
    ref = [np.sum(np.sin(p) ** 2) + p[0] * p[1] for p in want]
    np.testing.assert_allclose(curve, ref, rtol=1e-13)


def test_lengths_match_numpy_loop():
    """Polygon length and normalized length against a Python loop of norms."""
    rng = np.random.default_rng(2)
    pts = rng.normal(size=(6, 5))
    ref = sum(np.sqrt(np.sum((pts[i + 1] - pts[i]) ** 2)) for i in range(5))
    assert path_length(pts) == pytest.approx(ref, rel=1e-14)
    assert normalized_length(pts) == pytest.approx(ref / np.linalg.norm(pts[-1] - pts[0]))
    straight = np.linspace(0, 1, 9)[:, None] * rng.normal(size=(1, 4))
    assert normalized_length(straight) == pytest.approx(1.0, abs=1e-14)
    with pytest.raises(ValueError):
        normalized_length(np.zeros((3, 2)))
    with pytest.raises(ValueError):
        path_length(np.zeros(3))


def test_pca_matches_covariance_eigenvectors():
    """Components = leading eigenvectors of the covariance (up to sign); coordinates
    reproduce the centred points when all components are kept."""
    rng = np.random.default_rng(3)
    pts = rng.normal(size=(20, 4)) @ np.diag([3.0, 2.0, 1.0, 0.1])
    coords, comps, mean, explained = pca_projection(pts, 2)
    w, v = np.linalg.eigh(np.cov(pts.T))
    for k in range(2):
        assert abs(abs(comps[k] @ v[:, -1 - k]) - 1) < 1e-10
    np.testing.assert_allclose(explained, w[::-1][:2] / w.sum(), rtol=1e-10)
    full, comps4, mean4, _ = pca_projection(pts, 4)
    np.testing.assert_allclose(full @ comps4 + mean4, pts, atol=1e-12)
    with pytest.raises(ValueError):
        pca_projection(pts, 5)


def test_adam_matches_numpy_reference():
    """Three Adam steps against the update rule written out in NumPy (Kingma & Ba, Alg. 1)."""
    opt = Adam(0.1, 0.8, 0.9, 1e-8)
    x = jnp.array([1.0, -2.0])
    state = opt.init(x)
    xn, m, v = np.array([1.0, -2.0]), np.zeros(2), np.zeros(2)
    for k in range(1, 4):
        g = 2 * np.asarray(x) * np.array([1.0, 3.0])
        x, state = opt.step(x, jnp.asarray(g), state)
        gn = 2 * xn * np.array([1.0, 3.0])
        m = 0.8 * m + 0.2 * gn
        v = 0.9 * v + 0.1 * gn**2
        xn = xn - 0.1 * (m / (1 - 0.8**k)) / (np.sqrt(v / (1 - 0.9**k)) + 1e-8)
        np.testing.assert_allclose(np.asarray(x), xn, rtol=1e-13)
    with pytest.raises(ValueError):
        Adam(-1.0)


def test_trainer_stops_at_target():
    """No step when already below target; otherwise stops at the first check below it."""
    train = make_trainer(
        lambda th: jnp.sum(th**2), optimizer=Adam(0.05), max_steps=5000, check_every=5
    )
    th, value, steps = train(jnp.array([0.01, 0.0]), 1.0)
    assert int(steps) == 0 and float(value) == pytest.approx(1e-4)
    th, value, steps = train(jnp.array([2.0, -1.0]), 0.1)
    assert float(value) <= 0.1 and int(steps) % 5 == 0 and 0 < int(steps) < 5000
    assert float(jnp.sum(th**2)) == pytest.approx(float(value))


def test_linear_barrier_on_double_well():
    """Frankle's barrier: max over 30 evenly spaced t minus the mean endpoint loss, against
    the same formula in NumPy."""
    res = linear_path(ring, A_END, B_END)
    ts = np.linspace(0, 1, 30)
    vals = ring_np((1 - ts)[:, None] * A_END + ts[:, None] * B_END)
    assert res.max_loss == pytest.approx(vals.max(), rel=1e-12)
    assert res.barrier == pytest.approx(vals.max() - 0.5 * (vals[0] + vals[-1]), rel=1e-12)
    assert res.normalized_length == pytest.approx(1.0)
    assert res.max_loss > K  # the straight line passes near the hat's top


def test_bezier_and_neb_find_the_low_path_on_double_well():
    """Both curved methods go around the hat: their max loss drops far below the straight
    line's, but never below Gamma = B (up to the resolution of their evaluation)."""
    line = linear_path(ring, A_END, B_END).max_loss
    bez = bezier_path(ring, A_END, B_END, steps=1500)
    neb = neb_path(ring, A_END, B_END)
    for res in (bez, neb):
        assert B - 0.02 <= res.max_loss < 0.7 * line
        np.testing.assert_allclose(res.points[0], A_END)
        np.testing.assert_allclose(res.points[-1], B_END)
        np.testing.assert_allclose(res.losses, ring_np(res.points), rtol=1e-10, atol=1e-14)
        assert res.normalized_length > 1.0
    assert neb.max_loss < B + 0.05
    with pytest.raises(ValueError):
        linear_path(ring, A_END, np.zeros(3))
