"""Boundary counts and the dimension fit against brute-force loops and closed forms."""

import numpy as np
import pytest
from hypothesis import given, strategies as st

from trainability.numeric import boundary_counts, fit_dimension


@given(
    st.integers(1, 10).flatmap(
        lambda L: st.lists(st.booleans(), min_size=2**L + 1, max_size=2**L + 1)
    )
)
def test_boundary_counts_match_brute_force(labels):
    labels = np.array(labels)
    levels = int(np.log2(labels.size - 1))
    counts = boundary_counts(labels)
    for n in range(levels + 1):
        stride = 2 ** (levels - n)
        pts = [labels[k * stride] for k in range(2**n + 1)]
        assert counts[n] == sum(pts[i] != pts[i + 1] for i in range(2**n))


def test_boundary_counts_rejects_wrong_size():
    with pytest.raises(ValueError):
        boundary_counts(np.ones(6, bool))


@given(st.floats(0.05, 1.5), st.floats(0.0, 3.0), st.integers(6, 20))
def test_fit_recovers_exact_power_law(slope, offset, levels):
    """Counts 2**(offset + slope*n) give back the slope with zero standard error."""
    n = np.arange(levels + 1)
    counts = 2.0 ** (offset + slope * n)
    fit = fit_dimension(counts)
    used = np.flatnonzero(counts >= 2)
    if used.size >= 3:
        assert fit.dimension == pytest.approx(slope, rel=1e-9)
        assert fit.stderr == pytest.approx(0.0, abs=1e-9)
        assert fit.levels == tuple(used)
    else:
        assert fit.dimension == 0.0


def test_fit_matches_polyfit_and_stderr_formula():
    rng = np.random.default_rng(0)
    n = np.arange(20)
    counts = np.round(2.0 ** (0.8 * n + rng.normal(0, 0.2, n.size)) + 2)
    fit = fit_dimension(counts)
    used = np.asarray(fit.levels)
    (slope, icpt), cov = np.polyfit(used, np.log2(counts[used]), 1, cov="unscaled")
    resid = np.log2(counts[used]) - (icpt + slope * used)
    sigma2 = resid @ resid / (used.size - 2)
    assert fit.dimension == pytest.approx(slope, rel=1e-12)
    assert fit.stderr == pytest.approx(np.sqrt(sigma2 * cov[0, 0]), rel=1e-9)


def test_fewer_than_three_levels_gives_zero():
    assert fit_dimension([1, 1, 1, 2, 3]).dimension == 0.0
    assert fit_dimension([1, 1, 1, 1]).levels == ()
