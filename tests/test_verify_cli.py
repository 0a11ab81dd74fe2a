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


@pytest.mark.skipif(shutil.which("gcc") is None, reason="needs a C compiler")
def test_sweep_json_names_the_c_kernel_layout(capsys):
    """A coordinate-separable loss in d >= 5 runs on the looped ("wide") C kernel, a 1-D one
    on the unrolled kernel; the record says which (no layout key for JAX)."""
    common = ["--levels", "4", "--steps", "50", "--json", "--quiet", "--backend"]
    six = ["sweep", "--family", "additive", "--dim", "6", "--param", "eps=0.2", "--param"]
    _, out, _ = run(capsys, *six, "lam=0.1", "--x0", "0.3", *common, "c-poly")
    assert json.loads(out)["kernel_layout"] == "wide"
    _, out, _ = run(capsys, "sweep", "--family", "quadratic", "--x0", "1", *common, "c-poly")
    assert json.loads(out)["kernel_layout"] == "unrolled"
    _, out, _ = run(capsys, "sweep", "--family", "quadratic", "--x0", "1", *common, "jax")
    assert "kernel_layout" not in json.loads(out)


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


# --- lazy parser: the target manifest and a fast --help --------------------------------------

_LIGHT_HELP = """
import sys
from trainability.verify._cli import main
try:
    main({argv!r})
except SystemExit:
    pass
heavy = [m for m in ("jax", "sympy", "matplotlib") if m in sys.modules]
heavy += [m for m in sys.modules if m.startswith("trainability.verify.targets.")]
print("HEAVY", heavy)
"""


@pytest.mark.parametrize("argv", [["--help"], ["reproduce", "--help"]])
def test_help_imports_neither_jax_nor_sympy_nor_a_target(argv):
    """``--help`` reads the manifest, not the target modules or the numeric layers."""
    import subprocess
    import sys
    import time

    t0 = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", _LIGHT_HELP.format(argv=argv)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    seconds = time.perf_counter() - t0
    assert proc.returncode == 0, proc.stderr
    assert "HEAVY []" in proc.stdout, proc.stdout.splitlines()[-1]
    assert "usage: trainability" in proc.stdout
    print(f"{' '.join(argv)}: {seconds:.2f} s")  # about 0.3 s on an idle machine


def test_every_manifest_entry_registers_exactly_its_target():
    """``targets.TARGETS`` is the one list: importing an entry's module registers that name,
    and the target modules register nothing that is not listed."""
    import importlib
    import pkgutil

    from trainability.verify import _registry, targets

    modules = {info.name for info in pkgutil.iter_modules(targets.__path__)}
    listed = {module for module, _ in targets.TARGETS.values()}
    assert listed <= modules
    for module in sorted(modules):
        importlib.import_module(f"{targets.__name__}.{module}")
    assert set(_registry._REGISTRY) == set(targets.TARGETS)
    for name, (module, _) in targets.TARGETS.items():
        registered = _registry._REGISTRY[name].run
        # the module itself or one it re-exports from (a private helper module)
        source = importlib.import_module(f"{targets.__name__}.{module}")
        assert registered.__module__ == source.__name__ or any(
            f is registered for f in vars(source).values()
        ), (name, module, registered.__module__)


def test_an_unlisted_target_cannot_register():
    from trainability.verify._registry import reproduction

    with pytest.raises(RuntimeError, match="not listed"):
        reproduction("no-such-target")(lambda args: {})


def test_reproduce_target_help_lists_its_own_options(capsys):
    with pytest.raises(SystemExit):
        main(["reproduce", "liu-fig2a", "--help"])
    out = capsys.readouterr().out
    assert "--levels" in out and "--backend" in out and "--quick" in out


def test_a_target_runs_from_python_with_keywords_as_on_the_command_line(capsys, tmp_path):
    """``Reproduction.run(out, quick, **options)``: the CLI's summary, without argparse."""
    from trainability.verify import reproductions
    from trainability.verify._cli import to_jsonable

    argv = ["reproduce", "liu-figS2", "--quick", "--levels", "8", "--backend", "jax"]
    code, out, _ = run(capsys, *argv, "--out", str(tmp_path / "cli"), "--json")
    assert code == 0
    cli = json.loads(out)
    target = reproductions()["liu-figS2"]
    summary = target.run(tmp_path / "py" / "liu-figS2", quick=True, levels=8, backend="jax")
    py = to_jsonable(summary)
    assert py.pop("figure").endswith("py/liu-figS2/boundary_counts.png")
    assert cli.pop("figure").endswith("cli/liu-figS2/boundary_counts.png")
    assert py == cli and py["levels"] == 8 and py["backend"] == "jax"


