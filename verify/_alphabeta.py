"""The alpha-beta condition: symbolic derivation against numeric measurement.

Builds JAX callables for a :class:`~trainability.analytic.FiniteSum` (pieces, projection
onto ``S``, piece minima), measures the worst slack of the inequality over a box, confirms
a violation in high precision (mpmath at 50 digits on the symbolic slack), traces the
admissible ``(alpha, beta)`` region and checks the SGD theorem of Islamov et al. (2024).
"""

from __future__ import annotations

from dataclasses import dataclass

import jax.numpy as jnp
import mpmath
import numpy as np
import sympy

from trainability.analytic import (
    FiniteSum,
    MinimizerSet,
    alpha_beta_slack,
    critical_points,
    jax_kernels,
    piece_minima,
    smoothness_constant,
)
from trainability.numeric import (
    admissible_region,
    affine_projector,
    aiming_constant,
    finite_sum_run,
    nearest_point_projector,
    pl_constant,
    quasar_constant,
    worst_slack,
)

from ._verdict import Verdict

__all__ = [
    "FiniteSumCallables",
    "alpha_beta_check",
    "alpha_beta_region",
    "compare_conditions",
    "finite_sum_callables",
    "ProvenRegion",
    "proven_pairs",
    "proven_region",
    "sgd_bound_check",
    "slack_at",
]


@dataclass(frozen=True)
class FiniteSumCallables:
    """JAX callables of a finite sum in the calling convention of the numeric layer.

    Attributes:
        pieces: ``x (..., d) -> (f (..., n), g (..., n, d))``.
        loss_and_grad: ``x (..., d) -> (f (...), g (..., d))`` of the average.
        project: projection onto ``S``, ``(..., d) -> (..., d)``.
        piece_star: ``f_i^*`` as float64, shape ``(n,)``.
        f_star: ``f*`` as a float.
        S: the minimizer set from the analytic layer.
    """

    pieces: object
    loss_and_grad: object
    project: object
    piece_star: np.ndarray
    f_star: float
    S: MinimizerSet


def finite_sum_callables(fs: FiniteSum) -> FiniteSumCallables:
    """Generate (once per finite sum, cached) the JAX callables used by the numeric layer."""
    if "verify-callables" in fs._cache:
        return fs._cache["verify-callables"]
    kernels = [jax_kernels(fs.piece(i)) for i in range(fs.n)]

    def pieces(x):
        out = [k.loss_and_grad(x, ()) for k in kernels]
        return jnp.stack([f for f, _ in out], -1), jnp.stack([g for _, g in out], -2)

    def loss_and_grad(x):
        f, g = pieces(x)
        return jnp.mean(f, -1), jnp.mean(g, -2)

    S = fs.minimizers()
    pts, dirs = S.as_arrays()
    project = affine_projector(pts[0], dirs) if S.kind == "affine" else nearest_point_projector(pts)
    stars = np.array([float(m.value) for m in piece_minima(fs)], dtype=np.float64)
    out = FiniteSumCallables(pieces, loss_and_grad, project, stars, float(S.value), S)
    fs._cache["verify-callables"] = out
    return out


def slack_at(fs: FiniteSum, alpha: float, beta: float, point, dps: int = 50) -> float:
    """The smallest slack over pieces at ``point``, from the symbolic slack at ``dps`` digits.

    The projection is the nearest point of ``S`` (closed form for an affine ``S``). ``alpha``
    and ``beta`` enter as exact rationals of their float values.
    """
    S = fs.minimizers()
    which = 0
    if S.kind == "points" and len(S.points) > 1:
        pts = S.as_arrays()[0]
        which = int(np.argmin(np.sum((pts - np.asarray(point)) ** 2, -1)))
    slacks = alpha_beta_slack(fs, sympy.Rational(alpha), sympy.Rational(beta), which)
    sub = {v: sympy.Rational(float(p)) for v, p in zip(fs.variables, point, strict=True)}
    with mpmath.workdps(dps):
        vals = [sympy.N(s.xreplace(sub), dps) for s in slacks]
    return float(min(vals))


