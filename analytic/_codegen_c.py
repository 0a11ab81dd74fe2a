"""C source of whole learning-rate sweep kernels, generated from the SymPy expression.

:func:`c_sweep_source` prints the loss and gradient with SymPy's C printer (sin/cos by the
certified polynomial of :mod:`._sincos`, exp/tanh/log/cosh/sinh by those of :mod:`._exp`,
or libm) into a driver that labels learning rates:
learning rates are innermost, in cache-sized blocks; GD steps are outermost, in runs of 16
(the tiled driver: the divergence and out-of-range flags are accumulated in the step's own
vectorised pass; a tile of ``TR_T`` = 16 lanes, four 4-lane vectors whose statements are
interleaved, keeps its iterates, learning rates, sums and flags in registers for the whole
run, ``tr_vtile_run``, with the vector twins ``tr_vsin``... of the transcendentals, which
are printed from the same C text as the scalar ones, :data:`_TRANSCENDENTALS`, and equal
them bit for bit; a step that calls a function without a vector twin keeps the scalar
tile ``tr_tile_run``); finished lanes (diverged, or exactly periodic in floating point, see below)
are compacted away between runs; blocks are spread over all cores with OpenMP. Under the
max/above rules the loss itself is not evaluated where a certified upper bound
(``_loss_upper_bound``: every sin/cos bounded by 1) stays below the bound; a run where it
might not is redone step by step with the stepwise driver's code, so the labels equal the
stepwise driver's. This module only emits source; compiling, caching and running it is the
numeric layer's :class:`~trainability.numeric.CSweepKernel`.

Early exit of converged lanes is *provably safe*: every 16 steps a lane's iterate is
compared bit for bit with its iterate 16 steps earlier. If they are equal, the
deterministic map repeats the same (at most 16) iterates forever, all of whose losses were
already checked against the bound, so the lane is trainable at every later step.
"""

from __future__ import annotations

import re

import numpy as np
import sympy
from sympy.printing.c import C99CodePrinter

from ._cache import ArtifactCache
from ._derive import gradient
from ._exp import COSH_X_MAX, EXP, LOG, TANH_X_MAX
from ._landscape import Landscape
from ._sincos import HALFTURN, SINCOS

__all__ = ["c_sweep_source"]

# (CSE replacements, reduced expressions, argument symbols) of a landscape's loss and gradient
_C_CSE: ArtifactCache[tuple] = ArtifactCache("C common subexpressions", maxsize=128)
_C_SOURCE: ArtifactCache[str] = ArtifactCache("C sweep sources", maxsize=128)


class _Printer(C99CodePrinter):
    """C99 printer with integer powers as products and sin/cos renamable."""

    def __init__(self, fast: bool, half=frozenset(), vector: bool = False):
        super().__init__()
        self.fast = fast
        self.half = half  # arguments reduced by half turns (HALFTURN): one polynomial each
        self.p = "tr_v" if vector else "tr_"  # the vector twins: tr_vsin, tr_vexp, ...
        self.vector = vector

    def _print_Pow(self, expr):
        base, exp = expr.args
        if exp.is_Integer and 2 <= int(exp) <= 16:
            b = self.parenthesize(base, 100)
            return "(" + "*".join([b] * int(exp)) + ")"
        if exp.is_Integer and -16 <= int(exp) <= -1:
            b = self.parenthesize(base, 100)
            return "(1.0/(" + "*".join([b] * -int(exp)) + "))"
        return super()._print_Pow(expr)

    def _name(self, expr, fn):
        if not self.fast:
            return fn
        return f"{self.p}h{fn}" if expr.args[0] in self.half else f"{self.p}{fn}"

    def _arg(self, expr) -> str:
        # A vector twin takes tr_vd: an argument of the hyperparameters alone is a scalar.
        text = self._print(expr.args[0])
        return f"tr_vsplat({text})" if self.vector and self.fast else text

    def _print_sin(self, expr):
        return f"{self._name(expr, 'sin')}({self._arg(expr)})"

    def _print_cos(self, expr):
        return f"{self._name(expr, 'cos')}({self._arg(expr)})"

    def _certified(self, expr, fn: str) -> str:
        # The certified polynomial exp/tanh/log/cosh/sinh (EXP, tanh_error_bound, ...) are
        # valid on the whole real line: no fallback, unlike sin/cos.
        return f"{self.p + fn if self.fast else fn}({self._arg(expr)})"

    def _print_exp(self, expr):
        return self._certified(expr, "exp")

    def _print_tanh(self, expr):
        return self._certified(expr, "tanh")

    def _print_cosh(self, expr):
        return self._certified(expr, "cosh")

    def _print_sinh(self, expr):
        return self._certified(expr, "sinh")

    def _print_log(self, expr):  # (SymPy's log has one argument: log(x, b) is log(x)/log(b))
        return self._certified(expr, "log")

    def _print_Abs(self, expr):
        if self.vector:  # fabs of each lane, by the sign bit
            return f"tr_vabs({self._print(expr.args[0])})"
        return super()._print_Function(expr)


_PRELUDE_HEADER = r"""
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#define TR_D {d}
#define TR_NP {np}
#define TR_R {R!r}
#define TR_PERIOD 16
#define TR_T {tile}

/* Scalar instantiation of the transcendentals below: masks are int64 0 / -1, selects are
   ternaries (so that gcc's loop vectoriser if-converts them as before). */
static inline int64_t tr_as_i(double x) {{ int64_t b; memcpy(&b, &x, 8); return b; }}
static inline uint64_t tr_as_u(double x) {{ uint64_t b; memcpy(&b, &x, 8); return b; }}
static inline double tr_ud(uint64_t b) {{ double x; memcpy(&x, &b, 8); return x; }}
#define tr_mask(c) (-(int64_t)(c))
#define tr_sel(m, a, b) ((m) ? (a) : (b))
/* a if bit 0 of q is set, else b; v with its sign flipped where b2 (0 or 2) is 2 (-v) */
#define tr_sel_odd(q, a, b) (((q) & 1) ? (a) : (b))
#define tr_flip(v, b2) tr_ud(tr_as_u(v) ^ ((uint64_t)(b2) << 62))
#define tr_splat(a) (a)
#define tr_abs(x) fabs(x)
#define tr_copysign(a, x) copysign(a, x)
"""

_VECTOR_HEADER = r"""
/* Vector instantiation: 4 lanes per value (one AVX2 register; two SSE2 ones), masks are
   int64 vectors of 0 / -1, selects are bit ops.
   The float operations are the scalar ones, in the same order: the same bits per lane. */
#pragma GCC diagnostic ignored "-Wpsabi"
typedef double tr_vd __attribute__((vector_size(32)));
typedef int64_t tr_vi __attribute__((vector_size(32)));
typedef uint64_t tr_vu __attribute__((vector_size(32)));
/* a scalar broadcast to every lane (x - 0 is x for every x, -0 and NaN included) */
#define tr_vsplat(a) _Generic((a), tr_vd: (a), default: ((a) - (tr_vd){{}}))
#define tr_vas_i(x) ((tr_vi)(x))
#define tr_vas_u(x) ((tr_vu)(x))
#define tr_vud(b) ((tr_vd)(b))
#define tr_vmask(c) ((tr_vi)(c))
#define tr_vsel(m, a, b) \
    ((tr_vd)(((m) & (tr_vi)tr_vsplat(a)) | (~(m) & (tr_vi)tr_vsplat(b))))
#ifdef __AVX__ /* one blend by the sign bit of q << 63 */
#define tr_vsel_odd(q, a, b) __builtin_ia32_blendvpd256((b), (a), (tr_vd)((q) << 63))
#else
#define tr_vsel_odd(q, a, b) tr_vsel(-((q) & 1), a, b)
#endif
#define tr_vflip(v, b2) ((tr_vd)((tr_vi)(v) ^ ((b2) << 62)))
#define tr_vabs(x) ((tr_vd)((tr_vi)tr_vsplat(x) & 0x7fffffffffffffffll))
#define tr_vcopysign(a, x) \
    ((tr_vd)(((tr_vi)tr_vsplat(a) & 0x7fffffffffffffffll) \
             | ((tr_vi)tr_vsplat(x) & (-0x7fffffffffffffffll - 1))))
"""

