"""The polynomial sine/cosine: its error bound, checked against mpmath at 60 digits.

Independent reference: mpmath evaluates sin/cos of the exact binary value of each float64
argument; every implementation (NumPy mirror, compiled C, JAX) must stay within the bound
derived by ``sincos_error_bound`` over the whole range ``|u| <= R``.
"""

import jax
import jax.numpy as jnp
import mpmath
import numpy as np
import pytest

from trainability.analytic import HALFTURN, SINCOS, family, sincos_error_bound, sincos_numpy
from trainability.analytic._sincos import _jax_sincos
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
    err = 0.0
    with mpmath.workdps(40):
        for ui, si, ci in zip(u.tolist(), s.tolist(), c.tolist(), strict=True):
            x = mpmath.mpf(ui)
            err = max(err, abs(mpmath.sin(x) - si), abs(mpmath.cos(x) - ci))
    return float(err)


def test_bound_is_about_one_rounding():
    """The certified bound is a few units in the last place of 1 (not a loose estimate)."""
    assert 0 < BOUND["total"] < 1e-15
    assert BOUND["truncation"] < 1e-17


@pytest.fixture(scope="module")
def args():
    return _arguments()


def test_numpy_mirror_within_bound(args):
    s, c = sincos_numpy(args)
    assert _errors(args, s, c) <= BOUND["total"]


def test_jax_within_bound_and_exact_outside(args):
    s, c = jax.jit(_jax_sincos)(jnp.asarray(args))
    assert _errors(args, np.asarray(s), np.asarray(c)) <= BOUND["total"]
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
    assert _errors(args, s, c) <= BOUND["total"]


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
    assert _errors(args, s, c) <= bound["total"]