def alpha_beta_check(
    fs: FiniteSum,
    alpha: float,
    beta: float,
    samples: int = 2**16,
    refine: int = 8,
    seed: int = 0,
    tol: float = 1e-9,
) -> dict:
    """Worst slack of the inequality over the example's box, with the point where it occurs.

    The measured worst slack is re-evaluated at 50 digits on the symbolic slack; ``holds``
    uses that value (``>= -tol``), so a reported violation is certified in high precision.
    """
    if not alpha > beta >= 0:
        raise ValueError(f"need alpha > beta >= 0, got alpha={alpha}, beta={beta}")
    cb = finite_sum_callables(fs)
    lo, hi = fs.region()
    w = worst_slack(
        cb.pieces, cb.project, cb.piece_star, alpha, beta, lo, hi, samples, refine, seed
    )
    precise = slack_at(fs, alpha, beta, w.point)
    return {
        "alpha": float(alpha),
        "beta": float(beta),
        "holds": bool(precise >= -tol),
        "worst_slack": precise,
        "worst_slack_float64": w.value,
        "worst_point": [float(v) for v in w.point],
        "piece": w.piece,
        "samples": w.samples,
    }


def _c(fs: FiniteSum) -> float:
    """``c = min_i min_{x in S} (f_i(x) - f_i^*)`` at 30 digits."""
    S = fs.minimizers()
    stars = [m.value for m in piece_minima(fs)]
    vals = []
    for pt in S.points:
        sub = dict(zip(fs.variables, pt, strict=True))
        vals += [
            sympy.N(fi.xreplace(sub) - st, 30) for fi, st in zip(fs.pieces, stars, strict=True)
        ]
    return float(min(vals))


@dataclass(frozen=True)
class ProvenRegion:
    """The proven ``(alpha, beta)`` region of an example: ``alpha >= a0`` and either
    ``ratio * alpha <= beta < alpha`` (a wedge, ``ratio`` set) or ``beta = alpha - gap``."""

    a0: float
    ratio: float | None = None
    gap: float | None = None


def proven_region(fs: FiniteSum) -> ProvenRegion:
    """The region proven for the paper's examples (see :func:`proven_pairs`)."""
    if fs.name == "example-1":
        return ProvenRegion(2.5, ratio=0.8)
    if fs.name == "example-2":
        return ProvenRegion(8.0 / _c(fs), gap=8.0)
    if fs.name == "example-6":
        return ProvenRegion(2.0 / _c(fs), gap=1.0)
    if fs.name.startswith("example-3"):
        return ProvenRegion(1512.46, gap=1.0)
    raise ValueError(f"no proven region is known for {fs.name!r}")


def proven_pairs(fs: FiniteSum, count: int = 8, seed: int = 0) -> tuple[list, list]:
    """``(boundary, random)``: the proven region's corner pair(s) and random pairs inside.

    Example 1: ``alpha >= 5/2``, ``4 alpha/5 <= beta < alpha``; Example 2: ``beta = alpha - 8``,
    ``alpha >= 8/c``; Examples 3 and 6: ``beta = alpha - 1``, ``alpha >= a_min`` with
    ``a_min = 2/c`` for 6 and the paper's 1512.46 for 3 (``c = min_i min_S f_i``).
    """
    rng = np.random.default_rng(seed)
    region = proven_region(fs)
    if region.ratio is not None:
        a0 = region.a0
        a = rng.uniform(a0, 10 * a0, count)
        b = a * rng.uniform(region.ratio, 0.999, count)
        return [(a0, region.ratio * a0)], list(zip(a.tolist(), b.tolist(), strict=True))
    a0, gap = region.a0, region.gap
    a = a0 * rng.uniform(1.0, 10.0, count)
    return [(a0, a0 - gap)], [(float(x), float(x - gap)) for x in a]


def alpha_beta_region(fs: FiniteSum, alphas, betas, samples: int = 2**14, seed: int = 0):
    """The sampled admissible region of a finite sum on an ``(alpha, beta)`` grid."""
    cb = finite_sum_callables(fs)
    lo, hi = fs.region()
    return admissible_region(
        cb.pieces, cb.project, cb.piece_star, alphas, betas, lo, hi, samples, seed
    )


