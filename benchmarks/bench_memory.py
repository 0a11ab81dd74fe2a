"""Peak resident memory of a large streamed sweep (Fig. 2a protocol, 2^L learning rates).

Runs the sweep chunk by chunk into a result store (labels bit-packed on disk, boundary
counts accumulated on the fly) and prints the peak RSS, the time, B_N and the dimension.

    python benchmarks/bench_memory.py --levels 28 --out /tmp/sweep-store
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile

from trainability.analytic import family
from trainability.verify import sweep_landscape


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--levels", type=int, default=28)
    ap.add_argument("--backend", default="c-poly")
    ap.add_argument("--out", default=None, help="store folder (default: a temporary one)")
    ap.add_argument("--resume", action="store_true")
    args = ap.parse_args(argv)
    land = family("additive", eps=0.2, lam=0.1)
    with tempfile.TemporaryDirectory() as tmp:
        r = sweep_landscape(
            land,
            1.0,
            backend=args.backend,
            out=args.out or tmp,
            resume=args.resume,
            levels=args.levels,
            steps=1000,
            bound=1e8,
            progress=True,
        )
        store_bytes = sum(p.stat().st_size for p in r.path.iterdir())
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    summary = {
        "levels": args.levels,
        "backend": args.backend,
        "n_points": r.n_points,
        "seconds": r.seconds,
        "lr_per_s": r.n_points / r.seconds if r.chunks_computed else None,
        "skipped_fraction": 1 - r.evaluations / (r.n_points * 1001)
        if r.chunks_computed and not r.chunks_reused
        else None,
        "peak_rss_mib": peak,
        "store_mib": store_bytes / 2**20,
        "boundary_counts": r.boundary_counts.tolist(),
        "dimension": r.fit.dimension,
        "dimension_stderr": r.fit.stderr,
        "chunks_computed": r.chunks_computed,
        "chunks_reused": r.chunks_reused,
    }
    print(json.dumps(summary))
    print(f"peak RSS {peak:.0f} MiB for 2^{args.levels} learning rates", file=sys.stderr)


if __name__ == "__main__":
    main()
