"""The fractal transition at the derived critical roughness."""

import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from trainability.analytic import critical_invariant, family, jax_kernels
from trainability.numeric import grid_sweep
from trainability.verify import roughness_values, transition_verdict

CRITICAL = 1 / (2 * math.pi**2)  # reference file: theta_+ = 1/(2 pi^2)
LAND = family("additive")
KERNELS = jax_kernels(LAND)  # compiled once for the module


def _points(pairs):
    return [{"roughness": r, "dimension": d} for r, d in pairs]


def test_derived_critical_value_is_the_reference_one():
    assert float(critical_invariant(LAND).value) == pytest.approx(CRITICAL, rel=1e-15)


def test_roughness_values():
    got = roughness_values(LAND, np.array([[0.2, 0.1], [0.05, 1.0]]))
    np.testing.assert_allclose(got, [20.0, 0.05])


def test_verdict_passes_on_a_clean_transition():
    v = transition_verdict(
        _points([(0.01, 0.0), (0.04, 0.0), (0.06, 0.0), (0.07, 0.5), (0.2, 0.9)]), CRITICAL
    )
    assert v.passed, v.why
    assert v.measured["bracket"] == [0.06, 0.07]
    assert CRITICAL <= v.measured["transition"] <= 2 * CRITICAL


@pytest.mark.parametrize(
    "pairs",
    [
        [(0.01, 0.0), (0.04, 0.6), (0.2, 0.9)],  # fractal while convex
        [(0.01, 0.0), (0.06, 0.0), (0.2, 0.05)],  # not fractal well above critical
        [(0.01, 0.0), (0.04, 0.0)],  # no bracket
    ],
)
def test_verdict_fails(pairs):
    assert not transition_verdict(_points(pairs), CRITICAL).passed


def _dimension(eps, lam, levels=13):
    res = grid_sweep(KERNELS.loss_and_grad, np.array([[eps, lam]]), [5.0], levels=levels)
    return float(res.dimension[0])


@settings(max_examples=4, deadline=None, derandomize=True)
@given(theta=st.floats(0.002, 0.045), lam=st.floats(0.8, 1.2))
def test_property_dimension_zero_when_convex(theta, lam):
    """Roughness below 1/(2 pi^2) (convex): the boundary is a point, dimension 0."""
    assert _dimension(theta * lam**2, lam) == 0.0


@settings(max_examples=4, deadline=None, derandomize=True)
@given(theta=st.floats(0.1, 0.16), lam=st.floats(0.8, 1.2))
def test_property_dimension_positive_when_rough(theta, lam):
    """Roughness about 2-3x the critical value: clearly fractal (dimension > 0.3) at N = 2^13."""
    assert _dimension(theta * lam**2, lam) > 0.3


def test_unresolved_points_are_reported_not_failed():
    """A non-convex point whose boundary is still a few points at this level is unresolved;
    a resolved one (many boundaries over >= 3 levels) with dimension 0 fails."""
    base = [(0.01, 0.0), (0.06, 0.0), (0.07, 0.5), (0.2, 0.9)]
    pts = _points(base) + [{"roughness": 5.0, "dimension": 0.0, "boundary_counts": [1, 1, 3]}]
    v = transition_verdict(pts, CRITICAL)
    assert v.passed and v.measured["unresolved"] == 1
    pts[-1]["boundary_counts"] = [1, 2, 2, 20, 20]
    assert not transition_verdict(pts, CRITICAL).passed
