"""The result store: bit-packed chunks, checksums, resume after kill -9, streaming counts.

References: the in-memory ``lr_sweep`` (labels and ``boundary_counts``) for the same
configuration, and ``boundary_counts`` on the concatenated labels for the streaming counter.
"""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, strategies as st

from trainability.analytic import family, jax_kernels
from trainability.numeric import (
    BoundaryCounter,
    SweepStore,
    boundary_counts,
    lr_sweep,
    stored_lr_sweep,
)

LAND = family("additive", eps=0.2, lam=0.1)
SETTINGS = dict(levels=10, steps=300, bound=1e8)
IDENTITY = {"expr": "additive", "test": 1}


@given(st.integers(2, 9), st.data())
def test_streaming_counter_equals_boundary_counts(levels, data):
    n = 2**levels + 1
    labels = np.array(data.draw(st.lists(st.booleans(), min_size=n, max_size=n)))
    cuts = sorted(data.draw(st.sets(st.integers(1, n - 1), max_size=6)))
    counter = BoundaryCounter(levels)
    for lo, hi in zip([0, *cuts], [*cuts, n], strict=True):
        counter.update(labels[lo:hi], lo)
    np.testing.assert_array_equal(counter.counts, boundary_counts(labels, levels))


@pytest.fixture(scope="module")
def reference():
    return lr_sweep(jax_kernels(LAND).loss_and_grad, 1.0, (0.2, 0.1), **SETTINGS)


def _stored(out, **kw):
    return stored_lr_sweep(
        jax_kernels(LAND).loss_and_grad,
        1.0,
        (0.2, 0.1),
        out=out,
        identity=IDENTITY,
        chunk_size=100,
        **SETTINGS,
        **kw,
    )


def test_store_roundtrip_resume_and_corruption(tmp_path, reference):
    r = _stored(tmp_path)
    assert r.chunks_computed == 11 and r.chunks_reused == 0
    np.testing.assert_array_equal(r.labels(), reference.labels)
    np.testing.assert_array_equal(r.boundary_counts, reference.boundary_counts)
    files = sorted(r.path.glob("chunk-*.bin"))
    assert len(files) == 11
    assert files[0].stat().st_size < 100 // 8 + 100  # bit-packed: ~13 bytes of labels
    manifest = json.loads((r.path / "manifest.json").read_text())
    assert manifest["config"]["steps"] == 300 and manifest["n_chunks"] == 11

    again = _stored(tmp_path, resume=True)
    assert again.chunks_computed == 0 and again.chunks_reused == 11

    # Corrupt one chunk (flip a label bit), truncate another, delete a third.
    data = bytearray(files[3].read_bytes())
    data[40] ^= 0x01
    files[3].write_bytes(bytes(data))
    files[5].write_bytes(files[5].read_bytes()[:20])
    files[7].unlink()
    # A chunk copied from another index must not be accepted either.
    files[8].write_bytes(files[9].read_bytes())
    fixed = _stored(tmp_path, resume=True)
    assert fixed.chunks_computed == 4 and fixed.chunks_reused == 7
    np.testing.assert_array_equal(fixed.labels(), reference.labels)


def test_configuration_is_content_addressed(tmp_path):
    a = _stored(tmp_path)
    b = stored_lr_sweep(
        jax_kernels(LAND).loss_and_grad,
        1.0,
        (0.2, 0.11),
        out=tmp_path,
        identity=IDENTITY,
        chunk_size=100,
        **SETTINGS,
    )
    assert a.path != b.path
    assert sorted(SweepStore(tmp_path).keys()) == sorted([a.path.name, b.path.name])
    with pytest.raises(ValueError, match="missing or corrupt"):
        (a.path / "chunk-000002.bin").unlink()
        SweepStore(tmp_path).read_labels(a.path.name)


_CHILD = """
import sys, time
from trainability.analytic import family, jax_kernels
from trainability.numeric import stored_lr_sweep
land = family("additive", eps=0.2, lam=0.1)
def hang(i):
    print("chunk", i, flush=True)
    if i == 4:
        time.sleep(600)   # killed here, mid-way through the sweep
stored_lr_sweep(jax_kernels(land).loss_and_grad, 1.0, (0.2, 0.1), out=sys.argv[1],
                identity={"expr": "additive", "test": 1}, chunk_size=100, levels=10,
                steps=300, bound=1e8, on_chunk=hang)
"""


