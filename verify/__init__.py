"""Verification layer: analytic predictions against numeric measurements.

Composes :mod:`trainability.analytic` and :mod:`trainability.numeric`: mpmath reference
orbits, verdicts, paper reproductions, figures, public Hypothesis strategies and the
``trainability`` command line.
"""

from ._derive import derive_summary
from ._reference import ReferenceOrbit, reference_label, reference_orbit
from ._registry import Reproduction, reproduction, reproductions
from ._scale import sweep_config, sweep_grid
from ._sweeps import BACKENDS, initial_point, sweep_backend, sweep_landscape
from ._verdict import Verdict

__all__ = [
    "BACKENDS",    "ReferenceOrbit",
    "Reproduction",
    "Verdict",
    "derive_summary",
    "initial_point",
    "reference_label",
    "reference_orbit",
    "reproduction",
    "reproductions",
    "sweep_backend",
    "sweep_config",
    "sweep_grid",
    "sweep_landscape",
]
