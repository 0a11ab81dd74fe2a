"""Symbolic derivatives against mpmath numerical differentiation and finite differences."""

import mpmath
import numpy as np
import pytest
import sympy
from hypothesis import given, strategies as st

from trainability.analytic import (
    family,
    from_expression,
    gd_jacobian,
    gd_map,
    gradient,
    hessian,
    jax_kernels,
    learning_rate_symbol,
    mpmath_kernels,
    numpy_kernels,
    symbol,
)
from trainability.verify.strategies import loss_expressions

FAMILIES = {
    "additive": family("additive"),
    "multiplicative": family("multiplicative"),
    "two-cosine": family("two-cosine"),
    "additive-3d": family("additive", dim=3),
    "multiplicative-3d": family("multiplicative", dim=3),
}


def test_additive_closed_forms():
    x, eps, lam = symbol("x"), symbol("eps"), symbol("lam")
    land = family("additive")
    (g,) = gradient(land)
    expected = 2 * x - 2 * sympy.pi * eps / lam * sympy.sin(2 * sympy.pi * x / lam)
    assert sympy.simplify(g - expected) == 0
    h = hessian(land)[0, 0]
    assert (
        sympy.simplify(
            h - (2 - eps * (2 * sympy.pi / lam) ** 2 * sympy.cos(2 * sympy.pi * x / lam))
        )
        == 0
    )
    s = learning_rate_symbol()
    assert sympy.simplify(gd_map(land)[0] - (x - s * expected)) == 0
    assert sympy.simplify(gd_jacobian(land)[0, 0] - (1 - s * h)) == 0


def _params(name, e, l):
    land = FAMILIES[name]
    values = {"eps": e, "lam": l, "eps1": e, "eps2": e / 2, "lam1": 0.3, "lam2": 0.5}
    return tuple(values[n] for n in land.parameter_names)


@given(
    name=st.sampled_from(sorted(FAMILIES)),
    e=st.floats(0.0, 0.5),
    l=st.floats(0.05, 2.0),
    point=st.lists(st.floats(-3, 3), min_size=3, max_size=3),
)
def test_gradient_matches_mpmath_differentiation(name, e, l, point):
    """Generated gradient (mpmath kernel of the symbolic derivative) vs mpmath.diff of the loss."""
    land = FAMILIES[name]
    params = _params(name, e, l)
    mk = mpmath_kernels(land, dps=30)
    x = point[: land.dim]
    g = mk.grad(x, params)
    with mpmath.workdps(30):
        for i in range(land.dim):

            def along(t, i=i):
                y = list(map(mpmath.mpf, x))
                y[i] = t
                return mk.loss(y, params)

            # Explicit step: the kernel works at 30 digits, so mpmath.diff must not
            # raise the precision under it (h = 1e-10 leaves ~18 exact digits).
            ref = mpmath.diff(along, mpmath.mpf(x[i]), h=mpmath.mpf("1e-10"))
            assert abs(g[i] - ref) <= mpmath.mpf(10) ** -15 * (1 + abs(ref))


@given(
    name=st.sampled_from(sorted(FAMILIES)),
    e=st.floats(0.0, 0.5),
    l=st.floats(0.05, 2.0),
    point=st.lists(st.floats(-3, 3), min_size=3, max_size=3),
)
def test_gradient_matches_finite_differences(name, e, l, point):
    """NumPy kernel gradient vs central finite differences of the NumPy loss (float64)."""
    land = FAMILIES[name]
    params = _params(name, e, l)
    nk = numpy_kernels(land)
    x = np.array(point[: land.dim])
    g = nk.grad(x[None], params)[0]
    h = 1e-6
    for i in range(land.dim):
        dx = np.zeros(land.dim)
        dx[i] = h
        fd = (nk.loss((x + dx)[None], params)[0] - nk.loss((x - dx)[None], params)[0]) / (2 * h)
        scale = 1 + abs(fd) + e * (2 * np.pi / l) ** 2 * sum(x**2 + 1)
        assert abs(g[i] - fd) <= 1e-6 * scale


def test_hessian_matches_mpmath():
    land = FAMILIES["multiplicative-3d"]
    params = _params("multiplicative-3d", 0.2, 0.1)
    values = dict(zip(land.parameter_names, params, strict=True))
    point = [0.3, -0.7, 1.1]
    subs = {
        **{v: sympy.Float(p, 30) for v, p in zip(land.variables, point, strict=True)},
        **{h: sympy.Float(values[h.name], 30) for h in land.hyperparameters},
    }
    h = np.array(hessian(land).subs(subs).evalf(20), dtype=float)
    mk = mpmath_kernels(land, dps=30)
    with mpmath.workdps(30):
        for i in range(3):
            for j in range(3):

                def gi(t, i=i, j=j):
                    y = list(map(mpmath.mpf, point))
                    y[j] = t
                    return mk.grad(y, params)[i]

                ref = float(mpmath.diff(gi, mpmath.mpf(point[j]), h=mpmath.mpf("1e-10")))
                assert h[i, j] == pytest.approx(ref, rel=1e-12, abs=1e-12)
    assert np.allclose(h, h.T)


@given(
    text=loss_expressions(), e=st.floats(0.0, 0.5), l=st.floats(0.1, 2.0), x=st.floats(-2.0, 2.0)
)
def test_user_expressions_gradient_finite_differences(text, e, l, x):
    """Gradients of random whitelisted user expressions vs central finite differences (mpmath,
    30 digits, so the finite difference itself is accurate to ~1e-18)."""
    land = from_expression(text)
    values = {"eps": e, "lam": l}
    params = tuple(values[n] for n in land.parameter_names)
    mk = mpmath_kernels(land, dps=30)
    g = mk.grad([x], params)[0]
    with mpmath.workdps(30):
        h = mpmath.mpf("1e-9")
        fd = (mk.loss([mpmath.mpf(x) + h], params) - mk.loss([mpmath.mpf(x) - h], params)) / (2 * h)
        assert abs(g - fd) <= mpmath.mpf("1e-12") * (1 + abs(fd))


def test_backends_agree():
    """JAX, NumPy and mpmath kernels come from one expression and agree to float64 rounding."""
    land = FAMILIES["two-cosine"]
    params = _params("two-cosine", 0.01, 0.3)
    xs = np.linspace(-2, 2, 17)[:, None]
    fj, gj = jax_kernels(land).loss_and_grad(xs, params)
    fn, gn = numpy_kernels(land).loss_and_grad(xs, params)
    mk = mpmath_kernels(land, dps=40)
    fm = np.array([float(mk.loss([v], params)) for v in xs[:, 0]])
    gm = np.array([float(mk.grad([v], params)[0]) for v in xs[:, 0]])
    np.testing.assert_allclose(np.asarray(fj), fm, rtol=1e-13, atol=1e-14)
    np.testing.assert_allclose(fn, fm, rtol=1e-13, atol=1e-14)
    np.testing.assert_allclose(np.asarray(gj), gm[:, None], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(gn, gm[:, None], rtol=1e-12, atol=1e-12)
    step = np.asarray(jax_kernels(land).step(xs, 0.3, params))
    np.testing.assert_allclose(step, xs - 0.3 * gm[:, None], rtol=1e-12, atol=1e-12)
