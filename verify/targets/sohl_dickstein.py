"""Sohl-Dickstein 2024, "The boundary of neural network trainability is fractal".

A one-hidden-layer network (width 16, mean-field scaling, no biases, MSE on Gaussian data
with as many points as parameters) is trained by full-batch GD for every point of a
log-spaced grid of per-layer learning rates. The figure is the paper's two-colour phase image
(converged blue, diverged red, shade from the convergence score) beside the box-count plot of
its boundary; optional zoom frames re-run ever smaller windows around a boundary point at the
same resolution.
"""

from __future__ import annotations

import numpy as np

from trainability.numeric import (
    ACTIVATIONS,
    HyperGrid,
    boundary_pixels,
    box_counting_dimension,
    network_problem,
    phase_image,
)

from .._figures import plt, save_figure
from .._options import above, number_option, seed_option, steps_option
from .._registry import reproduction

FULL = {"resolution": 256, "steps": 500}
QUICK = {"resolution": 32, "steps": 100}
#: log10 ranges of the paper's lr-vs-lr figure (1e-3 .. 1e6 on both axes).
LR_RANGE = (-3.0, 6.0)
#: first-layer weight offset (linear) and log10 learning rate for the offset-vs-lr image.
OFFSET_RANGE, OFFSET_LR_RANGE = (-2.0, 2.0), (-3.0, 3.0)


def _options(parser):
    parser.add_argument("--activation", choices=ACTIVATIONS, default="tanh")
    number_option(
        parser,
        "--resolution",
        lo=2,
        hi=4096,
        help=f"grid points per axis (default {FULL['resolution']}, "
        f"{QUICK['resolution']} with --quick)",
    )
    steps_option(parser, None, f"GD steps (default {FULL['steps']}, {QUICK['steps']} with --quick)")
    number_option(parser, "--width", lo=1, hi=4096, default=16, help="hidden width (default 16)")
    seed_option(parser)
    number_option(
        parser,
        "--minibatch",
        "--batch-size",
        dest="minibatch",
        lo=1,
        hi=10**6,
        help="rows per GD step (default: full batch)",
    )
    number_option(
        parser,
        "--n-data",
        lo=1,
        hi=10**6,
        help="data set size (default: the number of parameters, width**2 + width; the source "
        "also runs 1)",
    )
    parser.add_argument("--phase-space", choices=("lr_vs_lr", "offset_vs_lr"), default="lr_vs_lr")
    number_option(
        parser,
        "--zoom",
        lo=0,
        hi=8,
        default=0,
        help="number of zoom frames (each re-runs the grid at the resolution)",
    )
    number_option(
        parser,
        "--zoom-factor",
        **above(1),
        default=4.0,
        help="each zoom frame shrinks the window by this factor",
    )
    number_option(
        parser,
        "--block",
        lo=1,
        hi=256,
        default=8,
        help="tile side in grid points (runs per compiled call = block**2)",
    )
    parser.add_argument("--dtype", choices=("float64", "float32"), default="float64")


def phase_rgb(score: np.ndarray) -> np.ndarray:
    """RGB image of a score image: converged in blue shades, diverged in red shades.

    The shade is the rank of ``|score|`` within its phase (as the source's rescaling to a
    uniform distribution): dark where training converges or diverges slowest.
    """
    score = np.asarray(score, dtype=np.float64)
    shade = np.zeros_like(score)
    for phase in (score < 0, score >= 0):
        vals = np.abs(score[phase])
        if vals.size:
            rank = np.argsort(np.argsort(vals, kind="stable"), kind="stable")
            shade[phase] = (rank + 0.5) / vals.size
    level = 0.25 + 0.7 * shade
    blue, red = plt.cm.Blues(level)[..., :3], plt.cm.Reds(level)[..., :3]
    return np.where((score < 0)[..., None], blue, red)


def _axis_labels(grid: HyperGrid) -> tuple[str, str]:
    if grid.phase_space == "lr_vs_lr":
        return r"$\log_{10}$ input-layer learning rate", r"$\log_{10}$ output-layer learning rate"
    return "input-layer weight offset", r"$\log_{10}$ learning rate"


def _show_phase(ax, img, title):
    (x0, x1), (y0, y1) = img.grid.x_range, img.grid.y_range
    ax.imshow(
        phase_rgb(img.score),
        origin="lower",
        extent=(x0, x1, y0, y1),
        aspect="auto",
        interpolation="nearest",
    )
    xl, yl = _axis_labels(img.grid)
    ax.set_xlabel(xl)
    ax.set_ylabel(yl)
    ax.set_title(title, fontsize=9)


def plot_phase_and_boxcount(img, fit, title: str, path):
    """The phase image and the box-count plot (counts and local slopes) side by side."""
    fig, (a0, a1) = plt.subplots(1, 2, figsize=(9.5, 4.2))
    _show_phase(a0, img, title)
    s, n = fit.sizes, fit.counts
    i, j = fit.fit_range
    a1.loglog(s, np.maximum(n, 0.5), "o", ms=4, label="$N(s)$ boxes on the boundary")
    if j > i:
        ss = s[i : j + 1].astype(float)
        a1.loglog(
            ss,
            np.exp(fit.intercept) * ss ** (-fit.dimension),
            "-",
            label=f"fit: dimension {fit.dimension:.3f} ± {fit.stderr:.3f}",
        )
    a1.set_xlabel("box size $s$ (pixels)")
    a1.set_ylabel("$N(s)$")
    a2 = a1.twinx()
    mids = np.sqrt(s[1:] * s[:-1].astype(float))
    a2.semilogx(mids, fit.slopes, "x:", color="gray", label="local slope")
    a2.set_ylabel("local slope", color="gray")
    a2.set_ylim(0, 2.2)
    a1.legend(frameon=False, fontsize=8, loc="lower left")
    a1.set_title("box counting of the boundary", fontsize=9)
    fig.tight_layout()
    return save_figure(fig, path)


