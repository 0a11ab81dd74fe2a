"""Label robustness against mpmath reference orbits."""

import dataclasses

import numpy as np

from trainability.analytic import family
from trainability.numeric import boundary_counts
from trainability.verify import boundary_label_indices, label_robustness, sweep_landscape


def test_boundary_label_indices():
    labels = np.array([1, 1, 0, 0, 1, 1], bool)
    assert boundary_label_indices(labels).tolist() == [1, 2, 3, 4]
    assert boundary_label_indices(np.ones(5, bool)).tolist() == []


def test_quadratic_labels_are_robust():
    """x^2: the single boundary at s = 1 is exact; float64 and mpmath agree everywhere."""
    land = family("quadratic")
    sweep = sweep_landscape(land, 1.0, levels=4, steps=60)
    rob = label_robustness(land, sweep, 1.0, dps=30)
    assert rob.n_boundary_labels == 2 and rob.n_sensitive == 0 and rob.n_undetermined == 0
    np.testing.assert_array_equal(rob.counts_reference, rob.counts_float64)


def test_a_wrong_label_is_caught_and_replaced():
    """Flip one divergent label to trainable: the reference must flag it and restore B_N."""
    land = family("quadratic")
    sweep = sweep_landscape(land, 1.0, levels=4, steps=60)
    labels = sweep.labels.copy()
    lrs = sweep.learning_rates()
    i = int(np.flatnonzero(lrs > 1.2)[0])
    assert not labels[i]
    labels[i] = True
    bad = dataclasses.replace(sweep, labels=labels)
    rob = label_robustness(land, bad, 1.0, dps=30)
    assert rob.n_sensitive == 1 and rob.sensitive_learning_rates == (float(lrs[i]),)
    np.testing.assert_array_equal(rob.counts_reference, boundary_counts(sweep.labels))
    assert rob.fraction_sensitive == 1 / rob.n_checked
