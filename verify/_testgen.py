"""``trainability testgen``: a Hypothesis test module for a user's loss.

The module checks the loss's derived theory against the numerics with
:mod:`trainability.verify.properties`: convexity against dense curvature (at the given
values and at draws around them), fixed points stable exactly on their derived interval,
renormalization orbits (when the loss has a scaling symmetry), and no fractal boundary on
the convex side (when values on that side can be derived). Which tests are written is
decided here, at generation time, from the derivation; the module says which were left out
and why. It runs under plain pytest (the package's pytest plugin supplies the sizes).
"""

from __future__ import annotations

import json
import math
from typing import Any

from trainability.analytic import Landscape, convexity, critical_invariant, renormalization

from .properties import stable_intervals

__all__ = ["convex_values", "testgen_source"]


def convex_values(land: Landscape) -> dict[str, Any] | None:
    """Values at which ``land`` is certified convex: its own, or (through the critical
    invariant) one hyperparameter moved so the invariant sits at half (or twice) its critical
    value. ``None`` when neither gives a convex landscape."""
    at = convexity(land).at_values
    if at is not None and at.status == "convex":
        return land.value_dict
    crit = critical_invariant(land)
    if crit is None or not float(crit.value) > 0:
        return None
    values = dict(zip(land.hyperparameters, land.parameter_values(), strict=True))
    current = float(crit.invariant.subs(values))
    target = float(crit.value) * (0.5 if crit.convex_when == "below" else 2.0)
    if not (math.isfinite(current) and current > 0):
        return None
    powers = crit.invariant.as_powers_dict()
    for p in sorted(crit.invariant.free_symbols, key=str):
        n = float(powers.get(p, 0))
        if n == 0:
            continue
        moved = {**land.value_dict, p.name: values[p] * (target / current) ** (1 / n)}
        new = convexity(land.with_values(moved)).at_values
        if new is not None and new.status == "convex":
            return moved
    return None


_HEADER = '''"""Property tests of the derived theory of ``{expr}``.

Written by ``trainability testgen``; each test compares what trainability.analytic derives
for this loss with an independent numerical measurement (trainability.verify.properties).
Run with ``pytest``; ``--trainability-level 2`` (or 3) enlarges the sweeps and samples.
{omitted}"""

from hypothesis import given, settings
from hypothesis import strategies as st

from trainability.analytic import from_expression
from trainability.verify import properties, strategies

EXPR = {expr_json}
PARAMS = {params}
LAND = from_expression(EXPR, PARAMS{dim})
DRAWS = strategies.hyperparameter_values(LAND, PARAMS, spread={spread!r})
SETTINGS = settings(max_examples={examples}, deadline=None)


def test_convexity_matches_curvature(trainability_sizes):
    properties.convexity_matches_curvature(LAND, samples=trainability_sizes.samples)


@SETTINGS
@given(DRAWS)
def test_convexity_matches_curvature_nearby(values):
    properties.convexity_matches_curvature(LAND.with_values(values), samples=4001)


@SETTINGS
@given(DRAWS)
def test_fixed_points_stable_on_their_interval(values):
    properties.fixed_points_stable_on_interval(LAND.with_values(values))
'''

_RENORMALIZATION = """

@SETTINGS
@given(
    b=strategies.scales(exact=True),
    x0=strategies.nonzero_starts(2.0),
    s=st.floats({s_lo!r}, {s_hi!r}),
)
def test_renormalization_maps_orbits(b, x0, s):
    properties.renormalization_maps_orbits(LAND, b, x0, s)
"""

_CONVEX = """

# Derived at generation time: values on the convex side of the convexity condition.
CONVEX_PARAMS = {convex}


def test_no_fractal_boundary_when_convex(trainability_sizes):
    properties.no_fractal_boundary_when_convex(
        LAND.with_values(CONVEX_PARAMS),
        levels=trainability_sizes.levels,
        steps=trainability_sizes.steps,
    )
"""


def testgen_source(
    land: Landscape, text: str, examples: int = 10, spread: float = 1.5, dim: int | None = None
) -> str:
    """The test module for ``land`` (parsed from ``text``; every hyperparameter needs a value).

    >>> from trainability.analytic import from_expression
    >>> src = testgen_source(from_expression("x**2", {}), "x**2")
    >>> "def test_fixed_points_stable_on_their_interval" in src
    True
    """
    land.parameter_values()  # every hyperparameter has a value, or a clear error
    omitted = []
    body = ""
    if renormalization(land).exists:
        # Learning rates up to the largest derived stability end (else GD's usual range).
        ends = [hi for _, (_, hi) in stable_intervals(land)]
        s_hi = float(min(max(ends), 1.5)) if ends else 1.0
        body += _RENORMALIZATION.format(s_lo=0.01 * s_hi, s_hi=s_hi)
    else:
        omitted.append("renormalization: the loss has no scaling symmetry x -> b x")
    convex = convex_values(land) if land.dim == 1 else None
    if convex is not None:
        body += _CONVEX.format(convex=json.dumps({k: float(v) for k, v in convex.items()}))
    else:
        omitted.append("no fractal boundary: no values on a certified convex side were derived")
    note = "".join(f"\nLeft out: {why}." for why in omitted)
    header = _HEADER.format(
        expr=" ".join(text.split()),
        expr_json=json.dumps(" ".join(text.split())),
        params=json.dumps({k: float(v) for k, v in land.value_dict.items()}),
        dim="" if dim is None else f", dim={int(dim)}",
        spread=float(spread),
        examples=int(examples),
        omitted=note + ("\n" if note else ""),
    )
    return header + body
