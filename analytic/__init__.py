"""Symbolic layer: parse a loss, derive its theory, generate kernels.

Imports neither :mod:`trainability.numeric` nor :mod:`trainability.verify`; JAX is
imported lazily, only by the code generators.
"""

from ._codegen import Kernels, jax_kernels, mpmath_kernels, numpy_kernels
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
from ._derive import gd_jacobian, gd_map, gradient, hessian, learning_rate_symbol
from ._landscape import FAMILIES, Landscape, family, from_expression
from ._parse import ALLOWED_FUNCTIONS, ExpressionError, parse_expression, symbol

__all__ = [
    "ALLOWED_FUNCTIONS",
    "CSweepKernel",
    "CompileError",
    "FAMILIES",
    "ExpressionError",
    "SINCOS",
    "SinCosPolynomial",
    "c_sweep_kernel",
    "c_sweep_source",
    "Kernels",
    "Landscape",
    "family",
    "fast_jax_kernels",
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
    "sincos_error_bound",
    "sincos_numpy",
    "symbol",
]
