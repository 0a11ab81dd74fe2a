"""The "runs" JAX engine (numeric/_runs.py) against the "steps" engine, a brute-force NumPy
loop, closed forms, the c-poly C kernel, and itself on two (forced host) devices."""

import json
import os
import subprocess
import sys

import jax.numpy as jnp
import numpy as np
import pytest

from trainability.analytic import family, fast_jax_kernels, jax_kernels
from trainability.numeric import learning_rates, lr_sweep
from trainability.numeric._runs import RUN_STEPS, as_lanes, runs_labels
from trainability.numeric._sweep import _trainable_and_steps

ADD = family("additive", eps=0.2, lam=0.1)
ADD_K = jax_kernels(ADD)
QUAD = jax_kernels(family("quadratic"))
PARAMS = (0.2, 0.1)


def engines(lg, lrs, x0, params, steps, bound, criterion="max", dtype="float64"):
    """(labels, evaluations) of both JAX engines on the same lanes."""
    return {
        e: _trainable_and_steps(lg, lrs, x0, params, steps, bound, dtype, criterion, e)
        for e in ("steps", "runs")
    }


def runs(lg, lrs, x0=1.0, params=PARAMS, steps=1000, bound=1e8, **kw):
    lrs = jnp.asarray(lrs)
    xs, prm = as_lanes(
        jnp.atleast_1d(jnp.asarray(x0, lrs.dtype)), tuple(map(jnp.asarray, params)), lrs.size
    )
    real = jnp.ones(lrs.size, bool)
    labels, ev = runs_labels(lg, lrs, xs, prm, real, jnp.asarray(bound), steps=steps, **kw)
    return np.asarray(labels), ev


@pytest.mark.parametrize("criterion", ["max", "sum", "above"])
def test_runs_engine_labels_equal_steps_engine(criterion):
    """Fig. 2a protocol, plain jnp.sin kernel (no polynomial, no cond): both engines do the
    same float64 arithmetic per step, so every label is equal; the runs engine never does
    more evaluations than the steps engine (whose count is lanes x (k + 1))."""
    lrs = learning_rates(9, 0.0, 1.5)
    bound = 1e16 if criterion == "sum" else 1e8
    out = engines(ADD_K.loss_and_grad, lrs, 1.0, PARAMS, 1000, bound, criterion)
    np.testing.assert_array_equal(np.asarray(out["runs"][0]), np.asarray(out["steps"][0]))
    assert 0 < out["runs"][1] <= out["steps"][1]


def test_unrolled_runs_equal_rolled_runs():
    """The accelerator default (16 unrolled steps, whole runs plus a static tail) against the
    CPU default (rolled steps, a shorter last run): same labels and evaluations."""
    lrs = learning_rates(8, 0.0, 1.5)
    rolled = runs(ADD_K.loss_and_grad, lrs, steps=300, unroll=False)
    unrolled = runs(ADD_K.loss_and_grad, lrs, steps=300, unroll=True)
    np.testing.assert_array_equal(unrolled[0], rolled[0])
    assert unrolled[1] == rolled[1]


def first_divergence(lrs, x0, steps, bound):
    """Brute-force NumPy loop for f = x^2: index k of the first x_k with f(x_k) > bound."""
    x = np.full(lrs.size, x0)
    first = np.full(lrs.size, steps + 1)
    with np.errstate(over="ignore", invalid="ignore"):
        return _first(x, lrs, first, steps, bound)


def _first(x, lrs, first, steps, bound):
    for k in range(steps + 1):
        bad = (x * x > bound) & (first > steps)
        first[bad] = k
        x = x - lrs * 2 * x
    return first


