"""The alpha-beta condition: symbolic derivation against numeric measurement.

Builds JAX callables for a :class:`~trainability.analytic.FiniteSum` (pieces, projection
onto ``S``, piece minima), measures the worst slack of the inequality over a box, confirms
a violation in high precision (mpmath at 50 digits on the symbolic slack), traces the
admissible ``(alpha, beta)`` region and checks the SGD theorem of Islamov et al. (2024).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import jax.numpy as jnp
import mpmath
import numpy as np
import sympy
from numpy.typing import ArrayLike

from trainability.analytic import (
    FiniteSum,
    MinimizerSet,
    alpha_beta_slack,
    critical_points,
    finite_sum,
    jax_kernels,
    piece_minima,
    smoothness_constant,
)
from trainability.numeric import (
    AdmissibleRegion,
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
    "TILTED_WELL",
    "TILTED_WELL_ALPHA_BETA",
    "alpha_beta_worst_slack",
    "check_alpha_beta",
    "alpha_beta_region",
    "compare_conditions",
    "finite_sum_callables",
    "ProvenRegion",
    "certify_alpha_beta_1d",
    "ngn_bound",
    "proven_pairs",
    "proven_region",
    "sgd_bound",
    "check_sgd_bound",
    "slack_at",
    "sps_max_bound",
    "check_theorem",
    "tilted_well",
]


@dataclass(frozen=True)
class FiniteSumCallables:
    """JAX callables of a finite sum in the calling convention of the numeric layer.

    Attributes:
        pieces: ``x (..., d) -> (f (..., n), g (..., n, d))``.
        loss_and_grad: ``x (..., d) -> (f (...), g (..., d))`` of the average.
        project: projection onto ``S``, ``(..., d) -> (..., d)``.
        piece_star: :math:`f_i^*` as float64, shape ``(n,)``.
        f_star: ``f*`` as a float.
        S: the minimizer set from the analytic layer.
    """

    pieces: object
    loss_and_grad: object
    project: object
    piece_star: np.ndarray
    f_star: float
    S: MinimizerSet


def finite_sum_callables(fs: FiniteSum, S: MinimizerSet | None = None) -> FiniteSumCallables:
    """Generate (once per finite sum, cached) the JAX callables used by the numeric layer.

    ``S`` replaces the search of :meth:`~trainability.analytic.FiniteSum.minimizers` when the
    minimizer set is already known (and certified) by other means; it is cached with the rest.
    """
    if "verify-callables" in fs._cache:
        return fs._cache["verify-callables"]
    kernels = [jax_kernels(fs.piece(i)) for i in range(fs.n)]

    def pieces(x):
        out = [k.loss_and_grad(x, ()) for k in kernels]
        return jnp.stack([f for f, _ in out], -1), jnp.stack([g for _, g in out], -2)

    def loss_and_grad(x):
        f, g = pieces(x)
        return jnp.mean(f, -1), jnp.mean(g, -2)

    S = fs.minimizers() if S is None else S
    pts, dirs = S.as_arrays()
    project = affine_projector(pts[0], dirs) if S.kind == "affine" else nearest_point_projector(pts)
    stars = np.array([float(m.value) for m in piece_minima(fs)], dtype=np.float64)
    out = FiniteSumCallables(pieces, loss_and_grad, project, stars, float(S.value), S)
    fs._cache["verify-callables"] = out
    return out


def slack_at(
    fs: FiniteSum, alpha: float, beta: float, point: Sequence[float], dps: int = 50
) -> float:
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


def alpha_beta_worst_slack(
    fs: FiniteSum,
    alpha: float,
    beta: float,
    samples: int = 2**16,
    refine: int = 8,
    seed: int = 0,
    tol: float = 1e-9,
) -> dict[str, Any]:
    """Worst slack of the inequality over the example's box, with the point where it occurs.

    The measured worst slack is re-evaluated at 50 digits on the symbolic slack; ``holds``
    uses that value (``>= -tol``), so a reported violation is certified in high precision,
    while ``holds: True`` means "on every sampled point" (``"evidence": "sampled"``), not a
    proof on the box (:func:`certify_alpha_beta_1d` proves it on R where it can).
    The record behind :func:`check_alpha_beta` (JSON-able, kept in reproduction outputs).
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
        "evidence": "sampled" if precise >= -tol else "certified violation",
        "worst_slack": precise,
        "worst_slack_float64": w.value,
        "worst_point": [float(v) for v in w.point],
        "piece": w.piece,
        "samples": w.samples,
    }


