"""Liu 2024, "Complex fractal trainability boundary can arise from trivial non-convexity":
one loss at fixed hyperparameters, the boundary of its learning rates.

Fig. 2a (additive), Fig. 2b (multiplicative): boundary counts ``B_N`` against ``N`` on a
log-log plot with the fitted dimension; Fig. S2: the pure quadratic, one boundary at s = 1;
Fig. S4/S5: the dimension for random initial points x0 ~ U(-5, 5); liu-label-robustness:
float64 boundary labels against mpmath references. The figures that scan hyperparameters
or the dimension d against derived theory are in :mod:`.liu_theory`.

Source scripts (github.com/liuyz0/FractalBoundary): ``exp-0.jl``/``exp-1.jl`` (one
x0 = 1 sweep, 1000 steps, divergent when the loss exceeds 1e8 at some step: the ``max``
criterion, bound 1e8) analysed by ``exp-0-analyze.py``/``exp-1-analyze.py`` (nested grids
up to 2^32). ``--quick`` runs 2^20 learning rates (a few seconds on the compiled engine),
where the fit already agrees with the paper's value; the default is 2^22.
"""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

import numpy as np
import sympy
from numpy.typing import ArrayLike

from trainability.analytic import family, gd_jacobian, learning_rate_symbol
from trainability.numeric import DimensionFit, boundary_counts, local_slopes

from .._comparison import comparison_entry
from .._figures import plt, save_figure
from .._options import number_option, quick_default_option, seed_option
from .._registry import reproduction
from .._robustness import label_robustness
from .._sweeps import backend_name, sweep_backend, sweep_landscape, sweep_run
from .._transition import grid_run, sweep_points
from ._liu import QUICK_LEVELS, X0_GRID, critical, levels_options

# Protocol of the headline single-curve results (reference file, "Protocol").
PROTOCOL: dict[str, Any] = {
    "eps": 0.2,
    "lam": 0.1,
    "x0": 1.0,
    "steps": 1000,
    "bound": 1e8,
    "lr_min": 0.0,
    "lr_max": 1.5,
}
PAPER_DIMENSION = {"additive": (0.996, 0.005), "multiplicative": (0.837, 0.004)}
FIG2_LEVELS, FIG2_QUICK_LEVELS = 22, 20
S2_FULL_LEVELS, S2_QUICK_LEVELS = 20, 16


def plot_boundary_counts(
    counts: ArrayLike, fit: DimensionFit, title: str, path: str | Path, paper: float | None = None
) -> str:
    """The paper's log-log plot of ``B_N`` against ``N`` with the fitted line."""
    counts = np.asarray(counts)
    n = np.arange(counts.size)
    fig, ax = plt.subplots(figsize=(4.2, 3.4))
    ax.loglog(2.0**n, np.maximum(counts, 0.5), "o", ms=4, label="$B_N$")
    if fit.levels:
        used = np.asarray(fit.levels)
        label = f"slope {fit.dimension:.3f} ± {fit.stderr:.3f}"
        ax.loglog(2.0**used, 2.0 ** (fit.intercept + fit.dimension * used), "-", label=label)
    if paper:
        ax.plot([], [], " ", label=f"paper {paper[0]:.3f} ± {paper[1]:.3f}")
    ax.set_xlabel("$N$ (grid size)")
    ax.set_ylabel("$B_N$ (boundary count)")
    ax.set_title(title)
    ax.legend(frameon=False, fontsize=8)
    return save_figure(fig, path)


def boundary_local_slopes(counts: ArrayLike) -> list[float | None]:
    """``log2(B_{2N} / B_N)`` between consecutive levels where ``B_N >= 2`` (else None).

    The box size of level ``n`` is ``1/N = 2**-n``, so these are the box-counting local slopes.
    """
    counts = np.asarray(counts, dtype=float)
    slopes = local_slopes(2.0 ** -np.arange(counts.size), counts)
    return [float(v) if counts[n] >= 2 and np.isfinite(v) else None for n, v in enumerate(slopes)]


