"""The ``comparison`` block of every ``reproduce`` summary: measured values beside the
source paper's, each with a yes/no/unknown agreement and a note.

Agreement is decided per quantity: ``|measured - paper| <= tol + k * sqrt(se_m**2 + se_p**2)``
with ``k = 2`` (two combined standard errors) and an absolute tolerance ``tol`` that the
target states (the spread a protocol difference or a finite grid can explain). ``agrees`` is
``None`` when either value is missing (nothing to compare), never a guess.
"""

from __future__ import annotations

import math
from typing import Any

__all__ = ["compare", "comparison_entry"]


def comparison_entry(
    quantity: str,
    paper,
    measured,
    stderr=None,
    *,
    paper_stderr: float = 0.0,
    tol: float = 0.0,
    note: str = "",
) -> dict[str, Any]:
    """One ``{"quantity", "paper", "measured", "stderr", "agrees", "note"}`` record.

    >>> comparison_entry("dimension", 0.996, 0.99, 0.004, paper_stderr=0.005)["agrees"]
    True
    >>> comparison_entry("dimension", 0.996, 0.5, 0.01)["agrees"]
    False
    >>> comparison_entry("dimension", None, 0.5)["agrees"] is None
    True
    """
    agrees = None
    if paper is not None and measured is not None:
        se = math.hypot(float(stderr or 0.0), float(paper_stderr or 0.0))
        m, p = float(measured), float(paper)
        agrees = bool(math.isfinite(m) and abs(m - p) <= tol + 2.0 * se)
    return {
        "quantity": quantity,
        "paper": paper,
        "measured": measured,
        "stderr": stderr,
        "agrees": agrees,
        "note": note,
    }


def compare(*entries: dict[str, Any]) -> list[dict[str, Any]]:
    """The ``comparison`` list of a summary (a tuple of entries, in order)."""
    return list(entries)
