"""Convexity on the whole real line, class by class, each against an independent check.

References: dense NumPy evaluation of f'' (over a period for periodic f'', over a wide window
elsewhere), mpmath at 50 digits for witnesses, and closed forms worked by hand.
"""

import contextlib
import io
import json
import math

import mpmath
import numpy as np
import pytest
import sympy
from hypothesis import HealthCheck, given, settings, strategies as st

from trainability.analytic import (
    DerivationTimeout,
    convexity,
    critical_invariant,
    family,
    from_expression,
    min_curvature,
    symbol,
    time_budget,
)
from trainability.analytic._convexity import STATUSES
from trainability.analytic._interval import NotCertifiable, global_minimum, tail_bound
from trainability.verify._cli import main

EPS, LAM = symbol("eps"), symbol("lam")
X = symbol("x")


def _f2(text: str, **values):
    """Independent f'': SymPy's second derivative lambdified to NumPy (no package code)."""
    expr = from_expression(text, values).substituted()
    return sympy.lambdify(X, sympy.diff(expr, X, 2), "numpy")


def _dense_min(f2, lo, hi, n=2_000_001):
    x = np.linspace(lo, hi, n)
    return float(np.min(f2(x) * np.ones_like(x)))


# ------------------------------------------------------------------ a bump far from the window


def test_bump_outside_any_window_is_not_convex():
    """x^2 - 3 exp(-(x-15)^2): convex on [-10, 10], not on the line (f'' min near x = 13.8)."""
    text = "x**2 - 3*exp(-(x-15)**2)"
    f2 = _f2(text)
    assert _dense_min(f2, -10, 10) > 1.9  # a window-only check would say "convex"
    brute = _dense_min(f2, 10, 20)
    conv = convexity(from_expression(text))
    assert conv.never_convex and conv.condition is sympy.false
    assert conv.at_values.status == "not convex"
    assert conv.at_values.min_curvature == pytest.approx(brute, abs=1e-9)
    # Hand-worked: f'' = 2 + 6 e^{-u^2} (1 - 2 u^2), u = x - 15, lowest at u^2 = 3/2.
    assert brute == pytest.approx(2 - 12 * math.exp(-1.5), abs=1e-9)


def test_small_bump_far_out_stays_convex_exactly():
    """x^2 + 0.5 exp(-(x-15)^2): inf f'' = 2 - 1 = 1, exact (polynomial times one exponential)."""
    conv = convexity(from_expression("x**2 + 0.5*exp(-(x-15)**2)"))
    assert conv.always_convex and conv.exact
    assert conv.at_values.min_curvature == pytest.approx(1.0, abs=1e-12)
    assert _dense_min(_f2("x**2 + 0.5*exp(-(x-15)**2)"), 5, 25) == pytest.approx(1.0, abs=1e-9)


def test_gaussian_bump_scaled_by_lam_gives_an_exact_critical_invariant():
    """x^2 + eps exp(-(x/lam)^2): f''(lam y) = 2 + (eps/lam^2)(4y^2 - 2)e^{-y^2}, min -2 at 0."""
    land = from_expression("x**2 + eps*exp(-(x/lam)**2)")
    crit = critical_invariant(land)
    assert (crit.invariant, crit.value, crit.exact) == (EPS / LAM**2, 1, True)
    for rough, convex in ((0.99, True), (1.01, False)):  # eps/lam^2 on both sides of 1
        brute = _dense_min(_f2("x**2 + eps*exp(-(x/lam)**2)", eps=rough * 0.25, lam=0.5), -5, 5)
        assert (brute >= 0) == convex


# ------------------------------------------------------------------- polynomials in sin / cos


def test_sine_plus_double_cosine_threshold():
    """f'' = 2 - eps k^2 (4 + s - 8 s^2), s = sin(kx): convex iff eps/lam^2 <= 16/(129 pi^2)."""
    text = "x**2 + eps*sin(2*pi*x/lam) + eps*cos(4*pi*x/lam)"
    conv = convexity(from_expression(text))
    crit_value = 16 / (129 * sympy.pi**2)
    assert conv.condition == sympy.Le(EPS / LAM**2, crit_value)
    assert conv.exact and conv.method == "commensurate"
    crit = critical_invariant(from_expression(text))
    assert (crit.invariant, crit.value) == (EPS / LAM**2, crit_value)
    # Dense f'' over one period (lam = 1) on both sides of the threshold.
    c = float(crit_value)
    for eps, sign in ((0.999 * c, 1), (1.001 * c, -1)):
        brute = _dense_min(_f2(text, eps=eps, lam=1.0), 0, 1)
        assert np.sign(brute) == sign
        assert min_curvature(conv, {"eps": eps, "lam": 1.0}) == pytest.approx(brute, abs=1e-9)