#: The transcendentals, written once for both instantiations: ``@T@``/``@I@``/``@U@`` are
#: the float, int64 and uint64 types (``double`` or the ``tr_vd`` vectors), ``@v@`` the name
#: infix (``tr_sin`` / ``tr_vsin``), ``@INL@`` the linkage. Only selects and bit casts differ
#: between the two; every float operation is the same, so a lane of the vector function
#: equals the scalar function bit for bit (the tests check it on random and special inputs).
_TRANSCENDENTALS = r"""
@INL@ @T@ tr_@v@reduce(@T@ u, @I@ *q) {{
    @T@ t = u * {two_over_pi!r} + 6755399441055744.0;
    *q = tr_@v@as_i(t) & 3;
    @T@ n = t - 6755399441055744.0;
    return ((u - n * {P1!r}) - n * {P2!r}) - n * {P3!r};
}}
@INL@ @T@ tr_@v@sin_r(@T@ r) {{
    @T@ z = r * r;
{sin_horner}
    return r + r * (z * s);
}}
@INL@ @T@ tr_@v@cos_r(@T@ r) {{
    @T@ z = r * r;
{cos_horner}
    return 1.0 + z * c;
}}
@INL@ @T@ tr_@v@sin(@T@ u) {{
    @I@ q; @T@ r = tr_@v@reduce(u, &q);
    @T@ sr = tr_@v@sin_r(r), cr = tr_@v@cos_r(r);
    @T@ v = tr_@v@sel_odd(q, cr, sr);
    return tr_@v@flip(v, q & 2);
}}
@INL@ @T@ tr_@v@cos(@T@ u) {{
    @I@ q; @T@ r = tr_@v@reduce(u, &q);
    @T@ sr = tr_@v@sin_r(r), cr = tr_@v@cos_r(r);
    @T@ v = tr_@v@sel_odd(q, -sr, cr);
    return tr_@v@flip(v, q & 2);
}}
/* Half-turn reduction u = n*pi + r, |r| <= pi/2: sin u = (-1)^n sin r, cos u = (-1)^n cos r,
   one polynomial each (HALFTURN). */
@INL@ @T@ tr_@v@hreduce(@T@ u, @I@ *odd) {{
    @T@ t = u * {h_inv!r} + 6755399441055744.0;
    *odd = tr_@v@as_i(t) & 1;
    @T@ n = t - 6755399441055744.0;
    return ((u - n * {H1!r}) - n * {H2!r}) - n * {H3!r};
}}
@INL@ @T@ tr_@v@hsin(@T@ u) {{
    @I@ odd; @T@ r = tr_@v@hreduce(u, &odd);
    @T@ z = r * r;
{hsin_horner}
    @T@ v = r + r * (z * s);
    return tr_@v@flip(v, odd << 1);
}}
@INL@ @T@ tr_@v@hcos(@T@ u) {{
    @I@ odd; @T@ r = tr_@v@hreduce(u, &odd);
    @T@ z = r * r;
{hcos_horner}
    @T@ v = 1.0 + z * c;
    return tr_@v@flip(v, odd << 1);
}}
/* exp x = 2^n exp(r) (EXP): n = round(x log2e) by the magic number (*k = n as an
   integer), Cody-Waite r = (x - n L1) - n L2 (returned), for |x| <= 746. */
@INL@ @T@ tr_@v@ereduce(@T@ x, @U@ *k) {{
    @T@ t = x * {log2e!r} + 6755399441055744.0;
    @T@ n = t - 6755399441055744.0;
    *k = tr_@v@as_u(t) - 0x4338000000000000ull;
    return (x - n * {L1!r}) - n * {L2!r};
}}
/* exp: clamp to [lo, hi] (NaN passes), reduce, polynomial of degree {exp_degree},
   and 2^n as 2^floor(n/2) 2^ceil(n/2) from exponent bits (subnormal results round once),
   times `half` (1 or 1/2, exact). Branch-free and with logical shifts only, so loops over
   lanes vectorise (AVX2). */
@INL@ @T@ tr_@v@exp_scaled(@T@ x, double lo, double hi, double half) {{
    x = tr_@v@sel(tr_@v@mask(x < lo), lo, x);
    x = tr_@v@sel(tr_@v@mask(x > hi), hi, x);
    @U@ k;
    @T@ z = tr_@v@ereduce(x, &k);
{exp_horner}
    k += 2048u;
    @U@ k1 = k >> 1, b1 = (k1 - 1u) << 52, b2 = (k - k1 - 1u) << 52;
    @T@ s1 = tr_@v@ud(b1), s2 = tr_@v@ud(b2);
    return q * s1 * (s2 * half);
}}
@INL@ @T@ tr_@v@exp(@T@ x) {{ return tr_@v@exp_scaled(x, {exp_min!r}, {exp_max!r}, 1.0); }}
/* cosh x = E + 1/(4E), E = exp(|x|)/2 scaled in the exponent (finite up to |x| = 710.47,
   where exp itself overflows), clamp at {cosh_max!r} (cosh_error_bound). */
@INL@ @T@ tr_@v@cosh(@T@ x) {{
    const @T@ E = tr_@v@exp_scaled(tr_@v@abs(x), 0.0, {cosh_max!r}, 0.5);
    return E + 0.25 / E;
}}
/* sinh x = sign(x) (E - 1/(4E)) for |x| >= 1 (the cancellation is at most coth 1), and
   sign(x) (e + e/(e + 1))/2 with e = expm1(|x|) = 2^n (r h(r)) + (2^n - 1) below (tr_tanh's
   expm1, no cancellation); both are computed, one is selected (sinh_error_bound). */
@INL@ @T@ tr_@v@sinh(@T@ x) {{
    const @T@ ax = tr_@v@abs(x);
    const @T@ E = tr_@v@exp_scaled(ax, 0.0, {cosh_max!r}, 0.5);
    const @T@ big = E - 0.25 / E;
    @U@ k;
    const @I@ small_x = tr_@v@mask(ax < 1.0);
    @T@ z = tr_@v@ereduce(tr_@v@sel(small_x, ax, 1.0), &k);
{tanh_horner}
    k = (k + 1023u) << 52;
    const @T@ s = tr_@v@ud(k);
    const @T@ e = s * (z * h) + (s - 1.0);
    const @T@ small = 0.5 * (e + e / (e + 1.0));
    return tr_@v@copysign(tr_@v@sel(small_x, small, big), x);
}}
/* tanh x = sign(x) e/(e + 2), e = expm1(2|x|) = 2^n (r h(r)) + (2^n - 1) (tanh_error_bound):
   the same reduction and coefficients as tr_exp, exp(r) - 1 without the leading 1, |x|
   clamped at {tanh_max!r} (tanh rounds to +-1 there; NaN passes). */
@INL@ @T@ tr_@v@tanh(@T@ x) {{
    @T@ ax = tr_@v@abs(x);
    ax = tr_@v@sel(tr_@v@mask(ax > {tanh_max!r}), {tanh_max!r}, ax);
    @U@ k;
    @T@ z = tr_@v@ereduce(ax + ax, &k);
{tanh_horner}
    k = (k + 1023u) << 52;
    const @T@ s = tr_@v@ud(k);
    @T@ e = s * (z * h) + (s - 1.0);
    return tr_@v@copysign(e / (e + 2.0), x);
}}
/* log x = e ln2 + 2 atanh(s), s = (m - 1)/(m + 1), x = 2^e m, m in [sqrt(1/2), sqrt2) from
   the bits (subnormal x scaled by 2^54 first; LOG, log_error_bound); e as a double by the
   2^52 trick (AVX2 has no int64 -> double conversion). log 0 = -inf, log(x < 0) = NaN. */
@INL@ @T@ tr_@v@log(@T@ x) {{
    const @I@ sub = tr_@v@mask(x < 0x1p-1022);
    const @T@ xs = tr_@v@sel(sub, x * 0x1p54, x);
    @U@ t = tr_@v@as_u(xs);
    t += 0x3ff0000000000000ull - {sqrt_half_bits}ull;
    @U@ mb = (t & 0xfffffffffffffull) + {sqrt_half_bits}ull;
    @U@ eb = (t >> 52) | 0x4330000000000000ull;
    const @T@ m = tr_@v@ud(mb), ed = tr_@v@ud(eb);
    const @T@ e = (ed - 4503599627370496.0) - tr_@v@sel(sub, 1077.0, 1023.0);
    const @T@ f = m - 1.0, s = f / (2.0 + f), z = s * s;
{log_horner}
    const @T@ res = e * {L1!r} + (e * {L2!r} + (s * (z * q) + (s + s)));
    const @T@ special = tr_@v@sel(tr_@v@mask(x == 0.0), -INFINITY,
                                  tr_@v@sel(tr_@v@mask(x < 0.0), NAN, x + x));
    return tr_@v@sel(tr_@v@mask(x > 0.0) & tr_@v@mask(x < INFINITY), res, special);
}}
"""

