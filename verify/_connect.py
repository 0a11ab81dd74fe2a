"""Mode connectivity of two saved models: DSS against the published baselines on one table.

Behind ``trainability connect A.npz B.npz --threshold L0 [--method dss|linear|bezier|neb]``.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from trainability.numeric import (
    PathResult,
    bezier_path,
    linear_path,
    load_model,
    neb_path,
    pca_projection,
)

from ._figures import plt, save_figure

if TYPE_CHECKING:
    from jax.typing import ArrayLike

    from trainability.numeric import Task

    from ._verdict import Verdict

__all__ = ["METHODS", "compare_methods", "connect_models", "connectivity_checks", "plot_paths"]

METHODS = ("dss", "linear", "bezier", "neb")


def compare_methods(
    task: Task,
    theta1: ArrayLike,
    theta2: ArrayLike,
    threshold: float,
    methods: Sequence[str] = METHODS,
    *,
    seed: int = 0,
    progress: bool = False,
    **sampler_options: Any,
) -> list[PathResult]:
    """Run each method between two flat models of ``task`` at level ``L0 = threshold``.

    ``dss`` uses :meth:`trainability.numeric.Task.sampler` (held-out loss, beads trained on the
    training loss); the baselines run on the held-out loss with their defaults. Returns one
    :class:`trainability.numeric.PathResult` per method, in the order given.
    """
    unknown = [m for m in methods if m not in METHODS]
    if unknown or not methods:
        raise ValueError(
            f"unknown method {unknown[0] if unknown else ''!r}; choose from {', '.join(METHODS)}"
        )
    if not (np.isfinite(threshold) and threshold > 0):
        raise ValueError(f"--threshold must be positive, got {threshold}")
    out = []
    for method in methods:
        t0 = time.perf_counter()
        if method == "dss":
            res = task.sampler(**sampler_options).connect(theta1, theta2, threshold, progress)
            path = res.as_path(task.test_loss)
        elif method == "linear":
            path = linear_path(task.test_loss, theta1, theta2)
        elif method == "bezier":
            path = bezier_path(task.test_loss, theta1, theta2, seed=seed)
        else:
            path = neb_path(task.test_loss, theta1, theta2)
        if progress:
            print(
                f"[connect] {method}: max loss {path.max_loss:.4g} in "
                f"{time.perf_counter() - t0:.1f}s",
                file=sys.stderr,
                flush=True,
            )
        out.append(path)
    return out


def plot_paths(paths: Sequence[PathResult], threshold: float, path: str | Path) -> str:
    """Loss along each path against the fraction of its arc length, and the PCA projection
    of all paths' points (first two components of their union)."""
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(8.4, 3.4))
    allpts = np.concatenate([p.points for p in paths])
    coords_all = pca_projection(allpts, min(2, *allpts.shape))[0]
    offset = 0
    for p in paths:
        steps = np.linalg.norm(np.diff(p.points, axis=0), axis=1)
        arc = np.concatenate([[0.0], np.cumsum(steps)]) / max(steps.sum(), 1e-300)
        ax.plot(arc, p.losses, label=f"{p.method} (max {p.max_loss:.3g})")
        c = coords_all[offset : offset + len(p.points)]
        offset += len(p.points)
        bx.plot(c[:, 0], c[:, 1] if c.shape[1] > 1 else 0 * c[:, 0], "-", lw=1, label=p.method)
    ax.axhline(threshold, color="k", ls=":", lw=1, label="$L_0$")
    ax.set_xlabel("fraction of path length")
    ax.set_ylabel("held-out loss")
    ax.legend(frameon=False, fontsize=7)
    bx.set_xlabel("PC 1")
    bx.set_ylabel("PC 2")
    bx.set_title("paths in weight space (PCA)", fontsize=9)
    return save_figure(fig, path)


