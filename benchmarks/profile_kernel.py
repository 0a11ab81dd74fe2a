"""Issue 17 profile: what limits the C sweep kernel, without hardware counters.

This machine is a VM without ``perf`` hardware events, so the profile is assembled from
three measurements of the same compiled kernel (``verify.c_sweep_kernel`` of a workload of
``bench_engine.py``):

1. **Clock**: a chain of dependent ``vfmadd`` (4 cycles each on Zen 2/3 and on Intel since
   Skylake; ``--fma-latency`` otherwise) timed natively gives cycles per second.
2. **Native rate**: the kernel on one thread, ``evaluations / second``, i.e. lane-steps per
   second, hence cycles per lane-step.
3. **Dynamic instruction mix**: the same kernel driven by a small C program under
   ``valgrind --tool=callgrind --dump-instr=yes`` on a smaller sweep (same learning-rate
   range, so the same mix of trainable and divergent lanes); every executed instruction of the
   kernel's shared object is classified from ``objdump -d`` (FMA/multiply, add, blend,
   logic/compare, other vector, scalar/integer, branch; memory operands counted as loads or
   stores), per lane-step.

From the mix and a port model (default: AMD Zen 3, 6 ops dispatched per cycle, 4 FP pipes of
which 2 multiply/FMA, 3 loads and 2 stores per cycle) it prints the throughput lower bound
of each resource in cycles per lane-step, the measured cycles per lane-step, IPC, and which
bound is closest. A measured cost far above every throughput bound means the loop is bound
by its dependency chains (the out-of-order window cannot overlap enough lane-steps), not
by a pipe.

    python benchmarks/profile_kernel.py --workloads fig2a gauss
    python benchmarks/profile_kernel.py --workloads fig2a --native-level 20 --valgrind-lanes 8192

Needs gcc, objdump and valgrind (all in the Debian image); ``numba`` is not needed.
"""

from __future__ import annotations

import argparse
import collections
import ctypes
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))

from bench_engine import BOUND, STEPS  # noqa: E402  (the workloads' protocol)

from trainability.analytic import family, from_expression  # noqa: E402
from trainability.numeric import learning_rates  # noqa: E402
from trainability.verify import c_sweep_kernel  # noqa: E402

#: (landscape, x0, lr_max, hyperparameter values) of the profiled workloads; the same
#: protocol as ``bench_engine.workload`` (without its numba/JAX baselines).
WORKLOADS = {
    "fig2a": lambda: (family("additive", eps=0.2, lam=0.1), [1.0], 1.5),
    "gauss": lambda: (
        from_expression("x**2 + eps*exp(-(x/lam)**2)", {"eps": 0.2, "lam": 0.1}),
        [1.0],
        1.5,
    ),
    "mult100": lambda: (family("multiplicative", dim=100, eps=0.2, lam=0.1), [0.05] * 100, 0.03),
}

_CLOCK_PROBE = r"""
#include <immintrin.h>
double tr_fma_chain(long n) {
    __m256d x = _mm256_set1_pd(1.0), y = _mm256_set1_pd(0.999999), z = _mm256_set1_pd(1e-9);
    for (long i = 0; i < n; ++i) x = _mm256_fmadd_pd(x, y, z);
    double o[4]; _mm256_storeu_pd(o, x); return o[0];
}
"""

_DRIVER = r"""
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
typedef long (*sweep_t)(long, long, const double *, const double *, const double *, long,
                        double, uint8_t *, long, int, int, int, int, int);
int main(int argc, char **argv) {
    /* kernel.so n lr_max steps bound block d x0... -- p... */
    void *h = dlopen(argv[1], RTLD_NOW);
    if (!h) { fprintf(stderr, "%s\n", dlerror()); return 2; }
    sweep_t f = (sweep_t)dlsym(h, "tr_sweep_cells");
    long n = atol(argv[2]), steps = atol(argv[4]), block = atol(argv[6]), d = atol(argv[7]);
    double lr_max = atof(argv[3]), bound = atof(argv[5]);
    double *lrs = malloc(8 * n), *x0 = malloc(8 * d), P[64];
    uint8_t *labels = malloc(n);
    for (long i = 0; i < n; ++i) lrs[i] = lr_max * (i + 1) / n;
    for (long j = 0; j < d; ++j) x0[j] = atof(argv[8 + j]);
    int np = 0;
    for (int a = 9 + d; a < argc; ++a) P[np++] = atof(argv[a]);
    long ev = f(1, n, lrs, x0, P, steps, bound, labels, block, 1, 1, 0, 0, 1);
    long t = 0;
    for (long i = 0; i < n; ++i) t += labels[i];
    printf("%ld %ld\n", ev, t);
    return 0;
}
"""

