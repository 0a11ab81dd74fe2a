"""The certified polynomial sine and cosine of the fast kernels.

One range reduction by quarter turns (:data:`SINCOS`) or half turns (:data:`HALFTURN`) and
a minimax polynomial on the reduced argument (:func:`minimax_sincos`: Remez in mpmath,
float64 coefficients, lowest degrees whose bound does not exceed the former Taylor ones);
:func:`sincos_error_bound` derives the error bound of the whole evaluation (reduction,
certified polynomial error, Horner rounding) and the tests check it against mpmath. The
same polynomial runs in NumPy (:func:`sincos_numpy`), in JAX (``fast_jax_kernels``) and in
the generated C (``c_sweep_source``).
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

__all__ = ["HALFTURN", "SINCOS", "SinCosPolynomial", "sincos_error_bound", "sincos_numpy"]


@dataclass(frozen=True)
class SinCosPolynomial:
    """Range-reduced polynomials for ``sin`` and ``cos`` in float64.

    ``u = n*pi/2 + r`` with ``n = round(u * 2/pi)`` (Cody-Waite reduction with a three-part
    ``pi/2 = P1 + P2 + P3``; ``P1`` and ``P2`` have 33 significant bits so ``n*P1`` and
    ``n*P2`` are exact for ``|n| < 2**20``), then ``sin r = r + r z S(z)`` and
    ``cos r = 1 + z C(z)`` with ``z = r*r``: minimax coefficients of degrees 13 and 14
    (:func:`minimax_sincos`; the Taylor ones of degrees 17 and 16 before). Valid for
    ``|u| <= R``; outside, callers use the exact function.

    ``turn="half"`` (:data:`HALFTURN`): the reduction step is ``pi`` instead of ``pi/2``
    (``two_over_pi`` then holds ``1/pi`` and ``P1 + P2 + P3 = pi``), ``sin u = (-1)**n sin r``
    and ``cos u = (-1)**n cos r`` with ``|r| <= pi/2``: one polynomial of higher degree
    (minimax 17 and 16; Taylor 21 and 22 before) instead of both, for arguments whose sine
    *or* cosine alone is needed.
    """

    R: float
    two_over_pi: float
    P1: float
    P2: float
    P3: float
    sin_coefficients: tuple[float, ...]  # of r**3, r**5, ..., r**13 (r**17 for "half")
    cos_coefficients: tuple[float, ...]  # of r**2, r**4, ..., r**14 (r**16 for "half")
    turn: str = "quarter"

    @property
    def step(self) -> mpf:
        """The reduction step ``pi/2`` or ``pi`` in 60-digit mpmath."""
        import mpmath

        with mpmath.workdps(60):
            return mpmath.pi / 2 if self.turn == "quarter" else +mpmath.pi


def _make_sincos(turn: str = "quarter", terms: int = 8) -> SinCosPolynomial:
    """The reduction constants of ``turn`` with Taylor coefficients (``terms`` each, one
    more for the half-turn cosine)."""
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


#: Main's Taylor polynomials (degrees 17/16 and 21/22): the reference the minimax ones are
#: chosen against (their certified bound may not exceed these, function by function).
_TAYLOR_SINCOS = _make_sincos()
_TAYLOR_HALFTURN = _make_sincos("half", 10)

#: Numbers of minimax coefficients ``(S, C)``: the lowest for which each function's
#: certified total bound stays at or below the Taylor polynomial's (one term fewer exceeds
#: it; tests/test_analytic_sincos.py checks both). fdlibm's ``__kernel_sin``/``__kernel_cos``
#: use the same degrees 13 and 14 on ``|r| <= pi/4``.
MINIMAX_TERMS = {"quarter": (6, 7), "half": (8, 8)}

#: ``minimax_sincos(turn, *MINIMAX_TERMS[turn])``, stored so that importing is fast; the
#: slow test re-derives them bit for bit.
_MINIMAX = {
    "quarter": (
        (
            -0.166666666666666,
            0.008333333333316218,
            -0.00019841269825742673,
            2.7557312482336053e-06,
            -2.5050590858858873e-08,
            1.5888057438520773e-10,
        ),
        (
            -0.5,
            0.0416666666666666,
            -0.0013888888888874478,
            2.4801587289675416e-05,
            -2.755731440229861e-07,
            2.087572946139285e-09,
            -1.1359943659974039e-11,
        ),
    ),
    "half": (
        (
            -0.16666666666666666,
            0.008333333333333203,
            -0.0001984126984121077,
            2.755731921125125e-06,
            -2.5052106875017436e-08,
            1.6058939559306475e-10,
            -7.642983325981994e-13,
            2.7210586118010506e-15,
        ),
        (
            -0.49999999999999983,
            0.04166666666666443,
            -0.0013888888888787315,
            2.4801587279375506e-05,
            -2.755731654220755e-07,
            2.0876568452820613e-09,
            -1.1463054991923897e-11,
            4.6104337713860115e-14,
        ),
    ),
}

#: The one polynomial sine/cosine used by every fast generator (JAX, C, NumPy mirror):
#: minimax, degrees 13 and 14.
SINCOS = dataclasses.replace(
    _TAYLOR_SINCOS,
    sin_coefficients=_MINIMAX["quarter"][0],
    cos_coefficients=_MINIMAX["quarter"][1],
)
#: Half-turn reduction with one polynomial per function (minimax, degrees 17 and 16), used
#: by the C kernels for an argument whose sine or cosine alone is needed in the gradient.
HALFTURN = dataclasses.replace(
    _TAYLOR_HALFTURN,
    sin_coefficients=_MINIMAX["half"][0],
    cos_coefficients=_MINIMAX["half"][1],
)
_MAGIC = 6755399441055744.0  # 1.5 * 2**52: adding it rounds to an integer (|v| < 2**51)


def sincos_numpy(
    u: ArrayLike, poly: SinCosPolynomial | None = None
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """NumPy mirror of the polynomial (same operations as the C and JAX code), ``|u| <= R``.

    Returns ``(sin u, cos u)`` as float64 arrays; values outside ``[-R, R]`` are garbage
    (callers fall back to the exact function there). ``poly``: a quarter-turn polynomial,
    :data:`SINCOS` by default.
    """
    p = SINCOS if poly is None else poly
    if p.turn != "quarter":
        raise ValueError("sincos_numpy mirrors the quarter-turn reduction only")
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
    - ``truncation``: the certified ``max |poly - f|`` over ``|r| <= r_max`` of the exact
      polynomial with the float64 coefficients (:func:`sin_truncation`,
      :func:`cos_truncation`: Taylor remainder plus Markov-inequality grid bound), so the
      coefficients' rounding and the minimax (or Taylor) truncation together.
    - ``evaluation``: running error bound of the Horner evaluation in float64.

    Returns a dict with the three parts (``truncation`` the larger of ``truncation_sin``
    and ``truncation_cos``), ``r_max``, ``R``, ``total_sin``, ``total_cos`` and ``total``
    (their maximum).
    """
    import mpmath

    p = SINCOS if poly is None else poly
    with mpmath.workdps(60):
        u, R, r_max, reduction = _reduction(p)
        z_max = r_max**2 * (1 + u)
        dz = u * r_max**2 + 2 * r_max * reduction  # |z - r_exact^2| bound (incl. r error)
        # Certified max |poly - f| on |r| <= r_max: truncation and coefficient rounding.
        truncation_sin = sin_truncation(p.sin_coefficients, r_max)
        truncation_cos = cos_truncation(p.cos_coefficients, r_max)

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
        total_sin = reduction + truncation_sin + eval_sin
        total_cos = reduction + truncation_cos + eval_cos
        return {
            "R": float(R),
            "r_max": float(r_max),
            "reduction": float(reduction),
            "truncation_sin": float(truncation_sin),
            "truncation_cos": float(truncation_cos),
            "truncation": float(max(truncation_sin, truncation_cos)),
            "evaluation": float(max(eval_sin, eval_cos)),
            "total_sin": float(total_sin),
            "total_cos": float(total_cos),
            "total": float(max(total_sin, total_cos)),
        }


