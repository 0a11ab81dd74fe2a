"""Numeric layer of the alpha-beta condition, against NumPy brute force and closed forms."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from trainability.numeric import (
    admissible_grid,
    affine_projector,
    aiming_constant,
    finite_sum_run,
    halfspace_dataset,
    halfspace_loss,
    nearest_point_projector,
    pl_constant,
    quasar_constant,
    smallest_admissible,
    track_training,
    worst_slack,
)

CENTERS = jnp.array([[1.0, 0.0], [-1.0, 2.0], [0.0, -1.0]])


def quad_pieces(x):
    """f_i = |x - c_i|^2 / 2: f (..., 3), g (..., 3, 2)."""
    diff = x[..., None, :] - CENTERS
    return 0.5 * jnp.sum(diff**2, -1), diff


def square_pieces(x):
    """A single piece f = x^2 / 2 in 1-D."""
    return 0.5 * x**2, x[..., None, :]


def test_projectors_against_numpy():
    """Affine projection vs the least-squares formula; nearest point vs brute force."""
    rng = np.random.default_rng(0)
    p, U = rng.normal(size=3), rng.normal(size=(2, 3))
    x = rng.normal(size=(50, 3))
    proj = np.asarray(affine_projector(p, U)(jnp.asarray(x)))
    coef = np.linalg.lstsq(U.T, (x - p).T, rcond=None)[0]
    np.testing.assert_allclose(proj, p + (U.T @ coef).T, atol=1e-12)
    pts = rng.normal(size=(4, 3))
    near = np.asarray(nearest_point_projector(pts)(jnp.asarray(x)))
    brute = pts[np.argmin(((x[:, None] - pts) ** 2).sum(-1), 1)]
    np.testing.assert_array_equal(near, brute)


def test_worst_slack_closed_form():
    """f = x^2/2, S = {0}: slack = x^2 (1 - alpha/2 + beta/2); (3, 0) on [-2, 1] gives -2 at
    x = -2 (closed form); convex pieces satisfy (1, 0) (slack = x^2/2 >= 0)."""
    proj = nearest_point_projector([[0.0]])
    w = worst_slack(square_pieces, proj, [0.0], 3.0, 0.0, [-2.0], [1.0], samples=512)
    assert w.value == pytest.approx(-2.0, abs=1e-12) and w.point[0] == pytest.approx(-2.0)
    assert not w.holds
    ok = worst_slack(square_pieces, proj, [0.0], 1.0, 0.0, [-2.0], [1.0], samples=512)
    assert ok.holds and ok.value >= 0


def test_worst_slack_convex_finite_sum_holds_with_one_zero():
    """Convex pieces (quadratics) satisfy alpha-beta with (1, 0) everywhere."""
    proj = nearest_point_projector(np.asarray(CENTERS).mean(0, keepdims=True))
    w = worst_slack(quad_pieces, proj, [0.0, 0.0, 0.0], 1.0, 0.0, [-4, -4], [4, 4], 4096, 4)
    assert w.value >= -1e-12


def test_admissible_grid_against_loop():
    """Grid minimum vs a plain Python loop over pairs and entries."""
    rng = np.random.default_rng(1)
    A, B, C = rng.normal(size=(3, 200))
    alphas, betas = np.linspace(0.1, 3, 7), np.linspace(0, 3, 5)
    reg = admissible_grid(A, B, C, alphas, betas, margin=0.1, chunk=64)
    for i, a in enumerate(alphas):
        for j, b in enumerate(betas):
            if a >= b + 0.1 - 1e-12:
                assert reg.worst[i, j] == pytest.approx(np.min(A - a * B + b * C), rel=1e-12)
            else:
                assert np.isnan(reg.worst[i, j]) and not reg.admissible[i, j]
    best = smallest_admissible(reg)
    if best is not None:
        i = int(np.argmin(np.abs(alphas - best[0])))
        assert not reg.admissible[:i].any()


def test_condition_constants_closed_form():
    """f = x^2 (1-D): PL ratio |2x|^2/x^2 = 4, aiming and quasar ratio <2x, x>/x^2 = 2."""

    def lg(x):
        return jnp.sum(x**2, -1), 2 * x

    pl = pl_constant(lg, 0.0, [-1.0], [2.0], 1024)
    assert pl.constant == pytest.approx(4.0, rel=1e-12) and pl.holds
    proj = nearest_point_projector([[0.0]])
    assert aiming_constant(lg, proj, 0.0, [-1.0], [2.0], 1024).constant == pytest.approx(2.0)
    assert quasar_constant(lg, [0.0], 0.0, [-1.0], [2.0], 1024).constant == pytest.approx(2.0)
    # A saddle point passed in explicitly: f = x^2 - x^4/4 + ... not needed; use f = x^3 + 1
    # shifted so f* = 0 at the box edge: the critical point x = 0 has gradient 0, f - f* > 0.

    def cubic(x):
        return jnp.sum(x**3 + 1.0, -1), 3 * x**2

    c = pl_constant(cubic, 0.0, [-1.0], [1.0], 64, points=[[0.0]])
    assert c.constant == pytest.approx(0.0, abs=1e-300) and not c.holds


def test_finite_sum_run_matches_numpy_replay():
    """SGD iterates and T terms vs a NumPy loop replaying the sampled indices."""
    star = np.zeros(3)
    run = finite_sum_run(quad_pieces, [3.0, -2.0], 50, "sgd", 0.3, seeds=3, seed=7)
    c = np.asarray(CENTERS)
    for s in range(3):
        x = np.array([3.0, -2.0])
        xs = [x]
        for i in run.indices[s]:
            x = x - 0.3 * (x - c[i])
            xs.append(x)
        xs = np.array(xs)
        np.testing.assert_allclose(run.iterates[s], xs, atol=1e-13)
        f_full = 0.5 * ((xs[:, None] - c) ** 2).sum(-1).mean(-1)
        np.testing.assert_allclose(run.losses[s], f_full, atol=1e-13)
        xK = xs[-1]
        idx = run.indices[s]
        g = xs[:-1] - c[idx]
        fi = 0.5 * (g**2).sum(-1)
        fiK = 0.5 * ((xK - c[idx]) ** 2).sum(-1)
        np.testing.assert_allclose(run.A[s], (g * (xs[:-1] - xK)).sum(-1), atol=1e-12)
        np.testing.assert_allclose(run.B[s], fi - fiK, atol=1e-13)
        np.testing.assert_allclose(run.C[s], fi - star[idx], atol=1e-13)


def test_sps_and_ngn_coincide_with_sgd_half_on_quadratics():
    """On f_i = |x - c_i|^2/2: f_i = |g|^2/2, so SPS_max (c = 1, gamma_b >= 1/2) and NGN
    (gamma = 1) both take the step 1/2 exactly, i.e. they are SGD with gamma = 1/2."""
    kw = {"seeds": 2, "seed": 3}
    sgd = finite_sum_run(quad_pieces, [2.0, 2.0], 30, "sgd", 0.5, **kw)
    sps = finite_sum_run(quad_pieces, [2.0, 2.0], 30, "sps_max", c=1.0, gamma_b=1.0, **kw)
    ngn = finite_sum_run(quad_pieces, [2.0, 2.0], 30, "ngn", 1.0, **kw)
    for other in (sps, ngn):
        np.testing.assert_allclose(other.step_sizes, 0.5, rtol=1e-12)
        np.testing.assert_allclose(other.iterates, sgd.iterates, atol=1e-12)
    with pytest.raises(ValueError):
        finite_sum_run(quad_pieces, [0.0, 0.0], 5, "adam")


def test_track_training_full_batch_identities():
    """Full batch: C_0 = f(x_0), B_0 = f(x_0) - f(x_K); last step A_{K-1} = lr |g|^2 >= 0;
    deterministic replay gives identical traces for the same seed."""
    X, y = halfspace_dataset(n=64, d=5, seed=1)

    def init(k):
        return 0.1 * jax.random.normal(k, (5,))

    t1 = track_training(halfspace_loss(1e-2), init, X, y, 40, 0.5, 64, seeds=2, seed=4)
    t2 = track_training(halfspace_loss(1e-2), init, X, y, 40, 0.5, 64, seeds=2, seed=4)
    np.testing.assert_array_equal(t1.A, t2.A)
    np.testing.assert_allclose(t1.C[:, 0], t1.losses[:, 0], rtol=1e-13)
    np.testing.assert_allclose(t1.B[:, 0], t1.losses[:, 0] - t1.losses[:, 1], rtol=1e-10)
    assert np.all(t1.A[:, -1] >= 0)
    with pytest.raises(ValueError):
        track_training(halfspace_loss(), init, X, y, 5, 0.1, 1000)


def test_bad_box_raises():
    proj = nearest_point_projector([[0.0]])
    with pytest.raises(ValueError):
        worst_slack(square_pieces, proj, [0.0], 1.0, 0.0, [1.0], [0.0])


# --- estimate_alpha_beta: the one-call API on a user's loss and trajectory -----------------


def _momentum_trajectory(grad, w0, steps, lr0, beta=0.9):
    """Heavy-ball SGD with a 1/sqrt(k) schedule, one sample per step (seeded)."""
    rng = np.random.default_rng(0)
    w, v, out = w0, jnp.zeros_like(w0), [w0]
    for k in range(steps):
        v = beta * v + grad(w, int(rng.integers(3)))
        w = w - lr0 / np.sqrt(k + 1) * v
        out.append(w)
    return out


def test_estimate_alpha_beta_known_answer_shifted_quadratics():
    """f_i(w) = |w - c_i|^2/2 + d_i: f_i^* = d_i exactly (the estimate must find it), and the
    smallest beta per alpha equals an independent NumPy evaluation of max (alpha B - A)/C."""
    from trainability.numeric import estimate_alpha_beta

    c = jnp.array([[1.0, 0.0], [-1.0, 2.0], [0.0, -1.0]])
    d = jnp.array([0.3, 0.0, 1.5])

    def loss(w, ci, di):
        return 0.5 * jnp.sum((w - ci) ** 2) + di

    traj = _momentum_trajectory(lambda w, i: w - c[i], jnp.array([4.0, -3.0]), 60, 0.05)
    est = estimate_alpha_beta(loss, traj, c, d, alphas=[0.5, 1.0, 2.0, 4.0])
    np.testing.assert_allclose(est.piece_star, d, atol=1e-8)
    Z = np.stack([np.asarray(w) for w in traj])
    zK = Z[-1]
    g = Z[:, None, :] - np.asarray(c)[None]
    A = np.einsum("knd,kd->kn", g, Z - zK)
    f = 0.5 * np.sum(g**2, -1) + np.asarray(d)
    fK = 0.5 * np.sum((zK - np.asarray(c)) ** 2, -1) + np.asarray(d)
    B, C = f - fK, f - np.asarray(d)
    for a, b in zip(est.alphas, est.beta_min, strict=True):
        ref = max(0.0, float(np.max((a * B - A) / C)))
        if ref <= a - 0.1:
            assert b == pytest.approx(ref, rel=1e-9, abs=1e-12)
        else:
            assert np.isnan(b)
    assert est.admissible(1.0, 0.0, tol=1e-12)  # convex pieces: (1, 0) on every trajectory
    assert est.smallest is not None and est.smallest[0] <= 1.0


def test_estimate_alpha_beta_adam_logistic_and_rejection():
    """Adam on logistic regression (convex): (1, 0) admissible; alpha = 4, beta = 0 demands
    more than convexity gives along the early, far iterates and is rejected."""
    from trainability.numeric import estimate_alpha_beta

    rng = np.random.default_rng(1)
    X = jnp.asarray(rng.standard_normal((20, 3)))
    y = jnp.where(X @ jnp.array([1.0, -2.0, 0.5]) > 0, 1.0, -1.0)

    def loss(w, x, t):
        return jnp.logaddexp(0.0, -t * (x @ w))

    full = jax.jit(jax.grad(lambda w: jnp.mean(jax.vmap(loss, (None, 0, 0))(w, X, y))))
    w, m, v, traj = jnp.array([2.0, 2.0, -2.0]), 0.0, 0.0, []
    for k in range(1, 101):
        traj.append(w)
        g = full(w)
        m, v = 0.9 * m + 0.1 * g, 0.999 * v + 0.001 * g**2
        w = w - 0.1 * (m / (1 - 0.9**k)) / (jnp.sqrt(v / (1 - 0.999**k)) + 1e-8)
    est = estimate_alpha_beta(loss, traj, X, y, star_steps=200)
    assert est.admissible(1.0, 0.0, tol=1e-12)
    assert not est.admissible(4.0, 0.0)
    assert np.all(est.piece_star >= 0)  # logistic: f_i > 0, the estimate is a value taken
    with pytest.raises(ValueError):
        estimate_alpha_beta(loss, traj[:1], X, y)
    with pytest.raises(ValueError):  # a "minimum" above the losses taken
        estimate_alpha_beta(loss, traj, X, y, piece_star=10.0)


def test_gaussian_classes_and_sgd_trajectory():
    """40 points, two classes of variance 2 (seeded); full-batch sgd_trajectory equals GD by
    hand, momentum and a schedule are applied as heavy ball with lr(k)."""
    from trainability.numeric import gaussian_classes, sgd_trajectory

    X, y = gaussian_classes(40, 2, 2.0, seed=3)
    X2, _ = gaussian_classes(40, 2, 2.0, seed=3)
    assert X.shape == (40, 2) and np.array_equal(X, X2) and y.sum() == 0
    big, _ = gaussian_classes(20000, 2, 2.0, seed=0)
    assert np.var(big[:10000], axis=0) == pytest.approx([2.0, 2.0], rel=0.05)

    def loss(w, x, t):
        return 0.5 * (x @ w - t) ** 2

    w0 = jnp.array([0.3, -0.2])
    traj = sgd_trajectory(loss, w0, X, y, 3, lambda k: 0.1 / (k + 1), batch=40, momentum=0.5)
    w, v = np.asarray(w0), 0.0
    for k in range(3):
        v = 0.5 * v + np.mean((X @ w - y)[:, None] * X, axis=0)
        w = w - 0.1 / (k + 1) * v
        np.testing.assert_allclose(np.asarray(traj[k + 1]), w, rtol=1e-12)
    with pytest.raises(ValueError):
        sgd_trajectory(loss, w0, X, y, 3, 0.1, batch=41)
