r"""Finite-sum losses :math:`f = \frac{1}{n} \sum_i f_i`, the object of the alpha-beta condition.

A :class:`FiniteSum` holds SymPy pieces ``f_i`` in the parameter variables ``x1..xd`` (``x1``
also in one dimension: the pieces of a finite sum are indexed by coordinate), a default box
for numerics and, for the paper's examples, the region the source proves.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import sympy

from ._landscape import Landscape
from ._parse import (
    ExpressionError,
    as_expression,
    parameter_variables,
    split_symbols,
    with_variables,
)

if TYPE_CHECKING:
    from ._minimizers import MinimizerSet

__all__ = ["FiniteSum", "finite_sum"]

NUMERIC_DPS = 40


def plain_landscape(expr: sympy.Expr, xs, name: str) -> Landscape:
    """A Landscape of one piece (its gradient is the plain derivative, as for every landscape)."""
    return Landscape(expr, tuple(xs), (), name=name)


@dataclass(frozen=True)
class FiniteSum:
    r"""A finite-sum loss :math:`f = \frac{1}{n} \sum_i f_i` on :math:`\mathbb{R}^d`.

    Attributes:
        pieces: the ``n`` pieces ``f_i`` as SymPy expressions in ``variables``.
        variables: the parameter variables ``(x1, ..., xd)``.
        name: a label (example name or ``"finite-sum"``).
        proven: the region the source proves, as a plain dict (empty if none is known).
        box: a default bounded region ``((lo_1, hi_1), ..., (lo_d, hi_d))`` for numerics,
            chosen to contain ``S``, the piece minimizers and the interesting features.
    """

    pieces: tuple[sympy.Expr, ...]
    variables: tuple[sympy.Symbol, ...]
    name: str = "finite-sum"
    proven: tuple[tuple[str, object], ...] = ()
    box: tuple[tuple[float, float], ...] = ()
    _cache: dict[Any, Any] = field(default_factory=dict, compare=False, hash=False, repr=False)

    @property
    def n(self) -> int:
        return len(self.pieces)

    @property
    def dim(self) -> int:
        return len(self.variables)

    @property
    def loss(self) -> sympy.Expr:
        r""":math:`f = \frac{1}{n} \sum_i f_i`."""
        return sympy.Add(*self.pieces) / self.n

    @property
    def proven_region(self) -> dict[str, Any]:
        return dict(self.proven)

    def piece(self, i: int) -> Landscape:
        """Piece ``f_i`` as a :class:`Landscape` (for gradient, Hessian and kernels)."""
        key = ("piece", i)
        if key not in self._cache:
            self._cache[key] = plain_landscape(self.pieces[i], self.variables, f"{self.name}[{i}]")
        return self._cache[key]

    def landscape(self) -> Landscape:
        """The average ``f`` as a :class:`Landscape`."""
        if "loss" not in self._cache:
            self._cache["loss"] = plain_landscape(self.loss, self.variables, self.name)
        return self._cache["loss"]

    def minimizers(self, starts: int = 32, dps: int = NUMERIC_DPS) -> MinimizerSet:
        """The minimizer set ``S`` of ``f`` (see :func:`minimizer_set`), cached."""
        from ._minimizers import sum_minimizers  # the search builds on this class

        return sum_minimizers(self, starts, dps)

    def region(self) -> tuple[np.ndarray, np.ndarray]:
        """Lower and upper corners of :attr:`box` as float64 arrays of shape ``(d,)``."""
        box = self.box or tuple((-5.0, 5.0) for _ in range(self.dim))
        lo, hi = np.array(box, dtype=np.float64).T
        return lo, hi


def finite_sum(
    pieces: Sequence[str | sympy.Expr],
    dim: int | None = None,
    name: str = "finite-sum",
    box: Sequence[Sequence[float]] | None = None,
) -> FiniteSum:
    """Build a :class:`FiniteSum` from user text (through the whitelist parser) or SymPy.

    Every free symbol must be a parameter variable ``x`` or ``x1..xd``; a 1-D ``x`` becomes
    ``x1``.

    >>> finite_sum(["(x1 - 1)**2", "(x1 + 1)**2"]).loss
    (x1 - 1)**2/2 + (x1 + 1)**2/2
    """
    if isinstance(pieces, str) or len(pieces) < 1:
        raise ExpressionError("give the pieces f_i as a non-empty list of expressions")
    exprs = [as_expression(p) for p in pieces]
    used = 1
    for e in exprs:
        variables, hyper = split_symbols(e)
        if hyper:
            names = ", ".join(h.name for h in hyper)
            raise ExpressionError(f"finite-sum pieces take no hyperparameters, got: {names}")
        if variables and variables[-1].name != "x":
            used = max(used, int(variables[-1].name[1:]))
    d = used if dim is None else int(dim)
    if d < used or d < 1 or d > 64:
        raise ExpressionError(f"dimension must be between {used} and 64, got {d}")
    xs = parameter_variables(d, indexed=True)
    exprs = [with_variables(e, xs) for e in exprs]
    if box is not None:
        box = tuple((float(lo), float(hi)) for lo, hi in box)
        if len(box) != d or any(not lo < hi for lo, hi in box):
            raise ExpressionError(f"box must give d = {d} intervals (lo < hi)")
    return FiniteSum(tuple(exprs), xs, name, (), box or ())
