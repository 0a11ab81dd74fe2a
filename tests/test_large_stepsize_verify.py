"""Checks, property tests and the cai-* targets (verify/_large_stepsize.py, targets/cai.py)."""

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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
