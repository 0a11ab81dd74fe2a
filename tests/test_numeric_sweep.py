"""The learning-rate sweep against closed forms, a brute-force NumPy loop and mpmath orbits."""

import dataclasses
import math

import numpy as np
import pytest
from hypothesis import given, strategies as st

from trainability.analytic import family, jax_kernels, numpy_kernels
from trainability.numeric import learning_rates, lr_sweep, trainable
from trainability.verify import (
    check_labels_against_reference,
    robust_indices,
    sweep_landscape,
)
from trainability.verify.strategies import nonzero_starts

QUAD = jax_kernels(family("quadratic"))
ADD = family("additive", eps=0.2, lam=0.1)
ADD_K = jax_kernels(ADD)
MULT = family("multiplicative", eps=0.2, lam=0.1)


def numpy_labels(land, lrs, x0, steps, bound):
    """Brute-force reference: a plain NumPy loop over steps, vectorised over learning rates."""
    k = numpy_kernels(land)
    params = land.parameter_values()
    x = np.full((lrs.size, land.dim), x0, dtype=np.float64)
    ok = np.ones(lrs.size, bool)
    with np.errstate(all="ignore"):
        for _ in range(steps + 1):
            f, g = k.loss_and_grad(x, params)
            ok &= f <= bound
            x = x - lrs[:, None] * g
    return ok


def test_grid_is_exactly_nested():
    fine = learning_rates(12, 0.0, 1.5)
    for n in range(13):
        np.testing.assert_array_equal(learning_rates(n, 0.0, 1.5), fine[:: 2 ** (12 - n)])
    assert fine[0] == 0.0 and fine[-1] == 1.5


@given(x0=nonzero_starts(50.0, 0.01))
def test_quadratic_single_boundary_at_one(x0):
    """f = x^2: x_k = (1-2s)^k x0, so every s <= 1 is trainable and the only boundary sits at
    the finite-step value s* = (1 + (B/x0^2)^(1/2T))/2, which tends to 1 (closed form)."""
    steps, bound, levels = 400, 1e8, 9
    r = lr_sweep(QUAD.loss_and_grad, x0, levels=levels, steps=steps, bound=bound)
    lrs = r.learning_rates()
    assert np.all(r.boundary_counts == 1)
    assert np.all(r.labels[lrs <= 1.0])
    s_star = (1 + (bound / x0**2) ** (1 / (2 * steps))) / 2
    i = np.flatnonzero(r.labels[1:] != r.labels[:-1])[0]
    assert lrs[i] <= s_star + 1e-12 and s_star - 1e-12 <= lrs[i + 1]


def test_sweep_matches_numpy_brute_force():
    """Labels from the chunked JAX sweep vs a plain NumPy loop on the Fig. 2a protocol.
    Both use float64, but XLA's and NumPy's sin/cos may differ in the last bit, so labels can
    differ only at rounding-sensitive points; demand near-total agreement and equal B_N at
    coarse levels."""
    levels, steps = 10, 1000
    r = sweep_landscape(ADD, 1.0, levels=levels, steps=steps, chunk_size=300)
    ref = numpy_labels(ADD, r.learning_rates(), 1.0, steps, 1e8)
    assert np.mean(r.labels != ref) <= 0.01
    assert r.labels.sum() > 0.4 * r.n_points  # protocol sanity: much of [0, 1] trains


def test_chunking_and_padding_do_not_change_labels():
    a = sweep_landscape(MULT, 1.0, levels=9, steps=300, chunk_size=512)
    b = sweep_landscape(MULT, 1.0, levels=9, steps=300, chunk_size=100)
    np.testing.assert_array_equal(a.labels, b.labels)


def test_labels_agree_with_mpmath_away_from_boundary():
    """JAX labels equal the 50-digit mpmath reference orbit's at learning rates whose grid
    neighbours share their label (robust labels)."""
    r = sweep_landscape(ADD, 1.0, levels=7, steps=1000)
    verdict = check_labels_against_reference(ADD, r, 1.0, samples=10, seed=1)
    assert verdict.passed, verdict.why


def test_reference_check_detects_wrong_labels():
    """The check must fail when labels are wrong (flip every label of a correct sweep)."""
    r = sweep_landscape(ADD, 1.0, levels=5, steps=1000)
    flipped = dataclasses.replace(r, labels=~r.labels)
    assert not check_labels_against_reference(ADD, flipped, 1.0, samples=5).passed


@given(st.lists(st.booleans(), min_size=3, max_size=40), st.integers(1, 3))
def test_robust_indices_brute_force(labels, margin):
    """Indices whose `margin` neighbours on both sides share their label (brute-force loop)."""
    lab = np.array(labels)
    expected = [
        i
        for i in range(margin, lab.size - margin)
        if all(lab[j] == lab[i] for j in range(i - margin, i + margin + 1))
    ]
    assert robust_indices(lab, margin).tolist() == expected


def test_nan_and_bound_semantics():
    """A loss that is NaN counts as divergent; loss exactly at the bound is not divergent."""
    lrs = np.array([0.1, 0.5])

    def nan_loss(x, params):
        return x[:, 0] * np.nan, x

    assert not np.any(np.asarray(trainable(nan_loss, lrs, 1.0, steps=3)))
    # f(x0) = 1 = bound, with s = 0.5 GD jumps to 0: trainable.
    assert np.asarray(trainable(QUAD.loss_and_grad, lrs, 1.0, steps=5, bound=1.0)).all()
    assert not np.asarray(trainable(QUAD.loss_and_grad, lrs, 1.0, steps=5, bound=0.99)).any()


def test_float32_option_runs_and_agrees_on_easy_points():
    r64 = sweep_landscape(ADD, 1.0, levels=6, steps=200)
    r32 = sweep_landscape(ADD, 1.0, levels=6, steps=200, dtype="float32")
    assert r32.labels.dtype == bool
    assert np.mean(r64.labels == r32.labels) > 0.9


def test_vector_x0_in_d_dimensions():
    """x0 = (1/d)(1,...,1) in d = 3 (reference protocol) against the NumPy loop."""
    land = family("additive", dim=3, eps=0.2, lam=0.1)
    r = sweep_landscape(land, [1 / 3] * 3, levels=6, steps=200, bound=3e8)
    ref = numpy_labels(land, r.learning_rates(), 1 / 3, 200, 3e8)
    assert np.mean(r.labels == ref) > 0.95
    assert r.n_points == 65


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(levels=0),
        dict(levels=31),
        dict(lr_min=1.0, lr_max=1.0),
        dict(steps=0),
        dict(bound=-1.0),
        dict(dtype="float16"),
        dict(lr_max=math.inf),
        dict(engine="fast"),
    ],
)
def test_bad_sweep_arguments(kwargs):
    with pytest.raises(ValueError):
        lr_sweep(QUAD.loss_and_grad, 1.0, **{"levels": 4, **kwargs})


@given(st.integers(0, 5000), st.integers(1, 700))
def test_chunk_bounds_tile_the_range(total, size):
    """The one chunk loop: consecutive, disjoint chunks of ``size`` (the last one shorter)
    covering ``range(total)`` exactly, as many as the store's ``n_chunks``."""
    from trainability.numeric._sweep import chunk_bounds

    bounds = chunk_bounds(total, size)
    assert len(bounds) == -(-total // size)
    assert [i for lo, hi in bounds for i in range(lo, hi)] == list(range(total))
    assert all(hi - lo == size for lo, hi in bounds[:-1])