_INSTANCES = {
    "scalar": {
        "@T@": "double",
        "@I@": "int64_t",
        "@U@": "uint64_t",
        "@v@": "",
        "@INL@": "static inline",
    },
    "vector": {
        "@T@": "tr_vd",
        "@I@": "tr_vi",
        "@U@": "tr_vu",
        "@v@": "v",
        "@INL@": "static inline __attribute__((always_inline))",
    },
}


def _instantiate(template: str, kind: str) -> str:
    """``template`` with the type markers of :data:`_TRANSCENDENTALS` set for ``kind``."""
    for marker, text in _INSTANCES[kind].items():
        template = template.replace(marker, text)
    return template


#: The scalar prelude (``str.format`` template; its arguments: :func:`_prelude_format_args`).
_PRELUDE = _PRELUDE_HEADER + _instantiate(_TRANSCENDENTALS, "scalar")
#: The vector prelude (the ``tr_v*`` functions on ``tr_vd``): append after :data:`_PRELUDE`.
_VECTOR_PRELUDE = _VECTOR_HEADER + _instantiate(_TRANSCENDENTALS, "vector")

_DRIVER = r"""
/* Exact (libm) loss and gradient of one point x[0..D-1]. */
static void tr_point_exact(const double *restrict xv, const double *restrict P,
                           double *restrict f_out, double *restrict g_out) {{
{unpack_params}
{unpack_point}
{exact_body}
    *f_out = tr_f;
{store_grad}
}}

/* One GD step for n lanes (SoA, stride B): XN = X - s*g(X); F = f(X); BAD: f(X) > bound or
   not finite (inf <= inf would pass an infinite bound). */
static void tr_block_step(long n, long B, const double *restrict LR, const double *restrict X,
                          double *restrict XN, const double *restrict P, double bound,
                          uint8_t *restrict BAD, uint8_t *restrict OOR, double *restrict F) {{
{unpack_params}
    for (long i = 0; i < n; ++i) {{
{unpack_lane}
{step_body}
        BAD[i] = !(isfinite(tr_f) & (tr_f <= bound));
        F[i] = tr_f;
        OOR[i] = {oor_expr};
        const double tr_s = LR[i];
{update_lane}
    }}
}}

/* criterion 0 (max): divergent when f(x_k) > bound (or NaN) at any k = 0..steps.
   criterion 1 (sum, Liu's GPU scripts gpuexp-4-2.py/gpuexp-10.py): divergent when
   S = f(x_1) + ... + f(x_k) reaches bound (NaN counts as reaching it) for some k <= steps.
   criterion 2 (above, Liu's exp-3.py/exp-5.jl): divergent when f(x_k) > bound for some
   k = 1..steps; a NaN loss never compares above, so a NaN orbit counts as trainable. */
static long tr_run_block(long n, long B, const double *restrict lrs,
                         const double *restrict x0, const double *restrict P, long steps,
                         double bound, uint8_t *restrict labels, int check_period,
                         double *restrict work, int criterion, long x0_stride) {{
    double *LR = work, *X = LR + B, *XN = X + TR_D * B, *SN = XN + TR_D * B;
    double *F = SN + TR_D * B, *S = F + B, *M = S + B;
    long *IDX = (long *)(M + B);
    uint8_t *BAD = (uint8_t *)(IDX + B), *OOR = BAD + B, *KEEP = OOR + B;
    for (long i = 0; i < n; ++i) {{
        LR[i] = lrs[i]; IDX[i] = i; labels[i] = 1; S[i] = 0.0; M[i] = -INFINITY;
        for (int j = 0; j < TR_D; ++j) X[j * B + i] = x0[i * x0_stride + j];
    }}
    long evaluations = 0;
    for (long k = 0; k <= steps && n > 0; ++k) {{
        int finished = 0;
        if (check_period && k % TR_PERIOD == 0) {{
            if (k > 0) {{
                /* Bitwise equal to the iterate TR_PERIOD steps ago: periodic forever. */
                for (long i = 0; i < n; ++i) {{
                    int same = 1;
                    for (int j = 0; j < TR_D; ++j)
                        same &= memcmp(&X[j * B + i], &SN[j * B + i], 8) == 0;
                    /* sum: the orbit repeats the window's losses (each <= M) for the
                       steps - k + 1 terms still to come; finished only if that stays below. */
                    if (criterion == 1 && same)
                        same = S[i] + (double)(steps - k + 1) * fmax(M[i], 0.0)
                               < bound * (1.0 - 1e-9);
                    KEEP[i] = !same;
                    finished |= same;
                }}
                if (finished) {{
                    long m = 0;
                    for (long i = 0; i < n; ++i) {{
                        if (!KEEP[i]) continue;
                        LR[m] = LR[i]; IDX[m] = IDX[i]; S[m] = S[i]; M[m] = M[i];
                        for (int j = 0; j < TR_D; ++j) X[j * B + m] = X[j * B + i];
                        ++m;
                    }}
                    n = m;
                    if (n == 0) break;
                }}
            }}
            memcpy(SN, X, sizeof(double) * TR_D * B);
            if (criterion == 1) for (long i = 0; i < n; ++i) M[i] = -INFINITY;
        }}
        tr_block_step(n, B, LR, X, XN, P, bound, BAD, OOR, F);
        evaluations += n;
        int any_bad = 0, any_oor = 0;
        for (long i = 0; i < n; ++i) {{ any_oor |= OOR[i]; }}
        if (any_oor) {{
            for (long i = 0; i < n; ++i) {{
                if (!OOR[i]) continue;
                double xv[TR_D], g[TR_D], f;
                for (int j = 0; j < TR_D; ++j) xv[j] = X[j * B + i];
                tr_point_exact(xv, P, &f, g);
                BAD[i] = !(isfinite(f) & (f <= bound));
                F[i] = f;
                for (int j = 0; j < TR_D; ++j) XN[j * B + i] = xv[j] - LR[i] * g[j];
            }}
        }}
        if (criterion == 2) {{
            for (long i = 0; i < n; ++i) BAD[i] = k > 0 && F[i] > bound;
        }} else if (criterion) {{
            for (long i = 0; i < n; ++i) {{
                if (k > 0) S[i] += F[i];
                M[i] = (F[i] <= M[i]) ? M[i] : F[i]; /* NaN propagates */
                BAD[i] = k > 0 && !(S[i] < bound);
            }}
        }}
        for (long i = 0; i < n; ++i) {{ any_bad |= BAD[i]; }}
        double *tmp = X; X = XN; XN = tmp;
        if (any_bad) {{
            long m = 0;
            for (long i = 0; i < n; ++i) {{
                if (BAD[i]) {{ labels[IDX[i]] = 0; continue; }}
                LR[m] = LR[i]; IDX[m] = IDX[i]; S[m] = S[i]; M[m] = M[i];
                for (int j = 0; j < TR_D; ++j) {{
                    X[j * B + m] = X[j * B + i]; SN[j * B + m] = SN[j * B + i];
                }}
                ++m;
            }}
            n = m;
        }}
    }}
    return evaluations;
}}

/* Loss and gradient at n points (row-major n x D), with the kernel's transcendentals. */
static void tr_point_kernel(const double *restrict xv, const double *restrict P,
                            double *restrict f_out, double *restrict g_out) {{
{unpack_params}
{unpack_point}
{kernel_body}
    if ({oor_expr}) {{ tr_point_exact(xv, P, f_out, g_out); return; }}
    *f_out = tr_f;
{store_grad}
}}
/* ---- Register-tiled runs: TR_T lanes x one run of (at most) TR_PERIOD steps ----------
   A tile's iterates, learning rates and flags stay in registers (or L1) for the whole run;
   divergence (per criterion) and out-of-range flags are accumulated in the same pass, and
   lanes are compacted only between runs: one pass over the lane arrays per run. */
#define TR_BAD 1
#define TR_OOR 2
/* The parameters of a tile driver (tr_tile_run, tr_vtile_run). */
#define TR_TILE_PARAMS \
    const int criterion, long k0, long kend, long nt, long B, const double *restrict LR, \
    const double *restrict X, double *restrict XN, const double *restrict S, \
    double *restrict SO, double *restrict MO, int64_t *restrict FL, const double *restrict P, \
    double bound

static inline __attribute__((always_inline)) void tr_tile_run(TR_TILE_PARAMS) {{
{unpack_params}
    int64_t *restrict BADV = FL, *restrict OORV = FL + B;
    for (long i = 0; i < nt; ++i) {{
        for (int j = 0; j < TR_D; ++j) XN[j * B + i] = X[j * B + i];
        SO[i] = S[i]; MO[i] = -INFINITY; BADV[i] = 0; OORV[i] = 0;
    }}
    for (long k = k0; k < kend; ++k) {{
        const int64_t later = k > 0;
        for (long i = 0; i < nt; ++i) {{
{unpack_tile}
{tile_body}
            int64_t bad = BADV[i];
            if (criterion == 0) {{
{check_max}
            }} else if (criterion == 1) {{
                /* Out of range before the lane's first divergence: the run is redone. */
                OORV[i] |= (int64_t)({oor_expr}) & (bad == 0);
                const double tr_sum = SO[i] + (later ? tr_f : 0.0);
                SO[i] = tr_sum;
                MO[i] = (tr_f <= MO[i]) ? MO[i] : tr_f; /* NaN propagates */
                bad |= later & (int64_t)!(tr_sum < bound);
            }} else {{
{check_above}
            }}
            BADV[i] = bad;
            const double tr_s = LR[i];
{update_tile}
        }}
    }}
    for (long i = 0; i < nt; ++i) FL[i] = (BADV[i] ? TR_BAD : 0) | (OORV[i] ? TR_OOR : 0);
}}

/* Lane i's run redone step by step exactly as the stepwise driver does it (its block step
   on this one lane, libm where an argument is out of range), stopping at its first
   divergence. The same code as the stepwise driver: the same arithmetic, bit for bit. */
static long tr_lane_rerun(int criterion, long k0, long kend, long i, long B,
                          const double *restrict LR, const double *restrict X,
                          double *restrict XN, const double *restrict S, double *restrict SO,
                          double *restrict MO, int64_t *restrict FL, const double *restrict P,
                          double bound) {{
    double xv[TR_D], xn[TR_D], g[TR_D], f, s = S[i], m = -INFINITY, lr = LR[i];
    uint8_t bad = 0, oor;
    long k = k0;
    for (int j = 0; j < TR_D; ++j) xv[j] = X[j * B + i];
    for (; k < kend && !bad; ++k) {{
        tr_block_step(1, 1, &lr, xv, xn, P, bound, &bad, &oor, &f);
        if (oor) {{
            tr_point_exact(xv, P, &f, g);
            bad = !(isfinite(f) & (f <= bound));
            for (int j = 0; j < TR_D; ++j) xn[j] = xv[j] - lr * g[j];
        }}
        if (criterion == 1) {{
            if (k > 0) s += f;
            m = (f <= m) ? m : f;
            bad = k > 0 && !(s < bound);
        }} else if (criterion == 2) bad = k > 0 && f > bound;
        for (int j = 0; j < TR_D; ++j) xv[j] = xn[j];
    }}
    for (int j = 0; j < TR_D; ++j) XN[j * B + i] = xv[j];
    SO[i] = s; MO[i] = m; FL[i] = bad ? TR_BAD : 0;
    return k - k0;
}}

{vtile}
static void tr_tiles(int criterion, long k0, long kend, long nt, long B, const double *LR,
                     const double *X, double *XN, const double *S, double *SO, double *MO,
                     int64_t *FL, const double *P, double bound) {{
    /* One specialisation per criterion: the rule's branches vanish from the inner loop. */
#if TR_VTILE
    if (criterion == 0) tr_vtile_run(0, k0, kend, nt, B, LR, X, XN, S, SO, MO, FL, P, bound);
    else if (criterion == 1) tr_vtile_run(1, k0, kend, nt, B, LR, X, XN, S, SO, MO, FL, P, bound);
    else tr_vtile_run(2, k0, kend, nt, B, LR, X, XN, S, SO, MO, FL, P, bound);
#else
    if (criterion == 0) tr_tile_run(0, k0, kend, nt, B, LR, X, XN, S, SO, MO, FL, P, bound);
    else if (criterion == 1) tr_tile_run(1, k0, kend, nt, B, LR, X, XN, S, SO, MO, FL, P, bound);
    else tr_tile_run(2, k0, kend, nt, B, LR, X, XN, S, SO, MO, FL, P, bound);
#endif
}}

/* Same labels as tr_run_block (same rules, same arithmetic per step), in runs of
   TR_PERIOD steps: all lanes run a whole run, then finished lanes are compacted away.
   B is a multiple of TR_T. Returns the loss evaluations done (lanes x run steps). */
static long tr_run_block_tiled(long n, long B, const double *restrict lrs,
                               const double *restrict x0, const double *restrict P, long steps,
                               double bound, uint8_t *restrict labels, int check_period,
                               double *restrict work, int criterion, long x0_stride) {{
    double *LR = work, *X = LR + B, *XN = X + TR_D * B, *S = XN + TR_D * B, *SO = S + B;
    double *MO = SO + B;
    long *IDX = (long *)(MO + B);
    int64_t *FL = (int64_t *)(IDX + B);
    for (long i = 0; i < n; ++i) {{
        LR[i] = lrs[i]; IDX[i] = i; labels[i] = 1; S[i] = 0.0;
        for (int j = 0; j < TR_D; ++j) X[j * B + i] = x0[i * x0_stride + j];
    }}
    long evaluations = 0;
    for (long k0 = 0; k0 <= steps && n > 0; k0 += TR_PERIOD) {{
        long kend = k0 + TR_PERIOD < steps + 1 ? k0 + TR_PERIOD : steps + 1;
        long nt = (n + TR_T - 1) / TR_T * TR_T;
        for (long i = n; i < nt; ++i) {{ /* pad the last tile with copies of lane 0 */
            LR[i] = LR[0]; S[i] = S[0];
            for (int j = 0; j < TR_D; ++j) X[j * B + i] = X[j * B];
        }}
        tr_tiles(criterion, k0, kend, nt, B, LR, X, XN, S, SO, MO, FL, P, bound);
        evaluations += n * (kend - k0);
        for (long i = 0; i < n; ++i)
            if (FL[i] & TR_OOR)
                evaluations += tr_lane_rerun(criterion, k0, kend, i, B, LR, X, XN, S, SO, MO,
                                             FL, P, bound);
        /* Bitwise equal to the iterate TR_PERIOD steps ago: periodic forever (the check of
           the stepwise kernel at step kend). */
        const int periodic = check_period && kend <= steps;
        long m = 0;
        for (long i = 0; i < n; ++i) {{
            if (FL[i] & TR_BAD) {{ labels[IDX[i]] = 0; continue; }}
            if (periodic) {{
                int same = 1;
                for (int j = 0; j < TR_D; ++j)
                    same &= memcmp(&XN[j * B + i], &X[j * B + i], 8) == 0;
                if (criterion == 1 && same)
                    same = SO[i] + (double)(steps - kend + 1) * fmax(MO[i], 0.0)
                           < bound * (1.0 - 1e-9);
                if (same) continue;
            }}
            LR[m] = LR[i]; IDX[m] = IDX[i]; S[m] = SO[i];
            for (int j = 0; j < TR_D; ++j) X[j * B + m] = XN[j * B + i];
            ++m;
        }}
        n = m;
    }}
    return evaluations;
}}

/* Label the same n learning rates for each of n_cells cells (1 = trainable): cell c starts
   from x0s[c*D..] with hyperparameters Ps[c*NP..] and writes labels[c*n..]. OpenMP runs over
   (cell, block) pairs, so many small cells keep every core busy. Returns the number of loss
   evaluations done. lane_x0: x0s holds one start per lane (n_cells * n rows of D). */
long tr_sweep_cells(long n_cells, long n, const double *lrs, const double *x0s,
                    const double *Ps, long steps, double bound, uint8_t *labels, long block,
                    int threads, int check_period, int criterion, int lane_x0, int tiled) {{
    long nblocks = (n + block - 1) / block;
    long pairs = n_cells * nblocks;
    long total = 0;
    long stride = tiled ? (block + TR_T - 1) / TR_T * TR_T : block;
    size_t bytes = sizeof(double) * (size_t)stride * (4 + 3 * TR_D) + sizeof(long) * stride
                   + 2 * sizeof(int64_t) * (size_t)stride + 64;
#ifdef _OPENMP
    if (threads < 1) threads = omp_get_max_threads();
#pragma omp parallel num_threads(threads) reduction(+ : total)
#endif
    {{
        double *work = (double *)malloc(bytes);
#ifdef _OPENMP
#pragma omp for schedule(dynamic, 1)
#endif
        for (long q = 0; q < pairs; ++q) {{
            long c = q / nblocks, b = q % nblocks;
            long lo = b * block, m = n - lo < block ? n - lo : block;
            const double *x0 = lane_x0 ? x0s + (c * n + lo) * TR_D : x0s + c * TR_D;
            total += (tiled ? tr_run_block_tiled : tr_run_block)(
                m, stride, lrs + lo, x0, Ps + c * TR_NP, steps, bound, labels + c * n + lo,
                check_period, work, criterion, lane_x0 ? TR_D : 0);
        }}
        free(work);
    }}
    return total;
}}

void tr_eval(long n, const double *x, const double *P, double *f, double *g) {{
    for (long i = 0; i < n; ++i) tr_point_kernel(x + i * TR_D, P, f + i, g + i * TR_D);
}}

/* The polynomial sine and cosine themselves (for certification tests). */
void tr_sincos(long n, const double *u, double *s, double *c) {{
    for (long i = 0; i < n; ++i) {{ s[i] = tr_sin(u[i]); c[i] = tr_cos(u[i]); }}
}}
void tr_hsincos(long n, const double *u, double *s, double *c) {{
    for (long i = 0; i < n; ++i) {{ s[i] = tr_hsin(u[i]); c[i] = tr_hcos(u[i]); }}
}}
/* The polynomial exponential itself (for certification tests and timing). */
void tr_expv(long n, const double *x, double *y) {{
    for (long i = 0; i < n; ++i) y[i] = tr_exp(x[i]);
}}
void tr_tanhv(long n, const double *x, double *y) {{
    for (long i = 0; i < n; ++i) y[i] = tr_tanh(x[i]);
}}
void tr_logv(long n, const double *x, double *y) {{
    for (long i = 0; i < n; ++i) y[i] = tr_log(x[i]);
}}
void tr_coshv(long n, const double *x, double *y) {{
    for (long i = 0; i < n; ++i) y[i] = tr_cosh(x[i]);
}}
void tr_sinhv(long n, const double *x, double *y) {{
    for (long i = 0; i < n; ++i) y[i] = tr_sinh(x[i]);
}}
/* The vector twins on n values (n a multiple of 4), by index: 0 sin, 1 cos, 2 hsin, 3 hcos,
   4 exp, 5 tanh, 6 log, 7 cosh, 8 sinh (for the tests that they equal the scalar ones). */
void tr_vector_fn(int which, long n, const double *x, double *y) {{
    for (long i = 0; i + 4 <= n; i += 4) {{
        tr_vd u, v;
        memcpy(&u, x + i, sizeof(tr_vd));
        switch (which) {{
        case 0: v = tr_vsin(u); break;
        case 1: v = tr_vcos(u); break;
        case 2: v = tr_vhsin(u); break;
        case 3: v = tr_vhcos(u); break;
        case 4: v = tr_vexp(u); break;
        case 5: v = tr_vtanh(u); break;
        case 6: v = tr_vlog(u); break;
        case 7: v = tr_vcosh(u); break;
        default: v = tr_vsinh(u); break;
        }}
        memcpy(y + i, &v, sizeof(tr_vd));
    }}
}}
"""


