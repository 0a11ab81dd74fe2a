"""Dask scale-out: a small (eps, lam) grid on a local cluster, landing in one store.

Reference: the same sweeps run directly with ``sweep_landscape`` (no Dask).
"""

import pytest

from trainability.analytic import family
from trainability.numeric import SweepStore, dask_map
from trainability.verify import dask_sweeps, sweep_landscape

GRID = [
    {"family": "additive", "params": {"eps": e, "lam": lam}}
    for e in (0.05, 0.2)
    for lam in (0.1, 0.5)
]
COMMON = dict(x0=5.0, levels=9, steps=200, backend="auto")


def test_grid_on_local_cluster_matches_direct_sweeps(tmp_path):
    results = dask_sweeps(GRID, tmp_path, n_workers=2, processes=False, **COMMON)
    assert len(results) == 4 and len(SweepStore(tmp_path).keys()) == 4
    for cfg, res in zip(GRID, results, strict=True):
        direct = sweep_landscape(
            family("additive", **cfg["params"]), 5.0, levels=9, steps=200, backend="auto"
        )
        assert res["boundary_counts"] == direct.boundary_counts.tolist()
        assert res["chunks_computed"] == 1
    again = dask_sweeps(GRID, tmp_path, n_workers=2, processes=False, **COMMON)
    assert all(r["chunks_computed"] == 0 and r["chunks_reused"] == 1 for r in again)
    assert [r["boundary_counts"] for r in again] == [r["boundary_counts"] for r in results]


def _square(config):
    return {"y": config["x"] ** 2}


def test_dask_map_keeps_order_and_validates():
    out = dask_map(_square, [{"x": i} for i in range(6)], n_workers=2)
    assert [o["y"] for o in out] == [i * i for i in range(6)]
    assert dask_map(_square, []) == []
    with pytest.raises(ValueError):
        dask_map(_square, [{"x": 1}], n_workers=0)


@pytest.mark.slow
def test_grid_with_worker_processes(tmp_path):
    """Worker processes: tasks and C kernels are pickled and rebuilt from the disk cache."""
    results = dask_sweeps(GRID[:2], tmp_path, n_workers=2, processes=True, **COMMON)
    threads = dask_sweeps(GRID[:2], tmp_path / "b", n_workers=1, processes=False, **COMMON)
    assert [r["boundary_counts"] for r in results] == [r["boundary_counts"] for r in threads]
