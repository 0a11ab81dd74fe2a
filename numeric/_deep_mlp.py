"""Deep bias-free MLPs trained by full-batch GD with the logistic loss (Cai et al. 2024, Fig. 1).

Model: ``f(theta; x) = W_L phi(W_{L-1} ... phi(W_1 x))`` with weight matrices
``W_l`` of shape ``(h_l, h_{l-1})`` (``h_0 = d``, ``h_L = 1``) and no biases, so that for a
near-1-homogeneous activation (GELU: ``|phi(z) - z phi'(z)|`` bounded) the network is
near-``L``-homogeneous in ``theta = (W_1, ..., W_L)``. The normalized margin is therefore
``min_i y_i f(theta; x_i) / ||theta||^L`` (``||theta||`` the Euclidean norm of all weights):
the quantity that is scale-free for an exactly ``L``-homogeneous network (Lyu & Li 2020) and
that the source plots beside the risk.

Risk ``L(theta) = (1/n) sum_i log(1 + exp(-y_i f(theta; x_i)))``, GD
``theta <- theta - eta grad L(theta)`` with a constant stepsize; runs are vectorised over
stepsizes (``jax.vmap``) and compiled once per shape. The gradient is ``jax.grad`` of the
risk. Initialisation: PyTorch's default for ``nn.Linear`` (``U(-1/sqrt(fan_in),
1/sqrt(fan_in))``), seeded.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from . import _x64  # noqa: F401  (float64 on)
from ._progress import Progress

if TYPE_CHECKING:
    import jax
    from numpy.typing import ArrayLike

__all__ = ["MLPRun", "mlp_forward_numpy", "mlp_gd", "mlp_initial_weights"]


def mlp_initial_weights(dims: Sequence[int], seed: int = 0) -> list[np.ndarray]:
    """PyTorch-default weights ``U(-1/sqrt(fan_in), 1/sqrt(fan_in))`` for layer sizes ``dims``.

    Args:
        dims: ``(d, h_1, ..., h_{L-1}, 1)``, at least two entries, all >= 1.
        seed: random seed.

    Returns:
        ``L`` matrices, the ``l``-th of shape ``(dims[l+1], dims[l])``.
    """
    dims = [int(v) for v in dims]
    if len(dims) < 2 or min(dims) < 1 or dims[-1] != 1:
        raise ValueError(f"dims must be (d, h_1, ..., 1) with sizes >= 1, got {dims}")
    rng = np.random.default_rng(seed)
    return [
        rng.uniform(-1.0, 1.0, (dims[k + 1], dims[k])) / np.sqrt(dims[k])
        for k in range(len(dims) - 1)
    ]


def mlp_forward_numpy(
    weights: Sequence[ArrayLike], X: ArrayLike, phi: Callable[[np.ndarray], np.ndarray]
) -> np.ndarray:
    """Outputs ``f(theta; x_i)``, shape ``(n,)``, by a plain NumPy loop over the layers.

    The independent reference of the JAX forward pass (``phi`` a NumPy callable).
    """
    h = np.asarray(X, dtype=np.float64)
    for k, W in enumerate(weights):
        h = h @ np.asarray(W, dtype=np.float64).T
        if k < len(weights) - 1:
            h = phi(h)
    return h[:, 0]


@dataclass(frozen=True)
class MLPRun:
    """GD trajectories of a deep MLP for ``k`` stepsizes.

    Attributes:
        etas: stepsizes, shape ``(k,)``.
        dims: layer sizes ``(d, h_1, ..., 1)``.
        risk: risk at steps ``0..steps``, shape ``(k, steps + 1)``.
        record_steps: steps at which the other metrics were recorded, shape ``(r,)``.
        margin: normalized margin ``min_i y_i f / ||theta||^L``, shape ``(k, r)``.
        min_output_margin: unnormalized ``min_i y_i f(theta; x_i)``, shape ``(k, r)``.
        weight_norm: ``||theta||``, shape ``(k, r)``.
        final_weights: per layer, the weights after the last step, shapes ``(k, h_l, h_{l-1})``.
        seconds: wall time.
    """

    etas: np.ndarray
    dims: tuple[int, ...]
    risk: np.ndarray
    record_steps: np.ndarray
    margin: np.ndarray
    min_output_margin: np.ndarray
    weight_norm: np.ndarray
    final_weights: list[np.ndarray]
    seconds: float

    @property
    def steps(self) -> int:
        return self.risk.shape[1] - 1

    @property
    def depth(self) -> int:
        return len(self.dims) - 1


def _forward(phi, ws, X):
    h = X
    for W in ws[:-1]:
        h = phi(h @ W.T)
    return (h @ ws[-1].T)[:, 0]


def _risk_and_metrics(phi, ws, X, y):
    import jax.numpy as jnp

    q = y * _forward(phi, ws, X)
    norm = jnp.sqrt(sum(jnp.sum(W * W) for W in ws))
    return jnp.mean(jnp.logaddexp(0.0, -q)), (q.min() / norm ** len(ws), q.min(), norm)


@functools.lru_cache(maxsize=32)
def _runner(phi, every: int, n_blocks: int):
    """Jitted ``(weights (k, ...), etas (k,), X, y) -> (weights, records)``."""
    import jax

    grad = jax.value_and_grad(lambda ws, X, y: _risk_and_metrics(phi, ws, X, y)[0])

    def one_step(ws, eta, X, y):
        value, g = grad(ws, X, y)
        return [W - eta * G for W, G in zip(ws, g, strict=True)], value

    def block(ws, eta, X, y):
        def body(c, _):
            return one_step(c, eta, X, y)

        ws, risks = jax.lax.scan(body, ws, None, length=every)
        return ws, (risks, _risk_and_metrics(phi, ws, X, y)[1])

    def run(ws, eta, X, y):
        return jax.lax.scan(lambda c, _: block(c, eta, X, y), ws, None, length=n_blocks)

    return jax.jit(jax.vmap(run, in_axes=(0, 0, None, None)))


def mlp_gd(
    X: ArrayLike,
    y: ArrayLike,
    weights0: Sequence[ArrayLike],
    etas: ArrayLike,
    steps: int,
    phi: Callable[[jax.Array], jax.Array],
    every: int = 10,
    chunk: int | None = None,
    progress: bool = False,
) -> MLPRun:
    """Full-batch GD on the logistic risk of a bias-free MLP, for every stepsize at once.

    Args:
        X: inputs ``(n, d)``.
        y: labels ``(n,)`` in ``{-1, +1}``.
        weights0: initial weights (:func:`mlp_initial_weights`), last layer ``(1, h)``.
        etas: stepsizes ``(k,)``, finite and positive.
        steps: GD steps, a positive multiple of ``every``.
        phi: elementwise JAX activation (hashable: compiled functions are cached on it).
        every: steps between records of margin and norm.
        chunk: steps per compiled call (progress granularity); default all.
        progress: progress lines on stderr.
    """
    import jax.numpy as jnp

    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    ws0 = [np.asarray(W, dtype=np.float64) for W in weights0]
    etas = np.atleast_1d(np.asarray(etas, dtype=np.float64))
    if X.ndim != 2 or y.shape != (X.shape[0],):
        raise ValueError(f"X must be (n, d) and y (n,), got {X.shape} and {y.shape}")
    dims = (X.shape[1], *(W.shape[0] for W in ws0))
    if ws0[0].shape[1] != X.shape[1] or dims[-1] != 1:
        raise ValueError(f"weights must map {X.shape[1]} inputs to one output")
    for a, b in zip(ws0[:-1], ws0[1:], strict=False):
        if b.shape[1] != a.shape[0]:
            raise ValueError(f"layer shapes {a.shape} and {b.shape} do not chain")
    if steps < 1 or every < 1 or steps % every:
        raise ValueError(f"steps ({steps}) must be a positive multiple of every ({every})")
    if etas.ndim != 1 or not np.all(np.isfinite(etas)) or np.any(etas <= 0):
        raise ValueError("stepsizes must be a 1-D array of finite positive numbers")
    chunk = steps if chunk is None else max(every, (chunk // every) * every)
    Xj, yj = jnp.asarray(X), jnp.asarray(y)
    start = time.perf_counter()
    ws = [jnp.broadcast_to(jnp.asarray(W), (len(etas), *W.shape)) for W in ws0]
    _, first = _risk_and_metrics(phi, [jnp.asarray(W) for W in ws0], Xj, yj)
    # records at step 0 (identical for every stepsize), then after every block of `every`
    margins, qmins, norms = ([np.full((len(etas), 1), float(v))] for v in first)
    risks = []
    prog = Progress(steps, "MLP GD", "steps", enabled=progress)
    done = 0
    while done < steps:
        todo = min(chunk, steps - done)
        ws, (r, (mg, qm, nrm)) = _runner(phi, every, todo // every)(ws, jnp.asarray(etas), Xj, yj)
        # the scan's risks are the values *before* each step: steps done .. done + todo - 1
        risks.append(np.asarray(r).reshape(len(etas), -1))
        margins.append(np.asarray(mg))
        qmins.append(np.asarray(qm))
        norms.append(np.asarray(nrm))
        done += todo
        prog.update(todo)
    final = [float(_risk_and_metrics(phi, [W[k] for W in ws], Xj, yj)[0]) for k in range(len(etas))]
    risk = np.concatenate([*risks, np.asarray(final)[:, None]], axis=1)
    return MLPRun(
        etas=etas,
        dims=tuple(int(v) for v in dims),
        risk=risk,
        record_steps=np.arange(0, steps + 1, every),
        margin=np.concatenate(margins, axis=1),
        min_output_margin=np.concatenate(qmins, axis=1),
        weight_norm=np.concatenate(norms, axis=1),
        final_weights=[np.asarray(W) for W in ws],
        seconds=time.perf_counter() - start,
    )
