"""Fig. 2a protocol on the JAX accelerator path beside the CPU C kernel, in one process.

Runs the ``jax-poly`` sweep (``fast_jax_kernels``: polynomial sin/cos; learning rates
sharded over all JAX devices by ``lr_sweep``) on the default JAX platform (a GPU when one
is present), and the ``c-poly`` C kernel on the CPU, and prints per backend: learning rates
per second and GD steps per second (nominal lanes x steps / time), the fraction of
evaluations skipped, and the fraction of labels that differ from ``c-poly`` (the known
rounding-sensitive fraction is about 4e-4).

    python benchmarks/bench_gpu.py --levels 20 22 --chunk-levels 20

Not run in CI: on a CPU-only machine it measures the JAX CPU backend (slow).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import jax
import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from bench_sweep import run  # noqa: E402  (the Fig. 2a workload and its timing)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--levels", type=int, nargs="+", default=[20, 22])
    ap.add_argument("--chunk-levels", type=int, default=20, help="lanes per JAX chunk: 2^L")
    args = ap.parse_args(argv)
    print(
        f"jax {jax.__version__} platform {jax.default_backend()} devices {jax.devices()} "
        f"cpu cores {os.cpu_count()} load {os.getloadavg()}",
        flush=True,
    )
    for levels in args.levels:
        c, c_row = run("c-poly", levels)
        j, j_row = run("jax-poly", levels, chunk_size=2**args.chunk_levels)
        for row, r in ((c_row, c), (j_row, j)):
            print(
                f"2^{levels} {row['backend']:8s} on {'cpu' if r is c else jax.default_backend()}: "
                f"{row['lr_per_s']:>14,.0f} lr/s {row['gd_steps_per_s']:>18,.0f} GD steps/s "
                f"skipped {row['skipped_fraction']:.3f} "
                f"labels differing from c-poly {np.mean(r.labels != c.labels):.2e}",
                flush=True,
            )


if __name__ == "__main__":
    main()
