"""The wide (looped) C kernel of coordinate-separable losses.

References: SymPy's own gradient (``analytic.gradient``) for the chain rule; the unrolled
C kernel of the same loss (``layout="unrolled"``), whose labels ``test_analytic_codegen_c``
and ``test_numeric_compiled`` check; and brute-force NumPy loops over the learning rates
with libm sin/cos and the families' closed-form gradients (written out here, independent of
both kernels) or SymPy's lambdified gradient for parsed losses. Next to a fractal boundary
labels are rounding-sensitive: the wide kernel adds the coordinate sums in another order
than the unrolled one, so a few labels may differ; each test says how many it allows, and
the counts measured are in the comments.
"""

import math

import numpy as np
import pytest
import sympy

from trainability.analytic import (
    c_wide_sweep_source,
    family,
    from_expression,
    gradient,
    separable_form,
)
from trainability.numeric import CompileError, learning_rates
from trainability.verify import c_sweep_kernel, kernel_layout

EPS, LAM = 0.2, 0.1
PARSED = from_expression("x1**2 + x2**2 + sin(x1) + sin(x2)")
NESTED = from_expression(
    "(x1**2 + x2**2 + x3**2)**2/4 + a*exp(cos(x1) + cos(x2) + cos(x3))", {"a": 0.3}
)


def _kernel(land, layout, transcendentals="poly"):
    try:
        return c_sweep_kernel(land, transcendentals, layout=layout)
    except CompileError as exc:  # pragma: no cover - no compiler on this machine
        pytest.skip(str(exc))


# ---- detection -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("land", "sums"),
    [
        (family("additive", dim=3), 1),
        (family("multiplicative", dim=3), 2),
        (family("multiplicative", dim=100), 2),
        (family("quadratic", dim=5), 1),
        (PARSED, 1),
        (NESTED, 2),
        (from_expression("sin(x1 + x2 + x3)"), 1),
        (family("additive", dim=1), 1),
    ],
)
def test_separable_losses_are_detected(land, sums):
    form = separable_form(land)
    assert form is not None and len(form.sums) == sums
    assert not (form.outer.free_symbols & set(land.variables))
    assert sympy.simplify(form.loss() - land.expr) == 0


@pytest.mark.parametrize(
    "text",
    [
        "x1*x2 + x1**2 + x2**2",  # a coupling outside the sums
        "x1**2 + 2*x2**2",  # different templates
        "x1**2*x2**2",  # a product of coordinates
        "x1**2 + x2**2 + x3",  # x3 has another template
        "(x1 - 1)**2 + x2**2",
        "sin(x1)*cos(x2) + x1**2 + x2**2",
    ],
)
def test_non_separable_losses_give_none(text):
    land = from_expression(text)
    assert separable_form(land) is None
    assert c_wide_sweep_source(land) is None


def test_multiplicative_form_is_the_product_of_two_sums():
    land = family("multiplicative", dim=4)
    form, (eps, lam) = separable_form(land), land.hyperparameters
    x = form.variable
    assert set(form.templates) == {x**2, sympy.cos(2 * sympy.pi * x / lam)}
    s_cos, s_sq = (
        form.sums[form.templates.index(a)] for a in (sympy.cos(2 * sympy.pi * x / lam), x**2)
    )
    assert sympy.expand(form.outer - s_sq * (1 + eps * s_cos)) == 0


@pytest.mark.parametrize(
    "land", [family("additive", dim=3), family("multiplicative", dim=3), PARSED, NESTED]
)
def test_chain_rule_gradient_equals_sympy(land):
    form = separable_form(land)
    for mine, ref in zip(form.gradient(), gradient(land), strict=True):
        assert sympy.simplify(mine - ref) == 0


def test_chain_rule_gradient_equals_sympy_d100_numerically():
    land = family("multiplicative", dim=100)
    args = (*land.variables, *land.hyperparameters)
    mine = sympy.lambdify(args, separable_form(land).gradient(), "numpy", cse=True)
    ref = sympy.lambdify(args, gradient(land), "numpy", cse=True)
    x = np.random.default_rng(0).uniform(-1, 1, 100)
    np.testing.assert_allclose(mine(*x, EPS, LAM), ref(*x, EPS, LAM), rtol=1e-12, atol=1e-12)


# ---- brute-force NumPy references ------------------------------------------------------------


def _family_loss_and_grad(name, eps=EPS):
    """Closed-form loss and gradient of the d-dimensional families, on ``x: (n, d)``."""
    w, EPS = 2 * math.pi / LAM, eps  # noqa: N806

    def additive(x):
        f = np.sum(x * x + EPS * np.cos(w * x), axis=1)
        return f, 2 * x - EPS * w * np.sin(w * x)

    def multiplicative(x):
        r2, h = np.sum(x * x, axis=1), 1 + EPS * np.sum(np.cos(w * x), axis=1)
        return r2 * h, 2 * x * h[:, None] - (r2 * EPS * w)[:, None] * np.sin(w * x)

    return {"additive": additive, "multiplicative": multiplicative}[name]


