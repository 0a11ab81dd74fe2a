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


# ----------------------------------------------------------------- compiled kernel


def _c_kernel(land=LAND):
    from trainability.numeric import CompileError
    from trainability.verify import c_sweep_kernel

    try:
        return c_sweep_kernel(land, "poly")
    except CompileError as exc:  # pragma: no cover - CI has gcc
        pytest.skip(f"no C compiler: {exc}")


# Different eps, lam and x0 in every cell: a wrong per-cell offset of either in the C
# driver gives another cell's labels.
_, C_PARAMS = parameter_grid(eps=[0.03, 0.1, 0.2], lam=[0.5, 0.8, 1.0, 1.3])
C_X0 = np.linspace(3.0, 5.5, C_PARAMS.shape[0])[:, None]


def test_grid_c_kernel_matches_per_cell_sweeps():
    """One multi-cell call per group of cells gives the labels of one lr_sweep per cell with
    the same kernel, bit for bit (same arithmetic, only the scheduling differs)."""
    kernel = _c_kernel()
    res = grid_sweep(None, C_PARAMS, C_X0, levels=9, steps=400, backend=kernel)
    assert res.backend == "c-poly" and res.labels.shape == (12, 513)
    assert len({row.tobytes() for row in res.labels}) > 6  # the cells really differ
    for i in range(res.n_cells):
        ref = lr_sweep(None, C_X0[i], tuple(C_PARAMS[i]), levels=9, steps=400, backend=kernel)
        np.testing.assert_array_equal(res.labels[i], ref.labels, err_msg=f"cell {i}")


def test_grid_c_kernel_split_calls_and_kernels_without_sweep_cells(monkeypatch):
    """Calls split along learning rates (a tiny lane budget), and a LabelKernel without the
    optional ``sweep_cells`` (called cell by cell), give the same labels."""
    import trainability.numeric._grid as grid_module

    kernel = _c_kernel()
    whole = grid_sweep(None, C_PARAMS, C_X0, levels=9, steps=400, backend=kernel)
    monkeypatch.setattr(grid_module, "_KERNEL_LANES", 100)
    split = grid_sweep(None, C_PARAMS, C_X0, levels=9, steps=400, backend=kernel)
    np.testing.assert_array_equal(split.labels, whole.labels)

    class CellByCell:
        name = "c-poly-per-cell"

        def __call__(self, lrs, x0, params, steps, bound):
            return kernel(lrs, x0, params, steps, bound)

    plain = grid_sweep(None, C_PARAMS, C_X0, levels=9, steps=400, backend=CellByCell())
    assert plain.backend == "c-poly-per-cell"
    np.testing.assert_array_equal(plain.labels, whole.labels)


def test_grid_c_kernel_without_hyperparameters():
    """P = 0 (the C side reads one dummy value per cell): x**2 has its boundary at s = 1."""
    kernel = _c_kernel(family("quadratic"))
    res = grid_sweep(None, np.zeros((3, 0)), [[1.0], [2.0], [-3.0]], levels=4, backend=kernel)
    np.testing.assert_array_equal(res.boundary_counts, np.ones((3, 5), dtype=int))


def test_grid_c_kernel_against_jax():
    """The compiled grid against the JAX grid. Next to a fractal boundary labels are
    rounding-sensitive: XLA contracts the step's arithmetic differently from gcc and the
    polynomial sine differs from jnp.sin in the last bits, so an orbit that passes within a
    rounding of the divergence threshold can go either way. Such labels are a tiny fraction
    (about 0.05% on the Fig. 2a protocol); a wrong kernel differs on far more."""
    kernel = _c_kernel()
    c = grid_sweep(None, C_PARAMS, C_X0, levels=10, steps=1000, backend=kernel)
    j = grid_sweep(KERNELS.loss_and_grad, C_PARAMS, C_X0, levels=10, steps=1000)
    assert j.backend == "jax"
    assert np.mean(c.labels != j.labels) <= 0.005
    # Smooth cells (convex: roughness <= 1/(2 pi^2)) have one boundary, identical labels.
    convex = C_PARAMS[:, 0] / C_PARAMS[:, 1] ** 2 <= 1 / (2 * np.pi**2)
    assert convex.any()
    np.testing.assert_array_equal(c.labels[convex], j.labels[convex])


def test_grid_c_kernel_needs_float64():
    with pytest.raises(ValueError, match="float64"):
        grid_sweep(None, C_PARAMS, C_X0, levels=4, dtype="float32", backend=_c_kernel())
