"""Property functions for Hypothesis suites: derived theory against independent numerics.

Each function compares one claim of :mod:`trainability.analytic` with a measurement that does
not go through the code that derived it, returns the :class:`~trainability.verify.Verdict`
when they agree and raises ``AssertionError`` with the verdict's ``why`` when they do not.
A misuse (missing hyperparameter values, a landscape outside the property's premise) raises
``ValueError``. Generated callables are cached by expression, so inside ``@given`` only the
first example pays for code generation or compilation.

>>> from trainability.analytic import family
>>> v = convexity_matches_curvature(family("additive", eps=0.01, lam=1.0))
>>> v.passed
True
>>> v = fixed_points_stable_on_interval(family("additive", eps=0.01, lam=1.0))
>>> v.measured["points"]
1
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import sympy

from trainability.analytic import (
    ArtifactCache,
    Landscape,
    as_expression,
    convexity,
    fixed_points,
    numpy_kernels,
    renormalization,
    rescaled,
)

from ._verdict import Verdict

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

    from trainability.analytic import FiniteSum
    from trainability.numeric import ClassificationData

__all__ = [
    "alpha_beta_holds",
    "convexity_matches_curvature",
    "fixed_points_stable_on_interval",
    "margins_monotone_after_phase_change",
    "no_fractal_boundary_when_convex",
    "renormalization_maps_orbits",
    "require",
    "stable_intervals",
]


def require(verdict: Verdict) -> Verdict:
    """Return ``verdict`` if it passed, else raise ``AssertionError(verdict.why)``."""
    if not verdict.passed:
        raise AssertionError(f"{verdict.name}: {verdict.why}")
    return verdict


# Values are passed at call time: one generated callable (one derivation) serves every draw.
_HESSIANS_NUMPY: ArtifactCache = ArtifactCache("NumPy Hessians", maxsize=128)
_EXACT_FIXED_POINTS: ArtifactCache[tuple] = ArtifactCache("exact fixed points", maxsize=128)


def _hessian_numpy(land: Landscape):
    def build():
        xs, expr = land.variables, land.expr
        h = sympy.Matrix(len(xs), len(xs), lambda i, j: sympy.diff(expr, xs[i], xs[j]))
        return sympy.lambdify([*xs, *land.hyperparameters], list(h), modules="numpy", cse=True)

    return _HESSIANS_NUMPY(land, build)


def _hessians(land: Landscape, points: np.ndarray) -> np.ndarray:
    """Hessians ``(n, d, d)`` at ``points (n, d)``: SymPy's derivative evaluated in NumPy
    (nothing of the convexity analysis: no TR8, no harmonics, no interval arithmetic)."""
    d = land.dim
    raw = _hessian_numpy(land)(*points.T, *land.parameter_values())
    entries = [np.broadcast_to(np.asarray(e, dtype=np.float64), points.shape[:1]) for e in raw]
    return np.stack(entries, -1).reshape(-1, d, d)


def _curvature_samples(land: Landscape, window: float, samples: int, seed: int) -> np.ndarray:
    """Sample points ``(n, d)``: a dense grid on ``[-window, window]`` (random points in ``d``
    dimensions, plus every axis) and a log-spaced tail out to ``100 * window``."""
    d = land.dim
    line = np.linspace(-window, window, samples)
    tail = np.geomspace(window, 100 * window, max(samples // 10, 2))
    line = np.concatenate([line, tail, -tail])
    if d == 1:
        return line[:, None]
    rng = np.random.default_rng(seed)
    cloud = rng.uniform(-window, window, (samples, d))
    axes = np.zeros((d * line.size, d))
    for i in range(d):
        axes[i * line.size : (i + 1) * line.size, i] = line
    return np.concatenate([cloud, axes])


def convexity_matches_curvature(
    land: Landscape, window: float = 10.0, samples: int = 20_001, rtol: float = 1e-9, seed: int = 0
) -> Verdict:
    """Derived convexity at the landscape's values against dense curvature evaluation.

    The smallest Hessian eigenvalue is evaluated on the sample points of
    ``_curvature_samples`` (seeded). Fails when: the derivation says *convex* and a sampled
    eigenvalue is negative; it says *not convex* but its witness has no negative curvature,
    or (without a witness) no sampled point has; a certified or closed-form lower bound on
    ``inf f''`` lies above a sampled value; or the symbolic condition, evaluated at the
    values, disagrees with the status at the values. ``unknown`` contradicts nothing.
    """
    conv = convexity(land)
    at = conv.at_values
    if at is None:
        raise ValueError("convexity_matches_curvature needs every hyperparameter value")
    pts = _curvature_samples(land, window, samples, seed)
    eig = np.linalg.eigvalsh(_hessians(land, pts)).min(-1)
    finite = np.isfinite(eig)
    if not finite.all():
        raise ValueError(f"the Hessian is not finite at {pts[~finite][0].tolist()}")
    i = int(np.argmin(eig))
    low, where = float(eig[i]), pts[i].tolist()
    tol = rtol * max(1.0, float(np.max(np.abs(eig))))
    problems, notes = [], []
    if at.status == "convex" and low < -tol:
        problems.append(f"derived convex, but the curvature is {low:.6g} at x = {where}")
    if at.status == "not convex":
        if at.witness is not None:
            w = np.full((1, land.dim), float(at.witness)) if land.dim == 1 else None
            wc = None if w is None else float(np.linalg.eigvalsh(_hessians(land, w)).min())
            if wc is not None and wc > tol:
                problems.append(f"derived not convex, but f'' = {wc:.6g} > 0 at the witness")
        elif low >= -tol:
            # Negative curvature may lie beyond any window (eps*x**2*cos(x) with tiny eps):
            # without a witness the samples cannot refute the claim.
            notes.append(f"no negative curvature sampled for |x| <= {100 * window:g}")
    bound = at.lower_bound
    if bound is None and at.method == "closed form" and at.min_curvature is not None:
        bound = at.min_curvature
    if bound is not None and low < bound - tol:
        problems.append(f"derived inf f'' >= {bound:.6g}, but f'' = {low:.6g} at x = {where}")
    if conv.condition is not None and at.status != "unknown":
        holds = conv.condition.subs(_symbol_values(land))
        if holds in (sympy.true, sympy.false) and bool(holds) != (at.status == "convex"):
            problems.append(f"the condition {conv.condition} gives {holds}, the status {at.status}")
    why = (
        "; ".join(problems)
        if problems
        else "; ".join(
            [f"derived {at.status} ({at.method}); sampled min curvature {low:.6g} at x = {where}"]
            + notes
        )
    )
    return require(
        Verdict(
            "derived convexity agrees with dense curvature",
            {"min_curvature": low, "at": where, "points": int(pts.shape[0])},
            {"status": at.status, "method": at.method, "lower_bound": bound},
            tol,
            not problems,
            why,
        )
    )


# ------------------------------------------------------------------------- fixed points


def _exact_fixed_points(land: Landscape) -> tuple:
    shape = Landscape(land.expr, land.variables, land.hyperparameters, domains=land.domains)
    return _EXACT_FIXED_POINTS(land, lambda: tuple(fixed_points(shape, numeric=False)))


def _number(e, values: dict) -> float:
    v = as_expression(e).subs(values)
    try:
        return float(v)
    except TypeError:
        return math.nan


def _symbol_values(land: Landscape) -> dict:
    # The landscape's own (real) symbols: a plain Symbol("eps") would not match them.
    return dict(zip(land.hyperparameters, land.parameter_values(), strict=True))


def stable_intervals(land: Landscape) -> list[tuple[tuple[float, ...], tuple[float, float]]]:
    """``[(location, (0, s_max))]`` for the exact fixed points of GD on ``land`` that are
    linearly stable for some learning rate at the landscape's values (floats)."""
    values = _symbol_values(land)
    out = []
    for p in _exact_fixed_points(land):
        if p.stable_for is None:
            continue
        if not all(_number(h, values) > 0 for h in p.curvatures):
            continue
        hi = _number(p.stable_for[1], values)
        if math.isfinite(hi) and hi > 0:
            out.append((tuple(_number(c, values) for c in p.location), (0.0, hi)))
    return out


