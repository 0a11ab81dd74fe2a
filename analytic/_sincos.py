"""The certified polynomial sine and cosine of the fast kernels.

One range reduction by quarter turns (:data:`SINCOS`) or half turns (:data:`HALFTURN`) and
a polynomial on the reduced argument; :func:`sincos_error_bound` derives the error bound of
the whole evaluation (reduction, coefficient rounding, truncation, Horner rounding) and the
tests check it against mpmath. The same polynomial runs in NumPy (:func:`sincos_numpy`), in
JAX (``fast_jax_kernels``) and in the generated C (``c_sweep_source``).
"""

from __future__ import annotations

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
    def step(self) -> mpf:
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


def sincos_numpy(u: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
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