def _c_substitution(land: Landscape) -> dict:
    """The landscape's variables and hyperparameters -> the C names ``tr_x<j>``, ``tr_p<j>``."""
    xs = [sympy.Symbol(f"tr_x{j}") for j in range(land.dim)]
    ps = [sympy.Symbol(f"tr_p{j}") for j in range(len(land.hyperparameters))]
    return dict(zip(land.variables, xs, strict=True)) | dict(
        zip(land.hyperparameters, ps, strict=True)
    )


#: The register tile (see the module docstring): ``tr_tile_run``'s rules on ``TR_T`` lanes,
#: ``TR_T/4`` sub-tiles of one native 4-lane vector each. Tile by tile (``i``), the run's
#: steps (``k``) are the inner loop, so a tile's iterates, learning rates, sums and flags
#: live in registers for the whole run (one load and one store per run), and the sub-tiles'
#: statements are interleaved line by line (independent dependency chains adjacent in
#: program order, so that they overlap). Masks are 0 / -1; ``FL`` as ``tr_tile_run``
#: leaves it. (Vectors wider than the machine's are no help: gcc keeps them in memory and
#: does their comparisons lane by lane.)
_VTILE = r"""
#define TR_VTILE 1
static inline __attribute__((always_inline)) void tr_vtile_run(TR_TILE_PARAMS) {{
{unpack_params}
    for (long i = 0; i < nt; i += TR_T) {{
{vinit}
        for (long k = k0; k < kend; ++k) {{
            const int64_t later = -(int64_t)(k > 0);
{vbody}
            if (criterion == 0) {{
{vcheck_max}
            }} else if (criterion == 1) {{
{vcheck_sum}
            }} else {{
{vcheck_above}
            }}
{vupdate}
        }}
{vstore}
    }}
}}
"""
#: One sub-tile's lanes ``i + 4 @u@ ..``: loads before the run, the sum rule, stores after.
_VTILE_INIT = """        tr_vd tr_s, tr_so, tr_mo = tr_vsplat(-INFINITY);
        memcpy(&tr_s, LR + i + 4 * @u@, sizeof(tr_vd));
        memcpy(&tr_so, S + i + 4 * @u@, sizeof(tr_vd));
        tr_vi bad = {0}, oorv = {0};"""