def _fig2(kind: str, args) -> dict:
    levels = args.levels
    land = family(kind, eps=PROTOCOL["eps"], lam=PROTOCOL["lam"])
    result = sweep_landscape(
        land,
        PROTOCOL["x0"],
        levels=levels,
        steps=PROTOCOL["steps"],
        bound=PROTOCOL["bound"],
        lr_min=PROTOCOL["lr_min"],
        lr_max=PROTOCOL["lr_max"],
        progress=True,
        backend=args.backend,
    )
    fit = result.fit
    paper = PAPER_DIMENSION[kind]
    figure = plot_boundary_counts(
        result.boundary_counts,
        fit,
        f"{kind}, eps=0.2, lam=0.1",
        args.out / "boundary_counts.png",
        paper,
    )
    return {
        "dimension": fit.dimension,
        "dimension_stderr": fit.stderr,
        "paper_dimension": paper[0],
        "paper_dimension_stderr": paper[1],
        "levels": levels,
        "fit_levels": list(fit.levels),
        "boundary_counts": result.boundary_counts,
        # Slope between consecutive levels: shows where the asymptotic regime starts.
        "local_slopes": boundary_local_slopes(result.boundary_counts),
        **sweep_run(result, args.backend, [PROTOCOL["x0"]]),
        "learning_rates_per_second": result.n_points / result.seconds,
        "seconds": result.seconds,
        "figure": figure,
        "comparison": [
            comparison_entry(
                "boundary dimension",
                paper[0],
                fit.dimension,
                fit.stderr,
                paper_stderr=paper[1],
                note=f"OLS over levels {fit.levels[0] if fit.levels else '-'}.."
                f"{fit.levels[-1] if fit.levels else '-'} with B_N >= 2 (2^{levels} learning "
                "rates); the paper fits up to level 31. Agrees = within 2 combined standard "
                "errors.",
            )
        ],
    }


@reproduction("liu-fig2a", levels_options(FIG2_LEVELS, FIG2_QUICK_LEVELS))
def fig2a(args) -> dict:
    return _fig2("additive", args)


@reproduction("liu-fig2b", levels_options(FIG2_LEVELS, FIG2_QUICK_LEVELS))
def fig2b(args) -> dict:
    return _fig2("multiplicative", args)


def quadratic_finite_step_boundary(x0: float, steps: int, bound: float) -> float:
    """Learning rate above which GD on ``x**2`` exceeds ``bound`` within ``steps`` steps.

    Derived from the GD map: its Jacobian ``1 - 2 s`` (from the symbolic layer) is the exact
    multiplier, so ``f(x_T) = (1 - 2 s)**(2 T) x0**2``; the boundary solves
    ``(2 s - 1)**(2 T) x0**2 = bound`` with ``s > 1/2`` and tends to ``s = 1`` as ``T -> oo``.
    """
    land = family("quadratic")
    multiplier = gd_jacobian(land)[0, 0]  # 1 - 2*s, derived
    s = learning_rate_symbol()
    r = sympy.Rational(bound) / sympy.Rational(x0) ** 2
    roots = sympy.solve(sympy.Eq(-multiplier, r ** sympy.Rational(1, 2 * steps)), s)
    return float(roots[0])


@reproduction("liu-figS2", levels_options(S2_FULL_LEVELS, S2_QUICK_LEVELS))
def figS2(args) -> dict:
    levels = args.levels
    x0, steps, bound = PROTOCOL["x0"], PROTOCOL["steps"], PROTOCOL["bound"]
    result = sweep_landscape(
        family("quadratic"),
        x0,
        levels=levels,
        steps=steps,
        bound=bound,
        progress=True,
        backend=args.backend,
    )
    lrs = result.learning_rates()
    change = np.flatnonzero(result.labels[1:] != result.labels[:-1])
    segments = [[float(lrs[i]), float(lrs[i + 1])] for i in change]
    predicted = quadratic_finite_step_boundary(x0, steps, bound)
    # Boundary segment at each level n (one sweep gives every level): the pair of adjacent
    # level-n grid points whose labels differ.
    per_level = []
    for n in range(levels + 1):
        sub = result.labels[:: 2 ** (levels - n)]
        idx = np.flatnonzero(sub[1:] != sub[:-1])
        h = (result.lr_max - result.lr_min) / 2**n
        per_level.append([[result.lr_min + h * i, result.lr_min + h * (i + 1)] for i in idx])
    figure = plot_boundary_counts(
        result.boundary_counts, result.fit, "quadratic $x^2$", args.out / "boundary_counts.png"
    )
    return {
        "dimension": result.fit.dimension,
        "dimension_stderr": result.fit.stderr,
        "paper_dimension": 0.0,
        "levels": levels,
        "boundary_counts": result.boundary_counts,
        "boundary_segment": segments[0] if len(segments) == 1 else segments,
        "segments_per_level": per_level,
        "single_boundary": bool(np.all(result.boundary_counts == 1)),
        **sweep_run(result, args.backend, [x0]),
        "predicted_finite_step_boundary": predicted,
        "asymptotic_boundary": 1.0,
        "segment_contains_prediction": bool(
            len(segments) == 1 and segments[0][0] <= predicted < segments[0][1]
        ),
        "levels_whose_segment_contains_one": [
            n for n, seg in enumerate(per_level) if len(seg) == 1 and seg[0][0] <= 1.0 <= seg[0][1]
        ],
        "figure": figure,
    }


