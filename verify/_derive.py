"""The ``derive`` summary: everything the analytic layer can say about one landscape."""

from __future__ import annotations

import math
import time
from typing import Any

from trainability.analytic import (
    DerivationTimeout,
    Landscape,
    convexity,
    critical_invariant,
    fixed_points,
    gradient,
    hessian,
    renormalization,
    time_budget,
)

from ._transition import critical_record

__all__ = ["derive_summary", "MAX_DERIVE_DIM", "TIMED_OUT"]

#: Largest dimension ``derive`` accepts: the Hessian alone has ``d**2`` entries.
MAX_DERIVE_DIM = 200
#: What a section reports when the time budget ran out before it finished.
TIMED_OUT = "unknown: timed out"


def _convexity_summary(land: Landscape) -> dict[str, Any]:
    conv = convexity(land)
    out: dict[str, Any] = {
        "condition": conv.condition_text(),
        "status": conv.status,
        "always_convex": conv.always_convex,
        "never_convex": conv.never_convex,
        "method": conv.method,
        "exact": conv.exact,
        "min_curvature": None if conv.min_curvature is None else str(conv.min_curvature),
        "assumptions": conv.assumptions,
    }
    if conv.polynomial is not None:
        out["polynomial"] = str(conv.polynomial)
        out["substitution"] = None if conv.substitution is None else f"u = {conv.substitution}"
    if conv.at_values is not None:
        out["at_values"] = conv.at_values.to_dict()
    if conv.note:
        out["note"] = conv.note
    return out


def _fixed_points(land: Landscape) -> list[dict[str, list[str] | None]]:
    return [
        {
            "location": [str(c) for c in p.location],
            "stable_for": None if p.stable_for is None else [str(e) for e in p.stable_for],
        }
        for p in fixed_points(land, numeric=False)
    ]


def _renormalization(land: Landscape) -> tuple[list[str], dict[str, str] | None]:
    ren = renormalization(land)
    exps = {k: str(v) for k, v in ren.exponents.items()} if ren.exists else None
    return [str(i) for i in ren.invariants], exps


def derive_summary(land: Landscape, timeout: float | None = 60.0) -> dict[str, Any]:
    """JSON-ready derivation of ``land`` (strings in SymPy syntax).

    Keys: ``expression``, ``variables``, ``parameters``, ``gradient``, ``hessian``,
    ``convexity`` (``condition``, ``status``, ``always_convex``, ``never_convex``, ``method``,
    ``exact``, ``min_curvature``, ``assumptions``, and ``at_values``/``polynomial``/``note``
    where they apply), ``invariants`` (renormalization invariants), ``scaling_exponents``
    (``p -> b**a p`` under ``x -> b x``), ``critical_invariant`` (see
    :func:`~trainability.verify.critical_record`), ``fixed_points`` (exact fixed points of
    the GD map with the learning-rate interval ``[lo, hi]`` of linear stability, ``None``
    when unstable for every learning rate) and ``timed_out`` (the sections cut short).

    Symbolic work shares one budget of ``timeout`` seconds; a section that does not finish
    in it (and every later one) reads ``"unknown: timed out"``.
    """
    if land.dim > MAX_DERIVE_DIM:
        raise ValueError(
            f"derive handles at most {MAX_DERIVE_DIM} dimensions (the Hessian has d**2 "
            f"entries), got {land.dim}"
        )
    deadline = math.inf if timeout is None else time.monotonic() + timeout
    out: dict[str, Any] = {
        "expression": str(land.expr),
        "variables": [str(v) for v in land.variables],
        "parameters": list(land.parameter_names),
    }
    timed_out: list[str] = []
    missing = object()

    def section(keys, compute):
        left = deadline - time.monotonic()
        result = missing
        if not timed_out and left > 0:
            try:
                with time_budget(left if math.isfinite(left) else None):
                    result = compute()
            except DerivationTimeout:
                pass
            except (ArithmeticError, TypeError, ValueError, NotImplementedError) as exc:
                # SymPy gives up on some inputs (e.g. solving x**x = 0): say so, never crash.
                failed = f"unknown: {type(exc).__name__}: {' '.join(str(exc).split())[:200]}"
                result = failed if len(keys) == 1 else (failed,) * len(keys)
        if result is missing:
            timed_out.append(keys[0])
            result = TIMED_OUT if len(keys) == 1 else (TIMED_OUT,) * len(keys)
        out.update({keys[0]: result} if len(keys) == 1 else zip(keys, result, strict=True))

    section(("gradient",), lambda: [str(g) for g in gradient(land)])
    section(("hessian",), lambda: [[str(e) for e in row] for row in hessian(land).tolist()])
    section(("convexity",), lambda: _convexity_summary(land))
    section(("invariants", "scaling_exponents"), lambda: _renormalization(land))
    section(("fixed_points",), lambda: _fixed_points(land))
    section(("critical_invariant",), lambda: critical_record(critical_invariant(land)))
    out["timed_out"] = timed_out
    return out