#: Port model: (ops dispatched per cycle, FP pipes, FMA/multiply pipes, loads, stores).
ZEN3 = {"dispatch": 6, "fp": 4, "fma": 2, "load": 3, "store": 2}


def _compile(source: str, out: Path, flags: list[str], shared: bool = True) -> Path:
    src = out.with_suffix(".c")
    src.write_text(source)
    cmd = ["gcc", *flags, str(src), "-o", str(out)]
    cmd += ["-shared", "-fPIC"] if shared else ["-ldl", "-Wl,--no-as-needed", "-lm", "-fopenmp"]
    subprocess.run(cmd, check=True, capture_output=True, text=True)
    return out


def clock_ghz(tmp: Path, fma_latency: float) -> float:
    lib = ctypes.CDLL(str(_compile(_CLOCK_PROBE, tmp / "clock.so", ["-O2", "-mavx2", "-mfma"])))
    lib.tr_fma_chain.restype = ctypes.c_double
    lib.tr_fma_chain.argtypes = [ctypes.c_long]
    n, best = 200_000_000, np.inf
    for _ in range(3):
        t = time.perf_counter()
        lib.tr_fma_chain(n)
        best = min(best, time.perf_counter() - t)
    return fma_latency * n / best / 1e9


def native_rate(kernel, lrs, x0, params) -> tuple[float, float]:
    """(lane-steps per second on one thread, trainable fraction), best of three."""
    best, frac = 0.0, 0.0
    for _ in range(3):
        t = time.perf_counter()
        labels, evaluations = kernel(lrs, x0, params, STEPS, BOUND)
        best = max(best, evaluations / (time.perf_counter() - t))
        frac = float(np.mean(labels))
    return best, frac


def _callgrind_self_costs(path: Path, obj: str) -> dict[int, int]:
    """Executed count of every instruction address (self cost) of object ``obj``."""
    counts: dict[int, int] = collections.Counter()
    in_obj, skip_next, last = False, False, 0
    names: dict[str, str] = {}
    for line in path.read_text().splitlines():
        if line.startswith(("ob=", "cob=")):
            m = re.match(r"c?ob=\((\d+)\)(?: (.*))?", line)
            if m and m.group(2):
                names[m.group(1)] = m.group(2)
            if line.startswith("ob=") and m:
                in_obj = names.get(m.group(1), "") == obj
            continue
        if line.startswith("calls="):
            skip_next = True
            continue
        if not line or not (line[0] in "+-*" or line.startswith("0x")):
            continue
        parts = line.split()
        pos = parts[0]
        if pos == "*":
            addr = last
        elif pos[0] in "+-":
            addr = last + int(pos, 0)
        else:
            addr = int(pos, 16)
        last = addr
        if skip_next:
            skip_next = False
            continue
        if in_obj and len(parts) >= 3:
            counts[addr] += int(parts[2])
    return counts


def _classify(mnemonic: str, operands: str) -> str:
    """The resource class of one instruction (what the port bounds count)."""
    m = mnemonic
    # FMA (vfmadd/vfnmadd/vfmsub/vfnmsub), multiply and divide share the two FMA pipes.
    if re.match(r"v?(f(n)?m(add|sub)|mul[ps]d|div[ps]d)", m):
        return "fma/mul"
    if m.startswith(("vaddpd", "vsubpd", "vaddsd", "vsubsd", "addsd", "subsd", "vminpd", "vmaxpd")):
        return "add"
    if "blendv" in m:
        return "blend"
    if re.match(r"v(p?and|p?or|p?xor|andn|pandn|cmp|pcmp)", m):
        return "logic/cmp"
    if m.startswith("j") or m in ("call", "ret"):
        return "branch"
    if m.startswith("v") and ("ymm" in operands or "xmm" in operands):
        return "other vector"
    return "scalar/int"


def instruction_mix(so: Path, counts: dict[int, int]) -> dict[str, float]:
    text = subprocess.run(
        ["objdump", "-d", "--no-show-raw-insn", str(so)], check=True, capture_output=True, text=True
    ).stdout
    mix: dict[str, float] = collections.Counter()
    for line in text.splitlines():
        m = re.match(r"\s*([0-9a-f]+):\s+(\S+)\s*(.*)", line)
        if not m:
            continue
        n = counts.get(int(m.group(1), 16), 0)
        if not n:
            continue
        mnemonic, operands = m.group(2), m.group(3)
        mix[_classify(mnemonic, operands)] += n
        mix["op " + mnemonic] += n
        mix["total"] += n
        if "(" in operands and not mnemonic.startswith(("lea", "nop", "prefetch")):
            # AT&T: the last operand is the destination; memory there is a store
            mem_dst = operands.rsplit(",", 1)[-1].strip().endswith(")")
            mix["stores" if mem_dst and "," in operands else "loads"] += n
    return mix


