"""Trainability of a small network over a 2-D grid of hyperparameters (Sohl-Dickstein 2024).

The network: input dimension = width, one hidden layer, one output, no biases, mean-field
scaling. With ``d = width``::

    Z = X W1 / sqrt(d),   H = phi(Z),   f(X) = H W2 / d         (W1: (d, d), W2: (d,))
    phi = tanh(sqrt(2) z) | sqrt(2) relu(z) | z

weights ``N(0, 1)``, loss ``mean((f(X) - Y)**2)`` on Gaussian data ``X: (n, d)``, ``Y: (n,)``
with ``n`` = number of parameters (272 for width 16). Training is full-batch gradient descent
(a minibatch option samples ``b`` rows with replacement per step, the same rows for every
grid point) with one learning rate per layer, or one shared learning rate and an offset added
to every first-layer weight at initialisation.

Every grid point of a tile trains at once: the forward and backward passes are written out by
hand as batched matrix products that share the data, the convergence score of
:func:`~trainability.numeric.convergence_score` is accumulated on the fly (no loss curves are
stored), and a tile stops as soon as every one of its runs has a non-finite loss.
"""

from __future__ import annotations

import functools
import math
import os
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import jax
import jax.numpy as jnp
import numpy as np

from . import _x64  # noqa: F401
from ._box_counting import MAX_NORMALISED_LOSS, TAIL
from ._progress import Progress

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

__all__ = [
    "NETWORK_ACTIVATIONS",
    "HyperGrid",
    "NetworkProblem",
    "PhaseImage",
    "network_problem",
    "network_scores",
    "network_scores_per_point",
    "phase_image",
]

NETWORK_ACTIVATIONS = ("tanh", "relu", "linear")
PHASE_SPACES = ("lr_vs_lr", "offset_vs_lr")
_DTYPES = {"float64": jnp.float64, "float32": jnp.float32}


@dataclass(frozen=True)
class NetworkProblem:
    """One network, its initial weights and its data set (host arrays).

    Attributes:
        activation: ``"tanh"``, ``"relu"`` or ``"linear"``.
        width: hidden width ``d`` (also the input dimension).
        X: ``(n, d)`` inputs; ``Y``: ``(n,)`` targets.
        W1: ``(d, d)`` initial first-layer weights; ``W2``: ``(d,)`` initial readout weights.
        seed: the seed everything was drawn from.
        minibatch: rows per gradient step, or ``None`` for full-batch GD.
    """

    activation: str
    width: int
    X: np.ndarray
    Y: np.ndarray
    W1: np.ndarray
    W2: np.ndarray
    seed: int
    minibatch: int | None = None

    @property
    def n_data(self) -> int:
        return int(self.X.shape[0])

    @property
    def n_params(self) -> int:
        return int(self.W1.size + self.W2.size)

    def loss(
        self,
        W1: np.ndarray,
        W2: np.ndarray,
        X: np.ndarray | None = None,
        Y: np.ndarray | None = None,
    ) -> float:
        """Loss of one weight setting (NumPy, float64): the plain definition, for checks."""
        X = self.X if X is None else X
        Y = self.Y if Y is None else Y
        z = X @ W1 / math.sqrt(self.width)
        h = {
            "tanh": lambda u: np.tanh(math.sqrt(2) * u),
            "relu": lambda u: math.sqrt(2) * np.maximum(u, 0.0),
            "linear": lambda u: u,
        }[self.activation](z)
        return float(np.mean((h @ W2 / self.width - Y) ** 2))