# ------------------------------------------------------------ Fig. S4/S5 random x0

#: Source (``exp-7.jl`` + ``exp-7.ipynb`` for S4, ``exp-6.jl`` + ``exp-6.ipynb`` for S5):
#: eps = 0.2, lam = 0.1, 1000 steps, divergent when the loss exceeds 1e8, 2^20 learning
#: rates, 100 "curves", slope of log2 B_N fitted by least squares over the fixed levels
#: n >= 11 (S4) / n >= 10 (S5), population standard deviation. Notebook outputs: S4 mean
#: 0.9829, sd 0.0789; S5 mean 1.0004, sd 0.0111.
RANDOM_X0: dict[str, Any] = {
    # count: curves per protocol by default, the source's 100 (num_init = 100) for both.
    # S4: 2 x 100 sweeps of 2^20 learning rates, about 600 s of CPU with c-poly (measured:
    # 24 s of CPU for 2 x 4 curves), about five minutes on two quiet cores.
    "additive": {
        "count": 100,
        "fit_from": 11,
        "paper_mean": 0.9828863239126885,
        "paper_sd": 0.07887207980410577,
    },
    "multiplicative": {
        "count": 100,
        "fit_from": 10,
        "paper_mean": 1.000357966832003,
        "paper_sd": 0.01114281217999579,
    },
}


def _x0_options(kind: str):
    return lambda parser: _x0_arguments(parser, RANDOM_X0[kind]["count"])


def _x0_arguments(parser, full_count: int):
    levels_options(20, QUICK_LEVELS)(parser)
    quick_default_option(
        parser, "--count", lo=1, hi=10000, full=full_count, quick=4, help="curves per protocol"
    )
    seed_option(parser)
    number_option(
        parser,
        "--fit-from",
        lo=0,
        hi=30,
        help="first level of the fixed fit range (default: the source's, 11 for S4, 10 for S5)",
    )


