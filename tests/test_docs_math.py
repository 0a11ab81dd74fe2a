"""Formulas in docstrings: every ``:math:`` role and ``.. math::`` block of the package's
docstrings is well-formed TeX as far as Python can tell without a TeX engine: no control
characters (a backslash sequence such as ``\\frac`` eaten by a non-raw docstring becomes a form
feed), balanced braces, every ``\\left`` closed by a ``\\right``, and the modules whose formulas
were converted do use the roles. The reference is the docstring text itself (``__doc__``)."""

import importlib
import inspect
import re

import pytest
from test_docstrings import _modules

ROLE = re.compile(r":math:`([^`]*)`")
BLOCK = re.compile(r"\.\. math::\n((?:\n|[ \t]+.*\n)+)")
# Modules whose formulas were written as :math: (issue 16); each keeps at least one.
CONVERTED = [
    "trainability.analytic._finite_sum",
    "trainability.analytic._minimizers",
    "trainability.analytic._slacks",
    "trainability.analytic._smoothness",
    "trainability.analytic._convexity",
    "trainability.analytic._derive",
    "trainability.analytic._fixed_points",
    "trainability.analytic._large_stepsize",
    "trainability.analytic._renormalization",
    "trainability.analytic._trig",
    "trainability.verify._alphabeta",
    "trainability.verify._transition",
    "trainability.numeric._boundary",
    "trainability.numeric._box_counting",
    "trainability.numeric._alphabeta",
]


def _docstrings(module):
    yield module.__name__, module.__doc__ or ""
    for name, obj in vars(module).items():
        if (inspect.isfunction(obj) or inspect.isclass(obj)) and obj.__module__ == module.__name__:
            yield f"{module.__name__}.{name}", obj.__doc__ or ""


def formulas(doc: str) -> list[str]:
    return ROLE.findall(doc) + BLOCK.findall(doc + "\n")


def problems(tex: str) -> list[str]:
    """What is wrong with one formula's TeX (empty when nothing is)."""
    found = []
    # "\\frac", "\\beta", "\\alpha", "\\right", "\\theta" in a plain string literal become a
    # form feed, backspace, bell, carriage return, tab; "\\nabla" a newline glued to "abla".
    if re.search(r"[\x00-\x09\x0b-\x1f]|\n(?=\S)", tex):
        found.append("control character (a backslash escape in a non-raw docstring?)")
    depth = 0
    for ch in re.sub(r"\\[{}]", "", tex):
        depth += {"{": 1, "}": -1}.get(ch, 0)
        if depth < 0:
            break
    if depth != 0:
        found.append("unbalanced braces")
    if len(re.findall(r"\\left\b", tex)) != len(re.findall(r"\\right\b", tex)):
        found.append("\\left without \\right")
    return found


def test_problems_finds_what_a_non_raw_docstring_does():
    assert problems("\x0crac{1}{n}")  # "\\frac" in a plain string literal
    assert problems("x - s \nabla f(x)")  # "\\nabla" likewise
    assert problems(r"\frac{1}{n") and problems(r"\left( x")
    assert not problems(r"\min\left(\frac{1}{n}, \gamma_b\right)")


@pytest.mark.parametrize("name", sorted(set(_modules())))
def test_docstring_formulas_are_well_formed(name):
    module = importlib.import_module(name)
    for where, doc in _docstrings(module):
        for tex in formulas(doc):
            assert not problems(tex), (where, tex, problems(tex))


@pytest.mark.parametrize("name", CONVERTED)
def test_converted_modules_use_math_roles(name):
    module = importlib.import_module(name)
    assert any(formulas(doc) for _, doc in _docstrings(module)), name