def _sympy_loss_and_grad(land):
    fn = sympy.lambdify(land.variables, [land.expr, *gradient(land)], "numpy", cse=True)

    def loss_and_grad(x):
        f, *g = fn(*x.T)
        return np.asarray(f, float), np.stack([np.broadcast_to(gj, f.shape) for gj in g], axis=1)

    return loss_and_grad


def numpy_labels(loss_and_grad, lrs, x0, steps, bound, criterion):
    """One GD orbit per learning rate, all at once: the criteria of ``CSweepKernel``."""
    x = np.tile(np.asarray(x0, float), (lrs.size, 1))
    ok = np.ones(lrs.size, bool)
    total = np.zeros(lrs.size)
    with np.errstate(all="ignore"):
        for k in range(steps + 1):
            f, g = loss_and_grad(x)
            if criterion == "max":
                bad = ~(np.isfinite(f) & (f <= bound))
            elif criterion == "sum":
                total = total + (f if k > 0 else 0.0)
                bad = (k > 0) & ~(total < bound)
            else:
                bad = (k > 0) & (f > bound)
            ok &= ~bad
            x = x - lrs[:, None] * g
    return ok


# (landscape, NumPy loss_and_grad, x0, lr_max, steps, bound). Learning rates: 2^7 + 1 on
# [0, lr_max], across the boundary (about half trainable).
LABEL_CASES = {
    "mult-d3": (
        family("multiplicative", dim=3, eps=EPS, lam=LAM),
        "multiplicative",
        [0.05, 0.1, -0.07],
        1.0,
        200,
        1e8,
    ),
    "add-d10": (
        family("additive", dim=10, eps=EPS, lam=LAM),
        "additive",
        np.linspace(-1, 1, 10),
        1.5,
        200,
        1e8,
    ),
    "mult-d10": (
        family("multiplicative", dim=10, eps=EPS, lam=LAM),
        "multiplicative",
        [0.05] * 10,
        0.3,
        300,
        1e8,
    ),
    "mult-d100": (
        family("multiplicative", dim=100, eps=EPS, lam=LAM),
        "multiplicative",
        [0.05] * 100,
        0.03,
        300,
        1e8,
    ),
    "parsed-d3": (
        from_expression("x1**2 + x2**2 + x3**2 + sin(x1) + sin(x2) + sin(x3)"),
        None,
        [2.0, -1.0, 0.5],
        1.2,
        200,
        1e8,
    ),
}


@pytest.mark.parametrize("criterion", ["max", "sum", "above"])
@pytest.mark.parametrize("case", list(LABEL_CASES))
def test_wide_labels_equal_unrolled_and_numpy(case, criterion):
    land, ref_name, x0, lr_max, steps, bound = LABEL_CASES[case]
    if criterion == "sum":
        bound = 1e4  # the summed loss: reached by slowly converging orbits too
    lg = _family_loss_and_grad(ref_name) if ref_name else _sympy_loss_and_grad(land)
    lrs = learning_rates(7, 0.0, lr_max)
    p = land.parameter_values()
    wide = _kernel(land, "wide").with_criterion(criterion)
    assert kernel_layout(wide) == "wide"
    got, ev = wide(lrs, x0, p, steps, bound)
    ref = numpy_labels(lg, lrs, x0, steps, bound, criterion)
    assert 0.1 < ref.mean() < 0.95  # both kinds of labels are tested
    assert np.count_nonzero(got != ref) <= 1  # measured: 0 on every case
    if land.dim <= 10:  # (the unrolled d = 100 kernel takes a minute to compile)
        unrolled = _kernel(land, "unrolled").with_criterion(criterion)
        assert kernel_layout(unrolled) == "unrolled"
        # measured: 0, except 1 lane on add-d10/sum, where the unrolled kernel is the one
        # that differs from NumPy
        assert np.count_nonzero(got != unrolled(lrs, x0, p, steps, bound)[0]) <= 1
    assert ev <= lrs.size * (steps + 16)


def test_wide_loss_and_grad_equal_numpy():
    """``tr_eval`` (the kernel's arithmetic) against the closed form, at random points."""
    x = np.random.default_rng(1).uniform(-1, 1, (50, 100))
    for name in ("additive", "multiplicative"):
        land = family(name, dim=100, eps=EPS, lam=LAM)
        f, g = _kernel(land, "wide").loss_and_grad(x, (EPS, LAM))
        f_ref, g_ref = _family_loss_and_grad(name)(x)
        np.testing.assert_allclose(f, f_ref, rtol=1e-13)
        np.testing.assert_allclose(g, g_ref, rtol=1e-11, atol=1e-11 * np.abs(g_ref).max())


