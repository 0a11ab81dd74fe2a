"""The pytest plugin (verify/pytest_plugin.py): entry point, option, fixtures."""

from importlib.metadata import entry_points

import pytest

from trainability.analytic import family
from trainability.verify import pytest_plugin

pytest_plugins = ["pytester"]


def test_registered_as_pytest11_entry_point():
    (ep,) = [e for e in entry_points(group="pytest11") if e.name == "trainability"]
    assert ep.value == "trainability.verify.pytest_plugin"


def test_this_session_loaded_it(pytestconfig):
    assert pytestconfig.pluginmanager.has_plugin("trainability")


LEVEL_TEST = """
def test_sizes(trainability_level, trainability_sizes):
    assert trainability_level == {level}
    assert trainability_sizes.levels == {levels}
"""


@pytest.mark.parametrize(("args", "level"), [((), 1), (("--trainability-level=3",), 3)])
def test_level_option_scales_sizes(pytester, args, level):
    levels = pytest_plugin.sizes(level).levels
    pytester.makepyfile(LEVEL_TEST.format(level=level, levels=levels))
    pytester.runpytest(*args).assert_outcomes(passed=1)


def test_level_from_ini_and_bad_level(pytester):
    pytester.makeini("[pytest]\ntrainability_level = 2\n")
    pytester.makepyfile(LEVEL_TEST.format(level=2, levels=pytest_plugin.sizes(2).levels))
    pytester.runpytest().assert_outcomes(passed=1)
    result = pytester.runpytest("--trainability-level=7")
    assert result.ret != 0
    result.stderr.fnmatch_lines(["*invalid choice: 7*"])


def test_sizes_grow_with_level():
    a, b, c = (pytest_plugin.sizes(k) for k in (1, 2, 3))
    assert a.levels < b.levels < c.levels and a.steps < b.steps < c.steps
    with pytest.raises(ValueError, match="level must be one of"):
        pytest_plugin.sizes(0)


def test_kernel_cache_builds_once_per_expression(trainability_kernels):
    before = trainability_kernels.built
    k1 = trainability_kernels(family("additive", eps=0.1, lam=1.0), "numpy")
    k2 = trainability_kernels(family("additive", eps=0.3, lam=0.2), "numpy")
    assert k1 is k2 and trainability_kernels.built == before + 1
    assert trainability_kernels(family("quadratic"), "numpy") is not k1


def test_sweep_fixture_uses_the_level(trainability_sweep, trainability_sizes):
    r = trainability_sweep(family("quadratic"), 1.0)
    assert r.levels == trainability_sizes.levels and r.steps == trainability_sizes.steps
    assert r.boundary_counts[-1] == 1  # the quadratic's one boundary, at s = 1