def connect_models(
    path_a: str | Path,
    path_b: str | Path,
    threshold: float,
    methods: Sequence[str] = METHODS,
    *,
    figure: str | Path | None = None,
    progress: bool = True,
    tolerance: float = 1.1,
    alpha: float | None = None,
) -> dict[str, Any]:
    """Load two models saved by :func:`trainability.numeric.save_model` and compare methods.

    ``tolerance`` and ``alpha`` go to the DSS sampler (``alpha`` defaults to the task's).

    Returns:
        ``{"task", "threshold", "end_losses", "table", "figure"}``: ``table`` has one row per
        method with ``max_loss``, ``barrier``, ``length``, ``normalized_length``,
        ``n_points``, ``seconds``, ``below_threshold`` and method extras (DSS: ``beads``,
        ``connected``, ``reason``).
    """
    task_a, theta_a = load_model(path_a)
    task_b, theta_b = load_model(path_b)
    if (task_a.name, task_a.options) != (task_b.name, task_b.options):
        raise ValueError(
            f"the models belong to different tasks: {task_a.name} "
            f"{task_a.options} and {task_b.name} {task_b.options}"
        )
    options = (
        {"tolerance": tolerance} if alpha is None else {"tolerance": tolerance, "alpha": alpha}
    )
    paths = compare_methods(
        task_a, theta_a, theta_b, threshold, methods, progress=progress, **options
    )
    fig = plot_paths(paths, threshold, figure) if figure else None
    return {
        "task": task_a.name,
        "threshold": threshold,
        "end_losses": [float(task_a.test_loss(theta_a)), float(task_a.test_loss(theta_b))],
        "table": [p.row(threshold) for p in paths],
        "figure": fig,
    }


def connectivity_checks(barrier: float = 0.5, hat: float = 1.0) -> list[Verdict]:
    """DSS on landscapes with known answers, as :class:`trainability.verify.Verdict` objects.

    1. Convex (isotropic quadratic) with both end models inside the ``alpha * L0`` sublevel
       set: the string must be the straight line, normalized length 1 and three beads.
    2. The ring double well ``hat * (x^2 + y^2 - 1)^2 + barrier * (1 - x^2)`` between two points
       on the unit circle on either side of ``x = 0``: every path crosses ``x = 0`` where the
       loss is at least ``barrier``, and the arc of the circle attains it, so the min-max path
       loss is exactly ``barrier``. DSS (tolerance 1.05) must connect at ``L0 = 1.2 barrier``,
       fail at ``L0 = 0.8 barrier``, and never report a max interpolated loss below it.
    """
    import jax.numpy as jnp

    from trainability.numeric import Adam, StringSampler, dynamic_string_sampling

    from ._verdict import Verdict

    convex = dynamic_string_sampling(
        lambda th: jnp.sum(th**2), jnp.array([1.0, 0.2, -0.3]), jnp.array([-0.4, 0.9, 0.5]), 2.0
    )
    out = [
        Verdict(
            "convex loss: straight string with three beads",
            {"normalized_length": convex.normalized_length, "beads": convex.n_beads},
            {"normalized_length": 1.0, "beads": 3},
            1e-12,
            bool(
                convex.connected
                and convex.n_beads == 3
                and abs(convex.normalized_length - 1) <= 1e-12
            ),
            "a convex sublevel set contains the segment between any two of its points",
        )
    ]

    def ring(th):
        return hat * (th[0] ** 2 + th[1] ** 2 - 1) ** 2 + barrier * (1 - th[0] ** 2)

    a = jnp.array([np.cos(np.pi - 0.3), np.sin(np.pi - 0.3)])
    b = jnp.array([np.cos(0.2), np.sin(0.2)])
    sampler = StringSampler(ring, optimizer=Adam(1e-2), tolerance=1.05)
    for factor, expected in ((1.2, True), (0.8, False)):
        res = sampler.connect(a, b, factor * barrier)
        out.append(
            Verdict(
                f"double well, L0 = {factor} x barrier: connected = {expected}",
                {"connected": res.connected, "max_loss": res.max_loss, "beads": res.n_beads},
                {"connected": expected, "max_loss_at_least": barrier},
                0.0,
                bool(res.connected is expected and res.max_loss >= barrier - 1e-9),
                "the min-max path loss equals the barrier; " + (res.reason or "certified path"),
            )
        )
    return out
