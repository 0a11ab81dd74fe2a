"""Scale-out: run many sweep configurations on a Dask cluster.

The numeric layer stays generic: :func:`dask_map` maps a picklable task over JSON-able
configurations (a local cluster by default, or an existing scheduler), reports progress on
stderr and returns the tasks' small summaries in input order. The tasks themselves write
their labels into a :class:`~trainability.numeric.SweepStore`, the single place results
land, so a grid interrupted at any point resumes by running it again with ``resume``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ._progress import Progress

__all__ = ["dask_map"]


CONNECT_TIMEOUT = 10  # seconds: a wrong address fails fast instead of hanging


def _client(scheduler: str | None, n_workers: int, threads_per_worker: int, processes: bool):
    try:
        from distributed import Client, LocalCluster
    except ImportError as exc:  # pragma: no cover - dask is an optional dependency
        raise ValueError(
            "scale-out needs dask[distributed] (pip install dask[distributed])"
        ) from exc
    if scheduler:
        try:
            return Client(scheduler, timeout=CONNECT_TIMEOUT), None
        except (OSError, ValueError) as exc:  # unreachable, or not an address
            raise ValueError(f"cannot reach the Dask scheduler {scheduler!r}: {exc}") from None
    cluster = LocalCluster(
        n_workers=n_workers,
        threads_per_worker=threads_per_worker,
        processes=processes,
        dashboard_address=None,
    )
    return Client(cluster), cluster


def dask_map(
    task: Callable[[Mapping[str, Any]], dict],
    configs: Sequence[Mapping[str, Any]],
    *,
    scheduler: str | None = None,
    n_workers: int = 2,
    threads_per_worker: int = 1,
    processes: bool = False,
    progress: bool = False,
) -> list[dict[str, Any]]:
    """Run ``task(config)`` for every configuration on Dask; results in input order.

    Args:
        task: a top-level (picklable) function; it should store its labels and return a
            small JSON-able summary.
        configs: one JSON-able mapping per sweep.
        scheduler: address of an existing Dask scheduler (``tcp://host:8786``); by default
            a :class:`distributed.LocalCluster` with ``n_workers`` workers is started and
            shut down afterwards.
        processes: local cluster with worker processes (True) or threads (False; fastest
            start, fine since the kernels release the GIL).
    """
    if not configs:
        return []
    if n_workers < 1 or threads_per_worker < 1:
        raise ValueError("n_workers and threads_per_worker must be >= 1")
    from distributed import as_completed

    client, cluster = _client(scheduler, n_workers, threads_per_worker, processes)
    meter = Progress(len(configs), "grid", "sweeps", enabled=progress)
    try:
        futures = client.map(task, list(configs), pure=False)
        order = {f.key: i for i, f in enumerate(futures)}
        results: list = [None] * len(futures)
        for fut in as_completed(futures):
            results[order[fut.key]] = fut.result()
            meter.update(1)
        return results
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
