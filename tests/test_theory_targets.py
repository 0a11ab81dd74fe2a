"""The Liu theory reproductions run (quick variants) and report per-point values."""

import json

import pytest

from trainability.verify._cli import main

TARGETS = [
    "liu-fig2c",
    "liu-fig2d",
    "liu-fig3a",
    "liu-fig3b",
    "liu-fig4a",
    "liu-fig4b",
    "liu-fig4c",
    "liu-figS3",
    "liu-figS4",
    "liu-figS5",
    "liu-label-robustness",
]
PROTOCOL_KEYS = {"steps", "bound", "lr_min", "lr_max", "x0", "dtype", "levels", "fit_levels"}


@pytest.fixture(scope="module")
def out_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("runs")


@pytest.mark.parametrize("target", TARGETS)
def test_quick(target, out_dir, capsys):
    assert main(["reproduce", target, "--quick", "--out", str(out_dir), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["target"] == target
    assert (out_dir / target / "summary.json").exists()
    # Default engine "auto"; every summary names the engine that ran and its protocol.
    assert summary["backend"] in ("c-poly", "jax")
    assert set(summary["protocol"]) == PROTOCOL_KEYS
    if target != "liu-label-robustness":
        assert "predicted_critical_roughness" in summary
        for p in summary["points"]:
            assert {"roughness", "dimension", "dimension_stderr"} <= set(p)
    if target in ("liu-fig2c", "liu-fig3a", "liu-figS3", "liu-fig4b"):
        assert summary["predicted_critical_roughness"] == pytest.approx(0.0506605918211689)


@pytest.mark.slow
@pytest.mark.parametrize("target", TARGETS)
def test_full(target, tmp_path, capsys):
    """Full-size reproductions (minutes each; see verify/targets/liu_theory.py)."""
    assert main(["reproduce", target, "--out", str(tmp_path), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    if "verdict" in summary and target in ("liu-fig3a",):
        assert summary["verdict"]["passed"], summary["verdict"]["why"]
