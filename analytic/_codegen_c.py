"""C source of whole learning-rate sweep kernels, generated from the SymPy expression.

:func:`c_sweep_source` prints the loss and gradient with SymPy's C printer (sin/cos by the
certified polynomial of :mod:`._sincos`, exp/tanh/log/cosh/sinh by those of :mod:`._exp`,
or libm) into a driver that labels learning rates:
learning rates are innermost, in cache-sized blocks; GD steps are outermost, in runs of 16
(the tiled driver: the divergence and out-of-range flags are accumulated in the step's own
vectorised pass); finished lanes (diverged, or exactly periodic in floating point, see below)
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

    def __init__(self, fast: bool, half=frozenset()):
        super().__init__()
        self.fast = fast
        self.half = half  # arguments reduced by half turns (HALFTURN): one polynomial each

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
        return f"tr_h{fn}" if expr.args[0] in self.half else f"tr_{fn}"

    def _print_sin(self, expr):
        return f"{self._name(expr, 'sin')}({self._print(expr.args[0])})"

    def _print_cos(self, expr):
        return f"{self._name(expr, 'cos')}({self._print(expr.args[0])})"

    def _print_exp(self, expr):
        # The certified polynomial exp (EXP) is valid on the whole real line: no fallback.
        return f"{'tr_exp' if self.fast else 'exp'}({self._print(expr.args[0])})"

    def _print_tanh(self, expr):
        # Likewise the certified tanh (tanh_error_bound) and log (log_error_bound).
        return f"{'tr_tanh' if self.fast else 'tanh'}({self._print(expr.args[0])})"

    def _print_cosh(self, expr):
        return f"{'tr_cosh' if self.fast else 'cosh'}({self._print(expr.args[0])})"

    def _print_sinh(self, expr):
        return f"{'tr_sinh' if self.fast else 'sinh'}({self._print(expr.args[0])})"

    def _print_log(self, expr):  # (SymPy's log has one argument: log(x, b) is log(x)/log(b))
        return f"{'tr_log' if self.fast else 'log'}({self._print(expr.args[0])})"


_PRELUDE = r"""
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

static inline double tr_reduce(double u, int64_t *q) {{
    double t = u * {two_over_pi!r} + 6755399441055744.0;
    int64_t bits; memcpy(&bits, &t, 8);
    *q = bits & 3;
    double n = t - 6755399441055744.0;
    return ((u - n * {P1!r}) - n * {P2!r}) - n * {P3!r};
}}
static inline double tr_sin_r(double r) {{
    double z = r * r;
{sin_horner}
    return r + r * (z * s);
}}
static inline double tr_cos_r(double r) {{
    double z = r * r;
{cos_horner}
    return 1.0 + z * c;
}}
static inline double tr_sin(double u) {{
    int64_t q; double r = tr_reduce(u, &q);
    double sr = tr_sin_r(r), cr = tr_cos_r(r);
    double v = (q & 1) ? cr : sr;
    return (q & 2) ? -v : v;
}}
static inline double tr_cos(double u) {{
    int64_t q; double r = tr_reduce(u, &q);
    double sr = tr_sin_r(r), cr = tr_cos_r(r);
    double v = (q & 1) ? -sr : cr;
    return (q & 2) ? -v : v;
}}
/* Half-turn reduction u = n*pi + r, |r| <= pi/2: sin u = (-1)^n sin r, cos u = (-1)^n cos r,
   one polynomial each (HALFTURN). */
static inline double tr_hreduce(double u, int64_t *odd) {{
    double t = u * {h_inv!r} + 6755399441055744.0;
    int64_t bits; memcpy(&bits, &t, 8);
    *odd = bits & 1;
    double n = t - 6755399441055744.0;
    return ((u - n * {H1!r}) - n * {H2!r}) - n * {H3!r};
}}
static inline double tr_hsin(double u) {{
    int64_t odd; double r = tr_hreduce(u, &odd);
    double z = r * r;
{hsin_horner}
    double v = r + r * (z * s);
    return odd ? -v : v;
}}
static inline double tr_hcos(double u) {{
    int64_t odd; double r = tr_hreduce(u, &odd);
    double z = r * r;
{hcos_horner}
    double v = 1.0 + z * c;
    return odd ? -v : v;
}}
/* exp x = 2^n exp(r) (EXP): n = round(x log2e) by the magic number (*k = n as an
   integer), Cody-Waite r = (x - n L1) - n L2 (returned), for |x| <= 746. */
