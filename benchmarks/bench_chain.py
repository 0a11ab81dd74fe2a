r"""Shorter dependency chains for the c-poly sin/cos and exp: variants timed in one process.

``profile_kernel.py`` found the Fig. 2a kernel latency-bound (~8-10 cycles per lane-step
against port bounds of ~3.7), so the length of one GD step's chain of dependent float
operations should set its speed. This prototype rewrites the polynomials of the C template
(:data:`trainability.analytic._codegen_c._TRANSCENDENTALS`: ``tr_reduce``, ``tr_sin_r``,
``tr_cos_r``, ``tr_hsin``, ``tr_hcos``, ``tr_exp_scaled`` and their vector twins), builds
one ``c-poly`` kernel per variant (and per ``--tiles`` lanes per register tile) from the
same landscape, times them on ``--threads`` (1) OpenMP threads in interleaved rounds (each
round runs every variant once, in a rotated order, so drift of the shared machine hits all
alike; best and median of the rounds, wall-clock and CPU time) and counts the labels that
differ from ``c-libm``:

- ``horner`` the default: three-part Cody-Waite ``((u - n P1) - n P2) - n P3``, Horner
  for ``S(z)`` (6 coefficients) and ``C(z)`` (7), ``sin r = r + r (z S)``.
- ``estrin`` Estrin's scheme for ``S`` and ``C`` (pairs ``c_k + z c_{k+1}`` in parallel,
  combined with ``z^2`` and ``z^4``): the chain after ``z`` is 3 dependent operations
  instead of 5 (S) and 6 (C).
- ``fma2`` two-constant reduction ``r = (u - n P1) - n P2`` with ``P1 = double(pi/2)``,
  ``P2 = double(pi/2 - P1)``; gcc contracts both into FMAs (``-ffp-contract=fast`` is
  gcc's default in GNU C), so ``n P1`` is not rounded. Then ``u - n P1`` is exact for every
  ``|u| <= R`` (``n = 0``: it is ``u``; else ``|u| > pi/4``, ``u`` and ``n P1`` are
  multiples of ``2^-53`` and the difference is below 1 in magnitude) and what is left is
  the second FMA's one rounding plus the tail ``|n| |pi/2 - P1 - P2| <= |n| 2^-107``.
  :func:`check_two_constant` checks this in exact rationals (printed with the timings).
  Valid only where FMAs are emitted: the NumPy and JAX mirrors, without a fused
  multiply-add, round ``n P1`` (errors of ~1e6 units of 2^-53 at ``|u|`` near ``R``).
- ``rz`` ``sin r = (r z) S + r``: ``r z`` is computed while ``S`` is evaluated, one
  multiplication off the chain.
- ``all`` the three together.
- ``halfturn`` the default text built with ``half_turn=True`` (an argument whose sine or
  cosine alone the gradient needs takes the certified half-turn polynomial, HALFTURN:
  one polynomial of 8 coefficients instead of two of 6 and 7 and the quadrant select);
  ``halfturn-estrin`` that polynomial by Estrin.
- ``exp-estrin``, ``exp-horner2`` (``gauss`` workload): the degree-12 exp polynomial by
  Estrin (pairs, then ``z^2``, ``z^4``, ``z^8``) or by second-order Horner
  (``E(z^2) + z O(z^2)``).

Labels against ``c-libm`` are printed per variant (the issue's fidelity target: no more
than the rounding-sensitive fraction, about 4e-4 at 2^16 to 2^22). Only ``horner`` (the
default) and ``halfturn`` have certified error bounds (``sincos_error_bound``); the other
variants are prototypes.

Measured here (2-core shared EPYC, 1 thread, Fig. 2a 2^17-2^20): no quarter-turn variant
reaches 1.15x over ``horner`` at 16 lanes per tile (0.89-1.12x over runs; Estrin adds
~150 ymm spills and reloads to the compiled file, so at 16 lanes the shorter chain is
paid for in register pressure; at 8 lanes ``all`` is 1.15x over ``horner`` at 8, still
slower than ``horner`` at 16); ``exp-estrin`` 1.03-1.21x on gauss; ``halfturn``
1.04-1.25x and ``halfturn-estrin`` 1.10-1.35x (best of rounds; medians 1.16-1.20x).

    python benchmarks/bench_chain.py --level 18 --rounds 9
    python benchmarks/bench_chain.py --level 17 --rounds 15 \
        --variants horner halfturn halfturn-estrin
    python benchmarks/bench_chain.py --workload gauss --level 18 --rounds 11 \
        --variants horner exp-estrin
    python benchmarks/bench_chain.py --level 17 --rounds 11 --tiles 8 16 --variants horner all
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from contextlib import contextmanager

import mpmath
import numpy as np

from trainability.analytic import _codegen_c, family, from_expression
from trainability.analytic._exp import EXP
from trainability.analytic._sincos import HALFTURN, SINCOS
from trainability.numeric import learning_rates, load_sweep_kernel
from trainability.verify import c_sweep_kernel

STEPS, BOUND, X0 = 1000, 1e8, 1.0  # the bench_engine.py / bench_poly.py Fig. 2a protocol

_REDUCE = """@INL@ @T@ tr_@v@reduce(@T@ u, @I@ *q) {{
    @T@ t = u * {two_over_pi!r} + 6755399441055744.0;
    *q = tr_@v@as_i(t) & 3;
    @T@ n = t - 6755399441055744.0;
    return ((u - n * {P1!r}) - n * {P2!r}) - n * {P3!r};
}}"""
_SIN_R = """@INL@ @T@ tr_@v@sin_r(@T@ r) {{
    @T@ z = r * r;
{sin_horner}
    return r + r * (z * s);
}}"""
_COS_R = """@INL@ @T@ tr_@v@cos_r(@T@ r) {{
    @T@ z = r * r;
{cos_horner}
    return 1.0 + z * c;
}}"""


def _two_constant() -> tuple[float, float]:
    with mpmath.workdps(60):
        p1 = float(mpmath.pi / 2)
        return p1, float(mpmath.pi / 2 - mpmath.mpf(p1))


def check_two_constant(samples: int, seed: int = 0) -> tuple[int, int, float]:
    """Exact-arithmetic check of the ``fma2`` reduction's claims on ``3 * samples`` seeded
    arguments (uniform on ``[-R, R]``, log-uniform magnitudes ``1e-300 .. R`` of either
    sign, and the float64 neighbours of ``k pi/2`` for random ``|k| < 2^20``): with ``n`` as
    the kernel rounds it, ``u - n P1`` (the first FMA, its product not rounded) is a float64
    (exact, checked in rationals), and ``r`` (the second FMA rounded once) is compared with
    the 60-digit ``u - n pi/2``. Returns ``(arguments, inexact first FMAs, max |error|
    in units of 2^-53)``."""
    from fractions import Fraction

    rng = np.random.default_rng(seed)
    R, p1, p2 = SINCOS.R, *_two_constant()
    with mpmath.workdps(60):
        k = rng.integers(-(2**20) + 2, 2**20 - 2, samples)
        near = np.array([float(mpmath.mpf(int(j)) * mpmath.pi / 2) for j in k])
        near = near[np.abs(near) <= R]
        mags = np.exp(rng.uniform(np.log(1e-300), np.log(R), samples))
        u = np.concatenate(
            [
                rng.uniform(-R, R, samples),
                mags * rng.choice([-1.0, 1.0], samples),
                np.nextafter(near, np.inf),
                np.nextafter(near, -np.inf),
            ]
        )
        inexact, worst = 0, mpmath.mpf(0)
        for x in u:
            n = float(np.round(x * SINCOS.two_over_pi))
            first = Fraction(x) - Fraction(n) * Fraction(p1)
            inexact += Fraction(float(first)) != first
            r = float(Fraction(float(first)) - Fraction(n) * Fraction(p2))  # one rounding
            worst = max(worst, abs(mpmath.mpf(r) - (mpmath.mpf(x) - n * mpmath.pi / 2)))
        return u.size, inexact, float(worst * 2**53)


def _estrin(v: str, c: tuple[float, ...]) -> str:
    """C Estrin evaluation of ``sum c_k z^k`` into ``v`` (6 or 7 coefficients), with ``z2``
    and ``z4`` declared by the caller's text; the pairs are independent."""
    pairs = [f"({c[k]!r} + z * {c[k + 1]!r})" for k in range(0, len(c) - 1, 2)]
    if len(c) % 2:
        pairs.append(repr(c[-1]))
    if len(c) == 6:  # a0 + z2 a1 + z4 a2 = a0 + z2 (a1 + z2 a2)
        return f"    @T@ {v} = {pairs[0]} + z2 * ({pairs[1]} + z2 * {pairs[2]});"
    if len(c) == 7:  # (a0 + z2 a1) + z4 (a2 + z2 c6)
        return (
            f"    @T@ {v} = ({pairs[0]} + z2 * {pairs[1]}) + z4 * ({pairs[2]} + z2 * {pairs[3]});"
        )
    raise ValueError("Estrin prototype for 6 or 7 coefficients")


