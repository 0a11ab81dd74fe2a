"""High-precision reference orbits with mpmath (the independent check of float64 sweeps)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import mpmath

from trainability.analytic import Landscape, mpmath_kernels

if TYPE_CHECKING:
    # mpmath makes its mpf class per context at run time; _mpf is their static base.
    from mpmath.ctx_mp_python import _mpf as mpf

__all__ = ["ReferenceOrbit", "reference_orbit", "reference_label"]


@dataclass(frozen=True)
class ReferenceOrbit:
    """GD orbit at ``dps`` digits: ``xs[k]`` is ``x_k`` (a list of d mpf), ``losses[k]`` f(x_k).

    ``trainable`` is False as soon as a loss exceeds the bound; the orbit stops there.
    """

    trainable: bool
    xs: list[list[mpf]]
    losses: list[mpf]
    dps: int
    diverged_at: int | None


def reference_orbit(
    land: Landscape,
    lr: float,
    x0: float | Sequence[float],
    *,
    steps: int = 1000,
    bound: float = 1e8,
    dps: int = 50,
) -> ReferenceOrbit:
    """Run GD on ``land`` at learning rate ``lr`` in ``dps``-digit arithmetic.

    Inputs (``lr``, ``x0``, hyperparameters) are taken as the exact binary values of their
    float64 representations, so the orbit is the exact-arithmetic orbit of the float64
    experiment up to ``dps`` digits.
    """
    kernels = mpmath_kernels(land, dps)
    params = land.parameter_values()
    x0 = [x0] * land.dim if isinstance(x0, int | float) else list(x0)
    with mpmath.workdps(dps):
        x = [mpmath.mpf(v) for v in x0]
        s = mpmath.mpf(lr)
        b = mpmath.mpf(bound)
        xs, losses = [x], []
        for k in range(steps + 1):
            f, g = kernels.loss_and_grad(x, params)
            losses.append(f)
            if not (f <= b):
                return ReferenceOrbit(False, xs, losses, dps, k)
            if k == steps:
                break
            x = [xi - s * gi for xi, gi in zip(x, g, strict=True)]
            xs.append(x)
    return ReferenceOrbit(True, xs, losses, dps, None)


def reference_label(
    land: Landscape,
    lr: float,
    x0: float | Sequence[float],
    *,
    steps: int = 1000,
    bound: float = 1e8,
    dps: int = 50,
) -> bool:
    """Trainability label of one learning rate from the mpmath orbit."""
    return reference_orbit(land, lr, x0, steps=steps, bound=bound, dps=dps).trainable
