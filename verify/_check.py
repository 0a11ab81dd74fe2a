"""From a new perturbation to a verdict: derive its critical roughness, measure the
boundary dimension on a grid around it, and compare (``trainability check``)."""

from __future__ import annotations

import dataclasses
import json
import math
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import sympy

from trainability.analytic import (
    ExpressionError,
    Landscape,
    convexity,
    critical_invariant,
    from_expression,
    symbol,
)
from trainability.numeric import (
    GridResult,
    Progress,
    parameter_grid,
    stored_lr_sweep,
    validate_sweep_arguments,
)

from ._sweeps import _identity, backend_name, initial_point, sweep_backend
from ._transition import (
    MIN_BOUNDARIES,
    _resolved,
    critical_record,
    grid_records,
    grid_run,
    roughness_plot,
    transition_verdict,
)

__all__ = ["check_perturbation", "perturbation_verdict", "DEFAULT_OUT"]

#: Liu's (eps, lam) sweeps start at x0 = 5 (gpuexp-4-2.py); 2^16 + 1 learning rates per cell
#: resolve the fractal side from about twice the critical roughness.
DEFAULT_X0 = 5.0
DEFAULT_LEVELS = 16
#: Automatic grid: this many log-spaced roughness values in [critical/SPAN, SPAN*critical].
#: An even count puts no point exactly on the critical value.
DEFAULT_POINTS = 12
SPAN = 4.0
MAX_CELLS = 4096
VARY_POINTS = (2, 256)  # points per --vary axis
LOW, HIGH, FACTOR = 0.1, 0.3, 2.0  # "dimension 0" below LOW, "fractal" above HIGH
MIN_RESOLVED = 2  # resolved non-convex points needed before a verdict can pass
DEFAULT_OUT = Path("trainability-runs") / "check"


def perturbation_verdict(
    points: list[dict[str, Any]],
    critical: float | None,
    convex_when: str = "below",
    *,
    low: float = LOW,
    high: float = HIGH,
    factor: float = FACTOR,
    min_boundaries: int = MIN_BOUNDARIES,
    min_resolved: int = MIN_RESOLVED,
) -> dict[str, Any]:
    """Map measured points onto ``{"status", "why", "onset": {"bracket", "measured"}}``.

    ``status`` is ``"passed"`` when :func:`~trainability.verify.transition_verdict` passes
    and at least ``min_resolved`` resolved points lie on the non-convex side; ``"failed"``
    when the data contradict the prediction (dimension >= ``low`` at a convex point, a
    resolved point beyond ``factor * critical`` with dimension <= ``high``, or an onset
    bracket outside ``[critical, factor * critical]``); ``"inconclusive"`` otherwise (no
    critical value, convex above it, or a grid that cannot decide: one side missing, too
    few resolved points). ``critical == 0`` (non-convex for every value > 0) expects every
    resolved point with positive roughness to be fractal.
    """
    onset = {"bracket": None, "measured": None}
    if critical is None:
        return {"status": "inconclusive", "why": "no critical value", "onset": onset}
    if convex_when != "below":
        why = (
            f"convex when the roughness is above {critical:.4g}: the onset test covers "
            "losses that are convex below a critical value only"
        )
        return {"status": "inconclusive", "why": why, "onset": onset}
    rough = np.array([p["roughness"] for p in points], dtype=float)
    dims = np.array([p["dimension"] for p in points], dtype=float)
    resolved = np.array([_resolved(p, min_boundaries) for p in points], dtype=bool)
    nonconvex = rough > critical
    n_resolved = int(np.count_nonzero(resolved & nonconvex))
    if critical == 0:
        flat = rough[nonconvex & resolved & (dims <= high)]
        if flat.size:
            why = f"derived never convex, but dimension <= {high} at {flat.min():.4g}"
            return {"status": "failed", "why": why, "onset": onset}
        if n_resolved < min_resolved:
            why = f"only {n_resolved} resolved point(s) (need {min_resolved}): raise --levels"
            return {"status": "inconclusive", "why": why, "onset": onset}
        why = f"every resolved point has dimension > {high}, as derived (never convex)"
        return {"status": "passed", "why": why, "onset": onset}
    v = transition_verdict(
        points, critical, low=low, high=high, factor=factor, min_boundaries=min_boundaries
    )
    measured = v.measured["transition"]
    if measured is not None:
        onset = {"bracket": v.measured["bracket"], "measured": measured}
    if v.passed and n_resolved >= min_resolved:
        return {"status": "passed", "why": v.why, "onset": onset}
    if v.measured["against"]:
        return {"status": "failed", "why": "; ".join(v.measured["against"]), "onset": onset}
    undecided = list(v.measured["undecided"])
    if n_resolved < min_resolved:
        undecided.append(
            f"only {n_resolved} resolved non-convex point(s) (need {min_resolved}): "
            "raise --levels or extend the grid"
        )
    return {"status": "inconclusive", "why": "; ".join(undecided), "onset": onset}


