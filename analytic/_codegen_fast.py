"""Fast sweep kernels generated from the SymPy expression.

Two generators share one polynomial sine/cosine (:data:`SINCOS`), whose error bound is
derived in :func:`sincos_error_bound` and checked against mpmath in the tests:

- :func:`fast_jax_kernels`: the usual JAX kernels (same calling convention as
  :func:`~trainability.analytic.jax_kernels`) with ``sin``/``cos`` replaced by the
  polynomial; arguments with ``|u| > R`` fall back to ``jnp.sin``/``jnp.cos``. Runs
  unchanged on CPU, GPU and TPU.
- :func:`c_sweep_kernel`: a whole learning-rate sweep kernel in C (SymPy's C printer),
  compiled with ``gcc -O3 -march=native -fopenmp`` and loaded with :mod:`ctypes`. Learning
  rates are innermost, in cache-sized blocks; GD steps are outermost, in runs of 16 (the
  tiled driver: the divergence and out-of-range flags are accumulated in the step's own
  vectorised pass); finished lanes (diverged, or exactly periodic in floating point, see
  below) are compacted away between runs; blocks are spread over all cores with OpenMP.
  Under the max/above rules the loss itself is not evaluated where a certified upper bound
  (``_loss_upper_bound``: every sin/cos bounded by 1) stays below the bound; a run where
  it might not is redone step by step with the stepwise driver's code, so the labels equal
  the stepwise driver's (``CSweepKernel.tiled = False``). ``transcendentals="libm"`` gives
  the exact path (C library ``sin``/``cos``).

Early exit of converged lanes is *provably safe*: every 16 steps a lane's iterate is
compared bit for bit with its iterate 16 steps earlier. If they are equal, the
deterministic map repeats the same (at most 16) iterates forever, all of whose losses were
already checked against the bound, so the lane is trainable at every later step.
"""

from __future__ import annotations

import ctypes
import dataclasses
import functools
import hashlib
import json
import os
import platform
import shutil
import stat
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import sympy
from sympy.printing.c import C99CodePrinter

from ._codegen import _KERNELS, Kernels, _array_kernels, _jax_modules, _key
from ._derive import gradient
from ._landscape import Landscape

__all__ = [
    "HALFTURN",
    "CompileError",
    "CSweepKernel",
    "SINCOS",
    "SinCosPolynomial",
    "c_sweep_kernel",
    "c_sweep_source",
    "fast_jax_kernels",
    "sincos_error_bound",
    "sincos_numpy",
]


# --------------------------------------------------------------------------------------
# The polynomial sine and cosine
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SinCosPolynomial:
    """Range-reduced Taylor polynomials for ``sin`` and ``cos`` in float64.

    ``u = n*pi/2 + r`` with ``n = round(u * 2/pi)`` (Cody-Waite reduction with a three-part
    ``pi/2 = P1 + P2 + P3``; ``P1`` and ``P2`` have 33 significant bits so ``n*P1`` and
    ``n*P2`` are exact for ``|n| < 2**20``), then ``sin r = r + r z S(z)`` and
    ``cos r = 1 + z C(z)`` with ``z = r*r`` and Taylor coefficients (degrees 17 and 16).
    Valid for ``|u| <= R``; outside, callers use the exact function.

    ``turn="half"`` (:data:`HALFTURN`): the reduction step is ``pi`` instead of ``pi/2``
    (``two_over_pi`` then holds ``1/pi`` and ``P1 + P2 + P3 = pi``), ``sin u = (-1)**n sin r``
    and ``cos u = (-1)**n cos r`` with ``|r| <= pi/2``: one polynomial of higher degree
    (21 and 22) instead of both, for arguments whose sine *or* cosine alone is needed.
    """

    R: float
    two_over_pi: float
    P1: float
    P2: float
    P3: float
    sin_coefficients: tuple[float, ...]  # of r**3, r**5, ..., r**17 (r**21 for "half")
    cos_coefficients: tuple[float, ...]  # of r**2, r**4, ..., r**16 (r**22 for "half")
    turn: str = "quarter"

    @property
    def step(self):
        """The reduction step ``pi/2`` or ``pi`` in 60-digit mpmath."""
        import mpmath

        with mpmath.workdps(60):
            return mpmath.pi / 2 if self.turn == "quarter" else +mpmath.pi


