"""Empirical alpha-beta tracking on real training runs (Islamov et al. 2024, Section 5).

For a mini-batch SGD run ``x_0..x_K`` the final iterate ``x_K`` stands in for the projection.
With the mini-batch loss ``f_{i_k}`` (non-negative, so ``f_{i_k}^* = 0``) the run records

    A_k = <grad f_{i_k}(x_k), x_k - x_K>,  B_k = f_{i_k}(x_k) - f_{i_k}(x_K),  C_k = f_{i_k}(x_k)

and a pair is consistent with the run when ``T(x_k) = A_k - alpha B_k + beta C_k >= 0`` at
every step. ``x_K`` is known only at the end, so the run is replayed deterministically: the
same seed gives the same batches, and the second pass evaluates the terms against ``x_K``.

Datasets ship inside installed packages (no download): scikit-learn's handwritten digits,
and the Gaussian half-space learning problem generated from a seed.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.flatten_util import ravel_pytree

from . import _x64  # noqa: F401
from ._progress import Progress

if TYPE_CHECKING:
    from jax.typing import ArrayLike

__all__ = [
    "AlphaBetaEstimate",
    "TrainingTrace",
    "estimate_alpha_beta",
    "gaussian_classes",
    "halfspace_dataset",
    "halfspace_loss",
    "sgd_trajectory",
    "track_training",
]


#: ``loss(params, x, y) -> scalar``: a per-sample (or mean batch) loss of a parameter pytree.
SampleLoss = Callable[[Any, jax.Array, jax.Array], jax.Array]


def halfspace_dataset(n: int = 500, d: int = 20, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Half-space learning: ``X ~ N(0, I_d)``, ``y = sign(<w_true, x>)`` in ``{-1, +1}``.

    Returns ``X (n, d)`` and ``y (n,)`` (float64); ``w_true ~ N(0, I_d)`` from the same seed.
    """
    if n < 1 or d < 1:
        raise ValueError("n and d must be positive")
    rng = np.random.default_rng(seed)
    w = rng.standard_normal(d)
    X = rng.standard_normal((n, d))
    y = np.where(X @ w >= 0, 1.0, -1.0)
    return X, y