_VTILE_SUM = """                /* Out of range before the first divergence: the run is redone. */
                oorv |= ({voor}) & tr_vmask(bad == 0);
                const tr_vd tr_sum = tr_so + (later ? tr_f : (tr_vd){{0}});
                tr_so = tr_sum;
                tr_mo = tr_vsel(tr_vmask(tr_f <= tr_mo), tr_mo, tr_f); /* NaN propagates */
                bad |= later & ~tr_vmask(tr_sum < bound);"""
_VTILE_STORE = """        memcpy(SO + i + 4 * @u@, &tr_so, sizeof(tr_vd));
        memcpy(MO + i + 4 * @u@, &tr_mo, sizeof(tr_vd));
        const tr_vi fl = (bad & TR_BAD) | (oorv & TR_OOR);
        memcpy(FL + i + 4 * @u@, &fl, sizeof(tr_vi));"""
#: The names local to one sub-tile (suffixed ``_u``).
_VTILE_LOCAL = re.compile(
    r"\b(tr_[xtagy]\d+|tr_f|tr_U|tr_Um|tr_s|tr_so|tr_mo|tr_sum|bad|oorv|fl)\b"
)


def _sub_tile(text: str, u: int) -> str:
    """``text`` for sub-tile ``u``: its local names suffixed, its lane offset set."""
    return _VTILE_LOCAL.sub(rf"\1_{u}", text).replace("@u@", str(u))