def test_evaluations_stop_after_the_run_of_the_last_divergence():
    """Every lane of s in [1.05, 1.5] diverges (|1 - 2s| > 1); the loop stops after the run
    that contains the last first-divergence index K (NumPy loop), so the count is exactly
    lanes x (1 + 16 ceil(K / 16)) without compaction (x_0, then runs of 16 steps)."""
    lrs = np.linspace(1.05, 1.5, 300)
    labels, ev = runs(QUAD.loss_and_grad, lrs, params=(), min_bucket=10**9)
    k_last = first_divergence(lrs, 1.0, 1000, 1e8).max()
    assert not labels.any()
    assert ev == lrs.size * (1 + RUN_STEPS * -(-k_last // RUN_STEPS))


@pytest.mark.parametrize("unroll", [False, True])
def test_tail_run_counts_the_remaining_evaluations(unroll):
    """Trainable lanes that never repeat run all 1 + 1000 = 1 + 62 * 16 + 8 evaluations:
    rolled, a shorter last run; unrolled (the accelerator default), a separate static tail."""
    lrs = np.linspace(0.01, 0.02, 64)  # x_k = (1 - 2s)^k: decays, stays far from 0 bits
    labels, ev = runs(QUAD.loss_and_grad, lrs, params=(), steps=1000, unroll=unroll)
    assert labels.all() and ev == lrs.size * 1001


def test_periodic_lanes_finish_early_and_stay_trainable():
    """f = x^2, s in [0.4, 0.6]: x_k = (1 - 2s)^k x0 reaches exactly 0 (|1 - 2s| <= 0.2, ~470
    steps), a fixed point: those lanes finish at the next run boundary, labelled trainable as
    by the steps engine, with fewer evaluations."""
    lrs = np.linspace(0.4, 0.6, 101)
    out = engines(QUAD.loss_and_grad, lrs, 1.0, (), 2000, 1e8)
    np.testing.assert_array_equal(np.asarray(out["runs"][0]), np.asarray(out["steps"][0]))
    assert np.asarray(out["runs"][0]).all()
    assert out["runs"][1] < 0.3 * lrs.size * 2001


def shifted(x, params):
    """f = (x - 1)^2 + 1: x0 = 1 is a fixed point with loss 1 at every step."""
    return (x[:, 0] - 1) ** 2 + 1, 2 * (x - 1)


@pytest.mark.parametrize(
    "bound, trainable", [(500.0, False), (999.5, False), (1000.5, True), (2000.0, True)]
)
def test_sum_rule_periodic_lane_finishes_only_when_the_sum_stays_below(bound, trainable):
    """Under "sum" a fixed point with loss 1 adds 1 per step: the sum of 1000 terms is 1000,
    (f(x_0) is not part of it), so the lane diverges for bounds 500 and 999.5 and is
    trainable for 1000.5 and 2000 (closed form). The periodicity check must not finish it
    early in the divergent cases."""
    lrs = np.linspace(0.1, 0.3, 8)
    for e, (labels, _) in engines(shifted, lrs, 1.0, (), 1000, bound, "sum").items():
        assert np.asarray(labels).tolist() == [trainable] * 8, e
    if trainable:  # finished at the first run boundary
        assert engines(shifted, lrs, 1.0, (), 1000, bound, "sum")["runs"][1] == 8 * (1 + RUN_STEPS)


def test_compaction_keeps_labels_and_saves_evaluations():
    """Fig. 2a protocol on s in [0.95, 1.3] (85 % diverge early): compacting live lanes into
    buckets of 512 and 256 gives the labels of the uncompacted run, with fewer evaluations."""
    lrs = learning_rates(10, 0.95, 1.3)[:1024]
    full, ev_full = runs(ADD_K.loss_and_grad, lrs, min_bucket=10**9)
    packed, ev_packed = runs(ADD_K.loss_and_grad, lrs, min_bucket=256)
    np.testing.assert_array_equal(packed, full)
    assert ev_packed < 0.6 * ev_full
    assert 0.5 < 1 - full.mean() < 0.95


def test_padding_lanes_are_not_counted_and_do_not_hold_the_loop():
    """label_chunk pads the last chunk; padding lanes start finished and are not counted:
    a 3-lane sweep of divergent learning rates in a 64-lane chunk stops at their divergence."""
    lrs = np.array([1.4, 1.45, 1.5])
    labels, ev = _trainable_and_steps(
        QUAD.loss_and_grad,
        np.r_[lrs, np.full(61, 0.1)],
        1.0,
        (),
        1000,
        1e8,
        "float64",
        n_real=3,
    )
    k_last = first_divergence(lrs, 1.0, 1000, 1e8).max()
    assert not np.asarray(labels)[:3].any()
    assert ev == 3 * (1 + RUN_STEPS * -(-k_last // RUN_STEPS))


def test_lane_parameters_and_starts_are_compacted_with_their_lanes():
    """Per-lane hyperparameters and starts (the grid's layout): lanes with eps = 0 are the
    quadratic (diverge iff s > 1), the rest Fig. 2a; compaction must carry each lane's eps
    and x0 along (labels equal the per-lane sweeps without compaction)."""
    lrs = np.tile(learning_rates(8, 0.9, 1.4)[:256], 4)
    eps = np.repeat([0.0, 0.2, 0.0, 0.2], 256)
    x0 = np.repeat([1.0, 1.0, 0.5, 0.5], 256)[:, None]
    lg = ADD_K.loss_and_grad
    xs, prm = jnp.asarray(x0), (jnp.asarray(eps), jnp.asarray(0.1))
    real = jnp.ones(lrs.size, bool)
    packed, _ = runs_labels(
        lg, jnp.asarray(lrs), xs, prm, real, jnp.asarray(1e8), steps=500, min_bucket=64
    )
    for c in range(4):
        sl = slice(256 * c, 256 * (c + 1))
        alone, _ = runs(lg, lrs[sl], x0[sl][0], (eps[sl][0], 0.1), steps=500, min_bucket=10**9)
        np.testing.assert_array_equal(np.asarray(packed)[sl], alone)
    # eps = 0, x0 = 1: f = x^2, divergent iff (2s - 1)^(2k) > B for some k <= 500 (closed form).
    s_star = (1 + 1e8 ** (1 / 1000)) / 2
    far = np.abs(lrs[:256] - s_star) > 1e-9
    np.testing.assert_array_equal(np.asarray(packed)[:256][far], (lrs[:256] < s_star)[far])


def test_jax_poly_runs_engine_agrees_with_c_poly_at_2_16():
    """Fig. 2a at 2^16 + 1 learning rates: the runs engine with the polynomial sin/cos
    against the c-poly C kernel (same polynomial and, measured here, the same float64 orbits:
    0 labels differ); labels may differ only at rounding-sensitive points (about 4e-4 between
    float64 implementations, issue 17) on another compiler or CPU,
    and B_N is equal on the coarse levels (<= 12; the finest ones are rounding-sensitive:
    c-libm and c-poly themselves differ there)."""
    from trainability.verify import c_sweep_kernel

    kw = dict(levels=16, steps=1000, bound=1e8)
    jx = lr_sweep(fast_jax_kernels(ADD).loss_and_grad, 1.0, PARAMS, chunk_size=2**14, **kw)
    c = lr_sweep(None, 1.0, PARAMS, backend=c_sweep_kernel(ADD, "poly"), **kw)
    differ = np.mean(jx.labels != c.labels)
    assert differ <= 1e-3, differ
    np.testing.assert_array_equal(jx.boundary_counts[:13], c.boundary_counts[:13])
    print(f"labels differing from c-poly: {differ:.2e}")
    assert jx.evaluations < jx.n_points * 1001  # early exit of all-divergent chunks


SHARDED = """
import json, numpy as np, jax, jax.numpy as jnp
from trainability.analytic import family, jax_kernels
from trainability.numeric import learning_rates
from trainability.numeric._runs import _place, as_lanes, runs_labels
from trainability.numeric._sweep import _lane_sharding
lg = jax_kernels(family("additive", eps=0.2, lam=0.1)).loss_and_grad
lrs = jnp.asarray(learning_rates(10, 0.9, 1.4)[:1024])
xs, prm = as_lanes(jnp.ones(1), (jnp.asarray(0.2), jnp.asarray(0.1)), 1024)
sh = _lane_sharding()
labels, ev = runs_labels(lg, lrs, xs, prm, jnp.ones(1024, bool), jnp.asarray(1e8),
                         steps=1000, min_bucket=128, sharding=sh)
placed = _place({"lr": lrs}, sh)["lr"]
print(json.dumps({"devices": jax.device_count(), "placed_on": len(placed.sharding.device_set),
                  "labels": np.asarray(labels).tolist(), "ev": ev}))
"""


def test_sharded_over_two_host_devices_gives_the_one_device_labels():
    """Lanes split over two forced host devices (XLA_FLAGS) in a subprocess: labels (with
    compaction down to 128 lanes) equal this process's one-device run."""
    env = {**os.environ, "XLA_FLAGS": "--xla_force_host_platform_device_count=2"}
    proc = subprocess.run(
        [sys.executable, "-c", SHARDED], env=env, capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    got = json.loads(proc.stdout.strip().splitlines()[-1])
    assert got["devices"] == 2 and got["placed_on"] == 2
    lrs = learning_rates(10, 0.9, 1.4)[:1024]
    labels, ev = runs(ADD_K.loss_and_grad, lrs, min_bucket=128)
    np.testing.assert_array_equal(np.array(got["labels"]), labels)
    assert got["ev"] == ev


@pytest.mark.parametrize("bound, trainable", [(3.0, False), (5.0, True)])
def test_first_step_uses_the_gradient_at_x0(bound, trainable):
    """f = x^2, s = 1.5, one step: x_1 = (1 - 2s) x_0 = -2, f(x_1) = 4 (closed form), so the
    label flips between bounds 3 and 5 (f(x_0) = 1 is below both), in both engines."""
    for e, (labels, _) in engines(QUAD.loss_and_grad, np.array([1.5]), 1.0, (), 1, bound).items():
        assert bool(np.asarray(labels)[0]) is trainable, e