def estrin_expression(c: tuple[float, ...]) -> tuple[str, int]:
    """Estrin's scheme for ``sum c_k z^k`` as one C expression: pairs ``c_k + z c_{k+1}``,
    then pairs of those with ``z2``, ``z4``, ``z8``, ... Returns the expression and the
    number of squarings it needs (``z2`` for 1, ``z4`` for 2, ...)."""
    terms = [repr(x) for x in c]
    power, squarings = "z", 0
    while len(terms) > 1:
        merged = [f"({terms[k]} + {power} * {terms[k + 1]})" for k in range(0, len(terms) - 1, 2)]
        if len(terms) % 2:
            merged.append(terms[-1])
        terms = merged
        if len(terms) > 1:
            squarings += 1
            power = f"z{2**squarings}"
    return terms[0], squarings


def horner2_expression(c: tuple[float, ...]) -> str:
    """Second-order Horner ``E(z2) + z O(z2)`` (even and odd coefficients, two independent
    Horner chains in ``z2``) as one C expression."""

    def horner(cs):
        text = repr(cs[-1])
        for x in cs[-2::-1]:
            text = f"({x!r} + z2 * {text})"
        return text

    return f"{horner(c[0::2])} + z * {horner(c[1::2])}"


def exp_template(scheme: str) -> str:
    """:data:`_TRANSCENDENTALS` with the exp polynomial (``tr_exp_scaled``) evaluated by
    ``scheme``: ``"estrin"`` or ``"horner2"``."""
    text = _codegen_c._TRANSCENDENTALS
    assert text.count("{exp_horner}") == 1, "the C template changed: update bench_chain.py"
    if scheme == "horner2":
        return text.replace(
            "{exp_horner}",
            f"    @T@ z2 = z * z;\n    @T@ q = {horner2_expression(EXP.coefficients)};",
        )
    return text.replace("{exp_horner}", estrin_statements("q", EXP.coefficients))