def _interleaved(lines: list[str], n: int) -> str:
    """Each statement of ``lines`` once per sub-tile, the ``n`` copies adjacent."""
    return "\n".join(_sub_tile(line, u) for line in lines for u in range(n))


#: Vector checks of the max/above rules on the loss (``{voor}``: out of range) ...
_VTILE_CHECK_F = {
    "max": """                oorv |= ({voor}) & tr_vmask(bad == 0);
                bad |= ~(tr_vmask(tr_f <= bound) & tr_vmask(tr_vabs(tr_f) < INFINITY));""",
    "above": """                oorv |= ({voor}) & tr_vmask(bad == 0);
                bad |= later & tr_vmask(tr_f > bound);""",
}
#: ... and on the certified upper bound (as ``_TILE_CHECK_U``).
_VTILE_CHECK_U = {
    "max": """                oorv |= ~(tr_vmask(tr_U + 0x1p-30 * tr_Um <= bound)
                          & tr_vmask(tr_U > -INFINITY)) | {vstrict};""",
    "above": """                oorv |= (later & ~(tr_vmask(tr_U + 0x1p-30 * tr_Um <= bound)
                                   & tr_vmask(tr_U > -INFINITY))) | {vstrict};""",
}
#: Functions the vector step may call; anything else (libm, pow, ...) keeps the scalar tile.
_VECTOR_FUNCTIONS = frozenset(
    f"tr_v{n}"
    for n in ("sin", "cos", "hsin", "hcos", "exp", "tanh", "log", "cosh", "sinh", "abs", "splat")
)
#: Largest dimension given the register tile: ``TR_T/4`` ymm registers per coordinate.
_VTILE_MAX_DIM = 8

#: Tile checks of the max/above rules on the loss itself (``{oor_expr}``: out of range).
_TILE_CHECK_F = {
    "max": """                OORV[i] |= (int64_t)({oor_expr}) & (bad == 0);
                bad |= (int64_t)!((tr_f <= bound) & (fabs(tr_f) < INFINITY));""",
    "above": """                OORV[i] |= (int64_t)({oor_expr}) & (bad == 0);
                bad |= later & (int64_t)(tr_f > bound);""",
}
#: ... and on the certified upper bound ``tr_U`` (magnitude ``tr_Um``): ``U + 2**-30 Um``
#: covers the rounding of ``U`` (a few ulps of ``Um`` per operation), so ``f <= bound`` is
#: proven there; ``U > -inf`` rules out a loss of -inf. Anything else reruns the run.
_TILE_CHECK_U = {
    "max": """                OORV[i] |= (int64_t)(!((tr_U + 0x1p-30 * tr_Um <= bound)
                                       & (tr_U > -INFINITY)) | {strict});""",
    "above": """                OORV[i] |= (int64_t)((later & !((tr_U + 0x1p-30 * tr_Um <= bound)
                                                & (tr_U > -INFINITY))) | {strict});""",
}


def _c_cse(land: Landscape):
    """Common subexpressions of ``(f, grad f)`` in C-safe names, and the sin/cos arguments."""
    return _C_CSE(land, lambda: _build_c_cse(land))


def _build_c_cse(land: Landscape):
    sub = _c_substitution(land)
    exprs = [e.xreplace(sub) for e in (land.expr, *gradient(land))]
    replacements, reduced = sympy.cse(exprs, symbols=sympy.numbered_symbols("tr_t"))
    args: list[sympy.Expr] = []
    for e in [*(r for _, r in replacements), *reduced]:
        for fn in e.atoms(sympy.sin, sympy.cos):
            if fn.args[0] not in args:
                args.append(fn.args[0])
    return replacements, reduced, args


def _half_turn_args(land: Landscape) -> frozenset:
    """Sin/cos arguments (CSE form) of which the gradient needs the sine or the cosine but
    not both: one half-turn polynomial is cheaper there than the shared quarter-turn
    reduction with both polynomials. (The tiled kernel often skips the loss, so what the
    loss alone needs does not decide.)"""
    replacements, reduced, _ = _c_cse(land)
    needed = set().union(*(e.free_symbols for e in reduced[1:]))
    used_exprs = list(reduced[1:])
    for sym, e in reversed(replacements):
        if sym in needed:
            needed |= e.free_symbols
            used_exprs.append(e)
    if not used_exprs or all(not e.has(sympy.sin, sympy.cos) for e in used_exprs):
        used_exprs = [e for _, e in replacements] + [reduced[0]]  # the loss alone has trig
    functions: dict = {}
    for e in used_exprs:
        for fn in e.atoms(sympy.sin, sympy.cos):
            functions.setdefault(fn.args[0], set()).add(fn.func)
    return frozenset(a for a, fs in functions.items() if len(fs) == 1)