def test_wide_sincos_pair_equals_the_prelude_bit_for_bit():
    """The pair (one reduction, selects by integer arithmetic) against ``tr_sin``/``tr_cos``
    of the unrolled kernel, in every quadrant, at quadrant boundaries and signed zeros."""
    land = family("multiplicative", dim=6)
    rng = np.random.default_rng(2)
    u = np.concatenate(
        [
            rng.uniform(-60, 60, 20000),
            np.arange(-64, 65) * (math.pi / 4),
            np.nextafter(np.arange(-64, 65) * (math.pi / 4), np.inf),
            [0.0, -0.0, 1e-300, -1e-300],
        ]
    )
    s, c = _kernel(land, "wide").sincos(u)
    s_ref, c_ref = _kernel(land, "unrolled").sincos(u)
    np.testing.assert_array_equal(s.view(np.uint64), s_ref.view(np.uint64))
    np.testing.assert_array_equal(c.view(np.uint64), c_ref.view(np.uint64))


def test_wide_out_of_range_uses_libm():
    """Far out (cos arguments about 1e17 > R) the polynomial is garbage: ``tr_eval`` and the
    sweep must take libm there. Reference: NumPy (libm) loss and gradient, NumPy labels."""
    land = family("additive", dim=6, eps=EPS, lam=LAM)
    x = np.full((1, 6), 1.6e15) * np.linspace(1, 1.5, 6)
    k = _kernel(land, "wide")
    f, g = k.loss_and_grad(x, (EPS, LAM))
    f_ref, g_ref = _family_loss_and_grad("additive")(x)
    np.testing.assert_allclose(f, f_ref, rtol=1e-14)
    np.testing.assert_allclose(g, g_ref, rtol=1e-12)
    lrs = learning_rates(7, 0.0, 1.5)
    got, _ = k(lrs, x[0], (EPS, LAM), 60, 1e40)
    ref = numpy_labels(_family_loss_and_grad("additive"), lrs, x[0], 60, 1e40, "max")
    assert ref.any() and not ref.all()
    np.testing.assert_array_equal(got, ref)
    # A start with some coordinates far out and some near: per-lane, per-step fallback.
    x0 = np.array([3e4, 0.3, -0.2, 0.1, 2e4, 0.05])
    got, _ = k(lrs, x0, (EPS, LAM), 100, 1e12)
    ref = numpy_labels(_family_loss_and_grad("additive"), lrs, x0, 100, 1e12, "max")
    assert ref.any() and not ref.all()
    assert np.count_nonzero(got != ref) <= 1  # measured: 0


@pytest.mark.parametrize("criterion", ["max", "sum", "above"])
def test_wide_periodic_exit(criterion):
    """Converged lanes reach a fixed point in floating point and leave early: the same
    labels with the exit off, far fewer evaluations with it on (measured: 5% of them).
    Small learning rates (below 2 / curvature at the local minima) converge; large ones
    diverge."""
    land = family("additive", dim=8, eps=EPS, lam=LAM)
    k = _kernel(land, "wide").with_criterion(criterion)
    lrs = np.concatenate([learning_rates(6, 1e-4, 2e-3), learning_rates(5, 1.2, 1.5)])
    x0 = np.linspace(-0.8, 0.9, 8)
    bound = 1e4 if criterion == "sum" else 1e8
    on, ev_on = k(lrs, x0, (EPS, LAM), 2000, bound)
    k.check_period = False
    try:
        off, ev_off = k(lrs, x0, (EPS, LAM), 2000, bound)
    finally:
        k.check_period = True
    np.testing.assert_array_equal(on, off)
    assert on.any() and not on.all()
    assert ev_on < 0.2 * ev_off


def test_wide_cells_and_lanes():
    """``sweep_cells`` rows and ``sweep_lanes`` lanes equal single sweeps."""
    land = family("multiplicative", dim=7, eps=EPS, lam=LAM)
    k = _kernel(land, "wide")
    lrs = learning_rates(6, 0.0, 0.5)
    x0s = np.random.default_rng(4).uniform(-0.3, 0.3, (3, 7))
    params = np.array([[0.2, 0.1], [0.1, 0.2], [0.3, 0.15]])
    cells, _ = k.sweep_cells(lrs, x0s, params, 200, 1e8)
    for c in range(3):
        np.testing.assert_array_equal(cells[c], k(lrs, x0s[c], params[c], 200, 1e8)[0])
    starts = np.random.default_rng(5).uniform(-0.3, 0.3, (lrs.size, 7))
    lanes, _ = k.sweep_lanes(lrs, starts, (EPS, LAM), 200, 1e8)
    single = [k(lrs[i : i + 1], starts[i], (EPS, LAM), 200, 1e8)[0][0] for i in range(lrs.size)]
    np.testing.assert_array_equal(lanes, single)