static inline double tr_ereduce(double x, uint64_t *k) {{
    double t = x * {log2e!r} + 6755399441055744.0;
    double n = t - 6755399441055744.0;
    memcpy(k, &t, 8);
    *k -= 0x4338000000000000ull;
    return (x - n * {L1!r}) - n * {L2!r};
}}
/* exp: clamp to [lo, hi] (NaN passes), reduce, Taylor polynomial of degree {exp_degree},
   and 2^n as 2^floor(n/2) 2^ceil(n/2) from exponent bits (subnormal results round once),
   times `half` (1 or 1/2, exact). Branch-free and with logical shifts only, so loops over
   lanes vectorise (AVX2). */
static inline double tr_exp_scaled(double x, double lo, double hi, double half) {{
    x = x < lo ? lo : x;
    x = x > hi ? hi : x;
    uint64_t k;
    double z = tr_ereduce(x, &k);
{exp_horner}
    k += 2048u;
    uint64_t k1 = k >> 1, b1 = (k1 - 1u) << 52, b2 = (k - k1 - 1u) << 52;
    double s1, s2; memcpy(&s1, &b1, 8); memcpy(&s2, &b2, 8);
    return q * s1 * (s2 * half);
}}
static inline double tr_exp(double x) {{ return tr_exp_scaled(x, {exp_min!r}, {exp_max!r}, 1.0); }}
/* cosh x = E + 1/(4E), E = exp(|x|)/2 scaled in the exponent (finite up to |x| = 710.47,
   where exp itself overflows), clamp at {cosh_max!r} (cosh_error_bound). */
static inline double tr_cosh(double x) {{
    const double E = tr_exp_scaled(fabs(x), 0.0, {cosh_max!r}, 0.5);
    return E + 0.25 / E;
}}
/* sinh x = sign(x) (E - 1/(4E)) for |x| >= 1 (the cancellation is at most coth 1), and
   sign(x) (e + e/(e + 1))/2 with e = expm1(|x|) = 2^n (r h(r)) + (2^n - 1) below (tr_tanh's
   expm1, no cancellation); both are computed, one is selected (sinh_error_bound). */
static inline double tr_sinh(double x) {{
    const double ax = fabs(x);
    const double E = tr_exp_scaled(ax, 0.0, {cosh_max!r}, 0.5);
    const double big = E - 0.25 / E;
    uint64_t k;
    double z = tr_ereduce(ax < 1.0 ? ax : 1.0, &k);
{tanh_horner}
    k = (k + 1023u) << 52;
    double s; memcpy(&s, &k, 8);
    const double e = s * (z * h) + (s - 1.0);
    const double small = 0.5 * (e + e / (e + 1.0));
    return copysign(ax < 1.0 ? small : big, x);
}}
/* tanh x = sign(x) e/(e + 2), e = expm1(2|x|) = 2^n (r h(r)) + (2^n - 1) (tanh_error_bound):
   the same reduction and coefficients as tr_exp, exp(r) - 1 without the leading 1, |x|
   clamped at {tanh_max!r} (tanh rounds to +-1 there; NaN passes). */
static inline double tr_tanh(double x) {{
    double ax = fabs(x);
    ax = ax > {tanh_max!r} ? {tanh_max!r} : ax;
    uint64_t k;
    double z = tr_ereduce(ax + ax, &k);
{tanh_horner}
    k = (k + 1023u) << 52;
    double s; memcpy(&s, &k, 8);
    double e = s * (z * h) + (s - 1.0);
    return copysign(e / (e + 2.0), x);
}}
/* log x = e ln2 + 2 atanh(s), s = (m - 1)/(m + 1), x = 2^e m, m in [sqrt(1/2), sqrt2) from
   the bits (subnormal x scaled by 2^54 first; LOG, log_error_bound); e as a double by the
   2^52 trick (AVX2 has no int64 -> double conversion). log 0 = -inf, log(x < 0) = NaN. */
