"""Symbolic layer: parse a loss, derive its theory, generate kernels.

Imports neither :mod:`trainability.numeric` nor :mod:`trainability.verify`; JAX is
imported lazily, only by the code generators.
"""

from ._alphabeta import (
    ALPHA_BETA_EXAMPLES,
    FiniteSum,
    MinimizerSet,
    Smoothness,
    aiming_slack,
    alpha_beta_example,
    alpha_beta_slack,
    alpha_beta_terms,
    critical_points,
    finite_sum,
    minimizer_set,
    piece_minima,
    pl_slack,
    projection,
    quasar_convexity_slack,
    remark1_family,
    smoothness_constant,
)
from ._codegen import Kernels, jax_kernels, mpmath_kernels, numpy_kernels
from ._derive import gd_jacobian, gd_map, gradient, hessian, learning_rate_symbol
from ._landscape import FAMILIES, Landscape, family, from_expression
from ._parse import ALLOWED_FUNCTIONS, ExpressionError, parse_expression, symbol

__all__ = [
    "ALLOWED_FUNCTIONS",
    "FAMILIES",
    "ExpressionError",
    "Kernels",
    "Landscape",
    "ALPHA_BETA_EXAMPLES",
    "FiniteSum",
    "MinimizerSet",
    "Smoothness",
    "aiming_slack",
    "alpha_beta_example",
    "alpha_beta_slack",
    "alpha_beta_terms",
    "critical_points",
    "finite_sum",
    "minimizer_set",
    "piece_minima",
    "pl_slack",
    "projection",
    "quasar_convexity_slack",
    "remark1_family",
    "smoothness_constant",
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