def fixed_range_fit(counts: ArrayLike, fit_from: int, zero_to_one: bool = False) -> float:
    """Least-squares slope of ``log2 B_N`` against ``n`` over the levels ``n >= fit_from``:
    the fit of ``exp-6.ipynb``/``exp-7.ipynb`` (``np.linalg.lstsq``). A zero count gives
    ``-inf`` there and a NaN slope; ``zero_to_one`` counts it as 1 instead (as
    ``exp-3.ipynb`` does).

    >>> fixed_range_fit([1, 2, 4, 8, 16], 2)
    1.0
    """
    y = np.asarray(counts, dtype=float)[fit_from:]
    if zero_to_one:
        y = np.maximum(y, 1.0)
    n = np.arange(fit_from, fit_from + y.size, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        ly = np.log2(y)
        if not np.all(np.isfinite(ly)):
            return float("nan")
    slope = np.polyfit(n, ly, 1)[0] if y.size >= 2 else float("nan")
    return float(round(slope, 12))


def _lane_labels(land, backend: str, lrs, x0s) -> tuple[np.ndarray, str]:
    """Labels of lanes with their own learning rate and start (c-poly ``sweep_lanes``, else
    JAX with per-lane x0), in chunks of 2^20 lanes with progress on stderr."""
    from trainability.numeric import trainable
    from trainability.numeric._progress import Progress

    lg, resolved = sweep_backend(land, backend)
    params = land.parameter_values()
    out = np.empty(lrs.size, dtype=bool)
    meter = Progress(lrs.size, "lanes", "learning rates", enabled=True)
    chunk = 2**20
    for a in range(0, lrs.size, chunk):
        b = min(a + chunk, lrs.size)
        if isinstance(resolved, str):
            out[a:b] = np.asarray(trainable(lg, lrs[a:b], x0s[a:b], params))
        else:
            out[a:b] = resolved.sweep_lanes(lrs[a:b], x0s[a:b], params)[0]
        meter.update(b - a)
    return out, backend_name(backend, resolved)


def _dimension_stats(dims) -> dict:
    dims = np.asarray(dims, dtype=float)
    return {
        "mean_dimension": float(np.mean(dims)),
        "sd_dimension": float(np.std(dims)),  # np.std, ddof = 0, as the source notebooks
        "n_curves": int(dims.size),
    }


def _random_x0(kind: str, args) -> dict:
    """Fig. S4/S5 two ways, side by side.

    ``source_protocol``: the source scripts' protocol with its quirk: ``runexp`` draws
    ``x0s = -5 .+ 10*rand(num_init)`` *inside* the per-learning-rate function, so every
    learning rate of a "curve" starts from a fresh random x0. A curve is then a sequence of
    independent labels of different orbits; wherever the divergent fraction p(s) is strictly
    between 0 and 1 neighbouring labels differ with probability 2p(1-p) whatever N, so
    ``B_N`` grows like N and the slope is 1 with a tiny spread: it measures the redraw, not a
    boundary. ``fixed_x0``: the corrected protocol, one x0 per curve for all learning rates
    (the boundary of one loss-and-start, what Fig. 2a/2b measure at x0 = 1). Both use the
    source's fixed fit range (n >= 11 for S4, n >= 10 for S5; zero counts set to 1 for the
    fixed-x0 curves, where some curves have none).
    """
    levels = args.levels
    spec = RANDOM_X0[kind]
    count = args.count
    fit_from = spec["fit_from"] if args.fit_from is None else args.fit_from
    if args.quick and args.fit_from is None:
        fit_from = max(1, min(fit_from, levels - 3))
    if not 0 <= fit_from <= levels - 1:
        raise ValueError(f"--fit-from must be between 0 and {levels - 1}")
    rng = np.random.default_rng(args.seed)
    x0 = rng.uniform(-5.0, 5.0, size=(count, 1))
    land = family(kind, eps=0.2, lam=0.1)
    params = np.tile(np.array(land.parameter_values()), (count, 1))
    points, result = sweep_points(land, params, x0, levels=levels, backend=args.backend)
    fixed_dims = [fixed_range_fit(p["boundary_counts"], fit_from, True) for p in points]
    for p, d in zip(points, fixed_dims, strict=True):
        p["dimension_fixed_range"] = d
    # Source protocol: a fresh x0 for every (learning rate, curve), learning rates in order.
    lrs = result.learning_rates()
    x0_lanes = rng.uniform(-5.0, 5.0, size=(count, lrs.size, 1))
    t0 = time.perf_counter()
    lane_labels, engine = _lane_labels(
        land, args.backend, np.tile(lrs, count), x0_lanes.reshape(-1, 1)
    )
    source_seconds = time.perf_counter() - t0
    lane_labels = lane_labels.reshape(count, lrs.size)
    source_counts = [boundary_counts(row, levels) for row in lane_labels]
    source_dims = [fixed_range_fit(c, fit_from) for c in source_counts]
    src, fixed = _dimension_stats(source_dims), _dimension_stats(fixed_dims)
    fixed["n_zero_curves"] = int(sum(p["boundary_counts"][-1] == 0 for p in points))
    paper_se = spec["paper_sd"] / math.sqrt(100)
    note_range = f"fit over levels {fit_from}..{levels}, 2^{levels} learning rates"
    comparison = [
        comparison_entry(
            "mean dimension, source protocol (x0 redrawn at every learning rate)",
            spec["paper_mean"],
            src["mean_dimension"],
            src["sd_dimension"] / math.sqrt(src["n_curves"]),
            paper_stderr=paper_se,
            tol=0.02,
            note=f"{note_range}; paper value from the source notebook's output",
        ),
        comparison_entry(
            "sd of the dimension, source protocol",
            spec["paper_sd"],
            src["sd_dimension"],
            note="spread of the redraw protocol; compared by eye (agrees: null)",
        )
        | {"agrees": None},
        comparison_entry(
            "mean dimension, fixed x0 (corrected protocol)",
            spec["paper_mean"],
            fixed["mean_dimension"],
            fixed["sd_dimension"] / math.sqrt(fixed["n_curves"]),
            paper_stderr=paper_se,
            tol=0.02,
            note=f"{note_range}; the paper's number comes from the redraw protocol, so a "
            "difference here is the protocol, not the engine",
        ),
    ]
    fig, ax = plt.subplots(figsize=(4.2, 3.2))
    ax.plot(x0[:, 0], fixed_dims, "o", ms=3, label="fixed x0 (corrected)")
    ax.axhline(src["mean_dimension"], color="C1", ls="--", label="source protocol mean")
    ax.set_xlabel("$x_0$")
    ax.set_ylabel(f"dimension (levels {fit_from}..{levels})")
    ax.set_title(f"{kind}, eps=0.2, lam=0.1")
    ax.legend(frameon=False, fontsize=8)
    crit = critical(land)
    run = grid_run(result)
    return {
        "family": kind,
        "levels": levels,
        "seed": args.seed,
        "fit_from": fit_from,
        "critical_invariant": crit,
        "predicted_critical_roughness": crit and crit["numeric"],
        "source_protocol": src,
        "fixed_x0": fixed,
        "protocols": {
            "source_protocol": "exp-6.jl/exp-7.jl as run: x0 ~ U(-5, 5) redrawn for every "
            "learning rate and curve (the draw sits inside the per-learning-rate function)",
            "fixed_x0": "one x0 ~ U(-5, 5) per curve for all its learning rates",
        },
        "source_protocol_counts": [c.tolist() for c in source_counts],
        "dimension_mean": fixed["mean_dimension"],
        "dimension_std": fixed["sd_dimension"],
        "points": points,
        "comparison": comparison,
        **run,
        "seconds": run["seconds"] + source_seconds,
        "figure": save_figure(fig, args.out / "dimension_vs_x0.png"),
    }


@reproduction("liu-figS4", _x0_options("additive"))
def figS4(args) -> dict:
    return _random_x0("additive", args)


@reproduction("liu-figS5", _x0_options("multiplicative"))
def figS5(args) -> dict:
    return _random_x0("multiplicative", args)


# ------------------------------------------------------------------ label robustness


def _robust_options(parser):
    levels_options(14, QUICK_LEVELS)(parser)
    number_option(parser, "--dps", lo=20, hi=10000, default=40, help="mpmath digits (default 40)")
    number_option(
        parser,
        "--max-labels",
        lo=1,
        hi=10**7,
        help="check at most this many boundary labels (default all, 40 quick)",
    )


@reproduction("liu-label-robustness", _robust_options)
def label_robustness_target(args) -> dict:
    levels = args.levels
    land = family("additive", eps=0.2, lam=1.0)
    sweep = sweep_landscape(land, X0_GRID, levels=levels, progress=True, backend=args.backend)
    cap = args.max_labels if args.max_labels is not None else (40 if args.quick else None)
    rob = label_robustness(land, sweep, X0_GRID, dps=args.dps, max_labels=cap, progress=True)
    counts = np.arange(levels + 1)
    fig, ax = plt.subplots(figsize=(4.2, 3.2))
    ax.semilogy(counts, np.maximum(rob.counts_float64, 0.5), "o", label="float64")
    ax.semilogy(
        counts,
        np.maximum(rob.counts_reference, 0.5),
        "x",
        label=f"mpmath {rob.dps}/{rob.check_dps} digits",
    )
    ax.set_xlabel("level $n$")
    ax.set_ylabel("$B_N$")
    ax.legend(frameon=False, fontsize=8)
    return {
        "family": "additive",
        "eps": 0.2,
        "lam": 1.0,
        "x0": X0_GRID,
        "levels": levels,
        **rob.to_dict(),
        **sweep_run(sweep, args.backend, [X0_GRID]),
        "figure": save_figure(fig, args.out / "labels.png"),
    }