def test_cosine_cubed_threshold():
    """cos^3 = (3 cos t + cos 3t)/4: f'' = 2 - eps k^2 (3/4 u + 9/4 T_3(u)), so 1/(6 pi^2)."""
    text = "x**2 + eps*cos(2*pi*x/lam)**3"
    cond = convexity(from_expression(text)).condition
    assert cond == sympy.Le(EPS / LAM**2, 1 / (6 * sympy.pi**2))
    c = 1 / (6 * math.pi**2)
    assert _dense_min(_f2(text, eps=0.999 * c, lam=1.0), 0, 1) > 0
    assert _dense_min(_f2(text, eps=1.001 * c, lam=1.0), 0, 1) < 0


def test_mixed_parity_numeric_trig_polynomial():
    """sin(x) + cos(x) + 0.3 sin(2x): mixed parities, exact minimum by the half-angle map."""
    text = "x**2 + 0.05*sin(x) + 0.05*cos(x) + 0.4*sin(2*x)"
    conv = convexity(from_expression(text))
    brute = _dense_min(_f2(text), 0, 2 * math.pi)
    assert conv.at_values.min_curvature == pytest.approx(brute, abs=1e-9)
    assert conv.exact and conv.status == "always convex"


# --------------------------------------------------------- several commensurate amplitudes


def test_two_cosine_region_is_the_straight_line():
    """Both cosines peak at x = 0: convex iff eps1 (2pi/lam1)^2 + eps2 (2pi/lam2)^2 <= 2."""
    conv = convexity(family("two-cosine"))
    e1, e2, l1, l2 = (symbol(n) for n in ("eps1", "eps2", "lam1", "lam2"))
    line = 4 * sympy.pi**2 * e1 / l1**2 + 4 * sympy.pi**2 * e2 / l2**2
    assert conv.condition == sympy.Le(line, 2)
    assert not conv.condition.has(symbol("u"))  # a relation in the hyperparameters only
    rng = np.random.default_rng(0)
    k1, k2 = 2 * np.pi / 0.3, 2 * np.pi / 0.5
    x = np.linspace(0, 1.5, 1_500_001)  # one common period
    for a, b in rng.uniform(0, 0.02, size=(8, 2)):
        brute = float(np.min(2 - a * k1**2 * np.cos(k1 * x) - b * k2**2 * np.cos(k2 * x)))
        got = min_curvature(conv, {"eps1": a, "eps2": b, "lam1": 0.3, "lam2": 0.5})
        assert got == pytest.approx(brute, abs=1e-8)


def test_moving_minimiser_of_two_amplitudes():
    """eps1 sin + eps2 cos(2.): the minimiser moves with eps1/eps2; Piecewise against dense."""
    text = "x**2 + eps1*sin(2*pi*x/lam) + eps2*cos(4*pi*x/lam)"
    conv = convexity(from_expression(text))
    assert conv.status == "depends" and conv.exact and conv.condition.has(sympy.Piecewise)
    rng = np.random.default_rng(1)
    for a, b in [(0.05, 0.0), (0.0, 0.03), *rng.uniform(0, 0.05, size=(8, 2))]:
        brute = _dense_min(_f2(text, eps1=a, eps2=b, lam=1.0), 0, 1)
        got = min_curvature(conv, {"eps1": a, "eps2": b, "lam": 1.0})
        assert got == pytest.approx(brute, abs=1e-8)


# ------------------------------------------------------------------------- polynomial growth


def test_quartic_growth_is_never_convex():
    """x^4 + eps cos(2 pi x/lam): f''(0) = -4 pi^2 eps/lam^2 < 0 for every eps > 0."""
    conv = convexity(from_expression("x**4 + eps*cos(2*pi*x/lam)"))
    assert conv.never_convex and conv.condition == sympy.Eq(EPS, 0)
    assert _f2("x**4 + eps*cos(2*pi*x/lam)", eps=1e-6, lam=3.0)(0.0) < 0


