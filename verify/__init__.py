"""Verification layer: analytic predictions against numeric measurements.

Composes :mod:`trainability.analytic` and :mod:`trainability.numeric`: mpmath reference
orbits, verdicts, paper reproductions, figures, public Hypothesis strategies and the
``trainability`` command line.

Names load lazily (module ``__getattr__``): importing the package, e.g. for its pytest
plugin, does not import JAX, SymPy derivations or matplotlib until a name is used. The
``if TYPE_CHECKING:`` block below is the one list of public names: type checkers read it as
re-exports (``name as name``), and :func:`_lazy_names` reads it (with :mod:`ast`) to know
which private module defines each name.
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._alphabeta import (
        FiniteSumCallables as FiniteSumCallables,
        alpha_beta_region as alpha_beta_region,
        alpha_beta_worst_slack as alpha_beta_worst_slack,
        certify_alpha_beta_1d as certify_alpha_beta_1d,
        check_alpha_beta as check_alpha_beta,
        check_sgd_bound as check_sgd_bound,
        check_theorem as check_theorem,
        compare_conditions as compare_conditions,
        finite_sum_callables as finite_sum_callables,
        ngn_bound as ngn_bound,
        proven_pairs as proven_pairs,
        sgd_bound as sgd_bound,
        slack_at as slack_at,
        sps_max_bound as sps_max_bound,
        tilted_well as tilted_well,
    )
    from ._check import (
        check_perturbation as check_perturbation,
        perturbation_verdict as perturbation_verdict,
    )
    from ._checks import (
        check_gradient_against_mpmath as check_gradient_against_mpmath,
        check_labels_against_reference as check_labels_against_reference,
        robust_indices as robust_indices,
    )
    from ._connect import (
        METHODS as METHODS,
        compare_methods as compare_methods,
        connect_models as connect_models,
        connectivity_checks as connectivity_checks,
        plot_paths as plot_paths,
    )
    from ._derive import derive_summary as derive_summary
    from ._large_stepsize import (
        LargeStepsizeResult as LargeStepsizeResult,
        acceleration_exponent as acceleration_exponent,
        check_acceleration as check_acceleration,
        check_margin_near_monotone as check_margin_near_monotone,
        check_risk_monotone as check_risk_monotone,
        check_stable_rate as check_stable_rate,
        check_threshold as check_threshold,
        fitted_step as fitted_step,
        large_stepsize_experiment as large_stepsize_experiment,
        separable_datasets as separable_datasets,
    )
    from ._reference import (
        ReferenceOrbit as ReferenceOrbit,
        reference_label as reference_label,
        reference_orbit as reference_orbit,
    )
    from ._registry import (
        Reproduction as Reproduction,
        reproduction as reproduction,
        reproductions as reproductions,
    )
    from ._robustness import (
        LabelRobustness as LabelRobustness,
        boundary_label_indices as boundary_label_indices,
        label_robustness as label_robustness,
    )
    from ._scale import dask_sweeps as dask_sweeps, sweep_config as sweep_config
    from ._sweeps import (
        BACKENDS as BACKENDS,
        backend_name as backend_name,
        c_sweep_kernel as c_sweep_kernel,
        initial_point as initial_point,
        kernel_layout as kernel_layout,
        sweep_backend as sweep_backend,
        sweep_landscape as sweep_landscape,
        sweep_protocol as sweep_protocol,
        sweep_run as sweep_run,
    )
    from ._transition import (
        critical_record as critical_record,
        grid_protocol as grid_protocol,
        grid_records as grid_records,
        grid_run as grid_run,
        roughness_plot as roughness_plot,
        roughness_values as roughness_values,
        sweep_points as sweep_points,
        transition_verdict as transition_verdict,
    )
    from ._verdict import Verdict as Verdict


def _lazy_names() -> dict[str, str]:
    """``name -> private module`` from this file's ``if TYPE_CHECKING:`` imports."""
    tree = ast.parse(Path(__file__).read_text())
    block = next(
        n
        for n in tree.body
        if isinstance(n, ast.If) and getattr(n.test, "id", "") == "TYPE_CHECKING"
    )
    return {
        alias.name: node.module
        for node in block.body
        if isinstance(node, ast.ImportFrom) and node.module
        for alias in node.names
    }


_LAZY = _lazy_names()

__all__ = sorted(_LAZY, key=str.lower)


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value  # later lookups skip __getattr__
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