def compare_conditions(fs: FiniteSum, samples: int = 2**15, seed: int = 0) -> dict:
    """PL, aiming and quasar-convexity constants on the example's box (sampled).

    The critical points of ``f`` (:func:`~trainability.analytic.critical_points`) are examined
    besides the samples, so saddles and spurious minima are not missed. A condition holds
    (on the box) when its best constant is positive. Quasar-convexity is measured only when
    ``S`` is a single point. Also returns the critical points that are not minimizers.
    """
    cb = finite_sum_callables(fs)
    lo, hi = fs.region()
    crit = critical_points(fs)
    out = {
        "PL_2mu": pl_constant(cb.loss_and_grad, cb.f_star, lo, hi, samples, seed, points=crit),
        "aiming_theta": aiming_constant(
            cb.loss_and_grad, cb.project, cb.f_star, lo, hi, samples, seed, points=crit
        ),
    }
    pts = cb.S.as_arrays()[0]
    if cb.S.kind == "points" and len(pts) == 1:
        out["quasar_theta"] = quasar_constant(
            cb.loss_and_grad, pts[0], cb.f_star, lo, hi, samples, seed, points=crit
        )
    res = {
        k: {"constant": v.constant, "holds": v.holds, "point": v.point.tolist()}
        for k, v in out.items()
    }
    f_crit = np.asarray(cb.loss_and_grad(jnp.asarray(crit))[0]) if len(crit) else np.zeros(0)
    res["critical_points_outside_S"] = crit[f_crit - cb.f_star > 1e-12].tolist()
    return res


def sgd_bound_check(
    fs: FiniteSum,
    alpha: float,
    beta: float,
    x0,
    steps: int = 1000,
    seeds: int = 200,
    seed: int = 0,
    gamma: float | None = None,
) -> Verdict:
    """SGD theorem: ``min_{k<K} E[f(x_k) - f*]`` against the bound, over ``seeds`` runs.

    Step ``gamma = (alpha - beta) / (2L)`` unless given (must not exceed it). The bound is
    ``dist(x0,S)^2/(K gamma (alpha-beta)) + 2 L gamma sigma^2/(alpha-beta)
    + 2 beta sigma^2/(alpha-beta)`` with ``sigma^2 = f* - mean_i f_i^*`` and ``L`` derived by
    :func:`~trainability.analytic.smoothness_constant`. ``E`` is the mean over seeds.
    """
    if not alpha > beta >= 0:
        raise ValueError(f"need alpha > beta >= 0, got alpha={alpha}, beta={beta}")
    cb = finite_sum_callables(fs)
    sm = smoothness_constant(fs)
    L = float(sm.L)
    gmax = (alpha - beta) / (2 * L)
    gamma = gmax if gamma is None else float(gamma)
    if not 0 < gamma <= gmax * (1 + 1e-12):
        raise ValueError(f"gamma must be in (0, (alpha-beta)/(2L) = {gmax:g}]")
    x0 = np.asarray(x0, dtype=np.float64)
    dist2 = float(np.sum((x0 - np.asarray(cb.project(jnp.asarray(x0)))) ** 2))
    sigma2 = cb.f_star - float(np.mean(cb.piece_star))
    gap = alpha - beta
    bound = dist2 / (steps * gamma * gap) + 2 * L * gamma * sigma2 / gap + 2 * beta * sigma2 / gap
    run = finite_sum_run(cb.pieces, x0, steps, "sgd", gamma, seeds, seed, cb.piece_star)
    expected = np.mean(run.losses[:, :steps], axis=0) - cb.f_star
    measured = float(np.min(expected))
    # Standard error of the seed mean at the minimising step: the bound must hold beyond it.
    k = int(np.argmin(expected))
    se = float(np.std(run.losses[:, k], ddof=1) / np.sqrt(seeds)) if seeds > 1 else 0.0
    return Verdict(
        name=f"SGD bound on {fs.name} (alpha={alpha:g}, beta={beta:g})",
        measured={
            "min_k_mean_gap": measured,
            "stderr": se,
            "argmin_step": k,
            "final_mean_gap": float(expected[-1]),
        },
        predicted={
            "bound": bound,
            "L": L,
            "L_exact": sm.exact,
            "gamma": gamma,
            "sigma_int2": sigma2,
            "dist0_2": dist2,
            "steps": steps,
            "seeds": seeds,
        },
        tolerance=3 * se,
        passed=bool(measured <= bound + 3 * se),
        why=(
            "min over steps of the seed-mean optimality gap is below the theorem's bound"
            if measured <= bound + 3 * se
            else "the measured optimality gap exceeds the theorem's bound"
        ),
    )
