"""Public Hypothesis strategies for users' own test suites.

>>> from hypothesis import given
>>> from trainability.verify.strategies import family_landscapes
>>> @given(family_landscapes())
... def test_has_values(land):
...     assert len(land.parameter_values()) == len(land.parameter_names)
>>> test_has_values()
"""

from __future__ import annotations

from hypothesis import strategies as st

from trainability.analytic import Landscape, family

__all__ = ["family_landscapes", "loss_expressions", "nonzero_starts"]

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


def nonzero_starts(limit: float = 10.0, tiny: float = 1e-3):
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
