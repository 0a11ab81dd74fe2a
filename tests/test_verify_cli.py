"""The command-line contract: one JSON object on stdout, exit 2 with one line on bad input."""

import json
import shutil

import pytest

from trainability.verify._cli import main


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_derive_json(capsys):
    code, out, _ = run(capsys, "derive", "x**2 + eps*cos(2*pi*x/lam)", "--json")
    assert code == 0
    d = json.loads(out)
    assert {"expression", "variables", "parameters", "gradient", "hessian"} <= set(d)
    assert d["variables"] == ["x"] and d["parameters"] == ["eps", "lam"]
    assert d["gradient"] == ["-2*pi*eps*sin(2*pi*x/lam)/lam + 2*x"]
    assert d["hessian"] == [["-4*pi**2*eps*cos(2*pi*x/lam)/lam**2 + 2"]]


def test_sweep_json(capsys):
    code, out, _ = run(
        capsys,
        "sweep",
        "--family",
        "quadratic",
        "--x0",
        "1",
        "--levels",
        "6",
        "--steps",
        "100",
        "--json",
        "--quiet",
    )
    assert code == 0
    d = json.loads(out)
    keys = {
        "boundary_counts",
        "dimension",
        "dimension_stderr",
        "fit_levels",
        "divergent_fraction",
        "n_points",
        "seconds",
    }
    assert keys <= set(d)
    assert d["boundary_counts"] == [1] * 7 and d["n_points"] == 65 and d["dimension"] == 0.0
    # The default engine is "auto": the compiled polynomial kernel when gcc works.
    assert d["backend"] == ("c-poly" if shutil.which("gcc") else "jax")
    assert d["protocol"] == {
        "steps": 100,
        "bound": 1e8,
        "criterion": "max",
        "lr_min": 0.0,
        "lr_max": 1.5,
        "x0": [1.0],
        "dtype": "float64",
        "levels": 6,
        "fit_levels": [],
    }


def test_sweep_json_names_the_backend_used(capsys):
    argv = ["sweep", "--family", "quadratic", "--x0", "1", "--levels", "4", "--steps", "50"]
    for backend in ("jax", "jax-poly"):
        _, out, _ = run(capsys, *argv, "--backend", backend, "--json", "--quiet")
        assert json.loads(out)["backend"] == backend


def test_sweep_expression_matches_family(capsys):
    args = ["--x0", "1", "--levels", "8", "--steps", "300", "--json", "--quiet"]
    _, a, _ = run(
        capsys, "sweep", "--family", "additive", "--param", "eps=0.2", "--param", "lam=0.1", *args
    )
    _, b, _ = run(
        capsys,
        "sweep",
        "--expr",
        "x**2 + eps*cos(2*pi*x/lam)",
        "--param",
        "eps=0.2",
        "--param",
        "lam=0.1",
        *args,
    )
    assert json.loads(a)["boundary_counts"] == json.loads(b)["boundary_counts"]


BAD = [
    ["sweep", "--family", "nope", "--x0", "1"],
    ["sweep", "--family", "additive", "--param", "eps=0.2", "--x0", "1"],
    ["sweep", "--family", "additive", "--param", "eps=0.2", "--param", "lam=-1", "--x0", "1"],
    ["sweep", "--family", "additive", "--param", "eps=0.2", "--param", "lam=0", "--x0", "1"],
    ["sweep", "--family", "quadratic", "--x0", "1", "--levels", "0"],
    ["sweep", "--family", "quadratic", "--x0", "1", "--levels", "60"],
    ["sweep", "--family", "quadratic", "--x0", "1", "--lr-min", "1", "--lr-max", "0.5"],
    ["sweep", "--family", "quadratic", "--x0", "abc"],
    ["sweep", "--family", "quadratic", "--x0", "1,2"],
    ["sweep", "--family", "quadratic", "--x0", "1", "--param", "eps"],
    ["sweep", "--expr", "x**2 +", "--x0", "1"],
    ["sweep", "--x0", "1"],
    ["derive", "__import__('os').system('true')"],
    ["derive", "x.__class__"],
    ["derive", "foo(x)"],
    ["derive", "x" * 3000],
    ["reproduce", "no-such-target"],
    ["grid", "--family", "additive", "--vary", "mu=0:1:3", "--x0", "5", "--out", "unused"],
    ["grid", "--family", "additive", "--vary", "eps=0:1", "--x0", "5", "--out", "unused"],
    [
        "grid",
        "--family",
        "additive",
        "--vary",
        "eps=0:1:3",
        "--vary",
        "lam=-1:1:3",
        "--x0",
        "5",
        "--out",
        "unused",
    ],
    ["grid", "--family", "additive", "--vary", "eps=0:1:3", "--x0", "5"],
    ["frobnicate"],
    [],
]


@pytest.mark.parametrize("argv", BAD, ids=lambda a: " ".join(a)[:40] or "empty")
def test_bad_input_exit_2_one_line(capsys, argv):
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("trainability: error:")
    assert "Traceback" not in err


def test_grid_matches_direct_sweeps_and_reuses_store(capsys, tmp_path):
    """Each grid cell (run on a local Dask cluster) equals a direct sweep of that cell; a
    second run finds every chunk in the store and recomputes nothing."""
    from trainability.analytic import family
    from trainability.verify import sweep_landscape

    argv = [
        "grid",
        "--family",
        "additive",
        "--vary",
        "eps=0.05:0.2:2",
        "--param",
        "lam=1",
        "--x0",
        "5",
        "--levels",
        "9",
        "--steps",
        "300",
        "--backend",
        "jax",
        "--out",
        str(tmp_path),
        "--json",
    ]
    code, out, _ = run(capsys, *argv)
    assert code == 0
    first = json.loads(out)
    assert first["n_cells"] == 2
    assert first["backend"] == "jax" and first["protocol"]["x0"] == [5.0]
    assert first["protocol"]["fit_levels"] == [p["fit_levels"] for p in first["points"]]
    for point in first["points"]:
        direct = sweep_landscape(
            family("additive", eps=point["eps"], lam=1.0), 5.0, levels=9, steps=300, backend="jax"
        )
        assert point["boundary_counts"] == direct.boundary_counts.tolist()
    _, out, _ = run(capsys, *argv)
    again = json.loads(out)["points"]
    assert all(p["chunks_computed"] == 0 and p["chunks_reused"] >= 1 for p in again)