def network_problem(
    activation: str = "tanh",
    width: int = 16,
    seed: int = 0,
    n_data: int | None = None,
    minibatch: int | None = None,
) -> NetworkProblem:
    """Draw the initial weights and the Gaussian data set of the reference network.

    Args:
        activation: ``"tanh"``, ``"relu"`` or ``"linear"``.
        width: hidden width (and input dimension), default 16.
        seed: JAX PRNG seed; the same seed gives the same weights and data.
        n_data: data set size (default: the number of parameters, ``width**2 + width``).
        minibatch: rows per step for minibatch GD (``None``: full batch).
    """
    if activation not in NETWORK_ACTIVATIONS:
        choices = ", ".join(NETWORK_ACTIVATIONS)
        raise ValueError(f"activation must be one of {choices}, got {activation!r}")
    if not isinstance(width, int | np.integer) or not 1 <= width <= 1024:
        raise ValueError(f"width must be an integer in 1..1024, got {width}")
    n_params = width * width + width
    n = n_params if n_data is None else n_data
    if not isinstance(n, int | np.integer) or n < 1:
        raise ValueError(f"n_data must be a positive integer, got {n_data}")
    if minibatch is not None and (not isinstance(minibatch, int | np.integer) or minibatch < 1):
        raise ValueError(f"minibatch must be a positive integer, got {minibatch}")
    key = jax.random.PRNGKey(seed)
    key, k_init = jax.random.split(key)
    k1, k2 = jax.random.split(k_init)
    W1 = jax.random.normal(k1, (width, width), jnp.float64)
    W2 = jax.random.normal(k2, (width,), jnp.float64)
    key, kx = jax.random.split(key)
    X = jax.random.normal(kx, (n, width), jnp.float64)
    key, ky = jax.random.split(key)
    Y = jax.random.normal(ky, (n,), jnp.float64)
    return NetworkProblem(
        activation,
        int(width),
        *(np.asarray(a) for a in (X, Y, W1, W2)),
        int(seed),
        None if minibatch is None else int(minibatch),
    )