def check_alpha_beta(
    fs: FiniteSum,
    alpha: float,
    beta: float,
    samples: int = 2**16,
    refine: int = 8,
    seed: int = 0,
    tol: float = 1e-9,
) -> Verdict:
    """Verdict: the alpha-beta condition at ``(alpha, beta)`` on sampled points of the box
    (numeric evidence, not a proof; a failure is a violation certified at 50 digits).

    Measured: the worst slack of :func:`alpha_beta_worst_slack` (re-evaluated at 50 digits);
    ``why`` names the point and piece where it occurs.
    """
    r = alpha_beta_worst_slack(fs, alpha, beta, samples, refine, seed, tol)
    return Verdict(
        "alpha-beta condition on sampled points of the box",
        r["worst_slack"],
        ">= 0",
        tol,
        r["holds"],
        f"worst slack {r['worst_slack']:.6g} at {r['worst_point']} (piece {r['piece']}, "
        f"alpha = {alpha:g}, beta = {beta:g})",
    )


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
    r"""The proven ``(alpha, beta)`` region of an example: :math:`\alpha \ge a_0` and either
    :math:`\text{ratio} \cdot \alpha \le \beta < \alpha` (a wedge, ``ratio`` set) or
    :math:`\beta = \alpha - \text{gap}`."""

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


