"""Sohl-Dickstein 2024, "The boundary of neural network trainability is fractal".

A one-hidden-layer network (width 16, mean-field scaling, no biases, MSE on Gaussian data
with as many points as parameters) is trained by full-batch GD for every point of a
log-spaced grid of per-layer learning rates. The figure is the paper's two-colour phase image
(converged blue, diverged red, shade from the convergence score) beside the box-count plot of
its boundary; optional zoom frames re-run ever smaller windows around a boundary point at the
same resolution.

Follows ``the_boundary_of_neural_network_trainability_is_fractal.ipynb`` of
Sohl-Dickstein/fractal. Default estimator (``--estimator median-zoom-out``, the notebook's
``estimate_fractal_dimension`` over ``zoom_out_sequence``): zoom in ``--zoom`` times (factor
4, automatic choice of window where the notebook's user clicked), then re-run the windows
that double in width around the deepest one until they span 6 decades, and take the median of
all porespy-style local box-count slopes of all those frames. ``--estimator ols-window`` is
this package's earlier estimator (an OLS slope over a scaling window of one frame).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np

from trainability.numeric import (
    NETWORK_ACTIVATIONS,
    BoxCountFit,
    HyperGrid,
    MedianSlopeDimension,
    PhaseImage,
    boundary_pixels,
    box_counting_dimension,
    median_slope_dimension,
    network_problem,
    phase_image,
)

from .._figures import plt, save_figure
from .._options import above, number_option, seed_option, steps_option
from .._registry import reproduction

FULL = {"resolution": 256, "steps": 500}
QUICK = {"resolution": 32, "steps": 100}
#: defaults of the source's estimator (zoom-in depth, resolution of the frames and of the
#: zoom-in search); sized to run in about ten minutes for the three activations on this
#: project's CPU. The notebook's sequences span ten decades and more at 512-4096 points per
#: frame (``--zoom 17`` reaches ten decades; see docs/theory/neural-network-boundaries.rst for
#: what that costs here).
MEDIAN_FULL = {"resolution": 64, "steps": 500, "zoom": 2, "locate": 48}
MEDIAN_QUICK = {"resolution": 24, "steps": 40, "zoom": 1, "locate": 16}
ESTIMATORS = ("median-zoom-out", "ols-window")
#: deepest zoom: 4^20 narrower than 9 decades leaves pixels ~1e-13 decades apart at 32^2,
#: a thousand float64 ulps of the learning rate (deeper, neighbouring pixels would coincide).
MAX_ZOOM = 20
#: the paper's six configurations give dimensions from 1.17 to 1.98 (arXiv 2402.06184).
PAPER_RANGE = (1.17, 1.98)
#: activations the ordering check runs (tanh first: the paper's most fractal configuration).
ORDERING = ("tanh", "relu", "linear")
#: log10 ranges of the paper's lr-vs-lr figure (1e-3 .. 1e6 on both axes).
LR_RANGE = (-3.0, 6.0)
#: first-layer weight offset (linear) and log10 learning rate for the offset-vs-lr image.
OFFSET_RANGE, OFFSET_LR_RANGE = (-2.0, 2.0), (-3.0, 3.0)


def _options(parser):
    parser.add_argument(
        "--activation",
        choices=(*NETWORK_ACTIVATIONS, "all"),
        default="tanh",
        help="network nonlinearity; 'all' runs tanh, relu and linear and compares their order",
    )
    parser.add_argument(
        "--estimator",
        choices=ESTIMATORS,
        default="median-zoom-out",
        help="median-zoom-out: the source's median of all local box-count slopes over a "
        "zoom-out sequence (default); ols-window: OLS slope over a scaling window of one frame",
    )
    parser.add_argument(
        "--offset-schedule",
        choices=("every-step", "once"),
        default="every-step",
        help="offset_vs_lr only: add the first-layer offset before every GD step as the "
        "source's train_step does (default), or once at initialisation",
    )
    number_option(
        parser,
        "--locate-resolution",
        lo=4,
        hi=4096,
        help="resolution of the zoom-in search frames of median-zoom-out (default "
        f"{MEDIAN_FULL['locate']}, {MEDIAN_QUICK['locate']} with --quick)",
    )
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
        hi=MAX_ZOOM,
        help="zoom-in steps: ols-window, extra frames (default 0); median-zoom-out, depth of "
        f"the deepest frame (default {MEDIAN_FULL['zoom']}, {MEDIAN_QUICK['zoom']} with --quick)",
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


def plot_phase_and_boxcount(img: PhaseImage, fit: BoxCountFit, title: str, path: str | Path) -> str:
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


def plot_zoom(frames: Sequence[tuple[PhaseImage, BoxCountFit]], path: str | Path) -> str:
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


def _frame_slopes_plot(ax, est):
    for k, (sz, sl) in enumerate(zip(est.sizes, est.slopes, strict=True)):
        ax.semilogx(sz, sl, "o-", ms=3, lw=0.8, label=f"frame {k}" if k < 8 else None)
    ax.axhline(est.dimension, color="k", lw=1.2, label=f"median {est.dimension:.3f}")
    ax.set_ylim(0, 2.2)
    ax.set_xlabel("box edge length (pixels)")
    ax.set_ylabel("local slope $-d\\log N / d\\log s$")
    ax.legend(frameon=False, fontsize=7, ncol=2)
    ax.set_title("median of all local slopes (source's estimator)", fontsize=9)


def plot_zoom_out(
    frames: Sequence[PhaseImage], est: MedianSlopeDimension, title: str, path: str | Path
) -> str:
    """Widest and deepest frame of the zoom-out sequence and every frame's local slopes."""
    fig, axes = plt.subplots(1, 3, figsize=(13, 4.2))
    _show_phase(axes[0], frames[0], f"{title}: widest frame")
    _show_phase(axes[1], frames[-1], f"deepest of {len(frames)} frames")
    _frame_slopes_plot(axes[2], est)
    fig.tight_layout()
    return save_figure(fig, path)