def test_kill_9_then_resume_is_identical(tmp_path, reference):
    proc = subprocess.Popen(
        [sys.executable, "-c", _CHILD, str(tmp_path)], stdout=subprocess.PIPE, text=True
    )
    try:
        for line in proc.stdout:
            if line.strip() == "chunk 4":
                break
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    (folder,) = [p for p in tmp_path.iterdir() if p.is_dir()]
    assert len(list(folder.glob("chunk-*.bin"))) == 5
    # A half-written temporary file left by a crash is ignored.
    (folder / ".chunk-000005.bin.999.tmp").write_bytes(b"partial")
    r = _stored(tmp_path, resume=True)
    assert (r.chunks_reused, r.chunks_computed) == (5, 6)
    np.testing.assert_array_equal(r.labels(), reference.labels)
    np.testing.assert_array_equal(r.boundary_counts, reference.boundary_counts)


def _cli(*args, **kw):
    cmd = [
        sys.executable,
        "-m",
        "trainability.verify._cli",
        "sweep",
        "--family",
        "additive",
        "--param",
        "eps=0.2",
        "--param",
        "lam=0.1",
        "--x0",
        "1",
        "--steps",
        "200",
        "--levels",
        "13",
        "--backend",
        "jax",  # compared label for label with the JAX lr_sweep below
        "--json",
        *args,
    ]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


def test_cli_out_killed_and_resumed(tmp_path):
    """`trainability sweep --out DIR` killed with -9 after its first chunk; --resume finishes."""
    proc = _cli("--out", str(tmp_path))
    deadline = time.time() + 120
    while time.time() < deadline and proc.poll() is None:
        if list(tmp_path.glob("*/chunk-*.bin")):
            break
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    done_before = len(list(tmp_path.glob("*/chunk-*.bin")))
    assert 1 <= done_before
    out, err = _cli("--out", str(tmp_path), "--resume").communicate(timeout=300)
    resumed = json.loads(out)
    assert resumed["chunks_reused"] >= min(done_before, 2)
    assert resumed["chunks_reused"] + resumed["chunks_computed"] == 3
    assert "chunks" in err  # progress on stderr
    plain = lr_sweep(jax_kernels(LAND).loss_and_grad, 1.0, (0.2, 0.1), levels=13, steps=200)
    assert resumed["boundary_counts"] == plain.boundary_counts.tolist()
    assert resumed["divergent_fraction"] == plain.divergent_fraction
    np.testing.assert_array_equal(
        SweepStore(tmp_path).read_labels(Path(resumed["store"]).name), plain.labels
    )


def test_cli_resume_needs_out(capsys):
    from trainability.verify._cli import main

    assert main(["sweep", "--family", "quadratic", "--x0", "1", "--resume", "--json"]) == 2
    captured = capsys.readouterr()
    assert "needs --out" in captured.err and captured.out == ""


# --- what is built on the store: `grid --out` and `check --out` survive kill -9 ------------
#
# The child runs the command in-process with the store's atomic write hooked: it stops for
# good at its HANG-th chunk, either just after the chunk file is in place ("after": its lock
# is left behind, owned by a dead process) or half-way through writing it ("during": a
# partial temporary file, never moved into place). The test waits for that moment on the
# child's stdout (no guessed sleep) and kills it with SIGKILL.

_KILLED_CHILD = """
import json, os, sys, time
import trainability.numeric._store as store
from trainability.verify._cli import main
hang_at, mode, argv = int(sys.argv[1]), sys.argv[2], json.loads(sys.argv[3])
real, count = store._atomic_write, [0]
def hooked(path, data):
    chunk = path.name.startswith("chunk-")
    count[0] += chunk
    if chunk and count[0] == hang_at and mode == "during":
        path.with_name(f".{path.name}.{os.getpid()}.tmp").write_bytes(data[: len(data) // 2])
        print("hang", flush=True)
        time.sleep(600)
    real(path, data)
    if chunk and count[0] == hang_at and mode == "after":
        print("hang", flush=True)
        time.sleep(600)
store._atomic_write = hooked
main(argv)
"""