def _jacobian_fd(land: Landscape, x: np.ndarray, h: float = 1e-6) -> np.ndarray:
    """Hessian at ``x`` by central differences of the gradient: no symbolic curvature."""
    grad = numpy_kernels(land).grad  # cached per expression
    params = land.parameter_values()
    d = land.dim
    cols = []
    for j in range(d):
        e = np.zeros(d)
        e[j] = h * max(1.0, abs(x[j]))
        up = np.asarray(grad(np.asarray(x + e, np.float64)[None], params)[0], dtype=np.float64)
        dn = np.asarray(grad(np.asarray(x - e, np.float64)[None], params)[0], dtype=np.float64)
        cols.append((up - dn) / (2 * e[j]))
    return np.stack(cols, -1)


def fixed_points_stable_on_interval(land: Landscape, delta: float = 1e-4) -> Verdict:
    """Every exact fixed point is linearly stable exactly on its derived interval.

    The Hessian at the point is measured by central differences of the gradient; the GD
    multipliers ``1 - s h_i`` are checked inside the interval (``s = k/10 s_max`` and
    ``(1 - delta) s_max``: all ``|1 - s h| < 1``) and outside (``(1 + delta) s_max``,
    ``1.5 s_max``: some ``|1 - s h| > 1``); a point derived unstable must have a measured
    curvature ``<= 0`` (within the difference error).
    """
    values = _symbol_values(land)
    points = _exact_fixed_points(land)
    problems, checked = [], 0
    for p in points:
        loc = np.array([_number(c, values) for c in p.location], dtype=np.float64)
        if not np.all(np.isfinite(loc)):
            continue
        checked += 1
        hs = np.linalg.eigvalsh((lambda a: (a + a.T) / 2)(_jacobian_fd(land, loc)))
        hi = None if p.stable_for is None else _number(p.stable_for[1], values)
        curv_ok = all(_number(h, values) > 0 for h in p.curvatures)
        if hi is None or not curv_ok or not hi > 0:
            if hs.min() > 1e-6 * max(1.0, abs(hs).max()):
                problems.append(f"x* = {loc.tolist()}: derived unstable, measured curvature {hs}")
            continue
        for s in [k / 10 * hi for k in range(1, 10)] + [(1 - delta) * hi]:
            if np.max(np.abs(1 - s * hs)) >= 1:
                problems.append(f"x* = {loc.tolist()}: unstable at s = {s:.6g} < s_max = {hi:.6g}")
                break
        for s in ((1 + delta) * hi, 1.5 * hi):
            if np.max(np.abs(1 - s * hs)) <= 1:
                problems.append(f"x* = {loc.tolist()}: stable at s = {s:.6g} > s_max = {hi:.6g}")
                break
    why = "; ".join(problems) or (
        f"{checked} fixed point(s): measured multipliers inside (-1, 1) exactly on the derived "
        f"intervals (to a relative {delta:g} at the end point)"
    )
    return require(
        Verdict(
            "fixed points stable exactly on their derived interval",
            {"points": checked},
            [None if p.stable_for is None else str(p.stable_for[1]) for p in points],
            delta,
            not problems,
            why,
        )
    )


