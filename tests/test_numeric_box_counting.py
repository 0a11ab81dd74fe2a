"""Convergence score, boundary pixels and box counting (numeric/_box_counting.py).

References: brute-force Python loops written from the definitions, and sets whose box-counting
dimension is known in closed form (line 1, square boundary 1, Sierpinski carpet
log 8 / log 3, a finite point set 0). The source's estimator (porespy's mixed-box count, its
np.gradient slopes and the median over frames) against a plain Python transcription of
``porespy.metrics.boxcount`` and the same closed-form sets (where a filled region counts only
its edge, and a pixel-scale noise image has dimension 2).
"""

import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra.numpy import arrays

from trainability.numeric import (
    boundary_pixels,
    box_counting_dimension,
    box_counts,
    convergence_score,
    default_box_sizes,
    gradient_slopes,
    local_slopes,
    median_slope_dimension,
    mixed_box_counts,
    source_box_sizes,
)

CARPET_DIMENSION = math.log(8) / math.log(3)


def score_loop(curve, max_val=1e6):
    """The source's convergence_measure, one curve, plain Python (non-finite stays broken)."""
    v, broken = [], False
    for x in curve:
        broken = broken or not math.isfinite(x)
        v.append(max_val if broken else float(x))
    v0 = v[0]
    v = [min(x / v0, max_val) for x in v]
    tail = v[-20:]
    if sum(tail) / len(tail) < 1:
        return -sum(v)
    return sum(1 / x for x in v)


def carpet(k: int) -> np.ndarray:
    c = np.ones((1, 1), bool)
    for _ in range(k):
        z = np.zeros_like(c)
        c = np.block([[c, c, c], [c, z, c], [c, c, c]])
    return c


losses = st.floats(1e-3, 1e9) | st.sampled_from([np.inf, np.nan, 1e12])


@given(st.lists(st.lists(losses, min_size=25, max_size=25), min_size=1, max_size=4))
def test_convergence_score_matches_loop(curves):
    """Against the definition evaluated curve by curve in plain Python."""
    arr = np.array(curves, dtype=float)
    arr[:, 0] = np.abs(arr[:, 0]) if np.all(np.isfinite(arr[:, 0])) else arr[:, 0]
    got = convergence_score(arr)
    want = [score_loop(c) for c in arr.tolist()]
    np.testing.assert_allclose(got, want, rtol=1e-12)


def test_convergence_score_sign_and_short_curves():
    """Sign = phase; curves shorter than 20 average over all their values."""
    assert convergence_score([1.0, 0.1, 0.1]) == pytest.approx(-1.2)
    assert convergence_score([1.0, 2.0, 0.5]) > 0  # mean of (1, 2, .5) >= 1: diverged
    assert convergence_score(np.ones((3, 30))).tolist() == [30.0] * 3  # mean 1 is not < 1
    with pytest.raises(ValueError):
        convergence_score(np.ones((2, 0)))


@given(
    arrays(
        np.float64,
        st.tuples(st.integers(2, 9), st.integers(2, 9)),
        elements=st.sampled_from([-2.0, -0.5, 0.5, 3.0]),
    )
)
def test_boundary_pixels_match_loop(img):
    """Against a loop over every 2x2 neighbourhood."""
    h, w = img.shape
    want = np.zeros((h - 1, w - 1), bool)
    for i in range(h - 1):
        for j in range(w - 1):
            q = img[i : i + 2, j : j + 2]
            want[i, j] = q.min() < 0 < q.max()
    assert np.array_equal(boundary_pixels(img), want)


@given(
    arrays(bool, st.tuples(st.integers(1, 40), st.integers(1, 40))),
    st.lists(st.integers(1, 12), min_size=1, max_size=4, unique=True),
)
def test_box_counts_match_loop(mask, sizes):
    """Against a loop over every box; also the bounds N(1) >= N(s) >= N(1) / s^2."""
    sizes = sorted(sizes)
    _, got = box_counts(mask, sizes)
    for s, n in zip(sizes, got, strict=True):
        want = sum(
            mask[i : i + s, j : j + s].any()
            for i in range(0, mask.shape[0], s)
            for j in range(0, mask.shape[1], s)
        )
        assert n == want
        assert mask.sum() >= n >= math.ceil(mask.sum() / s**2)


