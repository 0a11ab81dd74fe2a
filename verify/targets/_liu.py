"""What the Liu 2024 targets (:mod:`.liu`, :mod:`.liu_theory`) share: their common options,
the start of the source's x0 = 5 sweeps and the derived critical record."""

from __future__ import annotations

from trainability.analytic import critical_invariant

from .._options import levels_option
from .._sweeps import add_backend_option
from .._transition import critical_record

#: The start of the source's grid sweeps (``gpuexp-*.py``) and of the label check.
X0_GRID = 5.0
#: ``--levels`` with ``--quick`` for every Liu target but Fig. 2a/2b/S2 (a few cells at 2^8).
QUICK_LEVELS = 8


def levels_options(full: int, quick: int):
    """The options of a Liu target: ``--levels`` (``full``, ``quick`` with ``--quick``) and
    ``--backend``; every Liu target starts from these."""

    def add(parser):
        levels_option(parser, full=full, quick=quick)
        add_backend_option(parser)

    return add


def critical(land) -> dict | None:
    """The derived critical invariant of ``land`` as a summary record (None if none)."""
    return critical_record(critical_invariant(land))
