"""trainability: derive, measure and verify how gradient descent behaves on loss landscapes.

Three layers, each a subpackage: :mod:`trainability.analytic` (SymPy: derive),
:mod:`trainability.numeric` (JAX and compiled kernels: measure) and
:mod:`trainability.verify` (compare, reproduce, the command line). They load lazily, so
``import trainability`` is cheap:

>>> import trainability
>>> trainability.__version__
'0.2.0'
>>> trainability.analytic.gradient(trainability.analytic.from_expression("x**4"))
(4*x**3,)

This file lives in ``verify/_root`` because the repository's top-level folders are fixed
(``pyproject.toml`` maps the package ``trainability`` onto this folder).
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import TYPE_CHECKING

__version__ = "0.2.0"

__all__ = ["__version__", "analytic", "numeric", "verify"]

if TYPE_CHECKING:
    from . import analytic, numeric, verify


def __getattr__(name: str) -> ModuleType:
    if name in ("analytic", "numeric", "verify"):
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | {"analytic", "numeric", "verify"})
