"""The certified polynomial exponential of the fast C kernels.

``exp x = 2**n * exp(r)``: the argument is clamped to ``[x_min, x_max]`` (outside, float64
``exp`` is ``0`` or ``inf`` anyway), reduced by ``ln 2`` with a two-part Cody-Waite constant
(``r = (x - n*L1) - n*L2``), ``exp r`` is a Taylor polynomial on ``|r| <= ln2/2`` and ``2**n``
is built from exponent bits in two factors (so that subnormal results round once, like
libm's). Every step is branch-free, so gcc vectorises a loop that calls it.
:func:`exp_error_bound` derives the relative error bound of the whole evaluation
(reduction, coefficient rounding, truncation, Horner rounding), and the tests check it
against mpmath. The same operations run in NumPy (:func:`exp_numpy`) and in the generated
C (``c_sweep_source``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from numpy.typing import ArrayLike, NDArray

__all__ = ["EXP", "ExpPolynomial", "exp_error_bound", "exp_numpy"]

_MAGIC = 6755399441055744.0  # 1.5 * 2**52: adding it rounds to an integer (|v| < 2**51)


@dataclass(frozen=True)
class ExpPolynomial:
    """Range-reduced Taylor polynomial for ``exp`` in float64.

    ``x`` is clamped to ``[x_min, x_max]`` (NaN passes through), ``n = round(x * log2e)``
    (magic-number rounding), ``r = (x - n*L1) - n*L2`` with ``L1 + L2 ~ ln 2`` and ``L1`` of
    42 significant bits (``n*L1`` is exact for ``|n| < 2**11``, and ``x - n*L1`` is exact by
    Sterbenz's lemma), ``exp r = c0 + r*(c1 + r*(...))`` with the Taylor coefficients
    ``1/k!`` up to degree ``len(coefficients) - 1``, and the result is
    ``p * 2**floor(n/2) * 2**ceil(n/2)``.
    """

    x_min: float
    x_max: float
    log2e: float
    L1: float
    L2: float
    coefficients: tuple[float, ...]  # of r**0, r**1, ..., r**N


def _make_exp(degree: int = 13) -> ExpPolynomial:
    import mpmath

    with mpmath.workdps(60):
        ln2 = mpmath.log(2)
        l1 = float(mpmath.floor(ln2 * 2**42) / 2**42)  # 42 significant bits (ln2 in [1/2, 1))
        l2 = float(ln2 - mpmath.mpf(l1))
        log2e = float(1 / ln2)
        coefs = tuple(float(1 / mpmath.factorial(k)) for k in range(degree + 1))
    # Below x_min exp(x) < 2**-1076 rounds to 0; above x_max it overflows to inf.
    return ExpPolynomial(-746.0, 710.0, log2e, l1, l2, coefs)


#: The polynomial exponential of the C kernels (degree 13: the lowest Taylor degree whose
#: truncation error on ``|r| <= ln2/2`` stays well below one rounding).
EXP = _make_exp()


def exp_numpy(x: ArrayLike, poly: ExpPolynomial | None = None) -> NDArray[np.float64]:
    """NumPy mirror of the polynomial exponential (the C code's operations), any float64 ``x``.

    Returns ``exp x`` as a float64 array, with ``exp(-inf) = 0``, ``exp(inf) = inf`` and
    NaN propagated; ``poly`` defaults to :data:`EXP`.
    """
    p = EXP if poly is None else poly
    x = np.asarray(x, dtype=np.float64)
    x = np.where(x < p.x_min, p.x_min, x)  # NaN compares false and passes through
    x = np.where(x > p.x_max, p.x_max, x)
    with np.errstate(invalid="ignore", over="ignore"):
        t = x * p.log2e + _MAGIC
        n = t - _MAGIC
        r = (x - n * p.L1) - n * p.L2
        q = np.full_like(r, p.coefficients[-1])
        for c in p.coefficients[-2::-1]:
            q = c + r * q
        # k + 2048 > 0 on the clamped range: logical shifts only (AVX2 has no 64-bit
        # arithmetic shift); biased exponents floor(k/2) + 1023 and ceil(k/2) + 1023.
        k = (t.view(np.int64) - np.float64(_MAGIC).view(np.int64) + 2048).view(np.uint64)
        k1 = k >> np.uint64(1)
        s1 = ((k1 - np.uint64(1)) << np.uint64(52)).view(np.float64)
        s2 = ((k - k1 - np.uint64(1)) << np.uint64(52)).view(np.float64)
        return q * s1 * s2


def exp_error_bound(poly: ExpPolynomial | None = None) -> dict[str, float]:
    """Rigorous bound on the relative error ``|poly(x)/exp(x) - 1|`` for normal results.

    ``poly``: :data:`EXP` (default). Standard floating-point model (each operation rounds
    with relative error at most ``2**-53``; a fused multiply-add rounds once, which only
    tightens the bound), in 60-digit mpmath:

    - ``reduction``: ``|r - (x - n ln2)|``: the tail ``ln2 - L1 - L2`` times ``|n|`` and the
      roundings of ``n*L2`` and of the last subtraction (``n*L1`` and ``x - n*L1`` are exact;
      both facts are checked here). Since ``exp' = exp`` it enters relatively as ``e**d - 1``.
    - ``truncation``: Lagrange remainder of the Taylor polynomial on ``|r| <= r_max`` plus
      the rounding of the coefficients to float64, relative to ``exp(-r_max)``.
    - ``evaluation``: running error bound of the Horner evaluation, relative likewise.

    The scaling by ``2**n`` is exact while the result is normal; a subnormal result adds
    at most half the smallest subnormal (its one rounding; ``subnormal_absolute`` reports the
    smallest subnormal ``2**-1074``, a bound on that). Returns a dict with the
    three parts, ``r_max``, ``x_min``, ``x_max``, ``subnormal_absolute`` and ``total``.
    """
    import mpmath

    p = EXP if poly is None else poly
    with mpmath.workdps(60):
        u = mpmath.mpf(2) ** -53
        ln2 = mpmath.log(2)
        L1, L2 = mpmath.mpf(p.L1), mpmath.mpf(p.L2)
        x_abs = max(abs(mpmath.mpf(p.x_min)), abs(mpmath.mpf(p.x_max)))
        # |n - x/ln2| <= 1/2 + slack: the rounded product (or fma) and log2e's own rounding.
        slack = x_abs * (abs(mpmath.mpf(p.log2e) - 1 / ln2) + u * mpmath.mpf(p.log2e))
        n_max = int(mpmath.floor(x_abs / ln2 + mpmath.mpf(1) / 2 + slack))
        assert n_max < 2**11
        # n*L1 exact: L1's significand times an 11-bit integer fits in 53 bits.
        m, e = mpmath.frexp(L1)
        assert (m * mpmath.mpf(2) ** 42) == mpmath.floor(m * mpmath.mpf(2) ** 42)
        # x - n*L1 exact (Sterbenz: n L1 / 2 <= x <= 2 n L1 for n >= 1, and symmetric): the
        # tightest case is n = 1, where x >= (1/2 - s1) ln2 and x <= (3/2 + s1) ln2 with the
        # slack s1 of |x| <= 2; for n >= 2 both sides hold with room to spare.
        s1 = slack * 2 / x_abs
        assert (mpmath.mpf(1) / 2 - s1) * ln2 >= L1 / 2
        assert (mpmath.mpf(3) / 2 + s1) * ln2 <= 2 * L1
        rho = (mpmath.mpf(1) / 2 + slack) * ln2  # |x - n ln2|
        tail = abs(ln2 - L1 - L2)
        reduction = (n_max * tail + u * n_max * abs(L2) + u * rho) / (1 - 2 * u)
        r_max = rho + reduction
        coefs = [mpmath.mpf(c) for c in p.coefficients]
        N = len(coefs) - 1
        truncation = r_max ** (N + 1) / mpmath.factorial(N + 1) * mpmath.exp(r_max)
        coef = sum(abs(c - 1 / mpmath.factorial(k)) * r_max**k for k, c in enumerate(coefs))
        V, E = abs(coefs[-1]), mpmath.mpf(0)  # Horner: magnitude and absolute error bounds
        for c in coefs[-2::-1]:
            prod = r_max * V
            e_prod = r_max * E + u * prod
            V = abs(c) + prod
            E = e_prod + u * V
        scale = mpmath.exp(r_max)  # 1 / min exp(r)
        trunc_rel = (truncation + coef) * scale
        eval_rel = E * scale
        total = (1 + trunc_rel + eval_rel) * mpmath.exp(reduction) - 1
        return {
            "x_min": p.x_min,
            "x_max": p.x_max,
            "r_max": float(r_max),
            "reduction": float(reduction),
            "truncation": float(trunc_rel),
            "evaluation": float(eval_rel),
            "subnormal_absolute": float(mpmath.mpf(2) ** -1074),
            "total": float(total),
        }
