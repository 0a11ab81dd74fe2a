r"""Convergence score, boundary pixels and box counting for 2-D trainability images.

Follows Sohl-Dickstein, "The boundary of neural network trainability is fractal" (2024):

* the *convergence score* of one training run turns its loss curve into one signed number:
  negative when training converged (magnitude grows as convergence slows), positive when it
  diverged (magnitude grows as divergence slows), so ``|score|`` peaks at the boundary;
* a *boundary pixel* is a 2x2 neighbourhood of the score image that holds both signs;
* the boundary's *box-counting dimension* is the slope of ``log N(s)`` against :math:`\log(1/s)`,
  ``N(s)`` the number of ``s x s`` boxes holding a boundary pixel, fitted over a scaling
  range chosen from the local slopes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from ._ols import ols_line

__all__ = [
    "BoxCountFit",
    "MAX_NORMALISED_LOSS",
    "MedianSlopeDimension",
    "box_counts",
    "boundary_pixels",
    "box_counting_dimension",
    "convergence_score",
    "default_box_sizes",
    "gradient_slopes",
    "local_slopes",
    "median_slope_dimension",
    "mixed_box_counts",
    "source_box_sizes",
]

#: Cap on the normalised loss (and the value given to non-finite losses) in the score.
MAX_NORMALISED_LOSS = 1e6
#: Length of the tail averaged to decide convergence.
TAIL = 20


def convergence_score(losses: ArrayLike, max_val: float = MAX_NORMALISED_LOSS) -> np.ndarray:
    r"""Signed convergence score of loss curves (the source's ``convergence_measure``).

    For a curve ``L_0..L_{T-1}``: non-finite losses become ``max_val``; once a loss has been
    non-finite every later loss counts as non-finite too (a broken run stays broken); the curve
    is normalised, ``v_k = L_k / L_0``, and clipped at ``max_val``. The run *converged* if the
    mean of the last ``min(20, T)`` values of ``v`` is below 1; the score is ``-sum(v)`` if it
    converged and :math:`+\sum 1 / v` if it diverged.

    Args:
        losses: ``(..., T)`` loss curves, :math:`T \ge 1`, the loss before each GD step.
        max_val: cap for normalised losses and the value of non-finite losses.

    Returns:
        ``(...)`` float64 scores; ``score < 0`` exactly when the run converged.

    >>> convergence_score(np.array([[1.0, 0.5, 0.25], [1.0, 2.0, np.inf]])).tolist()
    [-1.75, 1.500001]
    """
    v = np.asarray(losses, dtype=np.float64)
    if v.ndim < 1 or v.shape[-1] < 1:
        raise ValueError("losses must have a trailing time axis of length >= 1")
    broken = np.logical_or.accumulate(~np.isfinite(v), axis=-1)
    v = np.where(broken, max_val, v)
    v = np.minimum(v / v[..., :1], max_val)
    converged = v[..., -TAIL:].mean(axis=-1) < 1
    return np.where(converged, -v.sum(axis=-1), (1.0 / v).sum(axis=-1))


def boundary_pixels(score: ArrayLike) -> np.ndarray:
    r"""Boundary pixels of a score image: 2x2 neighbourhoods holding both signs.

    Args:
        score: ``(H, W)`` signed scores (negative = converged).

    Returns:
        ``(H - 1, W - 1)`` booleans; entry ``(i, j)`` is true when
        :math:`\max \cdot \min < 0` over ``score[i:i+2, j:j+2]``.

    >>> boundary_pixels(np.array([[-1.0, -1.0, 1.0], [-1.0, -1.0, 1.0]])).tolist()
    [[False, True]]
    """
    x = np.asarray(score, dtype=np.float64)
    if x.ndim != 2 or min(x.shape) < 2:
        raise ValueError(f"score must be a 2-D image of at least 2x2, got shape {x.shape}")
    quad = np.stack((x[1:, 1:], x[:-1, 1:], x[1:, :-1], x[:-1, :-1]), axis=-1)
    return quad.max(axis=-1) * quad.min(axis=-1) < 0


def default_box_sizes(shape: tuple[int, ...], base: int = 2, min_boxes: int = 4) -> np.ndarray:
    """Box sizes ``1, base, base**2, ...`` leaving at least ``min_boxes`` boxes per side."""
    if base < 2:
        raise ValueError(f"base must be >= 2, got {base}")
    side = min(shape)
    sizes = [1]
    while sizes[-1] * base * min_boxes <= side:
        sizes.append(sizes[-1] * base)
    return np.asarray(sizes, dtype=np.int64)


def box_counts(mask: ArrayLike, sizes: ArrayLike | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Number of ``s x s`` boxes holding at least one true pixel, for each box size ``s``.

    Boxes tile the image from the top-left corner; boxes cut by the right or bottom edge
    count like whole boxes (as in the usual ``boxcount`` implementations).

    Args:
        mask: ``(H, W)`` booleans (the set being measured).
        sizes: increasing box sizes in pixels (default :func:`default_box_sizes`).

    Returns:
        ``(sizes, counts)``, both ``(K,)`` int64.

    >>> box_counts(np.eye(8, dtype=bool), [1, 2, 4])[1].tolist()
    [8, 4, 2]
    """
    mask = np.asarray(mask, dtype=bool)
    if mask.ndim != 2:
        raise ValueError(f"mask must be 2-D, got shape {mask.shape}")
    sizes = default_box_sizes(mask.shape) if sizes is None else np.asarray(sizes, np.int64)
    if sizes.ndim != 1 or sizes.size == 0 or np.any(sizes < 1) or np.any(np.diff(sizes) <= 0):
        raise ValueError("box sizes must be increasing positive integers")
    counts = np.empty(sizes.size, dtype=np.int64)
    h, w = mask.shape
    for k, s in enumerate(sizes):
        s = int(s)
        hp, wp = -(-h // s) * s, -(-w // s) * s
        padded = np.zeros((hp, wp), dtype=bool)
        padded[:h, :w] = mask
        counts[k] = np.count_nonzero(padded.reshape(hp // s, s, wp // s, s).any(axis=(1, 3)))
    return sizes, counts


def local_slopes(sizes: ArrayLike, counts: ArrayLike) -> np.ndarray:
    r"""Local dimension estimates :math:`-d \log N / d \log s` between consecutive box sizes.

    Returns ``(K - 1,)`` floats (NaN where a count is zero).
    """
    logs = np.log(np.asarray(sizes, dtype=np.float64))
    with np.errstate(divide="ignore", invalid="ignore"):
        logn = np.log(np.asarray(counts, dtype=np.float64))
        return -np.diff(logn) / np.diff(logs)


@dataclass(frozen=True)
class BoxCountFit:
    r"""Box-counting dimension of a 2-D set with the scaling range it was fitted on.

    Attributes:
        dimension: least-squares slope of ``log N`` against :math:`\log(1/s)` over the range.
        stderr: standard error of that slope (0 when the range has only 2 sizes).
        sizes: ``(K,)`` all box sizes; ``counts``: ``(K,)`` their box counts.
        slopes: ``(K - 1,)`` local slopes between consecutive sizes.
        fit_range: ``(first, last)`` indices into ``sizes`` of the scaling range (inclusive).
        median_slope: median of the local slopes inside the range (the source's estimator).
        intercept: ``log N`` intercept of the fitted line (natural log).
    """

    dimension: float
    stderr: float
    sizes: np.ndarray
    counts: np.ndarray
    slopes: np.ndarray
    fit_range: tuple[int, int]
    median_slope: float
    intercept: float


def box_counting_dimension(
    mask: ArrayLike, sizes: ArrayLike | None = None, tolerance: float = 0.15, min_count: int = 8
) -> BoxCountFit:
    """Box-counting dimension of ``mask`` with the scaling range chosen from local slopes.

    A box size is *usable* when its count is at least ``min_count`` and below the number of
    boxes that tile the image (a saturated count says nothing about the set). Among the runs
    of consecutive usable sizes, the scaling range is the longest window whose local slopes
    all lie within ``tolerance`` of the window's median local slope (ties: the smaller spread);
    the dimension is the least-squares slope over that window.

    Args:
        mask: ``(H, W)`` booleans.
        sizes: increasing box sizes (default powers of 2, see :func:`default_box_sizes`).
        tolerance: largest allowed deviation of a local slope from the window's median.
        min_count: smallest usable box count.

    Returns:
        A :class:`BoxCountFit`; ``dimension`` is 0 (and ``stderr`` 0) for an empty set or when
        fewer than 2 sizes are usable.
    """
    if not tolerance > 0:
        raise ValueError(f"tolerance must be > 0, got {tolerance}")
    mask = np.asarray(mask, dtype=bool)
    sizes, counts = box_counts(mask, sizes)
    slopes = local_slopes(sizes, counts)
    h, w = mask.shape
    tiles = (-(-h // sizes)) * (-(-w // sizes))
    usable = (counts >= min_count) & (counts < tiles)
    best = None  # (length, -spread, first, last)
    k = sizes.size
    for i in range(k):
        for j in range(i + 1, k):
            if not usable[i : j + 1].all():
                break
            window = slopes[i:j]
            spread = float(np.max(np.abs(window - np.median(window))))
            if spread > tolerance and j - i > 1:
                continue
            key = (j - i, -spread, i, j)
            if best is None or key[:2] > best[:2]:
                best = key
    if best is None:
        return BoxCountFit(0.0, 0.0, sizes, counts, slopes, (0, 0), 0.0, 0.0)
    i, j = best[2], best[3]
    x = -np.log(sizes[i : j + 1].astype(np.float64))
    y = np.log(counts[i : j + 1].astype(np.float64))
    slope, stderr, intercept = ols_line(x, y)
    return BoxCountFit(
        slope, stderr, sizes, counts, slopes, (i, j), float(np.median(slopes[i:j])), intercept
    )


# ---------------------------------------------------------------------------------------------
# The source's estimator: porespy's box counter and the median of all local slopes
#
# Sohl-Dickstein/fractal, the_boundary_of_neural_network_trainability_is_fractal.ipynb,
# ``estimate_fractal_dimension``: the edges of every frame of a zoom-out sequence go through
# ``porespy.metrics.boxcount`` (default ``bins=10``) and the dimension is
# ``np.median(np.concatenate([bc.slope for bc in box_counts]))``.


def source_box_sizes(shape: tuple[int, ...], bins: int = 10) -> np.ndarray:
    """porespy's default box sizes: ``unique(int(logspace(1, log10(min(shape)), bins)))``.

    Sizes run from 10 pixels (not 1, whatever porespy's docstring says) up to the short side of
    the image, truncated to integers, so ``bins`` log-spaced values may give fewer sizes.

    >>> source_box_sizes((2047, 2047)).tolist()
    [10, 18, 32, 58, 106, 192, 347, 627, 1133, 2046]
    """
    if not isinstance(bins, int | np.integer) or bins < 2:
        raise ValueError(f"bins must be an integer >= 2, got {bins}")
    side = min(shape)
    if side < 1:
        raise ValueError(f"image must be non-empty, got shape {tuple(shape)}")
    return np.unique(np.logspace(1, np.log10(side), int(bins)).astype(np.int64))


def mixed_box_counts(mask: ArrayLike, sizes: ArrayLike) -> np.ndarray:
    """Number of ``s x s`` boxes holding both true and false pixels, for each size ``s``.

    porespy's count (``result += any(box); result -= all(box)``): boxes tile the image from the
    top-left corner and a box cut by the right or bottom edge is judged on the pixels it
    holds. A box entirely inside the set is *not* counted.

    Args:
        mask: ``(H, W)`` booleans; ``sizes``: ``(K,)`` positive integers.

    Returns:
        ``(K,)`` int64 counts.

    >>> mixed_box_counts(np.eye(4, dtype=bool), [1, 2, 4]).tolist()
    [0, 2, 1]
    """
    mask = np.asarray(mask, dtype=bool)
    if mask.ndim != 2:
        raise ValueError(f"mask must be 2-D, got shape {mask.shape}")
    sizes = np.asarray(sizes, dtype=np.int64)
    if sizes.ndim != 1 or sizes.size == 0 or np.any(sizes < 1):
        raise ValueError("box sizes must be positive integers")
    h, w = mask.shape
    counts = np.empty(sizes.size, dtype=np.int64)
    for k, s in enumerate(sizes):
        s = int(s)
        hp, wp = -(-h // s) * s, -(-w // s) * s
        # pad with False for "any" and with True for "all", so an edge box is judged on its
        # own pixels
        lo = np.zeros((hp, wp), dtype=bool)
        hi = np.ones((hp, wp), dtype=bool)
        lo[:h, :w] = mask
        hi[:h, :w] = mask
        shape4 = (hp // s, s, wp // s, s)
        n_any = np.count_nonzero(lo.reshape(shape4).any(axis=(1, 3)))
        n_all = np.count_nonzero(hi.reshape(shape4).all(axis=(1, 3)))
        counts[k] = n_any - n_all
    return counts


def gradient_slopes(sizes: ArrayLike, counts: ArrayLike) -> np.ndarray:
    """porespy's local slopes ``-np.gradient(log N, log s)``, one per size.

    Central differences on the uneven ``log s`` grid inside, one-sided differences at both
    ends; ``-inf``/NaN where a count is zero (as in the source).
    """
    sizes = np.asarray(sizes, dtype=np.float64)
    if sizes.size < 2:
        raise ValueError("the local slopes need at least 2 box sizes")
    with np.errstate(divide="ignore", invalid="ignore"):
        return -np.gradient(np.log(np.asarray(counts, dtype=np.float64)), np.log(sizes))


@dataclass(frozen=True)
class MedianSlopeDimension:
    """The source's dimension estimate over a sequence of frames.

    Attributes:
        dimension: median of the finite local slopes of all frames pooled.
        spread: half the interquartile range of those slopes.
        stderr: standard deviation of the per-frame medians over ``sqrt(n_frames)`` (NaN for
            one frame): how much the estimate moves from frame to frame.
        frame_medians: ``(F,)`` median local slope of each frame (NaN if it has none).
        sizes, counts, slopes: per frame, ``(K_f,)`` arrays.
        n_slopes: finite slopes pooled; ``n_dropped``: non-finite slopes left out (the
            source's ``np.median`` would return NaN with any of them).
    """

    dimension: float
    spread: float
    stderr: float
    frame_medians: np.ndarray
    sizes: tuple[np.ndarray, ...]
    counts: tuple[np.ndarray, ...]
    slopes: tuple[np.ndarray, ...]
    n_slopes: int
    n_dropped: int


def median_slope_dimension(masks: Sequence[ArrayLike], bins: int = 10) -> MedianSlopeDimension:
    """Box dimension of a set seen in several frames: the median of all local slopes.

    Each frame's boundary mask is counted with :func:`mixed_box_counts` at
    :func:`source_box_sizes` and turned into :func:`gradient_slopes`; the dimension is the
    median of every finite slope of every frame. Unlike the source, non-finite slopes (a zero
    count) are dropped rather than turning the median into NaN; ``n_dropped`` says how many.

    Args:
        masks: a sequence of ``(H, W)`` boolean images (frames need not share a shape).
        bins: porespy's ``bins`` (number of log-spaced sizes before truncation).

    Returns:
        A :class:`MedianSlopeDimension`; ``dimension`` is NaN if no slope is finite.
    """
    masks = [np.asarray(m, dtype=bool) for m in masks]
    if not masks:
        raise ValueError("need at least one frame")
    sizes, counts, slopes, medians = [], [], [], []
    for m in masks:
        s = source_box_sizes(m.shape, bins)
        c = mixed_box_counts(m, s)
        g = gradient_slopes(s, c)
        sizes.append(s)
        counts.append(c)
        slopes.append(g)
        fin = g[np.isfinite(g)]
        medians.append(float(np.median(fin)) if fin.size else float("nan"))
    pooled = np.concatenate(slopes)
    finite = pooled[np.isfinite(pooled)]
    medians = np.asarray(medians)
    good = medians[np.isfinite(medians)]
    if finite.size:
        q1, med, q3 = np.percentile(finite, [25, 50, 75])
    else:
        q1 = med = q3 = float("nan")
    stderr = float(good.std(ddof=1) / np.sqrt(good.size)) if good.size > 1 else float("nan")
    return MedianSlopeDimension(
        float(med),
        float((q3 - q1) / 2),
        stderr,
        medians,
        tuple(sizes),
        tuple(counts),
        tuple(slopes),
        int(finite.size),
        int(pooled.size - finite.size),
    )