static inline double tr_log(double x) {{
    const int sub = x < 0x1p-1022;
    const double xs = sub ? x * 0x1p54 : x;
    uint64_t t; memcpy(&t, &xs, 8);
    t += 0x3ff0000000000000ull - {sqrt_half_bits}ull;
    uint64_t mb = (t & 0xfffffffffffffull) + {sqrt_half_bits}ull;
    uint64_t eb = (t >> 52) | 0x4330000000000000ull;
    double m, ed; memcpy(&m, &mb, 8); memcpy(&ed, &eb, 8);
    const double e = (ed - 4503599627370496.0) - (sub ? 1077.0 : 1023.0);
    const double f = m - 1.0, s = f / (2.0 + f), z = s * s;
{log_horner}
    const double res = e * {L1!r} + (e * {L2!r} + (s * (z * q) + (s + s)));
    const double special = x == 0.0 ? -INFINITY : (x < 0.0 ? NAN : x + x);
    return (x > 0.0) & (x < INFINITY) ? res : special;
}}
"""

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

static inline __attribute__((always_inline)) void tr_tile_run(
    const int criterion, long k0, long kend, long nt, long B, const double *restrict LR,
    const double *restrict X, double *restrict XN, const double *restrict S,
    double *restrict SO, double *restrict MO, int64_t *restrict FL, const double *restrict P,
    double bound) {{
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

static void tr_tiles(int criterion, long k0, long kend, long nt, long B, const double *LR,
                     const double *X, double *XN, const double *S, double *SO, double *MO,
                     int64_t *FL, const double *P, double bound) {{
    /* One specialisation per criterion: the rule's branches vanish from the inner loop. */
    if (criterion == 0) tr_tile_run(0, k0, kend, nt, B, LR, X, XN, S, SO, MO, FL, P, bound);
    else if (criterion == 1) tr_tile_run(1, k0, kend, nt, B, LR, X, XN, S, SO, MO, FL, P, bound);
    else tr_tile_run(2, k0, kend, nt, B, LR, X, XN, S, SO, MO, FL, P, bound);
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
"""


def _c_substitution(land: Landscape) -> dict:
    """The landscape's variables and hyperparameters -> the C names ``tr_x<j>``, ``tr_p<j>``."""
    xs = [sympy.Symbol(f"tr_x{j}") for j in range(land.dim)]
    ps = [sympy.Symbol(f"tr_p{j}") for j in range(len(land.hyperparameters))]
    return dict(zip(land.variables, xs, strict=True)) | dict(
        zip(land.hyperparameters, ps, strict=True)
    )


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
    land: Landscape, fast: bool, half_turn: bool = False
) -> tuple[list[str], list[str]]:
    """C statements computing ``tr_f`` and ``tr_g0..``; and the sin/cos argument names."""
    replacements, reduced, args = _c_cse(land)
    printer = _Printer(fast, _half_turn_args(land) if fast and half_turn else frozenset())
    lines = [f"        const double {s} = {printer.doprint(e)};" for s, e in replacements]
    # Name every sin/cos argument so that the out-of-range test can refer to it.
    arg_names = []
    for a in args:
        if a.is_Symbol:
            arg_names.append(a.name)
        else:
            name = f"tr_a{len(arg_names)}"
            lines.append(f"        const double {name} = {printer.doprint(a)};")
            arg_names.append(name)
    lines.append(f"        const double tr_f = {printer.doprint(reduced[0])};")
    for j, e in enumerate(reduced[1:]):
        lines.append(f"        const double tr_g{j} = {printer.doprint(e)};")
    return lines, arg_names


def _horner(v: str, coefficients) -> str:
    """C Horner evaluation ``v = c0 + z*(c1 + z*(...))`` of float64 coefficients."""
    lines = [f"    double {v} = {coefficients[-1]!r};"]
    lines += [f"    {v} = {c!r} + z * {v};" for c in coefficients[-2::-1]]
    return "\n".join(lines)


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
    p = SINCOS
    h = HALFTURN
    prelude = _PRELUDE.format(
        h_inv=h.two_over_pi,
        H1=h.P1,
        H2=h.P2,
        H3=h.P3,
        hsin_horner=_horner("s", h.sin_coefficients),
        hcos_horner=_horner("c", h.cos_coefficients),
        exp_degree=len(EXP.coefficients) - 1,
        exp_min=EXP.x_min,
        exp_max=EXP.x_max,
        log2e=EXP.log2e,
        L1=EXP.L1,
        L2=EXP.L2,
        exp_horner=_horner("q", EXP.coefficients),
        tanh_horner=_horner("h", EXP.coefficients[1:]),
        tanh_max=TANH_X_MAX,
        cosh_max=COSH_X_MAX,
        sqrt_half_bits=hex(int(np.float64(np.sqrt(0.5)).view(np.uint64))),
        log_horner=_horner("q", LOG.coefficients),
        d=d,
        tile=_TILE,
        np=max(npar, 1),
        R=p.R,
        two_over_pi=p.two_over_pi,
        P1=p.P1,
        P2=p.P2,
        P3=p.P3,
        sin_horner=_horner("s", p.sin_coefficients),
        cos_horner=_horner("c", p.cos_coefficients),
    )
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
    driver = _DRIVER.format(
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


#: Lanes per register tile: 8 doubles = two AVX2 vectors (four SSE2 ones), enough
#: independent chains to hide the FMA latency of the polynomial evaluations.
_TILE = 8