def _loss_upper_bound(expr: sympy.Expr):
    """``(U, M)`` with ``U >= expr`` wherever ``expr`` is defined, and ``M`` a magnitude of
    the terms of ``U`` (for its rounding error), or ``None``.

    Every ``sin``/``cos`` factor is bounded by 1 in absolute value, so ``U`` needs no
    transcendental of a trigonometric argument: a kernel that only compares the loss with
    the bound can skip the loss wherever ``U`` (plus its rounding) stays below it. Rules:
    a trig-free term is kept as it is; ``|a + b| <= |a| + |b|``, ``|a b| = |a| |b|``,
    ``|b**p| <= A(b)**p`` for ``p > 0``, ``exp`` is increasing; anything else gives ``None``.
    """
    trig = (sympy.sin, sympy.cos)

    def absb(e):  # upper bound on |e|
        if not e.has(*trig):
            return sympy.Abs(e)
        if isinstance(e, trig):
            return sympy.Integer(1)
        if e.is_Add or e.is_Mul:
            parts = [absb(a) for a in e.args]
            return None if any(q is None for q in parts) else e.func(*parts)
        if e.is_Pow and e.exp.is_number and e.exp > 0 and not e.exp.has(*trig):
            b = absb(e.base)
            return None if b is None else b**e.exp
        if isinstance(e, sympy.exp):
            u = upper(e.args[0])
            return None if u is None else sympy.exp(u)
        return None

    def upper(e):
        if not e.has(*trig):
            return e
        if e.is_Add:
            parts = [upper(a) for a in e.args]
            return None if any(q is None for q in parts) else sympy.Add(*parts)
        if isinstance(e, sympy.exp):
            u = upper(e.args[0])
            return None if u is None else sympy.exp(u)
        return absb(e)

    def magnitude(e):  # sum of the absolute values of the terms of a trig-free expression
        if e.is_Add:
            return sympy.Add(*(magnitude(a) for a in e.args))
        if e.is_Mul:
            return sympy.Mul(*(magnitude(a) for a in e.args))
        return sympy.Abs(e)

    if not expr.has(*trig):
        return None  # nothing to skip: the bound would cost as much as the loss
    u = upper(expr)
    if u is None:
        return None
    return u, magnitude(u)


def _c_statements(
    land: Landscape, fast: bool, half_turn: bool = False, vector: bool = False
) -> tuple[list[str], list[str]]:
    """C statements computing ``tr_f`` and ``tr_g0..``; and the sin/cos argument names.

    ``vector``: the same statements on ``tr_vd`` lanes (``tr_vsin``, ...; a subexpression
    of the hyperparameters alone stays a scalar, ``__auto_type``), loss and gradient
    broadcast to ``tr_vd``: the same float operations in the same order.
    """
    replacements, reduced, args = _c_cse(land)
    half = _half_turn_args(land) if fast and half_turn else frozenset()
    printer = _Printer(fast, half, vector=vector)
    decl = "const __auto_type" if vector else "const double"
    lines = [f"        {decl} {s} = {printer.doprint(e)};" for s, e in replacements]
    # Name every sin/cos argument so that the out-of-range test can refer to it.
    arg_names = []
    for a in args:
        if a.is_Symbol:
            arg_names.append(a.name)
        else:
            name = f"tr_a{len(arg_names)}"
            lines.append(f"        {decl} {name} = {printer.doprint(a)};")
            arg_names.append(name)
    out = "const tr_vd {} = tr_vsplat({});" if vector else "const double {} = {};"
    lines.append("        " + out.format("tr_f", printer.doprint(reduced[0])))
    for j, e in enumerate(reduced[1:]):
        lines.append("        " + out.format(f"tr_g{j}", printer.doprint(e)))
    return lines, arg_names


def _horner(v: str, coefficients, ctype: str | None = None) -> str:
    """C Horner evaluation ``v = c0 + z*(c1 + z*(...))`` of float64 coefficients.

    ``ctype`` (``"double"``, ``"tr_vd"``, or a marker of :data:`_TRANSCENDENTALS`): the
    declaration starts from ``c[-2] + z * c[-1]`` (the same operations as starting from
    ``c[-1]``), so that ``v`` has the type of ``z``; ``None``: the scalar form
    ``double v = c[-1];`` then one statement per coefficient.
    """
    if ctype is None:
        lines = [f"    double {v} = {coefficients[-1]!r};"]
        lines += [f"    {v} = {c!r} + z * {v};" for c in coefficients[-2::-1]]
        return "\n".join(lines)
    if len(coefficients) == 1:
        splat = "tr_vsplat" if ctype == "tr_vd" else ""
        return f"    {ctype} {v} = {splat}({coefficients[0]!r});"
    lines = [f"    {ctype} {v} = {coefficients[-2]!r} + z * {coefficients[-1]!r};"]
    lines += [f"    {v} = {c!r} + z * {v};" for c in coefficients[-3::-1]]
    return "\n".join(lines)


def _prelude_format_args(land: Landscape, ctype: str | None = None) -> dict:
    """The ``str.format`` arguments of :data:`_PRELUDE` / :data:`_VECTOR_PRELUDE` for
    ``land`` (its dimension and number of hyperparameters; every polynomial printed from
    the coefficient tuples of :mod:`._sincos` and :mod:`._exp` by :func:`_horner` with
    ``ctype``: ``None`` or ``"double"`` for the scalar prelude, ``"tr_vd"`` for the vector
    one)."""
    p, h = SINCOS, HALFTURN
    return dict(
        h_inv=h.two_over_pi,
        H1=h.P1,
        H2=h.P2,
        H3=h.P3,
        hsin_horner=_horner("s", h.sin_coefficients, ctype),
        hcos_horner=_horner("c", h.cos_coefficients, ctype),
        exp_degree=len(EXP.coefficients) - 1,
        exp_min=EXP.x_min,
        exp_max=EXP.x_max,
        log2e=EXP.log2e,
        L1=EXP.L1,
        L2=EXP.L2,
        exp_horner=_horner("q", EXP.coefficients, ctype),
        tanh_horner=_horner("h", EXP.coefficients[1:], ctype),
        tanh_max=TANH_X_MAX,
        cosh_max=COSH_X_MAX,
        sqrt_half_bits=hex(int(np.float64(np.sqrt(0.5)).view(np.uint64))),
        log_horner=_horner("q", LOG.coefficients, ctype),
        d=land.dim,
        tile=_TILE,
        np=max(len(land.hyperparameters), 1),
        R=p.R,
        two_over_pi=p.two_over_pi,
        P1=p.P1,
        P2=p.P2,
        P3=p.P3,
        sin_horner=_horner("s", p.sin_coefficients, ctype),
        cos_horner=_horner("c", p.cos_coefficients, ctype),
    )


def _prelude_source(land: Landscape, vector: bool = True) -> str:
    """The C prelude of ``land``'s kernels: defines, the scalar certified transcendentals
    (``tr_sin``, ``tr_exp``, ...) and, with ``vector``, their ``TR_T``-lane vector twins
    (``tr_vsin``, ...; the same float operations, see :data:`_TRANSCENDENTALS`)."""
    source = _PRELUDE.format(**_prelude_format_args(land, "double"))
    if vector:
        source += _VECTOR_PRELUDE.format(**_prelude_format_args(land, "tr_vd"))
    return source


