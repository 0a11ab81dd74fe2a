"""Grid points x GD steps per second: fused tile kernel against a per-point vmap baseline.

Both run in this process on the same grid (the paper's 1e-3..1e6 per-layer learning rates),
same network, same float64 arithmetic:

* ``fused``: :func:`trainability.numeric.phase_image` -- hand-written batched forward/backward
  sharing the data across a tile of runs, streaming convergence score, tiles of
  ``block x block`` neighbouring grid points that stop once every run in them is non-finite;
* ``per-point``: :func:`trainability.numeric.network_scores_per_point` -- ``jax.vmap`` of one
  run's ``lax.scan`` loop with ``jax.value_and_grad``, full loss curves, no early exit.

* ``threads``: the same fused image with its tiles spread over ``--workers`` threads (default:
  every core), against ``workers=1`` (``parallel_speedup``); the scores must be identical.

Compile time is excluded (each kernel is warmed up on the same shapes first). The script also
extrapolates the fused wall time to resolution 512 from the measured rate; run with
``--resolution 512`` to measure it instead.

    python benchmarks/bench_network_grid.py --activation tanh --resolution 64 --steps 200
"""

from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np

from trainability.numeric import (
    HyperGrid,
    network_problem,
    network_scores_per_point,
    phase_image,
)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--activation", default="tanh", choices=["tanh", "relu", "linear"])
    ap.add_argument("--resolution", type=int, default=64)
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--block", type=int, default=8)
    ap.add_argument("--workers", type=int, default=os.cpu_count())
    ap.add_argument("--skip-baseline", action="store_true")
    args = ap.parse_args()

    problem = network_problem(args.activation)
    grid = HyperGrid((-3.0, 6.0), (-3.0, 6.0), args.resolution)
    work = args.resolution**2 * args.steps

    # warm-up compiles on the same shapes
    phase_image(problem, HyperGrid(resolution=args.block), steps=args.steps, block=args.block)
    img = phase_image(problem, grid, steps=args.steps, block=args.block, workers=1)
    fused_rate = work / img.seconds
    par = phase_image(problem, grid, steps=args.steps, block=args.block, workers=args.workers)
    result = {
        "activation": args.activation,
        "resolution": args.resolution,
        "steps": args.steps,
        "cpu_count": os.cpu_count(),
        "load_average_1min": os.getloadavg()[0],
        "fused_seconds": img.seconds,
        "fused_point_steps_per_second": fused_rate,
        "fused_steps_run_fraction": img.steps_run / work,
        "extrapolated_512_seconds": 512**2 * args.steps / fused_rate,
        "workers": args.workers,
        "threaded_seconds": par.seconds,
        "parallel_speedup": img.seconds / par.seconds,
        "threaded_scores_identical": bool(np.array_equal(img.score, par.score)),
    }
    if not args.skip_baseline:
        lr1, lr2, off = grid.hyperparameters()
        network_scores_per_point(problem, lr1[:256], lr2[:256], off[:256], steps=args.steps)
        t0 = time.perf_counter()
        ref = network_scores_per_point(problem, lr1, lr2, off, steps=args.steps)
        base = time.perf_counter() - t0
        same = np.mean(np.sign(ref) == np.sign(img.score.ravel()))
        result.update(
            {
                "per_point_seconds": base,
                "per_point_point_steps_per_second": work / base,
                "speedup": base / img.seconds,
                "phase_agreement": float(same),
            }
        )
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
