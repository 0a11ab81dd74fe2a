"""Small learning tasks for mode-connectivity experiments, L0 sweeps and a model file format.

Tasks (Freeman & Bruna 2017 and stand-ins for their image tasks):

- ``poly-quadratic`` / ``poly-cubic``: regression of ``0.5x^2 + 0.25x + 0.1`` or
  ``8x^3 - 10x^2 + 3x`` on ``x ~ U(0, 1)`` with a 1-4-4-1 sigmoid MLP, mean absolute error,
  following the authors' scripts (``convex-nets/LaunchScripts/QUADRATICS.py``, ``CUBICS.py``);
- ``digits``: a 64-32-10 ReLU MLP on scikit-learn's 8x8 handwritten digits (ships with
  scikit-learn, no download), softmax cross-entropy;
- ``permutation``: three points in R^2, a bias-free 2-3-2 ReLU teacher (12 parameters) and
  the same network with two hidden units swapped, both at zero loss (the paper's
  construction of a disconnected level set).

Every task is exposed on flat parameter vectors (:func:`trainability.numeric.ravel_model`).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from numpy.typing import ArrayLike

from . import _x64  # noqa: F401  (float64 switch)
from ._datasets import load_digits
from ._paths import Adam, make_trainer, ravel_model
from ._progress import Progress
from ._strings import StringSampler

__all__ = [
    "ConnectivitySweep",
    "TASKS",
    "Task",
    "connectivity_sweep",
    "digits_task",
    "load_model",
    "make_task",
    "mlp_apply",
    "mlp_cross_entropy",
    "mlp_init",
    "permutation_task",
    "polynomial_task",
    "weights_mask",
    "save_model",
    "train_model",
]

POLYNOMIALS = {
    "quadratic": (lambda x: 0.5 * x**2 + 0.25 * x + 0.1),
    "cubic": (lambda x: 8 * x**3 - 10 * x**2 + 3 * x),
}
MLP_ACTIVATIONS = {"sigmoid": jax.nn.sigmoid, "relu": jax.nn.relu, "tanh": jnp.tanh}


def mlp_init(
    key: jax.Array, sizes: Sequence[int], bias_scale: float = 1.0, init: str = "uniform"
) -> list[dict[str, jax.Array]]:
    """Parameters of a fully connected network as a list of ``{"w", "b"}`` dicts.

    ``init="uniform"`` (the DSS source's): weights ``U(-1, 1) * sqrt(3 / fan_in)`` for wide
    layers and ``U(-1, 1)`` for fan-in <= 4. ``init="he"``: weights
    ``N(0, 1) * sqrt(2 / fan_in)``. Biases ``N(0, bias_scale^2)`` (0 gives zero biases).
    ``w`` of layer ``i`` has shape ``(sizes[i], sizes[i+1])``.
    """
    if init not in ("uniform", "he"):
        raise ValueError(f"init must be 'uniform' or 'he', got {init!r}")
    params = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:], strict=True):
        key, kw, kb = jax.random.split(key, 3)
        if init == "he":
            w = jax.random.normal(kw, (n_in, n_out)) * np.sqrt(2.0 / n_in)
        else:
            scale = 1.0 if n_in <= 4 else float(np.sqrt(3.0 / n_in))
            w = scale * jax.random.uniform(kw, (n_in, n_out), minval=-1.0, maxval=1.0)
        params.append({"w": w, "b": bias_scale * jax.random.normal(kb, (n_out,))})
    return params


def mlp_cross_entropy(
    params: Sequence[Mapping[str, jax.Array]], x: jax.Array, y: jax.Array, activation: str = "relu"
) -> jax.Array:
    """Mean softmax cross-entropy of :func:`mlp_apply`; ``x (N, d_in)``, integer ``y (N,)``."""
    logits = mlp_apply(params, x, activation)
    return -jnp.mean(jnp.take_along_axis(jax.nn.log_softmax(logits), y[:, None], 1))


def mlp_apply(
    params: Sequence[Mapping[str, jax.Array]],
    x: jax.Array,
    activation: str = "sigmoid",
    output: str | None = None,
) -> jax.Array:
    """Network output for inputs ``x`` of shape ``(N, d_in)``: hidden layers use
    ``activation``, the output layer is linear (or ``output``, a name of
    :data:`MLP_ACTIVATIONS`). A layer without ``"b"`` has no bias. Returns ``(N, d_out)``."""
    act = MLP_ACTIVATIONS[activation]

    def affine(layer, x):
        return x @ layer["w"] + layer["b"] if "b" in layer else x @ layer["w"]

    for layer in params[:-1]:
        x = act(affine(layer, x))
    out = affine(params[-1], x)
    return out if output is None else MLP_ACTIVATIONS[output](out)


@dataclass(frozen=True)
class Task:
    """A supervised task on flat parameter vectors.

    Attributes:
        name: task name (see :data:`TASKS`).
        options: keyword arguments that rebuild it with :func:`make_task`.
        init: ``init(seed) -> theta`` of shape ``(P,)``, a random initialisation.
        train_loss: ``train_loss(theta) -> scalar`` on the training set.
        test_loss: ``test_loss(theta) -> scalar`` on held-out data (the level-set loss).
        unravel: ``unravel(theta) -> params`` pytree.
        optimizer: the Adam used for models and beads.
        alpha: bead target factor (0.95 regression, 0.98 classification, as the source).
        metrics: extra ``name -> f(theta)`` held-out metrics (e.g. error rate).
        sampler_defaults: :class:`StringSampler` options of the task's protocol (e.g. the
            authors' bead placement and weights-only length).
    """

    name: str
    options: dict[str, Any]
    init: Callable[[int], jax.Array]
    train_loss: Callable[[jax.Array], jax.Array]
    test_loss: Callable[[jax.Array], jax.Array]
    unravel: Callable[[jax.Array], Any]
    optimizer: Adam
    alpha: float
    metrics: dict[str, Callable[[jax.Array], jax.Array]] = field(default_factory=dict)
    sampler_defaults: dict[str, Any] = field(default_factory=dict)

    @property
    def size(self) -> int:
        """Number of parameters ``P``."""
        return int(self.init(0).size)

    def sampler(self, **options: Any) -> StringSampler:
        """A :class:`StringSampler` on ``test_loss`` trained by ``train_loss`` (task defaults)."""
        options.setdefault("alpha", self.alpha)
        options.setdefault("optimizer", self.optimizer)
        for key, value in self.sampler_defaults.items():
            options.setdefault(key, value)
        return StringSampler(self.test_loss, train_loss=self.train_loss, **options)


def _flat_task(
    name,
    options,
    sizes,
    init_params,
    train_loss,
    test_loss,
    optimizer,
    alpha,
    metrics=None,
    sampler_defaults=None,
) -> Task:
    _, unravel = ravel_model(init_params(jax.random.PRNGKey(0)))

    def init(seed: int):
        return ravel_model(init_params(jax.random.PRNGKey(int(seed))))[0]

    return Task(
        name=name,
        options=options,
        init=init,
        train_loss=lambda th: train_loss(unravel(th)),
        test_loss=lambda th: test_loss(unravel(th)),
        unravel=unravel,
        optimizer=optimizer,
        alpha=alpha,
        metrics={k: (lambda th, f=f: f(unravel(th))) for k, f in (metrics or {}).items()},
        sampler_defaults=dict(sampler_defaults or {}),
    )


def weights_mask(params: Sequence[Mapping[str, jax.Array]]) -> np.ndarray:
    """Boolean mask ``(P,)`` over the flat model: True on ``"w"`` leaves, False on biases."""
    marked = [{k: jnp.full(v.shape, k == "w") for k, v in layer.items()} for layer in params]
    return np.asarray(ravel_model(marked)[0], dtype=bool)


#: The authors' per-target architecture (``convex-nets/LaunchScripts``): QUADRATICS.py has
#: no biases (``predict`` skips them) and a sigmoid output unit; CUBICS.py keeps the biases
#: (``N(0, 1)``) and a linear output, since its target takes negative values.
POLYNOMIAL_NETWORKS = {
    "quadratic": {"biases": False, "output": "sigmoid", "script": "QUADRATICS.py"},
    "cubic": {"biases": True, "output": None, "script": "CUBICS.py"},
}


def polynomial_task(
    target: str = "quadratic",
    n_train: int = 10000,
    n_test: int = 10000,
    data_seed: int = 0,
    learning_rate: float = 1e-3,
) -> Task:
    """Freeman & Bruna's polynomial regression as in the authors' scripts
    (``danielfreeman11/convex-nets``, ``LaunchScripts/QUADRATICS.py`` and ``CUBICS.py``).

    A 1-4-4-1 MLP with sigmoid hidden units, weights ``U(-1, 1)``, trained with Adam
    (lr ``1e-3``) on the mean absolute error; ``x ~ U(0, 1)`` with 10 000 training and 10 000
    held-out points. Targets ``0.5x^2 + 0.25x + 0.1`` (quadratic: no biases, sigmoid output)
    or ``8x^3 - 10x^2 + 3x`` (cubic: biases and a linear output), see
    :data:`POLYNOMIAL_NETWORKS`. The DSS protocol of the scripts rides along in
    :attr:`Task.sampler_defaults`: beads start at the midpoint of every segment above
    ``1.1 L0``, segments are scanned at ``t = k/100`` and their max is the scan's (no
    refinement between scan points), at most 10 rounds, and the string's length counts
    weights only (``SpringNorm``).
    """
    if target not in POLYNOMIALS:
        raise ValueError(f"unknown polynomial target {target!r}; choose from {sorted(POLYNOMIALS)}")
    if n_train < 1 or n_test < 1:
        raise ValueError("n_train and n_test must be positive")
    net = POLYNOMIAL_NETWORKS[target]
    rng = np.random.default_rng(data_seed)
    x_train, x_test = rng.random((n_train, 1)), rng.random((n_test, 1))
    f = POLYNOMIALS[target]
    xs = jnp.asarray(x_train), jnp.asarray(x_test)
    ys = jnp.asarray(f(x_train)), jnp.asarray(f(x_test))

    def mae(x, y):
        return lambda p: jnp.mean(jnp.abs(mlp_apply(p, x, "sigmoid", net["output"]) - y))

    def init_params(key):
        params = mlp_init(key, (1, 4, 4, 1))
        return params if net["biases"] else [{"w": layer["w"]} for layer in params]

    options = {
        "n_train": n_train,
        "n_test": n_test,
        "data_seed": data_seed,
        "learning_rate": learning_rate,
    }
    return _flat_task(
        f"poly-{target}",
        options,
        (1, 4, 4, 1),
        init_params,
        mae(xs[0], ys[0]),
        mae(xs[1], ys[1]),
        Adam(learning_rate),
        0.95,
        sampler_defaults={
            "placement": "midpoint",
            "n_scan": 101,
            "tolerance": 1.1,
            "max_depth": 10,
            "refine": False,  # InterpBeadError: max over t = k/100 only, no refinement
            "max_steps": 200000,  # the scripts train each bead until it gets there
            "length_mask": weights_mask(init_params(jax.random.PRNGKey(0))),
        },
    )


def digits_task(
    hidden: int = 32, test_fraction: float = 0.2, data_seed: int = 0, learning_rate: float = 1e-2
) -> Task:
    """A 64-``hidden``-10 ReLU MLP on scikit-learn's handwritten digits (1797 8x8 images).

    Built on :func:`~trainability.numeric.load_digits`: pixels scaled to [0, 1]; a stratified
    held-out split of ``test_fraction``; softmax cross-entropy as the loss, the held-out
    error rate as metric ``"error"``.
    """
    from sklearn.model_selection import train_test_split

    if hidden < 1 or not 0 < test_fraction < 1:
        raise ValueError("hidden must be >= 1 and test_fraction in (0, 1)")
    x, y = load_digits()
    x_tr, x_te, y_tr, y_te = train_test_split(
        x, y, test_size=test_fraction, random_state=data_seed, stratify=y
    )
    data = [(jnp.asarray(a), jnp.asarray(b)) for a, b in ((x_tr, y_tr), (x_te, y_te))]

    def xent(x, y):
        return lambda p: mlp_cross_entropy(p, x, y)

    def error(p):
        return jnp.mean(jnp.argmax(mlp_apply(p, data[1][0], "relu"), axis=1) != data[1][1])

    options = {
        "hidden": hidden,
        "test_fraction": test_fraction,
        "data_seed": data_seed,
        "learning_rate": learning_rate,
    }
    sizes = (64, hidden, 10)
    return _flat_task(
        "digits",
        options,
        sizes,
        lambda k: mlp_init(k, sizes, bias_scale=0.1),
        xent(*data[0]),
        xent(*data[1]),
        Adam(learning_rate),
        0.98,
        {"error": error},
    )


#: The three points of the permutation example, on the unit circle 120 degrees apart.
PERMUTATION_POINTS = np.array([[np.cos(t), np.sin(t)] for t in (0, 2 * np.pi / 3, 4 * np.pi / 3)])
#: Output rows of the teacher: hidden unit ``j`` fires on point ``j`` only, so ``y_j`` is row
#: ``j``.
PERMUTATION_OUTPUT = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, -1.0]])


def _bias_free_relu(params, x):
    """``relu(x W1) W2`` without biases: ``W1 (2, 3)``, ``W2 (3, 2)``, 12 parameters."""
    return jax.nn.relu(x @ params[0]) @ params[1]


def permutation_task(learning_rate: float = 1e-2) -> tuple[Task, jax.Array, jax.Array]:
    """Freeman & Bruna's permutation example: three points in R^2, a bias-free 2-3-2 ReLU
    network (12 parameters), and the same network with two hidden units swapped.

    The points lie on the unit circle 120 degrees apart; the teacher's hidden weight vectors
    are the points themselves, so each unit fires on exactly one point (``w_j . x_k = -1/2``
    for ``k != j``) and the outputs ``PERMUTATION_OUTPUT`` are fitted exactly. ``theta_B``
    swaps units 0 and 1 (columns of ``W1``, rows of ``W2``): the same function, zero loss,
    another point. The loss is the mean squared error on the three points (training and
    held-out alike). A path between the two must move the units' half-planes past the points,
    which changes the function there: at small ``L0`` DSS cannot certify a path.

    Returns:
        ``(task, theta_A, theta_B)`` with flat models of shape ``(12,)``.
    """
    x, w2 = jnp.asarray(PERMUTATION_POINTS), jnp.asarray(PERMUTATION_OUTPUT)
    teacher = [x.T, w2]
    y = _bias_free_relu(teacher, x)

    def mse(p):
        return jnp.mean(jnp.sum((_bias_free_relu(p, x) - y) ** 2, axis=1))

    def init_params(key):
        k1, k2 = jax.random.split(key)
        return [
            jax.random.uniform(k1, (2, 3), minval=-1.0, maxval=1.0),
            jax.random.uniform(k2, (3, 2), minval=-1.0, maxval=1.0),
        ]

    task = _flat_task(
        "permutation",
        {"learning_rate": learning_rate},
        (2, 3, 2),
        init_params,
        mse,
        mse,
        Adam(learning_rate),
        0.95,
    )
    swap = np.array([1, 0, 2])
    swapped = [teacher[0][:, swap], teacher[1][swap, :]]
    return task, ravel_model(teacher)[0], ravel_model(swapped)[0]


TASKS = ("poly-quadratic", "poly-cubic", "digits", "permutation")


def make_task(name: str, **options: Any) -> Task:
    """Build a task by name (one of :data:`TASKS`) with its options."""
    if name == "poly-quadratic":
        return polynomial_task("quadratic", **options)
    if name == "poly-cubic":
        return polynomial_task("cubic", **options)
    if name == "digits":
        return digits_task(**options)
    if name == "permutation":
        return permutation_task(**options)[0]
    raise ValueError(f"unknown task {name!r}; choose from {', '.join(TASKS)}")


_TRAINERS: dict[tuple, tuple] = {}


def train_model(
    task: Task, seed: int, threshold: float, max_steps: int = 50000
) -> tuple[jax.Array, float, int]:
    """Train a model from initialisation ``seed`` until its held-out loss is ``<= threshold``.

    Returns:
        ``(theta, test_loss, steps)``; ``test_loss > threshold`` means it did not get there.
    """
    if not threshold > 0 or max_steps < 0:
        raise ValueError(f"threshold must be positive and max_steps >= 0, got {threshold}")
    key = (id(task), max_steps)
    if key not in _TRAINERS or _TRAINERS[key][0] is not task:
        trainer = make_trainer(
            task.train_loss,
            task.test_loss,
            optimizer=task.optimizer,
            max_steps=max_steps,
            check_every=50,
        )
        _TRAINERS[key] = (task, trainer)  # holding the task keeps its id unique
    theta, value, steps = _TRAINERS[key][1](task.init(seed), threshold)
    return theta, float(value), int(steps)


# --------------------------------------------------------------------------- model files


def save_model(path: str | Path, task: Task, theta: ArrayLike) -> str:
    """Save a flat model as ``.npz``: ``theta`` (float64 ``(P,)``), ``task`` (name) and
    ``options`` (JSON of the task's options). Returns the path."""
    theta = np.asarray(theta, dtype=np.float64)
    if theta.shape != (task.size,):
        raise ValueError(f"model has shape {theta.shape}, task {task.name} needs ({task.size},)")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as fh:
        np.savez(
            fh, theta=theta, task=np.array(task.name), options=np.array(json.dumps(task.options))
        )
    return str(path)


def load_model(path: str | Path) -> tuple[Task, jax.Array]:
    """Load a model saved by :func:`save_model`; returns ``(task, theta)``."""
    path = Path(path)
    if not path.is_file():
        what = "is a folder, not a model file" if path.is_dir() else "not found"
        raise ValueError(f"model file {path} {what}")
    import zipfile  # here, not at the top: only a damaged file needs its exception

    try:
        with np.load(path, allow_pickle=False) as data:
            theta, name = np.asarray(data["theta"], float), str(data["task"])
            options = json.loads(str(data["options"]))
    except (OSError, KeyError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path} is not a trainability model file ({exc})") from None
    except (ValueError, EOFError, zipfile.BadZipFile):
        # Not an .npz archive (empty, truncated, text, pickled objects); NumPy's own message
        # suggests unpickling it, which would run code from the file.
        raise ValueError(
            f"{path} is not a trainability model file (not an .npz archive from save_model)"
        ) from None
    try:
        task = make_task(name, **options)
    except TypeError as exc:
        raise ValueError(f"{path}: bad options for task {name}: {exc}") from None
    if theta.shape != (task.size,):
        raise ValueError(
            f"{path}: model has {theta.size} parameters, task {name} needs {task.size}"
        )
    return task, jnp.asarray(theta)


# --------------------------------------------------------------------------- sweeps


@dataclass(frozen=True)
class ConnectivitySweep:
    """DSS over thresholds ``L0`` and seeds.

    Arrays have shape ``(n_thresholds, n_seeds)``; ``normalized_length`` and ``beads`` are
    NaN where a pair was not connected (or its end models did not reach ``L0``).

    Attributes:
        thresholds: ``(n_thresholds,)``.
        seeds: ``(n_seeds,)``; pair ``s`` uses initialisations ``2s`` and ``2s + 1``.
        connected, normalized_length, beads, max_loss: per run.
        reasons: failure reasons per run ("" when connected).
        example: a connected string at the smallest threshold that has one (or ``None``).
    """

    thresholds: np.ndarray
    seeds: np.ndarray
    connected: np.ndarray
    normalized_length: np.ndarray
    beads: np.ndarray
    max_loss: np.ndarray
    reasons: list[list[str]]
    example: object = None

    @staticmethod
    def _mean_sem(values):
        mean, sem = [], []
        for row in values:
            row = row[np.isfinite(row)]
            mean.append(float(row.mean()) if row.size else float("nan"))
            sem.append(
                float(row.std(ddof=1) / np.sqrt(row.size))
                if row.size > 1
                else (0.0 if row.size == 1 else float("nan"))
            )
        return np.array(mean), np.array(sem)

    def summary(self) -> dict[str, Any]:
        """Per-threshold mean and standard error over connected pairs, and connected fraction."""
        nl, nl_sem = self._mean_sem(self.normalized_length)
        beads, beads_sem = self._mean_sem(self.beads)
        return {
            "thresholds": self.thresholds,
            "normalized_length": nl,
            "normalized_length_sem": nl_sem,
            "beads": beads,
            "beads_sem": beads_sem,
            "connected_fraction": self.connected.mean(axis=1),
        }


def connectivity_sweep(
    task: Task,
    thresholds: Iterable[float],
    seeds: Iterable[int],
    *,
    progress: bool = True,
    max_train_steps: int = 50000,
    **sampler_options: Any,
) -> ConnectivitySweep:
    """Freeman & Bruna's experiment: for each ``L0`` and seed, train two models to ``L0`` from
    different initialisations, run DSS between them, and record the outcome.

    ``sampler_options`` go to :meth:`Task.sampler` (one sampler, compiled once).
    """
    thresholds = np.asarray(sorted(thresholds, reverse=True), dtype=float)
    seeds = np.asarray(seeds, dtype=int)
    if thresholds.size == 0 or seeds.size == 0 or not np.all(thresholds > 0):
        raise ValueError("need at least one positive threshold and one seed")
    sampler = task.sampler(**sampler_options)
    shape = (thresholds.size, seeds.size)
    connected = np.zeros(shape, bool)
    nlen, beads, maxl = (np.full(shape, np.nan) for _ in range(3))
    reasons = [["" for _ in seeds] for _ in thresholds]
    example = None
    bar = Progress(thresholds.size * seeds.size, f"dss {task.name}", "pairs", enabled=progress)
    t0 = time.perf_counter()
    for i, level in enumerate(thresholds):
        for j, seed in enumerate(seeds):
            ends = [train_model(task, 2 * int(seed) + k, level, max_train_steps) for k in (0, 1)]
            bad = [k for k, e in enumerate(ends) if e[1] > level]
            if bad:
                reasons[i][j] = (
                    f"end model {bad[0] + 1} stopped at loss {ends[bad[0]][1]:.4g} "
                    f"> L0 after {ends[bad[0]][2]} steps"
                )
            else:
                res = sampler.connect(ends[0][0], ends[1][0], level)
                connected[i, j], reasons[i][j] = res.connected, res.reason
                maxl[i, j] = res.max_loss
                if res.connected:
                    nlen[i, j], beads[i, j] = res.normalized_length, res.n_beads
                    if example is None or level < example.threshold:
                        example = res
            bar.update(1)
    if progress:
        import sys

        print(f"[dss {task.name}] done in {time.perf_counter() - t0:.1f}s", file=sys.stderr)
    return ConnectivitySweep(thresholds, seeds, connected, nlen, beads, maxl, reasons, example)
