"""Checks, property tests and the cai-* targets (verify/_large_stepsize.py, targets/cai.py)."""

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from trainability.analytic import activation, stable_phase_threshold
from trainability.numeric import (
    five_point_data,
    initial_weights,
    phase_summary,
    two_layer_gd,
    xor_data,
)
from trainability.verify import (
    check_acceleration,
    check_risk_monotone,
    check_stable_rate,
    check_threshold,
    large_stepsize_experiment,
    separable_datasets,
)
from trainability.verify._cli import main

ACT = activation("leaky_softplus", c=0.5)
PHI, DPHI = ACT.kernels("jax")
CONST = ACT.constants()
N, D, M, STEPS = 16, 3, 4, 1500


def test_five_point_neuron_margins_negative_network_positive():
    """Reference file (Fig. 4): both neurons' margins stay negative, the network's turns
    positive; the risk is monotone after the detected start."""
    res = large_stepsize_experiment(five_point_data(), [3.0], 5000, width=2, init_scale=0.1)
    run = res.run
    assert np.all(run.neuron_margins[0] < 0)
    assert run.margin[0, 0] < 0 < run.margin[0, -1]
    assert check_risk_monotone(run.risk[0], res.phases[0].start).passed


def test_xor_two_phases_and_acceleration():
    """XOR: a large stepsize oscillates first, then is stable, and beats small stepsizes."""
    res = large_stepsize_experiment(xor_data(40, 0.1, 0), [10.0, 100.0, 3000.0], 2000, width=20)
    small, _, large = res.phases
    assert small.start == 0 and large.start is not None and large.start > 0
    assert large.oscillations > 0
    assert res.verdicts["acceleration"].passed
    assert res.verdicts[2][1].passed  # margin nearly monotone once fitted
    assert check_stable_rate(large, slowest=-0.6).passed  # short run: log factors still visible
    # the large run falls below its predicted threshold and stays monotone afterwards
    assert res.verdicts[2][3].passed and res.verdicts[2][3].measured["first_below"] > 0
    assert res.verdicts[1][2].passed  # eta = 100: risk ~ t^-1.03


def _two_phase_curve(tail):
    """Risk that oscillates for 20 steps, then follows ``tail(t - 20)`` (t - 20 >= 1)."""
    t = np.arange(4001)
    osc = 0.7 + 0.2 * (-1.0) ** t[:20]
    return np.concatenate([osc, 0.5 * tail(t[20:] - 19.0)])


def test_mutant_threshold_never_reached_fails():
    """Mutant input: a risk that never drops below the predicted threshold. The old check
    passed it ("never fell below"); now the claim counts as untested and the verdict fails."""
    risk = _two_phase_curve(lambda u: 1 + 0 * u)  # flat at 0.5
    v = check_threshold(risk, phase_summary(risk, 1.0), predicted=0.1)
    assert not v.passed and "not tested" in v.why
    # a curve that goes below the threshold and then rises again is caught as well
    bump = _two_phase_curve(lambda u: 1 / u)
    bump[3000:3010] *= 1.5
    v = check_threshold(bump, phase_summary(bump, 1.0), predicted=0.01)
    assert not v.passed and v.measured["first_below"] < 3000
    clean = _two_phase_curve(lambda u: 1 / u)
    assert check_threshold(clean, phase_summary(clean, 1.0), predicted=0.01).passed


def test_mutant_slow_rate_fails_even_with_small_constant():
    """Mutant input: a stable phase decaying like t^-0.24. The old check passed it through the
    rate-constant route; the exponent now decides. 1/t and log(t)/t pass."""
    slow = _two_phase_curve(lambda u: u**-0.24)
    ph = phase_summary(slow, 1.0)
    assert ph.rate_exponent == pytest.approx(-0.24, abs=0.01)
    v = check_stable_rate(ph, predicted_constant=1e9)
    assert not v.passed and v.measured["constant_within_factor"]
    for tail in (lambda u: 1 / u, lambda u: np.log(u + 1) / u):
        curve = _two_phase_curve(tail)
        assert check_stable_rate(phase_summary(curve, 1.0)).passed


