"""Paths between two models in weight space: interpolation, lengths and the baselines.

Models are JAX parameter pytrees; every path routine works on their flat-vector view
(:func:`ravel_model`), so a loss is a callable ``loss(theta) -> scalar`` with ``theta`` of
shape ``(P,)``. The module also holds a small Adam optimiser (:class:`Adam`,
:func:`make_trainer`) and the three published baselines that the DSS string is compared with:

- :func:`linear_path`: the straight line and its loss barrier (Frankle et al. 2020);
- :func:`bezier_path`: a quadratic Bezier curve trained to minimise the expected loss along
  it (Garipov et al. 2018);
- :func:`neb_path`: a nudged elastic band with adaptive pivot insertion (Draxler et al. 2018,
  AutoNEB).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.flatten_util import ravel_pytree

from . import _x64  # noqa: F401  (float64 switch)

if TYPE_CHECKING:
    from jax.typing import ArrayLike
    from numpy.typing import NDArray

__all__ = [
    "Adam",
    "PathResult",
    "bezier_path",
    "interpolate",
    "interpolated_losses",
    "linear_path",
    "make_trainer",
    "neb_path",
    "normalized_length",
    "path_length",
    "pca_projection",
    "ravel_model",
]

#: ``loss(theta) -> scalar`` on a flat model ``theta`` of shape ``(P,)``.
Loss = Callable[[jax.Array], jax.Array]
#: Adam's state ``(m, v, step)``: moments of shape ``(P,)`` and the step count.
AdamState = tuple[jax.Array, jax.Array, jax.Array]


def ravel_model(params: Any) -> tuple[jax.Array, Callable[[jax.Array], Any]]:
    """Flat-vector view of a parameter pytree.

    Returns:
        ``(theta, unravel)``: ``theta`` of shape ``(P,)`` (all leaves concatenated) and
        ``unravel(theta) -> params``, the inverse (``jax.flatten_util.ravel_pytree``).
    """
    return ravel_pytree(params)


def _vector(theta: ArrayLike, name: str) -> jax.Array:
    theta = jnp.asarray(theta)
    if theta.ndim != 1 or theta.size == 0:
        raise ValueError(f"{name} must be a non-empty flat vector, got shape {theta.shape}")
    if not bool(jnp.all(jnp.isfinite(theta))):
        raise ValueError(f"{name} contains non-finite values")
    return theta


def _pair(theta1: ArrayLike, theta2: ArrayLike) -> tuple[jax.Array, jax.Array]:
    a, b = _vector(theta1, "theta1"), _vector(theta2, "theta2")
    if a.shape != b.shape:
        raise ValueError(f"the two models differ in size: {a.shape[0]} and {b.shape[0]}")
    return a, b


def interpolate(
    theta1: jax.Array | np.ndarray, theta2: jax.Array | np.ndarray, t: ArrayLike
) -> jax.Array:
    """Interpolated models ``Theta(t) = (1 - t) theta1 + t theta2``.

    Args:
        theta1, theta2: flat models, shape ``(P,)``.
        t: a scalar or an array of shape ``(T,)``.

    Returns:
        Shape ``(P,)`` for scalar ``t``, else ``(T, P)``.
    """
    t = jnp.asarray(t, dtype=jnp.result_type(theta1, float))
    if t.ndim == 0:
        return (1 - t) * theta1 + t * theta2
    return (1 - t)[:, None] * theta1[None, :] + t[:, None] * theta2[None, :]


def interpolated_losses(
    loss: Loss, theta1: ArrayLike, theta2: ArrayLike, ts: ArrayLike
) -> jax.Array:
    """The interpolated loss curve ``gamma(t) = L(Theta(t))`` at many ``t`` at once (vmap).

    Args:
        loss: ``loss(theta) -> scalar`` on flat models of shape ``(P,)``.
        theta1, theta2: flat models, shape ``(P,)``.
        ts: shape ``(T,)``.

    Returns:
        Shape ``(T,)``.
    """
    return jax.vmap(loss)(interpolate(jnp.asarray(theta1), jnp.asarray(theta2), jnp.asarray(ts)))


def path_length(points: ArrayLike) -> float:
    """Euclidean length ``sum_i ||p_{i+1} - p_i||`` of a polygonal path, ``points`` ``(K, P)``."""
    points = np.asarray(points, dtype=float)
    if points.ndim != 2 or points.shape[0] < 2:
        raise ValueError(f"a path needs at least two points of shape (K, P), got {points.shape}")
    return float(np.sum(np.linalg.norm(np.diff(points, axis=0), axis=1)))


def normalized_length(points: ArrayLike) -> float:
    """Normalized geodesic length: polygonal length over the end-to-end distance.

    1 for a straight path, larger for a curved one. ``points`` has shape ``(K, P)``.
    """
    points = np.asarray(points, dtype=float)
    chord = float(np.linalg.norm(points[-1] - points[0])) if points.ndim == 2 else 0.0
    if not chord > 0:
        raise ValueError("the two end models coincide: normalized length is undefined")
    return path_length(points) / chord


def pca_projection(
    points: ArrayLike, n_components: int = 2
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Project points onto their leading principal components (for plotting a string).

    Args:
        points: shape ``(K, P)``.
        n_components: number of components ``c`` (at most ``min(K, P)``).

    Returns:
        ``(coords, components, mean, explained)`` with shapes ``(K, c)``, ``(c, P)``,
        ``(P,)`` and ``(c,)`` (fraction of variance explained by each component).
    """
    x = np.asarray(points, dtype=float)
    if x.ndim != 2 or x.shape[0] < 2:
        raise ValueError(f"PCA needs at least two points of shape (K, P), got {x.shape}")
    if not 1 <= n_components <= min(x.shape):
        raise ValueError(f"n_components must be in [1, {min(x.shape)}], got {n_components}")
    mean = x.mean(axis=0)
    _, s, vt = np.linalg.svd(x - mean, full_matrices=False)
    total = float(np.sum(s**2))
    explained = s[:n_components] ** 2 / total if total > 0 else np.zeros(n_components)
    components = vt[:n_components]
    return (x - mean) @ components.T, components, mean, explained


