"""The ``trainability connect`` subcommand and the ``freeman-*`` reproductions.

References: the linear row of the comparison table is recomputed with
:func:`trainability.numeric.linear_path` directly; the sweep's JSON keys are the issue's; the
trend (more beads at lower L0) is the source's finding.
"""

import json

import numpy as np
import pytest

from trainability.numeric import linear_path, load_model, make_task, save_model, train_model
from trainability.verify._cli import main

KEYS = {
    "target",
    "comparison",  # every reproduce summary
    "thresholds",
    "normalized_length",
    "normalized_length_sem",
    "beads",
    "beads_sem",
    "connected_fraction",
    "figure",
}
ROW = {
    "method",
    "max_loss",
    "barrier",
    "length",
    "normalized_length",
    "n_points",
    "seconds",
    "below_threshold",
}


def _run(capsys, argv):
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def poly_models(tmp_path_factory):
    folder = tmp_path_factory.mktemp("models")
    task = make_task("poly-quadratic", n_train=200, n_test=200)
    paths = [save_model(folder / f"m{k}.npz", task, train_model(task, k, 0.03)[0]) for k in (0, 1)]
    return task, paths


def test_connect_table_on_saved_models(capsys, poly_models, tmp_path):
    task, (pa, pb) = poly_models
    code, out, _ = _run(
        capsys,
        [
            "connect",
            pa,
            pb,
            "--threshold",
            "0.03",
            "--json",
            "--figure",
            str(tmp_path / "paths.png"),
            "--quiet",
        ],
    )
    assert code == 0
    result = json.loads(out)
    assert result["task"] == "poly-quadratic" and result["threshold"] == 0.03
    assert [r["method"] for r in result["table"]] == ["dss", "linear", "bezier", "neb"]
    for row in result["table"]:
        assert ROW <= set(row)
    dss = result["table"][0]
    assert dss["connected"] and dss["beads"] >= 3 and dss["max_loss"] <= 1.1 * 0.03
    from trainability.numeric import load_model

    a, b = load_model(pa)[1], load_model(pb)[1]
    assert result["table"][1]["max_loss"] == pytest.approx(
        linear_path(task.test_loss, a, b).max_loss, rel=1e-12
    )
    assert (tmp_path / "paths.png").stat().st_size > 0


def test_connect_single_method_and_bad_input(capsys, poly_models, tmp_path):
    _, (pa, pb) = poly_models
    code, out, _ = _run(
        capsys, ["connect", pa, pb, "--threshold", "0.5", "--method", "linear", "--json", "--quiet"]
    )
    assert code == 0 and [r["method"] for r in json.loads(out)["table"]] == ["linear"]
    for argv in (
        ["connect", pa, str(tmp_path / "none.npz"), "--threshold", "0.1"],
        ["connect", pa, pb, "--threshold", "-1"],
        ["connect", pa, pb, "--threshold", "0.1", "--method", "spline"],
    ):
        code, out, err = _run(capsys, argv + ["--json"])
        assert code == 2 and out == "" and err.startswith("trainability: error:")
        assert "Traceback" not in err