def _reduction(p: SinCosPolynomial):
    """``(u, R, r_max, reduction)`` of the range reduction (mpmath, 60 digits): ``r_max``
    bounds the computed ``|r|``, ``reduction`` its distance to the exact ``u - n*step``."""
    import mpmath

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
        return u, R, r_max + reduction, reduction


def _sin_taylor(k: int):
    from flint import fmpq

    return fmpq(0) if k % 2 == 0 else fmpq((-1) ** (k // 2), math.factorial(k))


def _cos_taylor(k: int):
    from flint import fmpq

    return fmpq(0) if k % 2 else fmpq((-1) ** (k // 2), math.factorial(k))


def _lagrange(r_max: mpf):
    """``|f - T_K| <= r_max**(K+1)/(K+1)!`` on ``|r| <= r_max`` for ``f = sin, cos``."""
    import mpmath

    return lambda K: r_max ** (K + 1) / mpmath.factorial(K + 1)


def _odd_even(coefficients: tuple[float, ...], lead: int, first: int):
    """``lead + r**first * Q(r**2)`` as an exact polynomial in ``r`` (``Q`` from the
    float64 ``coefficients``): ``r + r**3 S(r**2)`` or ``1 + r**2 C(r**2)``."""
    from flint import fmpq_poly

    from ._remez import as_fmpq

    Q = fmpq_poly([as_fmpq(c) for c in coefficients])
    return fmpq_poly([0] * lead + [1]) + fmpq_poly([0] * first + [1]) * Q(fmpq_poly([0, 0, 1]))


def sin_truncation(coefficients: tuple[float, ...], r_max: mpf) -> mpf:
    """Certified ``max |r + r z S(z) - sin r|`` over ``|r| <= r_max`` (``z = r*r`` exact;
    ``S`` from ``coefficients``): truncation and coefficient rounding together
    (:func:`~trainability.analytic._remez.certified_deviation`)."""
    from ._remez import certified_deviation

    P = _odd_even(coefficients, 1, 3)
    return certified_deviation(P, _sin_taylor, -r_max, r_max, _lagrange(r_max))


def cos_truncation(coefficients: tuple[float, ...], r_max: mpf) -> mpf:
    """Certified ``max |1 + z C(z) - cos r|`` over ``|r| <= r_max``, as :func:`sin_truncation`."""
    from ._remez import certified_deviation

    P = _odd_even(coefficients, 0, 2)
    return certified_deviation(P, _cos_taylor, -r_max, r_max, _lagrange(r_max))


def _series(k0: int, z: mpf) -> mpf:
    """``S(z) = (sin r - r)/(r z)`` (``k0 = 3``) or ``C(z) = (cos r - 1)/z`` (``k0 = 2``),
    ``r = sqrt z``, with 40 guard digits for the cancellation (z >= 1e-30 on the grids)."""
    import mpmath

    if z == 0:
        return -1 / mpmath.factorial(k0)
    with mpmath.extradps(35):
        r = mpmath.sqrt(z)
        return (mpmath.sin(r) - r) / (r * z) if k0 == 3 else (mpmath.cos(r) - 1) / z


def minimax_sincos(turn: str, sin_terms: int, cos_terms: int) -> tuple[tuple[float, ...], ...]:
    """Float64 minimax coefficients ``(S, C)`` for the ``turn`` reduction (``"quarter"``,
    ``"half"``) with ``sin_terms`` and ``cos_terms`` coefficients (degrees ``2m + 1`` and
    ``2m``).

    Fitted in ``z = r*r`` on ``[0, r_max**2]`` (``r_max`` of :func:`sincos_error_bound`'s
    reduction) by :func:`~trainability.analytic._remez.float64_minimax`, minimising the
    absolute error of ``sin r = r + r z S(z)`` (weight ``z**1.5``) and of
    ``cos r = 1 + z C(z)`` (weight ``z``): the error that enters the certified (absolute)
    bound; coefficients rounded to float64 one by one with the later ones re-fitted.
    """
    import mpmath

    from ._remez import float64_minimax

    with mpmath.workdps(60):
        _, _, r_max, _ = _reduction(_make_sincos(turn))
        z_max = r_max**2
    S, _ = float64_minimax(
        lambda z: _series(3, z), lambda z: z * mpmath.sqrt(z), 0, z_max, range(sin_terms)
    )
    C, _ = float64_minimax(lambda z: _series(2, z), lambda z: z, 0, z_max, range(cos_terms))
    return S, C


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