# --------------------------------------------------------------------------- optimiser


@dataclass(frozen=True)
class Adam:
    """Adam (Kingma & Ba 2015) on a flat parameter vector.

    Attributes:
        learning_rate: step size.
        b1, b2: decay rates of the first and second moment estimates.
        eps: denominator offset.
    """

    learning_rate: float = 1e-2
    b1: float = 0.9
    b2: float = 0.999
    eps: float = 1e-8

    def __post_init__(self) -> None:
        if not self.learning_rate > 0:
            raise ValueError(f"learning_rate must be positive, got {self.learning_rate}")
        if not (0 <= self.b1 < 1 and 0 <= self.b2 < 1):
            raise ValueError("b1 and b2 must lie in [0, 1)")

    def init(self, theta: jax.Array) -> AdamState:
        """State ``(m, v, step)`` for parameters of shape ``(P,)``."""
        zeros = jnp.zeros_like(theta)
        return zeros, zeros, jnp.zeros((), jnp.int32)

    def step(
        self, theta: jax.Array, grad: jax.Array, state: AdamState
    ) -> tuple[jax.Array, AdamState]:
        """One update; returns ``(theta, state)``."""
        m, v, k = state
        k = k + 1
        m = self.b1 * m + (1 - self.b1) * grad
        v = self.b2 * v + (1 - self.b2) * grad**2
        mhat = m / (1 - self.b1**k)
        vhat = v / (1 - self.b2**k)
        return theta - self.learning_rate * mhat / (jnp.sqrt(vhat) + self.eps), (m, v, k)


def make_trainer(
    train_loss: Loss,
    monitor: Loss | None = None,
    *,
    optimizer: Adam | None = None,
    max_steps: int = 20000,
    check_every: int = 10,
) -> Callable[[ArrayLike, ArrayLike], tuple[jax.Array, jax.Array, jax.Array]]:
    """A jit-compiled "train until the monitored loss reaches a target" routine.

    Args:
        train_loss: ``train_loss(theta) -> scalar``, differentiated by ``jax.grad``.
        monitor: the loss checked against the target (default ``train_loss``), e.g. held-out.
        optimizer: an :class:`Adam` (default ``Adam(1e-2)``).
        max_steps: most optimiser steps per call.
        check_every: optimiser steps between two checks of ``monitor``.

    Returns:
        ``train(theta0, target) -> (theta, monitored_loss, steps)``; ``theta`` has shape
        ``(P,)``. No step is taken when ``monitor(theta0) <= target`` already; it stops at the
        first check with ``monitor(theta) <= target`` or after ``max_steps`` steps. Compiled
        once per input shape; ``target`` is traced, so new targets do not recompile.
    """
    if max_steps < 0 or check_every < 1:
        raise ValueError("max_steps must be >= 0 and check_every >= 1")
    optimizer = optimizer or Adam()
    monitor = monitor or train_loss
    grad = jax.grad(train_loss)

    def chunk(carry):
        theta, state, _, steps = carry

        def body(_, c):
            th, st = c
            return optimizer.step(th, grad(th), st)

        theta, state = jax.lax.fori_loop(0, check_every, body, (theta, state))
        return theta, state, monitor(theta), steps + check_every

    @jax.jit
    def train(theta0, target):
        theta0 = jnp.asarray(theta0)
        carry = (theta0, optimizer.init(theta0), monitor(theta0), jnp.zeros((), jnp.int32))
        theta, _, value, steps = jax.lax.while_loop(
            lambda c: (c[2] > target) & (c[3] < max_steps), chunk, carry
        )
        return theta, value, steps

    return train


