"""The vectorised network-grid trainer (numeric/_network_grid.py).

References: jax.grad of the plain per-run loss and central finite differences of the NumPy
loss (gradients); the straightforward per-run ``jax.vmap`` implementation with autodiff and
full loss curves (scores); a NumPy GD loop with the same minibatch indices (minibatch
scores). Scores are compared away from the chaotic large-learning-rate region of tanh, where
rounding alone changes labels.
"""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from trainability.numeric import (
    HyperGrid,
    PhaseImage,
    boundary_pixels,
    convergence_score,
    network_problem,
    network_scores,
    network_scores_per_point,
    phase_image,
)
from trainability.numeric._network_grid import _activation, _loss_and_grads

W = 4  # small width keeps the tests fast; the code paths are the same as for width 16


@pytest.fixture(scope="module")
def problems():
    return {a: network_problem(a, width=W, seed=3) for a in ("tanh", "relu", "linear")}


def test_problem_shapes_and_seed():
    """Width 16: 272 parameters and 272 data points; same seed, same numbers."""
    p = network_problem("tanh")
    assert (p.n_params, p.n_data, p.X.shape, p.Y.shape, p.W1.shape, p.W2.shape) == (
        272,
        272,
        (272, 16),
        (272,),
        (16, 16),
        (16,),
    )
    q = network_problem("tanh")
    assert np.array_equal(p.X, q.X) and np.array_equal(p.W1, q.W1)
    assert not np.array_equal(p.X, network_problem("tanh", seed=1).X)
    assert network_problem("relu", width=3, n_data=7).X.shape == (7, 3)


@pytest.mark.parametrize("activation", ["tanh", "relu", "linear"])
def test_hand_written_gradients(problems, activation):
    """Batched hand-written loss and gradients = jax.grad of the per-run NumPy-style loss;
    one gradient entry also matches a central finite difference of ``problem.loss``."""
    p = problems[activation]
    rng = np.random.default_rng(0)
    W1 = rng.normal(size=(3, W, W))
    W2 = rng.normal(size=(3, W))
    phi, dphi = _activation(activation)
    loss, g1, g2 = _loss_and_grads(
        jnp.asarray(W1), jnp.asarray(W2), jnp.asarray(p.X), jnp.asarray(p.Y), phi, dphi, W
    )

    def one(w1, w2):
        h = phi(p.X @ w1 / math.sqrt(W))
        return jnp.mean((h @ w2 / W - p.Y) ** 2)

    for g in range(3):
        assert float(loss[g]) == pytest.approx(p.loss(W1[g], W2[g]), rel=1e-12)
        r1, r2 = jax.grad(one, argnums=(0, 1))(jnp.asarray(W1[g]), jnp.asarray(W2[g]))
        np.testing.assert_allclose(g1[g], r1, rtol=1e-10, atol=1e-13)
        np.testing.assert_allclose(g2[g], r2, rtol=1e-10, atol=1e-13)
    e, h = np.zeros((W, W)), 1e-6
    e[1, 2] = h
    fd = (p.loss(W1[0] + e, W2[0]) - p.loss(W1[0] - e, W2[0])) / (2 * h)
    assert float(g1[0, 1, 2]) == pytest.approx(fd, rel=1e-6, abs=1e-10)


@pytest.mark.parametrize(
    ("activation", "lo", "hi"),
    [("relu", -3.0, 6.0), ("linear", -3.0, 6.0), ("tanh", -2.0, 1.5)],
)
def test_fused_scores_match_per_point(problems, activation, lo, hi):
    """Fused kernel (hand-written gradients, streaming score, tile early exit) = per-run vmap
    with autodiff and full loss curves, on a 6x6 log grid (tanh away from its chaotic
    large-learning-rate corner)."""
    p = problems[activation]
    lr1, lr2, off = HyperGrid((lo, hi), (lo, hi), resolution=6).hyperparameters()
    fused, steps_run = network_scores(p, lr1, lr2, off, steps=60, tile=16)
    ref = network_scores_per_point(p, lr1, lr2, off, steps=60)
    # tanh at lr ~ 30 already amplifies rounding differences to ~1e-8 relative
    np.testing.assert_allclose(fused, ref, rtol=1e-6 if activation == "tanh" else 1e-9)
    assert np.array_equal(fused < 0, ref < 0)
    assert steps_run <= 36 * 60
    if activation != "tanh":
        assert (fused < 0).any() and (fused > 0).any()


def test_early_exit_tile_matches_per_point(problems):
    """A tile where every run blows up stops early and still gives the full-length score."""
    p = problems["relu"]
    lr = np.full(4, 1e6)
    fused, steps_run = network_scores(p, lr, lr, steps=80, tile=4)
    assert steps_run < 4 * 80
    np.testing.assert_allclose(fused, network_scores_per_point(p, lr, lr, steps=80), rtol=1e-12)
    assert np.all(fused > 0)


