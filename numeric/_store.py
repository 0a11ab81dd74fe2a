"""The on-disk result store: chunked, bit-packed sweep labels that survive interruption.

Layout of one sweep (content-addressed: the folder name is a hash of the configuration)::

    ROOT/<key>/manifest.json        the full configuration, chunking, format version
    ROOT/<key>/chunk-000000.bin     labels of grid points [0, chunk) bit-packed, with checksum
    ROOT/<key>/chunk-000001.bin     ...

A chunk file is ``header | np.packbits(labels) | sha256(header | payload)``; the header
holds a magic number, the format version, the configuration key, the chunk index, the
number of labels and the number of loss evaluations. Every file is written to a temporary
name and moved into place with :func:`os.replace`, so a reader (or a resumed sweep) sees a
whole file or none. A chunk whose checksum, key, index or length does not match is treated
as missing and recomputed, never used.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import struct
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from ._boundary import DimensionFit, fit_dimension
from ._progress import Progress
from ._sweep import (
    LossAndGrad,
    SweepResult,
    chunk_bounds,
    label_chunk,
    learning_rates,
    validate_sweep_arguments,
)

__all__ = ["SweepStore", "StoredSweep", "stored_lr_sweep", "sweep_key", "BoundaryCounter"]

FORMAT_VERSION = 1
_MAGIC = b"TRNBITS1"
_HEADER = struct.Struct("<8sI16sQQQ")  # magic, version, key, index, n_labels, evaluations
_DIGEST = 32


#: A chunk lock older than this is stale even when its owner cannot be checked (another
#: host): no single chunk takes this long.
STALE_LOCK_SECONDS = 6 * 3600
_HOST = socket.gethostname()
_POLL_SECONDS = 0.2


def _stale(lock: Path) -> bool:
    """The lock's owner is gone: a dead process on this host, or the lock is too old."""
    try:
        info = json.loads(lock.read_text())
        age = time.time() - lock.stat().st_mtime
    except FileNotFoundError:
        return False  # released meanwhile: claiming again decides
    except (OSError, ValueError):
        info, age = {}, 0.0
    if not isinstance(info, dict) or "pid" not in info:
        # Being written right now (claim opens, then writes), or garbage: age decides.
        try:
            return time.time() - lock.stat().st_mtime > 60
        except FileNotFoundError:
            return False
    if age > STALE_LOCK_SECONDS:
        return True
    if info.get("host") != _HOST:
        return False
    try:
        os.kill(int(info["pid"]), 0)
    except ProcessLookupError:
        return True
    except (PermissionError, ValueError, OverflowError):
        return False
    return False


def _canonical(obj) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), allow_nan=False)


def sweep_key(config: Mapping[str, Any]) -> str:
    """Content address of a sweep: 32 hex digits of the SHA-256 of its canonical JSON."""
    return hashlib.sha256(_canonical(config).encode()).hexdigest()[:32]


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


class BoundaryCounter:
    """Boundary counts ``B_N`` for every level, accumulated chunk by chunk in order.

    Equivalent to :func:`boundary_counts` on the concatenated labels, in O(levels) memory
    beyond one chunk.
    """

    def __init__(self, levels: int):
        self.levels = levels
        self.counts: np.ndarray = np.zeros(levels + 1, dtype=np.int64)
        self._last = [None] * (levels + 1)  # last label of the level-n sub-grid seen
        self._next = 0

    def update(self, labels: np.ndarray, start: int) -> None:
        if start != self._next:
            raise ValueError(f"chunks must arrive in order: expected {self._next}, got {start}")
        labels = np.asarray(labels, dtype=bool)
        for n in range(self.levels + 1):
            stride = 2 ** (self.levels - n)
            sub = labels[(-start) % stride :: stride]
            if sub.size == 0:
                continue
            c = int(np.count_nonzero(sub[1:] != sub[:-1]))
            if self._last[n] is not None:
                c += int(self._last[n] != sub[0])
            self.counts[n] += c
            self._last[n] = bool(sub[-1])
        self._next = start + labels.size


