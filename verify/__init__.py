"""Verification layer: analytic predictions against numeric measurements.

Composes :mod:`trainability.analytic` and :mod:`trainability.numeric`: mpmath reference
orbits, verdicts, paper reproductions, figures, public Hypothesis strategies and the
``trainability`` command line.
"""

from ._alphabeta import (
    FiniteSumCallables,
    alpha_beta_check,
    alpha_beta_region,
    compare_conditions,
    finite_sum_callables,
    proven_pairs,
    sgd_bound_check,
    slack_at,
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
    "FiniteSumCallables",
    "alpha_beta_check",
    "alpha_beta_region",
    "compare_conditions",
    "finite_sum_callables",
    "proven_pairs",
    "sgd_bound_check",
    "slack_at",
]
