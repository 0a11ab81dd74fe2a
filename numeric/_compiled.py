"""Compiled C sweep kernels: build, cache on disk, load and run.

The C source comes from the analytic layer (``trainability.analytic.c_sweep_source``); this
module knows nothing of SymPy. :func:`load_sweep_kernel` compiles a source with
``gcc -O3 -march=native -fopenmp`` (fallbacks without ``-march=native`` / OpenMP), caches
the shared object on disk under a key of source, compiler version and target CPU (a checksum
written atomically beside it is verified before loading; a damaged one is rebuilt), and loads
it with :mod:`ctypes`. A :class:`CSweepKernel` is a ``backend`` for :func:`lr_sweep` and
:func:`grid_sweep` (the :class:`LabelKernel` protocol, with the multi-cell method).
"""

from __future__ import annotations

import ctypes
import dataclasses
import functools
import hashlib
import json
import os
import platform
import shutil
import stat
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from numpy.typing import ArrayLike, NDArray

__all__ = ["CompileError", "CSweepKernel", "load_sweep_kernel"]


class CompileError(RuntimeError):
    """The C compiler is missing or failed; callers fall back to the JAX backend."""


# -fno-trapping-math / -fno-math-errno change no IEEE result (no fast-math): they only let
# gcc if-convert and vectorise more freely.
_FLAGS = (
    "-O3",
    "-march=native",
    "-fno-trapping-math",
    "-fno-math-errno",
    "-fopenmp",
    "-std=gnu11",
    "-fPIC",
    "-shared",
)
_FALLBACK_FLAGS = (
    ("-O3", "-fopenmp", "-std=gnu11", "-fPIC", "-shared"),
    ("-O3", "-std=gnu11", "-fPIC", "-shared"),
)


def _cache_dir() -> Path:
    root = os.environ.get("TRAINABILITY_CACHE")
    base = Path(root) if root else Path.home() / ".cache" / "trainability"
    path = base / "ckernels"
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / f".probe-{os.getpid()}"
        probe.write_text("")
        probe.unlink()
        return path
    except OSError:
        return _private_tmp_dir()


def _private_tmp_dir() -> Path:
    """A per-user 0700 folder in the temporary directory: other users can neither plant a
    kernel there for us to load nor read ours."""
    path = Path(tempfile.gettempdir()) / f"trainability-ckernels-{os.getuid()}"
    try:
        path.mkdir(mode=0o700, exist_ok=True)
        st = os.lstat(path)
    except OSError as exc:
        raise CompileError(f"no usable kernel cache folder ({exc})") from None
    if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.getuid():
        raise CompileError(f"kernel cache folder {path} is not a folder owned by this user")
    if st.st_mode & 0o077:
        os.chmod(path, 0o700)
    return path