def test_acceleration_verdict_needs_both_kinds():
    run = two_layer_gd(
        five_point_data().X, five_point_data().y, initial_weights(2, 3), [1.0], 20, PHI, DPHI
    )
    v = check_acceleration(run, [phase_summary(run.risk[0], 1.0)])
    assert not v.passed and "need both" in v.why


@settings(max_examples=12, deadline=None)
@given(
    data=separable_datasets(N, N, dims=(D,)),
    log_etas=st.lists(st.floats(0.0, 3.5), min_size=3, max_size=3),
    seed=st.integers(0, 1000),
)
def test_property_theory_on_random_separable_data(data, log_etas, seed):
    """Random separable data, random stepsizes in [1, 3000] (one compiled kernel: fixed
    shapes). Claims checked against the independent theory formulas:

    - the first phase ends (phi' >= c > 0 and separable): a stable phase is reached;
    - every step with risk below min(1/(eta(1+beta/m)), 1/(e^kappa n)) is in the stable phase;
    - the gradient potential never exceeds the risk.
    """
    etas = 10.0 ** np.asarray(log_etas)
    W0 = initial_weights(M, D, 1.0, seed)
    run = two_layer_gd(data.X, data.y, W0, etas, STEPS, PHI, DPHI, every=STEPS // 10)
    assert np.all(run.potential <= run.risk[:, :: STEPS // 10] + 1e-15)
    for k, eta in enumerate(etas):
        risk = run.risk[k]
        ph = phase_summary(risk, eta)
        assert ph.start is not None, f"no stable phase for eta={eta}"
        thr = stable_phase_threshold(eta, N, CONST.kappa.value, CONST.beta.value, M)
        below = np.flatnonzero(risk < thr)
        if below.size:
            assert below[0] >= ph.start


@settings(max_examples=10, deadline=None)
@given(data=separable_datasets(4, 12, dims=(2,)))
def test_property_separable_strategy(data):
    """The strategy's data are separable, inside the unit ball, with both labels."""
    assert data.separable and data.margin > 0
    assert np.all(np.linalg.norm(data.X, axis=1) <= 1 + 1e-12)
    assert set(np.unique(data.y)) == {-1.0, 1.0}


def test_cli_fig4_quick(tmp_path, capsys):
    """`trainability reproduce cai-fig4 --quick --json`: the issue's exact keys."""
    rc = main(["reproduce", "cai-fig4", "--quick", "--json", "--out", str(tmp_path)])
    assert rc == 0
    out = json.loads(capsys.readouterr().out)
    keys = {
        "target",
        "comparison",  # every reproduce summary
        "steps",
        "final_risk",
        "network_margin",
        "neuron_margins",
        "final_network_margin",
        "max_neuron_margin",
        "stable_phase_start",
        "risk_monotone_after_start",
        "figure",
    }
    assert set(out) == keys
    assert len(out["neuron_margins"]) == 2
    assert out["max_neuron_margin"] < 0 < out["final_network_margin"]
    assert out["risk_monotone_after_start"] is True
    assert (tmp_path / "cai-fig4" / "fig4.png").exists()


def test_cli_xor_quick(tmp_path, capsys):
    rc = main(
        [
            "reproduce",
            "cai-xor",
            "--quick",
            "--json",
            "--out",
            str(tmp_path),
            "--etas",
            "10,3000",
            "--steps",
            "1000",
        ]
    )
    assert rc == 0
    out = json.loads(capsys.readouterr().out)
    assert out["two_phases_seen"] and out["acceleration"]["passed"]
    assert math.isfinite(out["runs"][1]["final_risk"])
    assert (tmp_path / "cai-xor" / "three_panels.png").exists()


def test_cli_bad_input(tmp_path, capsys):
    rc = main(["reproduce", "cai-xor", "--quick", "--out", str(tmp_path), "--etas", "a,b"])
    assert rc == 2
    assert "etas" in capsys.readouterr().err


@pytest.mark.slow
def test_cli_digits_full(tmp_path, capsys):
    """Full digits run: two phases seen, margin rises, large stepsize faster."""
    assert main(["reproduce", "cai-digits", "--json", "--out", str(tmp_path)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["two_phases_seen"] and out["margin_rises"] and out["acceleration"]["passed"]


def test_cli_digits_quick(tmp_path, capsys):
    rc = main(
        [
            "reproduce",
            "cai-digits",
            "--quick",
            "--json",
            "--out",
            str(tmp_path),
            "--etas",
            "10,3000",
            "--steps",
            "1000",
            "--width",
            "8",
        ]
    )
    assert rc == 0
    out = json.loads(capsys.readouterr().out)
    assert out["n"] == 80 and out["separable"]
    assert out["runs"][1]["start"] is not None


def test_acceleration_exponent_near_minus_two():
    """eta = 0.05 T on the five points: L_T ~ T^p with p near the paper's -2 (log factors
    allowed), far below a fixed eta = 1 run over the same horizons."""
    from trainability.verify import acceleration_exponent

    v = acceleration_exponent(five_point_data(), [250, 500, 1000, 2000])
    p = v.measured["exponent"]
    assert v.passed and -2.5 <= p <= -1.5
    assert v.measured["reference_exponent"] > -1.0


def test_mutant_fixed_stepsize_fails_acceleration(monkeypatch):
    """Mutant implementation: the stepsize is not scaled with the horizon (eta = 12.5 for
    every T). The fitted exponent is then far above -1.5 and the verdict fails."""
    from trainability.verify import _large_stepsize as ls

    original = ls.two_layer_gd

    def fixed(X, y, W0, etas, *args, **kw):
        return original(X, y, W0, np.full(len(etas), 12.5), *args, **kw)

    monkeypatch.setattr(ls, "two_layer_gd", fixed)
    v = ls.acceleration_exponent(five_point_data(), [250, 500, 1000, 2000], reference_eta=None)
    assert not v.passed and v.measured["exponent"] > -1.5


def test_exponential_loss_against_hand_values_and_divergence():
    """Exponential loss: the recorded risk at step 0 is mean exp(-q) from a hand evaluation,
    the potential equals the risk, and eta = 30 diverges where the logistic loss survives."""
    data = five_point_data()
    W0 = initial_weights(2, 3, 0.1, 0)
    run = two_layer_gd(
        data.X, data.y, W0, [1.0, 30.0], 200, PHI, DPHI, every=10, loss="exponential"
    )
    phi = np.asarray(PHI(np.asarray(data.X) @ W0.T))
    q = data.y * (phi @ np.array([1.0, -1.0])) / 2
    assert run.risk[0, 0] == pytest.approx(np.mean(np.exp(-q)), rel=1e-12)
    assert run.potential[0, 0] == pytest.approx(run.risk[0, 0], rel=1e-12)
    assert np.all(np.isfinite(run.risk[0])) and not np.all(np.isfinite(run.risk[1]))
    logistic = two_layer_gd(data.X, data.y, W0, [30.0], 200, PHI, DPHI, every=10)
    assert np.all(np.isfinite(logistic.risk))
    with pytest.raises(ValueError):
        two_layer_gd(data.X, data.y, W0, [1.0], 10, PHI, DPHI, loss="hinge")


def test_cli_exponential_quick(tmp_path, capsys):
    code = main(["reproduce", "cai-exponential", "--quick", "--json", "--out", str(tmp_path)])
    out = json.loads(capsys.readouterr().out)
    assert code == 0 and out["logistic_never_diverges"]
    assert 30.0 in out["exponential_diverges_at"]
    rows = {(r["loss"], r["eta"]): r for r in out["rows"]}
    assert rows[("logistic", 30.0)]["stable_phase_start"] > 0  # oscillates first
    assert rows[("logistic", 30.0)]["risk_monotone_after_start"]
