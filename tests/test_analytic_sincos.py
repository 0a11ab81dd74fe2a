"""The polynomial sine/cosine: its error bound, checked against mpmath at 60 digits.

Independent reference: mpmath evaluates sin/cos of the exact binary value of each float64
argument; every implementation (NumPy mirror, compiled C, JAX) must stay within the bound
derived by ``sincos_error_bound`` over the whole range ``|u| <= R``. The minimax
polynomials: their certified truncation against mpmath-sampled deviations, the Remez
alternation of the fits, and their bounds against main's Taylor polynomials'.
"""

import dataclasses

import jax
import jax.numpy as jnp
import mpmath
import numpy as np
import pytest

from trainability.analytic import HALFTURN, SINCOS, family, sincos_error_bound, sincos_numpy
from trainability.analytic._remez import minimax
from trainability.analytic._sincos import (
    _MINIMAX,
    _TAYLOR_HALFTURN,
    _TAYLOR_SINCOS,
    MINIMAX_TERMS,
    _jax_sincos,
    _reduction,
    _series,
    minimax_sincos,
)
from trainability.numeric import (
    CompileError,
    _x64,  # noqa: F401  (float64 in JAX)
)
from trainability.verify import c_sweep_kernel

BOUND = sincos_error_bound()


def _arguments(n=3000, seed=0):
    """Uniform, log-uniform, near multiples of pi/2 (worst reduction), tiny, and the edge R."""
    rng = np.random.default_rng(seed)
    R = SINCOS.R
    k = rng.integers(-int(R / (np.pi / 2)), int(R / (np.pi / 2)), n // 3)
    near = k * (np.pi / 2)
    near = near + rng.integers(-3, 4, near.size) * np.spacing(np.abs(near) + 1)
    parts = [
        rng.uniform(-R, R, n // 3),
        rng.choice([-1, 1], n // 3) * 10 ** rng.uniform(-12, np.log10(R), n // 3),
        near,
        np.array([0.0, -0.0, 5e-324, 1e-300, R, -R, np.pi / 4, np.nextafter(R, 0)]),
    ]
    return np.concatenate(parts)


def _errors(u, s, c):
    """max |s - sin u| and |c - cos u| together, against mpmath (test_analytic_codegen)."""
    return max(_errors_each(u, s, c))


def _errors_each(u, s, c):
    """(max |s - sin u|, max |c - cos u|) against mpmath."""
    es = ec = 0.0
    with mpmath.workdps(40):
        for ui, si, ci in zip(u.tolist(), s.tolist(), c.tolist(), strict=True):
            x = mpmath.mpf(ui)
            es, ec = max(es, abs(mpmath.sin(x) - si)), max(ec, abs(mpmath.cos(x) - ci))
    return float(es), float(ec)


def _within(errors, bound):
    """Each function within its own certified bound (``total_sin``, ``total_cos``)."""
    return errors[0] <= bound["total_sin"] and errors[1] <= bound["total_cos"]


def test_bound_is_about_one_rounding():
    """The certified bound is a few units in the last place of 1 (not a loose estimate)."""
    assert 0 < BOUND["total"] < 1e-15
    assert BOUND["truncation"] < 1e-17


@pytest.fixture(scope="module")
def args():
    return _arguments()


def test_numpy_mirror_within_bound(args):
    s, c = sincos_numpy(args)
    assert _within(_errors_each(args, s, c), BOUND)


def test_jax_within_bound_and_exact_outside(args):
    s, c = jax.jit(_jax_sincos)(jnp.asarray(args))
    assert _within(_errors_each(args, np.asarray(s), np.asarray(c)), BOUND)
    big = np.array([2e6, -3.3e7, 1e300, np.inf, np.nan])
    s, c = _jax_sincos(jnp.asarray(big))
    np.testing.assert_array_equal(np.asarray(s), np.asarray(jnp.sin(big)))
    np.testing.assert_array_equal(np.asarray(c), np.asarray(jnp.cos(big)))


def test_compiled_c_within_bound(args):
    try:
        kernel = c_sweep_kernel(family("additive", eps=0.2, lam=0.1))
    except CompileError as exc:  # pragma: no cover - no compiler on this machine
        pytest.skip(str(exc))
    s, c = kernel.sincos(args)
    assert _within(_errors_each(args, s, c), BOUND)


def test_half_turn_compiled_within_its_bound(args):
    """The half-turn polynomials (one per function, |r| <= pi/2) against mpmath, with the
    arguments near multiples of pi/2 that are the worst case of the quarter-turn one."""
    try:
        kernel = c_sweep_kernel(family("additive", eps=0.2, lam=0.1))
    except CompileError as exc:  # pragma: no cover - no compiler on this machine
        pytest.skip(str(exc))
    bound = sincos_error_bound(HALFTURN)
    assert bound["truncation"] < 1e-16 and bound["total"] < 3e-15  # ulp scale
    assert bound["total"] > BOUND["total"]  # |r| up to pi/2: larger evaluation error
    s, c = kernel.sincos(args, turn="half")
    assert _within(_errors_each(args, s, c), bound)


# --- the minimax polynomials: Remez check, certified truncation, choice of degree ---------

POLYS = {"quarter": (SINCOS, _TAYLOR_SINCOS), "half": (HALFTURN, _TAYLOR_HALFTURN)}


@pytest.mark.parametrize("turn", ["quarter", "half"])
def test_minimax_bounds_at_or_below_the_taylor_ones(turn):
    """Fewer coefficients (quarter 6/7 instead of 8/8, half 8/8 instead of 10/11) and a
    certified bound at or below main's Taylor polynomials', function by function."""
    new, old = POLYS[turn]
    b, t = sincos_error_bound(new), sincos_error_bound(old)
    assert (len(new.sin_coefficients), len(new.cos_coefficients)) == MINIMAX_TERMS[turn]
    assert len(new.sin_coefficients) <= len(old.sin_coefficients) - 2
    assert len(new.cos_coefficients) <= len(old.cos_coefficients) - 1
    assert b["total_sin"] <= t["total_sin"] and b["total_cos"] <= t["total_cos"]
    assert b["total"] <= t["total"]


def _poly_deviation(p, n=400, seed=1):
    """Largest |P(r) - sin r| and |P(r) - cos r| of the exact polynomials (float64
    coefficients, mpmath at 40 digits) at random r in [-r_max, r_max] and near the ends."""
    _, _, r_max, _ = _reduction(p)
    rng = np.random.default_rng(seed)
    rs = list(rng.uniform(-1, 1, n)) + list(1 - 10 ** rng.uniform(-8, -1, n // 4)) + [1.0]
    es = ec = mpmath.mpf(0)
    with mpmath.workdps(40):
        for t in rs:
            r = mpmath.mpf(t) * r_max
            z = r * r
            S = sum(mpmath.mpf(c) * z**k for k, c in enumerate(p.sin_coefficients))
            C = sum(mpmath.mpf(c) * z**k for k, c in enumerate(p.cos_coefficients))
            es = max(es, abs(r + r * z * S - mpmath.sin(r)))
            ec = max(ec, abs(1 + z * C - mpmath.cos(r)))
    return es, ec


@pytest.mark.parametrize("turn", ["quarter", "half"])
def test_certified_truncation_covers_and_is_tight(turn):
    """The bound's truncation parts against mpmath at random points of |r| <= r_max: never
    below the sampled deviation of the exact polynomial, and within 2 % of it (the
    minimax error peaks at the interval's end, which is sampled)."""
    p = POLYS[turn][0]
    b = sincos_error_bound(p)
    es, ec = _poly_deviation(p)
    assert es <= b["truncation_sin"] <= es * 1.02
    assert ec <= b["truncation_cos"] <= ec * 1.02


def _fit(turn, kind):
    _, _, r_max, _ = _reduction(POLYS[turn][0])
    if kind == "sin":
        return minimax(
            lambda z: _series(3, z),
            lambda z: z * mpmath.sqrt(z),
            0,
            r_max**2,
            range(MINIMAX_TERMS[turn][0]),
        )
    return minimax(lambda z: _series(2, z), lambda z: z, 0, r_max**2, range(MINIMAX_TERMS[turn][1]))


@pytest.mark.parametrize(
    ("turn", "kind"), [("quarter", "sin"), ("quarter", "cos"), ("half", "cos")]
)
def test_remez_equioscillates_and_rounding_costs_little(turn, kind):
    """Chebyshev's alternation: the unrounded fit's error levels on m + 1 alternating
    points; the stored float64 polynomial's certified error is at least that level (no
    polynomial beats the minimax one) and at most 1.6 times it (rounding, re-fitted)."""
    fit = _fit(turn, kind)
    m = MINIMAX_TERMS[turn][0 if kind == "sin" else 1]
    assert len(fit.errors) == m + 1 and fit.spread < 1e-8
    assert all((a > 0) != (b > 0) for a, b in zip(fit.errors, fit.errors[1:], strict=False))
    cert = sincos_error_bound(POLYS[turn][0])[f"truncation_{kind}"]
    assert float(fit.level) <= cert <= 1.6 * float(fit.level)


def _ulps_beyond_margin(args):
    """Coefficient of r**3 moved by (bound - observed error) / (effect of one ulp) + 3 ulps:
    just beyond the bound's margin at the worst sampled point."""
    s, c = sincos_numpy(args)
    margin = BOUND["total_sin"] - _errors_each(args, s, c)[0]
    one_ulp = np.spacing(1 / 6) * (np.pi / 4) ** 3
    k = int(np.ceil(margin / one_ulp)) + 3
    S = SINCOS.sin_coefficients
    return {"sin_coefficients": (S[0] - k * np.spacing(S[0]), *S[1:])}


SIN_MUTANTS = {
    "sin: r**3 coefficient a few ulps beyond the margin": _ulps_beyond_margin,
    "sin: degree one lower": lambda a: {"sin_coefficients": SINCOS.sin_coefficients[:-1]},
    "cos: degree one lower": lambda a: {"cos_coefficients": SINCOS.cos_coefficients[:-1]},
}


@pytest.mark.parametrize("change", SIN_MUTANTS.values(), ids=SIN_MUTANTS.keys())
def test_the_check_catches_wrong_coefficients(args, change):
    bad = dataclasses.replace(SINCOS, **change(args))
    s, c = sincos_numpy(args, bad)
    assert not _within(_errors_each(args, s, c), BOUND)


@pytest.mark.slow
@pytest.mark.parametrize("turn", ["quarter", "half"])
def test_stored_coefficients_are_rederived(turn):
    """The stored coefficients are minimax_sincos's output, bit for bit (25-45 s each)."""
    assert minimax_sincos(turn, *MINIMAX_TERMS[turn]) == _MINIMAX[turn]


@pytest.mark.slow
@pytest.mark.parametrize("turn", ["quarter", "half"])
def test_one_term_fewer_exceeds_the_taylor_bound(turn):
    """The chosen numbers of terms are the lowest: one fewer sine (or cosine) coefficient,
    re-fitted, has a certified bound above the Taylor polynomial's."""
    taylor = sincos_error_bound(POLYS[turn][1])
    ms, mc = MINIMAX_TERMS[turn]
    S, _ = minimax_sincos(turn, ms - 1, 1)
    _, C = minimax_sincos(turn, 1, mc - 1)
    base = POLYS[turn][0]
    assert (
        sincos_error_bound(dataclasses.replace(base, sin_coefficients=S))["total_sin"]
        > (taylor["total_sin"])
    )
    assert (
        sincos_error_bound(dataclasses.replace(base, cos_coefficients=C))["total_cos"]
        > (taylor["total_cos"])
    )
