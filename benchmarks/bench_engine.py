"""Issue 17 targets: the C sweep kernel against what a user would write, in one process.

Baselines (each measured on the nested level-``--baseline-levels`` subgrid, which has the
same mix of trainable and divergent learning rates as the full grid, right before and after
the kernel run; the ratio uses their geometric mean):

- ``numba``: a ``numba.njit(parallel=True)`` ``prange`` loop over learning rates with libm
  ``math.sin``/``math.cos``/``math.exp``, one orbit per learning rate, leaving the loop at
  the first divergent step (needs the optional ``bench`` extra: ``pip install numba``).
- ``jax``: plain ``jit + vmap + fori_loop + jnp.sin`` (Fig. 2a only; see bench_sweep.py).

Workloads (all: x0 as listed, 1000 steps, bound 1e8, max rule, float64):

- ``fig2a``: additive, eps = 0.2, lam = 0.1, x0 = 1, lr in [0, 1.5] (Liu 2024, Fig. 2a).
- ``gauss``: ``x**2 + eps*exp(-(x/lam)**2)``, eps = 0.2, lam = 0.1, x0 = 1, lr in [0, 1.5].
- ``mult100``: multiplicative family, d = 100, eps = 0.2, lam = 0.1, x0 = 0.05 (all axes),
  lr in [0, --mult-lr-max] (default 0.03: about half trainable).

    python benchmarks/bench_engine.py --workloads fig2a --levels 22
    python benchmarks/bench_engine.py --workloads gauss mult100 --levels 20 16
    python benchmarks/bench_engine.py --workloads gauss --levels 20 --libm
    python benchmarks/bench_engine.py --workloads fig2a gauss --levels 22 20 --scalar-tile
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from pathlib import Path

import numpy as np

from trainability.analytic import family, from_expression
from trainability.numeric import learning_rates, load_sweep_kernel
from trainability.verify import c_sweep_kernel

STEPS, BOUND, EPS, LAM = 1000, 1e8, 0.2, 0.1


def _numba():
    try:
        import numba
    except ImportError:  # pragma: no cover - optional extra
        sys.exit("numba is not installed: pip install 'trainability[bench]'")
    return numba


def numba_fig2a():
    numba = _numba()
    w = 2 * math.pi / LAM

    @numba.njit(parallel=True, cache=False)
    def run(lrs, x0):
        out = np.empty(lrs.size, np.bool_)
        for i in numba.prange(lrs.size):
            x, s, ok = x0, lrs[i], True
            for _ in range(STEPS + 1):
                f = x * x + EPS * math.cos(w * x)
                if not (math.isfinite(f) and f <= BOUND):
                    ok = False
                    break
                x = x - s * (2 * x - EPS * w * math.sin(w * x))
            out[i] = ok
        return out

    return lambda lrs: run(lrs, 1.0)


def numba_gauss():
    numba = _numba()

    @numba.njit(parallel=True, cache=False)
    def run(lrs, x0):
        out = np.empty(lrs.size, np.bool_)
        for i in numba.prange(lrs.size):
            x, s, ok = x0, lrs[i], True
            for _ in range(STEPS + 1):
                e = math.exp(-((x / LAM) ** 2))
                f = x * x + EPS * e
                if not (math.isfinite(f) and f <= BOUND):
                    ok = False
                    break
                x = x - s * (2 * x - 2 * EPS * x / LAM**2 * e)
            out[i] = ok
        return out

    return lambda lrs: run(lrs, 1.0)


def numba_mult(d: int, x0: float):
    numba = _numba()
    w = 2 * math.pi / LAM

    @numba.njit(parallel=True, cache=False)
    def run(lrs, x0):
        out = np.empty(lrs.size, np.bool_)
        for i in numba.prange(lrs.size):
            x = np.full(d, x0)
            s, ok = lrs[i], True
            for _ in range(STEPS + 1):
                r2, c = 0.0, 0.0
                for j in range(d):
                    r2 += x[j] * x[j]
                    c += math.cos(w * x[j])
                h = 1 + EPS * c
                f = r2 * h
                if not (math.isfinite(f) and f <= BOUND):
                    ok = False
                    break
                for j in range(d):
                    x[j] = x[j] - s * (2 * x[j] * h - r2 * EPS * w * math.sin(w * x[j]))
            out[i] = ok
        return out

    return lambda lrs: run(lrs, x0)


def jax_fig2a():
    sys.path.insert(0, str(Path(__file__).parent))
    import jax.numpy as jnp
    from bench_sweep import baseline_kernel

    fn = baseline_kernel()
    return lambda lrs: np.asarray(fn(jnp.asarray(lrs)).block_until_ready())


def workload(name: str, mult_lr_max: float):
    if name == "fig2a":
        land, x0, lr_max = family("additive", eps=EPS, lam=LAM), [1.0], 1.5
        baselines = {"numba": numba_fig2a(), "jax": jax_fig2a()}
    elif name == "gauss":
        land = from_expression("x**2 + eps*exp(-(x/lam)**2)", {"eps": EPS, "lam": LAM})
        x0, lr_max, baselines = [1.0], 1.5, {"numba": numba_gauss()}
    elif name == "mult100":
        land = family("multiplicative", dim=100, eps=EPS, lam=LAM)
        x0, lr_max = [0.05] * 100, mult_lr_max
        baselines = {"numba": numba_mult(100, 0.05)}
    else:
        raise SystemExit(f"unknown workload {name!r}")
    return land, x0, lr_max, baselines


def rate(fn, lrs):
    t = time.perf_counter()
    labels = fn(lrs)
    return lrs.size / (time.perf_counter() - t), labels


def timed(kernel, lrs, sub, x0, params):
    """``(lr/s, labels)`` of a second kernel on the full grid (warmed up on a few lanes)."""
    kernel(sub[:64], x0, params, STEPS, BOUND)
    t = time.perf_counter()
    labels, _ = kernel(lrs, x0, params, STEPS, BOUND)
    return lrs.size / (time.perf_counter() - t), labels


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workloads", nargs="+", default=["fig2a", "gauss", "mult100"])
    ap.add_argument("--levels", type=int, nargs="+", default=[22, 20, 16])
    ap.add_argument("--baseline-levels", type=int, default=14)
    ap.add_argument("--mult-lr-max", type=float, default=0.03)
    ap.add_argument("--stepwise", action="store_true", help="also time the stepwise driver")
    ap.add_argument(
        "--scalar-tile",
        action="store_true",
        help="also time the same source with the scalar tile (TR_VTILE 0: the driver before "
        "the register tile, one scalar loop over the block per step) on the full grid",
    )
    ap.add_argument(
        "--libm",
        action="store_true",
        help="also time the c-libm kernel on the full grid (what the vectorised polynomial "
        "exp/tanh/log and sin/cos buy over scalar libm calls in the same driver)",
    )
    args = ap.parse_args(argv)
    print(f"cores {os.cpu_count()} load {os.getloadavg()}", file=sys.stderr)
    for name, levels in zip(args.workloads, args.levels, strict=False):
        land, x0, lr_max, baselines = workload(name, args.mult_lr_max)
        kernel = c_sweep_kernel(land, "poly")
        params = land.parameter_values()
        lrs = learning_rates(levels, 0.0, lr_max)
        sub = learning_rates(min(args.baseline_levels, levels), 0.0, lr_max)
        for fn in baselines.values():  # compile
            fn(sub[:64])
        kernel(sub[:64], x0, params, STEPS, BOUND)
        drivers = [("c-poly tiled", True)] + ([("c-poly stepwise", False)] if args.stepwise else [])
        for label, tiled in drivers:
            kernel.tiled = tiled
            before = {b: rate(fn, sub) for b, fn in baselines.items()}
            t = time.perf_counter()
            labels, ev = kernel(lrs, x0, params, STEPS, BOUND)
            c_rate = lrs.size / (time.perf_counter() - t)
            after = {b: rate(fn, sub) for b, fn in baselines.items()}
            kernel.tiled = True
            sub_c, _ = kernel(sub, x0, params, STEPS, BOUND)
            parts = []
            for b in baselines:
                base = math.sqrt(before[b][0] * after[b][0])
                agree = np.mean(before[b][1] == sub_c)
                parts.append(
                    f"{b} {base:,.0f} lr/s -> x{c_rate / base:.1f} (labels agree {agree:.4f})"
                )
            if args.scalar_tile and tiled and "#define TR_VTILE 1" in kernel.source:
                scalar = load_sweep_kernel(
                    kernel.source.replace("#define TR_VTILE 1", "#define TR_VTILE 0"),
                    "c-poly",
                    kernel.dim,
                    kernel.n_params,
                    block=kernel.block,
                )
                scalar_rate, scalar_labels = timed(scalar, lrs, sub, x0, params)
                parts.append(
                    f"scalar tile {scalar_rate:,.0f} lr/s -> x{c_rate / scalar_rate:.2f} "
                    f"(labels equal {np.array_equal(scalar_labels, labels)})"
                )
            if args.libm and tiled:
                libm_rate, libm_labels = timed(c_sweep_kernel(land, "libm"), lrs, sub, x0, params)
                parts.append(
                    f"c-libm {libm_rate:,.0f} lr/s -> x{c_rate / libm_rate:.1f} "
                    f"(labels differ {np.mean(libm_labels != labels):.2e})"
                )
            print(
                f"{name} 2^{levels} {label}: {c_rate:,.0f} lr/s, "
                f"{c_rate * STEPS:,.0f} GD steps/s (nominal), "
                f"evaluations {ev / (lrs.size * (STEPS + 1)):.3f} of nominal, "
                f"trainable {labels.mean():.3f}; " + "; ".join(parts),
                flush=True,
            )


if __name__ == "__main__":
    main()
