"""Generated C kernels against the JAX kernels and against the sweep protocol.

References: the JAX kernels from ``jax_kernels`` (lambdify, ``jnp.sin``/``jnp.cos``, which
match libm here) for losses and gradients; a brute-force NumPy loop for the labels of
small grids; and the JAX ``lr_sweep`` (one float64 orbit among several: XLA contracts the
step's arithmetic) for boundary counts on the Fig. 2a protocol.
"""

import jax
import numpy as np
import pytest

from trainability.analytic import (
    family,
    fast_jax_kernels,
    from_expression,
    jax_kernels,
    numpy_kernels,
)
from trainability.numeric import CompileError, learning_rates, lr_sweep
from trainability.verify import c_sweep_kernel

LANDSCAPES = [
    family("additive", eps=0.2, lam=0.1),
    family("multiplicative", dim=2, eps=0.2, lam=0.1),
    family("two-cosine", eps1=0.004, eps2=0.01),
    from_expression("x**2 + a*exp(-x**2) + b*sin(x/c)", {"a": 0.5, "b": 0.3, "c": 0.2}),
    family("quadratic", dim=3),
    # exp arguments from 0 down to -900 (subnormal and zero results) and up to +90.
    from_expression("x**2 + eps*exp(-(x/lam)**2) + exp(3*x)/100", {"eps": 0.2, "lam": 0.1}),
]


def _kernel(land, mode="poly"):
    try:
        return c_sweep_kernel(land, mode)
    except CompileError as exc:  # pragma: no cover - no compiler on this machine
        pytest.skip(str(exc))


@pytest.mark.parametrize("land", LANDSCAPES, ids=lambda land: f"{land.name}-{land.dim}")
@pytest.mark.parametrize("mode", ["poly", "libm", "jax-poly"])
def test_c_loss_and_grad_match_jax(land, mode):
    rng = np.random.default_rng(1)
    x = rng.uniform(-3, 3, (200, land.dim))
    x[:3] = [[2e5] * land.dim, [-1e6] * land.dim, [0.0] * land.dim]  # incl. outside |u| <= R
    params = land.parameter_values()
    f_ref, g_ref = (np.asarray(a) for a in jax_kernels(land).loss_and_grad(x, params))
    if mode == "jax-poly":  # jitted, so that XLA's simplifier sees the whole kernel
        f, g = (np.asarray(a) for a in jax.jit(fast_jax_kernels(land).loss_and_grad)(x, params))
    else:
        f, g = _kernel(land, mode).loss_and_grad(x, params)
    scale = 1 + np.abs(f_ref)
    np.testing.assert_allclose(f / scale, f_ref / scale, rtol=0, atol=1e-12)
    gscale = 1 + np.abs(g_ref)
    np.testing.assert_allclose(g / gscale, g_ref / gscale, rtol=0, atol=1e-11)


def _numpy_labels(land, lrs, x0, steps, bound):
    """Brute-force reference: the protocol written out as a plain NumPy loop."""
    lg = numpy_kernels(land).loss_and_grad
    params = land.parameter_values()
    x = np.broadcast_to(np.asarray(x0, float), (lrs.size, land.dim)).copy()
    ok = np.ones(lrs.size, bool)
    with np.errstate(all="ignore"):
        for k in range(steps + 1):
            f, g = lg(x, params)
            ok &= f <= bound
            if k < steps:
                x = x - lrs[:, None] * g
    return ok


def test_quadratic_labels_exact():
    """No transcendentals: every backend must reproduce the NumPy loop label for label."""
    land = family("quadratic", dim=2)
    lrs = learning_rates(9)
    ref = _numpy_labels(land, lrs, [1.0, -0.5], 200, 1e8)
    for mode in ("poly", "libm"):
        labels, ev = _kernel(land, mode)(lrs, [1.0, -0.5], (), 200, 1e8)
        np.testing.assert_array_equal(labels, ref)
        assert ev < lrs.size * 201  # the divergent half exits early
    assert ref[lrs <= 1.0].all() and not ref[lrs > 1.1].any()


