"""Grids of sweep configurations on Dask, landing in one result store."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from trainability.analytic import family, from_expression
from trainability.numeric import dask_map

from ._sweeps import backend_name, sweep_landscape

__all__ = ["sweep_config", "dask_sweeps"]

_SWEEP_KEYS = ("levels", "lr_min", "lr_max", "steps", "bound", "dtype")


def sweep_config(config: Mapping[str, Any]) -> dict[str, Any]:
    """Run one sweep described by a JSON-able ``config`` into its store; return a summary.

    Keys: ``family`` (name) or ``expr`` (text), ``params`` (dict), ``dim``, ``x0``,
    ``out`` (store folder), ``backend``, ``resume``, and any of ``levels``, ``lr_min``,
    ``lr_max``, ``steps``, ``bound``, ``dtype``. Top-level, so Dask can ship it to workers.
    """
    params = dict(config.get("params", {}))
    if "family" in config:
        land = family(config["family"], dim=int(config.get("dim", 1)), **params)
    else:
        land = from_expression(config["expr"], params, dim=config.get("dim"))
    kwargs = {k: config[k] for k in _SWEEP_KEYS if k in config}
    backend = config.get("backend", "auto")
    r = sweep_landscape(
        land,
        config["x0"],
        backend=backend,
        out=config["out"],
        resume=bool(config.get("resume", True)),
        **kwargs,
    )
    return {
        "key": r.path.name,
        "backend": backend_name(backend, r.config["backend"]),
        "boundary_counts": r.boundary_counts.tolist(),
        "dimension": r.fit.dimension,
        "dimension_stderr": r.fit.stderr,
        "fit_levels": list(r.fit.levels),
        "divergent_fraction": r.divergent_fraction,
        "chunks_computed": r.chunks_computed,
        "chunks_reused": r.chunks_reused,
        "seconds": r.seconds,
    }


def dask_sweeps(
    configs: Sequence[Mapping[str, Any]],
    out: str | Path,
    *,
    scheduler: str | None = None,
    resume: bool = True,
    n_workers: int = 2,
    processes: bool = False,
    progress: bool = False,
    **common: Any,
) -> list[dict[str, Any]]:
    """Run a grid of sweeps on Dask (local cluster unless ``scheduler`` is an address).

    Every configuration gets ``out``, ``resume`` and the ``common`` keys (its own keys win),
    so all labels land in the one store at ``out``; finished sweeps are reused on a rerun.
    Returns one summary per configuration (see :func:`sweep_config`), in order.

    >>> grid = [{"family": "quadratic", "x0": 1.0, "levels": 4, "steps": 50}]
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     dask_sweeps(grid, d, backend="jax")[0]["boundary_counts"]
    [1, 1, 1, 1, 1]
    """
    full = [{**common, "out": str(out), "resume": resume, **dict(c)} for c in configs]
    return dask_map(
        sweep_config,
        full,
        scheduler=scheduler,
        n_workers=n_workers,
        processes=processes,
        progress=progress,
    )