def estrin_statements(v: str, c: tuple[float, ...]) -> str:
    """C lines declaring the powers ``z2, z4, ...`` Estrin needs and ``v`` (type ``@T@``)."""
    expr, squarings = estrin_expression(c)
    if not squarings:
        return f"    @T@ {v} = {expr};"
    bases = ["z"] + [f"z{2**j}" for j in range(1, squarings)]
    powers = ", ".join(f"z{2 ** (j + 1)} = {b} * {b}" for j, b in enumerate(bases))
    return f"    @T@ {powers};\n    @T@ {v} = {expr};"


def halfturn_template() -> str:
    """:data:`_TRANSCENDENTALS` with the half-turn polynomials (``tr_hsin``, ``tr_hcos``)
    by Estrin."""
    text = _codegen_c._TRANSCENDENTALS
    for key in ("{hsin_horner}", "{hcos_horner}"):
        assert text.count(key) == 1, "the C template changed: update bench_chain.py"
    text = text.replace("{hsin_horner}", estrin_statements("s", HALFTURN.sin_coefficients))
    return text.replace("{hcos_horner}", estrin_statements("c", HALFTURN.cos_coefficients))


def variant_template(estrin: bool, fma2: bool, rz: bool) -> str:
    """:data:`_TRANSCENDENTALS` with the quarter-turn functions rewritten."""
    text = _codegen_c._TRANSCENDENTALS
    for part in (_REDUCE, _SIN_R, _COS_R):
        assert part in text, "the C template changed: update bench_chain.py"
    s, c = SINCOS.sin_coefficients, SINCOS.cos_coefficients
    sin_r, cos_r, reduce = _SIN_R, _COS_R, _REDUCE
    if estrin:
        sin_r = sin_r.replace("{sin_horner}", "    @T@ z2 = z * z;\n" + _estrin("s", s))
        cos_r = cos_r.replace(
            "{cos_horner}", "    @T@ z2 = z * z, z4 = z2 * z2;\n" + _estrin("c", c)
        )
    if rz:
        sin_r = sin_r.replace("    return r + r * (z * s);", "    return (r * z) * s + r;")
        sin_r = sin_r.replace("    @T@ z = r * r;", "    @T@ z = r * r; @T@ rz = r * z;")
        sin_r = sin_r.replace("(r * z) * s + r", "rz * s + r")
    if fma2:
        p1, p2 = _two_constant()
        reduce = reduce.replace(
            "return ((u - n * {P1!r}) - n * {P2!r}) - n * {P3!r};",
            f"return (u - n * {p1!r}) - n * {p2!r};",
        )
    return text.replace(_REDUCE, reduce).replace(_SIN_R, sin_r).replace(_COS_R, cos_r)