def _problem(args, activation):
    # The source's identity network trains on width * ratio points, the others on
    # n_params * ratio (gen_img); ratio 1.
    n_data = args.n_data
    if n_data is None and activation == "linear":
        n_data = args.width
    return network_problem(
        activation, width=args.width, seed=args.seed, n_data=n_data, minibatch=args.minibatch
    )


def _whole_grid(args, resolution):
    if args.phase_space == "lr_vs_lr":
        return HyperGrid(LR_RANGE, LR_RANGE, resolution)
    return HyperGrid(OFFSET_RANGE, OFFSET_LR_RANGE, resolution, "offset_vs_lr", x_log=False)


def _image(args, problem, grid, steps):
    return phase_image(
        problem,
        grid,
        steps=steps,
        block=args.block,
        dtype=args.dtype,
        progress=True,
        offset_every_step=args.phase_space == "offset_vs_lr"
        and args.offset_schedule == "every-step",
    )


def _save_scores(args, name, img, steps):
    np.savez_compressed(
        args.out / f"{name}_scores.npz",
        score=img.score,
        x_range=img.grid.x_range,
        y_range=img.grid.y_range,
        steps=steps,
    )


def _median_zoom_out(args, activation) -> dict:
    """The source's protocol: locate a deep window, zoom out by doubling, median slope."""
    d = MEDIAN_QUICK if args.quick else MEDIAN_FULL
    resolution = d["resolution"] if args.resolution is None else args.resolution
    steps = d["steps"] if args.steps is None else args.steps
    zoom = d["zoom"] if args.zoom is None else args.zoom
    locate = d["locate"] if args.locate_resolution is None else args.locate_resolution
    problem = _problem(args, activation)
    # 1. zoom in (the notebook's user zooms by hand; here: the window holding the most
    #    boundary, the same rule for every configuration)
    search = _image(args, problem, _whole_grid(args, locate), steps)
    seconds = search.seconds
    for _ in range(zoom):
        try:
            centre = search.boundary_center(args.zoom_factor)
        except ValueError:
            break  # no boundary left to zoom in on
        search = _image(args, problem, search.grid.zoom(centre, args.zoom_factor), steps)
        seconds += search.seconds
    # 2. zoom out from the deepest window, doubling until 6 decades (zoom_out_sequence), each
    #    frame at the full resolution (increase_resolution)
    grids = replace(search.grid, resolution=resolution).zoom_out_sequence()
    frames = []
    for k, g in enumerate(grids):
        frames.append(_image(args, problem, g, steps))
        seconds += frames[-1].seconds
        _save_scores(args, f"{activation}_frame{k}", frames[-1], steps)
    est = median_slope_dimension([boundary_pixels(f.score) for f in frames])
    pooled = np.concatenate(est.slopes)
    batch = "full batch" if args.minibatch is None else f"minibatch {args.minibatch}"
    title = f"{activation}, {batch}, {steps} steps, {resolution}²"
    figure = plot_zoom_out(frames, est, title, args.out / f"{activation}.png")
    return {
        "activation": activation,
        "estimator": "median-zoom-out",
        "dimension": est.dimension,
        "dimension_stderr": est.stderr,
        "dimension_spread": est.spread,
        "n_slopes": est.n_slopes,
        # small frames give small integer counts and so a lattice of slope values: with
        # few distinct values the median of different boundaries can coincide exactly
        "n_distinct_slopes": int(np.unique(np.round(pooled[np.isfinite(pooled)], 9)).size),
        "n_nonfinite_slopes_dropped": est.n_dropped,
        # the notebook's np.median over every slope, NaN whenever a count was zero
        "source_median_with_nonfinite": float(np.median(pooled)),
        "resolution": resolution,
        "steps": steps,
        "zoom": zoom,
        "zoom_factor": args.zoom_factor,
        "locate_resolution": locate,
        "deepest_window": {"x_range": list(grids[-1].x_range), "y_range": list(grids[-1].y_range)},
        "frames": [
            {
                "x_range": list(f.grid.x_range),
                "y_range": list(f.grid.y_range),
                "median_slope": float(m),
                "box_sizes": sz,
                "box_counts": c,
                "converged_fraction": f.converged_fraction,
                "ols_window_dimension": box_counting_dimension(boundary_pixels(f.score)).dimension,
                "seconds": f.seconds,
            }
            for f, m, sz, c in zip(frames, est.frame_medians, est.sizes, est.counts, strict=True)
        ],
        "converged_fraction": frames[-1].converged_fraction,
        "figure": figure,
        "n_data": problem.n_data,
        "minibatch": args.minibatch,
        "seconds": seconds,
    }