@given(st.floats(-1.4, 1.4), st.floats(0.2, 0.8))
def test_straight_line_has_dimension_one(angle, offset):
    """A rasterised straight line at any angle: dimension 1."""
    n = 512
    t = np.linspace(0, 1, 4 * n)
    mask = np.zeros((n, n), bool)
    cx, cy = offset * n, n / 2
    xs = np.clip((cx + (t - 0.5) * n * np.cos(angle)).astype(int), 0, n - 1)
    ys = np.clip((cy + (t - 0.5) * n * np.sin(angle)).astype(int), 0, n - 1)
    mask[ys, xs] = True
    fit = box_counting_dimension(mask)
    assert fit.dimension == pytest.approx(1.0, abs=0.06)


@given(st.integers(0, 200), st.integers(0, 200), st.integers(120, 300))
def test_filled_square_boundary_has_dimension_one(top, left, side):
    """Boundary pixels of a filled square (score -1 inside, +1 outside): dimension 1."""
    score = np.ones((512, 512))
    score[top : top + side, left : left + side] = -1.0
    fit = box_counting_dimension(boundary_pixels(score))
    assert fit.dimension == pytest.approx(1.0, abs=0.08)
    assert fit.fit_range[1] - fit.fit_range[0] >= 3


def test_sierpinski_carpet():
    """Box sizes 3^k give the exact counts 8^(6-k): dimension log 8 / log 3 to rounding;
    powers of 2 (not matched to the construction) still land within 0.06."""
    c = carpet(6)
    exact = box_counting_dimension(c, sizes=3 ** np.arange(7))
    assert exact.counts.tolist() == [8**k for k in range(6, -1, -1)]
    assert exact.dimension == pytest.approx(CARPET_DIMENSION, abs=1e-12)
    assert box_counting_dimension(c).dimension == pytest.approx(CARPET_DIMENSION, abs=0.06)


@given(st.integers(0, 2**32 - 1), st.integers(5, 40))
def test_random_point_set_has_dimension_zero(seed, n_points):
    """A finite set of random points in a large image: dimension 0 (isolated points)."""
    rng = np.random.default_rng(seed)
    mask = np.zeros((2048, 2048), bool)
    idx = rng.integers(0, 2048, (n_points, 2))
    mask[idx[:, 0], idx[:, 1]] = True
    fit = box_counting_dimension(mask)
    assert abs(fit.dimension) < 0.2


def test_local_slopes_and_sizes():
    """Local slopes of N = s^-1.5 are 1.5; default sizes leave >= 4 boxes per side."""
    s = np.array([1, 2, 4, 8])
    np.testing.assert_allclose(local_slopes(s, 1000.0 * s**-1.5), 1.5)
    assert default_box_sizes((255, 300)).tolist() == [1, 2, 4, 8, 16, 32]
    assert box_counting_dimension(np.zeros((64, 64), bool)).dimension == 0.0


def test_bad_input():
    with pytest.raises(ValueError):
        box_counts(np.ones(5, bool))
    with pytest.raises(ValueError):
        box_counts(np.ones((4, 4), bool), [2, 1])
    with pytest.raises(ValueError):
        boundary_pixels(np.ones((1, 5)))
    with pytest.raises(ValueError):
        box_counting_dimension(np.ones((4, 4), bool), tolerance=0)


# ---------------------------------------------------------------------------------------------
# The source's estimator (porespy boxcount + median of all local slopes)


def porespy_boxcount_loop(im, bins=10):
    """porespy.metrics.boxcount (2-D), transcribed loop for loop: sizes, counts, slopes."""
    sizes = np.unique(np.logspace(1, np.log10(min(im.shape)), bins).astype(int))
    counts = []
    for d in sizes:
        result = 0
        for i in range(0, im.shape[0], d):
            for j in range(0, im.shape[1], d):
                temp = im[i : i + d, j : j + d]
                result += bool(np.any(temp))
                result -= bool(np.all(temp))
        counts.append(result)
    if sizes.size < 2:  # np.gradient needs two points (porespy raises here)
        return sizes, np.array(counts), None
    with np.errstate(divide="ignore", invalid="ignore"):
        slope = -1 * np.gradient(np.log(np.array(counts, float)), np.log(sizes))
    return sizes, np.array(counts), slope


