"""Grid-sweep benchmark: many small cells (the workload of ``trainability check`` and the
Liu (eps, lam) grids) on the compiled multi-cell kernel, cell by cell, and on JAX.

Workload: additive loss, 40 cells (eps in 0.01..0.2 x lam in 0.3..1.0), x0 = 5, 1000 steps,
2^12 + 1 learning rates per cell, float64. Prints learning rates per second (wall) and
CPU seconds per wall second (about the number of busy cores) per engine, as JSON lines.
The machine is shared: compare engines measured in the same run.

    python benchmarks/bench_grid.py --levels 12 --repeat 3
"""

from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np

from trainability.analytic import family, jax_kernels
from trainability.numeric import grid_sweep, parameter_grid
from trainability.verify import c_sweep_kernel


class CellByCell:
    """The compiled kernel without its ``sweep_cells`` method: one call per cell."""

    def __init__(self, kernel):
        self.kernel, self.name = kernel, kernel.name + "-per-cell"

    def __call__(self, lrs, x0, params, steps, bound):
        return self.kernel(lrs, x0, params, steps, bound)


def measure(label, backend, lg, values, levels, repeat):
    grid_sweep(lg, values[:1], [5.0], levels=4, backend=backend)  # compile / load once
    best = None
    for _ in range(repeat):
        t, c = time.perf_counter(), time.process_time()
        res = grid_sweep(lg, values, [5.0], levels=levels, backend=backend)
        wall, cpu = time.perf_counter() - t, time.process_time() - c
        if best is None or wall < best[0]:
            best = (wall, cpu, res)
    wall, cpu, res = best
    return {
        "engine": label,
        "cells": int(values.shape[0]),
        "learning_rates": int(res.labels.size),
        "learning_rates_per_second": round(res.labels.size / wall),
        "cpu_per_wall": round(cpu / wall, 2),
        "load_average": os.getloadavg()[0],
    }, res


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--levels", type=int, default=12)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--no-jax", action="store_true", help="skip the (slow) JAX engine")
    args = ap.parse_args(argv)
    land = family("additive")
    _, values = parameter_grid(eps=np.linspace(0.01, 0.2, 8), lam=np.linspace(0.3, 1.0, 5))
    kernel = c_sweep_kernel(land, "poly")
    rows = [
        measure("c-poly (sweep_cells)", kernel, None, values, args.levels, args.repeat),
        measure("c-poly (cell by cell)", CellByCell(kernel), None, values, args.levels, 1),
    ]
    if not args.no_jax:
        lg = jax_kernels(land).loss_and_grad
        rows.append(measure("jax", "jax", lg, values, args.levels, 1))
    ref = rows[0][1].labels
    for row, res in rows:
        row["labels_differing_from_c_poly"] = float(np.mean(res.labels != ref))
        print(json.dumps(row))


if __name__ == "__main__":
    main()
