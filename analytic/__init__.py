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
from ._codegen import (
    Kernels,
    jax_kernels,
    mpmath_kernels,
    numpy_kernels,
)
from ._codegen_fast import (
    SINCOS,
    CompileError,
    CSweepKernel,
    SinCosPolynomial,
    c_sweep_kernel,
    c_sweep_source,
    fast_jax_kernels,
    sincos_error_bound,
    sincos_numpy,
)
from ._convexity import (
    Convexity,
    certified_minimum,
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
from ._fixed_points import (
    FixedPoint,
    fixed_points,
    stability_interval,
)
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
from ._parse import (
    ALLOWED_FUNCTIONS,
    ExpressionError,
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

__all__ = [
    "ACTIVATIONS",
    "ACTIVATION_VARIABLE",
    "ALLOWED_FUNCTIONS",
    "Activation",
    "ActivationConstants",
    "Bound",
    "CSweepKernel",
    "CompileError",
    "Convexity",
    "CriticalInvariant",
    "ExpressionError",
    "FAMILIES",
    "FixedPoint",
    "Kernels",
    "Landscape",
    "LargeStepsizePrediction",
    "Renormalization",
    "SINCOS",
    "SinCosPolynomial",
    "activation",
    "activation_constants",
    "c_sweep_kernel",
    "c_sweep_source",
    "certified_minimum",
    "convexity",
    "critical_invariant",
    "critical_scale",
    "family",
    "fast_jax_kernels",
    "first_phase_bound",
    "fixed_points",
    "from_expression",
    "gd_jacobian",
    "gd_map",
    "gradient",
    "hessian",
    "invariants",
    "jax_kernels",
    "large_stepsize_predictions",
    "learning_rate_symbol",
    "min_curvature",
    "mpmath_kernels",
    "numpy_kernels",
    "parse_expression",
    "renormalization",
    "rescaled",
    "sincos_error_bound",
    "sincos_numpy",
    "stability_interval",
    "stable_phase_rate_bound",
    "stable_phase_threshold",
    "symbol",
]
