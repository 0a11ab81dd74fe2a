"""The register-tiled C driver against the stepwise one: identical labels.

Reference: the stepwise driver of the same compiled kernel (``tiled=False``: one GD step
over all lanes at a time, then the out-of-range and divergence scans, compaction after
every step), whose labels the other kernel tests check against NumPy loops and JAX. Both
drivers do the same floating-point operations per step, so every label must be equal, for
every divergence rule, with and without the periodic exit, and on orbits that leave the
polynomial's range (the exact fallback).
"""

import os
import shutil

import numpy as np
import pytest
import sympy

from trainability.analytic import c_sweep_source, family, from_expression, numpy_kernels
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


def _kernel(land, half_turn=False, **options):
    try:
        return c_sweep_kernel(land, "poly", half_turn=half_turn, **options)
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
    # The unrolled driver this test was written for (auto picks the wide one at d = 100).
    got, _ = _kernel(land, layout="unrolled")(lrs, x0, (0.2, 0.1), 1000, 1e8)
    try:
        ref, _ = c_sweep_kernel(land, "libm", layout="unrolled")(lrs, x0, (0.2, 0.1), 1000, 1e8)
    except CompileError as exc:  # pragma: no cover
        pytest.skip(str(exc))
    assert 0.3 < ref.mean() < 0.95
    assert np.count_nonzero(got != ref) <= 2


def _numpy_divergence_steps(land, lrs, x0, steps, bound):
    """Brute-force NumPy loop (libm): the first step at which each lane's loss exceeds
    ``bound`` (-1: never), to show where in a run the lanes of a tile diverge."""
    lg = numpy_kernels(land).loss_and_grad
    x = np.broadcast_to(np.asarray(x0, float), (lrs.size, land.dim)).copy()
    k_div = np.full(lrs.size, -1)
    with np.errstate(all="ignore"):
        for k in range(steps + 1):
            f, g = lg(x, land.parameter_values())
            k_div[(k_div < 0) & ~(f <= bound)] = k
            x = x - lrs[:, None] * g
    return k_div


@pytest.mark.parametrize("criterion", ["max", "sum", "above"])
def test_tiled_equals_stepwise_when_lanes_diverge_mid_run_at_different_steps(criterion):
    """Fig. 2a at lr in [1, 1.06]: within every 16-lane tile the lanes diverge at different
    steps, mid-run (NumPy loop: 15 distinct steps among the first 16 lanes), some never.
    A wrong lane offset, a flag that is overwritten instead of accumulated, or a run's
    store left out changes labels here."""
    land = family("additive", eps=0.2, lam=0.1)
    lrs = np.linspace(1.0, 1.06, 96)
    k_div = _numpy_divergence_steps(land, lrs, [1.0], 300, 1e8)
    assert len(set(k_div[16:32] % 16)) > 8 and (k_div < 0).any()
    k = _kernel(land).with_criterion(criterion)
    (ref, _), (got, _) = _both(k, lrs, [1.0], land.parameter_values(), 300, 1e8)
    np.testing.assert_array_equal(got, ref)
    assert 0.1 < ref.mean() < 0.9


@pytest.mark.parametrize("criterion", ["max", "sum", "above"])
def test_tiled_equals_stepwise_when_arguments_leave_the_range_mid_run(criterion):
    """x0 = 2e4 (sin argument 1.26e6, inside R = 1.6e6) and lr near 1: |1 - 2 lr| > 1
    lanes grow past |x| = R lam / (2 pi) after some steps of a run, the run is redone
    exactly (libm beyond R), and they diverge (bound 1e12) at steps 42..94 (NumPy loop)."""
    land = family("additive", eps=0.2, lam=0.1)
    lrs = np.linspace(0.95, 1.05, 64)
    k_div = _numpy_divergence_steps(land, lrs, [2e4], 100, 1e12)
    assert (k_div < 0).any() and (k_div > 16).any()
    k = _kernel(land).with_criterion(criterion)
    (ref, _), (got, ev) = _both(k, lrs, [2e4], land.parameter_values(), 100, 1e12)
    np.testing.assert_array_equal(got, ref)
    assert ev > lrs.size * 16  # beyond the first run, with reruns


def _same_bits(a, b):
    return (a.view(np.uint64) == b.view(np.uint64)) | (np.isnan(a) & np.isnan(b))


def _scalar_values(k, name, x):
    if name in ("sin", "cos", "hsin", "hcos"):
        s, c = k.sincos(x, "quarter" if name in ("sin", "cos") else "half")
        return s if name.endswith("sin") else c
    return getattr(k, name)(x)


def test_vector_transcendentals_equal_scalar_ones_bit_for_bit():
    """The register tile's ``tr_v*`` functions against the scalar ones on random arguments
    and specials (+-0, subnormals, +-inf, NaN, range ends): the same bits.

    Reference: the scalar function called on one value at a time (as ``tr_lane_rerun``
    calls it), and on the whole array (gcc's auto-vectorised loop, as the stepwise driver
    runs it). The latter agrees too, except for sinh: gcc's auto-vectorised loop over the
    scalar ``tr_sinh`` rounds differently from its own scalar code at some |x| > 1 (1 ulp;
    the vector twin agrees with the scalar code).
    """
    k = _kernel(family("additive", eps=0.2, lam=0.1))
    rng = np.random.default_rng(17)
    specials = np.array(
        [0.0, -0.0, 5e-324, -5e-324, 2.2e-308, np.inf, -np.inf, np.nan, 1.0, -1.0, 0.5]
    )
    wide = rng.uniform(-800, 800, 1000)
    trig = np.concatenate([rng.uniform(-20, 20, 1000), rng.uniform(-1.6e6, 1.6e6, 1000)])
    positive = 10.0 ** rng.uniform(-320, 308, 1000)
    inputs = {
        "sin": trig,
        "cos": trig,
        "hsin": trig,
        "hcos": trig,
        "exp": wide,
        "tanh": np.concatenate([wide, rng.uniform(-3, 3, 1000)]),
        "log": np.concatenate([positive, -positive[:100]]),
        "cosh": wide,
        "sinh": np.concatenate([wide, rng.uniform(-1.5, 1.5, 1000)]),
    }
    for name, x in inputs.items():
        x = np.concatenate([x, specials])
        vector = k.vector_twin(name, x)
        one_by_one = np.array([_scalar_values(k, name, x[i : i + 1])[0] for i in range(x.size)])
        same = _same_bits(vector, one_by_one)
        assert same.all(), (name, x[~same][:5], vector[~same][:5], one_by_one[~same][:5])
        if name != "sinh":
            assert _same_bits(vector, _scalar_values(k, name, x)).all(), name
    with pytest.raises(ValueError, match="name must be one of"):
        k.vector_twin("tan", [0.0])


