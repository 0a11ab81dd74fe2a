"""Binary classification data sets with their linear max-margin direction.

Every data set is scaled so that ``max_i ||x_i|| = 1`` (the theory assumes ``||x_i|| <= 1``;
the five-point set of Cai et al. 2024 is kept unscaled, as in the source, unless asked).
Labels are ``+1 / -1``. The max-margin direction (no intercept, as in the network) is the
hard-margin linear SVM solution, computed as a QP (SLSQP on the primal) after an LP
feasibility test for linear separability; for non-separable data the direction
is scikit-learn's soft-margin ``LinearSVC`` and the reported margin is negative.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

__all__ = [
    "ClassificationData",
    "classification_data",
    "digits_data",
    "load_digits",
    "five_point_data",
    "max_margin",
    "xor_data",
]


@dataclass(frozen=True)
class ClassificationData:
    """A labelled data set.

    Attributes:
        name: short name.
        X: inputs, shape ``(n, d)``.
        y: labels in ``{-1, +1}``, shape ``(n,)``.
        direction: unit max-margin direction ``u``, shape ``(d,)``.
        margin: ``min_i y_i x_i . u`` (positive iff linearly separable through the origin).
        separable: whether the data are linearly separable through the origin.
        info: provenance (classes, seed, noise, scaling).
    """

    name: str
    X: np.ndarray
    y: np.ndarray
    direction: np.ndarray
    margin: float
    separable: bool
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def n(self) -> int:
        return int(self.X.shape[0])

    @property
    def dim(self) -> int:
        return int(self.X.shape[1])


def _check(X, y):
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if X.ndim != 2 or y.shape != (X.shape[0],) or X.shape[0] < 1:
        raise ValueError(f"X must be (n, d) and y (n,), got {X.shape} and {y.shape}")
    if not np.all(np.isin(y, (-1.0, 1.0))):
        raise ValueError("labels must be -1 or +1")
    if not np.all(np.isfinite(X)):
        raise ValueError("inputs must be finite")
    return X, y


def _feasible(Z: np.ndarray) -> np.ndarray | None:
    """A solution of the LP ``Z u >= 1`` (rows ``z_i = y_i x_i``), or None if infeasible."""
    from scipy.optimize import linprog

    n, d = Z.shape
    res = linprog(np.zeros(d), A_ub=-Z, b_ub=-np.ones(n), bounds=[(None, None)] * d, method="highs")
    return res.x if res.status == 0 else None


def max_margin(X: ArrayLike, y: ArrayLike) -> tuple[np.ndarray, float, bool]:
    """Linear max-margin direction through the origin.

    Args:
        X: inputs ``(n, d)``.
        y: labels ``(n,)`` in ``{-1, +1}``.

    Returns:
        ``(direction, margin, separable)``: the unit vector ``u`` maximising
        ``min_i y_i x_i . u`` when separable (the hard-margin SVM ``min ||w||^2`` subject to
        ``y_i x_i . w >= 1``, solved as a QP by SLSQP from the LP's feasible point);
        otherwise the soft-margin ``LinearSVC`` direction, whose margin is then ``<= 0``.
    """
    X, y = _check(X, y)
    Z = y[:, None] * X
    w0 = _feasible(Z)
    if w0 is not None:
        from scipy.optimize import minimize

        res = minimize(
            lambda w: (0.5 * w @ w, w),
            w0,
            jac=True,
            method="SLSQP",
            constraints=[{"type": "ineq", "fun": lambda w: Z @ w - 1.0, "jac": lambda w: Z}],
            options={"ftol": 1e-15, "maxiter": 2000},
        )
        w = res.x if np.min(Z @ res.x) > 0 else w0
    else:
        import warnings

        from sklearn.svm import LinearSVC

        svc = LinearSVC(
            fit_intercept=False,
            C=1.0,
            loss="hinge",
            dual=True,
            tol=1e-8,
            max_iter=200000,
            random_state=0,
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            svc.fit(X, y)
        w = svc.coef_.ravel()
    norm = np.linalg.norm(w)
    u = w / norm if norm > 0 else np.eye(X.shape[1])[0]
    margin = float(np.min(Z @ u))
    return u, margin, bool(w0 is not None and margin > 0)


def classification_data(
    name: str, X: ArrayLike, y: ArrayLike, info: dict[str, Any] | None = None
) -> ClassificationData:
    """Wrap inputs ``(n, d)`` and labels ``(n,)`` in ``{-1, +1}`` with their max-margin data."""
    X, y = _check(X, y)
    info = {} if info is None else info
    u, margin, sep = max_margin(X, y)
    return ClassificationData(name, X, y, u, margin, sep, info)


def five_point_data(scale: bool = False) -> ClassificationData:
    """The five points in R^3 of Cai et al. 2024 (Fig. 4).

    Max-margin direction ``(1, 0, 0)``, margin 0.05. With ``scale=True`` the points are
    divided by the largest norm (so ``||x_i|| <= 1``).
    """
    X = np.array([[0.05, 1, 2], [0.05, -2, 1], [-1, 0, 2], [0.05, -2, -2], [0.05, 1, -2]])
    y = np.array([1, 1, -1, 1, 1])
    s = float(np.max(np.linalg.norm(X, axis=1))) if scale else 1.0
    return classification_data("five-point", X / s, y, {"scale": s})


def xor_data(n: int = 100, noise: float = 0.1, seed: int = 0) -> ClassificationData:
    """XOR in the plane: clusters at ``(+-1, +-1)``, label ``sign(x1 x2)``.

    Args:
        n: number of points (>= 4), split as evenly as possible over the four clusters.
        noise: standard deviation of the Gaussian jitter around each centre (< 1, so
            labels stay the sign of ``x1 x2``).
        seed: random seed.

    The points are scaled to ``max ||x_i|| = 1``. XOR is not linearly separable: the
    reported margin is negative (a two-layer network without bias can still fit it).
    """
    if n < 4:
        raise ValueError(f"xor needs n >= 4, got {n}")
    if not 0 <= noise < 1:
        raise ValueError(f"noise must be in [0, 1), got {noise}")
    rng = np.random.default_rng(seed)
    centres = np.array([[1, 1], [-1, -1], [1, -1], [-1, 1]], dtype=np.float64)
    labels = np.array([1, 1, -1, -1])
    idx = np.arange(n) % 4
    X = centres[idx] + noise * rng.standard_normal((n, 2))
    y = labels[idx]
    s = float(np.max(np.linalg.norm(X, axis=1)))
    return classification_data("xor", X / s, y, {"n": n, "noise": noise, "seed": seed, "scale": s})


def load_digits() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's 8x8 handwritten digits: ``X (1797, 64)`` in ``[0, 1]``, ``y (1797,)``.

    ``sklearn.datasets.load_digits`` reads a file shipped inside scikit-learn (no download).
    The one loader of this dataset; the tasks built on it choose subsets and scaling.
    """
    from sklearn import datasets

    data = datasets.load_digits()
    return data.data.astype(np.float64) / 16.0, data.target.astype(np.int64)


def digits_data(
    classes: tuple[int, int] = (3, 8), n_per_class: int | None = None, seed: int = 0
) -> ClassificationData:
    """A real two-class subset of scikit-learn's handwritten digits (8x8 images, 64 pixels).

    Built on :func:`load_digits`; like the other ``*_data`` builders of this module it returns
    :class:`ClassificationData`. Class ``classes[0]`` gets label ``+1``, ``classes[1]`` label
    ``-1``; pixels are divided by 16 and all images by the largest norm. The default pair
    3 vs 8 is among the hardest linearly separable digit pairs (small margin), the analogue
    of the source's airplane-vs-automobile CIFAR-10 subset, which cannot be downloaded here.

    Args:
        classes: two distinct digits in 0..9.
        n_per_class: keep at most this many images per class (random, seeded); all if None.
        seed: seed of the subsampling.
    """
    a, b = classes
    if a == b or not (0 <= a <= 9 and 0 <= b <= 9):
        raise ValueError(f"classes must be two distinct digits in 0..9, got {classes}")
    images, target = load_digits()
    rng = np.random.default_rng(seed)
    keep = []
    for k in (a, b):
        idx = np.flatnonzero(target == k)
        if n_per_class is not None:
            if n_per_class < 1:
                raise ValueError("n_per_class must be >= 1")
            idx = np.sort(rng.permutation(idx)[:n_per_class])
        keep.append(idx)
    idx = np.concatenate(keep)
    X = images[idx]
    y = np.where(target[idx] == a, 1.0, -1.0)
    s = float(np.max(np.linalg.norm(X, axis=1)))
    info = {
        "classes": [a, b],
        "n_per_class": n_per_class,
        "seed": seed,
        "scale": s,
        "source": "sklearn.datasets.load_digits",
    }
    return classification_data(f"digits-{a}v{b}", X / s, y, info)
