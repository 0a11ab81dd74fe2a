"""``trainability check`` / ``check_perturbation``: derived critical roughness against the
measured onset of fractality, with passed / failed / inconclusive verdicts and exit codes."""

import json
import math

import pytest

from trainability.analytic import CriticalInvariant, family
from trainability.verify import check_perturbation, perturbation_verdict
from trainability.verify._cli import main

COSINE = "x**2 + eps*cos(2*pi*x/lam)"
CRITICAL = 1 / (2 * math.pi**2)  # reference file: theta_+ = eps/lam^2 <= 1/(2 pi^2)
# Level 13 (8193 learning rates per cell) already resolves the fractal side of the
# single-cosine loss from about 2x critical; 12 cells take about a second on c-poly.
FAST = {"levels": 13, "progress": False}


@pytest.fixture(scope="module")
def cosine_check(tmp_path_factory):
    out = tmp_path_factory.mktemp("check")
    return check_perturbation(COSINE, {"lam": 1.0}, out=out, **FAST), out


def test_json_keys_and_passed_verdict(cosine_check):
    summary, out = cosine_check
    assert {
        "expression",
        "condition",
        "critical_invariant",
        "points",
        "onset",
        "verdict",
        "backend",
        "protocol",
        "figure",
    } <= set(summary)
    assert summary["condition"] == "eps/lam**2 <= 1/(2*pi**2)"
    crit = summary["critical_invariant"]
    assert crit["invariant"] == "eps/lam**2" and crit["value"] == "1/(2*pi**2)"
    assert crit["numeric"] == pytest.approx(CRITICAL, rel=1e-15)
    assert summary["verdict"]["status"] == "passed", summary["verdict"]["why"]
    lo, hi = summary["onset"]["bracket"]
    assert lo < hi and hi >= CRITICAL and lo <= 2 * CRITICAL
    assert lo <= summary["onset"]["measured"] <= hi
    assert summary["backend"] in ("c-poly", "jax")
    assert summary["protocol"]["levels"] == 13 and summary["protocol"]["x0"] == [5.0]
    assert set(summary["protocol"]) == {
        "steps",
        "bound",
        "criterion",
        "lr_min",
        "lr_max",
        "x0",
        "dtype",
        "levels",
        "fit_levels",
    }
    assert (out / "dimension_vs_roughness.png").stat().st_size > 1000
    assert json.loads((out / "summary.json").read_text())["verdict"] == summary["verdict"]


def test_automatic_grid_spans_the_critical_value(cosine_check):
    """lam fixed, eps varied: eps/lam^2 log-spaced over [critical/4, 4 critical]."""
    summary, _ = cosine_check
    points = summary["points"]
    assert len(points) == 12 and all(p["lam"] == 1.0 for p in points)
    rough = [p["roughness"] for p in points]
    assert rough[0] == pytest.approx(CRITICAL / 4) and rough[-1] == pytest.approx(4 * CRITICAL)
    assert all(p["roughness"] == pytest.approx(p["eps"]) for p in points)
    for p in points:
        assert {"eps", "lam", "roughness", "dimension", "dimension_stderr", "resolved"} <= set(p)
    # Convex cells: one boundary, dimension 0; well above critical: resolved and fractal.
    assert all(p["dimension"] == 0 for p in points if p["roughness"] <= CRITICAL)
    assert all(p["resolved"] and p["dimension"] > 0.3 for p in points[-3:])


def test_automatic_grid_solves_for_lam(tmp_path):
    """eps fixed: the grid solves eps/lam^2 = target for lam (lam = sqrt(eps/target))."""
    s = check_perturbation(COSINE, {"eps": 0.05}, out=tmp_path, points=4, levels=6, steps=50)
    lams = [p["lam"] for p in s["points"]]
    assert s["grid"]["varied"] == {"lam": lams}
    rough = [0.05 / lam**2 for lam in lams]
    assert rough[0] == pytest.approx(CRITICAL / 4) and rough[-1] == pytest.approx(4 * CRITICAL)


def test_wrong_critical_value_fails(tmp_path, monkeypatch):
    """Mutant: a critical value 10x the true one must give "failed" (the grid around it is
    fractal on its "convex" side) and exit code 1."""
    import trainability.verify._check as check_module

    real = check_module.critical_invariant

    def wrong(land):
        crit = real(land)
        return CriticalInvariant(crit.invariant, 10 * crit.value, crit.convex_when)

    monkeypatch.setattr(check_module, "critical_invariant", wrong)
    s = check_perturbation(COSINE, {"lam": 1.0}, out=tmp_path, **FAST)
    assert s["verdict"]["status"] == "failed"
    assert "convex roughness" in s["verdict"]["why"]
    argv = ["check", COSINE, "--param", "lam=1", "--levels", "13", "--out", str(tmp_path)]
    assert main([*argv, "--json"]) == 1


