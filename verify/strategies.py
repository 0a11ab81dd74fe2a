"""Public Hypothesis strategies for users' own test suites.

Landscapes come from the built-in families, from a grammar of perturbations of the quadratic
(:func:`perturbations`, :func:`perturbed_landscapes`), or in ``d`` dimensions
(:func:`landscapes`); learning rates are drawn relative to a *derived* stability interval
(:func:`learning_rates`); ``(alpha, beta)`` pairs inside or outside a proven region
(:func:`alpha_beta_pairs`). Every draw is reproducible under Hypothesis' seeding.

>>> from hypothesis import given
>>> from trainability.verify.strategies import family_landscapes
>>> @given(family_landscapes())
... def test_has_values(land):
...     assert len(land.parameter_values()) == len(land.parameter_names)
>>> test_has_values()
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING

from hypothesis import strategies as st

from trainability.analytic import Landscape, family, from_expression, parameter_variables

if TYPE_CHECKING:
    from trainability.analytic import FiniteSum

__all__ = [
    "PERTURBATION_KINDS",
    "alpha_beta_pairs",
    "family_landscapes",
    "hyperparameter_values",
    "landscapes",
    "learning_rates",
    "loss_expressions",
    "nonzero_starts",
    "perturbations",
    "perturbed_landscapes",
    "scales",
]

_RANGES = {
    "eps": (0.0, 0.5),
    "eps1": (0.0, 0.05),
    "eps2": (0.0, 0.05),
    "lam": (0.02, 2.0),
    "lam1": (0.1, 1.0),
    "lam2": (0.1, 1.0),
}


@st.composite
def family_landscapes(
    draw, names=("quadratic", "additive", "multiplicative", "two-cosine"), max_dim: int = 1
) -> Landscape:
    """A built-in family with every hyperparameter drawn from a physically sensible range."""
    name = draw(st.sampled_from(names))
    dim = 1 if name == "two-cosine" else draw(st.integers(1, max_dim))
    land = family(name, dim=dim)
    values = {p: draw(st.floats(*_RANGES[p], allow_nan=False)) for p in land.parameter_names}
    return land.with_values(values)


def nonzero_starts(limit: float = 10.0, tiny: float = 1e-3) -> st.SearchStrategy[float]:
    """Initial points ``x0`` with ``tiny <= |x0| <= limit``."""
    magnitude = st.floats(tiny, limit, allow_nan=False)
    return st.tuples(st.sampled_from([-1.0, 1.0]), magnitude).map(lambda t: t[0] * t[1])


_TERMS = ["x**2", "x**4", "cos(2*pi*x/lam)", "sin(x)**2", "tanh(x)", "exp(-x**2)", "log(1 + x**2)"]


@st.composite
def loss_expressions(draw, max_terms: int = 3) -> str:
    """Whitelisted loss texts in ``x`` with hyperparameters ``eps``, ``lam`` (parser input)."""
    n = draw(st.integers(1, max_terms))
    terms = ["x**2"] + [draw(st.sampled_from(_TERMS)) for _ in range(n - 1)]
    coeffs = ["1"] + [draw(st.sampled_from(["eps", "0.1", "2", "eps/lam"])) for _ in terms[1:]]
    return " + ".join(f"{c}*{t}" for c, t in zip(coeffs, terms, strict=True))


# ----------------------------------------------------------------- the perturbation grammar

#: Productions of :func:`perturbations`.
PERTURBATION_KINDS = ("commensurate", "incommensurate", "trig-polynomial", "bump", "growth")

# Irrational frequency ratios: no common period, so the curvature never repeats exactly.
_IRRATIONAL = ("sqrt(2)", "sqrt(3)", "(1 + sqrt(5))/2")
_COEFFS = ("1", "1/2", "1/3", "2")


def _phase(x: str, harmonic: str) -> str:
    return f"2*pi*{harmonic}*{x}/lam" if harmonic != "1" else f"2*pi*{x}/lam"


@st.composite
def _commensurate(draw, x: str, functions=("cos", "sin")) -> str:
    n = draw(st.integers(1, 3))
    terms = []
    for _ in range(n):
        trig = draw(st.sampled_from(functions))
        k = draw(st.sampled_from(("1", "2", "3")))
        terms.append(f"{draw(st.sampled_from(_COEFFS))}*{trig}({_phase(x, k)})")
    return "eps*(" + " + ".join(terms) + ")"


@st.composite
def _incommensurate(draw, x: str) -> str:
    ratio = draw(st.sampled_from(_IRRATIONAL))
    c = draw(st.sampled_from(_COEFFS))
    return f"eps*(cos({_phase(x, '1')}) + {c}*cos(2*pi*{ratio}*{x}/lam))"


@st.composite
def _trig_polynomial(draw, x: str) -> str:
    p, q = draw(st.tuples(st.integers(0, 3), st.integers(0, 3)).filter(lambda t: 0 < sum(t) <= 4))
    factors = [f"sin({_phase(x, '1')})**{p}"] * (p > 0) + [f"cos({_phase(x, '1')})**{q}"] * (q > 0)
    return "eps*" + "*".join(factors)


@st.composite
def _bump(draw, x: str) -> str:
    # A dip of depth eps and width lam, possibly far from the origin: convexity on a window
    # around 0 says nothing about it.
    centre = draw(st.sampled_from(("0", "1", "3", "15")))
    sign = draw(st.sampled_from(("-", "")))
    return f"{sign}eps*exp(-({x} - {centre})**2/lam**2)"


@st.composite
def _growth(draw, x: str) -> str:
    power = draw(st.sampled_from((4, 6)))
    kind = draw(st.sampled_from(("pure", "oscillating")))
    if kind == "pure":
        return f"eps*{x}**{power}"
    # x**2 times an oscillation: the multiplicative family's growth (never convex).
    return f"eps*{x}**2*cos({_phase(x, '1')})"


_PRODUCTIONS = {
    "commensurate": _commensurate,
    "incommensurate": _incommensurate,
    "trig-polynomial": _trig_polynomial,
    "bump": _bump,
    "growth": _growth,
}


@st.composite
def perturbations(
    draw, kinds=PERTURBATION_KINDS, variable: str = "x", functions=("cos", "sin")
) -> str:
    """A perturbation text in ``variable`` with hyperparameters ``eps`` (amplitude) and ``lam``
    (length scale), from one production of the grammar:

    - ``commensurate``: ``eps*(c1*cos(2*pi*k1*x/lam) + ...)`` with integer harmonics ``k``;
    - ``incommensurate``: ``eps*(cos(2*pi*x/lam) + c*cos(2*pi*r*x/lam))``, ``r`` irrational;
    - ``trig-polynomial``: ``eps*sin(2*pi*x/lam)**p*cos(2*pi*x/lam)**q``;
    - ``bump``: ``+-eps*exp(-(x - c)**2/lam**2)``, a decaying bump centred at ``c``;
    - ``growth``: ``eps*x**m`` or ``eps*x**2*cos(2*pi*x/lam)`` (polynomial growth).

    ``functions`` limits the commensurate terms to ``cos`` or ``sin`` (sums mixing sines and
    cosines of odd and even harmonics are exact but can take the analysis tens of seconds).

    >>> from hypothesis import given
    >>> @given(perturbations(kinds=("bump",)))
    ... def test_bump(text):
    ...     assert "exp" in text and "eps" in text
    >>> test_bump()
    """
    unknown = set(kinds) - set(PERTURBATION_KINDS)
    if unknown or not kinds:
        raise ValueError(f"kinds must be among {PERTURBATION_KINDS}, got {tuple(kinds)}")
    if not set(functions) <= {"cos", "sin"} or not functions:
        raise ValueError(f"functions must be among ('cos', 'sin'), got {tuple(functions)}")
    kind = draw(st.sampled_from(tuple(kinds)))
    if kind == "commensurate":
        return draw(_commensurate(variable, tuple(functions)))
    return draw(_PRODUCTIONS[kind](variable))


def hyperparameter_values(
    land: Landscape, around: Mapping[str, float] | None = None, spread: float = 2.0
) -> st.SearchStrategy[dict[str, float]]:
    """Values for every hyperparameter of ``land``: log-uniform in ``[v/spread, v*spread]``
    around ``around`` (default: the landscape's own values, else the ranges of the families,
    ``eps`` in [0, 0.5], ``lam`` in [0.02, 2]). Zero stays zero (a vanishing amplitude).
    """
    base = {**land.value_dict, **(around or {})}
    if not spread >= 1:
        raise ValueError(f"spread must be >= 1, got {spread}")
    draws: dict[str, st.SearchStrategy[float]] = {}
    for name in land.parameter_names:
        if name in base:
            v = float(base[name])
            if v == 0 or spread == 1:
                draws[name] = st.just(v)
                continue
            logs = st.floats(-math.log(spread), math.log(spread), allow_nan=False)
            draws[name] = logs.map(lambda t, v=v: v * math.exp(t))
        elif name in _RANGES or name.startswith(("eps", "lam")):
            lo, hi = _RANGES.get(name, _RANGES["eps" if name.startswith("eps") else "lam"])
            draws[name] = st.floats(lo, hi, allow_nan=False)
        else:
            raise ValueError(f"no value or range for hyperparameter {name!r}: pass around=")
    return st.fixed_dictionaries(draws)


@st.composite
def perturbed_landscapes(
    draw, kinds=PERTURBATION_KINDS, eps=(0.0, 0.05), lam=(0.1, 2.0), functions=("cos", "sin")
):
    """``x**2 + perturbation`` (:func:`perturbations`) with ``eps`` and ``lam`` drawn from the
    given ranges (``lam`` log-uniform): roughness ``eps/lam**2`` spans the convex and the
    non-convex side of most productions.
    """
    text = draw(perturbations(kinds, functions=functions))
    land = from_expression(f"x**2 + {text}")
    log_lam = draw(st.floats(math.log(lam[0]), math.log(lam[1]), allow_nan=False))
    values = {"eps": draw(st.floats(*eps, allow_nan=False)), "lam": math.exp(log_lam)}
    return land.with_values({k: v for k, v in values.items() if k in land.parameter_names})


@st.composite
def landscapes(draw, max_dim: int = 3, kinds=PERTURBATION_KINDS, separable: bool | None = None):
    """Landscapes in ``d`` dimensions (``1 <= d <= max_dim``): ``sum_i x_i**2`` plus a
    perturbation of every coordinate, either the same production in each ``x_i``
    (separable: its Hessian is diagonal) or of the coupled coordinate ``x1 + ... + xd``
    (``separable=False``); ``None`` draws either. ``eps`` in [0, 0.05], ``lam`` in [0.1, 2].
    """
    d = draw(st.integers(1, max_dim))
    names = [v.name for v in parameter_variables(d)]
    text = draw(perturbations(kinds, variable="XVAR"))
    sep = draw(st.booleans()) if separable is None else separable
    if sep or d == 1:
        perturbation = " + ".join(f"({text.replace('XVAR', n)})" for n in names)
    else:
        perturbation = text.replace("XVAR", "(" + " + ".join(names) + ")")
    quadratic = " + ".join(f"{n}**2" for n in names)
    land = from_expression(f"{quadratic} + {perturbation}", dim=d)
    log_lam = draw(st.floats(math.log(0.1), math.log(2.0), allow_nan=False))
    values = {"eps": draw(st.floats(0.0, 0.05, allow_nan=False)), "lam": math.exp(log_lam)}
    return land.with_values({k: v for k, v in values.items() if k in land.parameter_names})


def scales(exact: bool = False) -> st.SearchStrategy[float]:
    """Renormalization scales ``b > 0``: powers of two (float64 rescaling is then exact, orbits
    agree bit for bit) when ``exact``, else log-uniform in ``[1/8, 8]``."""
    if exact:
        return st.integers(-3, 3).filter(bool).map(lambda k: 2.0**k)
    return st.floats(math.log(0.125), math.log(8.0), allow_nan=False).map(math.exp)


def learning_rates(
    land: Landscape, inside: bool = True, point: int = 0, margin: float = 0.02
) -> st.SearchStrategy[float]:
    """Learning rates relative to the derived stability interval ``(0, s_max)`` of a fixed
    point of GD on ``land`` (at its values): inside, ``(margin, 1 - margin) * s_max``;
    outside, ``(1 + margin, 2) * s_max``.

    ``point`` indexes the fixed points with a stability interval
    (:func:`~trainability.verify.properties.stable_intervals`). Raises ``ValueError`` when
    ``land`` has no such fixed point.

    >>> from trainability.analytic import family
    >>> from hypothesis import given
    >>> @given(learning_rates(family("additive", eps=0.01, lam=1.0)))
    ... def test_inside(s):
    ...     assert 0 < s < 2 / (2 - 0.04 * 3.14159**2)
    >>> test_inside()
    """
    from .properties import stable_intervals

    intervals = stable_intervals(land)
    if point >= len(intervals):
        raise ValueError(f"{land.expr} has {len(intervals)} fixed point(s) with a stable interval")
    hi = intervals[point][1][1]
    if inside:
        return st.floats(margin * hi, (1 - margin) * hi, allow_nan=False)
    return st.floats((1 + margin) * hi, 2 * hi, allow_nan=False)


def alpha_beta_pairs(
    fs: FiniteSum, inside: bool = True, alpha_max_factor: float = 10.0
) -> st.SearchStrategy[tuple[float, float]]:
    """``(alpha, beta)`` pairs inside or outside the proven region of an alpha-beta example
    (``alpha_beta_example`` in ``verify/targets/_islamov_examples.py``).

    The region (see :func:`~trainability.verify.proven_pairs`) is either a wedge
    ``alpha >= a0, r * alpha <= beta < alpha`` (Example 1) or a ray ``beta = alpha - gap``,
    ``alpha >= a0`` (Examples 2, 3, 6). Inside draws ``alpha`` in
    ``[a0, alpha_max_factor * a0]``. Outside draws the same ``alpha`` range with ``beta`` below
    the region: ``[0, r * alpha)`` or ``[0, alpha - gap)``; these pairs are not proven, which
    is not the same as failing (``beta = 0`` fails for Examples 1, 2 and 6).
    """
    from ._alphabeta import proven_region

    region = proven_region(fs)
    alphas = st.floats(region.a0, alpha_max_factor * region.a0, allow_nan=False)

    def inside_pair(a: float, t: float) -> tuple[float, float]:
        if region.ratio is not None:  # the wedge: beta in [r*a, a)
            return a, region.ratio * a + t * (1 - region.ratio) * a * (1 - 1e-9)
        return a, a - region.gap

    def outside_pair(a: float, t: float) -> tuple[float, float]:
        top = region.ratio * a if region.ratio is not None else a - region.gap
        return a, t * top * (1 - 1e-9)

    pair = inside_pair if inside else outside_pair
    return st.tuples(alphas, st.floats(0.0, 1.0, allow_nan=False)).map(lambda at: pair(*at))