def test_offset_phase_space(problems):
    """An offset shifts every first-layer weight at initialisation, for fused and reference."""
    p = problems["linear"]
    lr = np.full(3, 0.3)
    off = np.array([-0.5, 0.0, 1.5])
    fused, _ = network_scores(p, lr, lr, off, steps=40, tile=4)
    np.testing.assert_allclose(
        fused, network_scores_per_point(p, lr, lr, off, steps=40), rtol=1e-10
    )
    assert fused[0] != fused[1] != fused[2]


def test_offset_every_step_matches_source_loop(problems):
    """The source's train_step adds the offset before every step; reference: a NumPy loop of
    that step (shift, loss and finite-free closed-form linear gradients, update)."""
    p = problems["linear"]
    lr = np.array([0.05, 0.2, 0.3])
    off = np.array([-0.02, 0.0, 0.01])
    fused, _ = network_scores(p, lr, lr, off, steps=40, tile=4, offset_every_step=True)
    auto = network_scores_per_point(p, lr, lr, off, steps=40, offset_every_step=True)
    np.testing.assert_allclose(fused, auto, rtol=1e-10)
    for g in range(3):
        w1, w2, curve = p.W1.copy(), p.W2.copy(), []
        for _ in range(40):
            w1 = w1 + off[g]  # t += hparams[0]
            curve.append(p.loss(w1, w2))
            z = p.X @ w1 / math.sqrt(W)
            err = z @ w2 / W - p.Y
            dout = 2 * err / (W * p.n_data)
            gw2 = z.T @ dout
            gw1 = p.X.T @ (dout[:, None] * w2[None, :]) / math.sqrt(W)
            w1, w2 = w1 - lr[g] * gw1, w2 - lr[g] * gw2
        assert fused[g] == pytest.approx(convergence_score(np.array(curve)), rel=1e-9)
    once, _ = network_scores(p, lr, lr, off, steps=40, tile=4)
    assert once[1] == fused[1] and not np.allclose(once[[0, 2]], fused[[0, 2]])


def test_zoom_out_sequence_doubles_to_six_decades():
    """The source's zoom_out_sequence: same centre, widths doubling until >= 6, widest first."""
    g = HyperGrid((1.0, 1.5), (-2.0, -1.0), resolution=8)
    seq = g.zoom_out_sequence()
    widths = [(s.x_range[1] - s.x_range[0], s.y_range[1] - s.y_range[0]) for s in seq]
    assert widths == [(0.5 * 2**k, 2.0**k) for k in range(4, -1, -1)]
    assert seq[-1] == g and all(s.resolution == 8 for s in seq)
    for s in seq:
        assert sum(s.x_range) / 2 == pytest.approx(1.25) and sum(s.y_range) / 2 == -1.5
    assert HyperGrid((-3.0, 6.0), (-3.0, 6.0), 4).zoom_out_sequence() == [
        HyperGrid((-3.0, 6.0), (-3.0, 6.0), 4)
    ]


def test_minibatch_matches_numpy_loop():
    """Minibatch GD (same rows for every run, drawn per step from the seed) = NumPy loop."""
    p = network_problem("tanh", width=W, seed=5, minibatch=6)
    lr1, lr2 = np.array([0.5, 40.0]), np.array([2.0, 3000.0])
    fused, _ = network_scores(p, lr1, lr2, steps=30, tile=2)
    key = jax.random.PRNGKey(p.seed + 1)
    r2 = math.sqrt(2)
    for g in range(2):
        w1, w2, curve = p.W1.copy(), p.W2.copy(), []
        for k in range(30):
            curve.append(p.loss(w1, w2))
            idx = np.asarray(jax.random.randint(jax.random.fold_in(key, k), (6,), 0, p.n_data))
            x, y = p.X[idx], p.Y[idx]
            z = x @ w1 / math.sqrt(W)
            h = np.tanh(r2 * z)
            err = h @ w2 / W - y
            dout = 2 * err / (W * 6)
            gw2 = h.T @ dout
            dz = dout[:, None] * w2[None, :] * r2 * (1 - h * h)
            w1, w2 = w1 - lr1[g] * x.T @ dz / math.sqrt(W), w2 - lr2[g] * gw2
        assert fused[g] == pytest.approx(convergence_score(np.array(curve)), rel=1e-9)
    full, _ = network_scores(network_problem("tanh", width=W, seed=5), lr1, lr2, steps=30, tile=2)
    assert not np.allclose(fused, full)


