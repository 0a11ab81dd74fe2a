"""Hostile input (issue 12): each class of failure has one test here.

Every test fails on the code before the fix: the commit that added it says how it was seen.
"""

import argparse
import json
import shutil

import numpy as np
import pytest

from trainability.verify._cli import UsageError, build_parser, main
from trainability.verify._options import Range


def _actions(parser, prefix=()):
    """(command path, action) of every option of every (nested) subparser."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _actions(sub, (*prefix, name))
        else:
            yield prefix, action


# --- class: numeric option ranges ------------------------------------------------------------


def test_every_numeric_option_has_a_stated_range():
    """No bare int/float option: each one is a Range and its --help states the range."""
    seen = 0
    for path, action in _actions(build_parser()):
        where = f"{' '.join(path)} {action.option_strings}"
        assert action.type not in (int, float), f"{where} has no range"
        if isinstance(action.type, Range):
            seen += 1
            assert str(action.type) in (action.help or ""), f"{where}: range not in --help"
    assert seen > 40  # every subcommand and target was walked


BAD_VALUES = [
    ["sweep", "--family", "quadratic", "--x0", "1", "--dim", "0"],
    ["sweep", "--family", "quadratic", "--x0", "1", "--levels", "0"],
    ["sweep", "--family", "quadratic", "--x0", "1", "--steps", "0"],
    ["sweep", "--family", "quadratic", "--x0", "1", "--bound", "inf"],
    ["sweep", "--family", "quadratic", "--x0", "1", "--bound", "0"],
    ["sweep", "--family", "quadratic", "--x0", "1", "--lr-max", "nan"],
    ["sweep", "--family", "quadratic", "--x0", "1", "--lr-min", "-inf"],
    ["grid", "--family", "additive", "--vary", "eps=0:1:2", "--x0", "1", "--out", "o",
     "--workers", "0"],
    ["check", "x**2", "--points", "0"],
    ["check", "x**2", "--bound", "inf"],
    ["derive", "x**2", "--timeout", "0"],
    ["derive", "x**2", "--dim", "0"],
    ["reproduce", "liu-fig2b", "--levels", "0"],
    ["reproduce", "liu-fig2c", "--grid", "0"],
    ["reproduce", "cai-xor", "--steps", "0"],
    ["reproduce", "sohl-dickstein", "--resolution", "0"],
    ["reproduce", "sohl-dickstein", "--zoom-factor", "0"],
    ["reproduce", "freeman-cubic", "--seeds", "0"],
    ["connect", "a.npz", "b.npz", "--threshold", "inf"],
]  # fmt: skip


@pytest.mark.parametrize("argv", BAD_VALUES, ids=lambda a: " ".join(a[:1] + a[-2:]))
def test_out_of_range_values_are_rejected_while_parsing(argv):
    # Parsing alone must reject them: nothing is run, so 0 never silently means "default".
    with pytest.raises(UsageError):
        build_parser().parse_args(argv)


def test_repeated_param_and_out_of_range_exit_2_with_one_line(capsys):
    for argv in (
        ["sweep", "--expr", "a*x**2", "--param", "a=1", "--param", "a=2", "--x0", "1"],
        ["sweep", "--family", "quadratic", "--x0", "1", "--levels", "0", "--json"],
    ):
        assert main(argv) == 2
        out, err = capsys.readouterr()
        assert out == "" and len(err.strip().splitlines()) == 1 and "Traceback" not in err


# --- class: non-finite losses are divergent whatever the bound -------------------------------


def _quadratic_labels(backend, bound):
    from trainability.analytic import family, jax_kernels
    from trainability.numeric import label_chunk
    from trainability.verify import c_sweep_kernel

    land = family("quadratic")
    lrs = np.array([0.5, 1.5])  # s = 1.5: |x| doubles each step, the loss overflows to inf
    if backend == "jax":
        lg, kernel = jax_kernels(land).loss_and_grad, "jax"
    else:
        lg, kernel = None, c_sweep_kernel(land, backend)
    labels, _ = label_chunk(lg, [1.0], [], lrs, steps=1000, bound=bound, backend=kernel)
    return labels.tolist()


@pytest.mark.parametrize("backend", ["jax", "poly", "libm"])
@pytest.mark.parametrize("bound", [np.inf, np.finfo(np.float64).max])
def test_non_finite_loss_is_divergent_whatever_the_bound(backend, bound):
    if backend != "jax" and shutil.which("gcc") is None:
        pytest.skip("no C compiler")
    assert _quadratic_labels(backend, bound) == [True, False]


def test_sweep_rejects_an_infinite_bound():
    from trainability.numeric import validate_sweep_arguments

    with pytest.raises(ValueError, match="finite"):
        validate_sweep_arguments(4, 0.0, 1.5, 10, np.inf, "float64")


# --- class: special SymPy names in expressions; no text is ever evaluated ---------------------


@pytest.mark.parametrize("text", ["nan", "oo", "zoo", "I", "x**2 + I*x", "x**2 + oo*eps", "inf"])
def test_special_sympy_names_are_rejected(text):
    from trainability.analytic import ExpressionError, parse_expression

    with pytest.raises(ExpressionError, match="not allowed: SymPy reads it as"):
        parse_expression(text)


def test_derive_with_special_name_exits_2(capsys):
    assert main(["derive", "x**2 + nan*x", "--json"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and len(err.strip().splitlines()) == 1 and "nan" in err


def test_text_is_never_evaluated():
    # The documented attack: sympify would run the call inside the string.
    from trainability.analytic import ExpressionError
    from trainability.analytic._large_stepsize import stable_phase_threshold

    with pytest.raises(ExpressionError):
        stable_phase_threshold("__import__('os').getpid() and 2", 10)
    assert stable_phase_threshold("2", 10) == pytest.approx(0.1)


_EVALUATORS = {"sympify", "_sympify", "parse_expr", "eval", "exec", "__import__", "compile"}


def test_no_evaluator_outside_the_whitelist_parser():
    """Walk the package's AST: no reference to sympify/parse_expr/eval/exec (or S(...))."""
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    found = []
    for folder in ("analytic", "numeric", "verify"):
        for path in sorted((root / folder).rglob("*.py")):
            if path.name == "_parse.py" and folder == "analytic":
                continue  # the whitelist parser itself
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                name = None
                if isinstance(node, ast.Name):
                    name = node.id
                elif isinstance(node, ast.Attribute) and node.attr != "compile":
                    name = node.attr  # re.compile and friends compile patterns, not code
                elif isinstance(node, ast.alias):
                    name = node.name.rsplit(".", 1)[-1]
                if name in _EVALUATORS:
                    found.append(f"{path.relative_to(root)}:{node.lineno}: {name}")
                if (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Attribute | ast.Name)
                    and getattr(node.func, "attr", getattr(node.func, "id", None)) == "S"
                ):
                    found.append(f"{path.relative_to(root)}:{node.lineno}: S(...) sympifies")
    assert not found, "\n".join(found)