def _kill_at(argv, hang_at, mode):
    """Run ``trainability ARGV`` in a child and SIGKILL it at its ``hang_at``-th chunk."""
    proc = subprocess.Popen(
        [sys.executable, "-c", _KILLED_CHILD, str(hang_at), mode, json.dumps(argv)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        line = proc.stdout.readline()  # blocks until the child is at the chosen moment
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    assert line.strip() == "hang", f"the child ended before chunk {hang_at}"
    assert proc.returncode == -signal.SIGKILL


def _json_run(capsys, argv):
    from trainability.verify._cli import main

    assert main([*argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


_TIMING = {"seconds", "learning_rates_per_second", "chunks_computed", "chunks_reused"}


def _without(d, keys):
    """``d`` without ``keys``, recursively (timing and bookkeeping fields)."""
    if isinstance(d, dict):
        return {k: _without(v, keys) for k, v in d.items() if k not in keys}
    if isinstance(d, list):
        return [_without(v, keys) for v in d]
    return d


def _chunk_files(root):
    return len(list(Path(root).glob("**/chunk-*.bin")))


# Levels 13: 8193 learning rates, stored in 3 chunks (4096, 4096, 1) per cell; 2 cells.
_GRID = ["grid", "--family", "additive", "--vary", "eps=0.1:0.3:2", "--param", "lam=0.5"]
_GRID += ["--x0", "1", "--levels", "13", "--steps", "100", "--backend", "jax", "--workers", "1"]
_GRID += ["--quiet"]


def test_grid_out_killed_twice_and_resumed_is_identical(tmp_path, capsys):
    """`grid --out` killed after its first chunk, rerun and killed mid-way while writing a
    chunk, rerun to the end: the same JSON (apart from timing) as an uninterrupted run."""
    reference = _json_run(capsys, [*_GRID, "--out", str(tmp_path / "plain")])
    n_chunks = 6
    out = str(tmp_path / "killed")
    _kill_at([*_GRID, "--out", out], 1, "after")
    assert _chunk_files(out) == 1
    _kill_at([*_GRID, "--out", out], 3, "during")  # a grid rerun resumes from its store
    assert _chunk_files(out) == 3  # 1 + 2 new; the third was half-written, never in place
    assert list(Path(out).glob("*/.chunk-*.tmp"))
    resumed = _json_run(capsys, [*_GRID, "--out", out])
    assert sum(p["chunks_reused"] for p in resumed["points"]) == 3
    assert sum(p["chunks_computed"] for p in resumed["points"]) == n_chunks - 3
    assert _without(resumed, _TIMING | {"store"}) == _without(reference, _TIMING | {"store"})
    assert not list(Path(out).rglob("*.lock"))  # the dead child's lock was broken


# check stores one chunk per cell (up to 2**18 learning rates); 4 cells on the automatic grid.
_CHECK = ["check", "x**2 + eps*cos(2*pi*x/lam)", "--param", "lam=1", "--levels", "12"]
_CHECK += ["--steps", "100", "--points", "4", "--backend", "jax", "--quiet"]


def test_check_out_killed_twice_and_resumed_is_identical(tmp_path, capsys):
    """`check --out` keeps a store of its cell sweeps: killed after its first chunk, resumed
    and killed half-way through writing a chunk, resumed: the uninterrupted run's JSON."""
    plain = tmp_path / "plain"
    reference = _json_run(capsys, [*_CHECK, "--out", str(plain)])
    assert reference["chunks_computed"] == 4 and reference["chunks_reused"] == 0
    out = tmp_path / "killed"
    _kill_at([*_CHECK, "--out", str(out)], 1, "after")
    assert _chunk_files(out / "store") == 1
    _kill_at([*_CHECK, "--out", str(out), "--resume"], 2, "during")
    assert _chunk_files(out / "store") == 2
    assert list((out / "store").glob("*/.chunk-*.tmp"))
    resumed = _json_run(capsys, [*_CHECK, "--out", str(out), "--resume"])
    assert (resumed["chunks_reused"], resumed["chunks_computed"]) == (2, 2)
    assert not list((out / "store").rglob("*.lock"))
    paths = {"store", "figure"}
    assert _without(resumed, _TIMING | paths) == _without(reference, _TIMING | paths)
    assert resumed["store"] == str(out / "store") and (out / "dimension_vs_roughness.png").exists()
    # Without --resume every chunk is computed again (and the result is the same).
    again = _json_run(capsys, [*_CHECK, "--out", str(out)])
    assert (again["chunks_reused"], again["chunks_computed"]) == (0, 4)
    assert _without(again, _TIMING | paths) == _without(reference, _TIMING | paths)
