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

import jax
import jax.numpy as jnp
import numpy as np
from jax.flatten_util import ravel_pytree

from . import _x64  # noqa: F401
from ._progress import Progress

__all__ = [
    "TrainingTrace",
    "halfspace_dataset",
    "halfspace_loss",
    "track_training",
]


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


def halfspace_loss(lam: float = 1e-3) -> Callable:
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
    loss: Callable,
    init: Callable,
    X,
    y,
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
    for s in range(seeds):
        k_init, k_data = jax.random.split(jax.random.PRNGKey(seed + s))
        z0, unravel = ravel_pytree(init(k_init))
        train, replay = _trainer(loss, unravel, n, int(batch), int(steps), float(lr))
        zK = train(z0, X, y, k_data)
        A, B, C, full = replay(z0, zK, X, y, k_data)
        out.append([np.asarray(t) for t in (A, B, C, full)])
        bar.update(1)
    A, B, C, full = (np.stack(t) for t in zip(*out, strict=True))
    if not (np.all(np.isfinite(A)) and np.all(np.isfinite(C)) and np.all(np.isfinite(full))):
        raise ValueError("the training run diverged (non-finite loss); lower the learning rate")
    return TrainingTrace(A, B, C, full)