@pytest.mark.parametrize(
    "options, error",
    [
        ({"level": 8}, TypeError),  # not an option of liu-figS2
        ({"levels": 0}, ValueError),  # outside 1..30, as --levels 0 is
        ({"levels": 2.5}, ValueError),
        ({"backend": "cuda"}, ValueError),  # not one of BACKENDS
    ],
)
def test_a_target_checks_python_keywords_as_the_command_line_does(tmp_path, options, error):
    from trainability.verify import reproductions

    with pytest.raises(error, match="^liu-figS2: "):  # the registry's check, before any work
        reproductions()["liu-figS2"].run(tmp_path, quick=True, **options)
    assert not any(tmp_path.iterdir())


def _documented_commands(text: str) -> list[list[str]]:
    """The ``$ trainability ...`` lines of a console block, continuations joined, optional
    ``[...]`` parts kept (so that they are checked too)."""
    import re
    import shlex

    joined = re.sub(r"\\\n\s*", " ", text)
    lines = [line.strip()[2:] for line in joined.splitlines() if line.strip().startswith("$ ")]
    return [shlex.split(re.sub(r"\[([^\]]*)\]", r"\1", line))[1:] for line in lines]


def test_every_command_in_usage_rst_parses(tmp_path, monkeypatch):
    from pathlib import Path

    from trainability.verify._cli import build_parser

    usage = Path(__file__).parents[1] / "docs" / "usage.rst"
    commands = _documented_commands(usage.read_text())
    assert len(commands) >= 7 and {c[0] for c in commands} >= {"sweep", "connect", "reproduce"}
    monkeypatch.chdir(tmp_path)  # --out store/ is checked against the working folder
    for argv in commands:
        build_parser(argv).parse_args(argv)  # UsageError (one line, exit 2) if not


def test_documented_commands_extracts_what_would_fail():
    """``connect --method dss linear`` (the old usage.rst line) is found and fails to parse."""
    from trainability.verify._cli import UsageError, build_parser

    (argv,) = _documented_commands(
        "   $ trainability connect a.npz b.npz --threshold 1 \\\n        --method dss linear\n"
    )
    assert argv[-2:] == ["dss", "linear"]
    with pytest.raises(UsageError):
        build_parser(argv).parse_args(argv)


def test_backend_choices_are_backends():
    from trainability.verify._cli import build_parser
    from trainability.verify._sweeps import BACKENDS

    def walk(parser):
        for action in parser._actions:
            if "--backend" in action.option_strings:
                yield action
            for sub in getattr(action, "choices", None) or {}:
                if isinstance(action.choices, dict):
                    yield from walk(action.choices[sub])

    found = list(walk(build_parser()))
    assert len(found) >= 10  # sweep, grid, check and the Liu targets
    assert all(tuple(a.choices) == BACKENDS for a in found)


def test_quick_defaults_are_filled_in_by_the_registry(tmp_path):
    """One place for the ``--quick`` plumbing: an omitted ``levels`` is the target's quick
    default with ``quick=True`` (liu-figS2: 16; 20 without), as ``--help`` states."""
    from trainability.verify import reproductions

    target = reproductions()["liu-figS2"]
    levels = target.options()["levels"]
    assert levels.default is None and levels.quick_default == (20, 16)
    assert "(default 20, 16 with --quick)" in levels.help
    assert target.run(tmp_path, quick=True)["levels"] == 16


def test_quick_default_option_rejects_defaults_outside_its_range():
    import argparse

    from trainability.verify._options import quick_default_option

    with pytest.raises(ValueError, match="not an integer in 1..10"):
        quick_default_option(
            argparse.ArgumentParser(), "--grid", lo=1, hi=10, full=20, quick=2, help="cells"
        )
