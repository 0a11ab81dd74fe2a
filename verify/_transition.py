"""The fractal transition: boundary dimension against roughness, checked at the derived
critical value (Liu 2024: fractal iff non-convex)."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import sympy
from numpy.typing import ArrayLike

from trainability.analytic import CriticalInvariant, Landscape, critical_invariant, symbol
from trainability.numeric import GridResult, grid_sweep

from ._sweeps import backend_name, sweep_backend, sweep_protocol
from ._verdict import Verdict

__all__ = [
    "critical_record",
    "roughness_values",
    "grid_records",
    "grid_protocol",
    "grid_run",
    "sweep_points",
    "transition_verdict",
    "roughness_plot",
    "MIN_BOUNDARIES",
]

#: A point is *resolved* when ``B_N`` at the finest level reaches this (see ``transition_verdict``).
MIN_BOUNDARIES = 16


def critical_record(crit: CriticalInvariant | None) -> dict[str, Any] | None:
    """JSON form ``{"invariant", "value", "numeric", "convex_when", "exact"}`` of a
    :class:`~trainability.analytic.CriticalInvariant` (``None`` stays ``None``)."""
    if crit is None:
        return None
    return {
        "invariant": str(crit.invariant),
        "value": str(crit.value),
        "numeric": float(crit.value),
        "convex_when": crit.convex_when,
        "exact": crit.exact,
    }


def roughness_values(land: Landscape, params: np.ndarray) -> np.ndarray | None:
    """The critical invariant (roughness) of ``land`` at each row of ``params`` ``(cells, P)``.

    ``None`` when convexity of ``land`` does not depend on a single invariant.
    """
    crit = critical_invariant(land)
    if crit is None:
        return None
    syms = [symbol(n) for n in land.parameter_names]
    f = sympy.lambdify(syms, crit.invariant, modules="numpy")
    params = np.asarray(params, dtype=np.float64)
    out = f(*[params[:, j] for j in range(params.shape[1])])
    return np.broadcast_to(np.asarray(out, dtype=np.float64), (params.shape[0],)).copy()


def grid_records(
    land: Landscape, result: GridResult, extra: dict[str, Any] | None = None
) -> list[dict[str, Any]]:
    """Per-cell records ``{params..., "roughness", "dimension", "dimension_stderr",
    "boundary_counts", "resolved"}`` (``x0`` too in one dimension; ``extra`` adds columns)."""
    rough = roughness_values(land, result.params)
    points = []
    for i in range(result.n_cells):
        point = {n: float(result.params[i, j]) for j, n in enumerate(land.parameter_names)}
        if result.x0.shape[1] == 1:
            point["x0"] = float(result.x0[i, 0])
        point["roughness"] = None if rough is None else float(rough[i])
        point["dimension"] = float(result.dimension[i])
        point["dimension_stderr"] = float(result.dimension_stderr[i])
        point["boundary_counts"] = result.boundary_counts[i].tolist()
        point["resolved"] = _resolved(point, MIN_BOUNDARIES)
        for key, values in (extra or {}).items():
            point[key] = values[i]
        points.append(point)
    return points


def grid_protocol(result: GridResult, dtype: str = "float64") -> dict[str, Any]:
    """The ``protocol`` block (:func:`~trainability.verify.sweep_protocol`) of a grid sweep."""
    x0 = result.x0[0] if np.all(result.x0 == result.x0[0]) else result.x0
    return sweep_protocol(
        steps=result.steps,
        bound=result.bound,
        lr_min=result.lr_min,
        lr_max=result.lr_max,
        x0=x0,
        dtype=dtype,
        levels=result.levels,
        fit_levels=[list(f.levels) for f in result.fits],
        criterion=result.criterion,
    )


def grid_run(result: GridResult, dtype: str = "float64") -> dict[str, Any]:
    """``{"backend", "protocol", "seconds", "learning_rates_per_second"}`` of a grid sweep."""
    return {
        "backend": result.backend,
        "protocol": grid_protocol(result, dtype),
        "seconds": result.seconds,
        "learning_rates_per_second": result.labels.size / max(result.seconds, 1e-9),
    }


def sweep_points(
    land: Landscape,
    params: np.ndarray,
    x0: ArrayLike,
    *,
    levels: int,
    steps: int = 1000,
    bound: float = 1e8,
    lr_min: float = 0.0,
    lr_max: float = 1.5,
    progress: bool = True,
    backend: str = "auto",
    criterion: str = "max",
) -> tuple[list[dict[str, Any]], GridResult]:
    """Grid sweep of ``land`` over hyperparameter rows ``params`` ``(cells, P)``.

    ``backend`` is one of :data:`~trainability.verify.BACKENDS` (``"auto"``: the compiled
    ``c-poly`` kernel when a C compiler works, else JAX); the returned result's ``backend``
    names the engine actually used; ``criterion`` is the divergence rule (``"max"`` or
    ``"sum"``, see :func:`~trainability.numeric.lr_sweep`).
    """
    lg, resolved = sweep_backend(land, backend)
    result = grid_sweep(
        lg,
        params,
        x0,
        levels=levels,
        steps=steps,
        bound=bound,
        lr_min=lr_min,
        lr_max=lr_max,
        progress=progress,
        backend=resolved,
        criterion=criterion,
    )
    result = dataclasses.replace(result, backend=backend_name(backend, resolved))
    return grid_records(land, result), result


def transition_verdict(
    points: Sequence[dict[str, Any]],
    critical: float,
    convex_when: str = "below",
    *,
    low: float = 0.1,
    high: float = 0.3,
    factor: float = 2.0,
    min_boundaries: int = MIN_BOUNDARIES,
) -> Verdict:
    r"""Verdict: the onset of fractality sits at the derived critical roughness.

    ``measured`` holds the ``transition`` (geometric mean of the bracket), the ``bracket``,
    the number of ``unresolved`` points, and the failed conditions split into ``against``
    (the data contradict the prediction) and ``undecided`` (the grid cannot tell).

    Passes when (i) every resolved point on the convex side of ``critical`` has dimension
    ``< low``, (ii) every resolved point beyond :math:`\text{factor} \cdot \text{critical}` (the
    clearly non-convex side) has dimension ``> high``, and (iii) the measured transition — the
    bracket between the largest roughness with dimension ``< low`` and the smallest one above it
    that is resolved with dimension ``> high`` — lies within
    :math:`[\text{critical}, \text{factor} \cdot \text{critical}]` (fractality cannot start before
    convexity is lost; finite resolution delays it slightly).

    A point is resolved when its ``boundary_counts`` (if given) reach ``min_boundaries`` at
    the finest level over at least 3 levels with :math:`B_N \ge 2`. A handful of boundaries is
    not a dimension estimate either way: a fractal boundary whose structure is finer than
    the grid looks like a few isolated points, and a smooth (convex) loss can have a few
    boundaries whose counts, fitted over 3 levels such as ``3, 5, 5``, give a slope of 0.4.
    So unresolved points are reported, never failed, and never mark the onset.
    """
    if convex_when != "below":
        raise ValueError("transition_verdict handles convex_when='below' only")
    if not points:
        raise ValueError("transition_verdict needs at least one point")
    rough = np.array([p["roughness"] for p in points], dtype=float)
    dims = np.array([p["dimension"] for p in points], dtype=float)
    resolved = np.array([_resolved(p, min_boundaries) for p in points], dtype=bool)
    order = np.argsort(rough)
    rough, dims, resolved = rough[order], dims[order], resolved[order]
    convex_side = rough <= critical
    clear_side = rough > factor * critical
    fractal = (dims > high) & resolved
    flat = dims < low
    first_fractal = rough[fractal].min() if fractal.any() else math.inf
    below_first = flat & (rough < first_fractal)
    last_flat = rough[below_first].max() if below_first.any() else -math.inf
    bracket = [float(last_flat), float(first_fractal)]
    if np.isfinite(bracket).all():
        measured = math.sqrt(bracket[0] * bracket[1]) if bracket[0] > 0 else bracket[1]
    else:
        measured = None
    against, undecided = [], []  # evidence against the prediction / missing evidence
    if (convex_side & ~flat & resolved).any():
        bad = rough[convex_side & ~flat & resolved]
        against.append(f"dimension >= {low} at convex roughness {bad.min():.4g}")
    if (clear_side & resolved & ~fractal).any():
        bad = rough[clear_side & resolved & ~fractal]
        against.append(f"dimension <= {high} at non-convex roughness {bad.min():.4g}")
    if measured is None:
        undecided.append("no transition bracket (need points on both sides)")
    elif not (bracket[1] >= critical and bracket[0] <= factor * critical):
        against.append(
            f"transition bracket {bracket} is not within [{critical:.4g}, {factor * critical:.4g}]"
        )
    reasons = against + undecided
    passed = not reasons
    unresolved = int(np.count_nonzero(clear_side & ~resolved))
    unresolved_convex = int(np.count_nonzero(convex_side & ~resolved & ~flat))
    notes = []
    if unresolved:
        notes.append(f"{unresolved} non-convex point(s) unresolved at this level")
    if unresolved_convex:
        notes.append(
            f"{unresolved_convex} convex point(s) with a few boundaries (dimension >= {low}) "
            "unresolved at this level"
        )
    why = (
        f"dimension < {low} for every resolved convex point and > {high} for every resolved "
        f"point beyond {factor:g} x critical; the onset lies in {bracket}, next to the "
        f"prediction {critical:.4g}"
        if passed
        else "; ".join(reasons)
    )
    why = "; ".join([why, *notes])
    return Verdict(
        name="fractal onset at the critical roughness",
        measured={
            "transition": measured,
            "bracket": bracket,
            "unresolved": unresolved,
            "unresolved_convex": unresolved_convex,
            "against": against,
            "undecided": undecided,
        },
        predicted=float(critical),
        tolerance={"low": low, "high": high, "factor": factor, "min_boundaries": min_boundaries},
        passed=passed,
        why=why,
    )


def _resolved(point: dict[str, Any], min_boundaries: int) -> bool:
    counts = point.get("boundary_counts")
    if counts is None:
        return True
    counts = np.asarray(counts)
    return bool(counts[-1] >= min_boundaries and np.count_nonzero(counts >= 2) >= 3)


def roughness_plot(
    points: Sequence[dict[str, Any]],
    critical: float | None,
    label: str,
    path: str | Path,
    *,
    x_key: str = "roughness",
    log: bool = True,
) -> str:
    """Boundary dimension against ``x_key`` (roughness) with the derived critical line.

    Resolved points with error bars, unresolved ones hollow; ``critical`` ``None`` draws no
    line (no single critical invariant), ``0`` says "non-convex for every value > 0".
    Returns the figure's path.
    """
    from ._figures import plt, save_figure

    rough = np.array([p[x_key] for p in points], dtype=float)
    dim = np.array([p["dimension"] for p in points])
    err = np.array([p["dimension_stderr"] for p in points])
    ok = np.array([_resolved(p, MIN_BOUNDARIES) for p in points], dtype=bool)
    fig, ax = plt.subplots(figsize=(4.4, 3.4))
    ax.errorbar(rough[ok], dim[ok], yerr=err[ok], fmt="o", ms=3, lw=0.8, label="resolved")
    if (~ok).any():
        ax.plot(
            rough[~ok],
            dim[~ok],
            "o",
            ms=3,
            mfc="none",
            color="0.5",
            label=f"unresolved ($B_N$ < {MIN_BOUNDARIES} at the finest level)",
        )
    if critical is None:
        ax.plot([], [], " ", label="no single critical invariant derived")
    elif critical > 0:
        ax.axvline(critical, color="C3", ls="--", label=f"derived critical {critical:.4g}")
    else:
        ax.plot([], [], " ", label="derived: non-convex for every value > 0")
    if log:
        from matplotlib.ticker import FormatStrFormatter, LogLocator, NullFormatter

        ax.set_xscale("log")
        # A grid spans about a decade: label 1, 2, 5 x 10^k, leave the minor ticks bare.
        ax.xaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
        ax.xaxis.set_major_formatter(FormatStrFormatter("%g"))
        ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel(label)
    ax.set_ylabel("boundary dimension")
    ax.set_ylim(-0.05, max(1.45, float(np.max(dim + err)) + 0.3))  # room for the legend
    ax.legend(frameon=False, fontsize=8, loc="upper left")
    return save_figure(fig, path)