# --------------------------------------------------------------------------- baselines


@dataclass(frozen=True)
class PathResult:
    """A path between two models and its loss profile.

    Attributes:
        method: ``"linear"``, ``"bezier"``, ``"neb"`` or ``"dss"``.
        points: points on the path, shape ``(K, P)``, in order from ``theta1`` to ``theta2``.
        losses: loss at each point, shape ``(K,)``.
        max_loss: max of the loss along the path (dense evaluation; an upper bound on the
            min-max path loss Gamma up to the resolution of the evaluation).
        barrier: ``max_loss`` minus the mean of the two endpoint losses (Frankle et al.).
        length: Euclidean length of the polygon through ``points``.
        normalized_length: ``length / ||theta2 - theta1||``.
        seconds: wall time.
        info: method-specific extras (control point count, steps, ...).
    """

    method: str
    points: np.ndarray
    losses: np.ndarray
    max_loss: float
    barrier: float
    length: float
    normalized_length: float
    seconds: float
    info: dict[str, int | float | bool | str] = field(default_factory=dict)

    def row(self, threshold: float | None = None) -> dict[str, int | float | bool | str]:
        """One row of the comparison table (JSON-able scalars)."""
        row: dict[str, int | float | bool | str] = {
            "method": self.method,
            "max_loss": self.max_loss,
            "barrier": self.barrier,
            "length": self.length,
            "normalized_length": self.normalized_length,
            "n_points": int(self.points.shape[0]),
            "seconds": self.seconds,
        }
        if threshold is not None:
            row["below_threshold"] = bool(self.max_loss <= threshold)
        row.update(self.info)
        return row


def _result(method, points, losses, start, theta1, theta2, info=None) -> PathResult:
    points, losses = np.asarray(points), np.asarray(losses)
    ends = 0.5 * (float(losses[0]) + float(losses[-1]))
    return PathResult(
        method=method,
        points=points,
        losses=losses,
        max_loss=float(np.max(losses)),
        barrier=float(np.max(losses)) - ends,
        length=path_length(points),
        normalized_length=normalized_length(points),
        seconds=time.perf_counter() - start,
        info=info or {},
    )


def linear_path(loss: Loss, theta1: ArrayLike, theta2: ArrayLike, n_points: int = 30) -> PathResult:
    """The straight line and its barrier: max over ``n_points`` evenly spaced ``t`` in [0, 1]
    of the loss, minus the mean endpoint loss (Frankle et al. 2020 use 30 points)."""
    if n_points < 2:
        raise ValueError(f"n_points must be >= 2, got {n_points}")
    start = time.perf_counter()
    a, b = _pair(theta1, theta2)
    ts = jnp.linspace(0.0, 1.0, n_points)
    losses = jax.jit(jax.vmap(loss))(interpolate(a, b, ts))
    return _result("linear", interpolate(a, b, ts), losses, start, a, b)


def bezier_points(
    theta1: jax.Array, control: jax.Array, theta2: jax.Array, ts: ArrayLike
) -> jax.Array:
    """Quadratic Bezier ``(1-t)^2 theta1 + 2t(1-t) control + t^2 theta2``; ``ts`` ``(T,)`` ->
    ``(T, P)``."""
    ts = jnp.asarray(ts)[:, None]
    return (1 - ts) ** 2 * theta1 + 2 * ts * (1 - ts) * control + ts**2 * theta2


def bezier_path(
    loss: Loss,
    theta1: ArrayLike,
    theta2: ArrayLike,
    *,
    steps: int = 2000,
    batch: int = 8,
    optimizer: Adam | None = None,
    n_eval: int = 61,
    seed: int = 0,
) -> PathResult:
    """Quadratic Bezier curve trained to minimise ``E_{t ~ U(0,1)} L(phi_theta(t))``.

    Garipov et al. 2018: the control point starts at the midpoint of the segment; each Adam
    step averages the loss over ``batch`` fresh uniform ``t``; the trained curve is evaluated
    at ``n_eval`` evenly spaced ``t`` (61 in the source).
    """
    if steps < 0 or batch < 1 or n_eval < 2:
        raise ValueError("steps must be >= 0, batch >= 1 and n_eval >= 2")
    start = time.perf_counter()
    a, b = _pair(theta1, theta2)
    optimizer = optimizer or Adam(1e-3)
    vloss = jax.vmap(loss)

    def expected(control, ts):
        return jnp.mean(vloss(bezier_points(a, control, b, ts)))

    grad = jax.grad(expected)

    @jax.jit
    def train(control, key):
        def body(_, c):
            th, st, k = c
            k, sub = jax.random.split(k)
            th, st = optimizer.step(th, grad(th, jax.random.uniform(sub, (batch,))), st)
            return th, st, k

        return jax.lax.fori_loop(0, steps, body, (control, optimizer.init(control), key))[0]

    control = train(0.5 * (a + b), jax.random.PRNGKey(seed))
    ts = jnp.linspace(0.0, 1.0, n_eval)
    points = bezier_points(a, control, b, ts)
    losses = jax.jit(vloss)(points)
    return _result("bezier", points, losses, start, a, b, {"steps": steps})


