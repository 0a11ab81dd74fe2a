"""Liu 2024, "Complex fractal trainability boundary can arise from trivial non-convexity".

Fig. 2a (additive), Fig. 2b (multiplicative): boundary counts ``B_N`` against ``N`` on a
log-log plot with the fitted dimension; Fig. S2: the pure quadratic, one boundary at s = 1.
"""

from __future__ import annotations

import numpy as np

from trainability.analytic import family

from .._figures import plt, save_figure
from .._registry import reproduction
from .._sweeps import sweep_landscape

# Protocol of the headline single-curve results (reference file, "Protocol").
PROTOCOL = {"eps": 0.2, "lam": 0.1, "x0": 1.0, "steps": 1000, "bound": 1e8,
            "lr_min": 0.0, "lr_max": 1.5}
PAPER_DIMENSION = {"additive": (0.996, 0.005), "multiplicative": (0.837, 0.004)}
FULL_LEVELS, QUICK_LEVELS = 22, 16


def _levels_option(parser):
    parser.add_argument("--levels", type=int, default=None,
                        help=f"finest level (default {FULL_LEVELS}, {QUICK_LEVELS} with --quick)")


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


def _fig2(kind: str, args) -> dict:
    levels = args.levels or (QUICK_LEVELS if args.quick else FULL_LEVELS)
    land = family(kind, eps=PROTOCOL["eps"], lam=PROTOCOL["lam"])
    result = sweep_landscape(
        land, PROTOCOL["x0"], levels=levels, steps=PROTOCOL["steps"], bound=PROTOCOL["bound"],
        lr_min=PROTOCOL["lr_min"], lr_max=PROTOCOL["lr_max"], progress=True,
    )
    fit = result.fit
    paper = PAPER_DIMENSION[kind]
    figure = plot_boundary_counts(
        result.boundary_counts, fit, f"{kind}, eps=0.2, lam=0.1", args.out / "boundary_counts.png",
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
        "learning_rates_per_second": result.n_points / result.seconds,
        "seconds": result.seconds,
        "figure": figure,
    }


@reproduction("liu-fig2a", "Fig. 2a: additive perturbation, boundary dimension", _levels_option)
def fig2a(args) -> dict:
    return _fig2("additive", args)


@reproduction("liu-fig2b", "Fig. 2b: multiplicative perturbation, boundary dimension",
              _levels_option)
def fig2b(args) -> dict:
    return _fig2("multiplicative", args)


@reproduction("liu-figS2", "Fig. S2: pure quadratic, one boundary at s = 1", _levels_option)
def figS2(args) -> dict:
    levels = args.levels or (QUICK_LEVELS if args.quick else 20)
    result = sweep_landscape(family("quadratic"), PROTOCOL["x0"], levels=levels,
                             steps=PROTOCOL["steps"], bound=PROTOCOL["bound"], progress=True)
    lrs = result.learning_rates()
    change = np.flatnonzero(result.labels[1:] != result.labels[:-1])
    segment = [[float(lrs[i]), float(lrs[i + 1])] for i in change]
    figure = plot_boundary_counts(result.boundary_counts, result.fit, "quadratic $x^2$",
                                  args.out / "boundary_counts.png")
    return {
        "dimension": result.fit.dimension,
        "dimension_stderr": result.fit.stderr,
        "paper_dimension": 0.0,
        "levels": levels,
        "boundary_counts": result.boundary_counts,
        "boundary_segments": segment,
        "single_boundary_at_one": bool(
            np.all(result.boundary_counts == 1) and len(segment) == 1
            and segment[0][0] <= 1.0 < segment[0][1]
        ),
        "figure": figure,
    }
