"""Checks of the numeric layer against the analytic layer's high-precision references."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import mpmath
import numpy as np
from numpy.typing import ArrayLike

from trainability.analytic import Landscape, mpmath_kernels
from trainability.numeric import SweepResult

from ._reference import reference_label
from ._verdict import Verdict

__all__ = ["check_labels_against_reference", "check_gradient_against_mpmath", "robust_indices"]


def robust_indices(labels: np.ndarray, margin: int = 1) -> np.ndarray:
    """Grid indices whose ``margin`` neighbours on each side share their label.

    These are the learning rates *away from the boundary*, where float64 and exact
    arithmetic must agree.
    """
    labels = np.asarray(labels, dtype=bool)
    if labels.size < 2 * margin + 1:
        return np.empty(0, dtype=np.int64)
    windows = np.lib.stride_tricks.sliding_window_view(labels, 2 * margin + 1)
    same = np.all(windows == windows[:, margin : margin + 1], axis=1)
    return np.flatnonzero(same) + margin


def check_labels_against_reference(
    land: Landscape,
    result: SweepResult,
    x0: ArrayLike,
    *,
    samples: int = 20,
    seed: int = 0,
    dps: int = 50,
    margin: int = 1,
) -> Verdict:
    """Sampled float64 sweep labels away from the boundary against ``dps``-digit mpmath orbits.

    Passes when every sampled robust label equals its reference label.
    """
    idx = robust_indices(result.labels, margin)
    if idx.size == 0:
        return Verdict(
            "labels vs mpmath",
            0,
            "no robust labels to check",
            0,
            False,
            "every grid point is next to a boundary; refine or widen the grid",
        )
    rng = np.random.default_rng(seed)
    chosen = rng.choice(idx, size=min(samples, idx.size), replace=False)
    lrs = result.learning_rates()
    mismatches = [
        float(lrs[i])
        for i in chosen
        if reference_label(land, float(lrs[i]), x0, steps=result.steps, bound=result.bound, dps=dps)
        != bool(result.labels[i])
    ]
    passed = not mismatches
    why = (
        f"all {chosen.size} sampled labels away from the boundary match {dps}-digit orbits"
        if passed
        else f"mismatch at learning rates {mismatches[:5]}"
    )
    return Verdict("labels vs mpmath", len(mismatches), 0, 0, passed, why)


def check_gradient_against_mpmath(
    land: Landscape, points: Iterable[Sequence[float]], *, dps: int = 30, rel_tol: float = 1e-15
) -> Verdict:
    """The derived gradient at each point against mpmath's numerical derivative of the loss.

    ``points`` is a sequence of length-``d`` sequences; uses the landscape's values.
    """
    params = land.parameter_values()
    mk = mpmath_kernels(land, dps)
    worst = mpmath.mpf(0)
    with mpmath.workdps(dps):
        h = mpmath.mpf(10) ** (-(dps // 3))
        for point in points:
            g = mk.grad(point, params)
            for i in range(land.dim):

                def along(t, i=i, point=point):
                    y = [mpmath.mpf(v) for v in point]
                    y[i] = t
                    return mk.loss(y, params)

                ref = mpmath.diff(along, mpmath.mpf(point[i]), h=h)
                worst = max(worst, abs(g[i] - ref) / (1 + abs(ref)))
    passed = worst <= rel_tol
    return Verdict(
        "gradient vs mpmath.diff",
        float(worst),
        0.0,
        rel_tol,
        passed,
        f"largest relative deviation {float(worst):.1e} over {len(points)} points",
    )