def _landscape(expr: str | Landscape, params: Mapping[str, float], dim: int | None) -> Landscape:
    if isinstance(expr, Landscape):
        return expr.with_values(params)
    if not isinstance(expr, str):
        raise ExpressionError(f"expected a loss expression or a Landscape, got {type(expr)}")
    return from_expression(expr, params, dim=dim)


def _axis(name: str, spec) -> np.ndarray:
    """``(lo, hi, n)`` (integer ``n``) -> ``n`` log-spaced values; else explicit values."""
    if isinstance(spec, tuple | list) and len(spec) == 3 and isinstance(spec[2], int):
        lo, hi, n = float(spec[0]), float(spec[1]), spec[2]
        if not VARY_POINTS[0] <= n <= VARY_POINTS[1]:
            raise ValueError(f"vary {name}: N must be in {VARY_POINTS[0]}..{VARY_POINTS[1]}")
        if not (math.isfinite(lo) and math.isfinite(hi) and 0 < lo < hi):
            raise ValueError(f"vary {name}: need 0 < LO < HI (log spacing), got {lo}:{hi}")
        return np.geomspace(lo, hi, n)
    values = np.asarray(spec, dtype=np.float64).ravel()
    if values.size == 0 or not np.all(np.isfinite(values)):
        raise ValueError(f"vary {name}: need at least one finite value")
    return values


def _solve_for(invariant: sympy.Expr, name: str, fixed: Mapping[str, float], targets):
    """Values of hyperparameter ``name`` that give ``invariant == target`` for each target
    (the others at ``fixed``), from the one positive solution of the symbolic equation."""
    p, t = sympy.Symbol(name, positive=True), sympy.Symbol("t", positive=True)
    expr = invariant.xreplace({symbol(name): p}).subs(
        {symbol(k): sympy.Float(v) for k, v in fixed.items()}
    )
    sols = [s for s in sympy.solve(sympy.Eq(expr, t), p) if s.free_symbols <= {t}]
    if len(sols) != 1:
        raise ValueError(
            f"cannot solve {invariant} = target for {name} uniquely; give the grid with --vary"
        )
    f = sympy.lambdify(t, sols[0], modules="numpy")
    values = np.array([float(f(float(x))) for x in targets])
    if not np.all(np.isfinite(values) & (values > 0)):
        raise ValueError(f"solving {invariant} = target for {name} gave no positive value")
    return values


def _automatic_axis(crit, fixed: Mapping[str, float], points: int) -> dict[str, np.ndarray]:
    """One hyperparameter of the invariant, not fixed, on values spanning the critical one."""
    value = float(crit.value)
    if not (math.isfinite(value) and value > 0):
        raise ValueError(
            f"the critical value of {crit.invariant} is {crit.value}: no scale to span; "
            "give the grid with --vary NAME=LO:HI:N"
        )
    names = sorted(s.name for s in crit.invariant.free_symbols)
    free = [n for n in names if n not in fixed]
    if len(free) != 1:
        which = "every one is fixed" if not free else f"{', '.join(free)} are free"
        raise ValueError(
            f"the automatic grid varies one hyperparameter of the invariant {crit.invariant} "
            f"({which}): fix all but one with --param NAME=VALUE, or use --vary"
        )
    targets = np.geomspace(value / SPAN, value * SPAN, points)
    return {free[0]: _solve_for(crit.invariant, free[0], fixed, targets)}