def test_periodic_exit_never_changes_a_label():
    """The bitwise-periodic early exit is exact: identical labels with and without it."""
    land = family("additive", eps=0.2, lam=0.1)
    k = _kernel(land)
    lrs = np.concatenate([learning_rates(12, 0.0, 0.02), learning_rates(12)])
    on = k(lrs, [1.0], (0.2, 0.1), 1000, 1e8)
    k.check_period = False
    try:
        off = k(lrs, [1.0], (0.2, 0.1), 1000, 1e8)
    finally:
        k.check_period = True
    np.testing.assert_array_equal(on[0], off[0])
    assert on[1] < off[1]  # small learning rates settle onto fixed points and exit


@pytest.mark.parametrize("mode", ["poly", "libm"])
def test_small_grid_matches_numpy_loop(mode):
    """Multiplicative 2-D: labels agree with the NumPy loop except rounding-sensitive ones."""
    land = family("multiplicative", dim=2, eps=0.2, lam=0.1)
    lrs = learning_rates(10)
    ref = _numpy_labels(land, lrs, [0.5, 0.5], 300, 2e8)
    labels, _ = _kernel(land, mode)(lrs, [0.5, 0.5], (0.2, 0.1), 300, 2e8)
    assert np.mean(labels != ref) < 0.01


@pytest.fixture(scope="module")
def fig2a_reference():
    """Fig. 2a protocol at level 13 with the JAX engine (jnp.sin; XLA-compiled step)."""
    land = family("additive", eps=0.2, lam=0.1)
    return land, lr_sweep(jax_kernels(land).loss_and_grad, 1.0, (0.2, 0.1), levels=13)


@pytest.mark.parametrize("backend", ["c-poly", "c-libm", "jax-poly"])
def test_fig2a_boundary_counts_agree_with_jax(fig2a_reference, backend):
    """B_N per level equal up to rounding noise; < 0.2 % of labels differ."""
    land, ref = fig2a_reference
    if backend == "jax-poly":
        r = lr_sweep(fast_jax_kernels(land).loss_and_grad, 1.0, (0.2, 0.1), levels=13)
    else:
        r = lr_sweep(None, 1.0, (0.2, 0.1), levels=13, backend=_kernel(land, backend[2:]))
    assert r.backend in (backend, "jax")
    assert np.mean(r.labels != ref.labels) < 2e-3
    np.testing.assert_array_equal(r.boundary_counts[:12], ref.boundary_counts[:12])
    assert abs(int(r.boundary_counts[13]) - int(ref.boundary_counts[13])) <= 8
    assert abs(r.divergent_fraction - ref.divergent_fraction) < 1e-3


def test_compile_failure_falls_back(monkeypatch, tmp_path):
    """No compiler: CompileError from numeric, and the "auto" backend falls back to JAX."""
    from trainability.verify import sweep_landscape

    monkeypatch.setenv("CC", "/nonexistent/cc")
    from trainability.numeric import load_sweep_kernel

    monkeypatch.setenv("TRAINABILITY_CACHE", str(tmp_path))  # no kernel on disk
    load_sweep_kernel.cache_clear()  # nor in memory (other tests built it)
    land = family("quadratic")
    with pytest.raises(CompileError):
        c_sweep_kernel(land)
    r = sweep_landscape(land, 1.0, backend="auto", levels=4, steps=50)
    assert r.backend == "jax"
    assert r.boundary_counts.tolist() == [1, 1, 1, 1, 1]
    with pytest.raises(ValueError, match="not found"):
        sweep_landscape(family("quadratic"), 1.0, backend="c-poly", levels=4, steps=50)


def test_kernel_is_picklable():
    import pickle

    land = family("additive", eps=0.2, lam=0.1)
    k = _kernel(land)
    k2 = pickle.loads(pickle.dumps(k))
    lrs = learning_rates(8)
    np.testing.assert_array_equal(
        k(lrs, [1.0], (0.2, 0.1), 100, 1e8)[0], k2(lrs, [1.0], (0.2, 0.1), 100, 1e8)[0]
    )