def _ols_window(args, activation) -> dict:
    """One whole-window frame (plus optional zoom-in frames), OLS over a scaling window."""
    defaults = QUICK if args.quick else FULL
    resolution = defaults["resolution"] if args.resolution is None else args.resolution
    steps = defaults["steps"] if args.steps is None else args.steps
    zoom = 0 if args.zoom is None else args.zoom
    problem = _problem(args, activation)
    img = _image(args, problem, _whole_grid(args, resolution), steps)
    fit = box_counting_dimension(boundary_pixels(img.score))
    batch = "full batch" if args.minibatch is None else f"minibatch {args.minibatch}"
    title = f"{activation}, width {args.width}, {batch}, {steps} steps, {resolution}²"
    figure = plot_phase_and_boxcount(img, fit, title, args.out / f"{activation}.png")
    _save_scores(args, activation, img, steps)
    summary = {
        "activation": activation,
        "estimator": "ols-window",
        "resolution": resolution,
        "steps": steps,
        "dimension": fit.dimension,
        "dimension_stderr": fit.stderr,
        "converged_fraction": img.converged_fraction,
        "figure": figure,
        "median_local_slope": fit.median_slope,
        "box_sizes": fit.sizes,
        "box_counts": fit.counts,
        "fit_range": [int(fit.sizes[fit.fit_range[0]]), int(fit.sizes[fit.fit_range[1]])],
        "n_data": problem.n_data,
        "minibatch": args.minibatch,
        "seconds": img.seconds,
        "steps_run_fraction": img.steps_run / (resolution**2 * steps),
        "grid_point_steps_per_second": resolution**2 * steps / img.seconds,
    }
    if zoom:
        frames = [(img, fit)]
        for _ in range(zoom):
            prev = frames[-1][0]
            sub = prev.grid.zoom(prev.boundary_center(args.zoom_factor), args.zoom_factor)
            zimg = _image(args, problem, sub, steps)
            frames.append((zimg, box_counting_dimension(boundary_pixels(zimg.score))))
            _save_scores(args, f"{activation}_zoom{len(frames) - 1}", zimg, steps)
        summary["zoom"] = [_frame_summary(i, f) for i, f in frames]
        # frames 1.. see the boundary at ever finer scales of hyperparameter space
        zdims = np.array([f.dimension for _, f in frames[1:]])
        summary["zoom_dimension"] = float(zdims.mean())
        summary["zoom_dimension_stderr"] = (
            float(zdims.std(ddof=1) / np.sqrt(zdims.size)) if zdims.size > 1 else 0.0
        )
        summary["zoom_figure"] = plot_zoom(frames, args.out / f"{activation}_zoom.png")
    return summary


