"""Greedy Dynamic String Sampling on landscapes with known answers.

References: convexity (the segment between two points of a sublevel set stays inside it,
so DSS must return the straight line with one bead, normalized length 1, three beads), a ring
double well whose min-max path loss Gamma = B is known in closed form, and direct NumPy
evaluation of the string's lengths and segment maxima.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from _landscapes import A_END as _A, B_END as _B, B, ring, ring_np  # the shared double well
from hypothesis import given, settings, strategies as st

from trainability.numeric import Adam, StringSampler, dynamic_string_sampling

D = 3
A_END, B_END = jnp.asarray(_A), jnp.asarray(_B)


@pytest.fixture(scope="module")
def ring_sampler():
    return StringSampler(ring, optimizer=Adam(1e-2), tolerance=1.05)


def embedded_quadratic(z):
    """A convex quadratic 0.5 (x - c)^T H (x - c) whose H = M M^T + 0.1 I and c ride along in
    the parameter vector z = [x (D), M (D*D), c (D)] behind stop_gradient: every bead carries
    the same (M, c), so Adam never moves them and they add nothing to any distance. One
    compiled sampler thus serves every random quadratic of the property test."""
    x = z[:D]
    m = jax.lax.stop_gradient(z[D : D + D * D].reshape(D, D))
    c = jax.lax.stop_gradient(z[D + D * D :])
    h = m @ m.T + 0.1 * jnp.eye(D)
    return 0.5 * (x - c) @ h @ (x - c)


@pytest.fixture(scope="module")
def quad_sampler():
    return StringSampler(embedded_quadratic, optimizer=Adam(1e-2), max_steps=5000)


def test_convex_gives_straight_string_with_three_beads():
    """Isotropic quadratic, endpoints inside the alpha*L0 sublevel set: the bead at t = 0.5
    needs no training, so the string is the straight line (normalized length exactly 1)."""
    res = dynamic_string_sampling(
        lambda th: jnp.sum(th**2),
        jnp.array([1.0, 0.2, -0.3]),
        jnp.array([-0.4, 0.9, 0.5]),
        threshold=2.0,
    )
    assert res.connected and res.reason == ""
    assert res.n_beads == 3 and res.rounds == 1 and res.training_steps == 0
    assert res.normalized_length == pytest.approx(1.0, abs=1e-12)
    np.testing.assert_allclose(res.beads[1], 0.5 * (res.beads[0] + res.beads[2]))
    # convex: the max along each segment sits at an end bead
    assert res.max_loss == pytest.approx(max(res.bead_losses), rel=1e-12)


@settings(max_examples=15)
@given(seed=st.integers(0, 2**32 - 1), scale=st.floats(0.2, 3.0))
def test_random_convex_quadratics_connect_with_three_beads(quad_sampler, seed, scale):
    """Random convex quadratic, random endpoints, L0 = the larger endpoint loss: DSS connects
    in one round with three beads; every segment stays <= L0 (convexity), and the
    normalized length is 1 when the midpoint already lies below alpha*L0 (no training)."""
    rng = np.random.default_rng(seed)
    m, c = rng.normal(size=(D, D)), rng.normal(size=D)
    a = np.concatenate([c + scale * rng.normal(size=D), m.ravel(), c])
    b = np.concatenate([c + scale * rng.normal(size=D), m.ravel(), c])
    la, lb = float(embedded_quadratic(a)), float(embedded_quadratic(b))
    level = max(la, lb)
    res = quad_sampler.connect(jnp.asarray(a), jnp.asarray(b), level)
    assert res.connected and res.n_beads == 3
    assert res.max_loss <= level * (1 + 1e-9)
    np.testing.assert_allclose(res.beads[:, D:], np.broadcast_to(a[D:], (3, a.size - D)))
    assert res.normalized_length >= 1 - 1e-12
    if float(embedded_quadratic(0.5 * (a + b))) <= 0.95 * level:
        assert res.normalized_length == pytest.approx(1.0, abs=1e-12)
        assert res.training_steps == 0


@pytest.mark.parametrize(
    "level, connected", [(0.3, False), (0.45, False), (0.6, True), (0.8, True)]
)
def test_double_well_connects_exactly_above_barrier(ring_sampler, level, connected):
    """Gamma = B = 0.5 exactly; with tolerance 1.05, DSS must fail for L0 * 1.05 < B and
    succeed above B. Its max interpolated loss is an upper bound on Gamma, so never < B."""
    res = ring_sampler.connect(A_END, B_END, level)
    assert res.connected is connected
    assert res.max_loss >= B - 1e-9
    if connected:
        assert res.max_loss <= 1.05 * level and res.reason == ""
        assert res.n_beads >= 4 and res.normalized_length > 1.05
    else:
        assert "max depth" in res.reason and "not a proof" in res.reason


def test_string_bookkeeping_matches_numpy(ring_sampler):
    """Beads start and end at the two models; bead losses, lengths and segment maxima agree
    with a dense NumPy evaluation (the refined maxima are >= the 401-point scan)."""
    res = ring_sampler.connect(A_END, B_END, 0.6)
    beads = res.beads
    np.testing.assert_allclose(beads[0], A_END)
    np.testing.assert_allclose(beads[-1], B_END)
    np.testing.assert_allclose(res.bead_losses, ring_np(beads), rtol=1e-12)
    seg = np.linalg.norm(np.diff(beads, axis=0), axis=1)
    assert res.length == pytest.approx(seg.sum(), rel=1e-13)
    assert res.normalized_length == pytest.approx(seg.sum() / np.linalg.norm(beads[-1] - beads[0]))
    assert res.bead_losses[1:-1].max() <= 0.95 * 0.6
    t = np.linspace(0, 1, 401)[:, None]
    for i in range(len(beads) - 1):
        dense = ring_np((1 - t) * beads[i] + t * beads[i + 1]).max()
        assert dense - 1e-9 <= res.segment_max_losses[i] <= dense + 1e-3
    assert res.max_loss == res.segment_max_losses.max()


def test_bad_inputs_and_end_model_above_threshold(ring_sampler):
    with pytest.raises(ValueError):
        ring_sampler.connect(A_END, B_END, -1.0)
    with pytest.raises(ValueError):
        ring_sampler.connect(A_END, jnp.zeros(3), 0.5)
    with pytest.raises(ValueError):
        ring_sampler.connect(A_END, A_END, 0.5)
    with pytest.raises(ValueError):
        StringSampler(ring, alpha=1.5)
    res = ring_sampler.connect(jnp.array([0.0, 0.0]), B_END, 0.5)
    assert not res.connected and "end model 1" in res.reason


def test_stalled_bead_training_is_reported():
    """With a zero step budget the first bead cannot reach alpha*L0 on the ring."""
    res = dynamic_string_sampling(ring, A_END, B_END, 0.6, max_steps=0)
    assert not res.connected and "stalled" in res.reason and res.n_beads == 3


def test_public_connectivity_checks_pass():
    """The verify layer's known-answer checks (convex straight string, double-well barrier)."""
    from trainability.verify import connectivity_checks

    verdicts = connectivity_checks()
    assert len(verdicts) == 3 and all(verdicts), [v.why for v in verdicts if not v]


