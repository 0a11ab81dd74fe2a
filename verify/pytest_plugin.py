"""pytest plugin for suites that test losses with trainability (entry point ``pytest11``).

Installed with the package; nothing to configure. It adds:

- the option ``--trainability-level N`` (1 quick, 2 standard, 3 thorough; default 1, or
  the ``trainability_level`` ini value) that scales sweep sizes and curvature samples;
- the session fixtures ``trainability_level`` (the int), ``trainability_sizes`` (a
  :class:`Sizes`), ``trainability_kernels`` (a :class:`KernelCache`: kernels generated,
  compiled and warmed once per session, so the first Hypothesis example does not pay the
  compile time inside its deadline) and ``trainability_sweep`` (a learning-rate sweep of a
  landscape at the level's size).

Heavy modules (JAX, the C compiler) are imported only when a fixture is used.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    import jax

    from trainability.analytic import Kernels, Landscape
    from trainability.numeric import CSweepKernel

    #: ``(loss_and_grad, backend)`` as :func:`~trainability.verify.sweep_backend` returns it.
    SweepBackend = tuple[Callable[..., tuple[jax.Array, jax.Array]] | None, str | CSweepKernel]

__all__ = ["KernelCache", "Sizes", "SIZES", "sizes"]


@dataclass(frozen=True)
class Sizes:
    """Work sizes at one level: sweep ``levels`` (``2**levels + 1`` learning rates), GD
    ``steps`` per learning rate, and dense-curvature ``samples``."""

    level: int
    levels: int
    steps: int
    samples: int


#: Sizes by level: each level about 4-16 times the work of the one below.
SIZES = {
    1: Sizes(1, levels=12, steps=200, samples=4_001),
    2: Sizes(2, levels=14, steps=500, samples=20_001),
    3: Sizes(3, levels=16, steps=1000, samples=100_001),
}


def sizes(level: int) -> Sizes:
    """The :class:`Sizes` of ``level`` (1, 2 or 3)."""
    if level not in SIZES:
        raise ValueError(f"trainability level must be one of {sorted(SIZES)}, got {level}")
    return SIZES[level]


class KernelCache:
    """Kernels of landscapes, generated once per session and warmed by one call.

    ``cache(land, backend)`` with ``backend`` ``"numpy"``, ``"jax"`` or ``"mpmath"`` returns
    :class:`~trainability.analytic.Kernels`; a sweep backend name (``"auto"``, ``"c-poly"``,
    ``"c-libm"``, ``"jax-poly"``) returns the ``(loss_and_grad, backend)`` pair that
    :func:`~trainability.numeric.lr_sweep` takes. Kernels depend on the expression only, so
    every hyperparameter draw of one loss shares them. ``built`` counts generations.
    """

    def __init__(self) -> None:
        self._cache: dict[tuple[Hashable, ...], Kernels | SweepBackend] = {}
        self.built: int = 0

    def __call__(self, land: Landscape, backend: str = "numpy") -> Kernels | SweepBackend:
        from trainability.analytic import ArtifactCache

        key = ArtifactCache.key(land, backend)
        if key not in self._cache:
            self._cache[key] = self._build(land, backend)
            self.built += 1
        return self._cache[key]

    @staticmethod
    def _build(land: Landscape, backend: str) -> Kernels | SweepBackend:
        import numpy as np

        from trainability import analytic

        if backend in ("numpy", "jax", "mpmath"):
            kernels = getattr(analytic, f"{backend}_kernels")(land)
            x = [0.5] * land.dim if backend == "mpmath" else np.full((1, land.dim), 0.5)
            kernels.loss_and_grad(x, (1.0,) * len(land.parameter_names))  # warm (jit)
            return kernels
        from trainability.verify import sweep_backend

        pair = sweep_backend(land, backend)
        from trainability.numeric import label_chunk

        # One short chunk compiles the kernel (C or jit) before any test times itself.
        label_chunk(
            pair[0],
            np.full(land.dim, 0.5),
            (1.0,) * len(land.parameter_names),
            np.array([0.1]),
            steps=2,
            bound=1e8,
            backend=pair[1],
        )
        return pair


def pytest_addoption(parser: pytest.Parser) -> None:
    """The ``--trainability-level`` option and its ``trainability_level`` ini default."""
    group = parser.getgroup("trainability")
    group.addoption(
        "--trainability-level",
        type=int,
        choices=sorted(SIZES),
        default=None,
        help="sweep sizes of trainability fixtures: 1 quick, 2 standard, 3 thorough",
    )
    parser.addini("trainability_level", "default --trainability-level", default="1")


@pytest.fixture(scope="session")
def trainability_level(request) -> int:
    """The ``--trainability-level`` (or the ``trainability_level`` ini value)."""
    level = request.config.getoption("trainability_level")
    if level is None:
        level = int(request.config.getini("trainability_level"))
    sizes(level)  # a bad ini value fails here, with the reason
    return level


@pytest.fixture(scope="session")
def trainability_sizes(trainability_level) -> Sizes:
    """The :class:`Sizes` at the session's level."""
    return sizes(trainability_level)


@pytest.fixture(scope="session")
def trainability_kernels() -> KernelCache:
    """One :class:`KernelCache` for the session."""
    return KernelCache()


@pytest.fixture(scope="session")
def trainability_sweep(trainability_sizes, trainability_kernels):
    """``sweep(land, x0=1.0, **kw)``: a learning-rate sweep at the level's size through the
    session's cached kernel (``kw`` go to :func:`~trainability.numeric.lr_sweep`)."""

    def sweep(land, x0=1.0, backend: str = "auto", **kw):
        from trainability.numeric import lr_sweep
        from trainability.verify import initial_point

        lg, resolved = trainability_kernels(land, backend)
        kw.setdefault("levels", trainability_sizes.levels)
        kw.setdefault("steps", trainability_sizes.steps)
        params = land.parameter_values()
        return lr_sweep(lg, initial_point(land, x0), params, backend=resolved, **kw)

    return sweep
