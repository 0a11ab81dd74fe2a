"""The ``"runs"`` JAX engine of the learning-rate sweep: runs of GD steps, compacted lanes.

The same design as the C kernel's tiled driver (``tr_run_block_tiled`` in
``analytic/_codegen_c.py``), in JAX: after the loss evaluation at ``x_0``, the ``steps`` GD
steps (each followed by the evaluation at the new iterate) run as runs of
:data:`RUN_STEPS` steps inside a ``lax.while_loop``, the divergence flags accumulated
inside the run, then the remaining ``steps % RUN_STEPS`` steps. The while_loop's
predicate (a device-to-host transfer on a GPU) is read once per run, not once per step.

After each run a lane is *finished* when it diverged or when its iterate equals, bit for
bit, the iterate at the start of the run: the deterministic map then repeats the run's
iterates forever, all of whose losses were checked (the C driver's periodicity check;
under ``"sum"`` only if the sum cannot reach the bound in the remaining steps, as in C). The
loop exits when every lane is finished. Shapes are static in JAX, so compaction is by
stages: when at most ``size / shrink`` lanes are live, they are re-packed
(``jnp.nonzero``) into a bucket ``shrink`` times smaller, and the loop goes on there (one
compiled loop per bucket size, compiled only when a sweep reaches it).
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np

from . import _x64  # noqa: F401

__all__ = ["RUN_STEPS", "runs_labels"]

#: GD steps per run (the C driver's ``TR_PERIOD``, also its periodicity-check interval).
RUN_STEPS = 16


def _bits(x: jax.Array) -> jax.Array:
    """The bit patterns of a float array as integers of the same width."""
    return jax.lax.bitcast_convert_type(x, jnp.int64 if x.dtype == jnp.float64 else jnp.int32)


def _live(lane: dict) -> jax.Array:
    return ~lane["div"] & ~lane["fin"]


def _full_params(lane: dict, shared: tuple) -> tuple:
    """Hyperparameters in order: ``shared`` holds None where a lane array is in ``lane``."""
    lane_p = iter(lane["p"])
    return tuple(next(lane_p) if p is None else p for p in shared)


@functools.lru_cache(maxsize=64)
def _engine(loss_and_grad: Callable, steps: int, criterion: str, unroll: bool):
    """Jitted ``(first, stage, tail, compact, collect)`` for one (loss, steps, rule, unroll)."""
    summed, above = criterion == "sum", criterion == "above"
    # Unrolled: whole runs in the loop and a static tail; rolled: one loop, a shorter last run.
    full_runs = steps // RUN_STEPS if unroll else -(-steps // RUN_STEPS)

    @jax.jit
    def first(lane, shared, bound):
        """The evaluation at ``x_0`` (checked by the max rule only) before any run."""
        f, g = loss_and_grad(lane["x"], _full_params(lane, shared))
        if not (summed or above):
            lane = {**lane, "div": ~(jnp.isfinite(f) & (f <= bound)) & ~lane["fin"]}
        return {**lane, "g": g}

    def run(k0, lane, shared, bound, length, rolled):
        """``length`` GD steps of every lane of the bucket after evaluation index ``k0``
        (``length`` may be traced when ``rolled``). Step then evaluate, with the gradient
        carried, as the steps engine: XLA fuses "evaluate then step" differently, and its
        float64 orbits then differ in the last bits (measured), the order used here gives
        the steps engine's (and c-poly's) orbits."""
        prm = _full_params(lane, shared)
        fin, xs, lr = lane["fin"], lane["xs"], lane["lr"]

        def one(i, carry):
            x, g, div, total, top = carry
            # Diverged lanes restart from x0 (as the "steps" engine): their label is final,
            # and huge iterates stay away from the exact (slow) paths of fast kernels.
            x = jnp.where(div[:, None], xs, x - lr[:, None] * g)
            f, g = loss_and_grad(x, prm)
            if summed:  # f(x_1) + ... + f(x_k): the initial loss is not part of the sum
                total = total + f
                bad = ~(total < bound)
                top = jnp.where(f <= top, top, f)  # the run's largest loss
            elif above:  # Liu's exp-3.py: only a loss above the bound diverges
                bad = f > bound
            else:  # a non-finite loss diverges whatever the bound (inf <= inf would pass)
                bad = ~(jnp.isfinite(f) & (f <= bound))
            return x, g, div | (bad & ~fin), total, top

        top = jnp.full(lr.shape, -jnp.inf, lr.dtype)
        carry = (lane["x"], lane["g"], lane["div"], lane["total"], top)
        # XLA:CPU runs 16 unrolled steps several times slower than the rolled loop
        # (measured); on accelerators unrolling avoids a predicate transfer per step.
        x, g, div, total, top = jax.lax.fori_loop(
            0, length, one, carry, unroll=1 if rolled else True
        )
        return {**lane, "x": x, "g": g, "div": div, "total": total}, top

    def body(state, shared, bound):
        r, lane, ev = state
        k0 = r * RUN_STEPS
        length = RUN_STEPS if unroll else jnp.minimum(RUN_STEPS, steps - k0)
        start = lane["x"]
        lane, top = run(k0, lane, shared, bound, length, not unroll)
        # Bit for bit (the C driver's memcmp): -0.0 and 0.0 differ, NaN never repeats.
        same = jnp.all(_bits(lane["x"]) == _bits(start), axis=1)
        if summed:
            left = (steps - (k0 + RUN_STEPS)).astype(lane["total"].dtype)
            same &= lane["total"] + left * jnp.maximum(top, 0.0) < bound * (1 - 1e-9)
        lane = {**lane, "fin": lane["fin"] | same}  # a diverged lane's label is final anyway
        return r + 1, lane, ev + length * jnp.sum(lane["real"], dtype=jnp.int64)

    @functools.partial(jax.jit, static_argnames="nxt")
    def stage(state, shared, bound, nxt):
        """Runs until every lane is finished, the last whole run is done, or at most
        ``nxt`` lanes are live."""

        def cond(state):
            r, lane, _ = state
            return (r < full_runs) & (jnp.sum(_live(lane)) > nxt)

        return jax.lax.while_loop(cond, lambda s: body(s, shared, bound), state)

    @jax.jit
    def tail(state, shared, bound):
        r, lane, ev = state
        rem = steps - full_runs * RUN_STEPS
        lane, _ = run(full_runs * RUN_STEPS, lane, shared, bound, rem, True)
        return r, lane, ev + rem * jnp.sum(lane["real"], dtype=jnp.int64)

    @functools.partial(jax.jit, static_argnames="nxt")
    def compact(lane, nxt):
        keep = _live(lane)
        idx = jnp.nonzero(keep, size=nxt, fill_value=0)[0]
        valid = jnp.arange(nxt) < jnp.sum(keep)
        out = jax.tree.map(lambda a: a[idx], lane)
        # Slots past the live lanes copy lane 0: finished padding, never collected.
        out["pos"] = jnp.where(valid, out["pos"], jnp.iinfo(out["pos"].dtype).max)
        out["real"] &= valid
        out["fin"] |= ~valid
        return out

    @jax.jit
    def collect(div_all, lane):
        return div_all.at[lane["pos"]].set(lane["div"], mode="drop")

    return first, stage, tail, compact, collect


def _place(lane: dict, sharding) -> dict:
    """Lane arrays split over the devices of ``sharding`` (first axis) when it divides."""
    if sharding is None or lane["lr"].shape[0] % len(sharding.mesh.devices):
        return lane
    return jax.device_put(lane, sharding)


def runs_labels(
    loss_and_grad: Callable,
    lrs: jax.Array,
    xs: jax.Array,
    params: tuple,
    real: jax.Array,
    bound: jax.Array,
    *,
    steps: int,
    criterion: str = "max",
    unroll: bool | None = None,
    shrink: int = 2,
    min_bucket: int = 4096,
    sharding=None,
) -> tuple[jax.Array, int]:
    """Labels of the lanes by the runs engine (module docstring) and the evaluations done.

    Args:
        loss_and_grad: ``(x: (C, d), params) -> (f: (C,), g: (C, d))``.
        lrs: ``(C,)`` learning rates; ``xs: (C, d)`` initial points.
        params: scalars or ``(C,)`` lane arrays.
        real: ``(C,)`` bool, False for padding lanes (they start finished, are dropped at
            the first compaction and are not counted).
        unroll: unroll the run's steps (default: on accelerators, not on CPU).
        shrink, min_bucket: compaction to ``size // shrink`` lanes, not below
            ``min_bucket`` (``shrink=1`` or a huge ``min_bucket``: no compaction).
        sharding: a ``NamedSharding`` spreading the lanes over devices, or None.

    Returns ``(labels: (C,) bool, evaluations)``: True = trainable; ``evaluations`` counts
    the loss evaluations of real lanes in the buckets (finished lanes not yet compacted
    away are computed, and counted).
    """
    if unroll is None:
        unroll = jax.default_backend() != "cpu"
    first, stage, tail, compact, collect = _engine(
        loss_and_grad, int(steps), criterion, bool(unroll)
    )
    lanes = int(lrs.shape[0])
    lane = {
        "x": xs,
        "xs": xs,
        "lr": lrs,
        "p": tuple(p for p in params if p.ndim),
        "div": jnp.zeros(lanes, bool),
        "fin": ~real,  # padding lanes start finished: they never hold the loop up
        "total": jnp.zeros(lanes, lrs.dtype),
        "real": real,
        "pos": jnp.arange(lanes),
    }
    shared = tuple(None if p.ndim else p for p in params)
    lane = first(_place(lane, sharding), shared, bound)
    state = (jnp.asarray(0), lane, jnp.sum(real, dtype=jnp.int64))
    div_all = jnp.zeros(lanes, bool)
    full_runs = steps // RUN_STEPS if unroll else -(-steps // RUN_STEPS)
    size = lanes
    while True:
        nxt = size // shrink if shrink > 1 and size // shrink >= min_bucket else 0
        state = stage(state, shared, bound, nxt)
        r, lane, ev = state
        n_live = int(jnp.sum(_live(lane)))
        if n_live == 0 or int(r) == full_runs or not nxt:
            break
        div_all = collect(div_all, lane)
        size = nxt
        state = (r, _place(compact(lane, nxt), sharding), ev)
    if n_live and full_runs * RUN_STEPS < steps:
        state = tail(state, shared, bound)
    r, lane, ev = state
    return ~collect(div_all, lane), int(ev)


def as_lanes(x0: jax.Array, params: tuple, lanes: int) -> tuple[jax.Array, tuple]:
    """``x0`` of shape ``(d,)`` or ``(C, d)`` as ``(C, d)``; params as scalars or ``(C,)``."""
    xs = jnp.broadcast_to(x0, (lanes, x0.shape[-1]))
    return xs, tuple(jnp.broadcast_to(p, (lanes,)) if np.ndim(p) else p for p in params)