def test_growth_with_a_common_minimiser_is_exact():
    """x^4 + x^2 + eps cos(2 pi x/lam): both parts lowest at 0, so 2 - eps k^2 >= 0 exactly."""
    text = "x**4 + x**2 + eps*cos(2*pi*x/lam)"
    conv = convexity(from_expression(text))
    assert conv.condition == sympy.Le(EPS / LAM**2, 1 / (2 * sympy.pi**2)) and conv.exact
    c = 1 / (2 * math.pi**2)
    assert _dense_min(_f2(text, eps=0.99 * c, lam=1.0), -3, 3) > 0
    assert _dense_min(_f2(text, eps=1.01 * c, lam=1.0), -3, 3) < 0


def test_polynomials_exact():
    assert convexity(from_expression("x**4 - x**2")).never_convex
    assert convexity(from_expression("x**6 + 3*x**2")).always_convex
    assert convexity(from_expression("x**2 + a*x**4")).always_convex  # a >= 0 is assumed
    conv = convexity(from_expression("x**2 - a*x**4"))
    assert conv.never_convex and conv.condition == sympy.Eq(symbol("a"), 0)


# ------------------------------------------------------------------ certified at given values


def test_certified_convex_encloses_the_dense_minimum():
    """No closed form: ball arithmetic brackets inf f''; dense evaluation lies inside."""
    text = "x**2 + 0.3*cos(2*x)*exp(-x**2)"
    at = convexity(from_expression(text)).at_values
    assert (at.status, at.method) == ("convex", "certified")
    brute = _dense_min(_f2(text), -6, 6)
    assert at.lower_bound <= brute <= at.upper_bound + 1e-12


def test_certified_witness_checked_with_mpmath():
    """A proven negative value: the witness is re-evaluated at 50 digits by mpmath."""
    text = "x**2 + 0.1*cos(x) + 0.1*cos(sqrt(2)*x) + exp(-x**2)"
    conv = convexity(from_expression(text))
    assert conv.never_convex and not conv.exact
    w = conv.at_values.witness
    f2 = sympy.lambdify(X, sympy.diff(from_expression(text).expr, X, 2), "mpmath")
    with mpmath.workdps(50):
        assert f2(mpmath.mpf(w)) < 0


def test_witness_needs_no_tail_proof():
    """x^4 + 0.3 x^2 cos(5x): no tail bound (x^2 cos grows like the quartic's f''), but a
    point with f'' < 0 refutes convexity; mpmath at 50 digits confirms the witness."""
    text = "x**4 + 0.3*cos(5*x)*x**2"
    conv = convexity(from_expression(text))
    assert conv.never_convex and conv.at_values.method == "certified"
    f2 = sympy.lambdify(X, sympy.diff(from_expression(text).expr, X, 2), "mpmath")
    with mpmath.workdps(50):
        assert f2(mpmath.mpf(conv.at_values.witness)) < 0


def test_unknown_is_honest_with_a_labelled_estimate():
    """x^2 + 2 tanh(x) is convex (inf f'' = 2 - 8/(3 sqrt 3)), but no tail proof applies."""
    at = convexity(from_expression("x**2 + 2*tanh(x)")).at_values
    assert at.status == "unknown" and at.method == "estimate"
    assert "not a proof" in at.note
    assert at.min_curvature == pytest.approx(2 - 8 / (3 * math.sqrt(3)), abs=1e-6)


@pytest.mark.parametrize("text", ["x**2 - 1.9*exp(-(x-5)**2/100)", "x**2 - 50/(1 + x**2)"])
def test_tail_bound_holds_beyond_its_radius(text):
    """The proven tail lower bound is below f'' everywhere on |x| >= R (dense check)."""
    h = sympy.diff(from_expression(text).expr, X, 2)
    tail = tail_bound(h, X, target=0.0)
    f = sympy.lambdify(X, h, "numpy")
    r = tail.radius
    x = np.concatenate([np.linspace(r, 50 * r, 200_001), -np.linspace(r, 50 * r, 200_001)])
    assert tail.lower <= float(np.min(f(x))) and tail.lower > 0


def test_no_tail_proof_for_exponential_growth():
    with pytest.raises(NotCertifiable):
        global_minimum(sympy.exp(X) - X, X)


def test_given_values_use_the_closed_form():
    at = convexity(family("additive", eps=0.2, lam=0.1)).at_values
    assert (at.status, at.method) == ("not convex", "closed form")
    assert at.min_curvature == pytest.approx(2 - 4 * math.pi**2 * 0.2 / 0.01, rel=1e-12)


# ------------------------------------------------------------------ derive never crashes


