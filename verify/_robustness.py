"""Label robustness: which trainability labels next to a boundary survive exact arithmetic.

For a float64 sweep, every learning rate adjacent to a label change ("boundary label") is
recomputed with mpmath reference orbits (:func:`reference_orbit`) at two precisions,
``dps`` and ``check_dps`` digits:

- *determined*: both references agree; the label is then *rounding-sensitive* when the
  float64 label differs from them, *robust* otherwise;
- *undetermined*: the two references disagree. Orbits near a fractal boundary are chaotic
  transients (they wander near the divergence bound for hundreds of steps), so rounding
  errors grow like ``exp(lyapunov * k)`` and even 40-160 digits do not fix the label of a
  1000-step run. Such labels are properties of the arithmetic, not of the loss.

Replacing the determined labels by the reference ones gives the reference ``B_N``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from trainability.analytic import Landscape
from trainability.numeric import Progress, SweepResult, boundary_counts, fit_dimension

from ._reference import reference_orbit

__all__ = ["LabelRobustness", "boundary_label_indices", "label_robustness"]


@dataclass(frozen=True)
class LabelRobustness:
    """Outcome of :func:`label_robustness`.

    Attributes:
        n_boundary_labels: learning rates adjacent to a label change on the finest grid.
        n_checked: how many of them were recomputed (all unless ``max_labels`` capped it).
        n_sensitive: determined labels whose float64 label differs from the references.
        n_undetermined: checked labels whose references at ``dps`` and ``check_dps`` differ.
        fraction_sensitive: ``n_sensitive / n_checked``.
        fraction_undetermined: ``n_undetermined / n_checked``.
        counts_float64: ``(levels + 1,)`` ``B_N`` of the float64 labels.
        counts_reference: ``B_N`` with the checked labels replaced by the reference ones.
        dimension_float64, dimension_reference: the fitted dimensions of the two.
        sensitive_learning_rates: the learning rates whose labels flipped.
        dps, check_dps: digits of the two references.
    """

    n_boundary_labels: int
    n_checked: int
    n_sensitive: int
    n_undetermined: int
    fraction_sensitive: float
    fraction_undetermined: float
    counts_float64: np.ndarray
    counts_reference: np.ndarray
    dimension_float64: float
    dimension_reference: float
    sensitive_learning_rates: tuple[float, ...]
    dps: int
    check_dps: int

    @property
    def finest_count_change(self) -> float:
        """Relative change of ``B_N`` at the finest level (reference vs float64)."""
        a, b = float(self.counts_float64[-1]), float(self.counts_reference[-1])
        return (b - a) / a if a else 0.0

    def to_dict(self) -> dict[str, int | float | list[int] | list[float]]:
        """The fields (and ``finest_count_change``) by name, JSON-ready."""
        return {
            "n_boundary_labels": self.n_boundary_labels,
            "n_checked": self.n_checked,
            "n_sensitive": self.n_sensitive,
            "n_undetermined": self.n_undetermined,
            "fraction_sensitive": self.fraction_sensitive,
            "fraction_undetermined": self.fraction_undetermined,
            "counts_float64": self.counts_float64.tolist(),
            "counts_reference": self.counts_reference.tolist(),
            "finest_count_change": self.finest_count_change,
            "dimension_float64": self.dimension_float64,
            "dimension_reference": self.dimension_reference,
            "sensitive_learning_rates": list(self.sensitive_learning_rates),
            "dps": self.dps,
            "check_dps": self.check_dps,
        }


def boundary_label_indices(labels: np.ndarray) -> np.ndarray:
    """Sorted indices of grid points adjacent to a label change (both sides).

    >>> boundary_label_indices(np.array([1, 1, 0, 0, 1], bool)).tolist()
    [1, 2, 3, 4]
    """
    labels = np.asarray(labels, dtype=bool)
    change = np.flatnonzero(labels[1:] != labels[:-1])
    return np.unique(np.concatenate([change, change + 1]))


def label_robustness(
    land: Landscape,
    sweep: SweepResult,
    x0: float | Sequence[float],
    *,
    dps: int = 40,
    check_dps: int | None = None,
    max_labels: int | None = None,
    seed: int = 0,
    progress: bool = False,
) -> LabelRobustness:
    """Recompute the boundary labels of ``sweep`` in ``dps``-digit arithmetic.

    Args:
        land: the landscape swept (with hyperparameter values).
        sweep: a float64 sweep of ``land`` from ``x0``.
        dps: mpmath digits of the reference (30-50).
        check_dps: digits of the second reference (default ``dps + 20``).
        max_labels: check at most this many boundary labels, chosen at random (``seed``).
    """
    check_dps = dps + 20 if check_dps is None else int(check_dps)
    if not 10 <= dps <= 200 or not 10 <= check_dps <= 400 or check_dps == dps:
        raise ValueError(f"need 10 <= dps <= 200 and a different check_dps, got {dps}, {check_dps}")
    labels = np.asarray(sweep.labels, dtype=bool)
    idx = boundary_label_indices(labels)
    n_boundary = int(idx.size)
    if max_labels is not None and idx.size > max_labels:
        rng = np.random.default_rng(seed)
        idx = np.sort(rng.choice(idx, size=max_labels, replace=False))
    lrs = sweep.learning_rates()
    reference = labels.copy()
    undetermined = np.zeros(labels.shape, dtype=bool)
    meter = Progress(int(idx.size), "mpmath labels", "labels", enabled=progress)
    for i in idx:
        a, b = (
            reference_orbit(
                land, float(lrs[i]), x0, steps=sweep.steps, bound=sweep.bound, dps=digits
            ).trainable
            for digits in (dps, check_dps)
        )
        if a == b:
            reference[i] = a
        else:
            undetermined[i] = True
        meter.update(1)
    flipped = idx[(reference[idx] != labels[idx]) & ~undetermined[idx]]
    n_undet = int(np.count_nonzero(undetermined))
    c64 = boundary_counts(labels, sweep.levels)
    cref = boundary_counts(reference, sweep.levels)
    return LabelRobustness(
        n_boundary_labels=n_boundary,
        n_checked=int(idx.size),
        n_sensitive=int(flipped.size),
        n_undetermined=n_undet,
        fraction_sensitive=float(flipped.size / idx.size) if idx.size else 0.0,
        fraction_undetermined=float(n_undet / idx.size) if idx.size else 0.0,
        counts_float64=c64,
        counts_reference=cref,
        dimension_float64=fit_dimension(c64).dimension,
        dimension_reference=fit_dimension(cref).dimension,
        sensitive_learning_rates=tuple(float(lrs[i]) for i in flipped),
        dps=int(dps),
        check_dps=check_dps,
    )
