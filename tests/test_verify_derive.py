"""`trainability derive --json`: convexity, invariants and critical roughness keys."""

import json

import pytest

from trainability.verify._cli import main


def _derive(capsys, *argv):
    assert main(["derive", *argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_additive(capsys):
    out = _derive(capsys, "x**2 + eps*cos(2*pi*x/lam)")
    assert out["convexity"]["condition"] == "eps/lam**2 <= 1/(2*pi**2)"
    assert out["convexity"]["always_convex"] is False
    assert out["convexity"]["never_convex"] is False
    assert out["invariants"] == ["eps/lam**2"]
    assert out["critical_invariant"] == {
        "invariant": "eps/lam**2",
        "value": "1/(2*pi**2)",
        "numeric": pytest.approx(0.05066059182116889, rel=1e-15),
        "convex_when": "below",
        "exact": True,
    }


def test_multiplicative(capsys):
    out = _derive(capsys, "x**2*(1 + eps*cos(2*pi*x/lam))")
    assert out["convexity"]["never_convex"] is True
    assert out["invariants"] == ["eps"]
    assert out["critical_invariant"]["value"] == "0"


def test_two_cosine(capsys):
    out = _derive(capsys, "x**2 + eps1*cos(2*pi*x/0.3) + eps2*cos(2*pi*x/0.5)")
    assert out["convexity"]["method"] == "commensurate"
    assert out["convexity"]["substitution"] == "u = cos(4*pi*x/3)"
    # Both cosines peak at x = 0: a straight line in (eps1, eps2), no single invariant.
    assert out["convexity"]["condition"] == "400*pi**2*eps1/9 + 16*pi**2*eps2 <= 2"
    assert out["critical_invariant"] is None
    out = _derive(capsys, "x**2 + eps1*cos(2*pi*x/lam1) + eps2*cos(2*pi*x/lam2)")
    assert set(out["invariants"]) == {"eps1/lam1**2", "eps2/lam2**2", "lam1/lam2"}


@pytest.mark.parametrize("expr", ["x**2", "x**2 + 0.1*tanh(x)"])
def test_always_convex(capsys, expr):
    out = _derive(capsys, expr)
    assert out["convexity"]["condition"] == "True"


def test_fixed_points_key(capsys):
    """x^4 - x^2: minima at +-1/sqrt(2) with f'' = 4, stable for s < 1/2; 0 is a maximum."""
    out = _derive(capsys, "x**4 - x**2")
    got = {tuple(p["location"]): p["stable_for"] for p in out["fixed_points"]}
    assert got == {("0",): None, ("-sqrt(2)/2",): ["0", "1/2"], ("sqrt(2)/2",): ["0", "1/2"]}