def neb_path(
    loss: Loss,
    theta1: ArrayLike,
    theta2: ArrayLike,
    *,
    n_images: int = 8,
    steps: int = 500,
    spring: float = 1.0,
    step_size: float = 0.05,
    cycles: int = 3,
    n_scan: int = 21,
    insert_tolerance: float = 0.0,
    max_images: int = 64,
) -> PathResult:
    """Nudged elastic band with AutoNEB-style insertion of pivots (Draxler et al. 2018).

    ``n_images`` movable pivots start evenly spaced on the segment. Each cycle relaxes them for
    ``steps`` steps of gradient descent (step ``step_size``) along the NEB force: the loss
    gradient with its component along the local tangent removed, plus a spring force ``spring *
    (|x_{i+1}-x_i| - |x_i-x_{i-1}|)`` along the tangent (tangent ``(x_{i+1} - x_{i-1}) /
    ||.||``). After each cycle every segment is scanned at ``n_scan`` points; where the scanned
    loss exceeds the straight interpolation of the two pivot losses by more than
    ``insert_tolerance``, a new pivot is inserted at the worst point (at most ``max_images``
    pivots). The returned points are the dense scans of all segments, so ``max_loss`` covers the
    whole polygon.
    """
    if n_images < 1 or steps < 0 or cycles < 1 or n_scan < 3 or not step_size > 0:
        raise ValueError(
            "n_images >= 1, steps >= 0, cycles >= 1, n_scan >= 3 and step_size > 0 required"
        )
    start = time.perf_counter()
    a, b = _pair(theta1, theta2)
    vgrad = jax.vmap(jax.grad(loss))
    vloss = jax.vmap(loss)
    s = jnp.linspace(0.0, 1.0, n_scan)

    @jax.jit
    def relax(images):
        def force(x):
            full = jnp.concatenate([a[None], x, b[None]])
            prev, nxt = full[:-2], full[2:]
            tau = nxt - prev
            tau = tau / (jnp.linalg.norm(tau, axis=1, keepdims=True) + 1e-30)
            g = vgrad(x)
            g_perp = g - jnp.sum(g * tau, axis=1, keepdims=True) * tau
            stretch = jnp.linalg.norm(nxt - x, axis=1) - jnp.linalg.norm(x - prev, axis=1)
            return g_perp - spring * stretch[:, None] * tau  # descent direction is -force

        return jax.lax.fori_loop(0, steps, lambda _, x: x - step_size * force(x), images)

    @jax.jit
    def scan(full):
        seg = (1 - s)[None, :, None] * full[:-1, None, :] + s[None, :, None] * full[1:, None, :]
        return seg, jax.vmap(vloss)(seg)

    images = interpolate(a, b, jnp.arange(1, n_images + 1) / (n_images + 1))
    inserted = 0
    for cycle in range(cycles):
        images = relax(images)
        full = jnp.concatenate([a[None], images, b[None]])
        seg, seg_losses = scan(full)
        seg_losses = np.asarray(seg_losses)
        if cycle == cycles - 1 or images.shape[0] >= max_images:
            break
        chord = (1 - np.asarray(s))[None] * seg_losses[:, :1] + np.asarray(s)[None] * seg_losses[
            :, -1:
        ]
        excess = seg_losses - chord
        worst = np.argmax(excess, axis=1)
        new = [i for i in range(excess.shape[0]) if excess[i, worst[i]] > insert_tolerance]
        new = new[: max_images - images.shape[0]]
        if not new:
            break
        full_np = np.asarray(full)
        rows = []
        for i in range(full_np.shape[0] - 1):
            rows.append(full_np[i])
            if i in new:
                rows.append(np.asarray(seg[i, worst[i]]))
        rows.append(full_np[-1])
        images = jnp.asarray(np.stack(rows[1:-1]))
        inserted += len(new)
    points = np.concatenate([np.asarray(seg[:, :-1]).reshape(-1, a.size), np.asarray(b)[None]])
    losses = np.concatenate([seg_losses[:, :-1].ravel(), seg_losses[-1, -1:]])
    info = {"pivots": int(images.shape[0]), "inserted": inserted, "steps": steps * (cycle + 1)}
    return _result("neb", points, losses, start, a, b, info)