# --------------------------------------------------------------------- renormalization


def _orbit(land: Landscape, values: dict, x0, s: float, steps: int) -> np.ndarray:
    k = numpy_kernels(land)
    params = tuple(values[n] for n in land.parameter_names)
    x = np.atleast_1d(np.asarray(x0, dtype=np.float64))[None, :]
    out = [x[0]]
    with np.errstate(all="ignore"):
        for _ in range(steps):
            x = k.step(x, np.array([s]), params)
            out.append(x[0])
    return np.array(out)


def renormalization_maps_orbits(
    land: Landscape,
    b: float,
    x0: ArrayLike,
    s: float,
    steps: int = 30,
    rtol: float | None = None,
) -> Verdict:
    """GD from ``x0`` equals ``b`` times GD from ``x0/b`` on the rescaled hyperparameters.

    Uses :func:`~trainability.analytic.rescaled` (``p -> p / b**a``) and the NumPy step at
    the same learning rate ``s``. For ``b`` a power of two every rescaling is exact in
    float64 and the orbits must agree bit for bit (``rtol`` defaults to 0); otherwise the
    rounding of the rescaled inputs is amplified along the orbit, so ``rtol`` defaults to a
    first-order error bound: the product of ``max(1, |GD multiplier|)`` along the orbit
    times 64 ulp, and steps after that bound exceeds ``1e-3`` are not compared.
    """
    if not renormalization(land).exists:
        raise ValueError(f"{land.expr} has no scaling symmetry x -> b*x")
    if not b > 0:
        raise ValueError(f"b must be > 0, got {b}")
    from ._sweeps import initial_point

    x0 = initial_point(land, x0)
    new_values, new_x0 = rescaled(land, b, x0=x0)
    a = _orbit(land, land.value_dict, x0, s, steps)
    c = b * _orbit(land, new_values, new_x0, s, steps)
    exact = math.frexp(b)[0] == 0.5
    if rtol is not None:
        tols = np.full(steps + 1, rtol)
    elif exact:
        tols = np.zeros(steps + 1)
    else:
        tols = 64 * np.finfo(np.float64).eps * np.cumprod(_growth(land, a, s))
    scale = np.maximum(1.0, np.abs(a).max(-1))
    live = np.all(np.isfinite(a), -1) & (tols <= 1e-3)
    with np.errstate(invalid="ignore"):  # inf - inf after divergence: those steps are not live
        err = np.abs(a - c).max(-1) / scale
    bad = np.nonzero(live & ~(err <= tols))[0]
    compared = int(np.count_nonzero(live))
    if bad.size:
        k = int(bad[0])
        why = f"step {k}: x_k = {a[k].tolist()} but b * y_k = {c[k].tolist()} (b = {b:g})"
    else:
        why = f"orbits agree over {compared} step(s) at s = {s:g}, b = {b:g}" + (
            " bit for bit" if exact and rtol is None else ""
        )
    return require(
        Verdict(
            "renormalization maps orbits onto orbits",
            {"compared_steps": compared, "max_error": float(np.max(err[live], initial=0.0))},
            "x_k = b * y_k",
            float(tols[live].max(initial=0.0)),
            not bad.size,
            why,
        )
    )


