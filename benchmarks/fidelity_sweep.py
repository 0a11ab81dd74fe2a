"""Fidelity of the fast backends against the float64 JAX backend (Fig. 2a or gauss protocol).

The JAX backend is one float64 orbit among several (XLA contracts the step's arithmetic),
not a reference; the reference for a label is an mpmath orbit. Prints B_N per level for
each backend, the fraction of labels that differ from the JAX ones, the fitted
dimensions, and, for the differing learning rates, which side a
50-digit mpmath orbit agrees with (the label-robustness check: a label that mpmath and one
float64 implementation give but not the other is rounding-sensitive).

Other workloads (eps = 0.2, lam = 0.1, x0 = 1; the polynomial exp/tanh/log of the c-poly
kernel against libm's in c-libm): ``gauss`` ``x**2 + eps*exp(-(x/lam)**2)`` (one boundary),
``expcos`` ``x**2 + eps*exp(cos(2*pi*x/lam))`` (a fractal one, exp of the polynomial cos),
``tanh`` ``x**2 + eps*tanh(x/lam)**2``, ``log`` ``x**2 + eps*log(1 + (x/lam)**2)``.

    python benchmarks/fidelity_sweep.py --levels 16 --mpmath 40
    python benchmarks/fidelity_sweep.py --workload gauss --levels 18 --mpmath 40
"""

from __future__ import annotations

import argparse
import json
import sys

import numpy as np

from trainability.analytic import family, from_expression
from trainability.verify import reference_label, sweep_landscape

WORKLOADS = {
    "gauss": "x**2 + eps*exp(-(x/lam)**2)",
    "expcos": "x**2 + eps*exp(cos(2*pi*x/lam))",
    "tanh": "x**2 + eps*tanh(x/lam)**2",
    "log": "x**2 + eps*log(1 + (x/lam)**2)",
}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--levels", type=int, default=16)
    ap.add_argument("--mpmath", type=int, default=40, help="differing lanes checked with mpmath")
    ap.add_argument("--workload", choices=("fig2a", *WORKLOADS), default="fig2a")
    args = ap.parse_args(argv)
    if args.workload in WORKLOADS:
        land = from_expression(WORKLOADS[args.workload], {"eps": 0.2, "lam": 0.1})
    else:
        land = family("additive", eps=0.2, lam=0.1)
    kw = dict(levels=args.levels, steps=1000, bound=1e8)
    ref = sweep_landscape(land, 1.0, backend="jax", **kw)
    lrs = ref.learning_rates()
    out = {
        "workload": args.workload,
        "levels": args.levels,
        "reference": {"B_N": ref.boundary_counts.tolist(), "dimension": ref.fit.dimension},
    }
    labels = {}
    for backend in ("c-poly", "c-libm", "jax-poly"):
        r = sweep_landscape(land, 1.0, backend=backend, **kw)
        labels[backend] = r.labels
        diff = np.flatnonzero(r.labels != ref.labels)
        picks = diff[:: max(1, diff.size // args.mpmath)][: args.mpmath]
        mp = [reference_label(land, float(lrs[i]), 1.0, steps=1000, bound=1e8) for i in picks]
        agree_fast = int(sum(m == r.labels[i] for m, i in zip(mp, picks, strict=True)))
        out[backend] = {
            "B_N": r.boundary_counts.tolist(),
            "dimension": r.fit.dimension,
            "dimension_stderr": r.fit.stderr,
            "mismatch_fraction": diff.size / r.n_points,
            "mismatches": int(diff.size),
            "mpmath_checked": len(picks),
            "mpmath_agrees_with_backend": agree_fast,
            "mpmath_agrees_with_reference": len(picks) - agree_fast,
        }
        print(backend, json.dumps(out[backend]), file=sys.stderr)
    # The issue-17 target: the fast kernel against the exact-libm C kernel.
    out["c-poly_vs_c-libm_mismatch_fraction"] = float(np.mean(labels["c-poly"] != labels["c-libm"]))
    print(
        "c-poly vs c-libm mismatch fraction",
        out["c-poly_vs_c-libm_mismatch_fraction"],
        file=sys.stderr,
    )
    print(json.dumps(out))


if __name__ == "__main__":
    main()
