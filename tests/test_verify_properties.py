"""The Hypothesis toolkit: strategies (verify/strategies.py) and properties (verify/properties.py).

Each property is run on inputs where it must pass and, through a mutant of the theory it
checks (monkeypatched), on inputs where it must fail: a property that cannot fail is no test.
"""

import dataclasses

import numpy as np
import pytest
import sympy
from hypothesis import given, settings, strategies as st

from trainability.analytic import (
    convexity,
    family,
    from_expression,
    numpy_kernels,
    parse_expression,
)
from trainability.numeric import five_point_data
from trainability.verify import properties as props, strategies as strat
from trainability.verify.targets._islamov_examples import alpha_beta_example

ADDITIVE = family("additive", eps=0.01, lam=1.0)  # roughness 0.01 < 1/(2 pi^2): convex
ROUGH = family("additive", eps=0.1, lam=0.5)  # roughness 0.4: fractal boundary
EXAMPLE1 = alpha_beta_example(1)  # one object: its JAX callables are compiled once


@settings(max_examples=30, deadline=None)
@given(st.data())
def test_every_production_parses_with_its_hyperparameters(data):
    kind = data.draw(st.sampled_from(strat.PERTURBATION_KINDS))
    text = data.draw(strat.perturbations(kinds=(kind,)))
    names = {s.name for s in parse_expression(text).free_symbols}
    assert names - {"x"} <= {"eps", "lam"} and "x" in names and "eps" in names
    if kind == "incommensurate":
        assert "sqrt" in text


@pytest.mark.parametrize("bad", [{"kinds": ("fourier",)}, {"functions": ("tan",)}])
def test_unknown_production_is_refused(bad):
    @given(strat.perturbations(**bad))
    def draw(text):
        pass

    with pytest.raises(ValueError, match="must be among"):
        draw()


@settings(max_examples=10, deadline=None)
@given(strat.landscapes(max_dim=3))
def test_landscapes_in_d_dimensions(land):
    """Separable draws have a diagonal Hessian; every draw has its values and dimension."""
    assert 1 <= land.dim <= 3 and land.parameter_values()
    assert {v.name for v in land.variables} == (
        {"x"} if land.dim == 1 else {f"x{i}" for i in range(1, land.dim + 1)}
    )


@settings(max_examples=12, deadline=None)
@given(strat.perturbed_landscapes(functions=("cos",)))
def test_convexity_matches_curvature_on_the_grammar(land):
    props.convexity_matches_curvature(land, samples=4001)


def _flipped(land, status):
    conv = convexity(land)
    at = dataclasses.replace(conv.at_values, status=status, method="certified", witness=None)
    return dataclasses.replace(conv, at_values=at, condition=None)


def test_convexity_property_catches_a_wrong_status(monkeypatch):
    """Mutant: the analysis says convex where f'' < 0 (rough additive)."""
    props.convexity_matches_curvature(ROUGH)
    monkeypatch.setattr(props, "convexity", lambda land: _flipped(land, "convex"))
    with pytest.raises(AssertionError, match="derived convex, but the curvature is"):
        props.convexity_matches_curvature(ROUGH)


def test_convexity_property_catches_a_wrong_infimum(monkeypatch):
    """Mutant: a certified lower bound above the true infimum 2 - 4 pi^2 eps/lam^2."""
    conv = convexity(ADDITIVE)
    wrong = dataclasses.replace(conv.at_values, lower_bound=conv.at_values.min_curvature + 0.01)
    monkeypatch.setattr(props, "convexity", lambda land: dataclasses.replace(conv, at_values=wrong))
    with pytest.raises(AssertionError, match="derived inf f''"):
        props.convexity_matches_curvature(ADDITIVE)


def test_convexity_property_catches_condition_disagreeing_with_status(monkeypatch):
    conv = convexity(ADDITIVE)
    at = dataclasses.replace(conv.at_values, status="not convex", witness=None)
    monkeypatch.setattr(props, "convexity", lambda land: dataclasses.replace(conv, at_values=at))
    with pytest.raises(AssertionError, match="the condition"):
        props.convexity_matches_curvature(ADDITIVE)


def test_convexity_property_in_two_dimensions():
    props.convexity_matches_curvature(family("additive", dim=2, eps=0.01, lam=1.0), samples=2001)
    with pytest.raises(ValueError, match="every hyperparameter"):
        props.convexity_matches_curvature(family("additive"))


# ------------------------------------------------------------------ fixed points, learning rates


@settings(max_examples=15, deadline=None)
@given(land=strat.perturbed_landscapes(kinds=("commensurate", "trig-polynomial", "growth")))
def test_fixed_points_stable_on_their_interval(land):
    props.fixed_points_stable_on_interval(land)


def test_fixed_point_property_catches_a_wrong_interval(monkeypatch):
    """Mutant: the stability interval is 10% too long (2.2/h instead of 2/h)."""
    real = props._exact_fixed_points(ADDITIVE)
    wrong = tuple(
        dataclasses.replace(p, stable_for=(0, p.stable_for[1] * sympy.Rational(11, 10)))
        for p in real
    )
    monkeypatch.setattr(props, "_exact_fixed_points", lambda land: wrong)
    with pytest.raises(AssertionError, match="unstable at s"):
        props.fixed_points_stable_on_interval(ADDITIVE)
    short = tuple(dataclasses.replace(p, stable_for=(0, p.stable_for[1] * 0.9)) for p in real)
    monkeypatch.setattr(props, "_exact_fixed_points", lambda land: short)
    with pytest.raises(AssertionError, match="stable at s"):
        props.fixed_points_stable_on_interval(ADDITIVE)


