"""Greedy Dynamic String Sampling (Freeman & Bruna 2017): certify that two models are
connected inside the level set ``{theta : L(theta) <= L0}``.

A string is a chain of models (beads) ``theta1 = b_0, ..., b_k = theta2``. Between two
neighbouring beads the path is the straight segment; the string is accepted when the
interpolated loss on every segment stays below ``tolerance * L0``. The greedy algorithm puts a
bead at the worst point ``t*`` of each offending segment, trains it with Adam to
``alpha * L0`` and recurses, for at most ``max_depth`` rounds.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import jax
import jax.numpy as jnp
import numpy as np
from scipy.optimize import minimize_scalar

from . import _x64  # noqa: F401  (float64 switch)
from ._paths import Adam, Loss, PathResult, _pair, interpolate, make_trainer, path_length

if TYPE_CHECKING:
    from jax.typing import ArrayLike
    from numpy.typing import NDArray

__all__ = ["StringResult", "StringSampler", "dynamic_string_sampling"]


@dataclass(frozen=True)
class StringResult:
    """Outcome of one DSS run between two models.

    Attributes:
        beads: the string, shape ``(k + 1, P)``, from ``theta1`` to ``theta2``.
        bead_losses: loss of each bead, shape ``(k + 1,)``.
        segment_max_losses: max of the interpolated loss on each segment, shape ``(k,)``.
        segment_argmax: the ``t`` in [0, 1] of that max on each segment, shape ``(k,)``.
        threshold: the level ``L0``.
        tolerance: the tolerance factor; segments were accepted up to ``tolerance * L0``.
        max_loss: max over segments of ``segment_max_losses``: the string's upper bound on the
            min-max path loss Gamma (resolution: dense scan refined by a 1-D maximiser).
        length: sum of the bead-to-bead distances (over the sampler's ``length_mask``
            coordinates when it has one, e.g. weights only).
        normalized_length: ``length / ||theta2 - theta1||`` on the same coordinates (1 for a
            straight line).
        n_beads: number of beads including the two end models (3 is the minimum: the first
            bead is always placed).
        connected: every segment stayed below ``tolerance * L0``: a certified path.
        reason: empty when connected, else why the run stopped without a certified path.
            Failure to certify does not prove that the level set is disconnected.
        rounds: refinement rounds used (``<= max_depth``).
        training_steps: Adam steps spent on beads, in total.
        seconds: wall time.
    """

    beads: np.ndarray
    bead_losses: np.ndarray
    segment_max_losses: np.ndarray
    segment_argmax: np.ndarray
    threshold: float
    tolerance: float
    max_loss: float
    length: float
    normalized_length: float
    n_beads: int
    connected: bool
    reason: str
    rounds: int
    training_steps: int
    seconds: float

    def as_path(self, loss: Loss | None = None, n_per_segment: int = 21) -> PathResult:
        """The string as a :class:`PathResult` (dense points along every segment)."""
        beads = self.beads
        s = np.linspace(0.0, 1.0, n_per_segment)[:-1]
        pts = [(1 - t) * beads[i] + t * beads[i + 1] for i in range(len(beads) - 1) for t in s]
        pts = np.stack([*pts, beads[-1]])
        losses = (
            np.asarray(jax.jit(jax.vmap(loss))(jnp.asarray(pts)))
            if loss is not None
            else np.interp(
                np.linspace(0, 1, len(pts)), np.linspace(0, 1, len(beads)), self.bead_losses
            )
        )
        ends = 0.5 * (self.bead_losses[0] + self.bead_losses[-1])
        return PathResult(
            method="dss",
            points=pts,
            losses=losses,
            max_loss=self.max_loss,
            barrier=self.max_loss - float(ends),
            length=self.length,
            normalized_length=self.normalized_length,
            seconds=self.seconds,
            info={
                "beads": self.n_beads,
                "connected": self.connected,
                "tolerance": self.tolerance,
                "reason": self.reason,
            },
        )


class StringSampler:
    """Greedy DSS with kernels compiled once per loss (reuse it across pairs and thresholds).

    Args:
        loss: ``loss(theta) -> scalar`` on flat models ``(P,)``; the level-set loss (the
            source uses held-out data). Beads are trained until this loss is
            ``<= alpha * L0`` and segments are checked against it.
        train_loss: the loss whose gradient trains the beads (default ``loss``).
        optimizer: bead optimiser (default ``Adam(1e-2)``).
        alpha: beads are trained to ``alpha * L0`` (source: 0.95 polynomial, 0.98 images).
        tolerance: a segment passes when its max interpolated loss is ``<= tolerance * L0``
            (source: 1.02 to 1.1).
        max_depth: most refinement rounds (source: 10).
        n_scan: points of the dense scan of each segment, endpoints included.
        max_steps: most Adam steps per bead; a bead that does not reach ``alpha * L0`` stops
            the run with a reason.
        check_every: Adam steps between two checks of the bead's loss.
        max_beads: budget on the string's size (including the end models).
        placement: where a new bead starts on an offending segment: ``"worst"`` (at the
            maximiser ``t*`` of its interpolated loss) or ``"midpoint"`` (``t = 1/2`` on every
            segment above ``tolerance * L0``, as the authors' scripts do:
            ``convex-nets/LaunchScripts/QUADRATICS.py``, ``model_interpolate(..., .5)``).
        length_mask: boolean mask of shape ``(P,)``: the coordinates that count in the
            string's length (the authors' ``SpringNorm`` measures weights only, not biases);
            default all.
        refine: refine an interior maximum of the scan with a bounded 1-D maximiser (the
            default). ``False`` takes the max over the scan points only, as the authors'
            ``InterpBeadError`` does (``max`` over ``t = k/100``): a peak between two scan
            points is then underestimated, and a segment can pass whose true max is above
            ``tolerance * L0``.
    """

    def __init__(
        self,
        loss: Loss,
        *,
        train_loss: Loss | None = None,
        optimizer: Adam | None = None,
        alpha: float = 0.95,
        tolerance: float = 1.1,
        max_depth: int = 10,
        n_scan: int = 51,
        max_steps: int = 20000,
        check_every: int = 10,
        max_beads: int = 257,
        placement: str = "worst",
        length_mask: ArrayLike | None = None,
        refine: bool = True,
    ) -> None:
        if not 0 < alpha <= 1:
            raise ValueError(f"alpha must lie in (0, 1], got {alpha}")
        if not tolerance >= 1:
            raise ValueError(f"tolerance must be >= 1, got {tolerance}")
        if max_depth < 1 or n_scan < 3 or max_beads < 3:
            raise ValueError("max_depth >= 1, n_scan >= 3 and max_beads >= 3 required")
        if placement not in ("worst", "midpoint"):
            raise ValueError(f"placement must be 'worst' or 'midpoint', got {placement!r}")
        self.placement: str = placement
        self.refine: bool = bool(refine)
        self.length_mask: NDArray[np.bool_] | None = (
            None if length_mask is None else np.asarray(length_mask, dtype=bool)
        )
        self.loss: Loss = loss
        self.alpha: float = alpha
        self.tolerance: float = tolerance
        self.max_depth: int = max_depth
        self.max_steps: int = max_steps
        self.max_beads: int = max_beads
        self.ts: jax.Array = jnp.linspace(0.0, 1.0, n_scan)
        self._loss = jax.jit(loss)
        self._curve = jax.jit(lambda a, b: jax.vmap(loss)(interpolate(a, b, self.ts)))
        self._point = jax.jit(lambda a, b, t: loss((1 - t) * a + t * b))
        self._train = make_trainer(
            train_loss or loss,
            loss,
            optimizer=optimizer or Adam(),
            max_steps=max_steps,
            check_every=check_every,
        )

    # ------------------------------------------------------------------ pieces

    def segment_max(self, a: jax.Array, b: jax.Array) -> tuple[float, float, bool]:
        """Max of the interpolated loss between beads ``a`` and ``b`` (each ``(P,)``).

        Dense scan at ``n_scan`` points; an interior maximum is refined by a bounded 1-D
        maximiser (Brent) on the two neighbouring scan cells unless ``refine`` is off (the
        source's scan-only max).

        Returns:
            ``(max_loss, t_star, interior)``; ``interior`` is false when the scan's max sits at
            an end bead (monotone or convex segment), where ``t_star`` falls back to 0.5.
        """
        curve = np.asarray(self._curve(a, b))
        k = int(np.argmax(curve))
        best = float(curve[k])
        if k == 0 or k == curve.size - 1:
            return best, 0.5, False
        ts = np.asarray(self.ts)
        if not self.refine:
            return best, float(ts[k]), True
        res = minimize_scalar(
            lambda t: -float(self._point(a, b, t)),
            method="bounded",
            bounds=(ts[k - 1], ts[k + 1]),
            options={"xatol": 1e-6},
        )
        if -res.fun > best:
            return float(-res.fun), float(res.x), True
        return best, float(ts[k]), True

    def train_bead(self, theta0: ArrayLike, target: float) -> tuple[jax.Array, float, int]:
        """Adam on ``train_loss`` from ``theta0`` until ``loss <= target``.

        Returns ``(theta, loss, steps)``."""
        theta, value, steps = self._train(theta0, target)
        return theta, float(value), int(steps)

    # ------------------------------------------------------------------ algorithm

    def connect(
        self, theta1: ArrayLike, theta2: ArrayLike, threshold: float, progress: bool = False
    ) -> StringResult:
        """Run greedy DSS between ``theta1`` and ``theta2`` (flat, ``(P,)``) at level ``L0``."""
        start = time.perf_counter()
        if not (np.isfinite(threshold) and threshold > 0):
            raise ValueError(f"threshold L0 must be positive and finite, got {threshold}")
        a, b = _pair(theta1, theta2)
        if not float(jnp.linalg.norm(b - a)) > 0:
            raise ValueError("the two models coincide")
        level = self.tolerance * threshold
        target = self.alpha * threshold
        beads = [a, b]
        bead_losses = [float(self._loss(a)), float(self._loss(b))]
        seg = [self.segment_max(a, b)]
        steps_total, rounds, reason = 0, 0, ""

        def finish(connected: bool, why: str) -> StringResult:
            arr = np.stack([np.asarray(x) for x in beads])
            maxes = np.array([s[0] for s in seg])
            sub = arr if self.length_mask is None else arr[:, self.length_mask]
            length = path_length(sub)
            return StringResult(
                beads=arr,
                bead_losses=np.array(bead_losses),
                segment_max_losses=maxes,
                segment_argmax=np.array([s[1] for s in seg]),
                threshold=float(threshold),
                tolerance=float(self.tolerance),
                max_loss=float(maxes.max()),
                length=length,
                normalized_length=length / float(np.linalg.norm(sub[-1] - sub[0])),
                n_beads=len(beads),
                connected=connected,
                reason=why,
                rounds=rounds,
                training_steps=steps_total,
                seconds=time.perf_counter() - start,
            )

        for i, value in enumerate(bead_losses):
            if value > level:
                return finish(
                    False,
                    f"end model {i + 1} has loss {value:.4g} above "
                    f"tolerance*L0 = {level:.4g}: train it further first",
                )
        split = [0]  # the source always places the first bead
        while split:
            if rounds >= self.max_depth:
                w = max(range(len(seg)), key=lambda j: seg[j][0])
                frac = float(jnp.linalg.norm(beads[w + 1] - beads[w]) / jnp.linalg.norm(b - a))
                reason = (
                    f"max depth {self.max_depth} reached with {len(split)} of {len(seg)} "
                    f"segments above tolerance*L0 = {level:.4g}; the worst, between beads "
                    f"{w} and {w + 1} (length {frac:.3g} of the end-to-end distance), "
                    f"still peaks at {seg[w][0]:.4g}: no certified path at this L0 "
                    "(not a proof of disconnection)"
                )
                return finish(False, reason)
            if len(beads) + len(split) > self.max_beads:
                return finish(
                    False,
                    f"bead budget {self.max_beads} exhausted with "
                    f"{len(split)} segments above tolerance*L0 = {level:.4g}",
                )
            rounds += 1
            new_segments = []
            for i in sorted(split, reverse=True):
                t_star = seg[i][1] if self.placement == "worst" else 0.5
                bead0 = interpolate(beads[i], beads[i + 1], t_star)
                bead, value, steps = self.train_bead(bead0, target)
                steps_total += steps
                if value > target:
                    beads.insert(i + 1, bead)
                    bead_losses.insert(i + 1, value)
                    seg[i : i + 1] = [
                        self.segment_max(beads[i], bead),
                        self.segment_max(bead, beads[i + 2]),
                    ]
                    return finish(
                        False,
                        f"bead training stalled: loss {value:.4g} above "
                        f"alpha*L0 = {target:.4g} after {steps} Adam steps "
                        f"(round {rounds}); no certified path at this L0",
                    )
                beads.insert(i + 1, bead)
                bead_losses.insert(i + 1, value)
                seg[i : i + 1] = [
                    self.segment_max(beads[i], bead),
                    self.segment_max(bead, beads[i + 2]),
                ]
                new_segments = [j + 1 for j in new_segments] + [i, i + 1]
            split = sorted(j for j in set(new_segments) if seg[j][0] > level)
            if progress:
                print(
                    f"[dss L0={threshold:.4g}] round {rounds}: {len(beads)} beads, "
                    f"{len(split)} segments above {level:.4g}, worst "
                    f"{max(s[0] for s in seg):.4g}",
                    file=sys.stderr,
                    flush=True,
                )
        return finish(True, "")


def dynamic_string_sampling(
    loss: Loss, theta1: ArrayLike, theta2: ArrayLike, threshold: float, **options: Any
) -> StringResult:
    """One greedy DSS run; ``options`` are those of :class:`StringSampler`."""
    progress = options.pop("progress", False)
    return StringSampler(loss, **options).connect(theta1, theta2, threshold, progress)