# --- class: bad paths and unreachable places are one line, never a traceback -----------------


def _one_line_exit_2(capsys, argv):
    code = main([*argv, "--json"])
    out, err = capsys.readouterr()
    assert code == 2, err
    assert out == "" and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    return err


SWEEP = ["sweep", "--family", "quadratic", "--x0", "1", "--levels", "4", "--steps", "20", "--quiet"]


@pytest.mark.parametrize("kind", ["file", "below-file"])
@pytest.mark.parametrize(
    "command",
    [SWEEP, ["reproduce", "liu-figS2", "--quick"], ["check", "x**2", "--param", "a=1"]],
    ids=["sweep", "reproduce", "check"],
)
def test_out_that_is_a_file_or_under_a_file(tmp_path, capsys, command, kind):
    target = tmp_path / "taken"
    target.write_text("not a folder")
    out = target if kind == "file" else target / "sub"
    err = _one_line_exit_2(capsys, [*command, "--out", str(out)])
    assert "not a folder" in err


def test_store_chunk_that_is_a_directory(tmp_path, capsys):
    argv = [*SWEEP, "--backend", "jax", "--out", str(tmp_path)]
    assert main(argv) == 0
    capsys.readouterr()
    (chunk,) = tmp_path.glob("*/chunk-000000.bin")
    chunk.unlink()
    chunk.mkdir()
    err = _one_line_exit_2(capsys, [*argv, "--resume"])
    assert "chunk-000000.bin" in err


def test_unreachable_scheduler(tmp_path, capsys, monkeypatch):
    import trainability.numeric._scale as scale

    monkeypatch.setattr(scale, "CONNECT_TIMEOUT", 1, raising=False)
    argv = ["grid", "--family", "additive", "--vary", "eps=0.1:0.2:2", "--x0", "1"]
    argv += ["--param", "lam=1"]
    argv += ["--levels", "3", "--steps", "10", "--out", str(tmp_path)]
    err = _one_line_exit_2(capsys, [*argv, "--scheduler", "tcp://127.0.0.1:1"])
    assert "scheduler" in err


# --- class: the compiled-kernel cache is verified, keyed by compiler and CPU, private ---------

needs_gcc = pytest.mark.skipif(shutil.which("gcc") is None, reason="no C compiler")

_LOAD = (
    "from trainability.analytic import family; from trainability.verify import c_sweep_kernel;"
    "k = c_sweep_kernel(family('quadratic'));"
    "print(k([0.5, 1.5], [1.0], [], 100, 1e8)[0].tolist())"
)


def _load_in_fresh_process(cache, **env):
    import os
    import subprocess
    import sys

    env = {**os.environ, "TRAINABILITY_CACHE": str(cache), **env}
    return subprocess.run(
        [sys.executable, "-c", _LOAD], env=env, capture_output=True, text=True, timeout=300
    )


