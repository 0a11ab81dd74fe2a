"""Issue 17, d dimensions: the wide (looped) C kernel against the unrolled one and numba.

Workloads (x0 as listed, 1000 steps, bound 1e8, max rule, float64, eps = 0.2, lam = 0.1):

- ``mult100`` / ``mult40`` / ``mult10``: multiplicative family, d = 100 / 40 / 10,
  x0 = 0.05 on every axis, lr in [0, 3/d] (the d = 100 range is bench_engine.py's).
- ``add100``: additive family, d = 100, x0 = 0.05 on every axis, lr in [0, 1.5].

For each: the wide kernel (``c_sweep_kernel(layout="wide")``, what ``"auto"`` picks for
d >= 5) on the full grid, with its exact diagonal shortcut (every start here is on the
diagonal) and without it (``wide-full``: the cost of a start off the diagonal), and
``--unrolled`` also the unrolled kernel on it (the kernel
before this change; compiling it takes about a minute at d = 100); the numba ``prange``
libm loop of bench_engine.py (or its additive twin here) on the nested
``--baseline-levels`` subgrid right before and after (geometric mean, same process), with
the fraction of its labels the wide kernel matches there; ``--fidelity LEVELS``: the
fraction of labels that differ from the c-libm kernels (wide and, with ``--unrolled``,
unrolled) on a grid of 2^LEVELS.

``--crossover``: wide against unrolled (one thread, CPU time, 2^12 learning rates, a seeded
start off the diagonal) for ``--dims`` of both families (what sets ``WIDE_MIN_DIM``).
``--tiles`` / ``--blocks``: the wide kernel's lanes per tile and learning rates per block
(one thread, CPU time).

    python benchmarks/bench_wide.py --workloads mult100 --levels 16 --unrolled --fidelity 14
    python benchmarks/bench_wide.py --workloads mult10 mult40 add100 --levels 16 16 16
    python benchmarks/bench_wide.py --workloads mult100 --levels 14 --one-thread
    python benchmarks/bench_wide.py --crossover --dims 2 3 4 5 6 8
    python benchmarks/bench_wide.py --tiles 4 8 16 --blocks 64 256 1024
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from bench_engine import BOUND, EPS, LAM, STEPS, _numba, numba_mult  # noqa: E402

from trainability.analytic import c_wide_sweep_source, family  # noqa: E402
from trainability.numeric import learning_rates, load_sweep_kernel  # noqa: E402
from trainability.verify import c_sweep_kernel  # noqa: E402


def numba_add(d: int, x0: float):
    """The additive family's loop as a user would write it (libm cos/sin, prange)."""
    numba = _numba()
    w = 2 * math.pi / LAM

    @numba.njit(parallel=True, cache=False)
    def run(lrs, x0):
        out = np.empty(lrs.size, np.bool_)
        for i in numba.prange(lrs.size):
            x = np.full(d, x0)
            s, ok = lrs[i], True
            for _ in range(STEPS + 1):
                f = 0.0
                for j in range(d):
                    f += x[j] * x[j] + EPS * math.cos(w * x[j])
                if not (math.isfinite(f) and f <= BOUND):
                    ok = False
                    break
                for j in range(d):
                    x[j] = x[j] - s * (2 * x[j] - EPS * w * math.sin(w * x[j]))
            out[i] = ok
        return out

    return lambda lrs: run(lrs, x0)


WORKLOADS = {
    "mult100": ("multiplicative", 100, 0.03),
    "mult40": ("multiplicative", 40, 3 / 40),
    "mult10": ("multiplicative", 10, 0.3),
    "add100": ("additive", 100, 1.5),
}


#: The clock of every rate: wall time, or with --one-thread the process's CPU time (one
#: thread each for numba and the kernels: ratios that other jobs on the machine disturb less).
CLOCK = time.perf_counter


def rate(fn, lrs):
    t = CLOCK()
    labels = fn(lrs)
    return lrs.size / (CLOCK() - t), labels


def _timed(kernel, lrs, x0, params):
    t = CLOCK()
    labels, ev = kernel(lrs, x0, params, STEPS, BOUND)
    return lrs.size / (CLOCK() - t), labels, ev


