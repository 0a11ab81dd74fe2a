"""Sphinx extension: theory pages typeset what the analytic layer derives, at build time.

Add ``"trainability.verify.sphinx"`` to ``extensions`` (with a math renderer such as
``sphinx.ext.mathjax``) and write::

    .. trainability-derive:: x**2 + eps*cos(2*pi*x/lam)
       :param: eps=0.01, lam=1

The directive parses the loss with the package's whitelist parser and renders its gradient,
Hessian, gradient-descent map, convexity condition and status (and the answer at the
``:param:`` values), renormalization invariants, critical value and the fixed points of the
GD map with their intervals of linear stability, all as math (``sympy.latex``). A page that
uses it changes when the derivation changes.

Options:
    ``:param:`` comma-separated ``NAME=VALUE`` hyperparameter values;
    ``:dim:`` number of parameter variables (a 1-D loss in ``x`` is then summed over
    ``x1..xd`` only if written so; see :func:`~trainability.analytic.from_expression`);
    ``:family:`` (flag) the argument names a built-in family instead of an expression;
    ``:sections:`` comma-separated subset of :data:`SECTIONS` (default all);
    ``:timeout:`` seconds for the symbolic work (default 60).

A section that raises or runs out of time renders ``unknown`` and logs a warning, so a
``-W`` build fails on it; a derivation that is honestly ``unknown`` is rendered as such.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

import sympy
from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

if TYPE_CHECKING:
    from sphinx.application import Sphinx

from trainability.analytic import (
    DerivationTimeout,
    ExpressionError,
    Landscape,
    as_expression,
    convexity,
    critical_invariant,
    family,
    fixed_points,
    from_expression,
    gd_map,
    gradient,
    hessian,
    learning_rate_symbol,
    renormalization,
    time_budget,
)

__all__ = ["SECTIONS", "DeriveDirective", "latex", "setup"]

#: Section names, in rendering order.
SECTIONS = (
    "gradient",
    "hessian",
    "gd-map",
    "convexity",
    "invariants",
    "critical",
    "fixed-points",
)

logger: logging.SphinxLoggerAdapter = logging.getLogger(__name__)

_GREEK = {"eps": r"\epsilon", "lam": r"\lambda"}


def _tex_name(name: str) -> str:
    """``eps`` -> ``\\epsilon``, ``lam2`` -> ``\\lambda_{2}``, ``x1`` -> ``x_{1}``."""
    stem, digits = re.fullmatch(r"(.*?)(\d*)", name).groups()
    stem = _GREEK.get(stem, stem if len(stem) == 1 else rf"\mathrm{{{stem}}}")
    return f"{stem}_{{{digits}}}" if digits else stem


def latex(expr: str | sympy.Basic | float | sympy.MatrixBase, land: Landscape | None = None) -> str:
    """``sympy.latex`` with the package's hyperparameter names typeset (``eps`` as epsilon).

    >>> from trainability.analytic import family
    >>> latex(family("additive").expr, family("additive"))
    '\\\\epsilon \\\\cos{\\\\left(\\\\frac{2 \\\\pi x}{\\\\lambda} \\\\right)} + x^{2}'
    """
    if not isinstance(expr, sympy.MatrixBase):  # matrices (Hessians) are SymPy objects already
        expr = as_expression(expr)
    names = {s: _tex_name(s.name) for s in expr.free_symbols if isinstance(s, sympy.Symbol)}
    if land is not None:
        names.update({h: _tex_name(h.name) for h in land.hyperparameters})
    return sympy.latex(expr, symbol_names=names)


def _values(text: str | None) -> dict[str, float]:
    out = {}
    for item in (text or "").split(","):
        if not item.strip():
            continue
        name, sep, value = item.partition("=")
        if not sep:
            raise ValueError(f":param: expects NAME=VALUE, got {item.strip()!r}")
        out[name.strip()] = float(value)
    return out


def _sections(text: str | None) -> tuple[str, ...]:
    if not text:
        return SECTIONS
    chosen = tuple(s.strip() for s in text.split(",") if s.strip())
    unknown = set(chosen) - set(SECTIONS)
    if unknown:
        raise ValueError(f":sections: unknown {', '.join(sorted(unknown))} (choose {SECTIONS})")
    return chosen


class DeriveDirective(SphinxDirective):
    """``.. trainability-derive:: EXPR`` (see the module docstring)."""

    required_arguments = 1
    final_argument_whitespace = True
    has_content = False
    option_spec: ClassVar[dict[str, Callable[[str], Any]] | None] = {
        "param": directives.unchanged,
        "dim": directives.positive_int,
        "family": directives.flag,
        "sections": directives.unchanged,
        "timeout": directives.positive_int,
    }

    def run(self) -> list[nodes.Node]:
        text = " ".join(self.arguments[0].split())
        try:
            values = _values(self.options.get("param"))
            sections = _sections(self.options.get("sections"))
            if "family" in self.options:
                land = family(text, dim=self.options.get("dim", 1), **values)
            else:
                land = from_expression(text, values, dim=self.options.get("dim"))
        except (ExpressionError, ValueError) as exc:
            raise self.error(f"trainability-derive: {exc}") from None
        self._deadline = _Deadline(self.options.get("timeout", 60))
        box = nodes.container(classes=["trainability-derive"])
        intro = nodes.paragraph()
        intro += nodes.Text("Derived at build time by trainability.analytic from ")
        intro += nodes.math("", f"f = {latex(land.expr, land)}")
        if land.values:
            shown = ", ".join(f"{_tex_name(n)} = {v:g}" for n, v in land.values)
            intro += nodes.Text(", at ")
            intro += nodes.math("", shown)
        intro += nodes.Text(".")
        box += intro
        fields = nodes.field_list()
        render = {
            "gradient": self._gradient,
            "hessian": self._hessian,
            "gd-map": self._gd_map,
            "convexity": self._convexity,
            "invariants": self._invariants,
            "critical": self._critical,
            "fixed-points": self._fixed_points,
        }
        for name in sections:
            title, body = self._section(name, render[name], land)
            field = nodes.field()
            field += nodes.field_name("", title)
            field += nodes.field_body("", *body)
            fields += field
        box += fields
        return [box]

    # ------------------------------------------------------------------ helpers

    def _section(self, name: str, compute, land: Landscape):
        try:
            with time_budget(self._deadline.left()):
                return compute(land)
        except (DerivationTimeout, ArithmeticError, TypeError, ValueError) as exc:
            reason = "timed out" if isinstance(exc, DerivationTimeout) else f"{exc}"
            logger.warning(
                f"trainability-derive: {name} of {land.expr}: {reason}",
                location=self.get_location(),
            )
            return name.replace("-", " ").capitalize(), [_para(f"unknown: {reason}")]

    def _block(self, tex: str) -> nodes.math_block:
        return nodes.math_block(
            tex, tex, docname=self.env.docname, label=None, number=None, nowrap=False
        )

    def _gradient(self, land):
        grad = gradient(land)
        if land.dim == 1:
            return "Gradient", [self._block(f"f'(x) = {latex(grad[0], land)}")]
        return "Gradient", [self._block(rf"\nabla f = {latex(sympy.Matrix(grad), land)}")]

    def _hessian(self, land):
        h = hessian(land)
        if land.dim == 1:
            return "Hessian", [self._block(f"f''(x) = {latex(h[0, 0], land)}")]
        return "Hessian", [self._block(rf"\nabla^2 f = {latex(h, land)}")]

    def _gd_map(self, land):
        step = gd_map(land)
        lhs = latex(land.variables[0]) if land.dim == 1 else r"\mathbf{x}"
        rhs = latex(step[0] if land.dim == 1 else step, land)
        s = latex(learning_rate_symbol())
        return "GD map", [self._block(rf"{lhs} \mapsto {rhs}"), _math_para("learning rate ", [s])]

    def _convexity(self, land):
        conv = convexity(land)
        body = [
            _para(
                f"status: {conv.status} (method: {conv.method}, "
                f"{'exact' if conv.exact else 'not a closed form'})"
            )
        ]
        if conv.condition is not None:
            body.append(self._block(rf"\text{{convex}} \iff {latex(conv.condition, land)}"))
        elif conv.note:
            body.append(_para(conv.note))
        if conv.min_curvature is not None:
            inf = r"\inf_x f''(x)" if land.dim == 1 else r"\inf \lambda_{\min}(\nabla^2 f)"
            body.append(self._block(f"{inf} = {latex(conv.min_curvature, land)}"))
        at = conv.at_values
        if at is not None:
            line = f"at these values: {at.status} ({at.method})"
            if at.min_curvature is None:
                body.append(_para(line))
            else:  # as math: smart quotes would turn f'' into typographic quotes
                body.append(_math_para(f"{line}, ", [rf"\inf f'' = {at.min_curvature:.6g}"]))
        return "Convexity", body

    def _invariants(self, land):
        ren = renormalization(land)
        if not ren.exists:
            return "Invariants", [_para("no scaling symmetry x -> b x")]
        b = sympy.Symbol("b", positive=True)
        moves = [
            rf"{_tex_name(n)} \to {latex(b**a * sympy.Symbol(n), land)}"
            for n, a in ren.exponents.items()
        ]
        body = [self._block(r",\quad ".join([r"x \to b\,x", *moves]))]
        if ren.invariants:
            body.append(_math_para("invariants: ", [latex(i, land) for i in ren.invariants]))
        else:
            body.append(_para("no invariant: every value is equivalent to every other"))
        return "Invariants", body

    def _critical(self, land):
        crit = critical_invariant(land)
        if crit is None:
            return "Critical value", [_para("convexity does not hinge on a single invariant")]
        rel = r"\le" if crit.convex_when == "below" else r"\ge"
        tex = rf"{latex(crit.invariant, land)} {rel} {latex(crit.value, land)}"
        if not (crit.value.free_symbols or crit.value.is_Rational or crit.value.is_Float):
            tex += rf" \approx {float(crit.value):.6g}"
        note = "exact" if crit.exact else "certified numerics"
        return "Critical value", [
            self._block(rf"\text{{convex}} \iff {tex}"),
            _para(f"convex {crit.convex_when} the critical value ({note})"),
        ]

    def _fixed_points(self, land):
        points = fixed_points(land, numeric=False)
        if not points:
            return "Fixed points", [_para("no exact fixed point found")]
        items = nodes.bullet_list()
        s = latex(learning_rate_symbol())
        for p in points:
            loc = p.location[0] if land.dim == 1 else sympy.Matrix(p.location).T
            lhs = latex(land.variables[0]) if land.dim == 1 else r"\mathbf{x}"
            tex = rf"{lhs}^* = {latex(loc, land)}"
            sign = None if p.stable_for is None else _sign(p.stable_for[1], land)
            if sign is None or sign == "nonpositive":
                tail = r"\quad \text{unstable for every } " + f"{s} > 0"
            else:
                lo, hi = (latex(e, land) for e in p.stable_for)
                tail = rf"\quad \text{{linearly stable for }} {s} \in \left({lo}, {hi}\right)"
                if sign == "unknown":
                    # The end point's sign depends on the values: say so, never imply it.
                    tail += rf"\ \text{{where }} {hi} > 0"
            item = nodes.list_item()
            item += _math_para("", [tex + tail])
            items += item
        return "Fixed points", [items]


def _sign(end, land: Landscape) -> str:
    """``"positive"``, ``"nonpositive"`` or ``"unknown"`` for a stability end point, under
    the hyperparameter domains the convexity analysis uses (and at the values, if given)."""
    domains = convexity(land).assumptions
    sub = {
        h: sympy.Symbol(h.name, **{domains.get(h.name, "real"): True}) for h in land.hyperparameters
    }
    # End points are SymPy objects (a Matrix in d dimensions) or numbers, never user text.
    e = sympy.ImmutableMatrix(end) if isinstance(end, sympy.MatrixBase) else as_expression(end)
    e = e.xreplace(sub)
    values = land.value_dict
    e = e.subs({sub[h]: values[h.name] for h in land.hyperparameters if h.name in values})
    if e.is_positive:
        return "positive"
    return "nonpositive" if e.is_nonpositive else "unknown"


class _Deadline:
    """One time budget shared by a directive's sections."""

    def __init__(self, seconds: float):
        import time

        self._clock = time.monotonic
        self._end = self._clock() + seconds

    def left(self) -> float:
        left = self._end - self._clock()
        if not math.isfinite(left) or left <= 0:
            raise DerivationTimeout("the directive's time budget is spent")
        return left


def _para(text: str) -> nodes.paragraph:
    return nodes.paragraph("", text)


def _math_para(prefix: str, texs: list[str]) -> nodes.paragraph:
    para = nodes.paragraph("", prefix)
    for i, tex in enumerate(texs):
        if i:
            para += nodes.Text(", ")
        para += nodes.math("", tex)
    return para


def setup(app: Sphinx) -> dict[str, str | bool]:
    """Register the ``trainability-derive`` directive."""
    app.add_directive("trainability-derive", DeriveDirective)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
