"""Verification of the alpha-beta condition: proven regions, counterexamples, SGD theorem."""

import json

import jax.numpy as jnp
import numpy as np
import pytest
import sympy
from hypothesis import given
from hypothesis import strategies as st

from trainability.analytic import alpha_beta_example, finite_sum
from trainability.numeric import slack_terms
from trainability.verify._alphabeta import (
    alpha_beta_check,
    finite_sum_callables,
    proven_pairs,
    sgd_bound_check,
    slack_at,
)
from trainability.verify._cli import main


def _exact_slack_example1(alpha, beta, x, y):
    """Example 1 slack by hand in exact rationals: u = x + y, x_p on x + y = -1/2, f_i(x_p)
    = 1/5, f_i^* = 0: h_i'(u)(u + 1/2) - alpha (h_i(u) - 1/5) + beta h_i(u), min over i."""
    u = sympy.Rational(x) + sympy.Rational(y)
    out = []
    for v in (u, u + 1):
        h = v**2 / (v**2 + 1)
        dh = 2 * v / (v**2 + 1) ** 2
        out.append(dh * (u + sympy.Rational(1, 2)) - alpha * (h - sympy.Rational(1, 5)) + beta * h)
    return min(out)


def test_example1_proven_corner_holds_and_beta_zero_fails():
    """alpha = 5/2, beta = 2 holds on the box; beta = 0 fails, and the reported point is a
    counterexample in exact rational arithmetic (independent of the JAX/mpmath path)."""
    fs = alpha_beta_example(1)
    ok = alpha_beta_check(fs, 2.5, 2.0, samples=4096, refine=4)
    assert ok["holds"] and ok["worst_slack"] >= 0
    bad = alpha_beta_check(fs, 2.5, 0.0, samples=4096, refine=4)
    assert not bad["holds"]
    x, y = bad["worst_point"]
    exact = _exact_slack_example1(sympy.Rational(5, 2), 0, x, y)
    assert exact < 0
    assert float(exact) == pytest.approx(bad["worst_slack"], rel=1e-12)


_EX1 = alpha_beta_example(1)
_EX6 = alpha_beta_example(6)
_CB1 = finite_sum_callables(_EX1)
_CB6 = finite_sum_callables(_EX6)
_A6 = proven_pairs(_EX6, 1)[0][0][0]


def _min_slack(cb, a, b, x):
    A, B, C = slack_terms(cb.pieces, cb.project, cb.piece_star, jnp.asarray([x]))
    return float(jnp.min(A - a * B + b * C))


@given(
    x=st.floats(-50, 50),
    y=st.floats(-50, 50),
    a=st.floats(2.5, 100),
    r=st.floats(0.8, 0.999),
)
def test_property_example1_region(x, y, a, r):
    """Random points and random (alpha, beta) of Example 1's proven region: slack >= 0."""
    assert _min_slack(_CB1, a, a * r, [x, y]) >= -1e-12


@given(x=st.floats(-20, 20), y=st.floats(-20, 20), scale=st.floats(1.0, 50.0))
def test_property_example6_region(x, y, scale):
    """Random points and alpha >= 2/c, beta = alpha - 1 (Example 6's proven line)."""
    a = _A6 * scale
    assert _min_slack(_CB6, a, a - 1, [x, y]) >= -1e-9 * a


def test_example6_constant_matches_paper():
    """Paper: 2/c = 41.369 with c = 0.048345."""
    assert _A6 == pytest.approx(41.369, abs=2e-3)


def test_slack_at_agrees_with_float64_kernels():
    """The 50-digit symbolic slack equals the JAX float64 slack at random points."""
    rng = np.random.default_rng(0)
    for x in rng.uniform(-2, 3, (3, 2)):
        assert slack_at(_EX6, 50.0, 49.0, x) == pytest.approx(
            _min_slack(_CB6, 50.0, 49.0, x), rel=1e-10, abs=1e-12
        )


def test_sgd_bound_least_squares():
    """Convex least squares, (alpha, beta) = (1, 0), L = 1 (hand-derived); bound formula
    checked against a hand computation: dist^2/(K gamma) + 2 L gamma sigma^2."""
    fs = finite_sum(
        ["(x1 - 1)**2/2 + x2**2/2", "(x1 + 1)**2/2 + (x2 - 2)**2/2"], box=((-4, 4), (-4, 4))
    )
    v = sgd_bound_check(fs, 1.0, 0.0, [3.0, 3.0], steps=200, seeds=32)
    assert v.passed
    p = v.predicted
    assert p["L"] == 1.0 and p["gamma"] == 0.5
    # S = {(0, 1)}, f* = 1 (each piece is 1 there), f_i^* = 0: sigma^2 = 1, dist^2 = 9 + 4.
    assert p["sigma_int2"] == pytest.approx(1.0) and p["dist0_2"] == pytest.approx(13.0)
    assert p["bound"] == pytest.approx(13.0 / (200 * 0.5) + 2 * 0.5 * 1.0)
    with pytest.raises(ValueError):
        sgd_bound_check(fs, 1.0, 0.0, [3.0, 3.0], steps=10, seeds=2, gamma=0.9)


def _cli(capsys, *args):
    """Run the command line in-process (shares the derived examples' caches)."""
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_sgd_bound_quick(tmp_path, capsys):
    code, out, err = _cli(
        capsys, "reproduce", "islamov-sgd-bound", "--quick", "--json", "--out", str(tmp_path)
    )
    assert code == 0, err
    d = json.loads(out)
    assert d["all_passed"]
    names = [e["name"] for e in d["examples"]]
    assert names == ["example-1", "example-2", "example-3", "example-6", "least-squares"]
    for e in d["examples"]:
        assert {"bound", "min_k_mean_gap", "gamma", "L", "sigma_int2"} <= set(e)


def test_cli_mlp_quick_one_width(tmp_path, capsys):
    """islamov-mlp --quick with one width: heatmap file, summary keys; bad --widths -> exit 2."""
    out_dir = str(tmp_path)
    code, out, err = _cli(
        capsys, "reproduce", "islamov-mlp", "--quick", "--widths", "8", "--json", "--out", out_dir
    )
    assert code == 0, err
    d = json.loads(out)
    (w,) = d["widths"]
    assert w["width"] == 8 and w["smallest_admissible"] is not None
    assert (tmp_path / "islamov-mlp" / "mlp_heatmaps.png").exists()
    assert d["halfspace"]["smallest_admissible"] is not None
    code, out, err = _cli(
        capsys, "reproduce", "islamov-mlp", "--quick", "--widths", "a,b", "--json", "--out", out_dir
    )
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1


@pytest.mark.slow
def test_cli_examples_full(tmp_path, capsys):
    code, out, err = _cli(capsys, "reproduce", "islamov-examples", "--json", "--out", str(tmp_path))
    assert code == 0, err
    d = json.loads(out)
    assert d["all_confirmed"] and d["all_beta_zero_refuted"]


def test_cli_examples_quick(tmp_path, capsys):
    """Every example: proven region confirmed, beta = 0 refuted, keys as in the issue."""
    code, out, err = _cli(
        capsys, "reproduce", "islamov-examples", "--quick", "--json", "--out", str(tmp_path)
    )
    assert code == 0, err
    d = json.loads(out)
    assert d["all_confirmed"] and d["all_beta_zero_refuted"]
    for e in d["examples"]:
        assert {"name", "proven", "checks"} <= set(e)
        for c in e["checks"]:
            assert {"alpha", "beta", "holds", "worst_slack", "worst_point"} <= set(c)