@settings(max_examples=25, deadline=None)
@given(
    arrays(bool, st.tuples(st.integers(10, 70), st.integers(10, 70))),
    st.integers(2, 12),
)
def test_source_counts_and_slopes_match_porespy_loop(mask, bins):
    """Sizes, mixed-box counts (edge boxes judged on their own pixels) and slopes."""
    sizes, counts, slopes = porespy_boxcount_loop(mask, bins)
    assert source_box_sizes(mask.shape, bins).tolist() == sizes.tolist()
    assert mixed_box_counts(mask, sizes).tolist() == counts.tolist()
    if sizes.size >= 2:
        np.testing.assert_array_equal(gradient_slopes(sizes, counts), slopes)


def test_source_estimator_on_known_sets():
    """Carpet with sizes matched to it: exactly log 8/log 3; default sizes: a line and a
    filled square's edge give 1, pixel noise gives 2, the carpet stays near 1.89."""
    c = carpet(6)
    sizes = 3 ** np.arange(1, 7)
    counts = mixed_box_counts(c, sizes)
    assert counts.tolist() == [8**k for k in range(5, -1, -1)]
    np.testing.assert_allclose(gradient_slopes(sizes, counts), CARPET_DIMENSION, rtol=1e-12)
    assert median_slope_dimension([c]).dimension == pytest.approx(CARPET_DIMENSION, abs=0.1)
    n = 2048
    line = np.eye(n, dtype=bool)
    square = np.zeros((n, n), bool)
    square[300:1500, 500:1900] = True  # only its edge boxes are mixed
    noise = np.random.default_rng(0).random((n, n)) < 0.5
    est = median_slope_dimension([line, square])
    assert est.dimension == pytest.approx(1.0, abs=0.05)
    assert median_slope_dimension([noise]).dimension == pytest.approx(2.0, abs=0.05)


def test_median_pools_all_frames():
    """Median of the pooled slopes (not the mean, not per frame); stderr from frame medians;
    zero counts drop out of the median and are counted."""
    line, noise = np.eye(512, dtype=bool), np.random.default_rng(1).random((512, 512)) < 0.5
    est = median_slope_dimension([line, noise, noise])
    pooled = np.concatenate([porespy_boxcount_loop(m)[2] for m in (line, noise, noise)])
    assert est.dimension == pytest.approx(float(np.median(pooled)), abs=1e-12)
    assert est.n_slopes == pooled.size and est.n_dropped == 0
    meds = est.frame_medians
    assert est.stderr == pytest.approx(meds.std(ddof=1) / math.sqrt(3), rel=1e-12)
    empty = median_slope_dimension([np.zeros((64, 64), bool), line])
    assert empty.n_dropped == source_box_sizes((64, 64)).size and np.isnan(empty.frame_medians[0])
    want = float(np.median(porespy_boxcount_loop(line)[2]))
    assert empty.dimension == pytest.approx(want, abs=1e-12)


@given(
    arrays(np.float64, st.integers(2, 12), elements=st.floats(-20, 20)),
    st.integers(0, 2**31 - 1),
)
@settings(max_examples=60, deadline=None)
def test_one_ols_fit_for_both_dimension_estimates(y, seed):
    """The boundary-count fit and the box-counting fit use the one OLS line (slope, its
    standard error, intercept), checked against the normal equations of ``[x, 1]``."""
    from trainability.numeric import fit_dimension
    from trainability.numeric._ols import ols_line

    x = np.sort(np.random.default_rng(seed).permutation(40)[: y.size]).astype(float)
    slope, stderr, intercept = ols_line(x, y)
    A = np.stack([x, np.ones_like(x)], axis=1)
    coef = np.linalg.lstsq(A, y, rcond=None)[0]
    assert np.allclose((slope, intercept), coef, rtol=1e-9, atol=1e-9)
    if y.size > 2:
        sigma2 = np.sum((y - A @ coef) ** 2) / (y.size - 2)
        ref_stderr = np.sqrt(sigma2 * np.linalg.inv(A.T @ A)[0, 0])
        assert stderr == pytest.approx(ref_stderr, rel=1e-6, abs=1e-9)
    else:
        assert stderr == 0.0
    counts = np.zeros(int(x[-1]) + 1)
    counts[x.astype(int)] = 2.0**y + 2.0  # every chosen level counts >= 2
    fit = fit_dimension(counts, min_levels=2)
    expected = ols_line(x, np.log2(counts[x.astype(int)]))
    assert np.allclose((fit.dimension, fit.stderr, fit.intercept), expected, rtol=1e-9)
