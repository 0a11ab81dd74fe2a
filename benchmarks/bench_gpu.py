"""Fig. 2a protocol on the JAX accelerator path beside the CPU C kernel, in one process.

Workload (``bench_sweep.py``): additive loss, eps = 0.2, lam = 0.1, x0 = 1, 1000 steps,
bound 1e8, s_k = 1.5 k / N. Per level it prints, for each engine, learning rates per second
and GD steps per second (nominal lanes x steps / time), the fraction of loss evaluations
skipped (early exit, compaction), the fraction of labels differing from ``c-poly`` (the
known rounding-sensitive fraction is about 4e-4) and the ratios to the old ``jax-poly``
engine and to the plain baseline, all measured in this process:

- ``jax``: the plain baseline, ``jit + vmap + fori_loop + jnp.sin`` on all lanes at once;
- ``jax-poly/steps``: ``fast_jax_kernels`` (polynomial sin/cos) with the one-step-per-
  iteration while_loop (the engine before issue 17);
- ``jax-poly/runs`` and ``jax/runs``: the runs engine (``numeric/_runs.py``: runs of 16
  steps, fused flags, periodic lanes finished, early exit, compaction), lanes sharded
  over all JAX devices;
- ``jax-poly/runs/f32``: the runs engine in float32 (labels compared with float64 too);
- ``c-poly``: the C kernel on the CPU (all cores).

JAX runs on its default platform (a GPU when one is present); each JAX engine is warmed up
on one whole chunk first so compile time is not timed.

    python benchmarks/bench_gpu.py --levels 20 22 --chunk-levels 20      # on a GPU
    python benchmarks/bench_gpu.py --levels 16 --chunk-levels 14         # CPU smoke run
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from pathlib import Path

import jax
import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from bench_sweep import STEPS, run, time_baseline  # noqa: E402  (the Fig. 2a workload)

ENGINES = (
    ("jax-poly/steps", "jax-poly", dict(engine="steps")),
    ("jax-poly/runs", "jax-poly", dict(engine="runs")),
    ("jax/runs", "jax", dict(engine="runs")),
    ("jax-poly/runs/f32", "jax-poly", dict(engine="runs", dtype="float32")),
)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--levels", type=int, nargs="+", default=[20, 22])
    ap.add_argument("--chunk-levels", type=int, default=20, help="lanes per JAX chunk: 2^L")
    ap.add_argument(
        "--baseline-max-levels", type=int, default=20, help="plain jax baseline up to 2^L"
    )
    ap.add_argument("--skip", nargs="*", default=[], help="engine names to leave out")
    ap.add_argument(
        "--lr-range",
        type=float,
        nargs=2,
        default=(0.0, 1.5),
        help="learning-rate interval of the swept engines (the plain baseline keeps [0, 1.5]); "
        "e.g. 0.95 1.3, where most lanes diverge early and compaction pays",
    )
    ap.add_argument(
        "--mpmath",
        type=int,
        default=0,
        help="label up to N learning rates where jax-poly/runs and jax-poly/steps differ "
        "with mpmath orbits (50 and 80 digits) and count which engine matches",
    )
    args = ap.parse_args(argv)
    platform = jax.default_backend()
    print(
        f"jax {jax.__version__} platform {platform} devices {jax.devices()} "
        f"cpu cores {os.cpu_count()} load {os.getloadavg()}",
        flush=True,
    )
    for levels in args.levels:
        lr = dict(lr_min=args.lr_range[0], lr_max=args.lr_range[1])
        c, c_row = run("c-poly", levels, **lr)
        rows = [("c-poly", "cpu", c_row, c)]
        base_levels = min(levels, args.baseline_max_levels)
        t = time.perf_counter()
        before, _ = time_baseline(base_levels)
        print(f"  (baseline timed on 2^{base_levels} in {time.perf_counter() - t:.1f}s)")
        chunk = 2 ** min(args.chunk_levels, levels)
        for label, backend, kw in ENGINES:
            if label in args.skip:
                continue
            r, row = run(backend, levels, chunk_size=chunk, **kw, **lr)
            rows.append((label, platform, row, r))
        # A shared machine: the baseline is the geometric mean of a run before and after.
        base = math.sqrt(before * time_baseline(base_levels)[0])
        old = next((row["lr_per_s"] for lab, _, row, _ in rows if lab == "jax-poly/steps"), None)
        f64 = next((r.labels for lab, _, _, r in rows if lab == "jax-poly/runs"), None)
        print(
            f"2^{levels} jax (plain jit+vmap+jnp.sin) on {platform}: {base:>14,.0f} lr/s "
            f"{base * STEPS:>18,.0f} GD steps/s",
            flush=True,
        )
        for label, where, row, r in rows:
            line = (
                f"2^{levels} {label:18s} on {where}: {row['lr_per_s']:>14,.0f} lr/s "
                f"{row['gd_steps_per_s']:>18,.0f} GD steps/s "
                f"skipped {row['skipped_fraction']:.3f} "
                f"labels differing from c-poly {np.mean(r.labels != c.labels):.2e} "
                f"x{row['lr_per_s'] / base:.2f} vs plain jax"
            )
            if old:
                line += f" x{row['lr_per_s'] / old:.2f} vs jax-poly/steps"
            if label.endswith("f32") and f64 is not None:
                line += f" labels differing from float64 {np.mean(r.labels != f64):.2e}"
            print(line, flush=True)
        if args.mpmath and old and f64 is not None:
            steps_labels = next(r.labels for lab, _, _, r in rows if lab == "jax-poly/steps")
            referee(steps_labels, f64, levels, args.mpmath, *args.lr_range)


def referee(steps_labels, runs_labels, levels, most, lr_min, lr_max):
    """Which engine the mpmath reference orbit agrees with where the two engines differ."""
    from bench_sweep import EPS, LAM, X0

    from trainability.analytic import family
    from trainability.numeric import learning_rates
    from trainability.verify import reference_label

    land, lrs = family("additive", eps=EPS, lam=LAM), learning_rates(levels, lr_min, lr_max)
    differ = np.flatnonzero(steps_labels != runs_labels)
    agree = right_runs = right_steps = 0
    for i in differ[:most]:
        r50 = reference_label(land, float(lrs[i]), X0, dps=50)
        if r50 != reference_label(land, float(lrs[i]), X0, dps=80):
            continue  # undetermined even at 50 digits: rounding-sensitive
        agree += 1
        right_runs += int(runs_labels[i] == r50)
        right_steps += int(steps_labels[i] == r50)
    print(
        f"2^{levels} runs vs steps engine (jax-poly): {differ.size} labels differ; of "
        f"{min(most, differ.size)} checked, mpmath 50 and 80 digits agree on {agree}: runs "
        f"matches {right_runs}, steps matches {right_steps}",
        flush=True,
    )


if __name__ == "__main__":
    main()