def proven_pairs(
    fs: FiniteSum, count: int = 8, seed: int = 0
) -> tuple[list[tuple[float, float]], list[tuple[float, float]]]:
    r"""``(boundary, random)``: the proven region's corner pair(s) and random pairs inside.

    Example 1: :math:`\alpha \ge 5/2`, :math:`4\alpha/5 \le \beta < \alpha`; Example 2:
    :math:`\beta = \alpha - 8`, :math:`\alpha \ge 8/c`; Examples 3 and 6:
    :math:`\beta = \alpha - 1`, ``alpha >= a_min`` with ``a_min = 2/c`` for 6 and the paper's
    1512.46 for 3 (``c = min_i min_S f_i``).
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


def alpha_beta_region(
    fs: FiniteSum, alphas: ArrayLike, betas: ArrayLike, samples: int = 2**14, seed: int = 0
) -> AdmissibleRegion:
    """The sampled admissible region of a finite sum on an ``(alpha, beta)`` grid."""
    cb = finite_sum_callables(fs)
    lo, hi = fs.region()
    return admissible_region(
        cb.pieces, cb.project, cb.piece_star, alphas, betas, lo, hi, samples, seed
    )


def compare_conditions(fs: FiniteSum, samples: int = 2**15, seed: int = 0) -> dict[str, Any]:
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


# --------------------------------------------------------------------------------------------
# Convergence theorems: SGD, SPS_max and NGN under the alpha-beta condition
# --------------------------------------------------------------------------------------------
#
# All three bounds come from one recursion. With r_k = dist(x_k, S)^2, x_p = Proj(x_k, S),
# sampled piece i and step gamma_k:
#     r_{k+1} <= r_k - 2 gamma_k <grad f_i, x_k - x_p> + gamma_k^2 ||grad f_i||^2,
# the condition bounds the inner product from below, and the method bounds
# gamma_k^2 ||grad f_i||^2. Taking E_i and summing over k < K gives min_k E[f(x_k) - f*].
# sigma^2 = f* - mean_i f_i^* is the paper's sigma_int^2.


def sgd_bound(
    *, alpha: float, beta: float, L: float, gamma: float, sigma2: float, dist2: float, steps: int
) -> dict[str, Any]:
    r"""SGD with constant step :math:`\gamma \le (\alpha - \beta)/(2L)` (Islamov et al., Theorem 1).

    .. math::

        \min_{k<K} \mathbb{E}[f(x_k) - f^*] \le \frac{\operatorname{dist}(x_0, S)^2}{K \gamma
        (\alpha - \beta)} + \frac{2 L \gamma \sigma^2}{\alpha - \beta}
        + \frac{2 \beta \sigma^2}{\alpha - \beta}.

    Returns ``{"bound", "terms"}`` with the three terms under ``"distance"``, ``"noise"`` and
    ``"beta"``.
    """
    gap = alpha - beta
    terms = {
        "distance": dist2 / (steps * gamma * gap),
        "noise": 2 * L * gamma * sigma2 / gap,
        "beta": 2 * beta * sigma2 / gap,
    }
    return {"bound": sum(terms.values()), "terms": terms}


def sps_max_bound(
    *,
    alpha: float,
    beta: float,
    L: float,
    c: float,
    gamma_b: float,
    sigma2: float,
    dist2: float,
    steps: int,
) -> dict[str, Any]:
    r"""SPS_max,
    :math:`\gamma_k = \min\left(\frac{f_i - f_i^*}{c \|\nabla f_i\|^2}, \gamma_b\right)`, with
    :math:`c > 1/(2(\alpha-\beta))`.

    Derived here from the recursion (the reference states the step and the condition on
    ``c``, not the constants): SPS_max gives ``gamma_k^2 ||grad f_i||^2 <= gamma_k (f_i -
    f_i^*)/c``, so with :math:`a = 2(\alpha - \beta) - 1/c > 0`,
    :math:`r_{k+1} \le r_k - a \gamma_k (f_i - f_i^*) + 2 \alpha \gamma_k (f_i(x_p) - f_i^*)`; with
    :math:`\gamma_{\min} = \min(1/(2cL), \gamma_b) \le \gamma_k \le \gamma_b` (L-smoothness gives
    ``f_i - f_i^* >= ||grad f_i||^2/(2L)``):

    .. math::

        \min_{k<K} \mathbb{E}[f(x_k) - f^*] \le \frac{\operatorname{dist}(x_0, S)^2}{K a
        \gamma_{\min}} + \left(\frac{2 \alpha \gamma_b}{a \gamma_{\min}} - 1\right) \sigma^2.

    Returns ``{"bound", "terms"}`` with ``"distance"`` and ``"neighbourhood"``.
    """
    a = 2 * (alpha - beta) - 1 / c
    if not a > 0:
        raise ValueError(f"SPS_max needs c > 1/(2(alpha - beta)) = {1 / (2 * (alpha - beta)):g}")
    gmin = min(1 / (2 * c * L), gamma_b)
    terms = {
        "distance": dist2 / (steps * a * gmin),
        "neighbourhood": (2 * alpha * gamma_b / (a * gmin) - 1) * sigma2,
    }
    return {"bound": sum(terms.values()), "terms": terms, "gamma_min": gmin}


def ngn_bound(
    *,
    alpha: float,
    beta: float,
    L: float,
    gamma: float,
    f_star: float,
    piece_star_mean: float,
    dist2: float,
    steps: int,
) -> dict[str, Any]:
    r"""NGN, :math:`\gamma_k = \frac{\gamma}{1 + \gamma \|\nabla f_i\|^2/(2 f_i)}`,
    :math:`\alpha \ge \beta + 1`, :math:`f_i \ge 0`.

    Derived here from the recursion (the reference states the step and :math:`\alpha \ge \beta + 1`,
    not the constants): NGN gives ``gamma_k^2 ||grad f_i||^2 = 2 f_i gamma_k (1 -
    gamma_k/gamma)``, and :math:`\gamma/(1 + \gamma L) \le \gamma_k \le \gamma` since ``||grad
    f_i||^2 <= 2 L f_i``. With ``g_lo = gamma/(1 + gamma L)`` and
    ``c_lo = 2 g_lo (alpha - beta - 1) + 2 g_lo^2/gamma``,
    ``r_{k+1} <= r_k - c_lo f_i(x_k) + 2 gamma (alpha f_i(x_p) - beta f_i^*)``, so

    .. math::

        \min_{k<K} \mathbb{E}[f(x_k) - f^*] \le \frac{\operatorname{dist}(x_0, S)^2}{K c_{lo}}
        + \frac{2 \gamma (\alpha f^* - \beta \operatorname{mean}_i f_i^*)}{c_{lo}} - f^*.

    Returns ``{"bound", "terms"}`` with ``"distance"`` and ``"neighbourhood"``.
    """
    if alpha < beta + 1:
        raise ValueError("NGN's theorem needs alpha >= beta + 1")
    if piece_star_mean < 0:
        raise ValueError("NGN's theorem needs non-negative pieces (f_i^* >= 0)")
    g_lo = gamma / (1 + gamma * L)
    c_lo = 2 * g_lo * (alpha - beta - 1) + 2 * g_lo**2 / gamma
    terms = {
        "distance": dist2 / (steps * c_lo),
        "neighbourhood": 2 * gamma * (alpha * f_star - beta * piece_star_mean) / c_lo - f_star,
    }
    return {"bound": sum(terms.values()), "terms": terms, "c_lo": c_lo}


def check_theorem(
    fs: FiniteSum,
    method: str,
    alpha: float,
    beta: float,
    x0: ArrayLike,
    steps: int = 1000,
    seeds: int = 200,
    seed: int = 0,
    *,
    gamma: float | None = None,
    c: float | None = None,
    gamma_b: float | None = None,
) -> Verdict:
    r"""One convergence theorem against a measured run: ``min_{k<K} E[f(x_k) - f*]`` (mean
    over ``seeds`` seeded runs) must not exceed the bound (:func:`sgd_bound`,
    :func:`sps_max_bound`, :func:`ngn_bound`) by more than three standard errors.

    Defaults: SGD :math:`\gamma = (\alpha - \beta)/(2L)` (the largest allowed); SPS_max
    :math:`c = 1/(\alpha - \beta)`, :math:`\gamma_b = 1/(cL)`; NGN :math:`\gamma = 1/L`. ``L`` is
    derived by :func:`~trainability.analytic.smoothness_constant`. The verdict also reports
    ``initial_gap = f(x_0) - f*`` and ``bites`` (bound below the initial gap: a bound that
    exceeds every value :math:`f - f^*` takes along the run cannot fail).

    The theorem's hypothesis (the condition with these constants) is not checked here; see
    :func:`alpha_beta_worst_slack` and :func:`certify_alpha_beta_1d`.
    """
    if not alpha > beta >= 0:
        raise ValueError(f"need alpha > beta >= 0, got alpha={alpha}, beta={beta}")
    if method not in ("sgd", "sps_max", "ngn"):
        raise ValueError(f"unknown method {method!r}; choose sgd, sps_max or ngn")
    cb = finite_sum_callables(fs)
    sm = smoothness_constant(fs)
    L = float(sm.L)
    x0 = np.asarray(x0, dtype=np.float64)
    dist2 = float(np.sum((x0 - np.asarray(cb.project(jnp.asarray(x0)))) ** 2))
    sigma2 = cb.f_star - float(np.mean(cb.piece_star))
    run_kw: dict[str, Any] = {}
    if method == "sgd":
        gmax = (alpha - beta) / (2 * L)
        gamma = gmax if gamma is None else float(gamma)
        if not 0 < gamma <= gmax * (1 + 1e-12):
            raise ValueError(f"gamma must be in (0, (alpha-beta)/(2L) = {gmax:g}]")
        b = sgd_bound(
            alpha=alpha, beta=beta, L=L, gamma=gamma, sigma2=sigma2, dist2=dist2, steps=steps
        )
        params = {"gamma": gamma}
        run_kw = {"gamma": gamma}
    elif method == "sps_max":
        c = 1.0 / (alpha - beta) if c is None else float(c)
        # twice the smallest step SPS_max can take, so that its adaptive step matters
        gamma_b = 1.0 / (c * L) if gamma_b is None else float(gamma_b)
        b = sps_max_bound(
            alpha=alpha,
            beta=beta,
            L=L,
            c=c,
            gamma_b=gamma_b,
            sigma2=sigma2,
            dist2=dist2,
            steps=steps,
        )
        params = {"c": c, "gamma_b": gamma_b}
        run_kw = params
    else:
        gamma = 1.0 / L if gamma is None else float(gamma)
        if not gamma > 0:
            raise ValueError("gamma must be positive")
        if float(np.min(cb.piece_star)) < 0:
            raise ValueError("NGN's theorem needs non-negative pieces (every f_i^* >= 0)")
        b = ngn_bound(
            alpha=alpha,
            beta=beta,
            L=L,
            gamma=gamma,
            f_star=cb.f_star,
            piece_star_mean=float(np.mean(cb.piece_star)),
            dist2=dist2,
            steps=steps,
        )
        params = {"gamma": gamma}
        run_kw = {"gamma": gamma}
    bound = float(b["bound"])
    run = finite_sum_run(
        cb.pieces, x0, steps, method, seeds=seeds, seed=seed, piece_star=cb.piece_star, **run_kw
    )
    expected = np.mean(run.losses[:, :steps], axis=0) - cb.f_star
    measured = float(np.min(expected))
    # Standard error of the seed mean at the minimising step: the bound must hold beyond it.
    k = int(np.argmin(expected))
    se = float(np.std(run.losses[:, k], ddof=1) / np.sqrt(seeds)) if seeds > 1 else 0.0
    initial_gap = float(expected[0])
    ok = bool(np.isfinite(measured) and measured <= bound + 3 * se)
    return Verdict(
        name=f"{method} bound on {fs.name} (alpha={alpha:g}, beta={beta:g})",
        measured={
            "min_k_mean_gap": measured,
            "stderr": se,
            "argmin_step": k,
            "final_mean_gap": float(expected[-1]),
            "initial_gap": initial_gap,
        },
        predicted={
            "bound": bound,
            "terms": b["terms"],
            "bites": bool(bound < initial_gap),
            "L": L,
            "L_exact": sm.exact,
            **params,
            "sigma_int2": sigma2,
            "dist0_2": dist2,
            "steps": steps,
            "seeds": seeds,
        },
        tolerance=3 * se,
        passed=ok,
        why=(
            f"min over steps of the seed-mean optimality gap {measured:.4g} is below the "
            f"theorem's bound {bound:.4g} (initial gap {initial_gap:.4g})"
            if ok
            else f"the measured optimality gap {measured:.4g} exceeds the bound {bound:.4g}"
        ),
    )


def check_sgd_bound(fs: FiniteSum, *args: Any, **kwargs: Any) -> Verdict:
    """SGD theorem: ``min_{k<K} E[f(x_k) - f*]`` against :func:`sgd_bound`; the arguments
    of :func:`check_theorem` after ``method`` (``alpha, beta, x0, steps, seeds, seed``,
    keyword ``gamma``)."""
    return check_theorem(fs, "sgd", *args, **kwargs)


# --------------------------------------------------------------------------------------------
# Exact certificates in one dimension, and an example where the beta term is needed
# --------------------------------------------------------------------------------------------


def _positive_on_line(expr: sympy.Expr, x: sympy.Symbol) -> bool:
    """True when the rational function ``expr`` (rational coefficients) is > 0 on all of R:
    numerator and denominator have no real root (exact Sturm count) and are positive at 0."""
    num, den = sympy.fraction(sympy.together(expr))
    for part in (num, den):
        poly = sympy.Poly(sympy.expand(part), x)
        if poly.count_roots() != 0 or not poly.TC() > 0:  # TC: the value at 0
            return False
    return True


def _certified_minimizer_1d(expr: sympy.Expr, x: sympy.Symbol, point) -> MinimizerSet:
    """``{point}`` as the unique global minimizer of a 1-D rational ``expr``, proven exactly:
    ``f(x) - f(p) = (x - p)^2 q(x)/den(x)`` with ``q`` and ``den`` positive on R."""
    p = sympy.Rational(point)
    num, den = sympy.fraction(sympy.together(expr - expr.subs(x, p)))
    q, r = sympy.div(sympy.Poly(sympy.expand(num), x), sympy.Poly((x - p) ** 2, x))
    if not r.is_zero or not _positive_on_line(q.as_expr() / den, x):
        raise ValueError(f"could not certify {point} as the unique global minimizer")
    return MinimizerSet(
        "points",
        ((p,),),
        (),
        sympy.nsimplify(expr.subs(x, p)),
        True,
        "certified: f - f(p) = (x - p)^2 q/den with q, den root-free on R (Sturm)",
    )


def certify_alpha_beta_1d(
    fs: FiniteSum, alpha: float, beta: float, digits: int = 9
) -> dict[str, Any]:
    r"""Prove the alpha-beta condition on all of R for a 1-D finite sum of rational pieces
    whose ``S`` is one rational point.

    Each :math:`f_i^*` is replaced by ``u_i = f_i(q_i)`` at a rational ``q_i`` near the piece's
    minimizer: :math:`u_i \ge f_i^*` exactly, so the slack with ``u_i`` is a lower bound of the true
    slack. That slack is a rational function with rational coefficients; it is proven positive
    on R by exact real-root counting (:func:`_positive_on_line`). ``alpha`` and ``beta`` enter
    as exact rationals. ``holds`` False means "not proven", not "refuted".
    """
    if fs.dim != 1:
        raise ValueError("certify_alpha_beta_1d needs a one-dimensional finite sum")
    S = finite_sum_callables(fs).S
    if S.kind != "points" or len(S.points) != 1 or not S.points[0][0].is_Rational:
        raise ValueError("S must be a single rational point")
    (x,), (p,) = fs.variables, S.points[0]
    a, b = sympy.Rational(alpha), sympy.Rational(beta)
    pieces = []
    for fi, m in zip(fs.pieces, piece_minima(fs), strict=True):
        q = sympy.Rational(round(float(m.points[0][0]) * 10**digits), 10**digits)
        u = fi.subs(x, q)
        slack = sympy.diff(fi, x) * (x - p) - a * (fi - fi.subs(x, p)) + b * (fi - u)
        pieces.append({"star_upper": float(u), "positive": _positive_on_line(slack, x)})
    holds = all(pc["positive"] for pc in pieces)
    return {
        "alpha": float(a),
        "beta": float(b),
        "holds": holds,
        "status": "proven on R" if holds else "not proven",
        "method": "slack with f_i^* -> f_i(q_i) >= f_i^*, cleared of denominators, no real "
        "root (exact Sturm count)",
        "pieces": pieces,
    }


#: The tilted well: ``f_i = x^2/2 + 10/(1 + x^2) - 2x/5 +- x/2 + 3``. ``f`` has its global
#: minimum at ``x = 2`` (``f* = 31/5``) and a spurious local minimum near ``x = -1.74`` with
#: ``f - f* = 1.49``; GD started on the left stays there, so ``min_k E[f(x_k) - f*]`` does not
#: go to 0 and only the ``beta`` term of the bounds covers it.
TILTED_WELL = (
    "x1**2/2 + 10/(1 + x1**2) - 2*x1/5 + x1/2 + 3",
    "x1**2/2 + 10/(1 + x1**2) - 2*x1/5 - x1/2 + 3",
)
#: Constants proven for it by :func:`certify_alpha_beta_1d` (``alpha - beta = 39/20``,
#: ``alpha`` 1% above the sampled threshold about 524.8 on that line).
TILTED_WELL_ALPHA_BETA = (sympy.Rational(530), sympy.Rational(530) - sympy.Rational(39, 20))


@functools.lru_cache(maxsize=1)
def tilted_well() -> FiniteSum:
    """The 1-D tilted well (:data:`TILTED_WELL`) with its minimizer set proven exactly.

    Every piece is ``L``-smooth with ``L = 19`` and non-negative (:math:`f_i^*` about 6.78 and
    5.15), so all three theorems apply; ``S = {2}`` is certified by
    :func:`_certified_minimizer_1d` instead of the (slow) symbolic solve of a quintic.
    Cached: every call returns the same object, so its compiled kernels are reused.
    """
    fs = finite_sum(list(TILTED_WELL), name="tilted-well", box=((-8.0, 8.0),))
    S = _certified_minimizer_1d(fs.loss, fs.variables[0], 2)
    finite_sum_callables(fs, S)
    return fs