def test_dispatch():
    mult = family("multiplicative", dim=8)
    assert kernel_layout(_kernel(mult, "auto")) == "wide"
    assert kernel_layout(_kernel(family("multiplicative", dim=4), "auto")) == "unrolled"
    coupled = from_expression("x1*x2 + x3**2 + x4**2 + x5**2 + x6**2 + x1**2 + x2**2")
    assert kernel_layout(_kernel(coupled, "auto")) == "unrolled"
    assert kernel_layout(c_sweep_kernel(mult, half_turn=True)) == "unrolled"
    assert _kernel(mult, "auto").name == "c-poly"
    with pytest.raises(ValueError, match="coordinate-separable"):
        c_sweep_kernel(coupled, layout="wide")
    with pytest.raises(ValueError, match="layout"):
        c_sweep_kernel(mult, layout="rolled")


@pytest.mark.parametrize("criterion", ["max", "sum", "above"])
def test_wide_loss_of_x0_above_the_bound(criterion):
    """f(x0) = 24.06 above the bound 20: the max rule counts step 0 (every lane divergent),
    the sum and above rules start at step 1 (learning rates that bring the loss below the
    bound stay trainable). Five steps: with eps = 0.01 the gradient's cosine term
    (eps 2 pi / lam = 0.63) still makes long orbits chaotic (lr = 0.9375 over 100 steps is
    rounding-sensitive: mpmath at 16, 30 and 60 digits disagree), five steps are not.
    Reference: the NumPy loop."""
    land = family("additive", dim=6, eps=0.01, lam=LAM)
    lrs = learning_rates(6, 0.0, 1.2)
    x0, bound = np.full(6, 2.0), 20.0 if criterion != "sum" else 2000.0
    got, _ = _kernel(land, "wide").with_criterion(criterion)(lrs, x0, (0.01, LAM), 5, bound)
    ref = numpy_labels(_family_loss_and_grad("additive", 0.01), lrs, x0, 5, bound, criterion)
    np.testing.assert_array_equal(got, ref)
    assert got.any() == (criterion != "max")


DIAGONAL_CASES = [
    # (landscape, x0, lr_max, steps, bound): symmetric starts across the boundary; far out
    # (the exact fallback on the diagonal); one coordinate off by one ulp (no shortcut).
    (family("multiplicative", dim=100, eps=EPS, lam=LAM), [0.05] * 100, 0.03, 300, 1e8),
    (family("additive", dim=10, eps=EPS, lam=LAM), [1.0] * 10, 1.5, 300, 1e8),
    (family("additive", dim=6, eps=EPS, lam=LAM), [1.6e15] * 6, 1.5, 60, 1e40),
    (
        family("multiplicative", dim=10, eps=EPS, lam=LAM),
        [0.05] * 9 + [np.nextafter(0.05, 1)],
        0.3,
        300,
        1e8,
    ),
]


@pytest.mark.parametrize("criterion", ["max", "sum", "above"])
@pytest.mark.parametrize("case", range(len(DIAGONAL_CASES)))
def test_diagonal_shortcut_is_the_same_orbit(case, criterion):
    """The diagonal shortcut against every coordinate computed (``tiled = False``): the same
    labels and the same number of evaluations (the same orbits, bit for bit, so the same
    periodic exits), and the NumPy loop's labels."""
    land, x0, lr_max, steps, bound = DIAGONAL_CASES[case]
    bound = 1e4 if criterion == "sum" and bound == 1e8 else bound
    k = _kernel(land, "wide").with_criterion(criterion)
    lrs = learning_rates(7, 0.0, lr_max)
    p = land.parameter_values()
    fast, ev_fast = k(lrs, x0, p, steps, bound)
    k.tiled = False
    try:
        full, ev_full = k(lrs, x0, p, steps, bound)
    finally:
        k.tiled = True
    np.testing.assert_array_equal(fast, full)
    assert ev_fast == ev_full
    ref = numpy_labels(_family_loss_and_grad(land.name), lrs, x0, steps, bound, criterion)
    # measured: 0, except 2 lanes of additive d = 10 / sum (from Fig. 2a's x0 = 1 on every
    # axis: the 1-D orbit of Fig. 2a, whose boundary is rounding-sensitive)
    assert np.count_nonzero(fast != ref) <= 2