def _growth(land: Landscape, orbit: np.ndarray, s: float) -> np.ndarray:
    """Per-step factor of the carried relative error: ``max(1, |1 - s h|)`` (largest
    multiplier) plus 1 for the step's own rounding, an over-bound that stays first order."""
    hs = np.linalg.eigvalsh(_hessians(land, np.nan_to_num(orbit)))
    grow = np.maximum(1.0, np.abs(1 - s * hs).max(-1))
    return np.concatenate([[1.0], grow[:-1]]) + 1.0


# -------------------------------------------------------------------- sweeps and regions


def no_fractal_boundary_when_convex(
    land: Landscape,
    x0: ArrayLike = 1.0,
    *,
    levels: int = 12,
    steps: int = 200,
    lr_max: float = 1.5,
    backend: str = "auto",
    low: float = 0.1,
    require_convex: bool = True,
) -> Verdict:
    """On the convex side the trainability boundary is not fractal (small sweep).

    Sweeps ``2**levels + 1`` learning rates in ``[0, lr_max]`` (``steps`` GD steps from
    ``x0``) and fails when the boundary is *resolved* (at least ``MIN_BOUNDARIES`` boundaries
    at the finest level, ``B_N >= 2`` on 3 levels: see
    :func:`~trainability.verify.transition_verdict`) with fitted dimension ``>= low``.
    ``require_convex`` refuses (``ValueError``) a landscape not certified convex at its values.
    """
    from ._sweeps import sweep_landscape
    from ._transition import MIN_BOUNDARIES, _resolved

    at = convexity(land).at_values
    if require_convex and (at is None or at.status != "convex"):
        status = "no values" if at is None else at.status
        raise ValueError(f"not on the convex side ({status}): the premise does not hold")
    result = sweep_landscape(land, x0, levels=levels, steps=steps, lr_max=lr_max, backend=backend)
    counts = result.boundary_counts.tolist()
    fit = result.fit
    resolved = _resolved({"boundary_counts": counts}, MIN_BOUNDARIES)
    fractal = resolved and fit.dimension >= low
    why = (
        f"fractal boundary: dimension {fit.dimension:.3g} +- {fit.stderr:.2g}, counts {counts}"
        if fractal
        else f"boundary counts {counts} (dimension {fit.dimension:.3g}): not fractal"
    )
    return require(
        Verdict(
            "no fractal boundary on the convex side",
            {"boundary_counts": counts, "dimension": fit.dimension, "resolved": resolved},
            f"dimension < {low}",
            low,
            not fractal,
            why,
        )
    )


def alpha_beta_holds(
    fs: FiniteSum, alpha: float, beta: float, samples: int = 2**10, seed: int = 0
) -> Verdict:
    """The alpha-beta condition at ``(alpha, beta)`` on sampled points of the example's box
    (numeric evidence, not a proof: the sampled worst slack, re-evaluated at 50 digits, by
    :func:`~trainability.verify.check_alpha_beta`)."""
    from ._alphabeta import check_alpha_beta

    return require(check_alpha_beta(fs, alpha, beta, samples=samples, seed=seed))


def margins_monotone_after_phase_change(
    data: ClassificationData,
    eta: float,
    steps: int,
    width: int = 2,
    seed: int = 0,
    tol: float = 0.05,
    init_scale: float = 1.0,
) -> Verdict:
    """After the phase change (stable phase, data fitted) the risk never increases and the
    normalized margin is nearly monotone (two-layer network trained with stepsize ``eta``:
    :func:`~trainability.verify.large_stepsize_experiment`)."""
    from ._large_stepsize import large_stepsize_experiment

    res = large_stepsize_experiment(
        data, [eta], steps, width=width, seed=seed, margin_tol=tol, init_scale=init_scale
    )
    risk, margin = res.verdicts[0][0], res.verdicts[0][1]
    require(risk)
    return require(margin)