@settings(max_examples=6)
@given(st.integers(3, 11), st.integers(2, 5))
def test_phase_image_tiles_reassemble(resolution, block):
    """Block tiling (with ragged edge blocks) puts every score back at its grid point."""
    p = _linear_w2()
    grid = HyperGrid((-2.0, 3.0), (-2.0, 3.0), resolution)
    img = phase_image(p, grid, steps=12, block=block)
    lr1, lr2, off = grid.hyperparameters()
    flat, _ = network_scores(p, lr1, lr2, off, steps=12, tile=16)
    np.testing.assert_allclose(img.score.ravel(), flat, rtol=1e-12)


@pytest.mark.parametrize("workers", [2, 3])
def test_threaded_tiles_equal_serial_loop(problems, workers):
    """Tiles run on ``workers`` threads give bit-for-bit the scores of one serial
    ``network_scores`` pass over the whole grid (reference: the untiled loop), ragged edge
    tiles included, and the same steps_run as ``workers=1``."""
    grid = HyperGrid((-2.0, 4.0), (-2.0, 4.0), 10)
    serial = phase_image(problems["tanh"], grid, steps=20, block=3, workers=1)
    threaded = phase_image(problems["tanh"], grid, steps=20, block=3, workers=workers)
    lr1, lr2, off = grid.hyperparameters()
    # the whole grid as one tile, row-major: no tiling, no threads
    flat, _ = network_scores(problems["tanh"], lr1, lr2, off, steps=20, tile=lr1.size)
    np.testing.assert_array_equal(threaded.score, serial.score)
    np.testing.assert_allclose(threaded.score.ravel(), flat, rtol=1e-12)
    assert threaded.steps_run == serial.steps_run


def test_bad_worker_count(problems):
    with pytest.raises(ValueError, match="workers"):
        phase_image(problems["linear"], HyperGrid(resolution=4), steps=5, block=2, workers=0)


def _linear_w2():
    return network_problem("linear", width=2, seed=1)


def test_grid_axes_zoom_and_boundary_center():
    """Axes in log10 units, zoom keeps the resolution, the zoom centre is a boundary point."""
    g = HyperGrid((-3.0, 6.0), (0.0, 1.0), 5, y_log=False)
    xs, ys = g.axes()
    np.testing.assert_allclose(xs, 10.0 ** np.linspace(-3, 6, 5))
    np.testing.assert_allclose(ys, np.linspace(0, 1, 5))
    z = g.zoom((1.0, 0.5), 4.0)
    assert z.resolution == 5 and z.x_range == (-0.125, 2.125) and z.y_range == (0.375, 0.625)
    lr1, lr2, off = HyperGrid(
        (0.0, 1.0), (2.0, 3.0), 2, "offset_vs_lr", x_log=False
    ).hyperparameters()
    assert off.tolist() == [0.0, 1.0, 0.0, 1.0] and lr1.tolist() == lr2.tolist()
    img = phase_image(_linear_w2(), HyperGrid((-2.0, 3.0), (-2.0, 3.0), 12), steps=20, block=4)
    cx, cy = img.boundary_center()
    assert boundary_pixels(img.score).any()
    assert -2.0 < cx < 3.0 and -2.0 < cy < 3.0


def test_float32_option_runs(problems):
    s32, _ = network_scores(
        problems["linear"], [0.1, 1e6], [0.1, 1e6], steps=30, tile=2, dtype="float32"
    )
    assert s32[0] < 0 < s32[1]


def test_bad_input(problems):
    p = problems["relu"]
    with pytest.raises(ValueError, match="activation"):
        network_problem("sigmoid")
    with pytest.raises(ValueError, match="steps"):
        network_scores(p, [1.0], [1.0], steps=0)
    with pytest.raises(ValueError, match="same length"):
        network_scores(p, [1.0, 2.0], [1.0], steps=5)
    with pytest.raises(ValueError, match="finite"):
        network_scores(p, [np.nan], [1.0], steps=5)
    with pytest.raises(ValueError, match="resolution"):
        HyperGrid(resolution=1)
    with pytest.raises(ValueError, match="x_range"):
        HyperGrid(x_range=(2.0, 1.0))
    with pytest.raises(ValueError, match="phase_space"):
        HyperGrid(phase_space="lr")
    with pytest.raises(ValueError, match="zoom"):
        HyperGrid().zoom((0.0, 0.0), 0.5)


def test_boundary_center_picks_densest_window():
    """Zoom centre: the quarter-width window with the most boundary pixels (a rough boundary
    in the upper-right quadrant beats a straight one along the left edge)."""
    rng = np.random.default_rng(0)
    score = -np.ones((65, 65))
    score[:, :3] = 1.0  # straight boundary near x = 0
    score[40:60, 40:60] = rng.choice([-1.0, 1.0], size=(20, 20))  # rough patch
    img = PhaseImage(
        HyperGrid((0.0, 64.0), (0.0, 64.0), 65, x_log=False, y_log=False), score, 1, 0.0, 0
    )
    cx, cy = img.boundary_center(4.0)
    assert 40 <= cx <= 60 and 40 <= cy <= 60
