"""Generated JAX kernels: the fast kernels' float32 sine/cosine against mpmath."""

import jax
import jax.numpy as jnp
import numpy as np
from test_analytic_sincos import _errors  # the mpmath reference loop

from trainability.analytic import family, fast_jax_kernels, jax_kernels, sincos_error_bound
from trainability.analytic._codegen import FLOAT32_ROUNDING, _widened
from trainability.analytic._sincos import _jax_cos, _jax_sin
from trainability.numeric import _x64  # noqa: F401  (float64 in JAX)


def _float32_arguments(seed=0):
    """Uniform in |u| <= 1e4, small, near multiples of pi/2 (worst reduction), as float32."""
    rng = np.random.default_rng(seed)
    near = rng.integers(-6000, 6000, 600) * (np.pi / 2)
    parts = [rng.uniform(-1e4, 1e4, 1200), rng.uniform(-3, 3, 600), near, [0.0, 1e-30]]
    return np.concatenate(parts).astype(np.float32)


def _worst_error(u, fs, fc):
    """Largest |f(u) - mpmath| over sin and cos, at the exact value of each argument."""
    s, c = (np.asarray(jax.jit(f)(jnp.asarray(u))) for f in (fs, fc))
    assert s.dtype == c.dtype == np.float32
    return _errors(u, s, c)


def test_float32_sincos_within_float32_bound():
    """Reference: mpmath sin/cos of each float32 argument's exact value. The widened
    polynomial stays within the float64 bound plus one float32 rounding (2**-25); plain
    float32 jnp.sin/jnp.cos do not (measured 3.2e-8): the bound is tight enough to bite."""
    u = _float32_arguments()
    bound = sincos_error_bound()["total"] + FLOAT32_ROUNDING
    assert _worst_error(u, _widened(_jax_sin), _widened(_jax_cos)) <= bound
    assert _worst_error(u, jnp.sin, jnp.cos) > bound


def test_fast_kernels_in_float32_compute_in_float32():
    """The loss and gradient come back in float32 and agree with the float64 kernel to
    float32 accuracy on the Fig. 2a landscape; float64 arguments are untouched (bitwise)."""
    land = family("additive", eps=0.2, lam=0.1)
    x = np.linspace(-2, 2, 257)[:, None]
    fast, exact = fast_jax_kernels(land).loss_and_grad, jax_kernels(land).loss_and_grad
    f32, g32 = fast(jnp.asarray(x, jnp.float32), (jnp.float32(0.2), jnp.float32(0.1)))
    assert f32.dtype == g32.dtype == jnp.float32
    f, g = exact(jnp.asarray(x), (0.2, 0.1))
    np.testing.assert_allclose(np.asarray(f32), np.asarray(f), atol=1e-5)
    np.testing.assert_allclose(np.asarray(g32), np.asarray(g), atol=1e-4 * 2 * np.pi / 0.1)
    u = jnp.asarray(np.linspace(-50, 50, 101))
    np.testing.assert_array_equal(np.asarray(_widened(_jax_sin)(u)), np.asarray(_jax_sin(u)))