def _make_sincos(turn: str = "quarter", terms: int = 8) -> SinCosPolynomial:
    import mpmath

    with mpmath.workdps(60):
        step = mpmath.pi / 2 if turn == "quarter" else +mpmath.pi
        top = 32 if turn == "quarter" else 31  # 33 significant bits either way
        p1 = float(mpmath.floor(step * 2**top) / 2**top)
        rest = step - mpmath.mpf(p1)
        e = int(mpmath.floor(mpmath.log(rest, 2)))
        p2 = float(mpmath.floor(rest * mpmath.mpf(2) ** (32 - e)) / mpmath.mpf(2) ** (32 - e))
        p3 = float(rest - mpmath.mpf(p2))
        inv = float(1 / step)
        sin_c = tuple(float((-1) ** k / mpmath.factorial(2 * k + 1)) for k in range(1, terms + 1))
        cos_c = tuple(float((-1) ** k / mpmath.factorial(2 * k)) for k in range(1, terms + 2))
        if turn == "quarter":
            cos_c = cos_c[:terms]
    return SinCosPolynomial(1.6e6, inv, p1, p2, p3, sin_c, cos_c, turn)


#: The one polynomial sine/cosine used by every fast generator (JAX, C, NumPy mirror).
SINCOS = _make_sincos()
#: Half-turn reduction with one polynomial per function (degrees 21 and 22), used by the C
#: kernels for an argument whose sine or cosine alone is needed in the gradient.
HALFTURN = _make_sincos("half", 10)
_MAGIC = 6755399441055744.0  # 1.5 * 2**52: adding it rounds to an integer (|v| < 2**51)


def sincos_numpy(u) -> tuple[np.ndarray, np.ndarray]:
    """NumPy mirror of the polynomial (same operations as the C and JAX code), ``|u| <= R``.

    Returns ``(sin u, cos u)`` as float64 arrays; values outside ``[-R, R]`` are garbage
    (callers fall back to the exact function there).
    """
    p = SINCOS
    u = np.asarray(u, dtype=np.float64)
    with np.errstate(invalid="ignore", over="ignore"):
        t = u * p.two_over_pi + _MAGIC
        q = t.view(np.int64) & 3
        n = t - _MAGIC
        r = ((u - n * p.P1) - n * p.P2) - n * p.P3
        z = r * r
        s = p.sin_coefficients[-1]
        for c in p.sin_coefficients[-2::-1]:
            s = c + z * s
        sin_r = r + r * (z * s)
        c_ = p.cos_coefficients[-1]
        for c in p.cos_coefficients[-2::-1]:
            c_ = c + z * c_
        cos_r = 1.0 + z * c_
    sin_u = np.where(q & 1, cos_r, sin_r)
    sin_u = np.where(q & 2, -sin_u, sin_u)
    cos_u = np.where(q & 1, -sin_r, cos_r)
    cos_u = np.where(q & 2, -cos_u, cos_u)
    return sin_u, cos_u