def _run_quiet(args: list[str]) -> str:
    try:
        proc = subprocess.run(args, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return proc.stdout if proc.returncode == 0 else ""


@functools.lru_cache(maxsize=8)
def _compiler_id(cc: str, native: bool) -> str:
    """The compiler's version and, for ``-march=native``, the target it resolves to here
    (the ISA flags gcc reports): a cache shared between hosts or compilers never mixes
    binaries."""
    text = _run_quiet([cc, "--version"]).split("\n")[0]
    if native:
        text += _run_quiet([cc, "-march=native", "-Q", "--help=target"])
    return hashlib.sha256(f"{shutil.which(cc)}\n{text}".encode()).hexdigest()[:12]


@functools.lru_cache(maxsize=1)
def _cpu_id() -> str:
    """This CPU, without a compiler: machine, model and feature flags (Linux cpuinfo)."""
    text = platform.machine()
    try:
        info = Path("/proc/cpuinfo").read_text()
    except OSError:
        info = platform.processor()
    keep = [ln for ln in info.splitlines() if ln.split(":")[0].strip() in ("model name", "flags")]
    text += "\n".join(dict.fromkeys(keep))  # the first processor's lines (all are equal)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _sidecar(path: Path) -> Path:
    return path.with_suffix(".json")


def _verified(path: Path) -> bool:
    """``path`` is whole, unchanged since it was compiled, and built on this kind of CPU.

    A truncated shared object makes ``dlopen`` crash the process (SIGBUS), so nothing is
    loaded before its checksum matches the one written beside it.
    """
    try:
        meta = json.loads(_sidecar(path).read_text())
        data = path.read_bytes()
    except (OSError, ValueError):
        return False
    return (
        isinstance(meta, dict)
        and meta.get("cpu") == _cpu_id()
        and meta.get("size") == len(data)
        and meta.get("sha256") == hashlib.sha256(data).hexdigest()
    )


def _atomic_copy(data: bytes, target: Path) -> None:
    partial = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    partial.write_bytes(data)
    os.replace(partial, target)  # atomic: concurrent readers never see half a file


def _compile(source: str, compiler: str | None = None) -> tuple[Path, tuple[str, ...]]:
    """Path of the compiled kernel of ``source`` and its flags, from the cache if valid.

    The cache is consulted before the compiler is required: a verified kernel built on
    this CPU is used even where no compiler is installed.
    """
    cc = compiler or os.environ.get("CC", "gcc")
    folder = _cache_dir()
    have_cc = shutil.which(cc) is not None
    errors = []
    for flags in (_FLAGS, *_FALLBACK_FLAGS):
        base = hashlib.sha256((" ".join(flags) + source).encode()).hexdigest()[:24]
        if not have_cc:
            for path in sorted(folder.glob(f"sweep_{base}_*.so")):
                if _verified(path):
                    return path, flags
            continue
        target = folder / f"sweep_{base}_{_compiler_id(cc, '-march=native' in flags)}.so"
        if _verified(target):
            return target, flags
        with tempfile.TemporaryDirectory() as tmp:
            src = Path(tmp) / "kernel.c"
            src.write_text(source)
            out = Path(tmp) / "kernel.so"
            try:
                proc = subprocess.run(
                    [cc, *flags, str(src), "-o", str(out), "-lm"],
                    capture_output=True,
                    text=True,
                    timeout=120,
                )
            except (OSError, subprocess.TimeoutExpired) as exc:
                errors.append(str(exc))
                continue
            if proc.returncode != 0:
                last = proc.stderr.strip().splitlines()[-1:]
                errors.append(last[0] if last else f"{cc} exited with status {proc.returncode}")
                continue
            data = out.read_bytes()
        meta = {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data), "cpu": _cpu_id()}
        meta["compiler"] = cc
        meta["flags"] = list(flags)
        # The kernel first, then its checksum: a reader that races this sees a mismatch and
        # recompiles, never a checksum that vouches for a half-written file.
        _atomic_copy(data, target)
        _atomic_copy(json.dumps(meta).encode(), _sidecar(target))
        return target, flags
    if not have_cc:
        raise CompileError(f"C compiler {cc!r} not found (and no cached kernel)")
    raise CompileError(f"compiling the sweep kernel failed: {errors[-1] if errors else '?'}")


def _default_threads() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


