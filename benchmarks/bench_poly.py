"""Minimax vs Taylor polynomials in the c-poly kernel: speed and labels, in one process.

Builds the ``c-poly`` sweep kernel twice from the same landscape: with the default
(minimax) coefficient tuples and with main's Taylor ones (``_TAYLOR_SINCOS``,
``_TAYLOR_HALFTURN``, ``_TAYLOR_EXP``, ``_TAYLOR_LOG``: sin/cos degrees 17/16, exp 13,
log 10 terms), by generating the C source with the Taylor tuples in place of the
defaults. Then times them alternately (``--repeats`` pairs, each pair adjacent in time, so
the ratio survives a noisy shared machine), and counts the labels that differ between
the two and from ``c-libm``. Workloads as in ``bench_engine.py`` (x0 = 1, 1000 steps,
bound 1e8, lr in [0, 1.5], float64).

    python benchmarks/bench_poly.py --workloads fig2a gauss --levels 22 20
    python benchmarks/bench_poly.py --workloads fig2a --levels 20 --repeats 1 --mpmath 60
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from contextlib import contextmanager

import numpy as np

from trainability.analytic import _codegen_c, family, from_expression
from trainability.analytic._exp import _TAYLOR_EXP, _TAYLOR_LOG
from trainability.analytic._sincos import _TAYLOR_HALFTURN, _TAYLOR_SINCOS
from trainability.numeric import learning_rates, load_sweep_kernel
from trainability.verify import c_sweep_kernel, reference_label

STEPS, BOUND = 1000, 1e8
TAYLOR = {
    "SINCOS": _TAYLOR_SINCOS,
    "HALFTURN": _TAYLOR_HALFTURN,
    "EXP": _TAYLOR_EXP,
    "LOG": _TAYLOR_LOG,
}


@contextmanager
def taylor_coefficients():
    """The C generator's polynomial tuples replaced by main's Taylor ones (this process)."""
    saved = {name: getattr(_codegen_c, name) for name in TAYLOR}
    for name, poly in TAYLOR.items():
        setattr(_codegen_c, name, poly)
    try:
        yield
    finally:
        for name, poly in saved.items():
            setattr(_codegen_c, name, poly)


def kernels(land):
    minimax = c_sweep_kernel(land, "poly")
    with taylor_coefficients():
        source = _codegen_c._c_sweep_source(land, "poly", False)  # uncached
    assert source != _codegen_c.c_sweep_source(land, "poly")
    taylor = load_sweep_kernel(source, "c-poly-taylor", land.dim, len(land.hyperparameters))
    return minimax, taylor


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workloads", nargs="+", default=["fig2a", "gauss"])
    ap.add_argument("--levels", type=int, nargs="+", default=[22, 20])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument(
        "--mpmath",
        type=int,
        default=0,
        help="check this many (seeded random) lanes where each kernel differs from c-libm "
        "against the 50-digit mpmath orbit",
    )
    args = ap.parse_args(argv)
    print(f"cores {os.cpu_count()} load {os.getloadavg()}", file=sys.stderr)
    for name, level in zip(args.workloads, args.levels, strict=False):
        if name == "fig2a":
            land = family("additive", eps=0.2, lam=0.1)
        elif name == "gauss":
            land = from_expression("x**2 + eps*exp(-(x/lam)**2)", {"eps": 0.2, "lam": 0.1})
        else:
            raise SystemExit(f"unknown workload {name!r}")
        params = land.parameter_values()
        lrs = learning_rates(level, 0.0, 1.5)
        new, old = kernels(land)
        libm = c_sweep_kernel(land, "libm")
        for k in (new, old, libm):
            k(lrs[:64], [1.0], params, STEPS, BOUND)  # load
        rates = {"minimax": [], "taylor": []}
        cpu = {"minimax": [], "taylor": []}  # lr per CPU-second (all threads): less noisy
        labels = {}
        for rep in range(args.repeats):
            order = [("minimax", new), ("taylor", old)]
            for label, k in order if rep % 2 == 0 else order[::-1]:
                t, c = time.perf_counter(), time.process_time()
                labels[label], _ = k(lrs, [1.0], params, STEPS, BOUND)
                rates[label].append(lrs.size / (time.perf_counter() - t))
                cpu[label].append(lrs.size / (time.process_time() - c))
            print(
                f"  {name} pair {rep}: {rates['minimax'][-1]:,.0f} vs "
                f"{rates['taylor'][-1]:,.0f} lr/s; {cpu['minimax'][-1]:,.0f} vs "
                f"{cpu['taylor'][-1]:,.0f} lr per CPU-s",
                file=sys.stderr,
                flush=True,
            )
        ratios = [a / b for a, b in zip(rates["minimax"], rates["taylor"], strict=True)]
        cpu_ratios = [a / b for a, b in zip(cpu["minimax"], cpu["taylor"], strict=True)]
        libm_labels, _ = libm(lrs, [1.0], params, STEPS, BOUND)
        print(
            f"{name} 2^{level}: minimax {statistics.median(rates['minimax']):,.0f} lr/s, "
            f"taylor {statistics.median(rates['taylor']):,.0f} lr/s (medians of "
            f"{args.repeats}); minimax/taylor per pair {', '.join(f'{r:.3f}' for r in ratios)} "
            f"(median {statistics.median(ratios):.3f}); per CPU-second "
            f"{', '.join(f'{r:.3f}' for r in cpu_ratios)} "
            f"(median {statistics.median(cpu_ratios):.3f}); labels differ minimax-taylor "
            f"{np.mean(labels['minimax'] != labels['taylor']):.2e}, minimax-libm "
            f"{np.mean(labels['minimax'] != libm_labels):.2e}, taylor-libm "
            f"{np.mean(labels['taylor'] != libm_labels):.2e}",
            flush=True,
        )
        if args.mpmath:
            rng = np.random.default_rng(0)
            for label in ("minimax", "taylor"):
                diff = np.flatnonzero(labels[label] != libm_labels)
                pick = rng.choice(diff, min(args.mpmath, diff.size), replace=False)
                ref = [reference_label(land, float(lrs[i]), 1.0, steps=STEPS) for i in pick]
                right = sum(r == labels[label][i] for r, i in zip(ref, pick, strict=True))
                print(
                    f"  {label} != c-libm on {diff.size} lanes; of {pick.size} checked, "
                    f"the 50-digit mpmath orbit sides with {label} {right} times",
                    flush=True,
                )


if __name__ == "__main__":
    main()