@pytest.mark.parametrize(
    "text",
    ["Abs(x) + x**2", "x**(1/3)", "x**x", "log(x)", "tan(x)", "1/x", "x**2 + 1/(x - 1)"],
)
def test_derive_never_crashes(text, capsys):
    assert main(["derive", text, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["convexity"]["status"] == "unknown"
    assert out["convexity"]["condition"].startswith("unknown:")


def test_derive_time_budget(capsys):
    """A tiny budget: sections that do not finish read 'unknown: timed out'; exit 0."""
    assert main(["derive", "exp(exp(exp(exp(x))))", "--timeout", "0.001", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["timed_out"] and out[out["timed_out"][-1]] == "unknown: timed out"


def test_unused_coordinate(capsys):
    """x1 absent from the loss: its axis has f'' = 0 (a regression: the sum of no terms)."""
    assert main(["derive", "log(log(x2))", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["convexity"]["status"] == "unknown"
    assert convexity(from_expression("x2**2", dim=2)).always_convex


def test_derive_refuses_large_dimension(capsys):
    assert main(["derive", "x1**2", "--dim", "5000", "--json"]) == 2
    assert "--dim: '5000' is not an integer in 1..200" in capsys.readouterr().err


def test_time_budget_interrupts_sympy():
    x = sympy.Symbol("x")
    with pytest.raises(DerivationTimeout), time_budget(0.2):
        while True:
            sympy.expand((x + 1) ** 200)


_LEAVES = st.sampled_from(["x", "eps", "lam", "2", "3", "pi", "0.5"])
_UNARY = st.sampled_from(["sin", "cos", "exp", "log", "tanh", "sqrt", "Abs", "atan", "erf"])
_EXPRESSIONS = st.recursive(
    _LEAVES,
    lambda inner: st.one_of(
        st.builds(lambda f, a: f"{f}({a})", _UNARY, inner),
        st.builds(lambda a, o, b: f"({a}){o}({b})", inner, st.sampled_from("+-*/"), inner),
        st.builds(lambda a, n: f"({a})**{n}", inner, st.integers(-2, 4)),
    ),
    max_leaves=6,
)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=_EXPRESSIONS)
def test_derive_fuzz_exits_cleanly(body):
    """Any parsed loss: exit 0 with a status (or "unknown: ..."), or exit 2 with one line."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["derive", f"x**2 + {body}", "--timeout", "3", "--json"])
    assert code in (0, 2)
    if code == 2:
        assert err.getvalue().count("\n") == 1 and "Traceback" not in err.getvalue()
    else:
        conv = json.loads(out.getvalue())["convexity"]
        assert conv == "unknown: timed out" or conv["status"] in STATUSES


def test_products_of_trig_powers_reduce_to_one_frequency():
    """sin^2 cos^2 = (1 - cos 4t)/8 needs TR8 twice: f'' = 2 + 2 eps k^2 cos(4kx)."""
    text = "x**2 + eps*sin(2*pi*x/lam)**2*cos(2*pi*x/lam)**2"
    conv = convexity(from_expression(text))
    assert conv.condition == sympy.Le(EPS / LAM**2, 1 / (4 * sympy.pi**2))
    c = 1 / (4 * math.pi**2)
    assert _dense_min(_f2(text, eps=0.99 * c, lam=1.0), 0, 1) > 0
    assert _dense_min(_f2(text, eps=1.01 * c, lam=1.0), 0, 1) < 0


def test_mixed_parities_with_one_amplitude_are_exact():
    """Sines of even and odd harmonics with a cosine: one amplitude, half-angle minimum."""
    text = "x**2 + eps*(2*sin(4*pi*x/lam) + 2*sin(6*pi*x/lam) + cos(4*pi*x/lam)/3)"
    conv = convexity(from_expression(text))
    assert conv.status == "depends" and conv.exact
    brute = _dense_min(_f2(text, eps=0.0134, lam=0.2308), 0, 0.2308)
    got = min_curvature(conv, {"eps": 0.0134, "lam": 0.2308})
    assert got == pytest.approx(brute, abs=1e-7)


def test_kronecker_infimum_is_exact_only_where_it_is_proven():
    """Generic ratios: c - sum of amplitudes is the infimum, exact for all ratios only when
    every cosine is lowest at x = 0; with a sine it is merely sufficient (not exact)."""
    cosines = convexity(from_expression("x**2 + a*cos(2*pi*x/l1) + b*cos(2*pi*x/l2)"))
    mixed = convexity(from_expression("x**2 + a*sin(2*pi*x/l1) + b*cos(2*pi*x/l2)"))
    assert cosines.method == mixed.method == "incommensurate"
    assert cosines.exact and not mixed.exact
