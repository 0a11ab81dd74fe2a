"""Symbolic layer: parse a loss, derive its theory, generate kernels.

Imports neither :mod:`trainability.numeric` nor :mod:`trainability.verify`; JAX is
imported lazily, only by the code generators.
"""

from ._activations import (
    ACTIVATION_VARIABLE,
    ACTIVATIONS,
    Activation,
    ActivationConstants,
    Bound,
    activation,
    activation_constants,
)
from ._budget import DerivationTimeout, time_budget
from ._cache import ArtifactCache
from ._codegen import (
    Kernels,
    fast_jax_kernels,
    jax_kernels,
    mpmath_kernels,
    numpy_kernels,
)
from ._codegen_c import c_sweep_source
from ._codegen_c_wide import SeparableForm, c_wide_sweep_source, separable_form
from ._convexity import (
    Convexity,
    ValueConvexity,
    convexity,
    critical_scale,
    min_curvature,
)
from ._derive import (
    gd_jacobian,
    gd_map,
    gradient,
    hessian,
    learning_rate_symbol,
)
from ._exp import (
    EXP,
    LOG,
    ExpPolynomial,
    LogPolynomial,
    cosh_error_bound,
    cosh_numpy,
    exp_error_bound,
    exp_numpy,
    log_error_bound,
    log_numpy,
    sinh_error_bound,
    sinh_numpy,
    tanh_error_bound,
    tanh_numpy,
)
from ._finite_sum import FiniteSum, finite_sum
from ._fixed_points import (
    FixedPoint,
    fixed_points,
    stability_interval,
)
from ._interval import GlobalMinimum, global_minimum
from ._landscape import (
    FAMILIES,
    Landscape,
    family,
    from_expression,
)
from ._large_stepsize import (
    LargeStepsizePrediction,
    first_phase_bound,
    large_stepsize_predictions,
    stable_phase_rate_bound,
    stable_phase_threshold,
)
from ._minimizers import (
    MinimizerSet,
    critical_points,
    minimizer_set,
    piece_minima,
    projection,
)
from ._parse import (
    ALLOWED_FUNCTIONS,
    ExpressionError,
    as_expression,
    parameter_variables,
    parse_expression,
    symbol,
)
from ._renormalization import (
    CriticalInvariant,
    Renormalization,
    critical_invariant,
    invariants,
    renormalization,
    rescaled,
)
from ._sincos import (
    HALFTURN,
    SINCOS,
    SinCosPolynomial,
    sincos_error_bound,
    sincos_numpy,
)
from ._slacks import (
    aiming_slack,
    alpha_beta_slack,
    alpha_beta_terms,
    pl_slack,
    quasar_convexity_slack,
)
from ._smoothness import Smoothness, smoothness_constant

__all__ = [
    "as_expression",
    "ACTIVATIONS",
    "ACTIVATION_VARIABLE",
    "ALLOWED_FUNCTIONS",
    "Activation",
    "ActivationConstants",
    "ArtifactCache",
    "Bound",
    "Convexity",
    "CriticalInvariant",
    "ExpressionError",
    "FAMILIES",
    "FiniteSum",
    "FixedPoint",
    "Kernels",
    "Landscape",
    "LargeStepsizePrediction",
    "MinimizerSet",
    "DerivationTimeout",
    "GlobalMinimum",
    "Renormalization",
    "EXP",
    "ExpPolynomial",
    "LOG",
    "LogPolynomial",
    "HALFTURN",
    "SINCOS",
    "SinCosPolynomial",
    "Smoothness",
    "activation",
    "activation_constants",
    "aiming_slack",
    "alpha_beta_slack",
    "alpha_beta_terms",
    "c_sweep_source",
    "c_wide_sweep_source",
    "SeparableForm",
    "separable_form",
    "cosh_error_bound",
    "cosh_numpy",
    "convexity",
    "critical_invariant",
    "critical_points",
    "critical_scale",
    "family",
    "fast_jax_kernels",
    "finite_sum",
    "first_phase_bound",
    "fixed_points",
    "from_expression",
    "gd_jacobian",
    "global_minimum",
    "gd_map",
    "gradient",
    "hessian",
    "invariants",
    "jax_kernels",
    "large_stepsize_predictions",
    "learning_rate_symbol",
    "min_curvature",
    "minimizer_set",
    "mpmath_kernels",
    "numpy_kernels",
    "parameter_variables",
    "parse_expression",
    "piece_minima",
    "pl_slack",
    "projection",
    "quasar_convexity_slack",
    "renormalization",
    "rescaled",
    "exp_error_bound",
    "exp_numpy",
    "log_error_bound",
    "log_numpy",
    "sincos_error_bound",
    "sincos_numpy",
    "sinh_error_bound",
    "sinh_numpy",
    "smoothness_constant",
    "stability_interval",
    "stable_phase_rate_bound",
    "tanh_error_bound",
    "tanh_numpy",
    "stable_phase_threshold",
    "symbol",
    "time_budget",
    "ValueConvexity",
]