def test_reproduce_freeman_quadratic_quick(capsys, tmp_path):
    code, out, _ = _run(
        capsys, ["reproduce", "freeman-quadratic", "--quick", "--json", "--out", str(tmp_path)]
    )
    assert code == 0
    result = json.loads(out)
    assert set(result) == KEYS | {"comparison", "follows", "protocol", "bead_check"}
    assert result["follows"].endswith("QUADRATICS.py")
    # the paper's high-L0 values (normalized length near 1, 3 beads) beside ours at 0.125
    rows = {c["quantity"]: c for c in result["comparison"]}
    check = result["bead_check"]
    n = check["pairs"]
    assert n == 2 and check["threshold"] == 0.125 and check["acceptance_level"] == 1.1 * 0.125
    frac = f"fraction of pairs with 3 beads at L0 = 0.125 ({n} pairs, source max)"
    assert set(rows) == {
        "normalized length at L0 = 0.125",
        "beads at L0 = 0.125",
        f"beads at L0 = 0.125, {n} pairs, source max",
        f"beads at L0 = 0.125, {n} pairs, refined max",
        frac,
    }
    for c in rows.values():
        tol = 0.1 if c["quantity"].startswith("normalized") else 0.0
        assert c["agrees"] is (abs(c["measured"] - c["paper"]) <= tol + 2 * c["stderr"])
    # the source's count: the final string with both ends, so a pair has 3 beads exactly when
    # both segments around its first bead peak below 1.1 L0 (an independent depth-1 run)
    src = np.array(check["beads"]["source"])
    worst = np.array(check["first_round_worst"])
    assert src.min() >= 3
    np.testing.assert_array_equal(src == 3, worst <= check["acceptance_level"])
    assert rows[frac]["measured"] == np.mean(src == 3) and rows[frac]["paper"] == 1.0
    proto = result["protocol"]
    assert proto["thresholds"] == result["thresholds"] and proto["seeds"] == 1
    assert proto["sampler"]["tolerance"] == 1.1 and proto["saved_models"]["init_seeds"] == [0, 1]
    th = np.array(result["thresholds"])
    assert np.all(np.diff(th) < 0)
    assert np.all(np.array(result["connected_fraction"]) == 1.0)
    beads = np.array(result["beads"])
    assert beads[-1] > beads[0]  # the source's trend: lower L0, more beads
    assert result["normalized_length"][-1] >= result["normalized_length"][0] >= 1.0
    # the saved pair is the sweep's seed-0 pair at the smallest L0 (reused, not retrained)
    task = make_task("poly-quadratic")
    saved = load_model(tmp_path / "freeman-quadratic" / "model_a.npz")[1]
    np.testing.assert_array_equal(saved, train_model(task, 0, th[-1])[0])
    assert (tmp_path / "freeman-quadratic" / "dss_sweep.png").exists()


@pytest.mark.slow
@pytest.mark.parametrize("target", ["freeman-cubic", "freeman-digits"])
def test_reproduce_quick_cubic_and_digits_then_connect(capsys, tmp_path, target):
    code, out, _ = _run(capsys, ["reproduce", target, "--quick", "--json", "--out", str(tmp_path)])
    assert code == 0
    result = json.loads(out)
    assert KEYS | {"comparison"} <= set(result)
    assert result["beads"][-1] >= result["beads"][0]
    folder = tmp_path / target
    code, out, _ = _run(
        capsys,
        [
            "connect",
            str(folder / "model_a.npz"),
            str(folder / "model_b.npz"),
            "--threshold",
            str(result["thresholds"][-1]),
            "--json",
            "--quiet",
        ],
    )
    assert code == 0 and len(json.loads(out)["table"]) == 4


@pytest.mark.slow
def test_reproduce_freeman_permutation(capsys, tmp_path):
    code, out, _ = _run(
        capsys, ["reproduce", "freeman-permutation", "--json", "--out", str(tmp_path)]
    )
    result = json.loads(out)
    assert code == 0 and not result["connected"] and result["reason"]
    assert result["linear_max_loss"] > 10 * result["threshold"]


def test_connect_on_digits_models(capsys, tmp_path):
    """The comparison table on the digits MLP (DSS and the linear barrier, cheap settings)."""
    task = make_task("digits")
    paths = [save_model(tmp_path / f"d{k}.npz", task, train_model(task, k, 0.3)[0]) for k in (0, 1)]
    argv = ["connect", *paths, "--threshold", "0.3", "--method", "dss", "--method", "linear"]
    code, out, _ = _run(capsys, argv + ["--tolerance", "1.05", "--json", "--quiet"])
    assert code == 0
    result = json.loads(out)
    dss, line = result["table"]
    assert result["task"] == "digits" and dss["method"] == "dss" and line["method"] == "linear"
    assert dss["connected"] and dss["max_loss"] <= 1.05 * 0.3 and dss["tolerance"] == 1.05
    assert line["max_loss"] > dss["max_loss"]