def workload(name, levels, args):
    kind, d, lr_max = WORKLOADS[name]
    land = family(kind, dim=d, eps=EPS, lam=LAM)
    x0, params = [0.05] * d, land.parameter_values()
    baseline = (numba_mult if kind == "multiplicative" else numba_add)(d, 0.05)
    lrs = learning_rates(levels, 0.0, lr_max)
    sub = learning_rates(min(args.baseline_levels, levels), 0.0, lr_max)
    threads = 1 if CLOCK is time.process_time else None
    wide = c_sweep_kernel(land, "poly", layout="wide", threads=threads)
    # Every start here is on the diagonal: "wide" takes the exact diagonal shortcut,
    # "wide-full" computes every coordinate (the cost of a start off the diagonal).
    kernels = [("wide", wide), ("wide-full", dataclasses.replace(wide, tiled=False))]
    if args.unrolled:
        kernels.append(
            ("unrolled", c_sweep_kernel(land, "poly", layout="unrolled", threads=threads))
        )
    baseline(sub[:16])
    for _, k in kernels:
        k(sub[:64], x0, params, STEPS, BOUND)
    before = rate(baseline, sub)
    runs = {label: _timed(k, lrs, x0, params) for label, k in kernels}
    after = rate(baseline, sub)
    base = math.sqrt(before[0] * after[0])
    agree = ", ".join(
        f"{label} {np.mean(before[1] == k(sub, x0, params, STEPS, BOUND)[0]):.4f}"
        for label, k in kernels
    )
    parts = [f"numba {base:,.0f} lr/s (labels agree: {agree})"]
    for label, (r, labels, ev) in runs.items():
        parts.append(
            f"{label} {r:,.0f} lr/s x{r / base:.1f} numba (evaluations "
            f"{ev / (lrs.size * (STEPS + 1)):.3f} of nominal, trainable {labels.mean():.3f})"
        )
    if "unrolled" in runs:
        w, u = runs["wide"], runs["unrolled"]
        parts.append(f"wide/unrolled x{w[0] / u[0]:.2f}, labels differ {np.mean(w[1] != u[1]):.2e}")
    print(f"{name} 2^{levels}: " + "; ".join(parts), flush=True)
    if args.fidelity:
        fl = learning_rates(args.fidelity, 0.0, lr_max)
        for label, k in kernels:
            poly, _ = k(fl, x0, params, STEPS, BOUND)
            libm_kernel = c_sweep_kernel(land, "libm", layout=label.split("-")[0])
            libm, _ = libm_kernel(fl, x0, params, STEPS, BOUND)
            print(
                f"{name} 2^{args.fidelity} fidelity: {label} c-poly vs {label} c-libm labels "
                f"differ {np.mean(poly != libm):.2e} ({np.count_nonzero(poly != libm)} of "
                f"{fl.size})",
                flush=True,
            )


def _cpu_rate(kernel, lrs, x0, params, repeats=3):
    best = 0.0
    for _ in range(repeats):
        t = time.process_time()
        labels, _ = kernel(lrs, x0, params, STEPS, BOUND)
        best = max(best, lrs.size / (time.process_time() - t))
    return best, labels


def crossover(dims):
    for kind in ("multiplicative", "additive"):
        for d in dims:
            land = family(kind, dim=d, eps=EPS, lam=LAM)
            # Off the diagonal (seeded): the generic cost, without the diagonal shortcut.
            base = 0.05 if kind == "multiplicative" else 1.0
            x0 = base * (1 + 0.2 * np.random.default_rng(d).random(d))
            params = (EPS, LAM)
            lrs = learning_rates(12, 0.0, 3 / d if kind == "multiplicative" else 1.5)
            rates = {}
            for layout in ("unrolled", "wide"):
                k = c_sweep_kernel(land, "poly", layout=layout, threads=1)
                k(lrs[:64], x0, params, STEPS, BOUND)
                rates[layout] = _cpu_rate(k, lrs, x0, params)
            (u, lu), (w, lw) = rates["unrolled"], rates["wide"]
            print(
                f"crossover {kind} d={d}: unrolled {u:,.0f} wide {w:,.0f} lr/s (1 thread, CPU "
                f"time) wide/unrolled x{w / u:.2f}, labels differ {np.mean(lu != lw):.2e}",
                flush=True,
            )


def tiles_and_blocks(tiles, blocks):
    land = family("multiplicative", dim=100, eps=EPS, lam=LAM)
    x0, params = [0.05] * 100, land.parameter_values()
    lrs = learning_rates(11, 0.0, 0.03)
    variants = [(t, b) for t in tiles for b in blocks]
    kernels = {
        v: load_sweep_kernel(
            c_wide_sweep_source(land, tile=v[0]), "c-poly", 100, 2, block=v[1], threads=1
        )
        for v in variants
    }
    best = dict.fromkeys(variants, 0.0)
    for _ in range(3):  # interleaved, so that load changes hit every variant alike
        for v, k in kernels.items():
            best[v] = max(best[v], _cpu_rate(k, lrs, x0, params, repeats=1)[0])
    top = max(best.values())
    for (t, b), r in best.items():
        print(
            f"mult100 tile {t} block {b}: {r:,.0f} lr/s (1 thread, CPU time) {r / top:.2f} of best"
        )


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workloads", nargs="*", default=[], choices=list(WORKLOADS))
    ap.add_argument("--levels", type=int, nargs="+", default=[16])
    ap.add_argument("--baseline-levels", type=int, default=12)
    ap.add_argument("--unrolled", action="store_true", help="also time the unrolled kernel")
    ap.add_argument("--fidelity", type=int, default=0, metavar="LEVELS")
    ap.add_argument(
        "--one-thread",
        action="store_true",
        help="numba and the kernels on one thread each, rates in CPU time",
    )
    ap.add_argument("--crossover", action="store_true")
    ap.add_argument("--dims", type=int, nargs="+", default=[2, 3, 4, 5, 6, 8])
    ap.add_argument("--tiles", type=int, nargs="*", default=[])
    ap.add_argument("--blocks", type=int, nargs="+", default=[256])
    args = ap.parse_args(argv)
    if args.one_thread:
        global CLOCK
        CLOCK = time.process_time
        _numba().set_num_threads(1)
    print(f"cores {os.cpu_count()} load {os.getloadavg()}", file=sys.stderr)
    levels = args.levels + args.levels[-1:] * len(args.workloads)
    for name, lv in zip(args.workloads, levels, strict=False):
        workload(name, lv, args)
    if args.crossover:
        crossover(args.dims)
    if args.tiles:
        tiles_and_blocks(args.tiles, args.blocks)


if __name__ == "__main__":
    main()