#: variant -> (template, workloads it applies to)
VARIANTS = {
    "horner": lambda: _codegen_c._TRANSCENDENTALS,
    "estrin": lambda: variant_template(True, False, False),
    "fma2": lambda: variant_template(False, True, False),
    "rz": lambda: variant_template(False, False, True),
    "all": lambda: variant_template(True, True, True),
    "exp-estrin": lambda: exp_template("estrin"),
    "exp-horner2": lambda: exp_template("horner2"),
    "halfturn": lambda: _codegen_c._TRANSCENDENTALS,  # the default text, half_turn=True
    "halfturn-estrin": halfturn_template,
}
#: variants built with ``c_sweep_source(..., half_turn=True)``: an argument whose sine or
#: cosine alone the gradient needs takes the certified half-turn polynomial (HALFTURN)
HALF_TURN = {"halfturn", "halfturn-estrin"}
WORKLOADS = {
    "fig2a": lambda: family("additive", eps=0.2, lam=0.1),
    "gauss": lambda: from_expression("x**2 + eps*exp(-(x/lam)**2)", {"eps": 0.2, "lam": 0.1}),
}


@contextmanager
def template(text: str):
    """The C generator's preludes built from ``text`` (this process only)."""
    saved = _codegen_c._PRELUDE, _codegen_c._VECTOR_PRELUDE
    _codegen_c._PRELUDE = _codegen_c._PRELUDE_HEADER + _codegen_c._instantiate(text, "scalar")
    _codegen_c._VECTOR_PRELUDE = _codegen_c._VECTOR_HEADER + _codegen_c._instantiate(text, "vector")
    try:
        yield
    finally:
        _codegen_c._PRELUDE, _codegen_c._VECTOR_PRELUDE = saved


