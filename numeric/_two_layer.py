"""Two-layer networks with fixed output weights, trained by large-stepsize GD.

Model (Cai et al. 2024): ``f(W; x) = (1/m) sum_j a_j phi(x . w_j)`` with fixed
``a_j in {+1, -1}`` and trained first-layer weights ``W`` of shape ``(m, d)``; logistic loss
``l(q) = log(1 + exp(-q))`` (or exponential, ``exp(-q)``, with ``loss="exponential"``) on
the margins ``q_i = y_i f(W; x_i)``; full-batch GD
``W <- W - eta grad L(W)`` with constant stepsize. Runs are vectorised over stepsizes
(``jax.vmap``) and compiled once per shape.

Recorded per step: the risk ``L`` (every step), and every ``every`` steps the normalized
margin ``min_i q_i / ||W||_F``, each neuron's own margin ``min_i y_i a_j phi(x_i . w_j) /
||w_j||``, the weight norm ``||W||_F`` and the gradient potential
``G(W) = (1/n) sum_i |l'(q_i)|`` (the quantity the theory controls; ``G <= L`` and
``G ~ L`` once ``L`` is small).

Phase analysis on a recorded risk curve: :func:`stable_phase_start` (the first step after
which the risk never increases), :func:`phase_summary` (that step, the risk there = the
measured threshold, the stable-phase rate constant ``risk * eta * (t - s)`` and the fitted
exponent of ``risk ~ (t - s)^p``), :func:`steps_to_risk`, :func:`largest_margin_decrease`.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from . import _x64  # noqa: F401  (float64 on)
from ._progress import Progress

if TYPE_CHECKING:
    import jax
    from numpy.typing import ArrayLike

__all__ = [
    "PhaseSummary",
    "TwoLayerRun",
    "largest_margin_decrease",
    "initial_weights",
    "output_weights",
    "phase_summary",
    "stable_phase_start",
    "steps_to_risk",
    "two_layer_gd",
]


def initial_weights(m: int, d: int, scale: float = 1.0, seed: int = 0) -> np.ndarray:
    """Gaussian first-layer initialisation ``scale * N(0, 1/d)``, shape ``(m, d)``, seeded."""
    if m < 1 or d < 1 or not scale > 0:
        raise ValueError(f"need m >= 1, d >= 1 and scale > 0, got {m}, {d}, {scale}")
    return scale * np.random.default_rng(seed).standard_normal((m, d)) / np.sqrt(d)


def output_weights(m: int) -> np.ndarray:
    """Fixed output signs ``a = (+1, -1, +1, -1, ...)`` of length ``m`` (the ``1/m`` is in f)."""
    if m < 1:
        raise ValueError(f"width m must be >= 1, got {m}")
    return np.where(np.arange(m) % 2 == 0, 1.0, -1.0)


@dataclass(frozen=True)
class TwoLayerRun:
    """GD trajectories for ``k`` stepsizes.

    Attributes:
        etas: stepsizes, shape ``(k,)``.
        risk: risk at steps ``0..steps``, shape ``(k, steps + 1)``.
        record_steps: steps at which the other metrics were recorded, shape ``(r,)``.
        margin: normalized network margin, shape ``(k, r)``.
        neuron_margins: each neuron's normalized margin, shape ``(k, r, m)``.
        weight_norm: ``||W_t||_F``, shape ``(k, r)``.
        potential: gradient potential ``G(W_t)``, shape ``(k, r)``.
        final_weights: ``W`` after the last step, shape ``(k, m, d)``.
        a: output signs, shape ``(m,)``.
        seconds: wall time of the run.
    """

    etas: np.ndarray
    risk: np.ndarray
    record_steps: np.ndarray
    margin: np.ndarray
    neuron_margins: np.ndarray
    weight_norm: np.ndarray
    potential: np.ndarray
    final_weights: np.ndarray
    a: np.ndarray
    seconds: float

    @property
    def steps(self) -> int:
        return self.risk.shape[1] - 1


def _forward(phi, W, X, y, a):
    Zp = X @ W.T  # (n, m) pre-activations
    q = y * (phi(Zp) @ a) / a.shape[0]  # (n,) margins y_i f(x_i)
    return Zp, q


#: Margin losses ``l(q)``: logistic ``log(1 + e^-q)`` and exponential ``e^-q`` (Cai et al.
#: treat both); each maps to ``(l(q), -l'(q))``.
LOSSES = ("logistic", "exponential")


def _loss_terms(loss: str, q):
    import jax
    import jax.numpy as jnp

    if loss == "logistic":
        return jnp.logaddexp(0.0, -q), jax.nn.sigmoid(-q)
    e = jnp.exp(-q)
    return e, e


def _risk(q, loss: str = "logistic"):
    import jax.numpy as jnp

    return jnp.mean(_loss_terms(loss, q)[0])


def _metrics(phi, W, Zp, q, y, a, loss: str = "logistic"):
    import jax.numpy as jnp

    norms = jnp.linalg.norm(W, axis=1)
    own = (y[:, None] * a[None, :] * phi(Zp)).min(axis=0) / norms
    pot = jnp.mean(_loss_terms(loss, q)[1])
    return q.min() / jnp.linalg.norm(W), own, jnp.linalg.norm(W), pot


@functools.lru_cache(maxsize=64)
def _runner(phi, dphi, every: int, n_blocks: int, loss: str = "logistic"):
    """Jitted ``(W (k, m, d), etas (k,), X, y, a) -> (W, records)``; cached per kernel/shape."""
    import jax

    def one_step(W, eta, X, y, a):
        Zp, q = _forward(phi, W, X, y, a)
        value, slope = _loss_terms(loss, q)
        g = -slope * y / q.shape[0]  # dL/df_i
        grad = ((g[:, None] * dphi(Zp)) * (a / a.shape[0])).T @ X  # (m, d)
        return W - eta * grad, value.mean()

    def block(W, eta, X, y, a):
        W, risks = jax.lax.scan(lambda w, _: one_step(w, eta, X, y, a), W, None, length=every)
        Zp, q = _forward(phi, W, X, y, a)
        return W, (risks, *_metrics(phi, W, Zp, q, y, a, loss))

    def run(W, eta, X, y, a):
        return jax.lax.scan(lambda w, _: block(w, eta, X, y, a), W, None, length=n_blocks)

    return jax.jit(jax.vmap(run, in_axes=(0, 0, None, None, None)))


@functools.lru_cache(maxsize=64)
def _initial(phi, loss: str = "logistic"):
    import jax

    def f(W, X, y, a):
        Zp, q = _forward(phi, W, X, y, a)
        return _risk(q, loss), _metrics(phi, W, Zp, q, y, a, loss)

    return jax.jit(jax.vmap(f, in_axes=(0, None, None, None)))


def two_layer_gd(
    X: ArrayLike,
    y: ArrayLike,
    W0: ArrayLike,
    etas: ArrayLike,
    steps: int,
    phi: Callable[[jax.Array], jax.Array],
    dphi: Callable[[jax.Array], jax.Array],
    *,
    a: ArrayLike | None = None,
    every: int = 1,
    chunk: int | None = None,
    progress: bool = False,
    loss: str = "logistic",
) -> TwoLayerRun:
    """Full-batch GD with constant stepsizes on the two-layer model, vectorised over ``etas``.

    Args:
        X: inputs, shape ``(n, d)``.
        y: labels in ``{-1, +1}``, shape ``(n,)``.
        W0: initial first-layer weights, shape ``(m, d)`` (shared by every stepsize).
        etas: stepsizes, shape ``(k,)``, all > 0.
        steps: number of GD steps (>= 1).
        phi: elementwise activation (JAX-traceable).
        dphi: its derivative, elementwise (e.g. from ``Activation.kernels("jax")``).
            Compiled kernels are cached per ``(phi, dphi)`` object and shape, so reuse the
            same callables across calls.
        a: output signs, shape ``(m,)``; default :func:`output_weights`.
        every: record margins, norms and the potential every ``every`` steps (risk: always).
        chunk: steps per compiled call (progress granularity); default ``steps``.
        progress: print progress on stderr.
        loss: ``"logistic"`` (default) or ``"exponential"`` (``l(q) = e^-q``); the recorded
            potential is ``(1/n) sum_i |l'(q_i)|`` for that loss.

    Returns:
        :class:`TwoLayerRun`.
    """
    import jax.numpy as jnp

    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    W0 = np.asarray(W0, dtype=np.float64)
    etas = np.atleast_1d(np.asarray(etas, dtype=np.float64))
    if X.ndim != 2 or y.shape != (X.shape[0],):
        raise ValueError(f"X must be (n, d) and y (n,), got {X.shape} and {y.shape}")
    if W0.ndim != 2 or W0.shape[1] != X.shape[1]:
        raise ValueError(f"W0 must be (m, {X.shape[1]}), got {W0.shape}")
    if steps < 1 or every < 1 or steps % every:
        raise ValueError(f"steps ({steps}) must be a positive multiple of every ({every})")
    if etas.ndim != 1 or not np.all(np.isfinite(etas)) or np.any(etas <= 0):
        raise ValueError("stepsizes must be a 1-D array of finite positive numbers")
    if loss not in LOSSES:
        raise ValueError(f"unknown loss {loss!r}; choose from {', '.join(LOSSES)}")
    a = output_weights(W0.shape[0]) if a is None else np.asarray(a, dtype=np.float64)
    if a.shape != (W0.shape[0],):
        raise ValueError(f"a must have shape ({W0.shape[0]},), got {a.shape}")
    chunk = steps if chunk is None else max(every, (chunk // every) * every)
    Xj, yj, aj = jnp.asarray(X), jnp.asarray(y), jnp.asarray(a)
    start = time.perf_counter()
    W = jnp.broadcast_to(jnp.asarray(W0), (len(etas), *W0.shape))
    _, m0 = _initial(phi, loss)(W, Xj, yj, aj)
    risks, margins, owns, norms, pots = (
        [],
        [np.asarray(m0[0])[:, None]],
        [np.asarray(m0[1])[:, None]],
        [np.asarray(m0[2])[:, None]],
        [np.asarray(m0[3])[:, None]],
    )
    prog = Progress(steps, "two-layer GD", "steps", enabled=progress)
    done = 0
    while done < steps:
        todo = min(chunk, steps - done)
        W, (r, mg, own, nrm, pot) = _runner(phi, dphi, every, todo // every, loss)(
            W, jnp.asarray(etas), Xj, yj, aj
        )
        risks.append(np.asarray(r).reshape(len(etas), -1))
        margins.append(np.asarray(mg))
        owns.append(np.asarray(own))
        norms.append(np.asarray(nrm))
        pots.append(np.asarray(pot))
        done += todo
        prog.update(todo)
    final_risk = np.asarray(_initial(phi, loss)(W, Xj, yj, aj)[0])[:, None]
    return TwoLayerRun(
        etas=etas,
        risk=np.concatenate([*risks, final_risk], axis=1),
        record_steps=np.arange(0, steps + 1, every),
        margin=np.concatenate(margins, axis=1),
        neuron_margins=np.concatenate(owns, axis=1),
        weight_norm=np.concatenate(norms, axis=1),
        potential=np.concatenate(pots, axis=1),
        final_weights=np.asarray(W),
        a=a,
        seconds=time.perf_counter() - start,
    )


# --- phase analysis on recorded curves ----------------------------------------------------


def stable_phase_start(risk: ArrayLike, rtol: float = 1e-12) -> int | None:
    """First step ``s`` with ``risk[t+1] <= risk[t] (1 + rtol)`` for every ``t >= s``.

    ``rtol`` ignores rounding-level increases. Returns None when the last step increases the
    risk (no stable phase observed).
    """
    risk = np.asarray(risk, dtype=np.float64)
    if risk.ndim != 1 or risk.size < 2:
        raise ValueError("risk must be a 1-D curve with at least two steps")
    up = np.flatnonzero(~(risk[1:] <= risk[:-1] * (1 + rtol)))
    if up.size == 0:
        return 0
    s = int(up[-1]) + 1
    return None if s >= risk.size - 1 else s


@dataclass(frozen=True)
class PhaseSummary:
    """Phase analysis of one risk curve.

    Attributes:
        eta: stepsize.
        start: stable-phase start ``s`` (None if not reached).
        threshold: ``min_{t < s} risk_t``, the measured stable-phase threshold: every step
            whose risk is below it lies in the stable phase (``inf`` when ``s = 0``).
        risk_at_start: ``risk_s`` (the last peak of the oscillating phase).
        oscillations: number of steps before ``s`` at which the risk increased.
        rate_constant: median of ``risk_t * eta * (t - s)`` over the last half of the
            stable phase (``O(1)`` up to logs if the rate is ``O(1/(eta t))``).
        rate_exponent: least-squares slope of ``log risk_t`` against ``log(t - s)`` over the
            last decade of the stable phase (about -1 for the predicted rate).
        final_risk: risk after the last step.
    """

    eta: float
    start: int | None
    threshold: float | None
    risk_at_start: float | None
    oscillations: int
    rate_constant: float | None
    rate_exponent: float | None
    final_risk: float

    def to_dict(self) -> dict[str, float | int | None]:
        """The fields by name (JSON-ready)."""
        return dict(self.__dict__)


def phase_summary(risk: ArrayLike, eta: float, rtol: float = 1e-12) -> PhaseSummary:
    """Stable-phase start, threshold and fitted rate of one risk curve (see PhaseSummary)."""
    risk = np.asarray(risk, dtype=np.float64)
    s = stable_phase_start(risk, rtol)
    ups = int(np.sum(~(risk[1:] <= risk[:-1] * (1 + rtol))))
    if s is None:
        return PhaseSummary(float(eta), None, None, None, ups, None, None, float(risk[-1]))
    t = np.arange(risk.size)
    tail = t[t > s]
    rate_const = rate_exp = None
    if tail.size >= 4:
        half = tail[tail >= s + (tail[-1] - s) / 2]
        rate_const = float(np.median(risk[half] * eta * (half - s)))
        decade = tail[tail >= s + (tail[-1] - s) / 10]
        ok = risk[decade] > 0
        if ok.sum() >= 3:
            x = np.log(decade[ok] - s)
            rate_exp = float(np.polyfit(x, np.log(risk[decade[ok]]), 1)[0])
    threshold = float(np.min(risk[:s])) if s > 0 else float("inf")
    return PhaseSummary(
        float(eta), s, threshold, float(risk[s]), ups, rate_const, rate_exp, float(risk[-1])
    )


def steps_to_risk(risk: ArrayLike, target: float) -> int | None:
    """First step at which the risk is ``<= target`` (None if never)."""
    hit = np.flatnonzero(np.asarray(risk) <= target)
    return int(hit[0]) if hit.size else None


def largest_margin_decrease(margin: ArrayLike, start_index: int = 0) -> float:
    """Largest decrease of a margin curve after ``start_index``, relative to its range there.

    ``max_{t <= t'} (margin_t - margin_t') / (max margin - min margin)`` over the curve from
    ``start_index`` on: 0 for a non-decreasing curve, 1 for a non-increasing one.
    """
    m = np.asarray(margin, dtype=np.float64)[start_index:]
    m = m[np.isfinite(m)]
    if m.size < 2:
        return 0.0
    span = float(m.max() - m.min())
    if span == 0:
        return 0.0
    drop = float(np.max(np.maximum.accumulate(m) - m))
    return drop / span
