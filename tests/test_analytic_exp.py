"""Polynomial exp, tanh, log, cosh, sinh: their error bounds against mpmath, the kernels.

Independent references: mpmath evaluates ``exp`` of the exact binary value of each float64
argument at 40 digits; every implementation (NumPy mirror, compiled C) must stay within the
relative bound derived by ``exp_error_bound`` wherever the result is normal (and within the
smallest subnormal where it is not). Labels of the Gaussian-bump sweep are checked against
the ``c-libm`` kernel (libm ``exp``), a brute-force NumPy loop (``np.exp``) and 50-digit
mpmath orbits (``reference_label``) at hand-picked learning rates.
"""

import dataclasses

import mpmath
import numpy as np
import pytest

from trainability.analytic import (
    EXP,
    LOG,
    cosh_error_bound,
    cosh_numpy,
    exp_error_bound,
    exp_numpy,
    from_expression,
    log_error_bound,
    log_numpy,
    sinh_error_bound,
    sinh_numpy,
    tanh_error_bound,
    tanh_numpy,
)
from trainability.analytic._exp import (
    _TAYLOR_EXP,
    _TAYLOR_LOG,
    MINIMAX_EXP_DEGREE,
    MINIMAX_LOG_TERMS,
    _atanh_series,
    _exp_reduction,
    _h,
    _log_z_max,
    exp_truncation,
    h_truncation,
    log_truncation,
    minimax_exp,
    minimax_log,
)
from trainability.analytic._remez import minimax
from trainability.numeric import CompileError, learning_rates
from trainability.verify import c_sweep_kernel, reference_label

BOUND = exp_error_bound()
TINY = 2.0**-1022  # smallest normal float64
GAUSS = from_expression("x**2 + eps*exp(-(x/lam)**2)", {"eps": 0.2, "lam": 0.1})