def _range_entry(s: dict) -> dict:
    lo, hi = PAPER_RANGE
    d = s["dimension"]
    return {
        "quantity": f"dimension, {s['activation']} ({s['estimator']})",
        "paper": f"{lo}-{hi}",
        "measured": d,
        "stderr": s["dimension_stderr"],
        "agrees": bool(np.isfinite(d) and lo <= d <= hi),
        "note": "the reference gives the range over the paper's six configurations, not one "
        "value per configuration; agrees = inside that range",
    }


def _ordering_entries(runs: dict) -> list[dict]:
    """One entry per configuration: is tanh full batch the most fractal, as in the paper?"""
    tanh = runs["tanh"]["dimension"]
    out = []
    for act, s in runs.items():
        d, se = s["dimension"], s["dimension_stderr"]
        if act == "tanh":
            others = max(r["dimension"] for a, r in runs.items() if a != "tanh")
            quantity, agrees = "tanh full batch is the most fractal", bool(tanh > others)
            note = f"tanh {tanh:.3f} vs the largest other {others:.3f}"
            if any(r["dimension"] == tanh for a, r in runs.items() if a != "tanh"):
                distinct = [r.get("n_distinct_slopes") for r in runs.values()]
                note += (
                    "; equal medians: the pooled slopes take few distinct values "
                    f"({distinct}) at this frame resolution, so the estimator cannot rank them"
                )
        else:
            quantity, agrees = f"dimension({act}) < dimension(tanh)", bool(d < tanh)
            margin = tanh - d
            se_t = runs["tanh"]["dimension_stderr"]
            comb = float(np.hypot(se, se_t)) if np.isfinite(se) and np.isfinite(se_t) else None
            note = f"tanh - {act} = {margin:.3f}" + (
                f" ({margin / comb:.1f} combined frame-to-frame stderr)" if comb else ""
            )
        out.append(
            {
                "quantity": quantity,
                "paper": "tanh full batch most fractal; ReLU and linear lower",
                "measured": d,
                "stderr": se,
                "agrees": agrees,
                "note": note,
            }
        )
    return out


@reproduction("sohl-dickstein", _options)
def sohl_dickstein(args) -> dict:
    cpu0 = time.process_time()
    run_one = _median_zoom_out if args.estimator == "median-zoom-out" else _ols_window
    protocol = {
        "phase_space": args.phase_space,
        "offset_schedule": args.offset_schedule if args.phase_space == "offset_vs_lr" else None,
        "width": args.width,
        "batch_size": args.minibatch,
        "seed": args.seed,
        "dtype": args.dtype,
        "block": args.block,
        "source": "Sohl-Dickstein/fractal, "
        "the_boundary_of_neural_network_trainability_is_fractal.ipynb",
    }
    if args.activation != "all":
        summary = run_one(args, args.activation)
        summary.update(protocol)
        # CPU time of this process: on a shared machine, wall time / load says less
        summary["cpu_seconds"] = time.process_time() - cpu0
        full = args.minibatch is None and args.n_data is None and args.phase_space == "lr_vs_lr"
        summary["comparison"] = [_range_entry(summary)] if full else []
        return summary
    runs = {act: run_one(args, act) for act in ORDERING}
    head = runs["tanh"]
    return {
        "activation": "all",
        "estimator": head["estimator"],
        # the headline configuration's value; every configuration is under "configurations"
        "dimension": head["dimension"],
        "dimension_stderr": head["dimension_stderr"],
        "resolution": head["resolution"],
        "steps": head["steps"],
        "converged_fraction": head["converged_fraction"],
        "figure": head["figure"],
        "configurations": list(runs.values()),
        "seconds": float(sum(r["seconds"] for r in runs.values())),
        "cpu_seconds": time.process_time() - cpu0,
        **protocol,
        "comparison": [*_ordering_entries(runs), *(_range_entry(r) for r in runs.values())],
    }
