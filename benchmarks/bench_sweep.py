"""Sweep-engine benchmark on the Fig. 2a protocol (Liu 2024).

Workload: additive loss, eps = 0.2, lam = 0.1, x0 = 1, 1000 steps, bound 1e8, float64,
learning rates s_k = 1.5 k / N. Prints, per backend: learning rates per second, GD steps
per second (nominal lanes x steps / time), the fraction of loss evaluations skipped by early
exit, and the ratio to a plain ``jit + vmap + fori_loop + jnp.sin`` baseline measured in the
same process. The machine is shared: compare ratios, expect +-20 % noise on absolutes.

    python benchmarks/bench_sweep.py                  # 2^20 and 2^22
    python benchmarks/bench_sweep.py --levels 20 --baseline-levels 14
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import sys
import time

import jax
import jax.numpy as jnp

from trainability.analytic import family, fast_jax_kernels, jax_kernels
from trainability.numeric import learning_rates, lr_sweep
from trainability.verify import c_sweep_kernel

EPS, LAM, X0, STEPS, BOUND = 0.2, 0.1, 1.0, 1000, 1e8


def baseline_kernel():
    """The plain reference: one learning rate per vmap lane, fori_loop over steps, jnp.sin."""
    c = 2 * math.pi / LAM

    def one(s):
        def body(_, state):
            x, div = state
            f = x * x + EPS * jnp.cos(c * x)
            g = 2 * x - EPS * c * jnp.sin(c * x)
            return x - s * g, div | ~(f <= BOUND)

        x, div = jax.lax.fori_loop(0, STEPS, body, (jnp.float64(X0), jnp.bool_(False)))
        return ~(div | ~(x * x + EPS * jnp.cos(c * x) <= BOUND))

    return jax.jit(jax.vmap(one))


def time_baseline(levels: int) -> float:
    fn = baseline_kernel()
    lrs = jnp.asarray(learning_rates(levels))
    fn(lrs[:8]).block_until_ready()
    fn(lrs).block_until_ready()  # compile for this shape
    t, c = time.perf_counter(), time.process_time()
    fn(lrs).block_until_ready()
    return lrs.size / (time.perf_counter() - t), lrs.size / (time.process_time() - c)


def run(name, levels, **kw):
    land = family("additive", eps=EPS, lam=LAM)
    if name.startswith("c-"):
        kw["backend"] = c_sweep_kernel(land, name[2:])
        lg = None
    elif name == "jax-poly":
        lg = fast_jax_kernels(land).loss_and_grad
        kw.setdefault("chunk_size", 2**16)  # amortises the per-iteration while_loop overhead
    else:
        lg = jax_kernels(land).loss_and_grad
    args = dict(levels=levels, steps=STEPS, bound=BOUND, **kw)
    # Warm-up on one whole chunk (its shape is the one compiled), so compile is not timed.
    chunk_levels = int(math.log2(kw["chunk_size"])) if "chunk_size" in kw else 10
    lr_sweep(lg, X0, (EPS, LAM), **{**args, "levels": min(levels, chunk_levels)})
    cpu = time.process_time()
    r = lr_sweep(lg, X0, (EPS, LAM), **args)
    cpu = time.process_time() - cpu
    nominal = r.n_points * (STEPS + 1)
    skipped = 1 - r.evaluations / nominal if r.evaluations is not None else float("nan")
    return r, {
        "backend": name,
        "levels": levels,
        "seconds": r.seconds,
        "lr_per_s": r.n_points / r.seconds,
        "gd_steps_per_s": r.n_points * STEPS / r.seconds,
        # CPU time of all threads: less sensitive to other load on a shared machine.
        "lr_per_cpu_s": r.n_points / cpu,
        "skipped_fraction": skipped,
    }


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--levels", type=int, nargs="+", default=[20, 22])
    ap.add_argument(
        "--baseline-levels",
        type=int,
        default=16,
        help="baseline rate is measured on 2^L learning rates (it is slow)",
    )
    ap.add_argument("--backends", nargs="+", default=["c-poly", "c-libm", "jax-poly"])
    ap.add_argument("--jax-poly-max-levels", type=int, default=18)
    ap.add_argument("--libm-max-levels", type=int, default=20)
    args = ap.parse_args(argv)
    print(
        f"jax {jax.__version__} devices {jax.devices()} cores {os.cpu_count()} "
        f"load {os.getloadavg()}",
        file=sys.stderr,
    )
    base, base_cpu = time_baseline(args.baseline_levels)
    print(
        f"baseline jit+vmap+fori_loop+jnp.sin: {base:,.0f} learning rates/s "
        f"(2^{args.baseline_levels})",
        file=sys.stderr,
    )
    rows = []
    for levels in args.levels:
        for name in args.backends:
            if name.startswith("jax") and levels > args.jax_poly_max_levels:
                continue
            if name == "c-libm" and levels > args.libm_max_levels:
                continue
            before = time_baseline(args.baseline_levels)
            r, row = run(name, levels)
            after = time_baseline(args.baseline_levels)
            # The machine is shared: the baseline is re-measured around every run and the
            # ratio taken against the geometric mean of the two neighbouring measurements.
            local = math.sqrt(before[0] * after[0])
            local_cpu = math.sqrt(before[1] * after[1])
            row["baseline_lr_per_s"] = local
            row["ratio_to_baseline"] = row["lr_per_s"] / local
            row["baseline_lr_per_cpu_s"] = local_cpu
            row["cpu_ratio_to_baseline"] = row["lr_per_cpu_s"] / local_cpu
            rows.append(row)
            print(
                f"2^{levels} {name:9s} {row['lr_per_s']:>12,.0f} lr/s "
                f"{row['gd_steps_per_s']:>16,.0f} GD steps/s "
                f"skipped {row['skipped_fraction']:.3f}  x{row['ratio_to_baseline']:.1f} "
                f"(CPU time: {row['lr_per_cpu_s']:,.0f} lr/CPU-s, "
                f"x{row['cpu_ratio_to_baseline']:.1f}) "
                f"vs baseline  D={r.fit.dimension:.3f}+-{r.fit.stderr:.3f}",
                file=sys.stderr,
            )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "baseline_lr_per_s": base,
                "baseline_lr_per_cpu_s": base_cpu,
                "rows": rows,
                "peak_rss_mib": peak,
            }
        )
    )


if __name__ == "__main__":
    main()
