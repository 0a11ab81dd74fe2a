"""Verification layer: analytic predictions against numeric measurements.

Composes :mod:`trainability.analytic` and :mod:`trainability.numeric`: mpmath reference
orbits, verdicts, paper reproductions, figures, public Hypothesis strategies and the
``trainability`` command line.

Names load lazily (module ``__getattr__``): importing the package, e.g. for its pytest
plugin, does not import JAX, SymPy derivations or matplotlib until a name is used.
"""

from __future__ import annotations

import importlib

# name -> private module that defines it
_LAZY = {
    "acceleration_exponent": "_large_stepsize",
    "alpha_beta_check": "_alphabeta",
    "alpha_beta_region": "_alphabeta",
    "backend_name": "_sweeps",
    "BACKENDS": "_sweeps",
    "boundary_label_indices": "_robustness",
    "certify_alpha_beta_1d": "_alphabeta",
    "c_sweep_kernel": "_sweeps",
    "check_acceleration": "_large_stepsize",
    "check_gradient_against_mpmath": "_checks",
    "check_labels_against_reference": "_checks",
    "check_margin_near_monotone": "_large_stepsize",
    "check_perturbation": "_check",
    "check_risk_monotone": "_large_stepsize",
    "check_stable_rate": "_large_stepsize",
    "check_threshold": "_large_stepsize",
    "compare_conditions": "_alphabeta",
    "compare_methods": "_connect",
    "connect_models": "_connect",
    "connectivity_checks": "_connect",
    "critical_record": "_transition",
    "derive_summary": "_derive",
    "finite_sum_callables": "_alphabeta",
    "FiniteSumCallables": "_alphabeta",
    "fitted_step": "_large_stepsize",
    "grid_points": "_transition",
    "grid_protocol": "_transition",
    "grid_run": "_transition",
    "initial_point": "_sweeps",
    "label_robustness": "_robustness",
    "LabelRobustness": "_robustness",
    "large_stepsize_experiment": "_large_stepsize",
    "LargeStepsizeResult": "_large_stepsize",
    "METHODS": "_connect",
    "ngn_bound": "_alphabeta",
    "perturbation_verdict": "_check",
    "plot_paths": "_connect",
    "proven_pairs": "_alphabeta",
    "reference_label": "_reference",
    "reference_orbit": "_reference",
    "ReferenceOrbit": "_reference",
    "Reproduction": "_registry",
    "reproduction": "_registry",
    "reproductions": "_registry",
    "robust_indices": "_checks",
    "roughness_plot": "_transition",
    "roughness_values": "_transition",
    "separable_datasets": "_large_stepsize",
    "sgd_bound": "_alphabeta",
    "sgd_bound_check": "_alphabeta",
    "slack_at": "_alphabeta",
    "sps_max_bound": "_alphabeta",
    "sweep_backend": "_sweeps",
    "sweep_config": "_scale",
    "sweep_grid": "_scale",
    "sweep_landscape": "_sweeps",
    "sweep_points": "_transition",
    "sweep_protocol": "_sweeps",
    "sweep_run": "_sweeps",
    "theorem_check": "_alphabeta",
    "tilted_well": "_alphabeta",
    "transition_verdict": "_transition",
    "Verdict": "_verdict",
}

__all__ = sorted(_LAZY, key=str.lower)


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value  # later lookups skip __getattr__
    return value


def __dir__():
    return sorted(set(globals()) | set(_LAZY))
