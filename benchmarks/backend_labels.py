"""Which backend labels rounding-sensitive learning rates right? (run by hand)

Fig. 2a protocol (additive, eps = 0.2, lam = 0.1, x0 = 1, 1000 steps, bound 1e8): sweep one
level with the ``jax``, ``c-libm`` and ``c-poly`` backends, take every learning rate on which
they disagree, and label it with mpmath orbits at 50 and 80 digits. Where the two references
agree, count which backends match them. Prints one line per backend.

    python benchmarks/backend_labels.py --levels 14
"""

from __future__ import annotations

import argparse

import numpy as np

from trainability.analytic import family
from trainability.numeric import learning_rates
from trainability.verify import reference_label, sweep_landscape


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--levels", type=int, default=14)
    ap.add_argument("--max-points", type=int, default=200, help="most disputed points checked")
    args = ap.parse_args()
    land = family("additive", eps=0.2, lam=0.1)
    backends = ("jax", "c-libm", "c-poly")
    labels = {b: sweep_landscape(land, 1.0, levels=args.levels, backend=b).labels for b in backends}
    lrs = learning_rates(args.levels)
    disputed = np.flatnonzero(
        (labels["jax"] != labels["c-libm"])
        | (labels["jax"] != labels["c-poly"])
        | (labels["c-libm"] != labels["c-poly"])
    )
    print(f"{lrs.size} learning rates, {disputed.size} disputed between backends")
    checked = disputed[: args.max_points]
    agree, right = 0, dict.fromkeys(backends, 0)
    for i in checked:
        r50 = reference_label(land, float(lrs[i]), 1.0, dps=50)
        r80 = reference_label(land, float(lrs[i]), 1.0, dps=80)
        if r50 != r80:
            continue  # undetermined even at 50 digits
        agree += 1
        for b in backends:
            right[b] += int(labels[b][i] == r50)
    print(f"{checked.size} checked, references (50 and 80 digits) agree on {agree}")
    for b in backends:
        print(f"{b:7s} matches the reference on {right[b]} of {agree}")


if __name__ == "__main__":
    main()