def gaussian_classes(
    n: int = 40, d: int = 2, variance: float = 2.0, mean: float = 1.0, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Two Gaussian classes, ``n/2`` points each: ``x ~ N(+-mean * 1_d, variance I_d)`` with
    labels ``+1`` / ``-1`` (the half-space experiment of Islamov et al. uses 40 points and
    variance 2). Returns ``X (n, d)`` and ``y (n,)``, float64, seeded."""
    if n < 2 or n % 2 or d < 1 or not variance > 0:
        raise ValueError("need an even n >= 2, d >= 1 and variance > 0")
    rng = np.random.default_rng(seed)
    y = np.repeat([1.0, -1.0], n // 2)
    X = y[:, None] * mean + np.sqrt(variance) * rng.standard_normal((n, d))
    return X, y


def sgd_trajectory(
    loss: SampleLoss,
    params: Any,
    X: ArrayLike,
    y: ArrayLike,
    steps: int,
    lr: float | Callable[[int], float],
    batch: int = 1,
    seed: int = 0,
    momentum: float = 0.0,
) -> Any:
    """Mini-batch SGD (heavy-ball ``momentum``; ``lr`` a number or ``lr(k)`` schedule) on the
    mean of a per-sample ``loss(params, x_i, y_i)``; batches drawn uniformly without
    replacement within a step from ``PRNGKey(seed)``.

    Returns the iterates ``x_0..x_K`` as one pytree with a leading step axis (``K + 1``),
    the input of :func:`estimate_alpha_beta`.
    """
    if steps < 1 or batch < 1 or not 0 <= momentum < 1:
        raise ValueError("steps and batch must be positive, momentum in [0, 1)")
    X, y = jnp.asarray(X), jnp.asarray(y)
    n = int(X.shape[0])
    if batch > n:
        raise ValueError(f"batch {batch} is larger than the dataset ({n})")
    z0, unravel = ravel_pytree(params)
    rates = jnp.asarray([lr(k) for k in range(steps)] if callable(lr) else [lr] * steps)

    def batch_loss(z, idx):
        return jnp.mean(jax.vmap(lambda x, t: loss(unravel(z), x, t))(X[idx], y[idx]))

    grad = jax.grad(batch_loss)
    keys = jax.random.split(jax.random.PRNGKey(seed), steps)

    @jax.jit
    def run(z0):
        def body(c, inp):
            z, v = c
            key, rate = inp
            v = momentum * v + grad(z, jax.random.permutation(key, n)[:batch])
            z = z - rate * v
            return (z, v), z

        _, zs = jax.lax.scan(body, (z0, jnp.zeros_like(z0)), (keys, rates))
        return jnp.concatenate([z0[None], zs])

    return jax.vmap(unravel)(run(z0))


def halfspace_loss(lam: float = 1e-3) -> SampleLoss:
    """``loss(w, X, y) = mean sigmoid(-y <w, x>) + lam/2 ||w||^2`` (non-convex, non-negative)."""

    def loss(w, X, y):
        return jnp.mean(jax.nn.sigmoid(-y * (X @ w))) + 0.5 * lam * jnp.sum(w**2)

    return loss


@dataclass(frozen=True)
class TrainingTrace:
    """T-tracking terms of one or more deterministic training runs.

    Attributes:
        A, B, C: shape ``(seeds, steps)``, see the module docstring.
        losses: full-data loss at the start and at the end, shape ``(seeds, 2)``.
    """

    A: np.ndarray
    B: np.ndarray
    C: np.ndarray
    losses: np.ndarray


@functools.lru_cache(maxsize=16)
def _trainer(loss: Callable, unravel, n: int, batch: int, steps: int, lr: float):
    def batch_loss(z, X, y, idx):
        return loss(unravel(z), X[idx], y[idx])

    vg = jax.value_and_grad(batch_loss)

    def batches(key):
        # Each step draws its batch without replacement (batch = n is full-batch GD).
        keys = jax.random.split(key, steps)
        return jax.vmap(lambda k: jax.random.permutation(k, n)[:batch])(keys)

    @jax.jit
    def train(z0, X, y, key):
        def body(z, idx):
            _, g = vg(z, X, y, idx)
            return z - lr * g, None

        zK, _ = jax.lax.scan(body, z0, batches(key))
        return zK

    @jax.jit
    def replay(z0, zK, X, y, key):
        def body(z, idx):
            f, g = vg(z, X, y, idx)
            fK = batch_loss(zK, X, y, idx)
            return z - lr * g, (jnp.dot(g, z - zK), f - fK, f)

        _, (A, B, C) = jax.lax.scan(body, z0, batches(key))
        full0 = loss(unravel(z0), X, y)
        fullK = loss(unravel(zK), X, y)
        return A, B, C, jnp.stack([full0, fullK])

    return train, replay


def track_training(
    loss: SampleLoss,
    init: Callable[[jax.Array], Any],
    X: ArrayLike,
    y: ArrayLike,
    steps: int,
    lr: float,
    batch: int,
    seeds: int = 3,
    seed: int = 0,
    progress: bool = False,
) -> TrainingTrace:
    """Mini-batch SGD with T-tracking, replayed deterministically, over ``seeds`` seeds.

    ``loss(params, X, y)`` is the mean non-negative loss of a batch; ``init(key)`` returns
    initial parameters (any pytree). Seed ``s`` uses ``PRNGKey(seed + s)`` for the
    initialisation and the batch sequence; each batch is drawn without replacement.
    Diverged runs raise ``ValueError``.
    """
    if steps < 1 or seeds < 1 or batch < 1 or not lr > 0:
        raise ValueError("steps, seeds and batch must be positive and lr > 0")
    X, y = jnp.asarray(X), jnp.asarray(y)
    n = int(X.shape[0])
    if batch > n:
        raise ValueError(f"batch {batch} is larger than the dataset ({n})")
    out = []
    bar = Progress(seeds, "alpha-beta tracking", "runs", enabled=progress)
    first = None
    for s in range(seeds):
        k_init, k_data = jax.random.split(jax.random.PRNGKey(seed + s))
        z0, unravel = ravel_pytree(init(k_init))
        # every seed has the same parameter structure: reuse the first seed's unravel so the
        # compiled trainer (cached on it) is built once, not once per seed
        unravel = first = unravel if first is None else first
        train, replay = _trainer(loss, unravel, n, int(batch), int(steps), float(lr))
        zK = train(z0, X, y, k_data)
        A, B, C, full = replay(z0, zK, X, y, k_data)
        out.append([np.asarray(t) for t in (A, B, C, full)])
        bar.update(1)
    A, B, C, full = (np.stack(t) for t in zip(*out, strict=True))
    if not (np.all(np.isfinite(A)) and np.all(np.isfinite(C)) and np.all(np.isfinite(full))):
        raise ValueError("the training run diverged (non-finite loss); lower the learning rate")
    return TrainingTrace(A, B, C, full)


# --------------------------------------------------------------------------------------------
# One-call estimate of (alpha, beta) for a user's model and trajectory
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AlphaBetaEstimate:
    """The ``(alpha, beta)`` pairs consistent with one training trajectory.

    Attributes:
        alphas: the ``alpha`` grid, shape ``(a,)``.
        beta_min: for each ``alpha`` the smallest ``beta >= 0`` with ``T >= 0`` at every
            recorded step and sample (exact for the recorded terms, no ``beta`` grid); ``nan``
            where no ``beta < alpha - margin`` works. Shape ``(a,)``.
        smallest: the admissible pair with the smallest ``alpha``, or None.
        margin: pairs need ``alpha >= beta + margin``.
        piece_star: the ``f_i^*`` used, shape ``(n,)``.
        star_method: how ``piece_star`` was obtained.
        A, B, C: the terms, shape ``(K, n)`` (``K`` recorded steps, ``n`` samples):
            ``A = <grad f_i(x_k), x_k - x_K>``, ``B = f_i(x_k) - f_i(x_K)``,
            ``C = f_i(x_k) - f_i^*``; ``T = A - alpha B + beta C``.
    """

    alphas: np.ndarray
    beta_min: np.ndarray
    smallest: tuple[float, float] | None
    margin: float
    piece_star: np.ndarray
    star_method: str
    A: np.ndarray
    B: np.ndarray
    C: np.ndarray

    def admissible(self, alpha: float, beta: float, tol: float = 0.0) -> bool:
        """Whether ``T(alpha, beta) >= -tol`` at every recorded step and sample."""
        return bool(np.min(self.A - alpha * self.B + beta * self.C) >= -tol)


def _stack_trajectory(trajectory):
    """A sequence of pytrees (or one pytree with a leading step axis) -> ``(K+1, P)`` flat."""
    if isinstance(trajectory, (list, tuple)):
        flat = [ravel_pytree(p)[0] for p in trajectory]
        unravel = ravel_pytree(trajectory[0])[1]
        return jnp.stack(flat), unravel
    leaves = jax.tree_util.tree_leaves(trajectory)
    steps = leaves[0].shape[0]
    first = jax.tree_util.tree_map(lambda v: v[0], trajectory)
    unravel = ravel_pytree(first)[1]
    flat = jax.vmap(lambda k: ravel_pytree(jax.tree_util.tree_map(lambda v: v[k], trajectory))[0])
    return flat(jnp.arange(steps)), unravel


def _beta_min(A, B, C, alphas, margin):
    """Smallest ``beta >= 0`` per ``alpha`` with ``A - alpha B + beta C >= 0`` everywhere."""
    A, B, C = (np.ravel(np.asarray(t, dtype=np.float64)) for t in (A, B, C))
    pos = C > 0
    out = np.empty(alphas.size)
    for j, a in enumerate(alphas):
        need = a * B - A  # beta C >= need
        if np.any(need[~pos] > 0):  # C = 0 (f_i at its minimum): beta cannot help
            out[j] = np.nan
            continue
        b = max(0.0, float(np.max(need[pos] / C[pos]))) if pos.any() else 0.0
        out[j] = b if b <= a - margin + 1e-12 else np.nan
    return out


def estimate_alpha_beta(
    loss: SampleLoss,
    trajectory: Any,
    X: ArrayLike,
    y: ArrayLike,
    *,
    piece_star: ArrayLike | None = None,
    alphas: ArrayLike | None = None,
    margin: float = 0.1,
    star_steps: int = 2000,
    star_lr: float = 1e-2,
    star_starts: int = 3,
) -> AlphaBetaEstimate:
    """Estimate the alpha-beta constants of a model from one of its training trajectories.

    The final iterate ``x_K`` stands in for the projection onto ``S`` (Islamov et al. 2024,
    Section 5), and the condition is evaluated for every sample ``i`` at every recorded
    iterate (the definition's "for all i"; the paper's tracking uses the sampled batch only).

    Args:
        loss: per-sample loss ``loss(params, x_i, y_i) -> scalar`` (JAX-traceable).
        trajectory: the iterates ``x_0..x_K`` of any optimiser (SGD, momentum, Adam, any
            schedule): a list of parameter pytrees, or one pytree whose leaves have a leading
            step axis.
        X, y: the samples, leading axis ``n``.
        piece_star: ``f_i^*`` (scalar or shape ``(n,)``); by default estimated per sample.
        alphas: the ``alpha`` grid (default 0.1, 0.2, ..., 10, as the paper's heatmaps).
        margin: pairs need ``alpha >= beta + margin`` (the paper uses 0.1).
        star_steps, star_lr, star_starts: the per-sample minimisation of ``f_i`` with Adam
            from ``star_starts`` iterates evenly spaced along the trajectory (``x_K``
            included). The estimate is the lowest value found there or along the
            trajectory: an upper estimate of ``f_i^*``, which errs toward larger admissible
            ``beta`` (never toward accepting a pair the true ``f_i^*`` would reject at
            ``beta = 0``).

    Returns:
        :class:`AlphaBetaEstimate`.

    Example (convex least squares: ``(1, 0)`` is admissible on every trajectory):

    >>> import jax.numpy as jnp
    >>> X = jnp.array([[1.0], [2.0], [-1.0]]); y = jnp.array([1.0, 0.5, 2.0])
    >>> loss = lambda w, x, t: 0.5 * (x @ w - t) ** 2
    >>> traj = [jnp.array([3.0])]
    >>> for _ in range(50):
    ...     w = traj[-1]
    ...     traj.append(w - 0.1 * jnp.mean((X @ w - y)[:, None] * X, axis=0))
    >>> est = estimate_alpha_beta(loss, traj, X, y, star_steps=300, star_lr=0.1)
    >>> est.admissible(1.0, 0.0, tol=1e-9)
    True
    """
    Z, unravel = _stack_trajectory(trajectory)
    if Z.shape[0] < 2:
        raise ValueError("the trajectory needs at least two iterates")
    if not bool(jnp.all(jnp.isfinite(Z))):
        raise ValueError("the trajectory contains non-finite parameters")
    X, y = jnp.asarray(X), jnp.asarray(y)
    n = int(X.shape[0])
    if y.shape[0] != n or n < 1:
        raise ValueError("X and y need the same, positive number of samples")
    alphas = (
        np.round(np.arange(0.1, 10.0001, 0.1), 10)
        if alphas is None
        else np.asarray(alphas, dtype=np.float64)
    )

    def piece(z, x, t):
        return loss(unravel(z), x, t)

    f_all = jax.jit(jax.vmap(lambda z: jax.vmap(lambda x, t: piece(z, x, t))(X, y)))
    vg = jax.vmap(jax.value_and_grad(piece), in_axes=(None, 0, 0))
    zK = Z[-1]

    @jax.jit
    def terms_at(z):
        f, g = vg(z, X, y)
        fK = jax.vmap(lambda x, t: piece(zK, x, t))(X, y)
        return g @ (z - zK), f - fK, f

    A, B, F = (np.asarray(t) for t in jax.lax.map(terms_at, Z))
    if not (np.all(np.isfinite(A)) and np.all(np.isfinite(F))):
        raise ValueError("non-finite loss or gradient along the trajectory")
    if piece_star is None:
        star, method = _estimate_piece_star(piece, Z, X, y, star_steps, star_lr, star_starts)
        star = np.minimum(star, np.min(np.asarray(f_all(Z)), axis=0))
    else:
        star = np.broadcast_to(np.asarray(piece_star, dtype=np.float64), (n,)).copy()
        method = "given"
    C = F - star[None, :]
    if np.any(C < 0):
        # f_i^* is a minimum: a value above f_i(x_k) is wrong and would cap beta from above
        raise ValueError("piece_star exceeds f_i somewhere along the trajectory")
    beta_min = _beta_min(A, B, C, alphas, margin)
    ok = np.flatnonzero(np.isfinite(beta_min))
    smallest = (float(alphas[ok[0]]), float(beta_min[ok[0]])) if ok.size else None
    return AlphaBetaEstimate(alphas, beta_min, smallest, float(margin), star, method, A, B, C)


def _estimate_piece_star(piece, Z, X, y, steps: int, lr: float, starts: int):
    """Per-sample minimisation of ``f_i`` with Adam from iterates along the trajectory."""
    idx = np.unique(np.linspace(0, Z.shape[0] - 1, max(1, starts)).round().astype(int))
    grad = jax.grad(piece)

    def minimise(z0, x, t):
        def body(_, c):
            z, m, v, k = c
            g = grad(z, x, t)
            k = k + 1
            m = 0.9 * m + 0.1 * g
            v = 0.999 * v + 0.001 * g**2
            z = z - lr * (m / (1 - 0.9**k)) / (jnp.sqrt(v / (1 - 0.999**k)) + 1e-12)
            return z, m, v, k

        zero = jnp.zeros_like(z0)
        z = jax.lax.fori_loop(0, steps, body, (z0, zero, zero, 0.0))[0]
        return piece(z, x, t)

    per_start = jax.jit(jax.vmap(jax.vmap(minimise, in_axes=(None, 0, 0)), in_axes=(0, None, None)))
    vals = np.asarray(per_start(Z[idx], X, y))
    return np.min(vals, axis=0), (
        f"estimated: Adam ({steps} steps, lr {lr:g}) on each f_i from {idx.size} iterates "
        "along the trajectory, and the trajectory itself (upper estimate of f_i^*)"
    )