@dataclass(eq=False)
class CSweepKernel:
    """A compiled C sweep kernel: the ``backend`` object for ``numeric.lr_sweep``.

    Calling it labels learning rates: ``kernel(lrs, x0, params, steps, bound)`` with
    ``lrs: (C,)``, ``x0: (d,)``, ``params: (P,)`` returns ``(labels: (C,) bool, evaluations)``
    where ``evaluations`` counts loss/gradient evaluations actually done (at most
    ``C * (steps + 1)``; the rest were skipped by early exit).

    :meth:`sweep_cells` labels the same learning rates for many hyperparameter cells at
    once (the optional multi-cell method of ``numeric.LabelKernel``).

    Attributes:
        source: the generated C source. name: ``"c-poly"`` or ``"c-libm"``.
        dim: number of parameter variables. n_params: number of hyperparameters.
        flags: compiler flags used. threads: OpenMP threads (default: all cores).
        block: learning rates per cache block. check_period: enable the periodic-orbit exit.
        criterion: ``"max"`` (divergent when the loss exceeds the bound at any step) or
            ``"sum"`` (when the sum of the losses over the run reaches it); see
            :meth:`with_criterion`.
        tiled: run the register-tiled driver (runs of 16 steps; where the step has vector
            twins of its functions, tiles of 16 lanes, four interleaved 4-lane vectors, stay
            in registers for the whole run, else a scalar loop over the block per step;
            flags accumulated in the same pass, compaction between runs);
            ``False`` runs the stepwise driver (one GD step over all lanes at a time, then
            the out-of-range and divergence scans). Both give the same labels; the tiled
            one counts whole runs as evaluations (a lane that diverges mid-run finishes it).
    """

    source: str
    name: str
    dim: int
    n_params: int
    flags: tuple[str, ...] = ()
    threads: int = field(default_factory=_default_threads)
    block: int = 512
    check_period: bool = True
    _lib: object = field(default=None, repr=False)
    criterion: str = "max"
    tiled: bool = True

    def __post_init__(self) -> None:
        if self._lib is None:
            path, self.flags = _compile(self.source)
            try:
                lib = ctypes.CDLL(str(path))
                _ = lib.tr_sweep_cells, lib.tr_eval, lib.tr_sincos, lib.tr_expv  # complete
            except (OSError, AttributeError) as exc:  # e.g. libgomp missing where it runs
                raise CompileError(f"loading the compiled kernel failed: {exc}") from None
            vp, lg = ctypes.c_void_p, ctypes.c_long
            lib.tr_sweep_cells.restype = lg
            lib.tr_sweep_cells.argtypes = [
                lg,
                lg,
                vp,
                vp,
                vp,
                lg,
                ctypes.c_double,
                vp,
                lg,
                ctypes.c_int,
                ctypes.c_int,
                ctypes.c_int,
                ctypes.c_int,
                ctypes.c_int,
            ]
            lib.tr_eval.restype = None
            lib.tr_eval.argtypes = [lg, vp, vp, vp, vp]
            for fn in (lib.tr_sincos, lib.tr_hsincos):
                fn.restype = None
                fn.argtypes = [lg, vp, vp, vp]
            for fn in (lib.tr_expv, lib.tr_tanhv, lib.tr_logv, lib.tr_coshv, lib.tr_sinhv):
                fn.restype = None
                fn.argtypes = [lg, vp, vp]
            if hasattr(lib, "tr_vector_fn"):
                lib.tr_vector_fn.restype = None
                lib.tr_vector_fn.argtypes = [ctypes.c_int, lg, vp, vp]
            self._lib = lib

    def __reduce__(
        self,
    ) -> tuple[
        Callable[..., CSweepKernel], tuple[object, ...]
    ]:  # picklable: the receiver recompiles (or finds the cached .so)
        return (
            _rebuild,
            (
                self.source,
                self.name,
                self.dim,
                self.n_params,
                self.threads,
                self.block,
                self.check_period,
                self.criterion,
                self.tiled,
            ),
        )

    def with_criterion(self, criterion: str) -> CSweepKernel:
        """The same compiled kernel with the divergence rule ``criterion``.

        ``"max"``: divergent when ``f(x_k) > bound`` (or NaN) for some ``k = 0..steps``.
        ``"sum"``: divergent when ``f(x_1) + ... + f(x_k) >= bound`` (NaN counts as reaching
        it) for some ``k <= steps``, the rule of Liu's GPU sweeps (``gpuexp-4-2.py``,
        ``gpuexp-10.py``: bound 1e16). ``"above"``: divergent when ``f(x_k) > bound`` for some
        ``k = 1..steps``, NaN never (a NaN orbit is trainable): the comparison of Liu's
        ``exp-3.py``/``exp-5.jl``.
        """
        if criterion not in _CRITERION_CODE:
            raise ValueError(
                f"criterion must be one of {', '.join(_CRITERION_CODE)}, got {criterion!r}"
            )
        if criterion == self.criterion:
            return self
        return dataclasses.replace(self, criterion=criterion)

    def _params(self, params: ArrayLike) -> np.ndarray:
        p = np.ascontiguousarray(np.asarray(params, dtype=np.float64).reshape(-1))
        if p.size != self.n_params:
            raise ValueError(f"kernel takes {self.n_params} parameters, got {p.size}")
        return p if p.size else np.zeros(1)

    def __call__(
        self,
        lrs: ArrayLike,
        x0: ArrayLike,
        params: ArrayLike = (),
        steps: int = 1000,
        bound: float = 1e8,
    ) -> tuple[NDArray[np.bool_], int]:
        x0 = np.broadcast_to(np.asarray(x0, np.float64), (self.dim,))
        p = self._params(params)[: self.n_params].reshape(1, -1)
        labels, ev = self.sweep_cells(lrs, x0[None], p, steps, bound)
        return labels[0], ev

    def sweep_cells(
        self,
        lrs: ArrayLike,
        x0s: ArrayLike,
        params: ArrayLike,
        steps: int = 1000,
        bound: float = 1e8,
    ) -> tuple[NDArray[np.bool_], int]:
        """Label the learning rates ``lrs: (C,)`` for every cell of a hyperparameter grid.

        Args:
            x0s: ``(cells, d)`` initial point per cell.
            params: ``(cells, P)`` hyperparameters per cell.

        Returns ``(labels: (cells, C) bool, evaluations)``; row ``c`` equals
        ``self(lrs, x0s[c], params[c], steps, bound)[0]``. OpenMP spreads (cell, block)
        pairs over the threads, so many small cells still use every core.
        """
        lrs = np.ascontiguousarray(lrs, dtype=np.float64).reshape(-1)
        x0s = np.asarray(x0s, np.float64)
        params = np.asarray(params, np.float64)
        if x0s.ndim != 2 or x0s.shape[1] != self.dim:
            raise ValueError(f"x0s must have shape (cells, {self.dim}), got {x0s.shape}")
        cells = x0s.shape[0]
        if params.shape != (cells, self.n_params):
            raise ValueError(
                f"params must have shape ({cells}, {self.n_params}), got {params.shape}"
            )
        x0s = np.ascontiguousarray(x0s)
        # The C side reads max(P, 1) values per cell (one dummy when there are none).
        p = np.ascontiguousarray(params if self.n_params else np.zeros((cells, 1)))
        labels = np.empty((cells, lrs.size), dtype=np.uint8)
        return self._run(cells, lrs, x0s, p, steps, bound, labels, lane_x0=False)

    def _run(self, cells, lrs, x0s, p, steps, bound, labels, lane_x0: bool):
        """``tr_sweep_cells`` on prepared contiguous arrays; ``(labels as bool, evaluations)``."""
        ev = self._lib.tr_sweep_cells(
            cells,
            lrs.size,
            lrs.ctypes.data,
            x0s.ctypes.data,
            p.ctypes.data,
            int(steps),
            float(bound),
            labels.ctypes.data,
            int(self.block),
            int(self.threads),
            int(self.check_period),
            _CRITERION_CODE[self.criterion],
            int(lane_x0),
            int(self.tiled),
        )
        return labels.astype(bool), int(ev)

    def sweep_lanes(
        self,
        lrs: ArrayLike,
        x0s: ArrayLike,
        params: ArrayLike = (),
        steps: int = 1000,
        bound: float = 1e8,
    ) -> tuple[NDArray[np.bool_], int]:
        """Labels of lanes that each have their own learning rate and start.

        ``lrs: (C,)``, ``x0s: (C, d)``, ``params: (P,)`` shared; returns ``(labels: (C,) bool,
        evaluations)``, lane ``i`` equal to ``self(lrs[i:i+1], x0s[i], params, ...)[0][0]``.
        (Liu's ``exp-6.jl``/``exp-7.jl`` draw a fresh x0 for every learning rate.)
        """
        lrs = np.ascontiguousarray(lrs, dtype=np.float64).reshape(-1)
        x0s = np.ascontiguousarray(np.asarray(x0s, np.float64).reshape(lrs.size, self.dim))
        p = self._params(params)
        labels = np.empty(lrs.size, dtype=np.uint8)
        return self._run(1, lrs, x0s, p, steps, bound, labels, lane_x0=True)

    def loss_and_grad(
        self, x: ArrayLike, params: ArrayLike = ()
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """``(f: (C,), g: (C, d))`` at points ``x: (C, d)`` with this kernel's arithmetic."""
        x = np.ascontiguousarray(np.asarray(x, np.float64).reshape(-1, self.dim))
        f = np.empty(x.shape[0])
        g = np.empty_like(x)
        self._lib.tr_eval(
            x.shape[0],
            x.ctypes.data,
            self._params(params).ctypes.data,
            f.ctypes.data,
            g.ctypes.data,
        )
        return f, g

    def sincos(self, u: ArrayLike, turn: str = "quarter") -> tuple[np.ndarray, np.ndarray]:
        """The compiled polynomial ``(sin u, cos u)`` (valid for ``|u| <= R``): ``turn``
        ``"quarter"`` (:data:`SINCOS`) or ``"half"`` (:data:`HALFTURN`)."""
        u = np.ascontiguousarray(np.asarray(u, np.float64).reshape(-1))
        s, c = np.empty_like(u), np.empty_like(u)
        fn = self._lib.tr_sincos if turn == "quarter" else self._lib.tr_hsincos
        fn(u.size, u.ctypes.data, s.ctypes.data, c.ctypes.data)
        return s, c

    def exp(self, x: ArrayLike) -> np.ndarray:
        """The compiled polynomial ``exp x`` (:data:`~trainability.analytic.EXP`, any float64
        ``x: (C,)``), shape ``(C,)``."""
        return self._elementwise(self._lib.tr_expv, x)

    def tanh(self, x: ArrayLike) -> np.ndarray:
        """The compiled polynomial ``tanh x`` (``analytic.tanh_error_bound``), shape ``(C,)``."""
        return self._elementwise(self._lib.tr_tanhv, x)

    def log(self, x: ArrayLike) -> np.ndarray:
        """The compiled polynomial ``log x`` (``analytic.log_error_bound``), shape ``(C,)``."""
        return self._elementwise(self._lib.tr_logv, x)

    def cosh(self, x: ArrayLike) -> np.ndarray:
        """The compiled polynomial ``cosh x`` (``analytic.cosh_error_bound``), shape ``(C,)``."""
        return self._elementwise(self._lib.tr_coshv, x)

    def sinh(self, x: ArrayLike) -> np.ndarray:
        """The compiled polynomial ``sinh x`` (``analytic.sinh_error_bound``), shape ``(C,)``."""
        return self._elementwise(self._lib.tr_sinhv, x)

    def vector_twin(self, name: str, x: ArrayLike) -> np.ndarray:
        """The 4-lane vector version (``tr_v<name>``, used by the register tile) of the
        transcendental ``name`` (``sin``, ``cos``, ``hsin``, ``hcos``, ``exp``, ``tanh``,
        ``log``, ``cosh``, ``sinh``) at ``x: (C,)``; shape ``(C,)``. It is meant to equal the
        scalar function (:meth:`sincos`, :meth:`exp`, ...) bit for bit."""
        if name not in _VECTOR_TWINS:
            raise ValueError(f"name must be one of {', '.join(_VECTOR_TWINS)}, got {name!r}")
        x = np.asarray(x, np.float64).reshape(-1)
        padded = np.zeros(-(-x.size // 4) * 4)
        padded[: x.size] = x
        y = np.empty_like(padded)
        self._lib.tr_vector_fn(
            _VECTOR_TWINS.index(name), padded.size, padded.ctypes.data, y.ctypes.data
        )
        return y[: x.size]

    @staticmethod
    def _elementwise(fn, x: ArrayLike) -> np.ndarray:
        x = np.ascontiguousarray(np.asarray(x, np.float64).reshape(-1))
        y = np.empty_like(x)
        fn(x.size, x.ctypes.data, y.ctypes.data)
        return y


_CRITERION_CODE = {"max": 0, "sum": 1, "above": 2}
#: The order of ``tr_vector_fn``'s index.
_VECTOR_TWINS = ("sin", "cos", "hsin", "hcos", "exp", "tanh", "log", "cosh", "sinh")


def _rebuild(
    source, name, dim, n_params, threads, block, check_period, criterion="max", tiled=True
):
    return CSweepKernel(
        source,
        name,
        dim,
        n_params,
        threads=threads,
        block=block,
        check_period=check_period,
        criterion=criterion,
        tiled=tiled,
    )


@functools.lru_cache(maxsize=64)
def load_sweep_kernel(
    source: str,
    name: str,
    dim: int,
    n_params: int,
    *,
    threads: int | None = None,
    block: int | None = None,
) -> CSweepKernel:
    """Compile (or find on disk) and load the sweep kernel ``source``; one kernel per source.

    ``name`` labels the backend (``"c-poly"``, ``"c-libm"``); ``dim`` and ``n_params`` are the
    numbers of parameter variables and hyperparameters the source was generated for.
    ``block``: learning rates per cache block; default 512, fewer for large ``dim`` so that a
    block's iterates (``2 dim block`` doubles) stay in the L2 cache. ``threads``: OpenMP
    threads (default: all cores).

    Raises :class:`CompileError` when no working C compiler is available and the kernel is
    not cached; the caller should then use the JAX backend.
    """
    if block is None:
        block = min(512, max(32, 4096 // dim // 8 * 8))
    if not isinstance(block, int) or block < 1:
        raise ValueError(f"block must be a positive integer, got {block}")
    return CSweepKernel(
        source, name, dim, n_params, block=block, **({"threads": threads} if threads else {})
    )
