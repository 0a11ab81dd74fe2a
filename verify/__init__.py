"""Verification layer: analytic predictions against numeric measurements.

Composes :mod:`trainability.analytic` and :mod:`trainability.numeric`: mpmath reference
orbits, verdicts, paper reproductions, figures, public Hypothesis strategies and the
``trainability`` command line.
"""

from ._derive import derive_summary
from ._reference import ReferenceOrbit, reference_label, reference_orbit
from ._registry import Reproduction, reproduction, reproductions
from ._robustness import LabelRobustness, boundary_label_indices, label_robustness
from ._sweeps import initial_point, sweep_landscape
from ._transition import grid_points, roughness_values, sweep_points, transition_verdict
from ._verdict import Verdict

__all__ = [
    "LabelRobustness",
    "ReferenceOrbit",
    "Reproduction",
    "Verdict",
    "boundary_label_indices",
    "derive_summary",
    "grid_points",
    "initial_point",
    "label_robustness",
    "reference_label",
    "reference_orbit",
    "reproduction",
    "reproductions",
    "roughness_values",
    "sweep_landscape",
    "sweep_points",
    "transition_verdict",
]