def profile(name: str, args, tmp: Path, ghz: float) -> None:
    land, x0, lr_max = WORKLOADS[name]()
    params = [float(v) for v in land.parameter_values()]
    kernel = c_sweep_kernel(land)
    kernel.threads = 1
    lrs = learning_rates(args.native_level, 0.0, lr_max)
    rate, frac = native_rate(kernel, lrs, np.asarray(x0, float), np.asarray(params, float))
    cycles = ghz * 1e9 / rate

    so = _compile(kernel.source, tmp / f"{name}.so", list(kernel.flags) or ["-O3"], shared=True)
    drv = _compile(_DRIVER, tmp / "drv", ["-O2"], shared=False)
    out = tmp / f"{name}.callgrind"
    argv = [str(so), str(args.valgrind_lanes), repr(lr_max), str(STEPS), repr(BOUND)]
    argv += [str(kernel.block), str(land.dim), *map(repr, x0), "--", *map(repr, params)]
    run = subprocess.run(
        [
            "valgrind",
            "--tool=callgrind",
            "--dump-instr=yes",
            f"--callgrind-out-file={out}",
            str(drv),
        ]
        + argv,
        check=True,
        capture_output=True,
        text=True,
    )
    evaluations = int(run.stdout.split()[0])
    mix = instruction_mix(so, _callgrind_self_costs(out, str(so)))
    per = {k: v / evaluations for k, v in mix.items()}
    fp = sum(per.get(k, 0.0) for k in ("fma/mul", "add", "blend", "logic/cmp", "other vector"))
    bounds = {
        "dispatch": per["total"] / ZEN3["dispatch"],
        "FP pipes": fp / ZEN3["fp"],
        "FMA/mul pipes": (per.get("fma/mul", 0.0) + per.get("blend", 0.0)) / ZEN3["fma"],
        "loads": per.get("loads", 0.0) / ZEN3["load"],
        "stores": per.get("stores", 0.0) / ZEN3["store"],
    }
    top = max(bounds, key=bounds.get)
    print(
        f"\n{name}: d={land.dim}, native 1 thread {rate / 1e6:.1f}M lane-steps/s, "
        f"{cycles:.2f} cycles/lane-step at {ghz:.2f} GHz (trainable {frac:.3f})"
    )
    print(
        f"  executed instructions per lane-step (callgrind, 2^{int(np.log2(args.valgrind_lanes))}"
        f" lanes): {per['total']:.1f}  IPC {per['total'] / cycles:.2f}"
    )
    print(
        "  mix per lane-step: "
        + ", ".join(
            f"{k} {per.get(k, 0.0):.2f}"
            for k in (
                "fma/mul",
                "add",
                "blend",
                "logic/cmp",
                "other vector",
                "scalar/int",
                "branch",
                "loads",
                "stores",
            )
        )
    )
    ops = sorted((k for k in per if k.startswith("op ")), key=per.get, reverse=True)
    print(
        "  top instructions per lane-step: " + ", ".join(f"{k[3:]} {per[k]:.2f}" for k in ops[:10])
    )
    print(
        "  throughput bounds (cycles/lane-step, Zen 3 ports): "
        + ", ".join(f"{k} {v:.2f}" for k, v in bounds.items())
    )
    print(
        f"  measured / largest bound ({top}) = {cycles / bounds[top]:.2f}"
        + (
            "  -> latency-bound (dependency chains), not a pipe"
            if cycles > 1.5 * bounds[top]
            else f"  -> bound by {top}"
        )
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--workloads", nargs="+", default=["fig2a", "gauss"], choices=sorted(WORKLOADS))
    ap.add_argument("--native-level", type=int, default=18)
    ap.add_argument("--valgrind-lanes", type=int, default=4096)
    ap.add_argument("--fma-latency", type=float, default=4.0)
    args = ap.parse_args()
    for tool in ("gcc", "objdump", "valgrind"):
        if shutil.which(tool) is None:
            sys.exit(f"profile_kernel: {tool} is not installed")
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        ghz = clock_ghz(tmp, args.fma_latency)
        print(f"clock {ghz:.2f} GHz (dependent vfmadd chain at {args.fma_latency:g} cycles)")
        for name in args.workloads:
            profile(name, args, tmp, ghz)


if __name__ == "__main__":
    main()
