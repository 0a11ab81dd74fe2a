"""Executable docstring examples of every public module (imported through the package)."""

import doctest
import importlib
import pkgutil

import pytest

import trainability.analytic
import trainability.numeric
import trainability.verify


def _modules():
    for pkg in (trainability.analytic, trainability.numeric, trainability.verify):
        yield pkg.__name__
        for info in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + "."):
            yield info.name


@pytest.mark.parametrize("name", sorted(set(_modules())))
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0
