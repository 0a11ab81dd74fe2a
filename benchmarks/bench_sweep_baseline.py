"""Learning rates per second of ``lr_sweep`` against a plain jit + vmap + fori_loop + jnp.sin
baseline, both measured in this process on the Fig. 2a protocol (additive, eps = 0.2,
lam = 0.1, x0 = 1, 1000 steps, bound 1e8, float64, s in [0, 1.5]).

    python benchmarks/bench_sweep_baseline.py [--levels 20]
"""

from __future__ import annotations

import argparse
import time

import jax
import jax.numpy as jnp
import numpy as np

from trainability.analytic import family
from trainability.numeric import boundary_counts, learning_rates
from trainability.verify import sweep_landscape

EPS, LAM, X0, STEPS, BOUND = 0.2, 0.1, 1.0, 1000, 1e8


@jax.jit
def baseline_labels(lrs):
    """The straightforward implementation: one scalar orbit per learning rate, vmapped."""
    k = 2 * jnp.pi / LAM

    def one(s):
        def body(_, state):
            x, ok = state
            x = x - s * (2 * x - EPS * k * jnp.sin(k * x))
            return x, ok & (x**2 + EPS * jnp.cos(k * x) <= BOUND)

        x0 = jnp.asarray(X0, jnp.float64)
        return jax.lax.fori_loop(0, STEPS, body, (x0, x0**2 + EPS * jnp.cos(k * x0) <= BOUND))[1]

    return jax.vmap(one)(lrs)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--levels", type=int, default=20)
    parser.add_argument("--chunk", type=int, default=2**14)
    args = parser.parse_args()
    lrs = learning_rates(args.levels)
    n = lrs.size

    # Baseline, in chunks so it runs in bounded memory too; one warm-up compile.
    baseline_labels(jnp.asarray(lrs[: args.chunk])).block_until_ready()
    t0 = time.perf_counter()
    parts = []
    for i in range(0, n, args.chunk):
        block = np.full(args.chunk, lrs[-1])
        block[: min(args.chunk, n - i)] = lrs[i : i + args.chunk]
        parts.append(np.asarray(baseline_labels(jnp.asarray(block)))[: min(args.chunk, n - i)])
    t_base = time.perf_counter() - t0
    base = np.concatenate(parts)

    land = family("additive", eps=EPS, lam=LAM)
    sweep_landscape(land, X0, levels=8, steps=STEPS)  # compile once
    t0 = time.perf_counter()
    result = sweep_landscape(land, X0, levels=args.levels, steps=STEPS, bound=BOUND)
    t_ours = time.perf_counter() - t0

    print(f"learning rates: 2^{args.levels} + 1 = {n}, steps: {STEPS}")
    print(f"baseline (jit+vmap+fori_loop+jnp.sin): {n / t_base:12,.0f} lr/s  ({t_base:.1f} s)")
    print(f"lr_sweep (default backend):            {n / t_ours:12,.0f} lr/s  ({t_ours:.1f} s)")
    print(f"ratio lr_sweep / baseline: {t_base / t_ours:.2f}x")
    print(f"label mismatch vs baseline: {np.mean(base != result.labels):.2e}")
    print(f"B_N baseline: {boundary_counts(base).tolist()}")
    print(f"B_N lr_sweep: {result.boundary_counts.tolist()}")


if __name__ == "__main__":
    main()