def stored_cells(
    land: Landscape,
    values: np.ndarray,
    x0: np.ndarray,
    store: str | Path,
    *,
    levels: int,
    steps: int,
    bound: float,
    backend: str = "auto",
    resume: bool = False,
    progress: bool = False,
) -> tuple[GridResult, dict[str, int]]:
    """One learning-rate sweep per hyperparameter row of ``values`` ``(cells, P)``, each
    streamed into the result store ``store`` (:func:`~trainability.numeric.stored_lr_sweep`,
    ``2**levels + 1`` learning rates in ``[0, 1.5]`` from ``x0`` ``(d,)``).

    The kernel is resolved once and the loss's identity excludes the values (they are the
    sweep's ``params``), so every cell is one content-addressed sweep of the same kernel. With
    ``resume`` the valid chunks of an interrupted run are reused and the result is identical
    to an uninterrupted one. Returns the cells as a :class:`~trainability.numeric.GridResult`
    and ``{"chunks_computed", "chunks_reused"}``.
    """
    lg, resolved = sweep_backend(land, backend)
    identity = _identity(land, backend, resolved)
    n_points = 2**levels + 1
    meter = Progress(len(values) * n_points, "check", "learning rates", enabled=progress)
    labels, chunks = [], {"chunks_computed": 0, "chunks_reused": 0}
    t0 = time.perf_counter()
    for row in values:
        r = stored_lr_sweep(
            lg,
            x0,
            row,
            out=store,
            identity=identity,
            levels=levels,
            steps=steps,
            bound=bound,
            backend=resolved,
            resume=resume,
            # One chunk per cell up to 2**18 learning rates: the compiled kernel runs a cell
            # in one call (small chunks cost it twice the time), and a cell is the resume unit.
            chunk_size=min(n_points, 2**18),
        )
        labels.append(r.labels())
        chunks["chunks_computed"] += r.chunks_computed
        chunks["chunks_reused"] += r.chunks_reused
        meter.update(n_points)
    result = GridResult(
        np.asarray(values, dtype=np.float64),
        np.tile(np.asarray(x0, dtype=np.float64), (len(values), 1)),
        np.stack(labels),
        int(levels),
        0.0,
        1.5,
        int(steps),
        float(bound),
        time.perf_counter() - t0,
        backend_name(backend, resolved),
    )
    return result, chunks


def _note(progress: bool, text: str) -> None:
    if progress:
        print(f"trainability check: {text}", file=sys.stderr)