def build(land, name: str, tile: int, threads: int):
    """The c-poly kernel of ``land`` with variant ``name`` and ``tile`` lanes per register
    tile (``_codegen_c._TILE``, a multiple of 4: ``tile // 4`` interleaved AVX2 vectors)."""
    saved = _codegen_c._TILE
    _codegen_c._TILE = tile
    try:
        with template(VARIANTS[name]()):
            source = _codegen_c._c_sweep_source(land, "poly", name in HALF_TURN)  # uncached
    finally:
        _codegen_c._TILE = saved
    if tile == saved:  # a variant that changed nothing would be timed as the default
        default = _codegen_c.c_sweep_source(land, "poly")
        assert (source == default) == (name == "horner"), f"{name}: wrong source"
    label = f"c-poly-{name}-t{tile}"
    return load_sweep_kernel(source, label, land.dim, len(land.hyperparameters), threads=threads)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workload", choices=list(WORKLOADS), default="fig2a")
    ap.add_argument("--level", type=int, default=20)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    ap.add_argument("--tiles", type=int, nargs="+", default=[16], help="lanes per tile")
    ap.add_argument(
        "--reduction-samples", type=int, default=2000, help="fma2 reduction check (0: skip)"
    )
    ap.add_argument("--threads", type=int, default=1, help="OpenMP threads (default 1)")
    args = ap.parse_args(argv)
    print(f"cores {os.cpu_count()} load {os.getloadavg()}", file=sys.stderr)
    if args.reduction_samples and {"fma2", "all"} & set(args.variants):
        size, inexact, worst = check_two_constant(args.reduction_samples)
        print(
            f"fma2 reduction on {size} arguments (exact rationals, 60-digit pi/2): u - n P1 "
            f"inexact {inexact} times; max |r - (u - n pi/2)| {worst:.3f} x 2^-53"
        )
    land = WORKLOADS[args.workload]()
    params = land.parameter_values()
    lrs = learning_rates(args.level, 0.0, 1.5)
    kernels = {
        f"{name}/{tile}": build(land, name, tile, args.threads)
        for tile in args.tiles
        for name in args.variants
    }
    libm = c_sweep_kernel(land, "libm")
    libm_labels, _ = libm(lrs, [X0], params, STEPS, BOUND)
    times: dict[str, list[float]] = {name: [] for name in kernels}
    cpu: dict[str, list[float]] = {name: [] for name in kernels}  # less sensitive to sharing
    labels, steps = {}, {}
    names = list(kernels)
    for k in kernels.values():
        k(lrs[:64], [X0], params, STEPS, BOUND)  # load
    for rnd in range(args.rounds):
        order = names[rnd % len(names) :] + names[: rnd % len(names)]
        for name in order:
            t, c = time.perf_counter(), time.process_time()
            labels[name], steps[name] = kernels[name](lrs, [X0], params, STEPS, BOUND)
            times[name].append(time.perf_counter() - t)
            cpu[name].append(time.process_time() - c)
        print(
            f"  round {rnd}: " + ", ".join(f"{n} {times[n][-1]:.3f}s" for n in names),
            file=sys.stderr,
            flush=True,
        )
    base, base_cpu = min(times[names[0]]), min(cpu[names[0]])
    print(
        f"{args.workload} 2^{args.level} lrs, {STEPS} steps, bound {BOUND:g}, x0 {X0}, float64, "
        f"{args.threads} thread(s), best of {args.rounds} interleaved rounds:"
    )
    for name in names:
        best = min(times[name])
        lane_steps = float(np.sum(steps[name]))
        print(
            f"  {name:10s} {lrs.size / best:12,.0f} lr/s  {best / lane_steps * 1e9:6.3f} ns per "
            f"lane-step ({min(cpu[name]) / lane_steps * 1e9:6.3f} CPU-ns)  speed-up vs "
            f"{names[0]} {base / best:5.3f} (median "
            f"{statistics.median(times[names[0]]) / statistics.median(times[name]):5.3f}; "
            f"per CPU-second {base_cpu / min(cpu[name]):5.3f})  "
            f"labels != c-libm {np.mean(labels[name] != libm_labels):.2e}  != {names[0]} "
            f"{np.mean(labels[name] != labels[names[0]]):.2e}"
        )


if __name__ == "__main__":
    main()