def test_vector_tile_falls_back_where_the_step_has_no_vector_twin():
    """A loss with a libm-only function (here sqrt) or a comparison (the gradient of
    Abs(x) is SymPy's sign(x), printed as comparisons) keeps the scalar tile; the vector
    tile is used for the families (the generated source says which)."""
    land = from_expression("x**2 + a*sqrt(1 + x**2)", {"a": 0.5})
    assert "#define TR_VTILE 0" in c_sweep_source(land)
    assert "#define TR_VTILE 0" in c_sweep_source(from_expression("x**2 + a*Abs(x)", {"a": 1}))
    assert "#define TR_VTILE 1" in c_sweep_source(family("additive", eps=0.2, lam=0.1))
    assert "#define TR_VTILE 0" in c_sweep_source(family("additive", eps=0.2, lam=0.1), "libm")
    k = _kernel(land)
    lrs = learning_rates(8, 0.0, 1.5)
    (ref, _), (got, _) = _both(k, lrs, [1.0], (0.5,), 200, 1e8)
    np.testing.assert_array_equal(got, ref)


def _numpy_rule_labels(land, lrs, x0, steps, bound, criterion):
    """Brute-force NumPy loop of the three divergence rules (see ``with_criterion``)."""
    lg = numpy_kernels(land).loss_and_grad
    x = np.broadcast_to(np.asarray(x0, float), (lrs.size, land.dim)).copy()
    ok, s = np.ones(lrs.size, bool), np.zeros(lrs.size)
    for k in range(steps + 1):
        f, g = lg(x, land.parameter_values())
        if criterion == "max":
            ok &= f <= bound
        elif k > 0 and criterion == "sum":
            s += f
            ok &= s < bound
        elif k > 0:
            ok &= ~(f > bound)
        x = x - lrs[:, None] * g
    return ok


@pytest.mark.parametrize("criterion", ["max", "sum", "above"])
def test_a_divergence_that_ends_mid_run_still_counts(criterion):
    """``x**2 - 1`` from x0 in [2.5, 1.5] (lr from 0.02 to 0.4): the loss (and, the loss
    being negative later, the sum of losses) exceeds the bound 2 early in the first run and
    falls below it again, so a tile that overwrote its divergence flags instead of
    accumulating them would call these lanes trainable. Reference: the rules written out as
    a NumPy loop (no transcendentals, so the same float64 orbit)."""
    land = from_expression("x**2 - a", {"a": 1.0})
    assert "#define TR_VTILE 1" in c_sweep_source(land)
    lrs = np.linspace(0.02, 0.4, 48)
    x0s = np.linspace(2.5, 1.5, lrs.size)[:, None]
    k = _kernel(land).with_criterion(criterion)
    (ref, _), (got, _) = _both(k, lrs, x0s, (1.0,), 40, 2.0, method="sweep_lanes")
    np.testing.assert_array_equal(got, ref)
    expect = np.array(
        [_numpy_rule_labels(land, lrs[i : i + 1], x0s[i], 40, 2.0, criterion)[0] for i in range(48)]
    )
    np.testing.assert_array_equal(got, expect)
    assert expect.any() and not expect.all()


@pytest.mark.parametrize(
    "text",
    [
        "x**2 + a*cosh(x/b)/cosh(1/b)",  # a transcendental of the hyperparameters alone
        "x**2 + a*sin(b)*cos(x/b) + exp(a) + log(b)",
        "x**2 + a*tanh(x)*log(1 + x**2) + sinh(a*x)/10",
        "x**2 + b*x*exp(-x**2) + a*cos(x)**2",  # tr_vabs of a in the certified bound
    ],
)
def test_vector_tile_compiles_and_agrees_for_every_function_kind(text):
    """Every transcendental with a vector twin, of x and of hyperparameters alone (scalars
    broadcast), in loss and gradient: the register tile is used, compiles (a compile error
    would silently send users to the JAX backend, so it fails here rather than skips where
    gcc exists), and gives the stepwise driver's labels."""
    land = from_expression(text, {p: v for p, v in (("a", 0.2), ("b", 0.3)) if p in text})
    assert "#define TR_VTILE 1" in c_sweep_source(land)
    try:
        k = c_sweep_kernel(land, "poly")
    except CompileError:
        if shutil.which(os.environ.get("CC", "gcc")):
            raise
        pytest.skip("no C compiler")
    lrs = learning_rates(9, 0.0, 1.5)
    for criterion in ("max", "sum"):
        kc = k.with_criterion(criterion)
        (ref, _), (got, _) = _both(kc, lrs, [0.8], land.parameter_values(), 120, 1e6)
        np.testing.assert_array_equal(got, ref)