def sincos_error_bound(poly: SinCosPolynomial | None = None) -> dict[str, float]:
    """Rigorous bound on ``|poly(u) - sin u|`` and ``|poly(u) - cos u|`` for ``|u| <= R``.

    ``poly``: :data:`SINCOS` (default) or :data:`HALFTURN`.

    Standard floating-point model (each operation rounds with relative error at most
    ``2**-53``; a fused multiply-add rounds once, which only tightens the bound), summed
    over the three error sources, computed in 60-digit mpmath:

    - ``reduction``: the reduced argument ``r`` against the exact ``u - n*pi/2``
      (tail of the three-part ``pi/2`` times ``|n|``, plus the roundings of the last two
      subtractions and of ``n*P3``); ``sin``/``cos`` are 1-Lipschitz so this carries over.
    - ``truncation``: Lagrange remainder of the Taylor polynomial on ``|r| <= r_max``,
      plus the rounding of the coefficients to float64.
    - ``evaluation``: running error bound of the Horner evaluation in float64.

    Returns a dict with the three parts, ``r_max``, ``R`` and ``total``.
    """
    import mpmath

    p = SINCOS if poly is None else poly
    with mpmath.workdps(60):
        u = mpmath.mpf(2) ** -53
        R = mpmath.mpf(p.R)
        step = p.step
        n_max = mpmath.ceil(R * mpmath.mpf(p.two_over_pi)) + 1
        assert n_max < 2**20
        tail = abs(step - (mpmath.mpf(p.P1) + mpmath.mpf(p.P2) + mpmath.mpf(p.P3)))
        # n may be off the nearest integer by one rounding of u/step: |r| <= step/2 + slack.
        slack = (R * mpmath.mpf(p.two_over_pi) * u + u) * step * 2
        r_max = step / 2 + slack
        t2_max = r_max + n_max * mpmath.mpf(p.P3) * 2
        np3 = n_max * mpmath.mpf(p.P3)
        reduction = n_max * tail + u * (t2_max + np3 + r_max) * (1 + 4 * u)
        r_max = r_max + reduction
        z_max = r_max**2 * (1 + u)
        dz = u * r_max**2 + 2 * r_max * reduction  # |z - r_exact^2| bound (incl. r error)
        # Lagrange remainders: sin's next nonzero term has degree 2m + 3, cos's 2m' + 2.
        m_s, m_c = len(p.sin_coefficients), len(p.cos_coefficients)
        truncation_sin = r_max ** (2 * m_s + 3) / mpmath.factorial(2 * m_s + 3)
        truncation_cos = r_max ** (2 * m_c + 2) / mpmath.factorial(2 * m_c + 2)
        coef_sin = sum(
            abs(mpmath.mpf(c) - (-1) ** k / mpmath.factorial(2 * k + 1)) * r_max ** (2 * k + 1)
            for k, c in enumerate(p.sin_coefficients, start=1)
        )
        coef_cos = sum(
            abs(mpmath.mpf(c) - (-1) ** k / mpmath.factorial(2 * k)) * r_max ** (2 * k)
            for k, c in enumerate(p.cos_coefficients, start=1)
        )

        def horner(coefs):
            # Running bound: value magnitude V and absolute error E of q = c_k + z*q_{k+1}.
            V = abs(mpmath.mpf(coefs[-1]))
            E = mpmath.mpf(0)
            for c in coefs[-2::-1]:
                prod = z_max * V
                e_prod = z_max * E + V * dz + u * prod
                V = abs(mpmath.mpf(c)) + prod
                E = e_prod + u * V
            return V, E

        Vs, Es = horner(p.sin_coefficients)
        zs = z_max * Vs  # z*S
        e_zs = z_max * Es + Vs * dz + u * zs
        rzs = r_max * zs
        e_rzs = r_max * e_zs + zs * reduction + u * rzs
        eval_sin = e_rzs + u * (r_max + rzs)
        Vc, Ec = horner(p.cos_coefficients)
        zc = z_max * Vc
        e_zc = z_max * Ec + Vc * dz + u * zc
        eval_cos = e_zc + u * (1 + zc)
        total = max(
            reduction + truncation_sin + coef_sin + eval_sin,
            reduction + truncation_cos + coef_cos + eval_cos,
        )
        return {
            "R": float(R),
            "r_max": float(r_max),
            "reduction": float(reduction),
            "truncation": float(max(truncation_sin + coef_sin, truncation_cos + coef_cos)),
            "evaluation": float(max(eval_sin, eval_cos)),
            "total": float(total),
        }


# --------------------------------------------------------------------------------------
# JAX kernels with the polynomial
# --------------------------------------------------------------------------------------


def _jax_sincos(u):
    import jax
    import jax.numpy as jnp

    p = SINCOS
    u = jnp.asarray(u)
    if u.dtype != jnp.float64:  # the reduction constants need float64
        return jnp.sin(u), jnp.cos(u)
    # jnp.round, not the magic-number trick: XLA may simplify (v + M) - M to v.
    n = jnp.round(u * p.two_over_pi)
    q = jnp.where(jnp.abs(n) < 2.0**52, n, 0.0).astype(jnp.int64) & 3
    r = ((u - n * p.P1) - n * p.P2) - n * p.P3
    z = r * r
    s = jnp.asarray(p.sin_coefficients[-1], u.dtype)
    for c in p.sin_coefficients[-2::-1]:
        s = c + z * s
    sin_r = r + r * (z * s)
    c_ = jnp.asarray(p.cos_coefficients[-1], u.dtype)
    for c in p.cos_coefficients[-2::-1]:
        c_ = c + z * c_
    cos_r = 1.0 + z * c_
    odd, neg = (q & 1) == 1, (q & 2) == 2
    sin_u = jnp.where(odd, cos_r, sin_r)
    sin_u = jnp.where(neg, -sin_u, sin_u)
    cos_u = jnp.where(odd, -sin_r, cos_r)
    cos_u = jnp.where(neg, -cos_u, cos_u)
    outside = ~(jnp.abs(u) <= p.R)  # also NaN: the exact functions propagate it the same way

    def exact(_):
        return (jnp.where(outside, jnp.sin(u), sin_u), jnp.where(outside, jnp.cos(u), cos_u))

    if u.ndim == 0:
        return exact(None)
    return jax.lax.cond(jnp.any(outside), exact, lambda _: (sin_u, cos_u), None)


