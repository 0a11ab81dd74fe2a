"""The certified polynomial exponential and hyperbolic tangent of the fast C kernels.

``exp x = 2**n * exp(r)``: the argument is clamped to ``[x_min, x_max]`` (outside, float64
``exp`` is ``0`` or ``inf`` anyway), reduced by ``ln 2`` with a two-part Cody-Waite constant
(``r = (x - n*L1) - n*L2``), ``exp r`` is a minimax polynomial on ``|r| <= ln2/2`` and ``2**n``
is built from exponent bits in two factors (so that subnormal results round once, like
libm's). Every step is branch-free, so gcc vectorises a loop that calls it.
:func:`exp_error_bound` derives the relative error bound of the whole evaluation
(reduction, coefficient rounding, truncation, Horner rounding), and the tests check it
against mpmath. The same operations run in NumPy (:func:`exp_numpy`) and in the generated
C (``c_sweep_source``).

``tanh`` reuses the reduction and the coefficients: ``tanh x = sign(x) e/(e + 2)`` with
``e = expm1(2|x|) = 2**n (exp(r) - 1) + (2**n - 1)``, where ``exp(r) - 1 = r h(r)`` is
evaluated without the leading 1 (so small ``|x|``, where ``n = 0``, loses nothing to
cancellation); :func:`tanh_error_bound` certifies it.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    # mpmath makes its mpf class per context at run time; _mpf is their static base.
    from mpmath.ctx_mp_python import _mpf as mpf
    from numpy.typing import ArrayLike, NDArray

__all__ = [
    "EXP",
    "LOG",
    "cosh_error_bound",
    "cosh_numpy",
    "sinh_error_bound",
    "sinh_numpy",
    "ExpPolynomial",
    "LogPolynomial",
    "exp_error_bound",
    "exp_numpy",
    "log_error_bound",
    "log_numpy",
    "tanh_error_bound",
    "tanh_numpy",
]

_MAGIC = 6755399441055744.0  # 1.5 * 2**52: adding it rounds to an integer (|v| < 2**51)


@dataclass(frozen=True)
class ExpPolynomial:
    """Range-reduced polynomial for ``exp`` in float64.

    ``x`` is clamped to ``[x_min, x_max]`` (NaN passes through), ``n = round(x * log2e)``
    (magic-number rounding), ``r = (x - n*L1) - n*L2`` with ``L1 + L2 ~ ln 2`` and ``L1`` of
    42 significant bits (``n*L1`` is exact for ``|n| < 2**11``, and ``x - n*L1`` is exact by
    Sterbenz's lemma), ``exp r = c0 + r*(c1 + r*(...))`` with ``c0 = 1`` and minimax
    coefficients (:func:`minimax_exp`; Taylor ``1/k!`` before) up to degree
    ``len(coefficients) - 1``, and the result is
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


#: Main's Taylor polynomial of degree 13: the reference the minimax one is chosen against.
_TAYLOR_EXP = _make_exp()

#: Degree of the minimax exponential: the lowest whose certified bounds of ``exp``,
#: ``tanh``, ``sinh`` and ``cosh`` all stay at or below the Taylor polynomial's (degree 11
#: exceeds the ``exp`` one; tests/test_analytic_exp.py checks both).
MINIMAX_EXP_DEGREE = 12

#: The polynomial exponential of the C kernels: ``minimax_exp(MINIMAX_EXP_DEGREE)``, stored
#: so that importing is fast (a test re-derives it bit for bit).
EXP = dataclasses.replace(
    _TAYLOR_EXP,
    coefficients=(
        1.0,
        1.0,
        0.5,
        0.1666666666666668,
        0.0416666666666665,
        0.008333333333319707,
        0.0013888888888965128,
        0.00019841269889815256,
        2.4801587172489502e-05,
        2.7557241139311673e-06,
        2.755739989575559e-07,
        2.5109964068011107e-08,
        2.0876748834532085e-09,
    ),
)


def exp_numpy(x: ArrayLike, poly: ExpPolynomial | None = None) -> NDArray[np.float64]:
    """NumPy mirror of the polynomial exponential (the C code's operations), any float64 ``x``.

    Returns ``exp x`` as a float64 array, with ``exp(-inf) = 0``, ``exp(inf) = inf`` and
    NaN propagated; ``poly`` defaults to :data:`EXP`.
    """
    p = EXP if poly is None else poly
    return _exp_scaled(np.asarray(x, dtype=np.float64), p, p.x_min, p.x_max, 1.0)


#: ``cosh`` clamps ``|x|`` here: above 710.48 it overflows, and ``2**n`` stays two normal
#: factors up to ``|x| = 1400``.
COSH_X_MAX = 711.0


def cosh_numpy(x: ArrayLike, poly: ExpPolynomial | None = None) -> NDArray[np.float64]:
    """NumPy mirror of the polynomial ``cosh x = E + 1/(4E)``, ``E = exp(|x|)/2`` (scaled in
    the exponent, so finite wherever ``cosh`` is), any float64 ``x``; NaN propagates."""
    p = EXP if poly is None else poly
    with np.errstate(over="ignore", divide="ignore"):
        E = _exp_scaled(np.abs(np.asarray(x, dtype=np.float64)), p, 0.0, COSH_X_MAX, 0.5)
        return E + 0.25 / E


def cosh_error_bound(poly: ExpPolynomial | None = None) -> dict[str, float]:
    """Rigorous bound on the relative error of :func:`cosh_numpy`'s operations (and the C
    ``tr_cosh``) for ``|x| <= 710.47`` (finite ``cosh``).

    ``E`` carries :func:`exp_error_bound`'s relative error ``b`` (its ``r_max`` covers
    ``|x| <= 746``, more than the clamp at :data:`COSH_X_MAX`; the factor 1/2 is exact), so
    ``1/(4E)`` carries ``b/(1 - b)`` and one rounding; the sum of the two positive terms
    adds one rounding. Returns a dict with ``exp`` (``b``) and ``total``.
    """
    import mpmath

    b = mpmath.mpf(exp_error_bound(poly)["total"])
    u = mpmath.mpf(2) ** -53
    with mpmath.workdps(60):
        inv = (1 + b / (1 - b)) * (1 + u) - 1
        total = (1 + max(b, inv)) * (1 + u) - 1
        return {"exp": float(b), "total": float(total)}


def sinh_numpy(x: ArrayLike, poly: ExpPolynomial | None = None) -> NDArray[np.float64]:
    """NumPy mirror of the polynomial ``sinh``: ``sign(x) (E - 1/(4E))``, ``E = exp(|x|)/2``,
    for ``|x| >= 1``, ``sign(x) (e + e/(e + 1))/2`` with ``e = expm1(|x|)`` below."""
    p = EXP if poly is None else poly
    x = np.asarray(x, dtype=np.float64)
    ax = np.abs(x)
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        E = _exp_scaled(ax, p, 0.0, COSH_X_MAX, 0.5)
        e = _expm1(np.where(ax < 1.0, ax, 1.0), p)
        small = 0.5 * (e + e / (e + 1.0))
        return np.copysign(np.where(ax < 1.0, small, E - 0.25 / E), x)


def sinh_error_bound(poly: ExpPolynomial | None = None) -> dict[str, float]:
    """Rigorous bound on the relative error of :func:`sinh_numpy` (and the C ``tr_sinh``),
    finite ``sinh``.

    ``|x| < 1``: ``e = expm1(|x|)`` has ``n <= 1``, so the expm1 bound ``eta`` of
    :func:`tanh_error_bound` (its worst case is ``n = 1``) holds; ``e/(e + 1)`` has
    sensitivity ``1/(e + 1) <= 1`` to ``e``, plus two roundings, and the sum of the two
    positive terms one more (``/2`` is exact). ``|x| >= 1``: ``E`` and ``1/(4E)`` carry
    ``b`` (:func:`exp_error_bound`) and ``b/(1 - b)`` plus a rounding; their difference
    amplifies by at most ``(E + F)/(E - F) = coth|x| <= coth 1``, plus one rounding.
    Returns a dict with ``small``, ``large`` and ``total``.
    """
    import mpmath

    t = tanh_error_bound(poly)
    b = mpmath.mpf(exp_error_bound(poly)["total"])
    u = mpmath.mpf(2) ** -53
    with mpmath.workdps(60):
        eta = mpmath.mpf(max(t["expm1_small"], t["expm1_large"]))
        ratio = (1 + eta / (1 - eta)) * (1 + u) ** 2 - 1
        small = (1 + max(eta, ratio)) * (1 + u) - 1
        inv = (1 + b / (1 - b)) * (1 + u) - 1
        large = max(b, inv) * mpmath.coth(1) + u
        return {"small": float(small), "large": float(large), "total": float(max(small, large))}


def _exp_scaled(x, p: ExpPolynomial, lo: float, hi: float, half: float):
    """``half * exp(x)`` with ``x`` clamped to ``[lo, hi]`` (the C ``tr_exp_scaled``)."""
    x = np.where(x < lo, lo, x)  # NaN compares false and passes through
    x = np.where(x > hi, hi, x)
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
        return q * s1 * (s2 * half)


#: ``tanh x`` rounds to ``sign(x)`` beyond ``|x| = 19.1`` (``1 - tanh < 2**-54``): the
#: argument is clamped there, so ``2|x| < 2**6 ln 2`` and ``2**n`` needs one factor.
TANH_X_MAX = 20.0


def tanh_numpy(x: ArrayLike, poly: ExpPolynomial | None = None) -> NDArray[np.float64]:
    """NumPy mirror of the polynomial ``tanh`` (the C code's operations), any float64 ``x``.

    ``tanh(+-inf) = +-1``, NaN propagates; ``poly`` defaults to :data:`EXP` (its reduction
    constants and its coefficients from ``r**1`` on).
    """
    p = EXP if poly is None else poly
    x = np.asarray(x, dtype=np.float64)
    ax = np.abs(x)
    ax = np.where(ax > TANH_X_MAX, TANH_X_MAX, ax)  # NaN passes through
    with np.errstate(invalid="ignore", over="ignore"):
        e = _expm1(ax + ax, p)
        return np.copysign(e / (e + 2.0), x)


def _expm1(y, p: ExpPolynomial):
    """``expm1 y = 2**n (r h(r)) + (2**n - 1)`` for ``0 <= y <= 2 TANH_X_MAX`` (C: in
    ``tr_tanh`` and ``tr_sinh``)."""
    t = y * p.log2e + _MAGIC
    n = t - _MAGIC
    r = (y - n * p.L1) - n * p.L2
    h = np.full_like(r, p.coefficients[-1])
    for c in p.coefficients[-2:0:-1]:
        h = c + r * h
    k = (t.view(np.int64) - np.float64(_MAGIC).view(np.int64) + 1023).view(np.uint64)
    s = (k << np.uint64(52)).view(np.float64)
    return s * (r * h) + (s - 1.0)


def tanh_error_bound(poly: ExpPolynomial | None = None) -> dict[str, float]:
    """Rigorous bound on the relative error ``|poly_tanh(x)/tanh(x) - 1|``, normal ``x``.

    Same model as :func:`exp_error_bound`. With ``y = 2|x|`` and ``n = round(y log2e)``:

    - ``expm1_small`` (``n = 0``): ``r = y`` exactly, ``e = r h(r)``; Horner error of ``h``,
      coefficient rounding and Lagrange remainder of ``(e**r - 1)/r``, plus the product's
      rounding, relative to ``expm1(y) >= y``.
    - ``expm1_large`` (``n >= 1``): ``e = 2**n q + (2**n - 1)`` (``2**n - 1`` is exact, one
      rounding for the sum); the absolute error ``2**n (|q - expm1 r| + reduction)`` over the
      smallest ``expm1(y) = 2**n exp(-r_max) - 1`` (at ``n = 1``: the worst case).
    - the quotient ``e/(e + 2)``: a relative error ``eta`` of ``e`` gives at most
      ``eta/(1 - eta)`` (its sensitivity ``2/(e + 2)`` is at most 1 for ``e >= 0``), plus the
      roundings of the sum and the division.

    Returns a dict with ``truncation`` (the certified ``max |h~ - h|``,
    :func:`h_truncation`), ``expm1_small``, ``expm1_large``, ``x_max`` and ``total``.
    """
    import mpmath

    p = EXP if poly is None else poly
    if p.coefficients[0] != 1.0:  # expm1 r = r h(r) needs exp r = 1 + r h(r)
        raise ValueError("tanh/sinh reuse exp's coefficients from r**1 on: c0 must be 1")
    with mpmath.workdps(60):
        u, r_max, reduction = _exp_reduction(p)
        coefs = [mpmath.mpf(c) for c in p.coefficients[1:]]  # h(r) ~ sum r**k / (k+1)!
        n_top = int(mpmath.floor(2 * TANH_X_MAX / mpmath.log(2) + 1))
        assert n_top < 1023  # one normal factor 2**n

        def h_errors(rm):
            V, E = abs(coefs[-1]), mpmath.mpf(0)
            for c in coefs[-2::-1]:
                prod = rm * V
                E = rm * E + u * prod + u * (abs(c) + prod)
                V = abs(c) + prod
            return V, E + truncation

        # n = 0: 0 <= y = r <= r_max; expm1(y)/y >= 1 and h >= 1.
        truncation = h_truncation(p.coefficients[1:], r_max)
        V, A = h_errors(r_max)
        small = (A + u * V) * (1 + u)
        # n >= 1: |r| <= r_max; |q~ - (e**r~ - 1)| <= |r|(A + u V), then the reduction.
        q_err = r_max * (A + u * V) + mpmath.exp(r_max) * (mpmath.exp(reduction) - 1)
        large = max(2**n * q_err / (2**n * mpmath.exp(-r_max) - 1) + u for n in range(1, n_top + 1))
        eta = max(small, large)
        total = (1 + eta / (1 - eta)) * (1 + u) / (1 - u) - 1
        return {
            "x_max": TANH_X_MAX,
            "truncation": float(truncation),
            "expm1_small": float(small),
            "expm1_large": float(large),
            "total": float(total),
        }


def exp_error_bound(poly: ExpPolynomial | None = None) -> dict[str, float]:
    """Rigorous bound on the relative error ``|poly(x)/exp(x) - 1|`` for normal results.

    ``poly``: :data:`EXP` (default). Standard floating-point model (each operation rounds
    with relative error at most ``2**-53``; a fused multiply-add rounds once, which only
    tightens the bound), in 60-digit mpmath:

    - ``reduction``: ``|r - (x - n ln2)|``: the tail ``ln2 - L1 - L2`` times ``|n|`` and the
      roundings of ``n*L2`` and of the last subtraction (``n*L1`` and ``x - n*L1`` are exact;
      both facts are checked here). Since ``exp' = exp`` it enters relatively as ``e**d - 1``.
    - ``truncation``: the certified ``max |P(r)/exp(r) - 1|`` on ``|r| <= r_max`` of the
      exact polynomial with the float64 coefficients (:func:`exp_truncation`): minimax (or
      Taylor) truncation and coefficient rounding together.
    - ``evaluation``: running error bound of the Horner evaluation, relative to
      ``exp(-r_max)``.

    The scaling by ``2**n`` is exact while the result is normal; a subnormal result adds
    at most half the smallest subnormal (its one rounding; ``subnormal_absolute`` reports the
    smallest subnormal ``2**-1074``, a bound on that). Returns a dict with the
    three parts, ``r_max``, ``x_min``, ``x_max``, ``subnormal_absolute`` and ``total``.
    """
    import mpmath

    p = EXP if poly is None else poly
    with mpmath.workdps(60):
        u, r_max, reduction = _exp_reduction(p)
        coefs = [mpmath.mpf(c) for c in p.coefficients]
        trunc_rel = exp_truncation(p.coefficients, r_max)
        V, E = abs(coefs[-1]), mpmath.mpf(0)  # Horner: magnitude and absolute error bounds
        for c in coefs[-2::-1]:
            prod = r_max * V
            e_prod = r_max * E + u * prod
            V = abs(c) + prod
            E = e_prod + u * V
        eval_rel = E * mpmath.exp(r_max)  # relative to min exp(r)
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


def _exp_reduction(p: ExpPolynomial):
    """``(u, r_max, reduction)`` of the Cody-Waite reduction by ``ln 2`` (mpmath, 60 digits):
    ``r_max`` bounds the computed ``|r|``, ``reduction`` its distance to ``x - n ln2``."""
    import mpmath

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
        return u, rho + reduction, reduction


def _exp_taylor(k: int):
    from flint import fmpq

    return fmpq(1, math.factorial(k))


def exp_truncation(coefficients: tuple[float, ...], r_max: mpf) -> mpf:
    """Certified ``max |P(r) exp(-r) - 1|`` over ``|r| <= r_max`` for the exact polynomial
    ``P`` of the float64 ``coefficients`` (truncation and coefficient rounding together,
    relative).

    ``P(r) exp(-r) - 1 = D(r) + P(r) (exp(-r) - E_K(-r))`` with ``E_K`` the Taylor
    polynomial of degree ``K`` and ``D = P(r) E_K(-r) - 1`` a polynomial, bounded by
    :func:`~trainability.analytic._remez.certified_sup`; the Lagrange remainder bounds the
    second term by ``max|P| r_max**(K+1)/(K+1)! exp(r_max)``.
    """
    import mpmath
    from flint import fmpq_poly

    from ._remez import as_fmpq, certified_sup

    P = fmpq_poly([as_fmpq(c) for c in coefficients])
    with mpmath.workdps(60):
        p_max = sum(abs(mpmath.mpf(c)) * r_max**k for k, c in enumerate(coefficients))
        K = len(coefficients)

        def tail(K):
            return p_max * r_max ** (K + 1) / mpmath.factorial(K + 1) * mpmath.exp(r_max)

        while tail(K) > 1e-25:
            K += 1
        E = fmpq_poly([_exp_taylor(k) * (-1) ** k for k in range(K + 1)])
        return certified_sup(P * E - 1, -r_max, r_max) + tail(K)


def h_truncation(coefficients: tuple[float, ...], r_max: mpf) -> mpf:
    """Certified ``max |h(r) - (exp(r) - 1)/r|`` over ``|r| <= r_max`` for the exact
    polynomial ``h`` of the float64 ``coefficients`` (those of ``exp`` from ``r**1`` on):
    the Taylor series ``sum r**k/(k+1)!`` has the remainder ``r**(K+1) exp(r)/(K+2)!``."""
    import mpmath
    from flint import fmpq, fmpq_poly

    from ._remez import as_fmpq, certified_deviation

    h = fmpq_poly([as_fmpq(c) for c in coefficients])
    with mpmath.workdps(60):
        return certified_deviation(
            h,
            lambda k: fmpq(1, math.factorial(k + 1)),
            -r_max,
            r_max,
            lambda K: r_max ** (K + 1) * mpmath.exp(r_max) / mpmath.factorial(K + 2),
        )


def _h(r: mpf) -> mpf:
    """``(exp(r) - 1)/r`` (1 at 0) in mpmath."""
    import mpmath

    return mpmath.expm1(r) / r if r else mpmath.mpf(1)


def minimax_exp(terms: int) -> tuple[float, ...]:
    """Float64 coefficients ``(1, h_0, ..., h_{terms-1})`` of ``exp r = 1 + r h(r)`` with
    ``h`` the minimax polynomial of ``(exp(r) - 1)/r`` for relative error on
    ``|r| <= r_max`` (:func:`exp_error_bound`'s reduction), coefficients rounded to nearest
    and moved by single ulps while the sampled error decreases
    (:func:`~trainability.analytic._remez.float64_minimax` without re-fit: ``r, r**2, ...``
    share the zero ``r = 0`` inside the interval, so a re-fit has no alternation theorem).

    The leading 1 stays exact and ``h`` is fitted for its own relative error (not the
    ``exp`` one, whose weight ``|r|`` would leave ``h`` loose near 0): ``tanh`` and ``sinh``
    evaluate ``expm1 = r h(r)`` with the same coefficients.
    """
    import mpmath

    from ._remez import float64_minimax

    with mpmath.workdps(60):
        _, r_max, _ = _exp_reduction(_TAYLOR_EXP)
    h, _ = float64_minimax(_h, lambda r: 1 / _h(r), -r_max, r_max, range(terms), refit=False)
    return (1.0, *h)


@dataclass(frozen=True)
class LogPolynomial:
    """``log x = e ln2 + log m`` in float64, for the C kernels.

    ``x = 2**e m`` with ``m`` in ``[sqrt(1/2), sqrt(2))`` from the exponent bits (subnormal
    ``x`` scaled by ``2**54`` first), ``f = m - 1`` (exact, Sterbenz), ``s = f/(2 + f)``,
    ``log m = 2 atanh(s) = 2s + s z P(z)`` with ``z = s*s`` and ``P`` the minimax polynomial
    (:func:`minimax_log`) of the atanh series ``2/3 + 2/5 z + ...`` (``coefficients``), and
    ``e ln2`` as ``e*L1`` (exact) ``+ e*L2``.
    """

    L1: float
    L2: float
    coefficients: tuple[float, ...]  # of z**0, z**1, ... in P(z): ~2/3, ~2/5, ...


def _make_log(terms: int = 10) -> LogPolynomial:
    import mpmath

    with mpmath.workdps(60):
        coefs = tuple(float(mpmath.mpf(2) / (2 * k + 1)) for k in range(1, terms + 1))
    return LogPolynomial(EXP.L1, EXP.L2, coefs)


#: Main's 10 atanh-series terms after ``2s``: the reference for the minimax ones.
_TAYLOR_LOG = _make_log()

#: Number of minimax coefficients of ``P``: the lowest whose certified bound stays at or
#: below the series' (7 exceeds it by 0.0005 roundings; tests/test_analytic_exp.py).
MINIMAX_LOG_TERMS = 8

#: The polynomial logarithm of the C kernels: ``minimax_log(MINIMAX_LOG_TERMS)``, stored so
#: that importing is fast (a test re-derives it bit for bit).
LOG = dataclasses.replace(
    _TAYLOR_LOG,
    coefficients=(
        0.6666666666666666,
        0.40000000000004954,
        0.2857142856939601,
        0.22222222609779307,
        0.18181778106515287,
        0.15387000194410635,
        0.1325189054770703,
        0.13237085948673277,
    ),
)
_SQRT_HALF_BITS = np.float64(np.sqrt(0.5)).view(np.uint64)


def log_numpy(x: ArrayLike, poly: LogPolynomial | None = None) -> NDArray[np.float64]:
    """NumPy mirror of the polynomial ``log`` (the C code's operations), any float64 ``x``.

    ``log 0 = -inf``, ``log x = NaN`` for ``x < 0``, ``log inf = inf``, NaN propagates;
    ``poly`` defaults to :data:`LOG`.
    """
    p = LOG if poly is None else poly
    x = np.asarray(x, dtype=np.float64)
    sub = x < 2.0**-1022  # subnormal (and non-positive: replaced below)
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        xs = np.where(sub, x * 2.0**54, x)
        # Adding bits(1) - bits(sqrt(1/2)) carries into the exponent exactly when the
        # significand is >= sqrt(2): m = significand re-biased to [sqrt(1/2), sqrt(2)).
        t = xs.view(np.uint64) + (np.float64(1.0).view(np.uint64) - _SQRT_HALF_BITS)
        m = ((t & np.uint64(2**52 - 1)) + _SQRT_HALF_BITS).view(np.float64)
        eb = ((t >> np.uint64(52)) | np.uint64(0x4330000000000000)).view(np.float64)
        e = (eb - 4503599627370496.0) - np.where(sub, 1023.0 + 54.0, 1023.0)
        f = m - 1.0
        s = f / (2.0 + f)
        z = s * s
        q = np.full_like(z, p.coefficients[-1])
        for c in p.coefficients[-2::-1]:
            q = c + z * q
        lm = s * (z * q) + (s + s)
        res = e * p.L1 + (e * p.L2 + lm)
        special = np.where(x == 0, -np.inf, np.where(x < 0, np.nan, x + x))
        return np.where((x > 0) & (x < np.inf), res, special)


def log_error_bound(poly: LogPolynomial | None = None) -> dict[str, float]:
    """Rigorous bound on the relative error ``|poly_log(x)/log(x) - 1|``, positive finite ``x``.

    Same model as :func:`exp_error_bound`:

    - ``log_m``: ``s = f/(2 + f)`` carries two roundings (relative sensitivity of
      ``2 atanh s`` to ``s`` is at most ``1/(1 - s**2)``); then the running error of ``z``,
      of the Horner evaluation of ``P`` and of ``s z P + 2s``, relative to
      ``|log m| >= 2|s|``, with the certified ``max |z (P~ - P)|`` of the polynomial
      against the atanh series (:func:`log_truncation`).
    - ``total``: ``e = 0`` gives ``log_m``; for ``e != 0`` the roundings of ``e*L2 + log m``
      and of the final sum and the tail ``|e| |ln2 - L1 - L2|``, relative to
      ``|log x| >= |e| ln2 - max|log m|``, maximised over every exponent ``e``.

    Returns a dict with ``s_max``, ``truncation`` (:func:`log_truncation`), ``log_m`` and
    ``total``.
    """
    import mpmath

    p = LOG if poly is None else poly
    with mpmath.workdps(60):
        u = mpmath.mpf(2) ** -53
        ln2 = mpmath.log(2)
        # |s| = 3 - 2 sqrt2 at both ends m = sqrt(1/2), sqrt2 (the ends are float64
        # roundings of these: a relative slack of a few u).
        s_max = (3 - 2 * mpmath.sqrt(2)) * (1 + 4 * u)
        sigma = (1 + u) ** 2 / (1 - u) - 1  # s~ = s (1 + sigma)
        sens = 1 / (1 - s_max**2)
        s_max = s_max * (1 + sigma)
        coefs = [mpmath.mpf(c) for c in p.coefficients]
        z_max = s_max**2 * (1 + u)
        dz = u * s_max**2
        V, E = abs(coefs[-1]), mpmath.mpf(0)
        for c in coefs[-2::-1]:
            prod = z_max * V
            E = z_max * E + V * dz + u * prod + u * (abs(c) + prod)
            V = abs(c) + prod
        T = z_max * V  # z P
        # Certified |z P~(z) - z P(z)| (truncation and coefficient rounding together).
        truncation = log_truncation(p.coefficients, z_max)
        e_T = z_max * E + truncation + V * dz + u * T
        # s z P + 2s: absolute error |s| (e_T + u T) + u |result|; relative to 2|s|.
        eval_rel = (e_T + u * T) / 2 + u * (1 + T / 2)
        log_m = sens * sigma + eval_rel
        lm_max = 2 * mpmath.atanh(s_max) * (1 + log_m)
        tail = abs(ln2 - mpmath.mpf(p.L1) - mpmath.mpf(p.L2))
        worst = log_m
        for e in range(1, 1076):
            res_min = e * ln2 - lm_max
            lo = e * abs(mpmath.mpf(p.L2)) + lm_max
            err = lm_max * log_m + u * lo + u * (e * ln2 + lm_max) + e * tail
            worst = max(worst, err / res_min)
        return {
            "s_max": float(s_max),
            "truncation": float(truncation),
            "log_m": float(log_m),
            "total": float(worst),
        }


def _atanh_series(z: mpf) -> mpf:
    """``P(z) = (2 atanh(s) - 2s)/(s z) = sum 2 z**k/(2k + 3)``, ``s = sqrt z`` (mpmath,
    35 guard digits for the cancellation)."""
    import mpmath

    if z == 0:
        return mpmath.mpf(2) / 3
    with mpmath.extradps(35):
        s = mpmath.sqrt(z)
        return (2 * mpmath.atanh(s) - 2 * s) / (s * z)


def log_truncation(coefficients: tuple[float, ...], z_max: mpf) -> mpf:
    """Certified ``max |z P~(z) - z P(z)|`` over ``0 <= z <= z_max`` for the exact
    polynomial ``P~`` of the float64 ``coefficients`` and the atanh series ``P``; the
    series' tail after degree ``K`` of ``z P`` is at most ``2 z**(K+1)/(2K + 3)/(1 - z)``."""
    import mpmath
    from flint import fmpq, fmpq_poly

    from ._remez import as_fmpq, certified_deviation

    zP = fmpq_poly([0] + [as_fmpq(c) for c in coefficients])
    with mpmath.workdps(60):
        return certified_deviation(
            zP,
            lambda k: fmpq(2, 2 * k + 1) if k else fmpq(0),
            0,
            z_max,
            lambda K: 2 * z_max ** (K + 1) / (2 * K + 3) / (1 - z_max),
        )


def _log_z_max() -> mpf:
    """``z_max = s_max**2 (1 + u)`` of :func:`log_error_bound` (mpmath, 60 digits)."""
    import mpmath

    with mpmath.workdps(60):
        u = mpmath.mpf(2) ** -53
        sigma = (1 + u) ** 2 / (1 - u) - 1
        s_max = (3 - 2 * mpmath.sqrt(2)) * (1 + 4 * u) * (1 + sigma)
        return s_max**2 * (1 + u)


def minimax_log(terms: int) -> tuple[float, ...]:
    """Float64 minimax coefficients of ``P(z)`` (``log m = 2s + s z P(z)``, ``z = s*s``)
    on ``[0, z_max]``, weight ``z`` (the absolute error of ``z P``, which enters the
    relative bound of ``log m`` halved), rounded one by one with re-fits
    (:func:`~trainability.analytic._remez.float64_minimax`)."""
    from ._remez import float64_minimax

    P, _ = float64_minimax(_atanh_series, lambda z: z, 0, _log_z_max(), range(terms))
    return P