def plot_zoom(frames, path):
    """Zoom frames left to right, each box marking the next frame's window."""
    fig, axes = plt.subplots(1, len(frames), figsize=(3.4 * len(frames), 3.4), squeeze=False)
    for k, (ax, (img, fit)) in enumerate(zip(axes[0], frames, strict=True)):
        _show_phase(ax, img, f"frame {k}: dimension {fit.dimension:.2f}")
        if k + 1 < len(frames):
            (x0, x1), (y0, y1) = frames[k + 1][0].grid.x_range, frames[k + 1][0].grid.y_range
            ax.add_patch(plt.Rectangle((x0, y0), x1 - x0, y1 - y0, fill=False, ec="k", lw=1))
    fig.tight_layout()
    return save_figure(fig, path)


def _frame_summary(img, fit) -> dict:
    return {
        "x_range": list(img.grid.x_range),
        "y_range": list(img.grid.y_range),
        "dimension": fit.dimension,
        "dimension_stderr": fit.stderr,
        "converged_fraction": img.converged_fraction,
        "seconds": img.seconds,
    }


@reproduction(
    "sohl-dickstein", "Fractal trainability boundary of a small network (2-D grid)", _options
)
def sohl_dickstein(args) -> dict:
    defaults = QUICK if args.quick else FULL
    resolution = defaults["resolution"] if args.resolution is None else args.resolution
    steps = defaults["steps"] if args.steps is None else args.steps
    problem = network_problem(
        args.activation,
        width=args.width,
        seed=args.seed,
        n_data=args.n_data,
        minibatch=args.minibatch,
    )
    if args.phase_space == "lr_vs_lr":
        grid = HyperGrid(LR_RANGE, LR_RANGE, resolution)
    else:
        grid = HyperGrid(OFFSET_RANGE, OFFSET_LR_RANGE, resolution, "offset_vs_lr", x_log=False)
    img = phase_image(problem, grid, steps=steps, block=args.block, dtype=args.dtype, progress=True)
    fit = box_counting_dimension(boundary_pixels(img.score))
    batch = "full batch" if args.minibatch is None else f"minibatch {args.minibatch}"
    title = f"{args.activation}, width {args.width}, {batch}, {steps} steps, {resolution}²"
    figure = plot_phase_and_boxcount(img, fit, title, args.out / f"{args.activation}.png")
    np.savez_compressed(
        args.out / f"{args.activation}_scores.npz",
        score=img.score,
        x_range=grid.x_range,
        y_range=grid.y_range,
        steps=steps,
    )
    summary = {
        "activation": args.activation,
        "resolution": resolution,
        "steps": steps,
        "dimension": fit.dimension,
        "dimension_stderr": fit.stderr,
        # The source's estimator (median of all local box-count slopes over a zoom-out
        # sequence of frames) is not implemented yet; "median_local_slope" is the median over
        # this one frame.
        "estimator": "ols-window",
        "converged_fraction": img.converged_fraction,
        "figure": figure,
        "median_local_slope": fit.median_slope,
        "box_sizes": fit.sizes,
        "box_counts": fit.counts,
        "fit_range": [int(fit.sizes[fit.fit_range[0]]), int(fit.sizes[fit.fit_range[1]])],
        "phase_space": args.phase_space,
        "width": args.width,
        "n_data": problem.n_data,
        "minibatch": args.minibatch,
        "seconds": img.seconds,
        "steps_run_fraction": img.steps_run / (resolution**2 * steps),
        "grid_point_steps_per_second": resolution**2 * steps / img.seconds,
    }
    if args.zoom:
        frames = [(img, fit)]
        for _ in range(args.zoom):
            prev = frames[-1][0]
            sub = prev.grid.zoom(prev.boundary_center(args.zoom_factor), args.zoom_factor)
            zimg = phase_image(
                problem, sub, steps=steps, block=args.block, dtype=args.dtype, progress=True
            )
            frames.append((zimg, box_counting_dimension(boundary_pixels(zimg.score))))
            np.savez_compressed(
                args.out / f"{args.activation}_zoom{len(frames) - 1}_scores.npz",
                score=zimg.score,
                x_range=sub.x_range,
                y_range=sub.y_range,
                steps=steps,
            )
        summary["zoom"] = [_frame_summary(i, f) for i, f in frames]
        # The source estimates the dimension over a zoom sequence; frames 1.. see the boundary
        # at ever finer scales of hyperparameter space.
        zdims = np.array([f.dimension for _, f in frames[1:]])
        summary["zoom_dimension"] = float(zdims.mean())
        summary["zoom_dimension_stderr"] = (
            float(zdims.std(ddof=1) / np.sqrt(zdims.size)) if zdims.size > 1 else 0.0
        )
        summary["zoom_figure"] = plot_zoom(frames, args.out / f"{args.activation}_zoom.png")
    return summary
