"""Verification layer: analytic predictions against numeric measurements.

Composes :mod:`trainability.analytic` and :mod:`trainability.numeric`: mpmath reference
orbits, verdicts, paper reproductions, figures, public Hypothesis strategies and the
``trainability`` command line.
"""

from ._alphabeta import (
    FiniteSumCallables,
    alpha_beta_check,
    alpha_beta_region,
    certify_alpha_beta_1d,
    compare_conditions,
    finite_sum_callables,
    ngn_bound,
    proven_pairs,
    sgd_bound,
    sgd_bound_check,
    slack_at,
    sps_max_bound,
    theorem_check,
    tilted_well,
)
from ._check import (
    check_perturbation,
    perturbation_verdict,
)
from ._checks import (
    check_gradient_against_mpmath,
    check_labels_against_reference,
    robust_indices,
)
from ._connect import (
    METHODS,
    compare_methods,
    connect_models,
    connectivity_checks,
    plot_paths,
)
from ._derive import (
    derive_summary,
)
from ._large_stepsize import (
    LargeStepsizeResult,
    acceleration_exponent,
    check_acceleration,
    check_margin_near_monotone,
    check_risk_monotone,
    check_stable_rate,
    check_threshold,
    fitted_step,
    large_stepsize_experiment,
    separable_datasets,
)
from ._reference import (
    ReferenceOrbit,
    reference_label,
    reference_orbit,
)
from ._registry import (
    Reproduction,
    reproduction,
    reproductions,
)
from ._robustness import (
    LabelRobustness,
    boundary_label_indices,
    label_robustness,
)
from ._scale import (
    sweep_config,
    sweep_grid,
)
from ._sweeps import (
    BACKENDS,
    backend_name,
    initial_point,
    sweep_backend,
    sweep_landscape,
    sweep_protocol,
    sweep_run,
)
from ._transition import (
    critical_record,
    grid_points,
    grid_protocol,
    grid_run,
    roughness_plot,
    roughness_values,
    sweep_points,
    transition_verdict,
)
from ._verdict import (
    Verdict,
)

__all__ = [
    "BACKENDS",
    "FiniteSumCallables",
    "LabelRobustness",
    "LargeStepsizeResult",
    "METHODS",
    "ReferenceOrbit",
    "Reproduction",
    "Verdict",
    "acceleration_exponent",
    "alpha_beta_check",
    "backend_name",
    "alpha_beta_region",
    "boundary_label_indices",
    "certify_alpha_beta_1d",
    "check_acceleration",
    "check_gradient_against_mpmath",
    "check_labels_against_reference",
    "check_perturbation",
    "check_margin_near_monotone",
    "check_risk_monotone",
    "check_stable_rate",
    "check_threshold",
    "compare_conditions",
    "compare_methods",
    "connect_models",
    "connectivity_checks",
    "critical_record",
    "derive_summary",
    "finite_sum_callables",
    "fitted_step",
    "grid_points",
    "grid_protocol",
    "grid_run",
    "initial_point",
    "label_robustness",
    "large_stepsize_experiment",
    "perturbation_verdict",
    "ngn_bound",
    "plot_paths",
    "proven_pairs",
    "reference_label",
    "reference_orbit",
    "reproduction",
    "reproductions",
    "robust_indices",
    "roughness_plot",
    "roughness_values",
    "separable_datasets",
    "sgd_bound",
    "sgd_bound_check",
    "slack_at",
    "sps_max_bound",
    "sweep_backend",
    "sweep_config",
    "sweep_grid",
    "sweep_landscape",
    "sweep_points",
    "sweep_protocol",
    "sweep_run",
    "theorem_check",
    "tilted_well",
    "transition_verdict",
]