@dataclass(frozen=True)
class StoredSweep:
    """A sweep held in a store: counts and fit in memory, labels on disk (bit-packed).

    Attributes:
        path: the sweep's folder. config: its configuration (the manifest's ``config``).
        boundary_counts: ``(levels + 1,)`` ``B_N``. fit: the dimension fit.
        chunks_computed / chunks_reused: what this run did (reused = valid on disk).
        evaluations: loss evaluations in the computed chunks (early exits excluded).
    """

    path: Path
    config: dict[str, Any]
    levels: int
    boundary_counts: np.ndarray
    fit: DimensionFit
    n_points: int
    n_trainable: int
    chunks_computed: int
    chunks_reused: int
    evaluations: int
    seconds: float

    @property
    def divergent_fraction(self) -> float:
        return 1.0 - self.n_trainable / self.n_points

    def labels(self) -> np.ndarray:
        """All ``(2**levels + 1,)`` labels, unpacked (for small sweeps)."""
        return SweepStore(self.path.parent).read_labels(self.path.name)

    def to_result(self) -> SweepResult:
        """The equivalent in-memory :class:`SweepResult` (unpacks all labels)."""
        c = self.config
        return SweepResult(
            self.labels(),
            self.levels,
            c["lr_min"],
            c["lr_max"],
            c["steps"],
            c["bound"],
            self.seconds,
            self.evaluations,
            c.get("backend", "?"),
        )