def _distance_after(land, s, steps=400, kick=1e-6):
    (loc, _), *_ = props.stable_intervals(land)
    k = numpy_kernels(land)
    x = np.array([[loc[0] + kick]])
    with np.errstate(all="ignore"):
        for _ in range(steps):
            x = k.step(x, np.array([s]), land.parameter_values())
    return abs(float(x[0, 0]) - loc[0])


@settings(max_examples=10, deadline=None)
@given(st.data())
def test_learning_rates_inside_converge_outside_leave(data):
    """Learning rates drawn inside the derived interval converge to the minimum from a small
    kick; outside, the kick grows (the fixed point repels)."""
    eps = data.draw(st.floats(0.0, 0.02))
    land = family("additive", eps=eps, lam=1.0)
    inside = data.draw(strat.learning_rates(land, margin=0.05))
    outside = data.draw(strat.learning_rates(land, inside=False, margin=0.05))
    assert _distance_after(land, inside) < 1e-9
    assert _distance_after(land, outside, steps=60) > 1e-5


def test_learning_rates_need_a_stable_point():
    with pytest.raises(ValueError, match="stable interval"):
        strat.learning_rates(family("additive", eps=0.2, lam=0.1))


# ----------------------------------------------------------------------- renormalization


@settings(max_examples=15, deadline=None)
@given(
    land=strat.family_landscapes(names=("additive", "multiplicative"), max_dim=2),
    b=strat.scales(exact=True),
    x0=strat.nonzero_starts(2.0),
    s=st.floats(0.01, 1.2),
)
def test_renormalization_bit_for_bit_at_powers_of_two(land, b, x0, s):
    props.renormalization_maps_orbits(land, b, x0, s)


@settings(max_examples=10, deadline=None)
@given(b=strat.scales(), x0=strat.nonzero_starts(2.0), s=st.floats(0.01, 1.2))
def test_renormalization_at_any_scale(b, x0, s):
    props.renormalization_maps_orbits(ROUGH, b, x0, s)


def test_renormalization_property_catches_a_wrong_exponent(monkeypatch):
    """Mutant: eps rescaled as eps/b (weight 1) instead of eps/b**2."""

    def wrong(land, b, values=None, x0=None):
        v = land.value_dict
        return {"eps": v["eps"] / b, "lam": v["lam"] / b}, np.asarray(x0) / b

    monkeypatch.setattr(props, "rescaled", wrong)
    with pytest.raises(AssertionError, match="step 1"):
        props.renormalization_maps_orbits(ADDITIVE, 2.0, 0.7, 0.3)


# ------------------------------------------------------------------- sweeps and regions


def test_no_fractal_boundary_on_the_convex_side():
    v = props.no_fractal_boundary_when_convex(ADDITIVE)
    assert v.measured["boundary_counts"][-1] == 1
    with pytest.raises(ValueError, match="not on the convex side"):
        props.no_fractal_boundary_when_convex(ROUGH)
    # The measurement can fail: on the non-convex side the same sweep sees a fractal.
    with pytest.raises(AssertionError, match="fractal boundary: dimension"):
        props.no_fractal_boundary_when_convex(ROUGH, require_convex=False)


@settings(max_examples=4, deadline=None)
@given(strat.alpha_beta_pairs(EXAMPLE1))
def test_alpha_beta_holds_inside_the_proven_region(pair):
    props.alpha_beta_holds(EXAMPLE1, *pair, samples=2**9)


@settings(max_examples=20, deadline=None)
@given(strat.alpha_beta_pairs(EXAMPLE1, inside=False))
def test_alpha_beta_pairs_outside(pair):
    alpha, beta = pair
    assert 2.5 <= alpha <= 25 and 0 <= beta < 0.8 * alpha


def test_alpha_beta_property_fails_where_the_paper_says():
    with pytest.raises(AssertionError, match="worst slack"):
        props.alpha_beta_holds(EXAMPLE1, 3.0, 0.0, samples=2**9)  # beta = 0 fails (the paper)


def test_margins_monotone_after_phase_change():
    data = five_point_data()
    v = props.margins_monotone_after_phase_change(data, 3.0, 5000, init_scale=0.1)
    assert v.passed
    with pytest.raises(AssertionError, match="normalized margin"):
        props.margins_monotone_after_phase_change(data, 3.0, 5000, init_scale=0.1, tol=-1.0)


CUBE = from_expression("x**2 + eps*sin(2*pi*x/lam)**3")


@settings(max_examples=20, deadline=None)
@given(strat.hyperparameter_values(CUBE, {"eps": 0.01, "lam": 1}))
def test_hyperparameter_values_around_a_point(values):
    assert 0.005 <= values["eps"] <= 0.02 and 0.5 <= values["lam"] <= 2


def test_hyperparameter_values_refuse_a_bad_spread():
    land = CUBE
    with pytest.raises(ValueError, match="spread"):
        strat.hyperparameter_values(land, spread=0.5)


@settings(max_examples=8, deadline=None)
@given(strat.landscapes(max_dim=2, kinds=("commensurate", "bump", "growth"), separable=True))
def test_properties_on_separable_landscapes_in_two_dimensions(land):
    props.convexity_matches_curvature(land, samples=1001)
    props.fixed_points_stable_on_interval(land)
