"""Verification of the alpha-beta condition: proven regions, counterexamples, SGD theorem."""

import json

import jax.numpy as jnp
import numpy as np
import pytest
import sympy
from hypothesis import given, strategies as st

from trainability.analytic import finite_sum
from trainability.numeric import slack_terms
from trainability.verify import _alphabeta as ab
from trainability.verify._alphabeta import (
    TILTED_WELL_ALPHA_BETA,
    alpha_beta_worst_slack,
    certify_alpha_beta_1d,
    check_alpha_beta,
    check_sgd_bound,
    check_theorem,
    finite_sum_callables,
    ngn_bound,
    proven_pairs,
    sgd_bound,
    slack_at,
    sps_max_bound,
    tilted_well,
)
from trainability.verify._cli import main
from trainability.verify._verdict import Verdict
from trainability.verify.targets._islamov_examples import alpha_beta_example


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
    ok = alpha_beta_worst_slack(fs, 2.5, 2.0, samples=4096, refine=4)
    assert ok["holds"] and ok["worst_slack"] >= 0
    assert ok["evidence"] == "sampled"  # passing on samples is not a proof on the box
    bad = alpha_beta_worst_slack(fs, 2.5, 0.0, samples=4096, refine=4)
    assert not bad["holds"] and bad["evidence"] == "certified violation"
    x, y = bad["worst_point"]
    exact = _exact_slack_example1(sympy.Rational(5, 2), 0, x, y)
    assert exact < 0
    assert float(exact) == pytest.approx(bad["worst_slack"], rel=1e-12)


def test_check_alpha_beta_is_a_verdict_on_the_worst_slack_record():
    """Every check returns a Verdict: passed iff the record holds, measured its worst slack,
    and ``why`` names the point."""
    fs = alpha_beta_example(1)
    for beta in (2.0, 0.0):
        record = alpha_beta_worst_slack(fs, 2.5, beta, samples=1024, refine=2)
        verdict = check_alpha_beta(fs, 2.5, beta, samples=1024, refine=2)
        assert isinstance(verdict, Verdict)
        assert verdict.passed is record["holds"] is (beta == 2.0)
        assert verdict.measured == record["worst_slack"]
        assert str(record["worst_point"]) in verdict.why


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
    v = check_sgd_bound(fs, 1.0, 0.0, [3.0, 3.0], steps=200, seeds=32)
    assert v.passed
    p = v.predicted
    assert p["L"] == 1.0 and p["gamma"] == 0.5
    # S = {(0, 1)}, f* = 1 (each piece is 1 there), f_i^* = 0: sigma^2 = 1, dist^2 = 9 + 4.
    assert p["sigma_int2"] == pytest.approx(1.0) and p["dist0_2"] == pytest.approx(13.0)
    assert p["bound"] == pytest.approx(13.0 / (200 * 0.5) + 2 * 0.5 * 1.0)
    with pytest.raises(ValueError):
        check_sgd_bound(fs, 1.0, 0.0, [3.0, 3.0], steps=10, seeds=2, gamma=0.9)


def _cli(capsys, *args):
    """Run the command line in-process (shares the derived examples' caches)."""
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_sgd_bound_quick(tmp_path, capsys):
    """Every case: the bound holds and bites (lies below the initial gap); keys as in the issue."""
    code, out, err = _cli(
        capsys, "reproduce", "islamov-sgd-bound", "--quick", "--json", "--out", str(tmp_path)
    )
    assert code == 0, err
    d = json.loads(out)
    assert d["all_passed"] and d["all_bite"]
    assert {c["method"] for c in d["cases"]} == {"sgd", "sps_max", "ngn"}
    for c in d["cases"]:
        assert {"name", "method", "initial_gap", "bound", "measured", "holds"} <= set(c)
        assert c["measured"] <= c["bound"] < c["initial_gap"]
        assert c["condition"].startswith("proven")


@pytest.mark.slow
def test_cli_examples_full(tmp_path, capsys):
    code, out, err = _cli(capsys, "reproduce", "islamov-examples", "--json", "--out", str(tmp_path))
    assert code == 0, err
    d = json.loads(out)
    assert d["all_confirmed"] and d["all_beta_zero_refuted"]


@pytest.mark.slow
def test_cli_examples_quick_all(tmp_path, capsys):
    """Every example: proven region confirmed, beta = 0 refuted, keys as in the issue."""
    code, out, err = _cli(
        capsys, "reproduce", "islamov-examples", "--quick", "--json", "--out", str(tmp_path)
    )
    assert code == 0, err
    d = json.loads(out)
    assert [e["name"] for e in d["examples"]] == [f"example-{n}" for n in (1, 2, 3, 6)]
    _assert_examples_summary(d)