def _arguments(n=3000, seed=0):
    """Uniform over the finite range, log-uniform magnitudes, next to odd multiples of
    ln2/2 (where n rounds either way: the largest |r|), subnormal results, and the edges."""
    rng = np.random.default_rng(seed)
    k = rng.integers(-1075, 1024, n // 3)
    half = (k + 0.5) * np.log(2)
    half = half + rng.integers(-4, 5, half.size) * np.spacing(np.abs(half) + 1)
    parts = [
        rng.uniform(-745.0, 709.7, n // 3),
        rng.choice([-1, 1], n // 3) * 10 ** rng.uniform(-18, np.log10(700), n // 3),
        half[(half > -745.1) & (half < 709.78)],
        rng.uniform(-745.1, -708.4, 50),  # subnormal results
        np.array([0.0, -0.0, 5e-324, 1e-300, 709.78, np.log(2) / 2, -np.log(2) / 2]),
    ]
    return np.concatenate(parts)


def _max_errors(x, y):
    """(max relative error over normal results, max absolute error over subnormal ones)."""
    rel = sub = mpmath.mpf(0)
    with mpmath.workdps(40):
        for xi, yi in zip(x.tolist(), y.tolist(), strict=True):
            e = mpmath.exp(mpmath.mpf(xi))
            if e >= TINY:
                rel = max(rel, abs(mpmath.mpf(yi) / e - 1))
            else:
                sub = max(sub, abs(mpmath.mpf(yi) - e))
    return float(rel), float(sub)


@pytest.fixture(scope="module")
def args():
    return _arguments()


@pytest.fixture(scope="module")
def kernel():
    try:
        return c_sweep_kernel(GAUSS, "poly")
    except CompileError as exc:  # pragma: no cover - no compiler on this machine
        pytest.skip(str(exc))


def test_bound_is_a_few_roundings():
    """The certified relative bound is a few units of 2**-53, truncation far below one."""
    assert 0 < BOUND["total"] < 4 * 2.0**-53
    assert BOUND["truncation"] < 0.1 * 2.0**-53
    assert BOUND["r_max"] < np.log(2) / 2 * (1 + 1e-12)


def test_numpy_mirror_within_bound(args):
    rel, sub = _max_errors(args, exp_numpy(args))
    assert rel <= BOUND["total"]
    assert sub <= BOUND["subnormal_absolute"]
    assert rel > 0.2 * BOUND["total"]  # the bound is not loose by more than a factor 5


def test_compiled_c_within_bound(args, kernel):
    rel, sub = _max_errors(args, kernel.exp(args))
    assert rel <= BOUND["total"]
    assert sub <= BOUND["subnormal_absolute"]


def test_special_values_like_libm(kernel):
    """Overflow, underflow, infinities and NaN give what libm gives (labels depend on it)."""
    x = np.array([np.inf, -np.inf, np.nan, 709.8, 710.0, 711.0, 1e300, -745.2, -746.0, -1e300])
    expected = np.array([np.inf, 0.0, np.nan, np.inf, np.inf, np.inf, np.inf, 0.0, 0.0, 0.0])
    for y in (kernel.exp(x), exp_numpy(x)):
        np.testing.assert_array_equal(y, expected)
    assert kernel.exp(np.array([709.78]))[0] == pytest.approx(np.exp(709.78), rel=1e-15)


def _numpy_gauss_labels(lrs, steps, bound):
    """Brute-force reference: the Gaussian-bump protocol as a NumPy loop with ``np.exp``."""
    eps, lam = 0.2, 0.1
    x = np.ones_like(lrs)
    ok = np.ones(lrs.size, bool)
    with np.errstate(all="ignore"):
        for k in range(steps + 1):
            e = np.exp(-((x / lam) ** 2))
            ok &= x * x + eps * e <= bound
            if k < steps:
                x = x - lrs * (2 * x - 2 * eps * x / lam**2 * e)
    return ok


def test_gauss_labels_agree_with_libm_and_numpy(kernel):
    """Level 12 over [0, 1.5]: the polynomial kernel's labels differ from libm's and from
    the NumPy loop only on a rounding-sensitive fraction (both ways, below 0.2 %)."""
    lrs = learning_rates(12, 0.0, 1.5)
    params = GAUSS.parameter_values()
    poly, _ = kernel(lrs, [1.0], params, 1000, 1e8)
    libm, _ = c_sweep_kernel(GAUSS, "libm")(lrs, [1.0], params, 1000, 1e8)
    ref = _numpy_gauss_labels(lrs, 1000, 1e8)
    assert 0.3 < poly.mean() < 0.9  # both labels occur in bulk
    assert np.mean(poly != libm) < 2e-3
    assert np.mean(poly != ref) < 2e-3


@pytest.mark.parametrize("lr", [0.004, 0.26, 0.61, 0.93, 1.02, 1.37])
def test_gauss_labels_equal_mpmath_orbits(kernel, lr):
    """Hand-picked learning rates (settling, chaotic and divergent orbits) against the
    50-digit mpmath orbit."""
    labels, _ = kernel(np.array([lr]), [1.0], GAUSS.parameter_values(), 1000, 1e8)
    assert bool(labels[0]) == reference_label(GAUSS, lr, 1.0, steps=1000, bound=1e8)


TANH_BOUND = tanh_error_bound()
TANH_LAND = from_expression("x**2 + eps*tanh(x/lam)**2", {"eps": 0.2, "lam": 0.1})


def _tanh_arguments(n=2400, seed=2):
    """Uniform over [-22, 22] (beyond the clamp at 20 too), log-uniform magnitudes down to
    1e-300 (n = 0: no cancellation allowed), and next to the switches of n (2|x| at odd
    multiples of ln2/2, where |r| is largest and n = 1 is the worst case)."""
    rng = np.random.default_rng(seed)
    k = rng.integers(0, 58, n // 3)
    edge = (k + 0.5) * np.log(2) / 2
    edge = edge + rng.integers(-4, 5, edge.size) * np.spacing(edge)
    sign = rng.choice([-1.0, 1.0], n // 3)
    parts = [
        rng.uniform(-22, 22, n // 3),
        sign * 10 ** rng.uniform(-300, 1.3, n // 3),
        sign * edge,
        np.array([0.1733, 0.5199, 19.0, 19.5, -20.0, 2.0**-1022]),
    ]
    return np.concatenate(parts)


def _tanh_max_error(x, y):
    err = mpmath.mpf(0)
    with mpmath.workdps(40):
        for xi, yi in zip(x.tolist(), y.tolist(), strict=True):
            err = max(err, abs(mpmath.mpf(yi) / mpmath.tanh(mpmath.mpf(xi)) - 1))
    return float(err)


@pytest.fixture(scope="module")
def tanh_args():
    return _tanh_arguments()


def test_tanh_bound_is_ulp_scale():
    assert 0 < TANH_BOUND["total"] < 12 * 2.0**-53
    assert TANH_BOUND["expm1_small"] < 4 * 2.0**-53  # n = 0: no amplification


def test_tanh_numpy_and_compiled_within_bound(tanh_args, kernel):
    for y in (tanh_numpy(tanh_args), kernel.tanh(tanh_args)):
        assert _tanh_max_error(tanh_args, y) <= TANH_BOUND["total"]
    x = np.array([np.inf, -np.inf, np.nan, 0.0, -0.0, 5e-324, -1e-310, 25.0, -1e300])
    expected = np.array([1.0, -1.0, np.nan, 0.0, -0.0, 5e-324, -1e-310, 1.0, -1.0])
    for y in (tanh_numpy(x), kernel.tanh(x)):
        np.testing.assert_array_equal(y, expected)
        np.testing.assert_array_equal(np.signbit(y), np.signbit(expected))


LOG_BOUND = log_error_bound()


def _log_arguments(n=2400, seed=4):
    """Log-uniform over all positive floats (subnormals too), next to 1 (e = 0, small s),
    next to sqrt(2) 2**e (where m switches ends: the largest |s|), and powers of two."""
    rng = np.random.default_rng(seed)
    e = rng.integers(-1070, 1020, n // 4).astype(float)
    edge = np.sqrt(2) * 2.0**e
    edge = edge + rng.integers(-4, 5, edge.size) * np.spacing(edge)
    parts = [
        10 ** rng.uniform(-323, 308, n // 4),
        1 + rng.choice([-1, 1], n // 4) * 10 ** rng.uniform(-15, -0.5, n // 4),
        edge,
        np.array([2.0, 0.5, 2.0**-1074, 2.0**-1022, 1.7976931348623157e308, 1.0 + 2**-52]),
    ]
    return np.concatenate(parts)


def _log_max_error(x, y):
    err = mpmath.mpf(0)
    with mpmath.workdps(40):
        for xi, yi in zip(x.tolist(), y.tolist(), strict=True):
            ref = mpmath.log(mpmath.mpf(xi))
            err = max(err, abs(mpmath.mpf(yi) / ref - 1) if ref else abs(mpmath.mpf(yi)))
    return float(err)


@pytest.fixture(scope="module")
def log_args():
    return _log_arguments()


def test_log_bound_is_ulp_scale():
    assert 0 < LOG_BOUND["total"] < 10 * 2.0**-53
    assert LOG_BOUND["log_m"] < 5 * 2.0**-53


def test_log_numpy_and_compiled_within_bound(log_args, kernel):
    for y in (log_numpy(log_args), kernel.log(log_args)):
        assert _log_max_error(log_args, y) <= LOG_BOUND["total"]
    x = np.array([np.inf, -np.inf, np.nan, 0.0, -0.0, -1.0, -5e-324, 1.0])
    expected = np.array([np.inf, np.nan, np.nan, -np.inf, -np.inf, np.nan, np.nan, 0.0])
    for y in (log_numpy(x), kernel.log(x)):
        np.testing.assert_array_equal(y, expected)


COSH_BOUND = cosh_error_bound()


@pytest.fixture(scope="module")
def cosh_args():
    """Uniform over [-712, 712] (past the overflow at 710.48), log-uniform magnitudes
    (near 0 the 1/(4E) term is half the result), and next to the overflow."""
    rng = np.random.default_rng(6)
    return np.concatenate(
        [
            rng.uniform(-712, 712, 800),
            rng.choice([-1, 1], 800) * 10 ** rng.uniform(-300, 2.85, 800),
            rng.uniform(709.7, 710.47, 100),
        ]
    )


def _cosh_max_error(x, y, fn=mpmath.cosh):
    err = mpmath.mpf(0)
    with mpmath.workdps(40):
        for xi, yi in zip(x.tolist(), y.tolist(), strict=True):
            ref = fn(mpmath.mpf(xi))
            if ref == 0:
                err = max(err, abs(mpmath.mpf(yi)))
            elif abs(ref) <= 1.7976931348623157e308:  # finite in float64
                err = max(err, abs(mpmath.mpf(yi) / ref - 1))
            elif yi != mpmath.sign(ref) * np.inf:  # overflow: an infinity of the right sign
                return float("inf")
    return float(err)


def test_cosh_within_bound_and_finite_where_cosh_is(cosh_args, kernel):
    """Relative error within ``cosh_error_bound`` (about 5.8 roundings); finite up to
    |x| = 710.47 although exp overflows from 709.78 on; inf beyond, like libm."""
    assert COSH_BOUND["total"] < 6 * 2.0**-53
    for y in (cosh_numpy(cosh_args), kernel.cosh(cosh_args)):
        assert _cosh_max_error(cosh_args, y) <= COSH_BOUND["total"]
    x = np.array([np.inf, -np.inf, np.nan, 0.0, -0.0, 710.4, -710.4, 710.5, 1e300])
    with np.errstate(over="ignore"):
        expected = np.cosh(x)
    for y in (cosh_numpy(x), kernel.cosh(x)):
        np.testing.assert_allclose(y, expected, rtol=1e-15)
    assert np.isfinite(kernel.cosh(np.array([710.4]))).all()


SINH_BOUND = sinh_error_bound()


def test_sinh_within_bound_and_finite_where_sinh_is(cosh_args, kernel):
    """Relative error within ``sinh_error_bound`` (about 11 roundings: the expm1 branch
    below |x| = 1), on the cosh arguments plus both sides of the switch at |x| = 1."""
    assert SINH_BOUND["total"] < 12 * 2.0**-53
    x = np.concatenate([cosh_args, np.random.default_rng(7).uniform(-1.2, 1.2, 400), [1.0]])
    for y in (sinh_numpy(x), kernel.sinh(x)):
        assert _cosh_max_error(x, y, mpmath.sinh) <= SINH_BOUND["total"]
    sp = np.array([np.inf, -np.inf, np.nan, 0.0, -0.0, 5e-324, 710.4, -710.4, 710.5, -1e300])
    with np.errstate(over="ignore"):
        expected = np.sinh(sp)
    for y in (sinh_numpy(sp), kernel.sinh(sp)):
        np.testing.assert_allclose(y, expected, rtol=1e-15)
        np.testing.assert_array_equal(np.signbit(y), np.signbit(expected))


def _ulps_beyond_margin(args):
    """Coefficient of r**2 moved by (bound - observed error) / (effect of one ulp) + 3 ulps:
    just beyond the bound's margin at the largest |r|."""
    margin = BOUND["total"] - _max_errors(args, exp_numpy(args))[0]
    r = np.log(2) / 2
    one_ulp = np.spacing(0.5) * r * r * np.exp(r)  # relative, at r = -ln2/2
    k = int(np.ceil(margin / one_ulp)) + 3
    c = EXP.coefficients
    return {"coefficients": (*c[:2], c[2] - k * np.spacing(c[2]), *c[3:])}


def _coefficient_off(k):
    c = EXP.coefficients
    return {"coefficients": (*c[:k], c[k] * (1 + 1e-12), *c[k + 1 :])}


MUTANTS = {
    "exp: reduction constant L2 dropped": ("exp", {"L2": 0.0}),
    "exp: L1 rounded to float32": ("exp", {"L1": float(np.float32(EXP.L1))}),
    "exp: coefficient of r**4 off by 1e-12": ("exp", _coefficient_off(4)),
    "exp: degree one lower": ("exp", {"coefficients": EXP.coefficients[:-1]}),
    "exp: r**2 coefficient a few ulps beyond the margin": ("exp", _ulps_beyond_margin),
    "tanh: reduction constant L2 dropped": ("tanh", {"L2": 0.0}),
    "tanh: coefficient of r**2 off by 1e-12": ("tanh", _coefficient_off(2)),
    "tanh: degree one lower": ("tanh", {"coefficients": EXP.coefficients[:-1]}),
    "cosh: reduction constant L2 dropped": ("cosh", {"L2": 0.0}),
    "cosh: coefficient of r**4 off by 1e-12": ("cosh", _coefficient_off(4)),
    "sinh: coefficient of r**2 off by 1e-12": ("sinh", _coefficient_off(2)),
    "sinh: degree one lower": ("sinh", {"coefficients": EXP.coefficients[:-1]}),
    "log: ln2 tail L2 dropped": ("log", {"L2": 0.0}),
    "log: coefficient 2/5 off by 1e-10": (
        "log",
        {"coefficients": (LOG.coefficients[0], 0.4 * (1 + 1e-10), *LOG.coefficients[2:])},
    ),
    "log: one term fewer": ("log", {"coefficients": LOG.coefficients[:-1]}),
}


@pytest.mark.parametrize(("function", "change"), MUTANTS.values(), ids=MUTANTS.keys())
def test_the_checks_catch_wrong_polynomials(args, tanh_args, log_args, cosh_args, function, change):
    """Each wrong polynomial (a bad reduction constant, a wrong coefficient, too few terms)
    leaves its certified bound somewhere on the test arguments."""
    if function == "log":
        bad = dataclasses.replace(LOG, **change)
        assert _log_max_error(log_args, log_numpy(log_args, bad)) > LOG_BOUND["total"]
        return
    bad = dataclasses.replace(EXP, **(change(args) if callable(change) else change))
    if function == "cosh":
        assert _cosh_max_error(cosh_args, cosh_numpy(cosh_args, bad)) > COSH_BOUND["total"]
        return
    if function == "sinh":
        small = np.random.default_rng(8).uniform(-1, 1, 1000)
        y = sinh_numpy(small, bad)
        assert _cosh_max_error(small, y, mpmath.sinh) > SINH_BOUND["total"]
        return
    if function == "exp":
        assert _max_errors(args, exp_numpy(args, bad))[0] > BOUND["total"]
    else:
        assert _tanh_max_error(tanh_args, tanh_numpy(tanh_args, bad)) > TANH_BOUND["total"]


def _check_against_libm_and_numpy(land, loss, grad):
    """Level 11 from x0 = 1, 600 steps: labels as c-libm's and a NumPy loop's (``loss``,
    ``grad``: NumPy functions of x) up to a rounding-sensitive fraction; loss and gradient
    match NumPy's to ~1e-14 relative."""
    try:
        k = c_sweep_kernel(land, "poly")
    except CompileError as exc:  # pragma: no cover - no compiler on this machine
        pytest.skip(str(exc))
    params = land.parameter_values()
    lrs = learning_rates(11, 0.0, 1.5)
    poly, _ = k(lrs, [1.0], params, 600, 1e8)
    libm, _ = c_sweep_kernel(land, "libm")(lrs, [1.0], params, 600, 1e8)
    x = np.ones_like(lrs)
    ref = np.ones(lrs.size, bool)
    with np.errstate(all="ignore"):
        for step in range(601):
            ref &= loss(x) <= 1e8
            if step < 600:
                x = x - lrs * grad(x)
    assert 0.3 < poly.mean() < 0.9
    assert np.mean(poly != libm) < 3e-3 and np.mean(poly != ref) < 3e-3
    xs = np.random.default_rng(5).uniform(-3, 3, 500)
    f, g = k.loss_and_grad(xs[:, None], params)
    np.testing.assert_allclose(f, loss(xs), rtol=1e-14)
    np.testing.assert_allclose(g[:, 0], grad(xs), rtol=1e-12, atol=1e-13)


def test_tanh_kernel_labels_agree_with_libm_and_numpy():
    def grad(x):
        t = np.tanh(x / 0.1)
        return 2 * x + 2 * 0.2 * t * (1 - t * t) / 0.1

    _check_against_libm_and_numpy(TANH_LAND, lambda x: x * x + 0.2 * np.tanh(x / 0.1) ** 2, grad)


def test_log_kernel_labels_agree_with_libm_and_numpy():
    land = from_expression("x**2 + eps*log(1 + (x/lam)**2)", {"eps": 0.2, "lam": 0.1})
    _check_against_libm_and_numpy(
        land,
        lambda x: x * x + 0.2 * np.log(1 + (x / 0.1) ** 2),
        lambda x: 2 * x + 2 * 0.2 * x / (0.1**2 + x * x),
    )


def test_cosh_kernel_labels_agree_with_libm_and_numpy():
    """cosh in the loss, sinh in the gradient: both on the polynomial path (the tile loop
    vectorises only if every transcendental does)."""
    land = from_expression("x**2 + eps*cosh(x/lam)/cosh(1/lam)", {"eps": 0.2, "lam": 0.1})
    c = np.cosh(10.0)
    _check_against_libm_and_numpy(
        land,
        lambda x: x * x + 0.2 * np.cosh(x / 0.1) / c,
        lambda x: 2 * x + 0.2 * np.sinh(x / 0.1) / (0.1 * c),
    )


# --- the minimax polynomials: bounds vs Taylor, certified truncation, Remez, degree --------


def _bounds(exp_poly, log_poly):
    return {
        "exp": exp_error_bound(exp_poly)["total"],
        "tanh": tanh_error_bound(exp_poly)["total"],
        "sinh": sinh_error_bound(exp_poly)["total"],
        "cosh": cosh_error_bound(exp_poly)["total"],
        "log": log_error_bound(log_poly)["total"],
    }


def test_minimax_bounds_at_or_below_the_taylor_ones():
    """Degree 12 instead of 13 (exp) and 8 instead of 10 coefficients (log), with every
    certified bound at or below main's Taylor polynomials'."""
    assert len(EXP.coefficients) - 1 == MINIMAX_EXP_DEGREE == len(_TAYLOR_EXP.coefficients) - 2
    assert len(LOG.coefficients) == MINIMAX_LOG_TERMS == len(_TAYLOR_LOG.coefficients) - 2
    new, old = _bounds(EXP, LOG), _bounds(_TAYLOR_EXP, _TAYLOR_LOG)
    for name in new:
        assert new[name] <= old[name], name


def _sampled_deviations(n=400, seed=3):
    """Largest |P(r) exp(-r) - 1|, |h(r) - expm1(r)/r| (exact polynomials of EXP, mpmath at
    40 digits) on |r| <= r_max and |z (P~(z) - P(z))| on [0, z_max] (LOG): random points
    and points near the ends."""
    _, r_max, _ = _exp_reduction(EXP)
    z_max = _log_z_max()
    rng = np.random.default_rng(seed)
    ts = list(rng.uniform(-1, 1, n)) + [1.0, -1.0] + list(1 - 10 ** rng.uniform(-8, -1, 50))
    ts += [-t for t in ts[-50:]]
    e_rel = e_h = e_log = mpmath.mpf(0)
    with mpmath.workdps(40):
        for t in ts:
            r = mpmath.mpf(t) * r_max
            P = sum(mpmath.mpf(c) * r**k for k, c in enumerate(EXP.coefficients))
            h = sum(mpmath.mpf(c) * r**k for k, c in enumerate(EXP.coefficients[1:]))
            e_rel = max(e_rel, abs(P * mpmath.exp(-r) - 1))
            e_h = max(e_h, abs(h - (mpmath.expm1(r) / r if r else 1)))
            z = abs(mpmath.mpf(t)) * z_max
            Q = sum(mpmath.mpf(c) * z**k for k, c in enumerate(LOG.coefficients))
            e_log = max(e_log, abs(z * (Q - _atanh_series(z))))
    return e_rel, e_h, e_log


def test_certified_truncations_cover_and_are_tight():
    """exp_truncation, h_truncation and log_truncation against mpmath-sampled deviations of
    the exact polynomials: never below, within 3 % above."""
    e_rel, e_h, e_log = _sampled_deviations()
    with mpmath.workdps(60):
        _, r_max, _ = _exp_reduction(EXP)
        cert = (
            exp_truncation(EXP.coefficients, r_max),
            h_truncation(EXP.coefficients[1:], r_max),
            log_truncation(LOG.coefficients, _log_z_max()),
        )
    for sampled, c in zip((e_rel, e_h, e_log), cert, strict=True):
        assert sampled <= c <= sampled * 1.03
    # The bounds use these certificates (a dropped term would show here).
    assert exp_error_bound()["truncation"] == float(cert[0])
    assert tanh_error_bound()["truncation"] == float(cert[1])
    assert log_error_bound()["truncation"] == float(cert[2])


def test_remez_of_h_equioscillates():
    """The unrounded fit of (exp(r) - 1)/r (relative error, 12 coefficients) levels on 13
    alternating points at 2.3e-19; the stored rounded one (no re-fit: rounding to float64
    dominates here) stays below 0.02 units of 2**-53 (sampled)."""
    _, r_max, _ = _exp_reduction(EXP)
    fit = minimax(_h, lambda r: 1 / _h(r), -r_max, r_max, range(MINIMAX_EXP_DEGREE))
    assert len(fit.errors) == MINIMAX_EXP_DEGREE + 1 and fit.spread < 1e-8
    assert all((a > 0) != (b > 0) for a, b in zip(fit.errors, fit.errors[1:], strict=False))
    with mpmath.workdps(40):
        worst = max(
            abs(sum(mpmath.mpf(c) * r**k for k, c in enumerate(EXP.coefficients[1:])) / _h(r) - 1)
            for r in mpmath.linspace(-r_max, r_max, 801)
        )
    assert fit.level <= worst <= 0.02 * 2.0**-53


def test_exp_coefficients_are_rederived_and_degree_is_lowest():
    """EXP is minimax_exp's output bit for bit; degree 11, fitted the same way, has a
    certified exp bound above the Taylor polynomial's (so 12 is the lowest)."""
    assert minimax_exp(MINIMAX_EXP_DEGREE) == EXP.coefficients
    lower = dataclasses.replace(EXP, coefficients=minimax_exp(MINIMAX_EXP_DEGREE - 1))
    assert exp_error_bound(lower)["total"] > exp_error_bound(_TAYLOR_EXP)["total"]


@pytest.mark.slow
def test_log_coefficients_are_rederived_and_terms_are_lowest():
    """LOG is minimax_log's output bit for bit (20 s); one term fewer has a certified bound
    above the series'."""
    assert minimax_log(MINIMAX_LOG_TERMS) == LOG.coefficients
    lower = dataclasses.replace(LOG, coefficients=minimax_log(MINIMAX_LOG_TERMS - 1))
    assert log_error_bound(lower)["total"] > log_error_bound(_TAYLOR_LOG)["total"]