def check_perturbation(
    expr_or_landscape: str | Landscape,
    params: Mapping[str, float] | None = None,
    vary: Mapping[str, tuple[float, float, int] | Sequence[float]] | None = None,
    *,
    x0: float | Sequence[float] = DEFAULT_X0,
    levels: int = DEFAULT_LEVELS,
    steps: int = 1000,
    bound: float = 1e8,
    backend: str = "auto",
    out: str | Path = DEFAULT_OUT,
    points: int = DEFAULT_POINTS,
    dim: int | None = None,
    progress: bool = True,
    resume: bool = False,
) -> dict[str, Any]:
    """Derive a loss's critical roughness, measure the boundary dimension around it, compare.

    Args:
        expr_or_landscape: loss text (in ``x`` or ``x1..xd`` and hyperparameters) or a
            :class:`~trainability.analytic.Landscape`.
        params: fixed hyperparameter values.
        vary: ``{name: (lo, hi, n)}`` (``n`` log-spaced values, integer ``n``) or
            ``{name: values}``; the grid is the product. Default: one hyperparameter of the
            critical invariant that ``params`` leaves free, on ``points`` values that put
            the invariant log-spaced in ``[critical/4, 4*critical]``.
        x0: initial point (a number, or ``d`` numbers). levels: finest level (``2**levels
            + 1`` learning rates in ``[0, 1.5]`` per cell). steps, bound: the protocol.
        backend: one of :data:`~trainability.verify.BACKENDS` (``"auto"``: ``c-poly`` if a C
            compiler works, else ``jax``).
        out: folder for ``dimension_vs_roughness.png``, ``summary.json`` and ``store/``, the
            result store of the cell sweeps (one
            :func:`~trainability.numeric.stored_lr_sweep` per cell).
        resume: reuse the valid chunks an interrupted run left in ``out/store`` (the result
            is identical to an uninterrupted run); without it every chunk is recomputed.

    Returns:
        ``{"expression", "condition", "critical_invariant" ({"invariant", "value",
        "numeric", "convex_when"} or None), "points" ([{params..., "roughness",
        "dimension", "dimension_stderr", "boundary_counts", "resolved"}]), "onset"
        ({"bracket", "measured"}), "verdict" ({"status", "why"}), "backend", "protocol",
        "figure", "grid", "store", "chunks_computed", "chunks_reused", "seconds"}``.
        ``status`` is ``"passed"``, ``"failed"`` or ``"inconclusive"``
        (:func:`perturbation_verdict`).

    Raises:
        ValueError: bad input (unknown or conflicting names, a grid that cannot be built).
    """
    validate_sweep_arguments(levels, 0.0, 1.5, steps, bound, "float64")  # bad input first
    params = dict(params or {})
    land = _landscape(expr_or_landscape, params, dim)
    theory = dataclasses.replace(land, values=())  # the general relation, not one point
    conv = convexity(theory)
    crit = critical_invariant(theory)
    record = critical_record(crit)
    fixed = land.value_dict
    if not isinstance(points, int) or not VARY_POINTS[0] <= points <= VARY_POINTS[1]:
        raise ValueError(f"points must be an integer in {VARY_POINTS[0]}..{VARY_POINTS[1]}")
    if vary:
        unknown = sorted(set(vary) - set(land.parameter_names))
        if unknown:
            raise ValueError(
                f"vary: {', '.join(unknown)} is not a hyperparameter of this loss "
                f"(it has: {', '.join(land.parameter_names) or 'none'})"
            )
        clash = sorted(set(vary) & set(params))
        if clash:
            raise ValueError(f"{', '.join(clash)} is both fixed (param) and varied (vary)")
        axes = {name: _axis(name, spec) for name, spec in vary.items()}
        fixed = {k: v for k, v in fixed.items() if k not in axes}
    elif crit is None:
        raise ValueError(
            "this loss has no single critical invariant (convexity: "
            f"{conv.condition_text()}); give the grid with --vary NAME=LO:HI:N"
        )
    else:
        axes = _automatic_axis(crit, fixed, points)
    missing = [n for n in land.parameter_names if n not in axes and n not in fixed]
    if missing:
        raise ValueError(f"{', '.join(missing)} needs a value: --param NAME=VALUE or --vary")
    names, cells = parameter_grid(**axes)
    if cells.shape[0] > MAX_CELLS:
        raise ValueError(f"the grid has {cells.shape[0]} cells (at most {MAX_CELLS})")
    rows = []
    for cell in cells:
        values = {**fixed, **dict(zip(names, map(float, cell), strict=True))}
        rows.append(land.with_values(values).parameter_values())  # checks domains
    values = np.array(rows, dtype=np.float64).reshape(len(rows), len(land.parameter_names))
    start = initial_point(land, x0)
    _note(
        progress,
        f"critical {record['invariant'] + ' = ' + record['value'] if record else 'none'}; "
        f"{len(rows)} cells x {2**levels + 1} learning rates",
    )
    out = Path(out)
    result, chunks = stored_cells(
        land,
        values,
        start,
        out / "store",
        levels=levels,
        steps=steps,
        bound=bound,
        backend=backend,
        resume=resume,
        progress=progress,
    )
    pts = grid_records(land, result)
    critical = None if record is None else record["numeric"]
    if record is None:
        verdict = {
            "status": "inconclusive",
            "why": f"no single critical invariant to compare with (convexity: "
            f"{conv.condition_text()}); the dimensions are measured",
            "onset": {"bracket": None, "measured": None},
        }
    else:
        verdict = perturbation_verdict(pts, critical, record["convex_when"])
    if record is not None:
        x_key, label = "roughness", f"roughness {record['invariant']}"
    else:
        x_key = label = names[0]
    run = grid_run(result)
    summary = {
        "expression": str(land.expr),
        "condition": conv.condition_text(),
        "critical_invariant": record,
        "points": pts,
        "onset": verdict.pop("onset"),
        "verdict": verdict,
        "backend": run.pop("backend"),
        "protocol": run.pop("protocol"),
        "figure": roughness_plot(
            pts, critical, label, out / "dimension_vs_roughness.png", x_key=x_key
        ),
        "grid": {
            "varied": {n: axes[n].tolist() for n in names},
            "fixed": fixed,
            "automatic": not vary,
        },
        "store": out / "store",
        **chunks,
        **run,
    }
    from ._cli import to_jsonable

    (out / "summary.json").write_text(json.dumps(to_jsonable(summary), indent=2))
    _note(progress, f"{verdict['status']}: {verdict['why']}")
    return summary
