"""mpmath reference orbits against closed forms."""

import mpmath
import pytest

from trainability.analytic import family
from trainability.verify import reference_orbit


@pytest.mark.parametrize("s", [0.1, 0.5, 0.9, 1.0, 1.001])
def test_quadratic_orbit_is_geometric(s):
    """x_k = (1 - 2 s)^k x0 exactly for f = x^2 (closed form)."""
    orbit = reference_orbit(family("quadratic"), s, 0.7, steps=50, bound=1e30, dps=40)
    with mpmath.workdps(40):
        for k, x in enumerate(orbit.xs):
            exact = (1 - 2 * mpmath.mpf(s)) ** k * mpmath.mpf(0.7)
            assert abs(x[0] - exact) <= mpmath.mpf(10) ** -35
    assert orbit.trainable


def test_divergence_step_matches_closed_form():
    """f(x_k) = (2s - 1)^(2k) x0^2 first exceeds B at k = ceil(log(B/x0^2) / (2 log(2s-1)))."""
    s, x0, bound = 1.3, 1.0, 1e8
    orbit = reference_orbit(family("quadratic"), s, x0, steps=1000, bound=bound)
    k = mpmath.ceil(mpmath.log(bound / x0**2) / (2 * mpmath.log(2 * s - 1)))
    assert not orbit.trainable and orbit.diverged_at == int(k)