def _jax_sin(u):
    return _jax_sincos(u)[0]


def _jax_cos(u):
    return _jax_sincos(u)[1]


def fast_jax_kernels(land: Landscape) -> Kernels:
    """JAX kernels of ``land`` with ``sin``/``cos`` replaced by the certified polynomial.

    Same calling convention as :func:`~trainability.analytic.jax_kernels`. In float32 the
    exact functions are used (the polynomial's reduction constants need float64).

    >>> import jax.numpy as jnp
    >>> from trainability.analytic import family
    >>> k = fast_jax_kernels(family("additive", eps=0.2, lam=0.1))
    >>> f, g = k.loss_and_grad(jnp.array([[0.05]]), (0.2, 0.1))
    >>> round(float(f[0]), 12)    # 0.0025 + 0.2 * cos(pi)
    -0.1975
    """
    key = _key(land, "jax-poly")
    if key not in _KERNELS:
        modules, jnp = _jax_modules()
        modules = [{"sin": _jax_sin, "cos": _jax_cos}, *modules]
        _KERNELS[key] = _array_kernels(land, modules, jnp, "jax-poly")
    return _KERNELS[key]


# --------------------------------------------------------------------------------------
# C sweep kernels
# --------------------------------------------------------------------------------------


class CompileError(RuntimeError):
    """The C compiler is missing or failed; callers fall back to the JAX backend."""


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
    double s = {s7!r};
    s = {s6!r} + z * s; s = {s5!r} + z * s; s = {s4!r} + z * s; s = {s3!r} + z * s;
    s = {s2!r} + z * s; s = {s1!r} + z * s; s = {s0!r} + z * s;
    return r + r * (z * s);
}}
static inline double tr_cos_r(double r) {{
    double z = r * r;
    double c = {c7!r};
    c = {c6!r} + z * c; c = {c5!r} + z * c; c = {c4!r} + z * c; c = {c3!r} + z * c;
    c = {c2!r} + z * c; c = {c1!r} + z * c; c = {c0!r} + z * c;
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
    key = _key(land, "c-cse")
    if key in _KERNELS:
        return _KERNELS[key]
    sub = _c_substitution(land)
    exprs = [e.xreplace(sub) for e in (land.expr, *gradient(land))]
    replacements, reduced = sympy.cse(exprs, symbols=sympy.numbered_symbols("tr_t"))
    args: list[sympy.Expr] = []
    for e in [*(r for _, r in replacements), *reduced]:
        for fn in e.atoms(sympy.sin, sympy.cos):
            if fn.args[0] not in args:
                args.append(fn.args[0])
    _KERNELS[key] = (replacements, reduced, args)
    return _KERNELS[key]


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
        transcendentals: ``"poly"`` (certified polynomial sin/cos, exact outside ``|u|<=R``)
            or ``"libm"`` (the C library's functions everywhere).
        half_turn: with ``"poly"``, an argument whose sine or cosine alone the gradient
            needs uses :data:`HALFTURN` (one polynomial instead of two; a few percent
            faster, a bound of about 9 instead of 3 ulps, so other rounding-sensitive
            labels than the default arithmetic's).
    """
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
        d=d,
        tile=_TILE,
        np=max(npar, 1),
        R=p.R,
        two_over_pi=p.two_over_pi,
        P1=p.P1,
        P2=p.P2,
        P3=p.P3,
        **{f"s{i}": c for i, c in enumerate(p.sin_coefficients)},
        **{f"c{i}": c for i, c in enumerate(p.cos_coefficients)},
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
    header = f"/* trainability sweep kernel: {land.name}, d={d}, {transcendentals} */\n"
    header += f"/* loss: {sympy.sstr(land.expr)} */\n"
    return header + prelude + driver


#: Lanes per register tile: 8 doubles = two AVX2 vectors (four SSE2 ones), enough
#: independent chains to hide the FMA latency of the polynomial evaluations.
_TILE = 8

# -fno-trapping-math / -fno-math-errno change no IEEE result (no fast-math): they only let
# gcc if-convert and vectorise more freely.
_FLAGS = (
    "-O3",
    "-march=native",
    "-fno-trapping-math",
    "-fno-math-errno",
    "-fopenmp",
    "-std=gnu11",
    "-fPIC",
    "-shared",
)
_FALLBACK_FLAGS = (
    ("-O3", "-fopenmp", "-std=gnu11", "-fPIC", "-shared"),
    ("-O3", "-std=gnu11", "-fPIC", "-shared"),
)


def _cache_dir() -> Path:
    root = os.environ.get("TRAINABILITY_CACHE")
    base = Path(root) if root else Path.home() / ".cache" / "trainability"
    path = base / "ckernels"
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / f".probe-{os.getpid()}"
        probe.write_text("")
        probe.unlink()
        return path
    except OSError:
        return _private_tmp_dir()


def _private_tmp_dir() -> Path:
    """A per-user 0700 folder in the temporary directory: other users can neither plant a
    kernel there for us to load nor read ours."""
    path = Path(tempfile.gettempdir()) / f"trainability-ckernels-{os.getuid()}"
    try:
        path.mkdir(mode=0o700, exist_ok=True)
        st = os.lstat(path)
    except OSError as exc:
        raise CompileError(f"no usable kernel cache folder ({exc})") from None
    if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.getuid():
        raise CompileError(f"kernel cache folder {path} is not a folder owned by this user")
    if st.st_mode & 0o077:
        os.chmod(path, 0o700)
    return path


def _run_quiet(args: list[str]) -> str:
    try:
        proc = subprocess.run(args, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return proc.stdout if proc.returncode == 0 else ""


@functools.lru_cache(maxsize=8)
def _compiler_id(cc: str, native: bool) -> str:
    """The compiler's version and, for ``-march=native``, the target it resolves to here
    (the ISA flags gcc reports): a cache shared between hosts or compilers never mixes
    binaries."""
    text = _run_quiet([cc, "--version"]).split("\n")[0]
    if native:
        text += _run_quiet([cc, "-march=native", "-Q", "--help=target"])
    return hashlib.sha256(f"{shutil.which(cc)}\n{text}".encode()).hexdigest()[:12]


@functools.lru_cache(maxsize=1)
def _cpu_id() -> str:
    """This CPU, without a compiler: machine, model and feature flags (Linux cpuinfo)."""
    text = platform.machine()
    try:
        info = Path("/proc/cpuinfo").read_text()
    except OSError:
        info = platform.processor()
    keep = [ln for ln in info.splitlines() if ln.split(":")[0].strip() in ("model name", "flags")]
    text += "\n".join(dict.fromkeys(keep))  # the first processor's lines (all are equal)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _sidecar(path: Path) -> Path:
    return path.with_suffix(".json")


def _verified(path: Path) -> bool:
    """``path`` is whole, unchanged since it was compiled, and built on this kind of CPU.

    A truncated shared object makes ``dlopen`` crash the process (SIGBUS), so nothing is
    loaded before its checksum matches the one written beside it.
    """
    try:
        meta = json.loads(_sidecar(path).read_text())
        data = path.read_bytes()
    except (OSError, ValueError):
        return False
    return (
        isinstance(meta, dict)
        and meta.get("cpu") == _cpu_id()
        and meta.get("size") == len(data)
        and meta.get("sha256") == hashlib.sha256(data).hexdigest()
    )


def _atomic_copy(data: bytes, target: Path) -> None:
    partial = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    partial.write_bytes(data)
    os.replace(partial, target)  # atomic: concurrent readers never see half a file


def _compile(source: str, compiler: str | None = None) -> tuple[Path, tuple[str, ...]]:
    """Path of the compiled kernel of ``source`` and its flags, from the cache if valid.

    The cache is consulted before the compiler is required: a verified kernel built on
    this CPU is used even where no compiler is installed.
    """
    cc = compiler or os.environ.get("CC", "gcc")
    folder = _cache_dir()
    have_cc = shutil.which(cc) is not None
    errors = []
    for flags in (_FLAGS, *_FALLBACK_FLAGS):
        base = hashlib.sha256((" ".join(flags) + source).encode()).hexdigest()[:24]
        if not have_cc:
            for path in sorted(folder.glob(f"sweep_{base}_*.so")):
                if _verified(path):
                    return path, flags
            continue
        target = folder / f"sweep_{base}_{_compiler_id(cc, '-march=native' in flags)}.so"
        if _verified(target):
            return target, flags
        with tempfile.TemporaryDirectory() as tmp:
            src = Path(tmp) / "kernel.c"
            src.write_text(source)
            out = Path(tmp) / "kernel.so"
            try:
                proc = subprocess.run(
                    [cc, *flags, str(src), "-o", str(out), "-lm"],
                    capture_output=True,
                    text=True,
                    timeout=120,
                )
            except (OSError, subprocess.TimeoutExpired) as exc:
                errors.append(str(exc))
                continue
            if proc.returncode != 0:
                last = proc.stderr.strip().splitlines()[-1:]
                errors.append(last[0] if last else f"{cc} exited with status {proc.returncode}")
                continue
            data = out.read_bytes()
        meta = {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data), "cpu": _cpu_id()}
        meta["compiler"] = cc
        meta["flags"] = list(flags)
        # The kernel first, then its checksum: a reader that races this sees a mismatch and
        # recompiles, never a checksum that vouches for a half-written file.
        _atomic_copy(data, target)
        _atomic_copy(json.dumps(meta).encode(), _sidecar(target))
        return target, flags
    if not have_cc:
        raise CompileError(f"C compiler {cc!r} not found (and no cached kernel)")
    raise CompileError(f"compiling the sweep kernel failed: {errors[-1] if errors else '?'}")


def _default_threads() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


@dataclass(eq=False)
class CSweepKernel:
    """A compiled C sweep kernel: the ``backend`` object for ``numeric.lr_sweep``.

    Calling it labels learning rates: ``kernel(lrs, x0, params, steps, bound)`` with
    ``lrs: (C,)``, ``x0: (d,)``, ``params: (P,)`` returns ``(labels: (C,) bool, evaluations)``
    where ``evaluations`` counts loss/gradient evaluations actually done (at most
    ``C * (steps + 1)``; the rest were skipped by early exit).

    :meth:`sweep_cells` labels the same learning rates for many hyperparameter cells at
    once (the optional multi-cell method of ``numeric.LabelKernel``).

    Attributes:
        source: the generated C source. name: ``"c-poly"`` or ``"c-libm"``.
        dim: number of parameter variables. n_params: number of hyperparameters.
        flags: compiler flags used. threads: OpenMP threads (default: all cores).
        block: learning rates per cache block. check_period: enable the periodic-orbit exit.
        criterion: ``"max"`` (divergent when the loss exceeds the bound at any step) or
            ``"sum"`` (when the sum of the losses over the run reaches it); see
            :meth:`with_criterion`.
        tiled: run the register-tiled driver (tiles of ``_TILE`` lanes kept in registers for
            runs of 16 steps, flags accumulated in the same pass, compaction between runs);
            ``False`` runs the stepwise driver (one GD step over all lanes at a time, then
            the out-of-range and divergence scans). Both give the same labels; the tiled
            one counts whole runs as evaluations (a lane that diverges mid-run finishes it).
    """

    source: str
    name: str
    dim: int
    n_params: int
    flags: tuple[str, ...] = ()
    threads: int = field(default_factory=_default_threads)
    block: int = 512
    check_period: bool = True
    _lib: object = field(default=None, repr=False)
    criterion: str = "max"
    tiled: bool = True

    def __post_init__(self):
        if self._lib is None:
            path, self.flags = _compile(self.source)
            try:
                lib = ctypes.CDLL(str(path))
                _ = lib.tr_sweep_cells, lib.tr_eval, lib.tr_sincos  # a complete kernel
            except (OSError, AttributeError) as exc:  # e.g. libgomp missing where it runs
                raise CompileError(f"loading the compiled kernel failed: {exc}") from None
            vp, lg = ctypes.c_void_p, ctypes.c_long
            lib.tr_sweep_cells.restype = lg
            lib.tr_sweep_cells.argtypes = [
                lg,
                lg,
                vp,
                vp,
                vp,
                lg,
                ctypes.c_double,
                vp,
                lg,
                ctypes.c_int,
                ctypes.c_int,
                ctypes.c_int,
                ctypes.c_int,
                ctypes.c_int,
            ]
            lib.tr_eval.restype = None
            lib.tr_eval.argtypes = [lg, vp, vp, vp, vp]
            for fn in (lib.tr_sincos, lib.tr_hsincos):
                fn.restype = None
                fn.argtypes = [lg, vp, vp, vp]
            self._lib = lib

    def __reduce__(self):  # picklable: the receiver recompiles (or finds the cached .so)
        return (
            _rebuild,
            (
                self.source,
                self.name,
                self.dim,
                self.n_params,
                self.threads,
                self.block,
                self.check_period,
                self.criterion,
                self.tiled,
            ),
        )

    def with_criterion(self, criterion: str) -> CSweepKernel:
        """The same compiled kernel with the divergence rule ``criterion``.

        ``"max"``: divergent when ``f(x_k) > bound`` (or NaN) for some ``k = 0..steps``.
        ``"sum"``: divergent when ``f(x_1) + ... + f(x_k) >= bound`` (NaN counts as reaching
        it) for some ``k <= steps``, the rule of Liu's GPU sweeps (``gpuexp-4-2.py``,
        ``gpuexp-10.py``: bound 1e16). ``"above"``: divergent when ``f(x_k) > bound`` for some
        ``k = 1..steps``, NaN never (a NaN orbit is trainable): the comparison of Liu's
        ``exp-3.py``/``exp-5.jl``.
        """
        if criterion not in _CRITERION_CODE:
            raise ValueError(
                f"criterion must be one of {', '.join(_CRITERION_CODE)}, got {criterion!r}"
            )
        if criterion == self.criterion:
            return self
        return dataclasses.replace(self, criterion=criterion)

    def _params(self, params) -> np.ndarray:
        p = np.ascontiguousarray(np.asarray(params, dtype=np.float64).reshape(-1))
        if p.size != self.n_params:
            raise ValueError(f"kernel takes {self.n_params} parameters, got {p.size}")
        return p if p.size else np.zeros(1)

    def __call__(self, lrs, x0, params=(), steps: int = 1000, bound: float = 1e8):
        x0 = np.broadcast_to(np.asarray(x0, np.float64), (self.dim,))
        p = self._params(params)[: self.n_params].reshape(1, -1)
        labels, ev = self.sweep_cells(lrs, x0[None], p, steps, bound)
        return labels[0], ev

    def sweep_cells(self, lrs, x0s, params, steps: int = 1000, bound: float = 1e8):
        """Label the learning rates ``lrs: (C,)`` for every cell of a hyperparameter grid.

        Args:
            x0s: ``(cells, d)`` initial point per cell.
            params: ``(cells, P)`` hyperparameters per cell.

        Returns ``(labels: (cells, C) bool, evaluations)``; row ``c`` equals
        ``self(lrs, x0s[c], params[c], steps, bound)[0]``. OpenMP spreads (cell, block)
        pairs over the threads, so many small cells still use every core.
        """
        lrs = np.ascontiguousarray(lrs, dtype=np.float64).reshape(-1)
        x0s = np.asarray(x0s, np.float64)
        params = np.asarray(params, np.float64)
        if x0s.ndim != 2 or x0s.shape[1] != self.dim:
            raise ValueError(f"x0s must have shape (cells, {self.dim}), got {x0s.shape}")
        cells = x0s.shape[0]
        if params.shape != (cells, self.n_params):
            raise ValueError(
                f"params must have shape ({cells}, {self.n_params}), got {params.shape}"
            )
        x0s = np.ascontiguousarray(x0s)
        # The C side reads max(P, 1) values per cell (one dummy when there are none).
        p = np.ascontiguousarray(params if self.n_params else np.zeros((cells, 1)))
        labels = np.empty((cells, lrs.size), dtype=np.uint8)
        return self._run(cells, lrs, x0s, p, steps, bound, labels, lane_x0=False)

    def _run(self, cells, lrs, x0s, p, steps, bound, labels, lane_x0: bool):
        """``tr_sweep_cells`` on prepared contiguous arrays; ``(labels as bool, evaluations)``."""
        ev = self._lib.tr_sweep_cells(
            cells,
            lrs.size,
            lrs.ctypes.data,
            x0s.ctypes.data,
            p.ctypes.data,
            int(steps),
            float(bound),
            labels.ctypes.data,
            int(self.block),
            int(self.threads),
            int(self.check_period),
            _CRITERION_CODE[self.criterion],
            int(lane_x0),
            int(self.tiled),
        )
        return labels.astype(bool), int(ev)

    def sweep_lanes(self, lrs, x0s, params=(), steps: int = 1000, bound: float = 1e8):
        """Labels of lanes that each have their own learning rate and start.

        ``lrs: (C,)``, ``x0s: (C, d)``, ``params: (P,)`` shared; returns ``(labels: (C,) bool,
        evaluations)``, lane ``i`` equal to ``self(lrs[i:i+1], x0s[i], params, ...)[0][0]``.
        (Liu's ``exp-6.jl``/``exp-7.jl`` draw a fresh x0 for every learning rate.)
        """
        lrs = np.ascontiguousarray(lrs, dtype=np.float64).reshape(-1)
        x0s = np.ascontiguousarray(np.asarray(x0s, np.float64).reshape(lrs.size, self.dim))
        p = self._params(params)
        labels = np.empty(lrs.size, dtype=np.uint8)
        return self._run(1, lrs, x0s, p, steps, bound, labels, lane_x0=True)

    def loss_and_grad(self, x, params=()):
        """``(f: (C,), g: (C, d))`` at points ``x: (C, d)`` with this kernel's arithmetic."""
        x = np.ascontiguousarray(np.asarray(x, np.float64).reshape(-1, self.dim))
        f = np.empty(x.shape[0])
        g = np.empty_like(x)
        self._lib.tr_eval(
            x.shape[0],
            x.ctypes.data,
            self._params(params).ctypes.data,
            f.ctypes.data,
            g.ctypes.data,
        )
        return f, g

    def sincos(self, u, turn: str = "quarter") -> tuple[np.ndarray, np.ndarray]:
        """The compiled polynomial ``(sin u, cos u)`` (valid for ``|u| <= R``): ``turn``
        ``"quarter"`` (:data:`SINCOS`) or ``"half"`` (:data:`HALFTURN`)."""
        u = np.ascontiguousarray(np.asarray(u, np.float64).reshape(-1))
        s, c = np.empty_like(u), np.empty_like(u)
        fn = self._lib.tr_sincos if turn == "quarter" else self._lib.tr_hsincos
        fn(u.size, u.ctypes.data, s.ctypes.data, c.ctypes.data)
        return s, c


_CRITERION_CODE = {"max": 0, "sum": 1, "above": 2}


def _rebuild(
    source, name, dim, n_params, threads, block, check_period, criterion="max", tiled=True
):
    return CSweepKernel(
        source,
        name,
        dim,
        n_params,
        threads=threads,
        block=block,
        check_period=check_period,
        criterion=criterion,
        tiled=tiled,
    )


def c_sweep_kernel(
    land: Landscape,
    transcendentals: str = "poly",
    *,
    threads: int | None = None,
    block: int | None = None,
    half_turn: bool = False,
) -> CSweepKernel:
    """Generate, compile (cached on disk) and load the C sweep kernel of ``land``.

    ``block``: learning rates per cache block; default 512, fewer for large ``d`` so that a
    block's iterates (``2 d block`` doubles) stay in the L2 cache. ``half_turn``: see
    :func:`c_sweep_source`.

    Raises :class:`CompileError` when no working C compiler is available; the caller
    should then use the JAX backend.
    """
    if block is None:
        block = min(512, max(32, 4096 // land.dim // 8 * 8))
    if not isinstance(block, int) or block < 1:
        raise ValueError(f"block must be a positive integer, got {block}")
    key = (*_key(land, "c"), transcendentals, threads, block, half_turn)
    if key not in _KERNELS:
        source = c_sweep_source(land, transcendentals, half_turn)
        kernel = CSweepKernel(
            source,
            f"c-{transcendentals}",
            land.dim,
            len(land.hyperparameters),
            block=block,
            **({"threads": threads} if threads else {}),
        )
        _KERNELS[key] = kernel
    return _KERNELS[key]
