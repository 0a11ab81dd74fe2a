"""Liu 2024, "Complex fractal trainability boundary can arise from trivial non-convexity".

Fig. 2a (additive), Fig. 2b (multiplicative): boundary counts ``B_N`` against ``N`` on a
log-log plot with the fitted dimension; Fig. S2: the pure quadratic, one boundary at s = 1.

Source scripts (github.com/liuyz0/FractalBoundary): ``exp-0.jl``/``exp-1.jl`` (one
x0 = 1 sweep, 1000 steps, divergent when the loss exceeds 1e8 at some step: the ``max``
criterion, bound 1e8) analysed by ``exp-0-analyze.py``/``exp-1-analyze.py`` (nested grids
up to 2^32). ``--quick`` runs 2^20 learning rates (a few seconds on the compiled engine),
where the fit already agrees with the paper's value; the default is 2^22.
"""

from __future__ import annotations

import numpy as np
import sympy

from trainability.analytic import family, gd_jacobian, learning_rate_symbol
from trainability.numeric import local_slopes

from .._comparison import comparison_entry
from .._figures import plt, save_figure
from .._options import levels_option
from .._registry import reproduction
from .._sweeps import add_backend_option, sweep_landscape, sweep_run

# Protocol of the headline single-curve results (reference file, "Protocol").
PROTOCOL = {
    "eps": 0.2,
    "lam": 0.1,
    "x0": 1.0,
    "steps": 1000,
    "bound": 1e8,
    "lr_min": 0.0,
    "lr_max": 1.5,
}
PAPER_DIMENSION = {"additive": (0.996, 0.005), "multiplicative": (0.837, 0.004)}
FULL_LEVELS, QUICK_LEVELS = 22, 20
S2_FULL_LEVELS, S2_QUICK_LEVELS = 20, 16


def levels_options(full: int, quick: int):
    """The options of a Liu target: ``--levels`` (``full``, ``quick`` with ``--quick``) and
    ``--backend``; every Liu target starts from these."""

    def add(parser):
        levels_option(parser, full=full, quick=quick)
        add_backend_option(parser)

    return add


def plot_boundary_counts(counts, fit, title: str, path, paper=None):
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


def boundary_local_slopes(counts) -> list[float | None]:
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


@reproduction("liu-fig2a", levels_options(FULL_LEVELS, QUICK_LEVELS))
def fig2a(args) -> dict:
    return _fig2("additive", args)


@reproduction("liu-fig2b", levels_options(FULL_LEVELS, QUICK_LEVELS))
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
