"""Large-stepsize GD on two-layer networks: theory against measurement (Cai et al. 2024).

:func:`large_stepsize_experiment` runs one data set with several stepsizes at once and
returns the measured phases next to the predictions of
:func:`~trainability.analytic.large_stepsize_predictions`; the ``check_*`` functions turn
the claims of the theory into :class:`~trainability.verify.Verdict` objects:

1. the risk is monotone after the detected phase transition (and the stable phase is reached);
2. the normalized margin is nearly monotone in the stable phase once the data are fitted
   (``L < ln 2 / n``), reported as its largest decrease relative to its range there;
3. the stable-phase risk decays like ``O(1/(eta t))`` (fitted exponent of ``risk ~ t^p``);
4. every step whose risk is below the predicted threshold lies in the stable phase;
5. a large stepsize reaches a target risk in fewer steps than the best small stepsize whose
   risk decreases monotonically.

:func:`separable_datasets` is a public Hypothesis strategy for random separable data sets.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike

from trainability.analytic import Activation, activation, large_stepsize_predictions
from trainability.numeric import (
    ClassificationData,
    PhaseSummary,
    TwoLayerRun,
    initial_weights,
    largest_margin_decrease,
    phase_summary,
    steps_to_risk,
    two_layer_gd,
)

from ._verdict import Verdict

if TYPE_CHECKING:
    from hypothesis.strategies import SearchStrategy

__all__ = [
    "LargeStepsizeResult",
    "acceleration_exponent",
    "check_acceleration",
    "check_margin_near_monotone",
    "check_risk_monotone",
    "check_stable_rate",
    "check_threshold",
    "fitted_step",
    "large_stepsize_experiment",
    "separable_datasets",
]


@dataclass(frozen=True)
class LargeStepsizeResult:
    """One data set trained with several stepsizes.

    Attributes:
        data: the data set.
        run: the trajectories (:class:`~trainability.numeric.TwoLayerRun`).
        phases: one :class:`~trainability.numeric.PhaseSummary` per stepsize.
        constants: the activation constants as a dict.
        predictions: per stepsize, the predictions of the theory (dicts).
        verdicts: per stepsize, the verdicts of checks 1-4; plus ``"acceleration"``.
    """

    data: ClassificationData
    run: TwoLayerRun
    phases: list[PhaseSummary]
    constants: dict[str, Any]
    predictions: list[dict[str, Any]]
    verdicts: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        """JSON-able per-stepsize summary (phases, margins, predictions, verdicts)."""
        rows = []
        for k, ph in enumerate(self.phases):
            rows.append(
                {
                    **ph.to_dict(),
                    "final_margin": float(self.run.margin[k, -1]),
                    "max_neuron_margin": float(np.max(self.run.neuron_margins[k])),
                    "final_weight_norm": float(self.run.weight_norm[k, -1]),
                    "fitted_step": fitted_step(self.run.risk[k], self.data.n),
                    "predicted_threshold": self.predictions[k]["stable_phase_threshold"]["value"],
                    "verdicts": [v.to_dict() for v in self.verdicts.get(k, [])],
                }
            )
        out = {
            "data": self.data.name,
            "n": self.data.n,
            "dim": self.data.dim,
            "linear_margin": self.data.margin,
            "separable": self.data.separable,
            "width": int(self.run.a.size),
            "steps": self.run.steps,
            "constants": self.constants,
            "runs": rows,
        }
        if "acceleration" in self.verdicts:
            out["acceleration"] = self.verdicts["acceleration"].to_dict()
        return out


def fitted_step(risk: ArrayLike, n: int) -> int | None:
    """First step with ``L <= ln 2 / n``: every point then has margin ``y_i f(x_i) >= 0``."""
    return steps_to_risk(risk, math.log(2) / n)


def check_risk_monotone(risk: ArrayLike, start: int | None, rtol: float = 1e-12) -> Verdict:
    """Claim 1: a stable phase is reached and the risk never increases after it."""
    risk = np.asarray(risk)
    if start is None:
        return Verdict(
            "risk monotone after phase transition",
            None,
            "stable phase reached",
            rtol,
            False,
            "the risk still increased at the last step",
        )
    ok = bool(np.all(risk[start + 1 :] <= risk[start:-1] * (1 + rtol)))
    frac = 1 - start / (risk.size - 1)
    return Verdict(
        "risk monotone after phase transition",
        {"start": start, "stable_fraction": frac},
        "monotone after start",
        rtol,
        ok,
        f"risk non-increasing over the last {100 * frac:.1f}% of the run"
        if ok
        else "the risk increased after the detected start",
    )


def check_margin_near_monotone(
    run: TwoLayerRun, k: int, n: int, start: int | None, tol: float = 0.05
) -> Verdict:
    """Claim 3: the normalized margin is nearly monotone in the stable phase.

    The window starts at the later of the stable-phase start and the first fitted step
    (``L <= ln 2 / n``). Measured: the largest decrease ``max_{t <= t'} (m_t - m_t')``
    relative to the margin's range there (as asked; 1 for a curve that only decreases) and
    relative to the margin's size ``max |m_t|``. "Nearly" monotone means small against the
    margin itself: the near-homogeneity defect changes the normalized margin by
    ``O(kappa / ||W||)``, which is not monotone; the check passes when the decrease is at
    most ``tol`` times the margin's size.
    """
    fit = fitted_step(run.risk[k], n)
    if start is None or fit is None:
        return Verdict(
            "normalized margin nearly monotone",
            None,
            f"decrease <= {tol}",
            tol,
            False,
            "the data were never fitted in a stable phase",
        )
    t0 = max(start, fit)
    i0 = min(int(np.searchsorted(run.record_steps, t0)), run.margin.shape[1] - 1)
    m = run.margin[k, i0:]
    dec_range = largest_margin_decrease(run.margin[k], i0)
    drop = float(np.max(np.maximum.accumulate(m) - m)) if m.size else 0.0
    size = float(np.max(np.abs(m))) if m.size else 0.0
    dec_size = drop / size if size > 0 else 0.0
    ok = dec_size <= tol
    return Verdict(
        "normalized margin nearly monotone",
        {
            "largest_decrease_relative_to_range": dec_range,
            "largest_decrease_relative_to_margin": dec_size,
            "from_step": t0,
            "margin_at_start": float(m[0]),
            "final_margin": float(m[-1]),
        },
        f"decrease <= {tol} x margin",
        tol,
        ok,
        f"after step {t0}: largest decrease {dec_size:.3g} of the margin "
        f"({dec_range:.3g} of its range), margin {m[0]:.4g} -> {m[-1]:.4g}",
    )


def check_stable_rate(
    phase: PhaseSummary,
    predicted_constant: float | None = None,
    slowest: float = -0.7,
    factor: float = 10.0,
) -> Verdict:
    """Claim 2: the stable-phase risk is ``O(1/(eta t))``.

    Passes only when the fitted exponent of ``risk ~ (t - s)^p`` is at most ``slowest`` (the
    ``1/t`` decay, allowing for log factors over a finite window): a risk that decays like
    ``t^-0.24`` fails whatever its constant. ``risk * eta * (t - s)`` against ``factor`` times
    the predicted order ``1/(c gamma)^2`` is reported beside it (``constant_within_factor``)
    but does not decide: the theory's absolute constants are not known ("standard" = 1).
    """
    p, rc = phase.rate_exponent, phase.rate_constant
    by_exponent = p is not None and math.isfinite(p) and p <= slowest
    by_constant = (
        rc is not None
        and predicted_constant is not None
        and math.isfinite(predicted_constant)
        and rc <= factor * predicted_constant
    )
    why = (
        "no stable phase (or too short to fit an exponent)"
        if p is None
        else (
            f"risk ~ t^{p:.2f} in the stable phase "
            f"({'at most' if by_exponent else 'slower than'} t^{slowest:g}); "
            f"risk*eta*t ~ {rc:.3g}"
            + ("" if predicted_constant is None else f" (predicted order {predicted_constant:.3g})")
        )
    )
    return Verdict(
        "stable-phase rate O(1/(eta t))",
        {"exponent": p, "rate_constant": rc, "constant_within_factor": bool(by_constant)},
        {"exponent": -1.0, "rate_constant_order": predicted_constant},
        {"slowest_exponent": slowest, "constant_factor": factor},
        bool(by_exponent),
        why,
    )


def check_threshold(
    risk: ArrayLike, phase: PhaseSummary, predicted: float, rtol: float = 1e-12
) -> Verdict:
    """Claim 1 quantitatively: every step with risk below the predicted threshold is stable.

    Passes when the risk falls below ``predicted`` (the theory's ``min(1/eta, 1/n)``-type
    threshold, constants standard = 1) and never increases after the first such step. A run
    whose risk never gets below the threshold fails: it does not test the claim.
    """
    risk = np.asarray(risk)
    below = np.flatnonzero(risk < predicted)
    if below.size == 0:
        return Verdict(
            "predicted threshold starts the stable phase",
            {"measured_threshold": phase.threshold, "first_below": None},
            predicted,
            rtol,
            False,
            f"the risk (lowest {float(np.min(risk)):.3g}) never fell below the predicted "
            f"threshold {predicted:.3g}: the claim was not tested (run longer)",
        )
    t = int(below[0])
    ok = bool(np.all(risk[t + 1 :] <= risk[t:-1] * (1 + rtol)))
    return Verdict(
        "predicted threshold starts the stable phase",
        {"measured_threshold": phase.threshold, "first_below": t},
        predicted,
        rtol,
        ok,
        f"risk below {predicted:.3g} first at step {t}; "
        f"{'monotone' if ok else 'NOT monotone'} afterwards",
    )


def check_acceleration(
    run: TwoLayerRun, phases: list[PhaseSummary], target: float | None = None
) -> Verdict:
    """Claim 5: a large stepsize reaches ``target`` in fewer steps than the best small one.

    Small stepsizes: runs whose risk decreases monotonically from step 0. Large: runs with an
    oscillating phase. Default target: the best final risk of the small runs.
    """
    small = [k for k, p in enumerate(phases) if p.start == 0]
    large = [k for k, p in enumerate(phases) if p.start is not None and p.start > 0]
    if not small or not large:
        return Verdict(
            "large stepsize is faster",
            None,
            "fewer steps",
            None,
            False,
            "need both monotone (small) and oscillating (large) runs",
        )
    if target is None:
        target = float(min(run.risk[k, -1] for k in small))
    t_small = {float(run.etas[k]): steps_to_risk(run.risk[k], target) for k in small}
    t_large = {float(run.etas[k]): steps_to_risk(run.risk[k], target) for k in large}
    best_small = min((t for t in t_small.values() if t is not None), default=None)
    best_large = min((t for t in t_large.values() if t is not None), default=None)
    ok = best_large is not None and (best_small is None or best_large < best_small)
    return Verdict(
        "large stepsize is faster",
        {"target": target, "steps_small": t_small, "steps_large": t_large},
        "best large < best small",
        None,
        bool(ok),
        f"target {target:.3g}: best small stepsize {best_small} steps, best large {best_large}",
    )


def acceleration_exponent(
    data: ClassificationData,
    horizons: Sequence[int],
    eta_per_step: float = 0.05,
    width: int = 2,
    act: Activation | None = None,
    seed: int = 0,
    init_scale: float = 0.1,
    reference_eta: float | None = 1.0,
    loss: str = "logistic",
    slowest: float = -1.5,
) -> Verdict:
    """Claim 5 quantitatively: with ``eta = eta_per_step * T`` the risk after ``T`` steps is
    ``O~(1/T^2)``; the exponent of ``L_T ~ T^p`` is fitted over the ``horizons``.

    One vectorised run per horizon (its own stepsize), read at its own ``T``. Passes when
    ``p <= slowest`` (default -1.5: faster than the ``Omega(1/T)`` of every run whose risk
    decreases monotonically, and within 0.5 of the paper's -2). The fit of a fixed
    ``reference_eta`` run over the same horizons is reported beside it.
    """
    act = activation("leaky_softplus", c=0.5) if act is None else act
    phi, dphi = act.kernels("jax")
    T = np.asarray(sorted(int(t) for t in horizons))
    if T.size < 3 or T[0] < 10:
        raise ValueError("need at least three horizons >= 10")
    W0 = initial_weights(width, data.dim, init_scale, seed)
    etas = eta_per_step * T
    run = two_layer_gd(data.X, data.y, W0, etas, int(T[-1]), phi, dphi, every=int(T[-1]), loss=loss)
    risk_T = np.array([run.risk[k, t] for k, t in enumerate(T)])
    fit = risk_T > 0
    p = float(np.polyfit(np.log(T[fit]), np.log(risk_T[fit]), 1)[0]) if fit.sum() >= 3 else None
    ref = None
    if reference_eta is not None:
        small = two_layer_gd(
            data.X, data.y, W0, [reference_eta], int(T[-1]), phi, dphi, every=int(T[-1]), loss=loss
        )
        ref = float(np.polyfit(np.log(T), np.log(small.risk[0, T]), 1)[0])
    ok = p is not None and math.isfinite(p) and p <= slowest
    return Verdict(
        "accelerated rate: risk after T steps with eta ~ T",
        {
            "exponent": p,
            "horizons": T.tolist(),
            "etas": etas.tolist(),
            "risk_at_T": risk_T.tolist(),
            "reference_eta": reference_eta,
            "reference_exponent": ref,
        },
        {"exponent": -2.0, "monotone_runs_at_best": -1.0},
        {"slowest_exponent": slowest},
        bool(ok),
        f"L_T ~ T^{p:.2f} with eta = {eta_per_step:g} T"
        + ("" if ref is None else f"; fixed eta = {reference_eta:g}: T^{ref:.2f}")
        if p is not None
        else "the risk underflowed to 0: shorten the horizons",
    )


def large_stepsize_experiment(
    data: ClassificationData,
    etas: Sequence[float],
    steps: int,
    width: int = 2,
    act: Activation | None = None,
    seed: int = 0,
    init_scale: float = 1.0,
    every: int = 10,
    margin_tol: float = 0.05,
    W0: ArrayLike | None = None,
    progress: bool = False,
    loss: str = "logistic",
) -> LargeStepsizeResult:
    """Train the two-layer model on ``data`` with every stepsize and check the theory.

    Args:
        data: a :class:`~trainability.numeric.ClassificationData`.
        etas: stepsizes, shape ``(k,)``.
        steps: GD steps (a multiple of ``every``).
        width: number of neurons ``m`` (output signs alternate +1, -1).
        act: an :class:`~trainability.analytic.Activation`; default leaky softplus c = 0.5.
        seed, init_scale: the Gaussian initialisation ``init_scale * N(0, 1/d)``.
        every: record margins every ``every`` steps.
        margin_tol: tolerance of the near-monotone margin check.
        W0: explicit initial weights ``(m, d)`` (overrides seed/init_scale).
        progress: progress on stderr.
        loss: ``"logistic"`` or ``"exponential"`` (the predictions' forms are the same; their
            constants are "standard" for both).
    """
    act = activation("leaky_softplus", c=0.5) if act is None else act
    const = act.constants()
    phi, dphi = act.kernels("jax")
    W0 = initial_weights(width, data.dim, init_scale, seed) if W0 is None else W0
    run = two_layer_gd(
        data.X,
        data.y,
        W0,
        etas,
        steps,
        phi,
        dphi,
        every=every,
        chunk=max(every, min(steps, 5000)),
        progress=progress,
        loss=loss,
    )
    c, kappa, beta = const.c.value, const.kappa.value, const.beta.value
    phases, preds, verdicts = [], [], {}
    for k, eta in enumerate(run.etas):
        ph = phase_summary(run.risk[k], eta)
        if data.separable:
            pred = large_stepsize_predictions(
                float(eta), data.n, data.margin, c, kappa, beta, width
            )
        else:
            pred = _nonseparable_predictions(float(eta), data.n, kappa, beta, width)
        phases.append(ph)
        preds.append(dict(pred))
        rate_order = pred["stable_rate_constant"]["value"]
        verdicts[k] = [
            check_risk_monotone(run.risk[k], ph.start),
            check_margin_near_monotone(run, k, data.n, ph.start, margin_tol),
            check_stable_rate(ph, rate_order),
            check_threshold(run.risk[k], ph, pred["stable_phase_threshold"]["value"]),
        ]
    verdicts["acceleration"] = check_acceleration(run, phases)
    return LargeStepsizeResult(data, run, phases, const.to_dict(), preds, verdicts)


def _nonseparable_predictions(eta, n, kappa, beta, m) -> dict[str, Any]:
    from trainability.analytic import stable_phase_threshold

    return {
        "stable_phase_threshold": {
            "value": stable_phase_threshold(eta, n, kappa, beta, m),
            "status": "form from the theory; absolute constants standard (set to 1)",
        },
        "stable_rate_constant": {
            "value": None,
            "status": "no linear margin: the first-phase and rate bounds "
            "(which need separability) do not apply",
        },
        "first_phase_ends": {"value": None, "status": "not linearly separable"},
    }


def separable_datasets(
    n_min: int = 4, n_max: int = 24, dims: Sequence[int] = (2, 3, 4), min_margin: float = 0.05
) -> SearchStrategy[ClassificationData]:
    """Hypothesis strategy: random linearly separable data sets with a planted margin.

    Points are uniform in the unit ball of ``R^d``; labels ``sign(x . u)`` for a random unit
    ``u``; points closer than ``min_margin`` to the hyperplane are pushed out to that distance
    and all points rescaled into the unit ball, so the data are separable with margin at
    least ``min_margin / (1 + min_margin)`` and ``||x_i|| <= 1``. Yields
    :class:`~trainability.numeric.ClassificationData` (margin from the SVM solve).
    """
    from hypothesis import strategies as st

    from trainability.numeric import classification_data

    @st.composite
    def build(draw):
        d = draw(st.sampled_from(list(dims)))
        n = draw(st.integers(n_min, n_max))
        seed = draw(st.integers(0, 2**31 - 1))
        rng = np.random.default_rng(seed)
        u = rng.standard_normal(d)
        u /= np.linalg.norm(u)
        X = rng.standard_normal((n, d))
        X *= (rng.uniform(size=(n, 1)) ** (1 / d)) / np.linalg.norm(X, axis=1, keepdims=True)
        s = X @ u
        sign = np.where(s >= 0, 1.0, -1.0)
        if np.all(sign == sign[0]):  # both classes: move point 0 across the hyperplane
            X[0] -= (s[0] + sign[0] * min_margin) * u
            s[0], sign[0] = -sign[0] * min_margin, -sign[0]
        X += ((np.maximum(np.abs(s), min_margin) - np.abs(s)) * sign)[:, None] * u
        X /= max(1.0, float(np.max(np.linalg.norm(X, axis=1))))
        return classification_data("random-separable", X, sign, {"seed": seed})

    return build()