def test_jax_lanes_sharded_over_devices_give_same_labels():
    """Two (forced host) JAX devices: lanes are sharded, labels equal the one-device run."""
    import os
    import subprocess
    import sys

    code = (
        "import jax, numpy as np\n"
        "from trainability.analytic import family, jax_kernels\n"
        "from trainability.numeric import lr_sweep\n"
        "assert len(jax.devices()) == 2\n"
        "land = family('additive', eps=0.2, lam=0.1)\n"
        "r = lr_sweep(jax_kernels(land).loss_and_grad, 1.0, (0.2, 0.1), levels=9, steps=200)\n"
        "print(''.join('1' if v else '0' for v in r.labels))\n"
    )
    env = {**os.environ, "XLA_FLAGS": "--xla_force_host_platform_device_count=2"}
    out = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    ).stdout.strip()
    land = family("additive", eps=0.2, lam=0.1)
    r = lr_sweep(jax_kernels(land).loss_and_grad, 1.0, (0.2, 0.1), levels=9, steps=200)
    assert out == "".join("1" if v else "0" for v in r.labels)


@pytest.mark.slow
def test_fig2a_dimension_deep_levels_poly_vs_libm():
    """Level 20: the polynomial and the libm C kernels give the same dimension within noise.

    Reference: the C kernel with libm (the same arithmetic except sin/cos).
    """
    land = family("additive", eps=0.2, lam=0.1)
    poly = lr_sweep(None, 1.0, (0.2, 0.1), levels=20, backend=_kernel(land, "poly"))
    libm = lr_sweep(None, 1.0, (0.2, 0.1), levels=20, backend=_kernel(land, "libm"))
    assert np.mean(poly.labels != libm.labels) < 2e-3
    band = 3 * np.hypot(poly.fit.stderr, libm.fit.stderr)
    assert abs(poly.fit.dimension - libm.fit.dimension) < band
    ratio = poly.boundary_counts[14:] / libm.boundary_counts[14:]
    assert np.all((ratio > 0.5) & (ratio < 2.0))


def test_jax_poly_and_c_poly_agree_label_for_label():
    """Two compilers (XLA, gcc) of the same generated polynomial kernel: same labels.

    Both round each operation the same way except where FMA contraction differs, so at most
    a couple of rounding-sensitive labels may differ.
    """
    land = family("additive", eps=0.2, lam=0.1)
    c = lr_sweep(None, 1.0, (0.2, 0.1), levels=12, backend=_kernel(land))
    j = lr_sweep(fast_jax_kernels(land).loss_and_grad, 1.0, (0.2, 0.1), levels=12)
    assert np.count_nonzero(c.labels != j.labels) <= 2


def test_fallback_flags_without_march_native(monkeypatch, tmp_path):
    """The kernel built with the first fallback flags (no -march=native: the 4-lane vector
    type lowers to SSE2 pairs, no FMA): tiled and stepwise labels equal, the vector
    transcendentals equal the scalar ones, and labels agree with the native build on all but
    rounding-sensitive lanes (reference: the native kernel)."""
    import trainability.numeric._compiled as compiled
    from trainability.analytic import c_sweep_source

    land = family("additive", eps=0.2, lam=0.1)
    native = _kernel(land)
    monkeypatch.setattr(compiled, "_FLAGS", compiled._FALLBACK_FLAGS[0])
    monkeypatch.setenv("TRAINABILITY_CACHE", str(tmp_path))
    try:
        k = compiled.CSweepKernel(c_sweep_source(land), "c-poly", 1, 2)
    except CompileError as exc:  # pragma: no cover - no compiler on this machine
        pytest.skip(str(exc))
    assert "-march=native" not in k.flags
    lrs = learning_rates(11, 0.0, 1.5)
    k.tiled = False
    step, _ = k(lrs, [1.0], (0.2, 0.1), 300, 1e8)
    k.tiled = True
    tiled, _ = k(lrs, [1.0], (0.2, 0.1), 300, 1e8)
    np.testing.assert_array_equal(tiled, step)
    u = np.random.default_rng(2).uniform(-50, 50, 4000)
    assert np.array_equal(k.vector_twin("sin", u), k.sincos(u)[0])
    assert np.mean(tiled != native(lrs, [1.0], (0.2, 0.1), 300, 1e8)[0]) < 0.01