def test_cli_examples_quick_two(tmp_path, capsys):
    """Examples 1 (unbounded S) and 6 (a saddle) in the CI suite: the same checks; a number
    outside the paper's examples is one line, exit 2."""
    argv = ["reproduce", "islamov-examples", "--quick", "--json", "--out", str(tmp_path)]
    code, out, err = _cli(capsys, *argv, "--examples", "1,6")
    assert code == 0, err
    d = json.loads(out)
    assert len(d["examples"]) == 2
    _assert_examples_summary(d)
    code, out, err = _cli(capsys, *argv, "--examples", "4")
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1


def _assert_examples_summary(d):
    assert d["all_confirmed"] and d["all_beta_zero_refuted"]
    for e in d["examples"]:
        assert {"name", "proven", "checks"} <= set(e)
        for c in e["checks"]:
            assert {"alpha", "beta", "holds", "worst_slack", "worst_point"} <= set(c)


# --------------------------------------------------------------------------------------------
# Convergence theorems where they bite, and mutants of the bounds that must be caught
# --------------------------------------------------------------------------------------------


def test_bound_formulas_by_hand():
    """Each bound against a hand computation (catches a dropped term or a flipped sign)."""
    b = sgd_bound(alpha=3.0, beta=1.0, L=2.0, gamma=0.5, sigma2=0.25, dist2=8.0, steps=4)
    # 8/(4*0.5*2) + 2*2*0.5*0.25/2 + 2*1*0.25/2
    assert b["bound"] == pytest.approx(2.0 + 0.25 + 0.25)
    b = sps_max_bound(
        alpha=3.0, beta=1.0, L=2.0, c=1.0, gamma_b=0.5, sigma2=0.25, dist2=8.0, steps=4
    )
    # a = 2*2 - 1 = 3, gamma_min = min(1/4, 1/2) = 1/4: 8/(4*3/4) + (2*3*0.5/(3/4) - 1)*0.25
    assert b["bound"] == pytest.approx(8 / 3 + 3 * 0.25)
    b = ngn_bound(
        alpha=3.0, beta=1.0, L=2.0, gamma=0.5, f_star=1.0, piece_star_mean=0.5, dist2=8.0, steps=4
    )
    g_lo = 0.5 / 2
    c_lo = 2 * g_lo * 1 + 2 * g_lo**2 / 0.5
    assert b["bound"] == pytest.approx(8 / (4 * c_lo) + 2 * 0.5 * (3 - 0.5) / c_lo - 1)
    with pytest.raises(ValueError):
        sps_max_bound(alpha=1.0, beta=0.0, L=1.0, c=0.4, gamma_b=1, sigma2=0, dist2=1, steps=1)
    with pytest.raises(ValueError):
        ngn_bound(alpha=1.5, beta=1.0, L=1, gamma=1, f_star=0, piece_star_mean=0, dist2=1, steps=1)


def test_tilted_well_certificate():
    """(530, 528.05) is proven on R; below the sampled threshold (about 524.8) it is not."""
    fs = tilted_well()
    a, b = TILTED_WELL_ALPHA_BETA
    assert certify_alpha_beta_1d(fs, a, b)["holds"]
    assert not certify_alpha_beta_1d(fs, 500, 500 - sympy.Rational(39, 20))["holds"]
    # beta = 0 fails at the spurious local minimum (grad f = 0 there, f > f*)
    assert _min_slack(finite_sum_callables(fs), float(a), 0.0, [-1.7415]) < 0


_WELL_STEPS, _WELL_SEEDS, _WELL_X0 = 10000, 8, [-25.0]
_LS = (
    "(x1 - 1)**2/2 + x2**2/2",
    "(x1 + 1)**2/2 + (x2 - 2)**2/2",
    "x1**2/2 + (x2 + 1)**2/2",
)
_LS_FS = finite_sum(_LS, name="least-squares", box=((-4, 4), (-4, 4)))


def _well_check(method):
    a, b = TILTED_WELL_ALPHA_BETA
    return check_theorem(
        tilted_well(), method, float(a), float(b), _WELL_X0, _WELL_STEPS, _WELL_SEEDS
    )


@pytest.mark.parametrize("method", ["sgd", "sps_max", "ngn"])
def test_theorem_holds_and_bites_on_tilted_well(method):
    """From x0 = -25 the run is trapped in the spurious well (gap about 1.49): the bound holds,
    lies below the initial gap, and exceeds the trapped gap only through its beta part."""
    v = _well_check(method)
    assert v.passed and v.predicted["bites"]
    assert v.measured["min_k_mean_gap"] == pytest.approx(1.4927, abs=0.02)


def _drop(term):
    def patch(original):
        def mutant(**kw):
            b = original(**kw)
            return {**b, "bound": b["bound"] - b["terms"][term]}

        return mutant

    return patch


