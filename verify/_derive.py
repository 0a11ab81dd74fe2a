"""The ``derive`` summary: everything the analytic layer can say about one landscape."""

from __future__ import annotations

from trainability.analytic import (
    Landscape,
    convexity,
    critical_invariant,
    fixed_points,
    gradient,
    hessian,
    renormalization,
)

__all__ = ["derive_summary"]


def _convexity_summary(land: Landscape) -> dict:
    conv = convexity(land)
    out = {
        "condition": conv.condition_text(),
        "always_convex": conv.always_convex,
        "never_convex": conv.never_convex,
        "method": conv.method,
        "exact": conv.exact,
        "min_curvature": None if conv.min_curvature is None else str(conv.min_curvature),
        "assumptions": conv.assumptions,
    }
    if conv.polynomial is not None:
        out["polynomial"] = str(conv.polynomial)
        out["substitution"] = f"u = {conv.substitution}"
    if conv.numeric is not None:
        out["numeric"] = conv.numeric
    if conv.note:
        out["note"] = conv.note
    return out


def derive_summary(land: Landscape) -> dict:
    """JSON-ready derivation of ``land`` (strings in SymPy syntax).

    Keys: ``expression``, ``variables``, ``parameters``, ``gradient``, ``hessian``,
    ``convexity`` (``condition``, ``always_convex``, ``never_convex``, plus ``method``,
    ``exact``, ``min_curvature``, ``assumptions``), ``invariants`` (renormalization
    invariants), ``scaling_exponents`` (``p -> b**a p`` under ``x -> b x``) and
    ``critical_invariant`` (``invariant``, ``value``, ``convex_when``; ``None`` when
    convexity does not depend on a single invariant) and ``fixed_points`` (the exact fixed
    points of the GD map with the learning-rate interval ``[lo, hi]`` of linear stability,
    ``None`` when unstable for every learning rate).
    """
    h = hessian(land)
    ren = renormalization(land)
    crit = critical_invariant(land)
    return {
        "expression": str(land.expr),
        "variables": [str(v) for v in land.variables],
        "parameters": list(land.parameter_names),
        "gradient": [str(g) for g in gradient(land)],
        "hessian": [[str(h[i, j]) for j in range(land.dim)] for i in range(land.dim)],
        "convexity": _convexity_summary(land),
        "invariants": [str(i) for i in ren.invariants],
        "scaling_exponents": {k: str(v) for k, v in ren.exponents.items()} if ren.exists else None,
        "fixed_points": [
            {
                "location": [str(c) for c in p.location],
                "stable_for": None if p.stable_for is None else [str(e) for e in p.stable_for],
            }
            for p in fixed_points(land, numeric=False)
        ],
        "critical_invariant": None
        if crit is None
        else {
            "invariant": str(crit.invariant),
            "value": str(crit.value),
            "convex_when": crit.convex_when,
        },
    }