@needs_gcc
@pytest.mark.parametrize("damage", ["empty", "truncated"])
def test_damaged_cached_kernel_is_recompiled(tmp_path, damage):
    # A fresh process each time: dlopen of a truncated file kills the process (SIGBUS).
    first = _load_in_fresh_process(tmp_path)
    assert first.returncode == 0 and first.stdout.strip() == "[True, False]", first.stderr
    (so,) = tmp_path.glob("ckernels/*.so")
    size = so.stat().st_size
    so.write_bytes(b"" if damage == "empty" else so.read_bytes()[: size // 3])
    again = _load_in_fresh_process(tmp_path)
    assert again.returncode == 0, again.stderr[-500:]
    assert again.stdout.strip() == "[True, False]"
    assert so.stat().st_size == size  # recompiled in place


@needs_gcc
def test_cached_kernel_is_used_without_a_compiler(tmp_path):
    assert _load_in_fresh_process(tmp_path).returncode == 0
    run = _load_in_fresh_process(tmp_path, CC="/nonexistent/cc")
    assert run.returncode == 0 and run.stdout.strip() == "[True, False]", run.stderr[-500:]


@needs_gcc
def test_cache_key_has_compiler_and_target(tmp_path, monkeypatch):
    from trainability.analytic import c_sweep_source, family
    from trainability.numeric import _compiled as cf

    monkeypatch.setenv("TRAINABILITY_CACHE", str(tmp_path))
    source = c_sweep_source(family("quadratic"), "poly")
    first, _ = cf._compile(source)
    real = cf._run_quiet
    for fake in ("--version", "--help=target"):  # another compiler, or another host's CPU
        monkeypatch.setattr(cf, "_run_quiet", lambda a, f=fake: ("x" if f in a else "") + real(a))
        cf._compiler_id.cache_clear()
        other, _ = cf._compile(source)
        assert other != first
    cf._compiler_id.cache_clear()
    monkeypatch.undo()
    # A kernel whose recorded CPU is not this one is never loaded.
    meta = cf._sidecar(first)
    meta.write_text(meta.read_text().replace(cf._cpu_id(), "another-cpu"))
    assert not cf._verified(first)


def test_tmp_fallback_is_per_user_and_private(tmp_path, monkeypatch):
    import os
    import stat
    import tempfile

    from trainability.numeric import _compiled as cf

    blocker = tmp_path / "file"
    blocker.write_text("")
    monkeypatch.setenv("TRAINABILITY_CACHE", str(blocker / "cache"))  # cannot be created
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    folder = cf._cache_dir()
    assert folder.parent == tmp_path and str(os.getuid()) in folder.name
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700


@needs_gcc
def test_load_failure_and_failing_compiler_are_compile_errors(tmp_path, monkeypatch):
    import ctypes

    from trainability.analytic import c_sweep_source, family
    from trainability.numeric import CompileError, CSweepKernel
    from trainability.verify import sweep_landscape

    monkeypatch.setenv("TRAINABILITY_CACHE", str(tmp_path))
    source = c_sweep_source(family("quadratic"), "libm")

    def missing_libgomp(*args, **kwargs):
        raise OSError("libgomp.so.1: cannot open shared object file")

    with monkeypatch.context() as m:
        m.setattr(ctypes, "CDLL", missing_libgomp)
        with pytest.raises(CompileError, match="libgomp"):
            CSweepKernel(source, "c-libm", 1, 0)
        r = sweep_landscape(family("quadratic", dim=2), 1.0, backend="auto", levels=3, steps=20)
        assert r.backend == "jax"
    monkeypatch.setenv("CC", "false")
    with pytest.raises(CompileError) as info:
        CSweepKernel(source, "c-libm", 1, 0)
    assert "[" not in str(info.value) and "status 1" in str(info.value)


# --- class: processes sharing a store split the work and never corrupt it --------------------

_SHARED_RUN = """
import json, os, sys, time
from pathlib import Path
from trainability.analytic import family, jax_kernels
from trainability.numeric import stored_lr_sweep
store, me = Path(sys.argv[1]), sys.argv[2]
lg = jax_kernels(family("additive", eps=0.2, lam=0.1)).loss_and_grad
kw = dict(levels=11, steps=1500, bound=1e8, chunk_size=128)
stored_lr_sweep(lg, [1.0], [0.2, 0.1], out=store / "warm", identity={"w": 1}, **kw)  # compile
(store / f"ready-{me}").touch()
while len(list(store.glob("ready-*"))) < 2:  # start together: the runs must overlap
    time.sleep(0.01)
r = stored_lr_sweep(lg, [1.0], [0.2, 0.1], out=store / "s", identity={"t": 1}, resume=True, **kw)
print(json.dumps({"computed": r.chunks_computed, "reused": r.chunks_reused,
                  "counts": r.boundary_counts.tolist()}))
"""


def test_two_processes_share_one_store(tmp_path):
    import json
    import subprocess
    import sys

    script = tmp_path / "run.py"
    script.write_text(_SHARED_RUN)
    procs = [
        subprocess.Popen(
            [sys.executable, str(script), str(tmp_path), name], stdout=subprocess.PIPE, text=True
        )
        for name in "ab"
    ]
    results = [json.loads(p.communicate(timeout=600)[0]) for p in procs]
    assert all(p.returncode == 0 for p in procs)
    n_chunks = -(-(2**11 + 1) // 128)
    # Every chunk computed exactly once, by one of the two; both see the same whole sweep.
    assert sum(r["computed"] for r in results) == n_chunks
    assert all(r["computed"] + r["reused"] == n_chunks for r in results)
    assert results[0]["counts"] == results[1]["counts"]
    assert min(r["computed"] for r in results) > 0  # the work was actually shared
    assert not list((tmp_path / "s").rglob("*.lock")) and not list(tmp_path.rglob("*.tmp"))


def test_stale_lock_of_a_dead_process_is_broken(tmp_path):
    import json
    import subprocess
    import sys

    from trainability.numeric import SweepStore

    store = SweepStore(tmp_path)
    (tmp_path / "k").mkdir()
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True).stdout.strip()  # fmt: skip
    import socket

    info = {"pid": int(dead), "host": socket.gethostname(), "time": 0}
    store.lock_path("k", 0).write_text(json.dumps(info))
    assert store.claim("k", 0)  # the owner is dead: broken and claimed
    assert not store.claim("k", 0)  # now held by this (live) process
    store.release("k", 0)
    assert store.claim("k", 0)


# --- class: importing the package changes nothing global it can avoid; messages say what to do


def test_import_keeps_the_matplotlib_backend():
    import os
    import subprocess
    import sys

    code = (
        "import matplotlib; import trainability.verify, trainability.verify._figures;"
        "print(matplotlib.get_backend())"
    )
    env = {**os.environ, "MPLBACKEND": "svg"}
    run = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert run.stdout.strip() == "svg", run.stderr[-500:]


def test_poor_messages(tmp_path, capsys):
    fake = tmp_path / "model.npz"
    fake.write_text("just text")
    err = _one_line_exit_2(capsys, ["connect", str(fake), str(fake), "--threshold", "1"])
    assert "allow_pickle" not in err and "not an .npz archive" in err
    err = _one_line_exit_2(capsys, ["derive", "-x**2"])
    assert "'--'" in err  # says how to pass an expression that starts with '-'
    assert main(["derive", "--json", "--", "-x**2"]) == 0


# --- the fuzzer: random argument vectors through the subcommands, in-process -----------------


def test_fuzzer_finding_x1_alone_is_the_one_variable(capsys):
    assert main(["derive", "exp(x1)", "--json"]) == 0  # was a KeyError traceback


@pytest.mark.parametrize("damage", ["empty", "truncated", "directory"])
def test_fuzzer_finding_damaged_model_file_is_one_line(tmp_path, capsys, damage):
    """connect on an empty or truncated .npz was an EOFError / BadZipFile traceback."""
    from trainability.numeric import make_task, save_model

    task = make_task("poly-quadratic", n_train=20, n_test=20)
    good = save_model(tmp_path / "good.npz", task, task.init(0))
    bad = tmp_path / "bad.npz"
    if damage == "directory":
        bad.mkdir()
    else:
        data = (tmp_path / "good.npz").read_bytes()
        bad.write_bytes(b"" if damage == "empty" else data[: len(data) // 2])
    err = _one_line_exit_2(capsys, ["connect", str(bad), good, "--threshold", "1"])
    assert ("folder" if damage == "directory" else "not an .npz archive") in err


def test_fuzzer_finding_one_hyperparameter_scaling_invariant(capsys):
    """testgen 'lam*x**2' was a TypeError from sympy.ilcm on a one-element basis vector.

    Reference: the GD map x -> (1 - 2 s lam) x is linear, so x -> b x is a symmetry for every
    b with lam unchanged: lam is the invariant, with scaling exponent 0."""
    assert main(["testgen", "--param", "lam=0.5", "--json", "lam*x**2"]) == 0
    assert "def test_" in json.loads(capsys.readouterr().out)["source"]
    assert main(["derive", "--json", "lam*x**2"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["invariants"] == ["lam"] and d["scaling_exponents"] == {"lam": "0"}


from hypothesis import (  # noqa: E402
    Phase,
    given,
    settings,
    strategies as st,  # noqa: E402
)


def _grammar(atoms, ops, functions):
    """Expressions from ``atoms`` with binary ``ops`` and one-argument ``functions``."""
    return st.recursive(
        st.sampled_from(atoms),
        lambda e: st.one_of(
            st.tuples(e, st.sampled_from(ops), e).map(lambda t: f"({t[0]}{t[1]}{t[2]})"),
            st.tuples(st.sampled_from(functions), e).map(lambda t: f"{t[0]}({t[1]})"),
        ),
        max_leaves=6,
    )


# Any text of the grammar (names SymPy would misread, unknown functions, '^', '//') ...
_EXPR = _grammar(
    ["x", "x1", "x2", "eps", "lam", "2", "0.5", "pi", "nan", "oo", "I", "s"],
    ["+", "-", "*", "/", "**", "^", "//"],
    ["sin", "cos", "exp", "log", "foo", "__import__"],
)
# ... and the part of it that is a valid loss in x with hyperparameters eps and lam.
_VALID_EXPR = _grammar(["x", "eps", "lam", "2", "0.5", "pi"], ["+", "-", "*"], ["sin", "cos"]).map(
    lambda e: f"x**2 + {e}"  # a loss needs the variable
)
_VALUE = st.one_of(
    st.sampled_from(["0", "-1", "inf", "nan", "1e400", "abc", "", "2", "3", "1.5"]),
    st.integers(-5, 40).map(str),
)


# --- the fuzzer over every subcommand ------------------------------------------------------
#
# Random argument vectors through ``main`` in-process. Each example is either *valid* (every
# value drawn from the option's valid range, files that exist: the run must succeed, exit 0,
# or 1 for check's failed verdict) or *hostile* (any value, grammar text, damaged files:
# exit 0 or 2). The contract (DESIGN.md): never a traceback, exit 2 with exactly one line on
# stderr and nothing on stdout, and with --json and exit 0 exactly one JSON object on stdout.
# Valid runs stay tiny (levels <= 5, steps <= 40, connect --method linear, one quick
# reproduction) so the whole fuzz costs CI well under a minute; TRAINABILITY_FUZZ_EXAMPLES
# raises the number of examples per subcommand for a long hand run (add -s to see the exit
# codes seen).

import contextlib  # noqa: E402
import io  # noqa: E402
import itertools  # noqa: E402
import os  # noqa: E402

FUZZ_EXAMPLES = int(os.environ.get("TRAINABILITY_FUZZ_EXAMPLES", "10"))
# No shrinking: a failure's example is printed as found (shrinking costs minutes here).
_fuzz_settings = settings(
    max_examples=FUZZ_EXAMPLES, deadline=None, phases=[Phase.explicit, Phase.generate]
)
_NUMBER = st.one_of(_VALUE, st.floats(allow_nan=True, allow_infinity=True).map(repr))
_BAD_PARAMS = st.sampled_from(["eps=x", "=1", "lam", "eps=nan", "lam=inf", "eps=1e400", "x=1"])
_BACKENDS = ["jax", "jax-poly", "c-poly", "c-libm", "auto"]
_OUT_STATES = ("fresh", "shared", "file", "under-file")
_GOOD_MODELS = ("model_a", "model_b")
_MODEL_STATES = (
    *_GOOD_MODELS,
    "other_task",
    "missing",
    "empty",
    "text",
    "truncated",
    "directory",
    "wrong_shape",
    "no_keys",
    "pickled",
    "unknown_task",
)


@pytest.fixture(scope="module")
def fuzz_files(tmp_path_factory):
    """Paths in every file state the fuzzer draws from (created once per module)."""
    from trainability.numeric import make_task, save_model

    root = tmp_path_factory.mktemp("fuzz")
    task = make_task("poly-quadratic", n_train=20, n_test=20)
    files = {
        # Untrained models (init only): connect's linear path on them takes milliseconds.
        "model_a": save_model(root / "a.npz", task, task.init(0)),
        "model_b": save_model(root / "b.npz", task, task.init(1)),
    }
    other = make_task("poly-quadratic", n_train=21, n_test=20)
    files["other_task"] = save_model(root / "other.npz", other, other.init(2))
    (root / "empty.npz").write_bytes(b"")
    (root / "text.npz").write_text("just text")
    data = (root / "a.npz").read_bytes()
    (root / "truncated.npz").write_bytes(data[: len(data) // 2])
    (root / "directory.npz").mkdir()
    np.savez(root / "wrong_shape.npz", theta=np.zeros(3), task=np.array("poly-quadratic"),
             options=np.array(json.dumps(task.options)))  # fmt: skip
    np.savez(root / "no_keys.npz", x=np.zeros(3))
    np.savez(root / "pickled.npz", theta=np.array([{"a": 1}], dtype=object))
    np.savez(root / "unknown_task.npz", theta=np.zeros(3), task=np.array("no-such-task"),
             options=np.array("{}"))  # fmt: skip
    for name in _MODEL_STATES[3:]:
        files[name] = str(root / f"{name}.npz")
    (root / "taken").write_text("a file where a folder is expected")
    files["file"] = str(root / "taken")
    files["under-file"] = str(root / "taken" / "sub")
    files["shared"] = str(root / "shared")  # reused by later examples: resumes, reruns
    fresh = itertools.count()
    files["fresh"] = lambda: str(root / f"fresh-{next(fresh)}")
    return files


def _path(files, state):
    value = files[state]
    return value() if callable(value) else value


class _Draw:
    """One example's choices: ``valid`` decides whether values come from the valid range."""

    def __init__(self, draw, files, valid):
        self.draw, self.files, self.valid = draw, files, valid

    def pick(self, good, bad):
        """A value from ``good`` (valid example) or from either (hostile example)."""
        return self.draw(good if self.valid else st.one_of(good, bad))

    def options(self, pairs):
        """``--flag=value`` words: each ``(flag, good, bad)`` in or out, in random order."""
        chosen = self.draw(st.lists(st.sampled_from(range(len(pairs))), unique=True))
        return [f"{pairs[i][0]}={self.pick(*pairs[i][1:])}" for i in chosen]

    def out(self, good=("fresh", "shared")):
        return _path(self.files, self.draw(st.sampled_from(good if self.valid else _OUT_STATES)))


def _tiny(good_steps=("5", "20", "40"), levels=("1", "2", "3", "4", "5")):
    return [
        ("--levels", st.sampled_from(levels), _VALUE),
        ("--steps", st.sampled_from(good_steps), _VALUE),
    ]


_RANGE_OPTIONS = [
    ("--lr-min", st.sampled_from(["0", "0.1", "0.5"]), _NUMBER),
    ("--lr-max", st.sampled_from(["1", "1.5", "2"]), _NUMBER),
    ("--bound", st.sampled_from(["1e8", "10", "1e16"]), _NUMBER),
]

#: Valid losses for sweep and grid: the loss words, the hyperparameters it needs, and a grid
#: axis over one of them.
_SWEEP_LOSSES = [
    (["--family", "quadratic"], [], None),
    (["--family", "additive"], ["lam=0.5"], "eps=0.05:0.2:2"),
    (["--expr=x**2 + eps*cos(2*pi*x/lam)"], ["eps=0.1", "lam=1"], "lam=0.5:1:2"),
    (["--expr=lam*x**2"], ["lam=0.5"], "lam=0.5:1:3"),
    (["--expr=x1**2 + x2**2"], [], None),
]


def _sweep_like(d, grid=False):
    """Loss, parameters and sweep options shared by sweep and grid."""
    words, params, axis = d.draw(st.sampled_from(_SWEEP_LOSSES if not grid else _SWEEP_LOSSES[1:4]))
    if not d.valid and d.draw(st.booleans()):
        words = d.draw(st.one_of(st.sampled_from([["--family", "no"], ["--family", "two-cosine"]]),
                                 _EXPR.map(lambda e: [f"--expr={e}"])))  # fmt: skip
    backend = d.draw(st.sampled_from(_BACKENDS))
    argv = [*words, *d.options([*_tiny(), *_RANGE_OPTIONS])]
    if d.valid or d.draw(st.booleans()):
        argv += [f"--backend={backend}"]
        if backend == "jax" and d.draw(st.booleans()):
            argv += ["--dtype=float32"]  # the C kernels compute in float64 only
    else:
        dtype = ("--dtype", st.nothing(), st.sampled_from(["float16", "float32"]))
        argv += d.options([dtype, ("--backend", st.nothing(), st.sampled_from(["gpu", "c-poly"]))])
    if not d.valid:
        argv += d.options([("--dim", st.nothing(), _VALUE)])
    argv += ["--x0", d.pick(st.sampled_from(["1", "0.5"]), st.one_of(_VALUE, st.just("1,2,3")))]
    argv += [f"--param={p}" for p in params]
    name, _, spec = (axis or "").partition("=")
    if name and not grid and not any(p.startswith(f"{name}=") for p in params):
        argv += [f"--param={name}={spec.split(':')[0]}"]  # the grid's axis at its first value
    if not d.valid:
        argv += [f"--param={p}" for p in d.draw(st.lists(_BAD_PARAMS, max_size=2))]
    return argv, axis


def _clamp(argv, caps):
    """A valid but large --levels/--steps/... becomes the tiny maximum: runs stay short."""
    for i, word in enumerate(argv):
        flag, _, value = word.partition("=")
        if flag in caps and value.isdigit():
            argv[i] = f"{flag}={min(int(value), caps[flag])}"
    return argv


_CAPS = {"--levels": 5, "--steps": 40, "--points": 3, "--examples": 20}


@st.composite
def _derive_argv(draw, files, valid):
    d = _Draw(draw, files, valid)
    expr = d.pick(_VALID_EXPR, _EXPR)
    argv = ["derive", "--timeout=2", *d.options([("--timeout", st.just("1"), _VALUE)])]
    if not d.valid:
        argv += d.options([("--dim", st.nothing(), _VALUE)])
        argv += [f"--param={p}" for p in draw(st.lists(_BAD_PARAMS, max_size=2))]
    return [*argv, "--json", *(["--", expr] if expr.startswith("-") else [expr])]


@st.composite
def _sweep_argv(draw, files, valid):
    d = _Draw(draw, files, valid)
    argv, _ = _sweep_like(d)
    argv = ["sweep", *argv, "--quiet", "--json"]
    argv += d.options([("--criterion", st.sampled_from(["max", "sum", "above"]), st.just("min"))])
    if draw(st.booleans()):
        argv += ["--out", d.out()]
        if draw(st.booleans()):
            argv += ["--resume"]
    elif not d.valid and draw(st.booleans()):
        argv += ["--resume"]  # without --out
    return _clamp(argv, _CAPS)


_BAD_VARY = st.one_of(
    st.sampled_from(["eps=0:1:0", "eps=a:b:c", "eps", "mu=1:2:2", "eps=1:2:2:2", "eps=inf:1:2"]),
    st.tuples(_VALUE, _VALUE, _VALUE).map(lambda t: f"eps={t[0]}:{t[1]}:{t[2]}"),
)


@st.composite
def _grid_argv(draw, files, valid):
    d = _Draw(draw, files, valid)
    argv, axis = _sweep_like(d, grid=True)
    varies = [axis] if d.valid else draw(st.lists(st.one_of(st.just(axis), _BAD_VARY), max_size=2))
    argv = ["grid", *argv, *[f"--vary={v}" for v in varies], "--quiet", "--json"]
    if not d.valid:
        argv += d.options([("--workers", st.nothing(), st.sampled_from(["0", "x", "-1"]))])
    return _clamp([*argv, "--workers=1", "--out", d.out()], _CAPS)


COSINE_LOSS = "x**2 + eps*cos(2*pi*x/lam)"
#: check's valid grids: the automatic one (lam fixed, or eps fixed: solved for lam) or --vary.
_CHECK_GRIDS = [["--param=lam=1"], ["--param=eps=0.05"], ["--param=lam=1", "--vary=eps=0.01:0.2:2"]]
_BAD_CHECK = st.sampled_from(["--vary=eps=0:1:3", "--vary=eps=0.2:0.1:3", "--vary=eps=0.1:0.2:1",
                              "--vary=eps=0.1:0.2:999", "--vary=mu=1:2:2", "--param=eps=0.1",
                              "--vary=lam=0.5:2:2"])  # fmt: skip


@st.composite
def _check_argv(draw, files, valid):
    d = _Draw(draw, files, valid)
    pairs = [
        *_tiny(("10", "30"), ("3", "4", "5")),
        ("--points", st.sampled_from(["2", "3"]), _VALUE),
        ("--bound", st.sampled_from(["1e8", "1e4"]), _NUMBER),
        ("--x0", st.sampled_from(["5", "1"]), _VALUE),
        ("--backend", st.sampled_from(_BACKENDS), st.just("gpu")),
    ]
    argv = ["check", "--levels=4", "--steps=20", "--points=2", *d.options(pairs)]
    argv += draw(st.sampled_from(_CHECK_GRIDS))
    if not d.valid:
        argv += draw(st.lists(_BAD_CHECK, max_size=2)) + d.options(
            [("--dim", st.nothing(), _VALUE)]
        )
    argv += ["--out", d.out(), *(["--resume"] if draw(st.booleans()) else [])]
    expr = COSINE_LOSS if d.valid or draw(st.booleans()) else draw(_EXPR)
    return _clamp(
        [*argv, "--quiet", "--json", *(["--", expr] if expr[0] == "-" else [expr])], _CAPS
    )


def _names(expr):
    """The hyperparameters of ``expr`` (after SymPy's simplification: eps - eps has none)."""
    from trainability.analytic import ExpressionError, from_expression

    try:
        return from_expression(expr, {}).parameter_names
    except ExpressionError:
        return ()


@st.composite
def _testgen_argv(draw, files, valid):
    d = _Draw(draw, files, valid)
    expr = d.pick(_VALID_EXPR, _EXPR)
    argv = ["testgen", *d.options([("--examples", st.sampled_from(["1", "5"]), _VALUE)])]
    argv += [f"--param={n}=0.1" for n in _names(expr)]  # every value given
    if not d.valid:
        argv += d.options([("--dim", st.nothing(), _VALUE)])
        argv += [f"--param={p}" for p in draw(st.lists(_BAD_PARAMS, max_size=2))]
    return _clamp([*argv, "--json", *(["--", expr] if expr[0] == "-" else [expr])], _CAPS)


#: The one target whose --quick run takes about a second: run for real (levels <= 10). Every
#: other target gets an invalid option value, so that nothing long ever starts.
_CHEAP_TARGET = "liu-figS2"


@st.composite
def _reproduce_argv(draw, files, valid):
    from trainability.verify._registry import reproductions

    d = _Draw(draw, files, valid)
    if d.valid:
        levels = draw(st.sampled_from(["4", "6", "10"]))
        backend = draw(st.sampled_from(_BACKENDS))
        argv = ["reproduce", _CHEAP_TARGET, "--quick", f"--levels={levels}"]
        return [*argv, f"--backend={backend}", "--out", d.out(), "--json"]
    targets = reproductions()
    name = draw(st.sampled_from(sorted(targets)))
    argv = ["reproduce", name, "--quick", "--out", d.out(), "--json"]
    numeric = [a for a in targets[name].options().values() if isinstance(a.type, Range)]
    if not numeric:
        return [*argv, "--no-such-option"]
    picked = draw(st.lists(st.sampled_from(numeric), min_size=1, max_size=3, unique=True))
    argv += [f"{a.option_strings[0]}={draw(_VALUE)}" for a in picked]
    # At least one value no Range accepts, so that the run stops while parsing.
    return [*argv, f"{picked[0].option_strings[0]}={draw(st.sampled_from(['nan', 'abc']))}"]


@st.composite
def _connect_argv(draw, files, valid):
    d = _Draw(draw, files, valid)
    if d.valid:  # two different models of one task
        a, b = (_path(files, m) for m in draw(st.permutations(_GOOD_MODELS)))
    else:
        a, b = (_path(files, draw(st.sampled_from(_MODEL_STATES))) for _ in range(2))
    pairs = [
        ("--threshold", st.sampled_from(["0.5", "10", "1e-3"]), _NUMBER),
        ("--tolerance", st.sampled_from(["1", "1.1", "2"]), _NUMBER),
        ("--alpha", st.sampled_from(["0.5", "0.95"]), _NUMBER),
    ]
    argv = ["connect", a, b, "--method=linear", "--threshold=1", *d.options(pairs)]
    if draw(st.booleans()):
        good = st.sampled_from(["fresh", "shared"])
        state = d.pick(good, st.sampled_from(["file", "under-file", "directory", "odd-suffix"]))
        if state in ("fresh", "shared"):
            figure = _path(files, state) + ".png"
        elif state == "odd-suffix":
            figure = _path(files, "fresh") + ".not-an-image-format"
        else:
            figure = _path(files, state)
        argv += ["--figure", figure]
    return [*argv, "--quiet", "--json"]


_FUZZ_COMMANDS = {
    "derive": _derive_argv,
    "sweep": _sweep_argv,
    "grid": _grid_argv,
    "check": _check_argv,
    "testgen": _testgen_argv,
    "reproduce": _reproduce_argv,
    "connect": _connect_argv,
}


def _assert_contract(argv, valid):
    """Run ``argv`` in-process and check the command-line contract; returns the exit code."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    out, err = out.getvalue(), err.getvalue()
    failed_verdict = (1,) if argv[0] == "check" else ()
    allowed = (0, *failed_verdict) if valid else (0, 2, *failed_verdict)
    assert code in allowed, (argv, code, err[-2000:])
    assert "Traceback" not in err, (argv, err[-2000:])
    if code == 2:
        assert out == "", (argv, out[:500])
        lines = err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("trainability: error: "), (argv, err)
    else:
        json.loads(out)  # exactly one JSON object on stdout (extra text fails here)
    return code


@pytest.mark.parametrize("command", list(_FUZZ_COMMANDS))
def test_fuzz_every_subcommand(command, fuzz_files):
    """Random argument vectors of ``command``: valid ones succeed, hostile ones exit 0 or 2."""
    codes = {}

    @_fuzz_settings
    @given(st.data())
    def fuzz(data):
        valid = data.draw(st.booleans(), label="valid")
        argv = data.draw(_FUZZ_COMMANDS[command](fuzz_files, valid), label="argv")
        code = _assert_contract(argv, valid)
        codes[(valid, code)] = codes.get((valid, code), 0) + 1

    fuzz()
    seen = {f"{'valid' if v else 'hostile'} exit {c}": n for (v, c), n in sorted(codes.items())}
    print(f"fuzz {command}: {seen}")  # shown with -s


# --- class: JAX float64 is process-wide on import of numeric, and documented where users look


_X64_PROBE = """
import json, sys, threading
out = {}
import trainability.analytic
out["analytic_imports_jax"] = "jax" in sys.modules
import jax, jax.numpy as jnp
out["before"] = bool(jax.config.jax_enable_x64)
# Why it is not scoped: JAX's scoped switch reaches neither another thread nor a kernel
# called after the scope ends.
with jax.enable_x64(True):
    seen = {}
    t = threading.Thread(target=lambda: seen.update(d=str(jnp.ones(1).dtype)))
    t.start(); t.join()
    double = jax.jit(lambda v: 2 * v)
    inside = str(double(jnp.ones(1)).dtype)
out["scoped"] = {"inside": inside, "thread": seen["d"], "after": str(double(1.0).dtype)}
import trainability.numeric
out["after_numeric"] = bool(jax.config.jax_enable_x64)
out["default_dtype"] = str(jnp.ones(1).dtype)
out["explicit_float32"] = str(jnp.ones(1, dtype=jnp.float32).dtype)
t = threading.Thread(target=lambda: out.update(thread_dtype=str(jnp.ones(1).dtype)))
t.start(); t.join()
print(json.dumps(out))
"""


def test_float64_is_process_wide_and_documented():
    """The chosen behaviour: importing trainability.numeric (not analytic) enables JAX x64 for
    the whole process, threads included; explicit float32 stays float32. A scoped switch
    would not do (its limits are measured here too), so the docs' first page and the README
    say it."""
    import json
    import subprocess
    import sys
    from pathlib import Path

    env = {k: v for k, v in __import__("os").environ.items() if k != "JAX_ENABLE_X64"}
    run = subprocess.run(
        [sys.executable, "-c", _X64_PROBE], capture_output=True, text=True, env=env, timeout=300
    )
    assert run.returncode == 0, run.stderr[-1000:]
    got = json.loads(run.stdout)
    assert not got["analytic_imports_jax"] and not got["before"]
    assert got["scoped"] == {"inside": "float64", "thread": "float32", "after": "float32"}
    assert got["after_numeric"] and got["default_dtype"] == got["thread_dtype"] == "float64"
    assert got["explicit_float32"] == "float32"
    root = Path(__file__).resolve().parents[1]
    for page in (root / "docs" / "index.rst", root / "README.md"):
        text = " ".join(page.read_text().split())
        assert "jax_enable_x64" in text and "whole process" in text, page
