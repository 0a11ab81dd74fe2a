"""Renormalization symmetries, invariants and critical roughness."""

import numpy as np
import sympy
from hypothesis import given, settings, strategies as st

from trainability.analytic import (
    critical_invariant,
    family,
    from_expression,
    invariants,
    renormalization,
    rescaled,
    symbol,
)

S = {n: symbol(n) for n in ("eps", "lam", "eps1", "eps2", "lam1", "lam2")}


def test_invariants_of_the_families():
    """Reference file: eps/lam^2 (additive), eps (multiplicative), in 1 and d dims."""
    assert invariants(family("additive")) == (S["eps"] / S["lam"] ** 2,)
    assert invariants(family("additive", dim=7)) == (S["eps"] / S["lam"] ** 2,)
    assert invariants(family("multiplicative")) == (S["eps"],)
    assert invariants(family("multiplicative", dim=7)) == (S["eps"],)
    assert renormalization(family("additive")).exponents == {"eps": 2, "lam": 1}


def test_two_cosine_invariants():
    """x -> b x rescales eps_i by b^2 and lam_i by b: three independent invariants."""
    got = set(invariants(family("two-cosine")))
    assert got == {S["eps1"] / S["lam1"] ** 2, S["eps2"] / S["lam2"] ** 2, S["lam1"] / S["lam2"]}


def test_no_symmetry_with_a_constant():
    """An additive constant has weight 0, not 2: no scaling symmetry."""
    assert not renormalization(from_expression("x**2 + eps*cos(2*pi*x/lam) + 1")).exists


def test_critical_invariants():
    """Derived thresholds: 1/(2 pi^2) additive, 0 multiplicative, none for two cosines."""
    c = critical_invariant(family("additive"))
    assert (c.invariant, c.value, c.convex_when) == (
        S["eps"] / S["lam"] ** 2,
        1 / (2 * sympy.pi**2),
        "below",
    )
    assert float(c.value) == 1 / (2 * np.pi**2)
    c = critical_invariant(family("multiplicative"))
    assert (c.invariant, c.value) == (S["eps"], 0)
    assert critical_invariant(family("two-cosine")) is None


def _gd(eps, lam, x0, lr, steps):
    """Independent reference: plain NumPy GD on the additive loss."""
    x, out = x0, [x0]
    for _ in range(steps):
        x = x - lr * (2 * x - 2 * np.pi * eps / lam * np.sin(2 * np.pi * x / lam))
        out.append(x)
    return np.array(out)


# Binary scaling is exact only away from subnormal numbers.
_NORMAL = st.floats(-5.0, 5.0).filter(lambda v: v == 0 or abs(v) > 1e-200)


def _amplification(eps, lam, xs, lr):
    """Bound on how much a rounding error made before step k is amplified by step k."""
    f2 = 2 - 4 * np.pi**2 * eps / lam**2 * np.cos(2 * np.pi * xs / lam)
    amp, out = 1.0, [1.0]
    for g in np.abs(1 - lr * f2[:-1]):
        amp = amp * g + 1.0
        out.append(amp)
    return np.array(out)


@settings(max_examples=25, deadline=None)
@given(
    b=st.floats(0.05, 20.0),
    eps=st.floats(0.0, 0.3),
    lam=st.floats(0.05, 2.0),
    x0=st.floats(-5.0, 5.0),
    lr=st.floats(0.0, 1.5),
)
def test_orbit_identity(b, eps, lam, x0, lr):
    """GD on (eps, lam, x0) equals b * GD on (eps/b^2, lam/b, x0/b) at the same learning rate,
    over the steps before rounding differences (amplified by |1 - s f''|) can grow."""
    land = family("additive")
    values, y0 = rescaled(land, b, {"eps": eps, "lam": lam}, x0)
    assert np.isclose(values["eps"], eps / b**2) and np.isclose(values["lam"], lam / b)
    xs = _gd(eps, lam, x0, lr, 20)
    ys = _gd(values["eps"], values["lam"], float(y0), lr, 20)
    amp = _amplification(eps, lam, xs, lr)
    early = amp < 1e6
    err = np.abs(xs - b * ys)[early]
    tol = 1e-13 * (1 + np.abs(xs[early]) + eps / lam) * amp[early]
    assert np.all(err <= tol)


@settings(max_examples=25, deadline=None)
@given(
    k=st.integers(-6, 6),
    eps=_NORMAL.map(lambda v: abs(v) * 0.06),
    lam=st.floats(0.05, 2.0),
    x0=_NORMAL,
    lr=st.floats(0.0, 1.5),
)
def test_orbit_identity_exact_for_powers_of_two(k, eps, lam, x0, lr):
    """b = 2^k scales binary floats exactly: the two float64 orbits agree bit for bit."""
    b = 2.0**k
    values, y0 = rescaled(family("additive"), b, {"eps": eps, "lam": lam}, x0)
    xs = _gd(eps, lam, x0, lr, 50)
    ys = _gd(values["eps"], values["lam"], float(y0), lr, 50)
    # Compare up to the first non-finite or (near-)subnormal iterate of either orbit.
    bad = ~np.isfinite(xs) | ((xs != 0) & (np.abs(xs) < 1e-290))
    bad |= ~np.isfinite(ys) | ((ys != 0) & (np.abs(ys) < 1e-290))
    n = int(np.argmax(bad)) if bad.any() else xs.size
    np.testing.assert_array_equal(xs[:n], b * ys[:n])