@dataclass(frozen=True)
class HyperGrid:
    """A ``resolution x resolution`` grid over two hyperparameters.

    Columns run along ``x`` and rows along ``y`` (row 0 = smallest ``y``). For
    ``phase_space="lr_vs_lr"``, ``x`` is the first-layer and ``y`` the readout learning rate;
    for ``"offset_vs_lr"``, ``x`` is the first-layer weight offset and ``y`` the learning rate
    of both layers. A ``log`` axis takes its range in ``log10`` units.

    >>> g = HyperGrid(x_range=(-3.0, 6.0), y_range=(-3.0, 6.0), resolution=4)
    >>> g.axes()[0].tolist()
    [0.001, 1.0, 1000.0, 1000000.0]
    """

    x_range: tuple[float, float] = (-3.0, 6.0)
    y_range: tuple[float, float] = (-3.0, 6.0)
    resolution: int = 256
    phase_space: str = "lr_vs_lr"
    x_log: bool = True
    y_log: bool = True

    def __post_init__(self) -> None:
        if self.phase_space not in PHASE_SPACES:
            raise ValueError(
                f"phase_space must be one of {', '.join(PHASE_SPACES)}, got {self.phase_space!r}"
            )
        if not isinstance(self.resolution, int | np.integer) or not 2 <= self.resolution <= 2**15:
            raise ValueError(f"resolution must be an integer in 2..32768, got {self.resolution}")
        for name, (lo, hi) in (("x_range", self.x_range), ("y_range", self.y_range)):
            if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo:
                raise ValueError(f"{name} must be finite with lo < hi, got ({lo}, {hi})")

    def _axis(self, lo, hi, log):
        t = np.linspace(lo, hi, self.resolution)
        return 10.0**t if log else t

    def axes(self) -> tuple[np.ndarray, np.ndarray]:
        """``(x_values, y_values)``, each ``(resolution,)`` float64 (not in log units)."""
        return (self._axis(*self.x_range, self.x_log), self._axis(*self.y_range, self.y_log))

    def zoom(self, center: tuple[float, float], factor: float) -> HyperGrid:
        """The sub-window ``factor`` times narrower around ``center`` (axis units), same
        resolution."""
        if not factor > 1:
            raise ValueError(f"zoom factor must be > 1, got {factor}")
        (x0, x1), (y0, y1) = self.x_range, self.y_range
        hx, hy = (x1 - x0) / (2 * factor), (y1 - y0) / (2 * factor)
        cx, cy = center
        return replace(self, x_range=(cx - hx, cx + hx), y_range=(cy - hy, cy + hy))

    def zoom_out_sequence(self, growth: float = 2.0, max_scale: float = 6.0) -> list[HyperGrid]:
        """Windows around this one's centre, each ``growth`` times wider, widest first.

        The source's ``zoom_out_sequence`` (Sohl-Dickstein/fractal notebook): starting from
        the deepest frame, the window widens until its narrower side reaches ``max_scale``
        axis units (6 decades of learning rate); the last window is this one. The notebook
        takes a ``growth_factor`` argument but always doubles; ``growth`` defaults to 2.

        >>> g = HyperGrid((0.0, 1.0), (0.0, 1.0), resolution=8)
        >>> [round(w.x_range[1] - w.x_range[0], 3) for w in g.zoom_out_sequence()]
        [8.0, 4.0, 2.0, 1.0]
        """
        if not growth > 1:
            raise ValueError(f"growth must be > 1, got {growth}")
        (x0, x1), (y0, y1) = self.x_range, self.y_range
        cx, cy, wx, wy = (x0 + x1) / 2, (y0 + y1) / 2, x1 - x0, y1 - y0
        out, scale = [self], 1.0
        while min(wx, wy) * scale < max_scale:
            scale *= growth
            hx, hy = scale * wx / 2, scale * wy / 2
            out.insert(0, replace(self, x_range=(cx - hx, cx + hx), y_range=(cy - hy, cy + hy)))
        return out

    def hyperparameters(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Flattened ``(lr1, lr2, offset)``, each ``(resolution**2,)``, row-major in ``(y, x)``."""
        xs, ys = self.axes()
        xx, yy = np.meshgrid(xs, ys)
        xx, yy = xx.ravel(), yy.ravel()
        if self.phase_space == "lr_vs_lr":
            return xx, yy, np.zeros_like(xx)
        return yy, yy.copy(), xx


# ---------------------------------------------------------------------------------------------
# The fused, vectorised kernel


def _activation(name: str):
    """``phi`` and ``phi'`` expressed through ``(z, h)`` so that tanh needs one evaluation."""
    r2 = math.sqrt(2.0)
    if name == "tanh":
        return lambda z: jnp.tanh(r2 * z), lambda z, h: r2 * (1.0 - h * h)
    if name == "relu":
        return (
            lambda z: r2 * jnp.maximum(z, 0.0),
            lambda z, h: jnp.where(z > 0, r2, 0.0).astype(z.dtype),
        )
    return lambda z: z, lambda z, h: jnp.ones_like(z)


def _loss_and_grads(W1, W2, X, Y, phi, dphi, width):
    """Batched loss and gradients. ``W1: (G, d, d)``, ``W2: (G, d)``, ``X: (m, d)``,
    ``Y: (m,)`` -> ``loss: (G,)``, ``g1: (G, d, d)``, ``g2: (G, d)``."""
    c1, c2 = 1.0 / math.sqrt(width), 1.0 / width
    m = X.shape[0]
    z = jnp.einsum("ni,gij->gnj", X, W1) * c1
    h = phi(z)
    err = jnp.einsum("gnj,gj->gn", h, W2) * c2 - Y
    loss = jnp.mean(err * err, axis=1)
    dout = err * (2.0 * c2 / m)
    g2 = jnp.einsum("gnj,gn->gj", h, dout)
    dz = dout[:, :, None] * W2[:, None, :] * dphi(z, h)
    g1 = jnp.einsum("ni,gnj->gij", X, dz) * c1
    return loss, g1, g2


def _loss_only(W1, W2, X, Y, phi, width):
    z = jnp.einsum("ni,gij->gnj", X, W1) / math.sqrt(width)
    err = jnp.einsum("gnj,gj->gn", phi(z), W2) / width - Y
    return jnp.mean(err * err, axis=1)


@functools.lru_cache(maxsize=32)
def _tile_kernel(
    activation: str, width: int, steps: int, minibatch: int | None, offset_every_step: bool
):
    """Jitted ``(W1_0, W2_0, X, Y, lr1, lr2, offset, key) -> (score, steps_run)`` for a tile."""
    phi, dphi = _activation(activation)
    big = MAX_NORMALISED_LOSS
    tail_start = max(steps - TAIL, 0)

    def run(W1_0, W2_0, X, Y, lr1, lr2, offset, key):
        g = lr1.shape[0]
        W1 = jnp.broadcast_to(W1_0, (g, width, width)) + offset[:, None, None]
        W2 = jnp.broadcast_to(W2_0, (g, width))
        n = X.shape[0]

        def grads(k, W1, W2):
            if minibatch is None:
                return _loss_and_grads(W1, W2, X, Y, phi, dphi, width)
            idx = jax.random.randint(jax.random.fold_in(key, k), (minibatch,), 0, n)
            _, g1, g2 = _loss_and_grads(W1, W2, X[idx], Y[idx], phi, dphi, width)
            return _loss_only(W1, W2, X, Y, phi, width), g1, g2

        loss0, _, _ = grads(0, W1, W2)
        l0 = jnp.where(jnp.isfinite(loss0), loss0, big)
        zeros = jnp.zeros((g,), W1.dtype)

        def cond(state):
            k, *_, broken, _, _, _ = state
            return (k < steps) & ~jnp.all(broken)

        def body(state):
            k, W1, W2, broken, sum_v, sum_inv, tail = state
            loss, g1, g2 = grads(k, W1, W2)
            broken = broken | ~jnp.isfinite(loss)
            v = jnp.minimum(jnp.where(broken, big, loss) / l0, big)
            sum_v, sum_inv = sum_v + v, sum_inv + 1.0 / v
            tail = tail + jnp.where(k >= tail_start, v, 0.0)
            W1 = W1 - lr1[:, None, None] * g1
            if offset_every_step:
                # the source's train_step adds the offset to the first layer before every
                # step: the next step starts from (updated weights + offset)
                W1 = W1 + offset[:, None, None]
            W2 = W2 - lr2[:, None] * g2
            return k + 1, W1, W2, broken, sum_v, sum_inv, tail

        state = (0, W1, W2, jnp.zeros((g,), bool), zeros, zeros, zeros)
        k, _, _, broken, sum_v, sum_inv, tail = jax.lax.while_loop(cond, body, state)
        # Every run is broken from step k on: its normalised loss is the constant v_b.
        v_b = jnp.minimum(big / l0, big)
        rest = steps - k
        sum_v, sum_inv = sum_v + rest * v_b, sum_inv + rest / v_b
        tail = tail + (steps - jnp.maximum(k, tail_start)) * v_b
        converged = tail / min(steps, TAIL) < 1.0
        return jnp.where(converged, -sum_v, sum_inv), k

    return jax.jit(run)


def _check_steps(steps):
    if not isinstance(steps, int | np.integer) or not 1 <= steps <= 10**6:
        raise ValueError(f"steps must be an integer in 1..10^6, got {steps}")


def network_scores(
    problem: NetworkProblem,
    lr1: ArrayLike,
    lr2: ArrayLike,
    offset: ArrayLike | None = None,
    *,
    steps: int = 1000,
    tile: int = 256,
    dtype: str = "float64",
    progress: bool = False,
    label: str = "network grid",
    offset_every_step: bool = False,
) -> tuple[np.ndarray, int]:
    """Convergence scores of many training runs of ``problem``, ``tile`` runs at a time.

    Args:
        problem: the network and its data (:func:`network_problem`).
        lr1, lr2: ``(P,)`` learning rates of the first layer and of the readout.
        offset: ``(P,)`` offsets added to every first-layer weight at initialisation
            (default 0).
        offset_every_step: add the offset again before every GD step, as the source's
            ``train_step`` does (``W1 <- W1 + offset - lr1 * grad(W1 + offset)``); default
            False, the offset is an initialisation shift only.
        steps: GD steps ``T`` (the score uses the losses before each step).
        tile: runs per compiled call; the last tile is padded with copies of its last run.
        dtype: ``"float64"`` (default) or ``"float32"``.

    Returns:
        ``(scores, steps_run)``: ``(P,)`` float64 scores as in
        :func:`~trainability.numeric.convergence_score`, and the total number of GD steps the
        tiles actually ran (tiles stop early once every run in them is non-finite).
    """
    _check_steps(steps)
    if dtype not in _DTYPES:
        raise ValueError(f"dtype must be one of {', '.join(_DTYPES)}, got {dtype}")
    if not isinstance(tile, int | np.integer) or tile < 1:
        raise ValueError(f"tile must be a positive integer, got {tile}")
    dt = _DTYPES[dtype]
    lr1 = np.asarray(lr1, dtype=np.float64).ravel()
    lr2 = np.asarray(lr2, dtype=np.float64).ravel()
    offset = np.zeros_like(lr1) if offset is None else np.asarray(offset, np.float64).ravel()
    if not lr1.shape == lr2.shape == offset.shape:
        raise ValueError("lr1, lr2 and offset must have the same length")
    if not np.all(np.isfinite(lr1) & np.isfinite(lr2) & np.isfinite(offset)):
        raise ValueError("learning rates and offsets must be finite")
    p = lr1.size
    tile = int(tile)
    kernel = _tile_kernel(
        problem.activation, problem.width, int(steps), problem.minibatch, bool(offset_every_step)
    )
    consts = [jnp.asarray(a, dt) for a in (problem.W1, problem.W2, problem.X, problem.Y)]
    key = jax.random.PRNGKey(problem.seed + 1)
    scores = np.empty(p, dtype=np.float64)
    steps_run = 0
    meter = Progress(p, label, "runs", enabled=progress)
    for start in range(0, p, tile):
        stop = min(start + tile, p)
        idx = np.minimum(np.arange(start, start + tile), stop - 1)
        out, k = kernel(
            *consts,
            jnp.asarray(lr1[idx], dt),
            jnp.asarray(lr2[idx], dt),
            jnp.asarray(offset[idx], dt),
            key,
        )
        scores[start:stop] = np.asarray(out, dtype=np.float64)[: stop - start]
        steps_run += int(k) * (stop - start)
        meter.update(stop - start)
    return scores, steps_run


def network_scores_per_point(
    problem: NetworkProblem,
    lr1: ArrayLike,
    lr2: ArrayLike,
    offset: ArrayLike | None = None,
    *,
    steps: int = 1000,
    chunk: int = 256,
    offset_every_step: bool = False,
) -> np.ndarray:
    """The straightforward implementation: ``jax.vmap`` over runs of one run's training loop.

    Each run uses ``jax.value_and_grad`` of the per-run loss, records its whole loss curve
    with ``lax.scan``, and the curve goes through
    :func:`~trainability.numeric.convergence_score`. Full-batch GD only. Independent of the
    fused kernel (autodiff instead of hand-written gradients, no early exit); used as the
    reference in tests and as the baseline in the benchmark.

    Returns:
        ``(P,)`` float64 scores.
    """
    from ._box_counting import convergence_score

    _check_steps(steps)
    if problem.minibatch is not None:
        raise ValueError("network_scores_per_point supports full-batch GD only")
    lr1 = np.asarray(lr1, np.float64).ravel()
    lr2 = np.asarray(lr2, np.float64).ravel()
    offset = np.zeros_like(lr1) if offset is None else np.asarray(offset, np.float64).ravel()
    curves = _per_point_kernel(
        problem.activation, problem.width, int(steps), bool(offset_every_step)
    )
    consts = [jnp.asarray(a) for a in (problem.W1, problem.W2, problem.X, problem.Y)]
    out = []
    for start in range(0, lr1.size, chunk):
        sl = slice(start, start + chunk)
        out.append(np.asarray(curves(*consts, lr1[sl], lr2[sl], offset[sl])))
    return convergence_score(np.concatenate(out, axis=0))


@functools.lru_cache(maxsize=16)
def _per_point_kernel(activation: str, width: int, steps: int, offset_every_step: bool):
    phi, _ = _activation(activation)

    def loss(params, X, Y):
        W1, W2 = params
        h = phi(X @ W1 / math.sqrt(width))
        return jnp.mean((h @ W2 / width - Y) ** 2)

    def one_run(W1_0, W2_0, X, Y, lr1, lr2, offset):
        def step(params, _):
            W1, W2 = params
            if offset_every_step:
                # literally the source's train_step: shift, then differentiate and update
                W1 = W1 + offset
            value, (g1, g2) = jax.value_and_grad(loss)((W1, W2), X, Y)
            return (W1 - lr1 * g1, W2 - lr2 * g2), value

        start = W1_0 if offset_every_step else W1_0 + offset
        _, curve = jax.lax.scan(step, (start, W2_0), None, length=steps)
        return curve

    return jax.jit(jax.vmap(one_run, in_axes=(None, None, None, None, 0, 0, 0)))


# ---------------------------------------------------------------------------------------------
# Images


@dataclass(frozen=True)
class PhaseImage:
    """Convergence scores on a :class:`HyperGrid` (row ``i`` = ``y`` value ``i``).

    Attributes:
        grid: the hyperparameter grid.
        score: ``(resolution, resolution)`` float64 scores; negative = converged.
        steps: GD steps per run.
        seconds: wall time of the computation.
        steps_run: GD steps actually run, summed over runs (early exit saves the rest).
    """

    grid: HyperGrid
    score: np.ndarray
    steps: int
    seconds: float
    steps_run: int

    @property
    def converged_fraction(self) -> float:
        return float(np.mean(self.score < 0))

    def boundary_center(self, factor: float = 4.0) -> tuple[float, float]:
        """Centre, in axis units, of the ``1/factor``-wide window holding most boundary pixels.

        This is where a zoom by ``factor`` keeps the most boundary in view (ties: the window
        nearest the image centre). The rule is the same for every activation, so zoom
        sequences are comparable.
        """
        from ._box_counting import boundary_pixels

        edge = boundary_pixels(self.score).astype(np.int64)
        if not edge.any():
            raise ValueError("this image holds no boundary to zoom in on")
        m = edge.shape[0]
        w = int(min(m, max(1, round(m / factor))))
        integral = np.zeros((m + 1, m + 1), dtype=np.int64)
        integral[1:, 1:] = edge.cumsum(0).cumsum(1)
        inside = integral[w:, w:] - integral[:-w, w:] - integral[w:, :-w] + integral[:-w, :-w]
        rows, cols = np.indices(inside.shape)
        centre = (inside.shape[0] - 1) / 2
        dist = (rows - centre) ** 2 + (cols - centre) ** 2
        k = np.lexsort((dist.ravel(), -inside.ravel()))[0]
        r, c = divmod(int(k), inside.shape[1])
        (x0, x1), (y0, y1), n = self.grid.x_range, self.grid.y_range, self.grid.resolution
        # edge pixel k spans grid indices k..k+1, so a window of w pixels from r spans r..r+w
        return (x0 + (c + w / 2) * (x1 - x0) / (n - 1), y0 + (r + w / 2) * (y1 - y0) / (n - 1))


def phase_image(
    problem: NetworkProblem,
    grid: HyperGrid,
    *,
    steps: int = 1000,
    block: int = 16,
    dtype: str = "float64",
    progress: bool = False,
    offset_every_step: bool = False,
    workers: int | None = None,
) -> PhaseImage:
    """Train ``problem`` at every point of ``grid`` and return the score image.

    ``offset_every_step`` is passed to :func:`network_scores` (it matters for the
    ``offset_vs_lr`` phase space only).

    The grid is cut into ``block x block`` squares (one tile each), so a tile covers a compact
    region of hyperparameter space and stops early once every run in it has diverged to a
    non-finite loss. Memory is bounded by the tile, whatever the resolution.

    The tiles are independent (an embarrassingly parallel grid): ``workers`` threads (default:
    the CPU count, at most the number of tiles) each run whole tiles. A compiled call releases
    the GIL, so the threads run on separate cores; the scores do not depend on ``workers``
    (each tile computes the same arithmetic whichever thread runs it).

    >>> p = network_problem("linear", width=4, seed=0)
    >>> img = phase_image(p, HyperGrid((-2.0, 2.0), (-2.0, 2.0), resolution=8), steps=50)
    >>> img.score.shape, bool(img.score[0, 0] < 0), bool(img.score[-1, -1] > 0)
    ((8, 8), True, True)
    """
    _check_steps(steps)
    if not isinstance(block, int | np.integer) or block < 1:
        raise ValueError(f"block must be a positive integer, got {block}")
    n = grid.resolution
    lr1, lr2, off = grid.hyperparameters()
    nb = -(-n // block)
    # permutation: block-major order of the row-major grid (padding handled by network_scores)
    rr, cc = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    block_id = (rr // block) * nb + (cc // block)
    order = np.argsort(block_id.ravel(), kind="stable")
    counts = np.bincount(block_id.ravel(), minlength=nb * nb)
    tiles = [sel for sel in np.split(order, np.cumsum(counts)[:-1]) if sel.size]
    n_workers = min(os.cpu_count() or 1, len(tiles)) if workers is None else workers
    if not isinstance(n_workers, int | np.integer) or n_workers < 1:
        raise ValueError(f"workers must be a positive integer, got {workers}")

    def run_tile(sel):
        return network_scores(
            problem,
            lr1[sel],
            lr2[sel],
            off[sel],
            steps=steps,
            tile=block * block,
            dtype=dtype,
            offset_every_step=offset_every_step,
        )

    t0 = time.perf_counter()
    scores = np.empty(n * n)
    steps_run = 0
    meter = Progress(n * n, f"{problem.activation} grid", "runs", enabled=progress)
    with ThreadPoolExecutor(max_workers=int(n_workers)) as pool:
        # results come back in tile order on this thread (progress and sums stay serial)
        for sel, (s, k) in zip(tiles, pool.map(run_tile, tiles), strict=True):
            scores[sel] = s
            steps_run += k
            meter.update(int(sel.size))
    seconds = time.perf_counter() - t0
    return PhaseImage(grid, scores.reshape(n, n), int(steps), seconds, steps_run)
