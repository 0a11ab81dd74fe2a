r"""The alpha-beta condition measured numerically on finite sums (Islamov et al. 2024).

Everything here takes plain callables, so it works on generated, hand-written and
neural-network losses alike:

- ``pieces(x) -> (f, g)``: all pieces at once; ``x`` has shape ``(..., d)``, ``f`` shape
  ``(..., n)`` and ``g`` shape ``(..., n, d)``. JAX-traceable.
- ``project(x) -> x_p``: a projection onto the minimizer set ``S``, shapes ``(..., d)``.
- ``piece_star``: the piece minima :math:`f_i^*`, shape ``(n,)``.

The slack of the inequality for piece ``i`` at ``x`` is :math:`A_i - \alpha B_i + \beta C_i` with
:math:`A_i = \langle \nabla f_i(x), x - x_p \rangle`, ``B_i = f_i(x) - f_i(x_p)`` and
:math:`C_i = f_i(x) - f_i^*`; the condition holds at ``x`` when the smallest slack over ``i`` is
non-negative.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import jax
import jax.numpy as jnp
import numpy as np

from . import _x64  # noqa: F401

if TYPE_CHECKING:
    from jax.typing import ArrayLike

__all__ = [
    "AdmissibleRegion",
    "ConditionConstant",
    "FiniteSumRun",
    "WorstSlack",
    "admissible_grid",
    "admissible_region",
    "affine_projector",
    "aiming_constant",
    "finite_sum_run",
    "nearest_point_projector",
    "pl_constant",
    "quasar_constant",
    "slack_terms",
    "smallest_admissible",
    "worst_slack",
]

Pieces = Callable[[jax.Array], tuple[jax.Array, jax.Array]]
Projector = Callable[[jax.Array], jax.Array]
#: ``loss_and_grad(x) -> (f, g)`` with ``x (N, d)``, ``f (N,)``, ``g (N, d)``.
LossAndGrad = Callable[[jax.Array], tuple[jax.Array, jax.Array]]


def affine_projector(point: Sequence[float], directions: Sequence[Sequence[float]]) -> Projector:
    """Orthogonal projection onto ``point + span(directions)`` (an affine ``S``).

    ``point`` has shape ``(d,)``, ``directions`` shape ``(k, d)`` (``k = 0``: a point).
    """
    p = jnp.asarray(point, dtype=jnp.float64)
    U = jnp.asarray(directions, dtype=jnp.float64).reshape(-1, p.shape[0])
    if U.shape[0]:
        Q, _ = jnp.linalg.qr(U.T)
        P = Q @ Q.T
    else:
        P = jnp.zeros((p.shape[0], p.shape[0]))

    def project(x):
        return p + (x - p) @ P.T

    return project


def nearest_point_projector(points: Sequence[Sequence[float]]) -> Projector:
    """Projection onto a finite ``S``: the nearest of ``points`` (shape ``(m, d)``).

    Where several points are equally near, ``Proj`` is set-valued; this picks the first
    (ties have measure zero and :func:`worst_slack` refines away from them).
    """
    P = jnp.asarray(points, dtype=jnp.float64)
    if P.ndim != 2 or P.shape[0] < 1:
        raise ValueError("points must have shape (m, d) with m >= 1")

    def project(x):
        d2 = jnp.sum((x[..., None, :] - P) ** 2, axis=-1)
        return P[jnp.argmin(d2, axis=-1)]

    return project


def slack_terms(
    pieces: Pieces, project: Projector, piece_star: ArrayLike, x: jax.Array
) -> tuple[jax.Array, jax.Array, jax.Array]:
    r"""``(A, B, C)``, each of shape ``(..., n)``, so that the slack is
    :math:`A - \alpha B + \beta C`."""
    f, g = pieces(x)
    xp = project(x)
    fp, _ = pieces(xp)
    A = jnp.einsum("...nd,...d->...n", g, x - xp)
    return A, f - fp, f - jnp.asarray(piece_star)


@dataclass(frozen=True)
class WorstSlack:
    """The smallest slack of the alpha-beta inequality found over a box.

    Attributes:
        alpha, beta: the constants checked.
        value: the smallest slack found (after local refinement); ``>= 0`` means the
            inequality held at every point examined.
        point: where it was found, shape ``(d,)``.
        piece: the piece ``i`` whose inequality is tightest there.
        sampled: the smallest slack among the dense samples alone (before refinement).
        samples: how many points were sampled.
    """

    alpha: float
    beta: float
    value: float
    point: np.ndarray
    piece: int
    sampled: float
    samples: int

    @property
    def holds(self) -> bool:
        return self.value >= 0.0


def _uniform(low, high, samples: int, seed: int) -> jax.Array:
    low = jnp.asarray(low, dtype=jnp.float64)
    high = jnp.asarray(high, dtype=jnp.float64)
    u = jax.random.uniform(jax.random.PRNGKey(seed), (samples, low.shape[0]), dtype=jnp.float64)
    return low + (high - low) * u


def _check_box(low, high) -> tuple[np.ndarray, np.ndarray]:
    low = np.atleast_1d(np.asarray(low, dtype=np.float64))
    high = np.atleast_1d(np.asarray(high, dtype=np.float64))
    if low.shape != high.shape or low.ndim != 1 or not np.all(low < high):
        raise ValueError("the box needs low < high componentwise, both of shape (d,)")
    if not (np.all(np.isfinite(low)) and np.all(np.isfinite(high))):
        raise ValueError("the box must be finite")
    return low, high


@functools.lru_cache(maxsize=32)
def _kernels(pieces: Pieces, project: Projector):
    def terms(x, star):
        return slack_terms(pieces, project, star, x)

    def min_slack(x, alpha, beta, star):
        A, B, C = terms(x, star)
        s = A - alpha * B + beta * C
        s = jnp.where(jnp.isnan(s), -jnp.inf, s)
        return jnp.min(s, axis=-1), jnp.argmin(s, axis=-1)

    def piece_slack(x, i, alpha, beta, star):
        A, B, C = terms(x, star)
        return (A - alpha * B + beta * C)[i]

    return (jax.jit(terms), jax.jit(min_slack), jax.jit(jax.value_and_grad(piece_slack)))


def _refine(value_and_grad, start, low, high, *args) -> tuple[float, np.ndarray]:
    """Minimise a scalar JAX function in the box with L-BFGS-B from ``start``."""
    from scipy.optimize import minimize

    def fun(z):
        v, g = value_and_grad(jnp.asarray(z), *args)
        v, g = float(v), np.asarray(g, dtype=np.float64)
        if not np.isfinite(v):
            return 1e300, np.zeros_like(g)
        return v, np.nan_to_num(g)

    res = minimize(
        fun,
        np.asarray(start, dtype=np.float64),
        jac=True,
        method="L-BFGS-B",
        bounds=list(zip(low, high, strict=True)),
        options={"maxiter": 200},
    )
    return float(res.fun), np.asarray(res.x)


def worst_slack(
    pieces: Pieces,
    project: Projector,
    piece_star: ArrayLike,
    alpha: float,
    beta: float,
    low: ArrayLike,
    high: ArrayLike,
    samples: int = 2**16,
    refine: int = 8,
    seed: int = 0,
    chunk: int = 2**15,
) -> WorstSlack:
    """The smallest slack of the alpha-beta inequality over the box ``[low, high]``.

    Dense uniform sampling (``samples`` points, seeded) followed by L-BFGS-B, inside the box,
    from the ``refine`` worst samples on the piece that is tightest there.
    """
    low, high = _check_box(low, high)
    if samples < 1 or chunk < 1 or refine < 0:
        raise ValueError("samples and chunk must be positive, refine non-negative")
    star = jnp.asarray(piece_star, dtype=jnp.float64)
    _, min_slack, vg = _kernels(pieces, project)
    x = _uniform(low, high, samples, seed)
    values, which = [], []
    for start in range(0, samples, chunk):
        v, i = min_slack(x[start : start + chunk], alpha, beta, star)
        values.append(np.asarray(v))
        which.append(np.asarray(i))
    values, which = np.concatenate(values), np.concatenate(which)
    order = np.argsort(values)
    best = int(order[0])
    best_val, best_pt, best_piece = float(values[best]), np.asarray(x[best]), int(which[best])
    sampled = best_val
    for j in order[:refine]:
        piece = int(which[j])
        v, pt = _refine(vg, np.asarray(x[j]), low, high, piece, alpha, beta, star)
        v2, i2 = min_slack(jnp.asarray(pt)[None], alpha, beta, star)
        if float(v2[0]) < best_val:
            best_val, best_pt, best_piece = float(v2[0]), pt, int(i2[0])
    return WorstSlack(float(alpha), float(beta), best_val, best_pt, best_piece, sampled, samples)


@dataclass(frozen=True)
class AdmissibleRegion:
    r"""Worst sampled slack on an ``(alpha, beta)`` grid.

    Attributes:
        alphas: shape ``(a,)``; betas: shape ``(b,)``.
        worst: shape ``(a, b)``, the smallest slack over the samples (``nan`` where the pair
            is outside :math:`\alpha \ge \beta + \text{margin}`, :math:`\beta \ge 0`).
        admissible: shape ``(a, b)``, ``worst >= -tol``.
    """

    alphas: np.ndarray
    betas: np.ndarray
    worst: np.ndarray
    admissible: np.ndarray


def admissible_grid(
    A: ArrayLike,
    B: ArrayLike,
    C: ArrayLike,
    alphas: ArrayLike,
    betas: ArrayLike,
    margin: float = 0.0,
    tol: float = 0.0,
    chunk: int = 2**14,
) -> AdmissibleRegion:
    r"""Minimum of :math:`A - \alpha B + \beta C` over all entries, for every grid pair.

    ``A, B, C`` are arrays of one shape (points x pieces, or steps x seeds in a training
    run); the grid keeps pairs with :math:`\alpha \ge \beta + \text{margin}` and
    :math:`\beta \ge 0`.
    """
    alphas = np.asarray(alphas, dtype=np.float64)
    betas = np.asarray(betas, dtype=np.float64)
    A, B, C = (jnp.ravel(jnp.asarray(t, dtype=jnp.float64)) for t in (A, B, C))
    fin = jnp.isfinite(A) & jnp.isfinite(B) & jnp.isfinite(C)
    if not bool(jnp.all(fin)):
        raise ValueError("non-finite slack terms (diverged run or undefined point)")
    a, b = np.meshgrid(alphas, betas, indexing="ij")
    pairs_a, pairs_b = jnp.asarray(a.ravel()), jnp.asarray(b.ravel())

    @jax.jit
    def block(Ab, Bb, Cb):
        return jnp.min(Ab[None] - pairs_a[:, None] * Bb[None] + pairs_b[:, None] * Cb[None], 1)

    worst = jnp.full(pairs_a.shape, jnp.inf)
    for s in range(0, A.shape[0], chunk):
        worst = jnp.minimum(worst, block(A[s : s + chunk], B[s : s + chunk], C[s : s + chunk]))
    worst = np.asarray(worst).reshape(a.shape)
    valid = (a >= b + margin - 1e-12) & (b >= 0)
    worst = np.where(valid, worst, np.nan)
    return AdmissibleRegion(alphas, betas, worst, np.where(valid, worst >= -tol, False))


def admissible_region(
    pieces: Pieces,
    project: Projector,
    piece_star: ArrayLike,
    alphas: ArrayLike,
    betas: ArrayLike,
    low: ArrayLike,
    high: ArrayLike,
    samples: int = 2**15,
    seed: int = 0,
    margin: float = 0.0,
    tol: float = 0.0,
) -> AdmissibleRegion:
    """The ``(alpha, beta)`` pairs under which the inequality holds at every sampled point.

    ``samples`` uniform points of the box (seeded); see :func:`admissible_grid`.
    """
    low, high = _check_box(low, high)
    terms, _, _ = _kernels(pieces, project)
    x = _uniform(low, high, samples, seed)
    A, B, C = terms(x, jnp.asarray(piece_star, dtype=jnp.float64))
    return admissible_grid(A, B, C, alphas, betas, margin, tol)


def smallest_admissible(region: AdmissibleRegion) -> tuple[float, float] | None:
    """The admissible pair with the smallest ``alpha`` (then smallest ``beta``), or None."""
    idx = np.argwhere(region.admissible)
    if idx.size == 0:
        return None
    i = idx[:, 0].min()
    j = idx[idx[:, 0] == i, 1].min()
    return float(region.alphas[i]), float(region.betas[j])


# --------------------------------------------------------------------------------------------
# PL, aiming, quasar-convexity: each is "num(x) >= c den(x)", so the best c is inf num/den.
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ConditionConstant:
    r"""The best constant of a one-parameter condition
    :math:`\text{num}(x) \ge c \cdot \text{den}(x)` over a box.

    Attributes:
        name: ``"PL"`` (:math:`c = 2\mu`), ``"aiming"`` or ``"quasar-convexity"`` (``c = theta``).
        constant: :math:`\inf \text{num}/\text{den}` over the sampled points with ``den > den_min``;
            the condition holds (on the samples) for every ``c <= constant``; :attr:`holds` asks
            for ``constant > 1e-8`` (a saddle or a spurious critical point gives 0).
        point: where the infimum was attained, shape ``(d,)``.
        samples: how many points were sampled.
    """

    name: str
    constant: float
    point: np.ndarray
    samples: int

    #: Constants at or below this count as "fails" (a saddle gives 0 up to rounding).
    TOLERANCE = 1e-8

    @property
    def holds(self) -> bool:
        return self.constant > self.TOLERANCE


def _inf_ratio(name, fn, low, high, samples, seed, den_min, refine=4, points=None):
    r""":math:`\inf \text{num}/\text{den}` over dense samples (plus ``points``), then L-BFGS-B from
    the worst."""
    low, high = _check_box(low, high)
    x = _uniform(low, high, samples, seed)
    if points is not None and len(points):
        x = jnp.concatenate([jnp.asarray(points, dtype=jnp.float64).reshape(-1, low.size), x])
    num, den = jax.jit(fn)(x)
    num, den = np.asarray(num), np.asarray(den)
    ok = den > den_min
    if not np.any(ok):
        raise ValueError("no sample has f(x) - f* above den_min")
    ratio = np.where(ok, num / np.where(ok, den, 1.0), np.inf)
    order = np.argsort(ratio)
    best_val, best_pt = float(ratio[order[0]]), np.asarray(x[order[0]])

    def scalar(z):
        n_, d_ = fn(z[None])
        return jnp.where(d_[0] > den_min, n_[0] / jnp.maximum(d_[0], den_min), 1e300)

    vg = jax.jit(jax.value_and_grad(scalar))
    for j in order[:refine]:
        v, pt = _refine(vg, np.asarray(x[j]), low, high)
        n_, d_ = fn(jnp.asarray(pt)[None])
        if float(d_[0]) > den_min and v < best_val:
            best_val, best_pt = v, pt
    return ConditionConstant(name, best_val, best_pt, samples)


def pl_constant(
    loss_and_grad: LossAndGrad,
    f_star: float,
    low: ArrayLike,
    high: ArrayLike,
    samples: int = 2**15,
    seed: int = 0,
    den_min: float = 1e-9,
    points: ArrayLike | None = None,
) -> ConditionConstant:
    r"""PL: the largest :math:`2\mu` with :math:`\|\nabla f\|^2 \ge 2\mu (f - f^*)` on the samples.

    ``loss_and_grad(x) -> (f, g)`` with ``x (N, d)``, ``f (N,)``, ``g (N, d)``. ``points``
    (shape ``(m, d)``, e.g. known critical points) are examined besides the samples.
    """

    def fn(x):
        f, g = loss_and_grad(x)
        return jnp.sum(g**2, -1), f - f_star

    return _inf_ratio("PL", fn, low, high, samples, seed, den_min, points=points)


def aiming_constant(
    loss_and_grad: LossAndGrad,
    project: Projector,
    f_star: float,
    low: ArrayLike,
    high: ArrayLike,
    samples: int = 2**15,
    seed: int = 0,
    den_min: float = 1e-9,
    points: ArrayLike | None = None,
) -> ConditionConstant:
    r"""Aiming: the largest ``theta`` with
    :math:`\langle \nabla f, x - \operatorname{Proj}(x, S) \rangle \ge \theta (f - f^*)`."""

    def fn(x):
        f, g = loss_and_grad(x)
        return jnp.sum(g * (x - project(x)), -1), f - f_star

    return _inf_ratio("aiming", fn, low, high, samples, seed, den_min, points=points)


def quasar_constant(
    loss_and_grad: LossAndGrad,
    x_star: Sequence[float],
    f_star: float,
    low: ArrayLike,
    high: ArrayLike,
    samples: int = 2**15,
    seed: int = 0,
    den_min: float = 1e-9,
    points: ArrayLike | None = None,
) -> ConditionConstant:
    r"""Quasar-convexity: the largest ``theta`` with
    :math:`\langle \nabla f, x - x^* \rangle \ge \theta (f - f^*)`."""
    xs = jnp.asarray(x_star, dtype=jnp.float64)

    def fn(x):
        f, g = loss_and_grad(x)
        return jnp.sum(g * (x - xs), -1), f - f_star

    return _inf_ratio("quasar-convexity", fn, low, high, samples, seed, den_min, points=points)


# --------------------------------------------------------------------------------------------
# Stochastic methods on finite sums, with T(x_k) tracking
# --------------------------------------------------------------------------------------------

_METHODS = ("sgd", "sps_max", "ngn")


@dataclass(frozen=True)
class FiniteSumRun:
    r"""Runs of a stochastic method on a finite sum, one per seed.

    Attributes:
        method: ``"sgd"``, ``"sps_max"`` or ``"ngn"``.
        losses: full loss ``f(x_k)``, shape ``(seeds, steps + 1)``.
        indices: sampled pieces ``i_k``, shape ``(seeds, steps)``.
        iterates: ``x_k``, shape ``(seeds, steps + 1, d)``.
        step_sizes: the step ``gamma_k`` used, shape ``(seeds, steps)``.
        A, B, C: T-tracking terms with the final iterate ``x_K`` standing in for the
            projection, shape ``(seeds, steps)``:
            :math:`A = \langle \nabla f_{i_k}(x_k), x_k - x_K \rangle`, ``B = f_{i_k}(x_k) -
            f_{i_k}(x_K)``, ``C = f_{i_k}(x_k) - f_{i_k}^*``; the empirical ``T(x_k) = A - alpha B +
            beta C``.
    """

    method: str
    losses: np.ndarray
    indices: np.ndarray
    iterates: np.ndarray
    step_sizes: np.ndarray
    A: np.ndarray
    B: np.ndarray
    C: np.ndarray

    def T(self, alpha: float, beta: float) -> np.ndarray:
        """``T(x_k)`` for one pair, shape ``(seeds, steps)``."""
        return self.A - alpha * self.B + beta * self.C


@functools.lru_cache(maxsize=32)
def _run_kernel(pieces: Pieces, method: str, steps: int):
    def one(x0, key, gamma, c, gamma_b, star):
        n = pieces(x0)[0].shape[-1]
        idx = jax.random.randint(key, (steps,), 0, n)

        def body(x, i):
            f, g = pieces(x)
            fi, gi = f[i], g[i]
            gn2 = jnp.sum(gi**2)
            if method == "sgd":
                step = gamma
            elif method == "sps_max":
                step = jnp.minimum((fi - star[i]) / (c * jnp.maximum(gn2, 1e-300)), gamma_b)
            else:  # ngn
                step = gamma / (1.0 + gamma * gn2 / (2.0 * jnp.maximum(fi, 1e-300)))
            return x - step * gi, (x, jnp.mean(f), step)

        xK, (xs, losses, steps_used) = jax.lax.scan(body, x0, idx)
        fK = jnp.mean(pieces(xK)[0])
        f_all, g_all = pieces(xs)  # (steps, n), (steps, n, d)
        fi = jnp.take_along_axis(f_all, idx[:, None], 1)[:, 0]
        gi = jnp.take_along_axis(g_all, idx[:, None, None], 1)[:, 0]
        fiK = pieces(xK)[0][idx]
        A = jnp.sum(gi * (xs - xK), -1)
        iterates = jnp.concatenate([xs, xK[None]], 0)
        return (
            jnp.concatenate([losses, fK[None]]),
            idx,
            iterates,
            steps_used,
            A,
            fi - fiK,
            fi - star[idx],
        )

    return jax.jit(jax.vmap(one, in_axes=(None, 0, None, None, None, None)))


def finite_sum_run(
    pieces: Pieces,
    x0: ArrayLike,
    steps: int,
    method: str = "sgd",
    gamma: float = 0.1,
    seeds: int = 8,
    seed: int = 0,
    piece_star: ArrayLike | None = None,
    c: float = 1.0,
    gamma_b: float = 1.0,
) -> FiniteSumRun:
    r"""Run SGD, SPS_max or NGN on :math:`f = \frac{1}{n} \sum_i f_i` for ``seeds`` seeds; track T.

    - ``sgd``: :math:`x^+ = x - \gamma \nabla f_i(x)`;
    - ``sps_max``:
      :math:`\gamma_k = \min\left(\frac{f_i(x) - f_i^*}{c \|\nabla f_i(x)\|^2}, \gamma_b\right)`;
    - ``ngn``: :math:`\gamma_k = \frac{\gamma}{1 + \gamma \|\nabla f_i(x)\|^2 / (2 f_i(x))}`.

    ``i_k`` is uniform on ``{0..n-1}``, drawn from ``PRNGKey(seed + s)`` for seed ``s``.
    """
    if method not in _METHODS:
        raise ValueError(f"unknown method {method!r} (choose from {', '.join(_METHODS)})")
    if steps < 1 or seeds < 1:
        raise ValueError("steps and seeds must be positive")
    if not (gamma > 0 and c > 0 and gamma_b > 0):
        raise ValueError("gamma, c and gamma_b must be positive")
    x0 = jnp.asarray(x0, dtype=jnp.float64)
    n = int(pieces(x0)[0].shape[-1])
    star = jnp.zeros(n) if piece_star is None else jnp.asarray(piece_star, dtype=jnp.float64)
    keys = jnp.stack([jax.random.PRNGKey(seed + s) for s in range(seeds)])
    out = _run_kernel(pieces, method, int(steps))(x0, keys, gamma, c, gamma_b, star)
    out = [np.asarray(o) for o in out]
    return FiniteSumRun(method, *out)