# --- the acceptance tolerance (1.1 L0 by default, as the source's upper value) ------------


def hump(theta):
    """A 1-D hump of height exactly 1 at 0.3: every string from -1 to 1 has a segment across
    it, so the string's max loss is 1 and DSS connects iff tolerance * L0 >= 1."""
    return jnp.exp(-((theta[0] - 0.3) ** 2) / 0.02)


def _hump_outcomes(sampler):
    """Connected at L0 = 1/1.099 and at L0 = 1/1.101 (just inside and outside 1.1 L0)."""
    a, b = jnp.array([-1.0]), jnp.array([1.0])
    return tuple(sampler.connect(a, b, 1 / r).connected for r in (1.099, 1.101))


@pytest.fixture(scope="module")
def hump_default():
    return _hump_outcomes(StringSampler(hump, max_depth=3))


def test_default_tolerance_is_one_point_one(hump_default):
    """Accept at max loss 1.099 L0, reject at 1.101 L0: the default accepts up to 1.1 L0."""
    assert hump_default == (True, False)


@pytest.mark.parametrize("tolerance", [1.0, 1.05, 1.5])
def test_mutant_tolerances_are_caught(hump_default, tolerance):
    """Mutants accepting at exactly L0, at 1.05 L0 or up to 1.5 L0 give other outcomes than the
    default, so the test above fails for each of them."""
    assert _hump_outcomes(StringSampler(hump, max_depth=3, tolerance=tolerance)) != hump_default


def test_midpoint_placement_and_weights_only_length():
    """The authors' protocol: the first bead starts at t = 1/2 (not at the maximiser t* = 0.65
    of the hump), and the length counts only the masked coordinates."""
    a, b = jnp.array([-1.0, 0.0]), jnp.array([1.0, 5.0])

    def hump2(theta):
        return hump(theta[:1])

    worst = StringSampler(hump2, max_depth=2).connect(a, b, 2.0)
    mid = StringSampler(hump2, max_depth=2, placement="midpoint", length_mask=[True, False])
    res = mid.connect(a, b, 2.0)
    assert res.connected and worst.connected  # 1 <= 1.1 * 2: no training, one bead each
    np.testing.assert_allclose(res.beads[1], [0.0, 2.5], atol=1e-15)
    assert worst.beads[1][0] == pytest.approx(0.3, abs=1e-4)
    assert res.length == pytest.approx(2.0) and worst.length == pytest.approx(np.sqrt(29.0))
    with pytest.raises(ValueError):
        StringSampler(hump2, placement="random")


# --- the segment max: refined (default) or the source's scan-only max --------------------


def spike(theta):
    """A broad hump peaking at 0.3 (height 0.5) plus a narrow spike of height 0.5 at 0.305,
    halfway between the scan points t = 0.30 and 0.31 of the segment from 0 to 1."""
    x = theta[0]
    return 0.5 * jnp.exp(-((x - 0.3) ** 2) / 0.1) + 0.5 * jnp.exp(-((x - 0.305) ** 2) / 1e-5)


def spike_np(x):
    return 0.5 * np.exp(-((x - 0.3) ** 2) / 0.1) + 0.5 * np.exp(-((x - 0.305) ** 2) / 1e-5)


def test_refined_and_scan_only_segment_max():
    """Reference: NumPy on the source's grid t = k/100 (InterpBeadError's max, k < 100) and on
    a 10^6-point grid (the true max, about 1.0). ``refine=False`` must return the grid max
    exactly, ``refine=True`` (default) the true max; the two differ by about 0.46."""
    a, b = jnp.array([0.0]), jnp.array([1.0])
    grid = float(spike_np(np.arange(100) / 100).max())
    dense = float(spike_np(np.linspace(0.0, 1.0, 1_000_001)).max())
    scan_only = StringSampler(spike, n_scan=101, refine=False).segment_max(a, b)
    refined = StringSampler(spike, n_scan=101).segment_max(a, b)
    assert scan_only[0] == pytest.approx(grid, abs=1e-12) and scan_only[1] == 0.3
    assert refined[0] == pytest.approx(dense, abs=1e-6)
    assert refined[0] - scan_only[0] > 0.4
