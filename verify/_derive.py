"""The ``derive`` summary: everything the analytic layer can say about one landscape."""

from __future__ import annotations

from trainability.analytic import Landscape, gradient, hessian

__all__ = ["derive_summary"]


def derive_summary(land: Landscape) -> dict:
    """JSON-ready derivation of ``land`` (strings in SymPy syntax)."""
    h = hessian(land)
    return {
        "expression": str(land.expr),
        "variables": [str(v) for v in land.variables],
        "parameters": list(land.parameter_names),
        "gradient": [str(g) for g in gradient(land)],
        "hessian": [[str(h[i, j]) for j in range(land.dim)] for i in range(land.dim)],
    }
