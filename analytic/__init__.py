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
from ._codegen import Kernels, jax_kernels, mpmath_kernels, numpy_kernels
from ._derive import gd_jacobian, gd_map, gradient, hessian, learning_rate_symbol
from ._landscape import FAMILIES, Landscape, family, from_expression
from ._large_stepsize import (
    LargeStepsizePrediction,
    first_phase_bound,
    large_stepsize_predictions,
    stable_phase_rate_bound,
    stable_phase_threshold,
)
from ._parse import ALLOWED_FUNCTIONS, ExpressionError, parse_expression, symbol

__all__ = [
    "ACTIVATIONS",
    "ACTIVATION_VARIABLE",
    "ALLOWED_FUNCTIONS",
    "Activation",
    "ActivationConstants",
    "Bound",
    "LargeStepsizePrediction",
    "activation",
    "activation_constants",
    "first_phase_bound",
    "large_stepsize_predictions",
    "stable_phase_rate_bound",
    "stable_phase_threshold",
    "FAMILIES",
    "ExpressionError",
    "Kernels",
    "Landscape",
    "family",
    "from_expression",
    "gd_jacobian",
    "gd_map",
    "gradient",
    "hessian",
    "jax_kernels",
    "learning_rate_symbol",
    "mpmath_kernels",
    "numpy_kernels",
    "parse_expression",
    "symbol",
]