def c_sweep_source(land: Landscape, transcendentals: str = "poly", half_turn: bool = False) -> str:
    """C source of the sweep kernel of ``land`` (see the module docstring).

    Args:
        land: the landscape; hyperparameter values are passed at run time.
        transcendentals: ``"poly"`` (certified polynomial sin/cos, exact outside ``|u|<=R``;
            certified polynomial exp/tanh/log/cosh/sinh everywhere) or ``"libm"`` (the C
            library's functions everywhere).
        half_turn: with ``"poly"``, an argument whose sine or cosine alone the gradient
            needs uses :data:`HALFTURN` (one polynomial instead of two; a few percent
            faster, a bound of about 9 instead of 3 ulps, so other rounding-sensitive
            labels than the default arithmetic's).
    """
    return _C_SOURCE(
        land, lambda: _c_sweep_source(land, transcendentals, half_turn), transcendentals, half_turn
    )


def _c_sweep_source(land: Landscape, transcendentals: str, half_turn: bool) -> str:
    if transcendentals not in ("poly", "libm"):
        raise ValueError(f"transcendentals must be 'poly' or 'libm', got {transcendentals!r}")
    fast = transcendentals == "poly"
    step_lines, arg_names = _c_statements(land, fast, half_turn)
    exact_lines, _ = _c_statements(land, False)
    d, npar = land.dim, len(land.hyperparameters)
    prelude = _prelude_source(land)
    unpack_params = "\n".join(f"    const double tr_p{j} = P[{j}];" for j in range(npar))
    unpack_point = "\n".join(f"    const double tr_x{j} = xv[{j}];" for j in range(d))
    unpack_lane = "\n".join(f"        const double tr_x{j} = X[{j} * B + i];" for j in range(d))
    oor = " | ".join(f"(fabs({a}) > TR_R)" for a in arg_names) if fast and arg_names else "0"
    update = "\n".join(f"        XN[{j} * B + i] = tr_x{j} - tr_s * tr_g{j};" for j in range(d))
    tile_lines = ["    " + line for line in step_lines]
    check_max = _TILE_CHECK_F["max"].format(oor_expr=oor)
    check_above = _TILE_CHECK_F["above"].format(oor_expr=oor)
    upper = _loss_upper_bound(land.expr)
    if upper is not None:
        # The loss is left to the compiler's dead-code elimination: its certified upper
        # bound decides, and a run where the loss might exceed the bound (or an argument is
        # out of range or NaN) is redone exactly, step by step.
        printer, sub = _Printer(fast), _c_substitution(land)
        tile_lines.append(
            f"            const double tr_U = {printer.doprint(upper[0].xreplace(sub))};"
        )
        tile_lines.append(
            f"            const double tr_Um = {printer.doprint(upper[1].xreplace(sub))};"
        )
        strict = " | ".join(f"!(fabs({a}) <= TR_R)" for a in arg_names) if fast else "0"
        check_max = _TILE_CHECK_U["max"].format(strict=strict)
        check_above = _TILE_CHECK_U["above"].format(strict=strict)
    unpack_tile = "\n".join(
        f"            const double tr_x{j} = XN[{j} * B + i];" for j in range(d)
    )
    update_tile = "\n".join(
        f"            XN[{j} * B + i] = tr_x{j} - tr_s * tr_g{j};" for j in range(d)
    )
    store_grad = "\n".join(f"    g_out[{j}] = tr_g{j};" for j in range(d))
    vtile = _vector_tile(land, fast, half_turn, arg_names, upper, unpack_params)
    driver = _DRIVER.format(
        vtile=vtile,
        unpack_params=unpack_params or "    (void)P;",
        unpack_point=unpack_point,
        exact_body="\n".join(line[4:] for line in exact_lines),
        kernel_body="\n".join(line[4:] for line in step_lines),
        store_grad=store_grad,
        unpack_lane=unpack_lane,
        step_body="\n".join(step_lines),
        oor_expr=oor,
        update_lane=update,
        unpack_tile=unpack_tile,
        tile_body="\n".join(tile_lines),
        check_max=check_max,
        check_above=check_above,
        update_tile=update_tile,
    )
    header = f"/* trainability sweep kernel: d={d}, {transcendentals} */\n"
    header += f"/* loss: {sympy.sstr(land.expr)} */\n"
    return header + prelude + driver


def _vector_tile(land: Landscape, fast, half_turn, arg_names, upper, unpack_params) -> str:
    """C of ``tr_vtile_run`` (:data:`_VTILE`) for ``land``, or ``#define TR_VTILE 0`` (the
    scalar ``tr_tile_run`` then runs the tiles) where the step needs a function that has no
    vector twin (libm, ``pow``, ``Piecewise``, ...) or ``d`` exceeds :data:`_VTILE_MAX_DIM`."""
    d = land.dim
    if not fast or d > _VTILE_MAX_DIM:
        return "#define TR_VTILE 0"
    lines, _ = _c_statements(land, fast, half_turn, vector=True)
    lines = ["    " + line for line in lines]
    voor = " | ".join(f"tr_vmask(tr_vabs({a}) > TR_R)" for a in arg_names) or "0"
    check_max = _VTILE_CHECK_F["max"].format(voor=voor)
    check_above = _VTILE_CHECK_F["above"].format(voor=voor)
    if upper is not None:
        printer, sub = _Printer(fast, vector=True), _c_substitution(land)
        for name, e in zip(("tr_U", "tr_Um"), upper, strict=True):
            text = printer.doprint(e.xreplace(sub))
            lines.append(f"            const tr_vd {name} = tr_vsplat({text});")
        vstrict = " | ".join(f"~tr_vmask(tr_vabs({a}) <= TR_R)" for a in arg_names) or "0"
        check_max = _VTILE_CHECK_U["max"].format(vstrict=vstrict)
        check_above = _VTILE_CHECK_U["above"].format(vstrict=vstrict)
    body = "\n".join(lines)
    called = set(re.findall(r"\b([A-Za-z_]\w*)\s*\(", body))
    # (comparisons, e.g. SymPy's sign(x) as ((x) > 0) - ((x) < 0), and ternaries have
    # int results, not lane masks: those keep the scalar tile too)
    if not called <= _VECTOR_FUNCTIONS or re.search(r"[<>?!]|==|&&|\|\|", body):
        return "#define TR_VTILE 0"
    n = _TILE // 4
    load = [
        f"        tr_vd tr_y{j}; memcpy(&tr_y{j}, X + {j} * B + i + 4 * @u@, sizeof(tr_vd));"
        for j in range(d)
    ]
    start = [f"            const tr_vd tr_x{j} = tr_y{j};" for j in range(d)]
    update = [f"            tr_y{j} = tr_x{j} - tr_s * tr_g{j};" for j in range(d)]
    store = [
        f"        memcpy(XN + {j} * B + i + 4 * @u@, &tr_y{j}, sizeof(tr_vd));" for j in range(d)
    ]
    blocks = lambda text: "\n".join(_sub_tile(text, u) for u in range(n))  # noqa: E731
    return _VTILE.format(
        unpack_params=unpack_params or "    (void)P;",
        vinit=blocks("\n".join([*load, _VTILE_INIT])),
        vbody=_interleaved(start + lines, n),
        vcheck_max=blocks(check_max),
        vcheck_sum=blocks(_VTILE_SUM.format(voor=voor)),
        vcheck_above=blocks(check_above),
        vupdate=_interleaved(update, n),
        vstore=blocks("\n".join([*store, _VTILE_STORE])),
    )


#: Lanes per register tile: four sub-tiles of one AVX2 vector each. The step is latency
#: bound (a GD step's dependency chain, reduction -> polynomial -> gradient -> update, is
#: about 100 cycles on Zen 3), so the tile needs as many independent chains as registers
#: allow: on 2 x 2^16 fig2a lanes, 8 lanes ran at 4.4 ns per lane-step, 12 at 3.0, 16 at
#: 2.6-3.2 (16 ymm registers: 16 lanes spill a little). Also the padding of the scalar tile.
_TILE = 16
