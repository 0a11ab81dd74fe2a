"""Verification layer: analytic predictions against numeric measurements.

Composes :mod:`trainability.analytic` and :mod:`trainability.numeric`: mpmath reference
orbits, verdicts, paper reproductions, figures, public Hypothesis strategies and the
``trainability`` command line.
"""

from ._connect import (
    METHODS,
    compare_methods,
    connect_models,
    connectivity_checks,
    plot_paths,
)
from ._derive import derive_summary
from ._reference import ReferenceOrbit, reference_label, reference_orbit
from ._registry import Reproduction, reproduction, reproductions
from ._sweeps import initial_point, sweep_landscape
from ._verdict import Verdict

__all__ = [
    "ReferenceOrbit",
    "Reproduction",
    "Verdict",
    "derive_summary",
    "initial_point",
    "reference_label",
    "reference_orbit",
    "reproduction",
    "reproductions",
    "sweep_landscape",
    "METHODS",
    "compare_methods",
    "connect_models",
    "connectivity_checks",
    "plot_paths",
]
