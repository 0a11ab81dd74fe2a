"""Batched grid sweeps against one lr_sweep per cell (the independent reference)."""

import numpy as np
import pytest

from trainability.analytic import family, jax_kernels
from trainability.numeric import grid_sweep, lr_sweep, parameter_grid

LAND = family("additive")
KERNELS = jax_kernels(LAND)


def test_parameter_grid_order():
    names, values = parameter_grid(a=[1, 2], b=[3, 4, 5])
    assert names == ("a", "b")
    assert values.tolist() == [[1, 3], [1, 4], [1, 5], [2, 3], [2, 4], [2, 5]]


def test_grid_matches_per_cell_sweeps():
    """Cells x learning rates in shared chunks give the labels of separate sweeps."""
    _, values = parameter_grid(eps=[0.05, 0.2], lam=[0.5, 1.0])
    res = grid_sweep(KERNELS.loss_and_grad, values, [5.0], levels=7, steps=300, chunk_size=100)
    assert res.labels.shape == (4, 129)
    for i, (eps, lam) in enumerate(values):
        ref = lr_sweep(KERNELS.loss_and_grad, np.array([5.0]), (eps, lam), levels=7, steps=300)
        np.testing.assert_array_equal(res.labels[i], ref.labels)
        np.testing.assert_array_equal(res.boundary_counts[i], ref.boundary_counts)
        assert res.dimension[i] == ref.fit.dimension


def test_grid_per_cell_initial_points():
    x0 = np.array([[1.0], [-3.0], [4.5]])
    params = np.tile([0.2, 1.0], (3, 1))
    res = grid_sweep(KERNELS.loss_and_grad, params, x0, levels=6, steps=200)
    for i in range(3):
        ref = lr_sweep(KERNELS.loss_and_grad, x0[i], (0.2, 1.0), levels=6, steps=200)
        np.testing.assert_array_equal(res.labels[i], ref.labels)


@pytest.mark.parametrize(
    ("params", "x0"), [(np.zeros((2, 2, 2)), [1.0]), (np.zeros((2, 2)), np.zeros((3, 1)))]
)
def test_grid_bad_shapes(params, x0):
    with pytest.raises(ValueError):
        grid_sweep(KERNELS.loss_and_grad, params, x0, levels=4)