class SweepStore:
    """A folder of content-addressed sweeps (see the module docstring for the layout)."""

    def __init__(self, root: str | os.PathLike[str]):
        self.root: Path = Path(root)

    # -- manifest -------------------------------------------------------------------------
    def open(
        self, config: Mapping[str, Any], chunk_size: int, n_points: int
    ) -> tuple[str, dict[str, Any]]:
        """Create (or reopen) the sweep of ``config``; returns its key and manifest."""
        key = sweep_key(config)
        folder = self.root / key
        folder.mkdir(parents=True, exist_ok=True)
        mpath = folder / "manifest.json"
        if mpath.exists():
            try:
                manifest = json.loads(mpath.read_text())
            except (OSError, ValueError):
                manifest = None
            if manifest and manifest.get("config") == json.loads(_canonical(config)):
                return key, manifest
        manifest = {
            "format": FORMAT_VERSION,
            "key": key,
            "config": json.loads(_canonical(config)),
            "n_points": int(n_points),
            "chunk_size": int(chunk_size),
            "n_chunks": -(-int(n_points) // int(chunk_size)),
            "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
        _atomic_write(mpath, json.dumps(manifest, indent=2).encode())
        return key, manifest

    def manifest(self, key: str) -> dict[str, Any]:
        return json.loads((self.root / key / "manifest.json").read_text())

    def keys(self) -> list[str]:
        """Keys of all sweeps in the store."""
        if not self.root.exists():
            return []
        return sorted(p.name for p in self.root.iterdir() if (p / "manifest.json").exists())

    # -- chunks ---------------------------------------------------------------------------
    def chunk_path(self, key: str, index: int) -> Path:
        return self.root / key / f"chunk-{index:06d}.bin"

    def lock_path(self, key: str, index: int) -> Path:
        return self.root / key / f"chunk-{index:06d}.lock"

    def claim(self, key: str, index: int) -> bool:
        """Claim chunk ``index`` for this process: True if claimed, False if another live
        process holds it. A lock left by a dead process (or older than
        :data:`STALE_LOCK_SECONDS`) is broken and claimed."""
        path = self.lock_path(key, index)
        for _ in range(2):  # the second try follows breaking a stale lock
            try:
                fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                if not _stale(path):
                    return False
                try:  # rename is atomic: of two processes breaking it, one wins
                    os.replace(path, path.with_name(f"{path.name}.stale.{os.getpid()}"))
                    os.unlink(path.with_name(f"{path.name}.stale.{os.getpid()}"))
                except FileNotFoundError:
                    pass
                continue
            with os.fdopen(fd, "w") as fh:
                json.dump({"pid": os.getpid(), "host": _HOST, "time": time.time()}, fh)
            return True
        return False

    def release(self, key: str, index: int) -> None:
        try:
            os.unlink(self.lock_path(key, index))
        except FileNotFoundError:
            pass

    def clear_stale_locks(self, key: str) -> int:
        """Remove the locks of sweep ``key`` whose owner is gone (a process killed between
        writing its chunk and releasing it); returns how many. Live owners keep theirs."""
        removed = 0
        for lock in (self.root / key).glob("chunk-*.lock"):
            if _stale(lock):
                try:
                    lock.unlink()
                    removed += 1
                except FileNotFoundError:
                    pass
        return removed

    def write_chunk(self, key: str, index: int, labels: np.ndarray, evaluations: int) -> None:
        labels = np.asarray(labels, dtype=bool)
        header = _HEADER.pack(
            _MAGIC, FORMAT_VERSION, bytes.fromhex(key)[:16], index, labels.size, int(evaluations)
        )
        body = header + np.packbits(labels).tobytes()
        _atomic_write(self.chunk_path(key, index), body + hashlib.sha256(body).digest())

    def read_chunk(self, key: str, index: int, n_labels: int) -> tuple[np.ndarray, int] | None:
        """``(labels, evaluations)`` of a valid chunk, or None if missing or invalid."""
        try:
            data = self.chunk_path(key, index).read_bytes()
        except OSError:
            return None
        if len(data) < _HEADER.size + _DIGEST:
            return None
        body, digest = data[:-_DIGEST], data[-_DIGEST:]
        if hashlib.sha256(body).digest() != digest:
            return None
        magic, version, k, idx, n, ev = _HEADER.unpack_from(body)
        expected_bytes = _HEADER.size + (n_labels + 7) // 8
        if (magic, version, k, idx, n) != (
            _MAGIC,
            FORMAT_VERSION,
            bytes.fromhex(key)[:16],
            index,
            n_labels,
        ) or len(body) != expected_bytes:
            return None
        bits = np.frombuffer(body, dtype=np.uint8, offset=_HEADER.size)
        return np.unpackbits(bits, count=n_labels).astype(bool), int(ev)

    def read_labels(self, key: str) -> np.ndarray:
        """All labels of a complete sweep; raises ValueError if a chunk is missing/corrupt."""
        m = self.manifest(key)
        out = np.empty(m["n_points"], dtype=bool)
        for i, (lo, hi) in enumerate(chunk_bounds(m["n_points"], m["chunk_size"])):
            got = self.read_chunk(key, i, hi - lo)
            if got is None:
                raise ValueError(f"sweep {key}: chunk {i} is missing or corrupt (resume it)")
            out[lo:hi] = got[0]
        return out


def stored_lr_sweep(
    loss_and_grad: LossAndGrad | None,
    x0: ArrayLike,
    params: Sequence[ArrayLike] = (),
    *,
    out,
    identity: Mapping,
    levels: int = 16,
    lr_min: float = 0.0,
    lr_max: float = 1.5,
    steps: int = 1000,
    bound: float = 1e8,
    dtype: str = "float64",
    backend="jax",
    chunk_size: int | None = None,
    resume: bool = False,
    progress: bool = False,
    on_chunk: Callable[[int], None] | None = None,
    criterion: str = "max",
) -> StoredSweep:
    """:func:`lr_sweep` streamed into a :class:`SweepStore` at ``out``, chunk by chunk.

    Args:
        identity: JSON-able description of the loss (e.g. its expression and parameter
            values, and the kernel's arithmetic). It is hashed together with ``x0``,
            ``params``, the grid, ``steps``, ``bound``, ``dtype`` and the backend name into
            the content address, so a different loss never reuses these labels.
        resume: reuse every valid chunk already on disk and compute only the others; the
            result is identical to an uninterrupted run. Without it every chunk is
            recomputed (and atomically overwritten).
        chunk_size: learning rates per chunk file (the manifest's value wins on resume);
            default ``n_points / 64`` clamped to ``[2**12, 2**20]``.
        on_chunk: called with the chunk index after each chunk is written (for tests).

    Peak memory is one chunk of labels plus the kernel's working set, whatever ``levels``.
    """
    validate_sweep_arguments(levels, lr_min, lr_max, steps, bound, dtype, criterion)
    n_points = 2**levels + 1
    if chunk_size is None:
        chunk_size = int(min(max(2**12, n_points // 64), 2**20))
    if not isinstance(chunk_size, int) or chunk_size < 1:
        raise ValueError(f"chunk_size must be a positive integer, got {chunk_size}")
    name = backend if isinstance(backend, str) else backend.name
    x0_list = np.atleast_1d(np.asarray(x0, dtype=np.float64)).tolist()
    config = {
        "identity": dict(identity),
        "x0": x0_list,
        "params": [float(p) for p in np.asarray(params, dtype=np.float64).reshape(-1)],
        "levels": int(levels),
        "lr_min": float(lr_min),
        "lr_max": float(lr_max),
        "steps": int(steps),
        "bound": float(bound),
        "dtype": dtype,
        "backend": name,
    }
    if criterion != "max":  # keeps the content address of earlier max-criterion stores
        config["criterion"] = criterion
    store = SweepStore(out)
    key, manifest = store.open(config, min(chunk_size, n_points), n_points)
    chunk, n_chunks = manifest["chunk_size"], manifest["n_chunks"]
    counter = BoundaryCounter(levels)
    bounds = chunk_bounds(n_points, chunk)
    # Valid chunks are found first so that the progress rate and ETA count only real work.
    valid = {
        i
        for i, (lo, hi) in enumerate(bounds)
        if resume and store.read_chunk(key, i, hi - lo) is not None
    }
    meter = Progress(n_chunks - len(valid), f"sweep {key[:8]}", "chunks", enabled=progress)
    if progress and valid:
        print(
            f"[sweep {key[:8]}] resuming: {len(valid)}/{n_chunks} chunks already stored",
            file=sys.stderr,
            flush=True,
        )
    computed = reused = n_trainable = evaluations = 0
    t0 = time.perf_counter()
    # Chunks are claimed one by one with a lock file, so processes sharing the store split
    # the work; a chunk another process holds is waited for, then read.
    started = time.time()
    run = {"steps": steps, "bound": bound, "dtype": dtype, "backend": backend}
    run["criterion"] = criterion
    run["chunk_size"] = min(chunk, 2**16)

    def finished_elsewhere(i: int) -> bool:
        # Valid, and (with resume) stored at all or (without) stored during this run.
        lo, hi = bounds[i]
        path = store.chunk_path(key, i)
        try:
            fresh = resume or path.stat().st_mtime >= started
        except OSError:
            return False
        return fresh and store.read_chunk(key, i, hi - lo) is not None

    pending = [i for i in range(n_chunks) if i not in valid]
    while pending:
        waiting = []
        for i in pending:
            lo, hi = bounds[i]
            if finished_elsewhere(i):
                reused += 1
                continue
            if not store.claim(key, i):
                waiting.append(i)
                continue
            try:
                if finished_elsewhere(i):  # between the check and the claim
                    reused += 1
                    continue
                lrs = learning_rates(levels, lr_min, lr_max, lo, hi)
                labels, ev = label_chunk(loss_and_grad, x0, params, lrs, **run)
                store.write_chunk(key, i, labels, ev)
            finally:
                store.release(key, i)
            computed += 1
            evaluations += ev
            meter.update(1)
            if on_chunk is not None:
                on_chunk(i)
        if waiting:
            time.sleep(_POLL_SECONDS)
        pending = waiting
    reused += len(valid)
    # A valid chunk is never claimed again, so a lock its killed writer left is removed here.
    store.clear_stale_locks(key)
    for i, (lo, hi) in enumerate(bounds):  # counts in grid order, from the finished store
        got = store.read_chunk(key, i, hi - lo)
        if got is None:
            raise ValueError(f"sweep {key}: chunk {i} was changed during the run")
        counter.update(got[0], lo)
        n_trainable += int(np.count_nonzero(got[0]))
    seconds = time.perf_counter() - t0
    return StoredSweep(
        store.root / key,
        config,
        levels,
        counter.counts,
        fit_dimension(counter.counts),
        n_points,
        n_trainable,
        computed,
        reused,
        evaluations,
        seconds,
    )
