"""cai-fig1: the 4-layer GELU MLP of Cai et al. Fig. 1 (numeric/_deep_mlp.py, targets/cai.py).

References: a plain NumPy loop over the layers with SciPy's exact GELU (erf) for the
forward pass and the normalized margin; central finite differences for the JAX gradient.
"""

import json

import numpy as np
import pytest

from trainability.analytic import activation
from trainability.numeric import mlp_forward_numpy, mlp_gd, mlp_initial_weights
from trainability.verify._cli import main
from trainability.verify.targets import cai

PHI, _ = activation("gelu").kernels("jax")


def _small_problem(seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((12, 5))
    y = np.where(X[:, 0] > 0, 1.0, -1.0)
    return X, y, mlp_initial_weights((5, 4, 4, 4, 1), seed)


def test_init_is_pytorch_default_range():
    ws = mlp_initial_weights((64, 16, 16, 16, 1), 3)
    assert [W.shape for W in ws] == [(16, 64), (16, 16), (16, 16), (1, 16)]
    for W in ws:
        bound = 1 / np.sqrt(W.shape[1])
        assert np.all(np.abs(W) <= bound) and np.abs(W).max() > 0.9 * bound


def test_one_gd_step_matches_finite_differences():
    """Risk after one step = risk at theta - eta * (central finite-difference gradient)."""
    X, y, ws = _small_problem()
    eta = 0.3

    def risk(weights):
        q = y * mlp_forward_numpy(weights, X, cai.gelu_reference)
        return float(np.mean(np.logaddexp(0.0, -q)))

    h, grads = 1e-6, []
    for k, W in enumerate(ws):
        G = np.zeros_like(W)
        for idx in np.ndindex(W.shape):
            plus = [w.copy() for w in ws]
            minus = [w.copy() for w in ws]
            plus[k][idx] += h
            minus[k][idx] -= h
            G[idx] = (risk(plus) - risk(minus)) / (2 * h)
        grads.append(G)
    run = mlp_gd(X, y, ws, [eta], 1, PHI, every=1)
    assert run.risk[0, 0] == pytest.approx(risk(ws), rel=1e-12)
    stepped = [W - eta * G for W, G in zip(ws, grads, strict=True)]
    for got, want in zip(run.final_weights, stepped, strict=True):
        np.testing.assert_allclose(got[0], want, rtol=0, atol=1e-8)
    assert run.risk[0, 1] == pytest.approx(risk(stepped), rel=1e-7)


def test_recorded_margin_is_normalized_by_norm_to_the_depth():
    X, y, ws = _small_problem(1)
    run = mlp_gd(X, y, ws, [0.5, 0.05], 20, PHI, every=10)
    v = cai.check_margin_reference(run, X, y)
    assert v.passed, v.why
    # the unnormalized margin is recorded beside it: ratio = ||theta||^4
    np.testing.assert_allclose(run.min_output_margin / run.margin, run.weight_norm**4, rtol=1e-12)


def _run_quick(out, capsys, *extra):
    rc = main(["reproduce", "cai-fig1", "--quick", "--json", "--out", str(out), *extra])
    assert rc == 0
    return json.loads(capsys.readouterr().out)


def test_cli_fig1_quick(tmp_path, capsys):
    """Quick run: two phases at eta 0.2, monotone at 0.005, margin rising and = reference."""
    out = _run_quick(tmp_path, capsys)
    assert out["oscillating_phase_seen"] is True
    assert out["risk_monotone_after_start"] is True
    assert out["small_stepsize_monotone"] is True
    assert out["phase_change_step"] == out["stable_phase_start"] > 0
    assert out["margin_rises"] is True
    assert all(v["passed"] for v in out["verdicts"]), out["verdicts"]
    assert [c["agrees"] for c in out["comparison"]] == [True, True, True]
    assert "CIFAR-10" in out["differences_from_source"]
    # what the source's Fig. 1 caption states (eta 0.2 vs 0.005, four GELU layers) is what ran;
    # what it leaves unstated (width, biases) is recorded as unknown, not invented
    src = out["source_protocol"]
    assert out["protocol"]["etas"] == src["etas"] == [0.2, 0.005]
    assert len(out["protocol"]["dims"]) - 1 == 4 and out["protocol"]["activation"] == "gelu"
    assert src["width"] is None and src["biases"] is None
    assert (tmp_path / "cai-fig1" / "fig1.png").exists()


def _reference_verdict(out):
    return next(v for v in out["verdicts"] if v["name"].startswith("normalized margin ="))


def test_mutant_non_gelu_activation_fails_reference(tmp_path, capsys, monkeypatch):
    """Mutant: training with SiLU instead of GELU flips the reference verdict."""
    monkeypatch.setattr(cai, "FIG1_ACTIVATION", "silu")
    assert _reference_verdict(_run_quick(tmp_path, capsys, "--steps", "60"))["passed"] is False


def test_mutant_unnormalized_margin_fails_reference(tmp_path, capsys, monkeypatch):
    """Mutant: recording min_i y_i f without dividing by ||theta||^4 flips the verdict."""
    from trainability.numeric import _deep_mlp

    real = _deep_mlp._risk_and_metrics

    def unnormalized(phi, ws, X, y):
        risk, (_, qmin, norm) = real(phi, ws, X, y)
        return risk, (qmin, qmin, norm)

    monkeypatch.setattr(_deep_mlp, "_risk_and_metrics", unnormalized)
    _deep_mlp._runner.cache_clear()
    try:
        assert _reference_verdict(_run_quick(tmp_path, capsys, "--steps", "60"))["passed"] is False
    finally:
        _deep_mlp._runner.cache_clear()
