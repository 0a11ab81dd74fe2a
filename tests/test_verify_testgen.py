"""``trainability testgen`` (verify/_testgen.py): the generated module runs under pytest, passes
for a loss outside the built-in families, and fails when the theory it checks is wrong."""

import json
import re
import subprocess
import sys

from trainability.verify._cli import main

CUBE = "x**2 + eps*sin(2*pi*x/lam)**3"  # not a built-in family; convex iff eps/lam^2 <= 1/(6 pi^2)
ARGS = ["testgen", CUBE, "--param", "eps=0.03", "--param", "lam=1", "--examples", "5"]

# Mutant of the theory: eps rescaled with weight 1 instead of 2 (renormalization is wrong).
MUTANT_CONFTEST = """
import numpy as np
import pytest

from trainability.verify import properties


@pytest.fixture(autouse=True)
def wrong_rescaling(monkeypatch):
    def rescaled(land, b, values=None, x0=None):
        v = land.value_dict if values is None else dict(values)
        return {"eps": v["eps"] / b, "lam": v["lam"] / b}, np.asarray(x0) / b

    monkeypatch.setattr(properties, "rescaled", rescaled)
"""


def _generate(capsys, args=ARGS) -> str:
    assert main(args) == 0
    return capsys.readouterr().out


def test_generated_module_passes_and_catches_a_mutant(tmp_path, capsys):
    source = _generate(capsys)
    tests = re.findall(r"^def (test_\w+)", source, re.M)
    assert tests == [
        "test_convexity_matches_curvature",
        "test_convexity_matches_curvature_nearby",
        "test_fixed_points_stable_on_their_interval",
        "test_renormalization_maps_orbits",
        "test_no_fractal_boundary_when_convex",
    ]
    # eps = 0.03 is on the non-convex side: the generator moved eps below 1/(6 pi^2).
    convex = json.loads(re.search(r"^CONVEX_PARAMS = (.*)$", source, re.M).group(1))
    assert convex["eps"] / convex["lam"] ** 2 < 1 / (6 * 3.141592653589793**2)
    good, bad = tmp_path / "good", tmp_path / "bad"
    good.mkdir()
    bad.mkdir()
    (good / "test_my_loss.py").write_text(source)
    (bad / "test_my_loss_mutant.py").write_text(source)
    (bad / "conftest.py").write_text(MUTANT_CONFTEST)
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rf", "good", "bad"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    out = proc.stdout + proc.stderr
    assert "1 failed, 9 passed" in out, out
    assert "FAILED bad/test_my_loss_mutant.py::test_renormalization_maps_orbits" in out, out


def test_json_and_a_loss_without_symmetry(capsys):
    out = json.loads(
        _generate(capsys, ["testgen", "x**2 - eps*exp(-(x-3)**2)", "--param", "eps=0.5", "--json"])
    )
    assert out["expression"] == "x**2 - eps*exp(-(x-3)**2)"
    assert "Left out: renormalization" in out["source"]
    assert "def test_renormalization_maps_orbits" not in out["source"]
    compile(out["source"], "generated", "exec")


def test_missing_parameter_is_a_usage_error(capsys):
    assert main(["testgen", CUBE, "--param", "eps=0.01"]) == 2
    err = capsys.readouterr().err
    assert "missing value for parameter(s): lam" in err and "Traceback" not in err