def test_no_single_invariant_is_inconclusive_with_measurements(tmp_path):
    """Two independent amplitudes: no single critical invariant, the dimensions are still
    measured on the --vary grid and the verdict says why it cannot decide."""
    land = family("two-cosine", eps2=0.004)
    s = check_perturbation(
        land, vary={"eps1": (0.001, 0.008, 3)}, out=tmp_path, levels=8, steps=200, progress=False
    )
    assert s["critical_invariant"] is None
    assert s["verdict"]["status"] == "inconclusive"
    assert "no single critical invariant" in s["verdict"]["why"]
    assert [p["eps1"] for p in s["points"]] == pytest.approx([0.001, 0.002828427, 0.008])
    assert all(p["roughness"] is None and p["dimension"] >= 0 for p in s["points"])
    with pytest.raises(ValueError, match="--vary"):
        check_perturbation(land, out=tmp_path, progress=False)


def _pts(rows):
    """Points ``(roughness, dimension, resolved)``; resolved means B_N reaches 16 over more
    than 3 levels (the counts decide, as for measured points)."""
    counts = {True: [1, 2, 4, 8, 16, 32], False: [1, 1, 1, 3, 5, 5]}
    return [{"roughness": r, "dimension": d, "boundary_counts": counts[ok]} for r, d, ok in rows]


CLEAN = [(0.01, 0.0, False), (0.04, 0.0, False), (0.06, 0.0, False), (0.09, 0.8, True)]
CLEAN += [(0.15, 0.9, True), (0.2, 1.0, True)]


@pytest.mark.parametrize(
    ("rows", "critical", "status"),
    [
        (CLEAN, CRITICAL, "passed"),
        (CLEAN, 10 * CRITICAL, "failed"),  # fractal and resolved on the claimed convex side
        (CLEAN, CRITICAL / 10, "failed"),  # onset far beyond 2x the claimed value
        # Resolved, clearly non-convex and still dimension 0: against the prediction.
        ([*CLEAN[:4], (0.2, 0.0, True)], CRITICAL, "failed"),
        # Every point convex: no bracket, nothing contradicts: the grid cannot decide.
        (CLEAN[:3], CRITICAL, "inconclusive"),
        # Non-convex side all unresolved (a few boundaries): cannot decide.
        ([*CLEAN[:3], (0.15, 0.0, False), (0.2, 0.0, False)], CRITICAL, "inconclusive"),
        # One resolved fractal point only: fewer than 2 resolved non-convex points.
        ([*CLEAN[:4], (0.2, 0.0, False)], CRITICAL, "inconclusive"),
        # An unresolved convex point with a few boundaries (fit 0.4) is reported, not failed.
        ([*CLEAN[:2], (0.045, 0.4, False), *CLEAN[2:]], CRITICAL, "passed"),
        # Never convex (critical 0): every resolved point must be fractal.
        (CLEAN[3:], 0.0, "passed"),
        (CLEAN[2:], 0.0, "passed"),  # the unresolved flat point is reported, not counted
        (CLEAN[4:5], 0.0, "inconclusive"),  # one resolved point only
    ],
)
def test_verdict_mapping(rows, critical, status):
    got = perturbation_verdict(_pts(rows), critical)
    assert got["status"] == status, got["why"]


def test_verdict_mapping_never_convex_fails_on_a_resolved_flat_point():
    got = perturbation_verdict(_pts([(0.1, 0.0, True), (0.2, 0.9, True)]), 0.0)
    assert got["status"] == "failed"


@pytest.mark.parametrize(("critical", "convex_when"), [(None, "below"), (CRITICAL, "above")])
def test_verdict_mapping_without_a_usable_prediction(critical, convex_when):
    got = perturbation_verdict(_pts(CLEAN), critical, convex_when)
    assert got["status"] == "inconclusive" and got["why"]
    assert got["onset"] == {"bracket": None, "measured": None}


def test_cli_exit_0_and_one_json_object(capsys, tmp_path):
    argv = ["check", COSINE, "--param", "lam=1", "--levels", "13", "--out", str(tmp_path)]
    assert main([*argv, "--json"]) == 0
    out, err = capsys.readouterr()
    d = json.loads(out)
    assert d["verdict"]["status"] == "passed"
    assert "learning rates" in err  # progress goes to stderr


@pytest.mark.parametrize(
    "extra",
    [
        ["--vary", "eps=0:1:3"],  # log spacing needs LO > 0
        ["--vary", "eps=0.2:0.1:3"],  # LO < HI
        ["--vary", "eps=0.1:0.2:1"],  # N in 2..256
        ["--vary", "eps=0.1:0.2:x"],
        ["--vary", "mu=0.1:0.2:3"],  # not a hyperparameter
        ["--vary", "lam=0.5:2:3"],  # fixed by --param and varied
        ["--points", "1"],
        ["--x0", "abc"],
        ["--param", "eps=0.1"],  # every hyperparameter of the invariant fixed
        ["--levels", "0"],
    ],
)
def test_cli_bad_input_exit_2(capsys, tmp_path, extra):
    argv = ["check", COSINE, "--param", "lam=1", *extra, "--out", str(tmp_path), "--json"]
    assert main(argv) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.startswith("trainability: error:") and err.count("\n") == 1
    assert "Traceback" not in err


def test_cli_no_invariant_without_vary_exit_2(capsys, tmp_path):
    argv = ["check", "x**2 + eps1*cos(2*pi*x/0.3) + eps2*cos(2*pi*x/0.5)", "--out", str(tmp_path)]
    assert main(argv) == 2
    assert "--vary" in capsys.readouterr().err
