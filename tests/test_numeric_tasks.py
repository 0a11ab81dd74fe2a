"""Tasks, model files and sweep statistics.

References: a NumPy forward pass of the MLP, the polynomial targets written out, the
permutation symmetry (the permuted teacher computes the identical function), and NumPy's
mean / standard error of the mean.
"""

import jax.numpy as jnp
import numpy as np
import pytest

from trainability.numeric import (
    ConnectivitySweep,
    connectivity_sweep,
    linear_path,
    load_model,
    make_task,
    mlp_apply,
    mlp_init,
    permutation_task,
    ravel_model,
    save_model,
    train_model,
)


def test_mlp_forward_matches_numpy():
    import jax

    params = mlp_init(jax.random.PRNGKey(3), (2, 5, 3))
    x = np.random.default_rng(0).normal(size=(7, 2))
    w1, b1 = np.asarray(params[0]["w"]), np.asarray(params[0]["b"])
    w2, b2 = np.asarray(params[1]["w"]), np.asarray(params[1]["b"])
    ref = (1 / (1 + np.exp(-(x @ w1 + b1)))) @ w2 + b2
    np.testing.assert_allclose(np.asarray(mlp_apply(params, jnp.asarray(x))), ref, rtol=1e-13)


def test_polynomial_task_loss_is_mae_of_the_target():
    """A network whose output is the constant c has test MAE mean|f(x) - c|."""
    task = make_task("poly-cubic", n_train=50, n_test=40, data_seed=4)
    assert task.size == 1 * 4 + 4 + 4 * 4 + 4 + 4 + 1
    params = task.unravel(jnp.zeros(task.size))
    params[-1]["b"] = jnp.array([0.3])
    theta = ravel_model(params)[0]
    x_test = np.random.default_rng(4)
    x_test.random((50, 1))
    xs = x_test.random((40, 1))
    ref = np.mean(np.abs(8 * xs**3 - 10 * xs**2 + 3 * xs - 0.3))
    assert float(task.test_loss(theta)) == pytest.approx(ref, rel=1e-12)
    with pytest.raises(ValueError):
        make_task("poly-quartic")


def test_permutation_pair_has_zero_loss_and_is_not_connected():
    """The paper's example: three points in R^2, a bias-free 12-parameter 2-3-2 ReLU net and
    the same net with two hidden units swapped. Same outputs on the points, zero loss, a
    different point; the straight line between them has a large loss and DSS at L0 = 0.01
    fails with a reason."""
    from trainability.numeric import PERMUTATION_POINTS

    task, a, b = permutation_task()
    assert a.shape == (12,) and task.size == 12
    assert float(task.test_loss(a)) == 0.0 and float(task.test_loss(b)) == 0.0
    assert float(jnp.linalg.norm(a - b)) > 1.0
    w1a, w1b = np.asarray(a[:6]).reshape(2, 3), np.asarray(b[:6]).reshape(2, 3)
    assert np.array_equal(w1a[:, [1, 0, 2]], w1b)  # exactly two units swapped
    h = np.maximum(PERMUTATION_POINTS @ w1a, 0)
    np.testing.assert_allclose(h, np.eye(3), atol=1e-15)  # each unit fires on one point
    assert linear_path(task.test_loss, a, b).max_loss > 0.4
    res = task.sampler(max_depth=2, max_steps=2000).connect(a, b, 0.01)
    assert not res.connected and res.reason
    assert res.max_loss > 0.011


def test_save_load_roundtrip(tmp_path):
    task = make_task("poly-quadratic", n_train=20, n_test=20)
    theta = task.init(7)
    path = save_model(tmp_path / "m.npz", task, theta)
    task2, theta2 = load_model(path)
    assert task2.name == task.name and task2.options == task.options
    np.testing.assert_array_equal(np.asarray(theta2), np.asarray(theta))
    assert float(task2.test_loss(theta2)) == pytest.approx(float(task.test_loss(theta)))
    (tmp_path / "bad.npz").write_bytes(b"not a model")
    for bad in (tmp_path / "missing.npz", tmp_path / "bad.npz"):
        with pytest.raises(ValueError):
            load_model(bad)
    with pytest.raises(ValueError):
        save_model(tmp_path / "x.npz", task, np.zeros(3))


def test_sweep_summary_mean_and_sem():
    """Mean and s.e.m. over connected runs only (NaN elsewhere), against NumPy."""
    nl = np.array([[1.0, 1.2, np.nan], [1.5, np.nan, np.nan]])
    beads = np.array([[3.0, 5.0, np.nan], [9.0, np.nan, np.nan]])
    sw = ConnectivitySweep(
        np.array([0.1, 0.01]), np.arange(3), np.isfinite(nl), nl, beads, nl, [[""] * 3] * 2
    )
    s = sw.summary()
    np.testing.assert_allclose(s["normalized_length"], [1.1, 1.5])
    np.testing.assert_allclose(
        s["normalized_length_sem"][0], np.std([1.0, 1.2], ddof=1) / np.sqrt(2)
    )
    assert s["normalized_length_sem"][1] == 0.0
    np.testing.assert_allclose(s["beads"], [4.0, 9.0])
    np.testing.assert_allclose(s["connected_fraction"], [2 / 3, 1 / 3])


@pytest.mark.slow
def test_quadratic_sweep_trend_and_training():
    """Small sweep: end models reach L0, lower L0 needs more beads (the source's trend)."""
    task = make_task("poly-quadratic", n_train=300, n_test=300)
    theta, value, steps = train_model(task, 0, 0.05)
    assert value <= 0.05 and steps > 0
    sw = connectivity_sweep(task, [0.1, 0.005], range(2), progress=False)
    s = sw.summary()
    assert np.all(s["connected_fraction"] == 1.0)
    assert s["beads"][1] > s["beads"][0] and s["normalized_length"][1] >= 1.0
    assert sw.example is not None and sw.example.threshold == 0.005


def test_polynomial_tasks_follow_the_authors_scripts():
    """QUADRATICS.py: no biases (24 weights), sigmoid output; CUBICS.py: biases and a linear
    output (33 parameters, 24 of them weights). Both: Adam lr 1e-3, 10k/10k points, midpoint
    beads, tolerance 1.1, 10 rounds, length on weights only."""
    quad, cub = make_task("poly-quadratic"), make_task("poly-cubic")
    assert quad.size == 24 and cub.size == 33
    assert quad.options["n_train"] == quad.options["n_test"] == 10000
    assert quad.optimizer.learning_rate == 1e-3
    assert all(set(layer) == {"w"} for layer in quad.unravel(quad.init(0)))
    x = jnp.linspace(0, 1, 50)[:, None]
    out = mlp_apply(quad.unravel(quad.init(3) * 5), x, "sigmoid", "sigmoid")
    assert bool(jnp.all((out > 0) & (out < 1)))
    d = quad.sampler_defaults
    assert (d["placement"], d["tolerance"], d["max_depth"]) == ("midpoint", 1.1, 10)
    assert d["length_mask"].all() and cub.sampler_defaults["length_mask"].sum() == 24
    sampler = quad.sampler()
    assert sampler.placement == "midpoint" and sampler.tolerance == 1.1
