"""The register-tiled C driver against the stepwise one: identical labels.

Reference: the stepwise driver of the same compiled kernel (``tiled=False``: one GD step
over all lanes at a time, then the out-of-range and divergence scans, compaction after
every step), whose labels the other kernel tests check against NumPy loops and JAX. Both
drivers do the same floating-point operations per step, so every label must be equal, for
every divergence rule, with and without the periodic exit, and on orbits that leave the
polynomial's range (the exact fallback).
"""

import numpy as np
import pytest
import sympy

from trainability.analytic import family, from_expression
from trainability.analytic._codegen_c import _loss_upper_bound
from trainability.numeric import CompileError, learning_rates
from trainability.verify import c_sweep_kernel

EXP = from_expression("x**2 + a*exp(-x**2) + b*sin(x/c)", {"a": 0.5, "b": 0.3, "c": 0.2})
CASES = [
    # (landscape, x0, steps, bound): Fig. 2a-like; far out (sin/cos arguments ~1e17,
    # beyond R and beyond the reduction's reach: only the exact fallback gives sane values);
    # f(x0) above the bound (the k = 0 rule of each criterion matters); a 2-D family; a
    # non-trigonometric term, steps not a multiple of the 16-step run; the same with a bound
    # that the sum rule reaches on periodic orbits.
    (family("additive", eps=0.2, lam=0.1), [1.0], 300, 1e8),
    (family("additive", eps=0.2, lam=0.1), [1.6e15], 60, 1e40),
    (family("additive", eps=0.2, lam=0.1), [2e4], 40, 1e8),
    (family("multiplicative", dim=2, eps=0.2, lam=0.1), [0.5, 0.5], 250, 2e8),
    (EXP, [2.0], 203, 1e6),
    (EXP, [2.0], 203, 200.0),
    # A bound of 1 near x0 = 0.9: the loss skipped by its upper bound x**2 + |eps| decides
    # many labels (an upper bound that drops a term would miss divergences).
    (family("additive", eps=0.2, lam=0.1), [0.9], 100, 1.0),
    (family("multiplicative", dim=2, eps=0.2, lam=0.1), [0.6, 0.6], 100, 0.8),
]


def _kernel(land, half_turn=False):
    try:
        return c_sweep_kernel(land, "poly", half_turn=half_turn)
    except CompileError as exc:  # pragma: no cover - no compiler on this machine
        pytest.skip(str(exc))


def _both(k, *args, method="__call__", **kw):
    out = []
    for tiled in (False, True):
        k.tiled = tiled
        try:
            out.append(getattr(k, method)(*args, **kw))
        finally:
            k.tiled = True
    return out


@pytest.mark.parametrize("half_turn", [False, True], ids=["quarter", "half"])
@pytest.mark.parametrize("criterion", ["max", "sum", "above"])
@pytest.mark.parametrize("case", range(len(CASES)))
def test_tiled_labels_equal_stepwise(case, criterion, half_turn):
    land, x0, steps, bound = CASES[case]
    k = _kernel(land, half_turn).with_criterion(criterion)
    lrs = np.concatenate([learning_rates(11, 0.0, 0.05), learning_rates(11, 0.0, 1.5)])
    (ref, ev_ref), (got, ev) = _both(k, lrs, x0, land.parameter_values(), steps, bound)
    np.testing.assert_array_equal(got, ref)
    # The tiled driver finishes every 16-step run a lane starts, plus the exact reruns of
    # runs that left the polynomial's range (at most as many again).
    assert ev_ref <= ev <= 2 * lrs.size * (steps + 16)


def test_tiled_exact_fallback_is_exercised():
    """Far out, every step's argument is beyond R: without the exact rerun the labels of
    the tiled driver would come from garbage polynomial values."""
    land, x0, steps, bound = CASES[1]
    k = _kernel(land)
    lrs = learning_rates(10, 0.0, 1.5)
    (ref, _), (got, _) = _both(k, lrs, x0, land.parameter_values(), steps, bound)
    np.testing.assert_array_equal(got, ref)
    assert ref.any() and not ref.all()