@pytest.mark.parametrize(
    "method, function, term",
    [
        ("sgd", "sgd_bound", "beta"),
        ("sps_max", "sps_max_bound", "neighbourhood"),
        ("ngn", "ngn_bound", "neighbourhood"),
    ],
)
def test_mutant_bound_without_beta_term_is_caught(monkeypatch, method, function, term):
    """Mutant: the bound without its 2 beta sigma^2/(alpha - beta) part (SGD) or without the
    neighbourhood that carries beta (SPS_max, NGN). The trapped run exceeds it: the check fails."""
    monkeypatch.setattr(ab, function, _drop(term)(getattr(ab, function)))
    assert not _well_check(method).passed


def test_mutant_sign_flip_is_caught(monkeypatch):
    """Mutant: the noise term of the SGD bound with its sign flipped, on convex least squares
    (1, 0) from (20, -20): the bound drops below the measured noise floor and the check fails."""
    fs = _LS_FS
    assert check_sgd_bound(fs, 1.0, 0.0, [20.0, -20.0], 20000, 8).passed

    def flipped(**kw):
        b = sgd_bound(**kw)  # the original, imported before the patch
        t = b["terms"]
        return {"bound": t["distance"] - t["noise"] + t["beta"], "terms": t}

    monkeypatch.setattr(ab, "sgd_bound", flipped)
    assert not check_sgd_bound(fs, 1.0, 0.0, [20.0, -20.0], 20000, 8).passed


@pytest.mark.parametrize(
    ("alphas", "rises", "monotone"),
    [
        ([1.0, 2.5, 4.0, 1.5], True, None),  # the paper's shape: grow, then shrink
        ([1.0, 2.0, 3.0, 4.0], False, "increasing"),  # peak at the widest: no fall seen
        ([4.0, 3.0, 2.0, 1.0], False, "decreasing"),  # peak at the narrowest: no rise seen
        ([2.0, 2.0, 2.0], False, "constant"),
        ([1.0, None, 2.0], True, None),  # no pair on the grid counts as above its top
        ([3.0, 3.0, 1.0], False, "decreasing"),  # a plateau from the start is no rise
    ],
)
def test_width_trend(alphas, rises, monotone):
    """Hand-made sequences: "rises then falls" needs an interior peak above both ends."""
    from trainability.verify.targets.islamov import width_trend

    t = width_trend([8, 16, 32, 64][: len(alphas)], alphas)
    assert t["rises_then_falls"] is rises
    assert t["monotone"] == monotone


def test_cli_mlp_quick_widths_trend_and_bad_input(tmp_path, capsys):
    """islamov-mlp on three small widths (short runs): heatmap file, summary keys, the width
    trend and its comparison entries; bad --widths -> exit 2, one line."""
    out_dir = str(tmp_path)
    argv = ["reproduce", "islamov-mlp", "--quick", "--steps", "40", "--seeds", "1"]
    from trainability.verify.targets.islamov import width_trend

    code, out, err = _cli(capsys, *argv, "--widths", "8,32,128,512", "--json", "--out", out_dir)
    assert code == 0, err
    d = json.loads(out)
    assert [w["width"] for w in d["widths"]] == [8, 32, 128, 512]
    assert all(w["smallest_admissible"] is not None for w in d["widths"])
    assert d["protocol"]["steps"] == 40 and d["protocol"]["seeds"] == 1
    assert (tmp_path / "islamov-mlp" / "mlp_heatmaps.png").exists()
    assert d["halfspace"]["smallest_admissible"] is not None
    t = d["width_trend"]
    assert t["widths"] == [8, 32, 128, 512] and len(t["smallest_alpha"]) == 4
    # the paper's sizes (Fashion-MNIST 3-layer MLP, second layer 32..4096); lr/seeds unstated
    paper = d["paper_protocol"]
    assert paper["widths"] == [32, 128, 512, 1024, 2048, 4096] and paper["lr"] is None
    # the trend on the paper's widths among ours (32, 128, 512) is width_trend of those alone
    assert t["alpha_on_paper_widths"] == width_trend([32, 128, 512], t["smallest_alpha"][1:])
    c_alpha, c_beta, c_paper = d["comparison"]
    for c, key in (
        (c_alpha, "alpha"),
        (c_beta, "beta_at_alpha_2_trend"),
        (c_paper, "alpha_on_paper_widths"),
    ):
        assert c["paper"] == 1 and c["measured"] == int(t[key]["rises_then_falls"])
        assert c["agrees"] is t[key]["rises_then_falls"]
    code, out, err = _cli(capsys, *argv, "--widths", "a,b", "--json", "--out", out_dir)
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1