def test_tiled_periodic_exit_and_lanes():
    """Periodic exit off and on, and per-lane starts (sweep_lanes): same labels."""
    land, _, steps, bound = CASES[0]
    k = _kernel(land)
    lrs = learning_rates(11, 0.0, 1.5)
    k.check_period = False
    try:
        (off_ref, _), (off, _) = _both(k, lrs, [1.0], (0.2, 0.1), steps, bound)
    finally:
        k.check_period = True
    (on_ref, _), (on, _) = _both(k, lrs, [1.0], (0.2, 0.1), steps, bound)
    np.testing.assert_array_equal(off, off_ref)
    np.testing.assert_array_equal(on, on_ref)
    np.testing.assert_array_equal(on, off)
    x0s = np.random.default_rng(3).uniform(-2, 2, (lrs.size, 1))
    (ref, _), (got, _) = _both(k, lrs, x0s, (0.2, 0.1), steps, bound, method="sweep_lanes")
    np.testing.assert_array_equal(got, ref)


@pytest.mark.parametrize(
    "text",
    [
        "x**2 + a*cos(x/b)",
        "(1 + a*cos(x) + a*sin(2*x))*(x**2 + 1)",
        "x**2 - a*x*sin(x)**3 + exp(a*cos(x/b))",
        "x**4 - 3*x**2 + a*(sin(x) + 2)**3",
    ],
)
def test_loss_upper_bound_dominates_the_loss(text):
    """U >= f and M >= |U| at random points and hyperparameters of both signs (NumPy
    brute force), and U is free of sin/cos."""
    expr = sympy.sympify(text)
    x, a, b = sympy.symbols("x a b")
    u, m = _loss_upper_bound(expr)
    assert not u.has(sympy.sin, sympy.cos)
    f_, u_, m_ = (sympy.lambdify((x, a, b), e, "numpy") for e in (expr, u, m))
    rng = np.random.default_rng(5)
    xs, av, bv = rng.uniform(-4, 4, (3, 20000))
    f, up, mag = f_(xs, av, bv), u_(xs, av, bv), m_(xs, av, bv)
    assert np.all(up >= f - 1e-12 * mag)
    assert np.all(mag >= np.abs(up) * (1 - 1e-12))
    assert np.mean(up - f < 0.5) > 0.01  # not a vacuous (huge) bound


def test_d100_tiled_agrees_with_libm_kernel():
    """d = 100 multiplicative family: the tiled polynomial kernel and the libm kernel give
    the same labels up to rounding-sensitive ones. (Reference: the libm C kernel; on the
    lane lr = 0.0168017578125 a 50-digit mpmath orbit, ``reference_label``, says trainable
    like both. The stepwise polynomial driver labels about 2 % of these learning rates
    divergent (10 of 513; a 30-digit mpmath orbit says trainable on all 10). The cause is
    gcc's default floating-point contraction (``-ffp-contract=fast`` in GNU C): the two
    drivers' loops get different fused multiply-adds, i.e. different float64 orbits, and
    from the symmetric start x0 = (0.05, ..., 0.05) this family is a 1-D loss of roughness
    eps * d = 20, where a band of learning rates is rounding-sensitive. With
    ``#pragma GCC optimize("fp-contract=off")`` both drivers differ from libm on 3 labels.)"""
    land = family("multiplicative", dim=100, eps=0.2, lam=0.1)
    lrs = learning_rates(9, 0.0, 0.03)
    x0 = [0.05] * 100
    got, _ = _kernel(land)(lrs, x0, (0.2, 0.1), 1000, 1e8)
    try:
        ref, _ = c_sweep_kernel(land, "libm")(lrs, x0, (0.2, 0.1), 1000, 1e8)
    except CompileError as exc:  # pragma: no cover
        pytest.skip(str(exc))
    assert 0.3 < ref.mean() < 0.95
    assert np.count_nonzero(got != ref) <= 2
