r"""Predictions of the large-stepsize theory for two-layer networks (Cai et al. 2024).

Setting: :math:`f(w; x) = \frac{1}{m} \sum_j a_j\, \phi(x \cdot w_j)` with fixed ``a_j = +-1``,
logistic loss, ``n`` points with :math:`\|x_i\| \le 1` separable with margin ``gamma``, constant
stepsize ``eta``; activation constants ``c, kappa, beta`` from
:func:`~trainability.analytic.activation_constants`.

The *forms* below are the ones the theory states (thresholds of order :math:`1/\eta` and
:math:`1/n`, an ``O(1/(eta t))`` stable phase, a first phase of length ``O(max(eta, n, ...)/(c
gamma)^2)``, ``O~(1/T^2)`` with ``eta ~ T`` against ``Omega(1/T)`` for monotone runs). The absolute
numeric constants were not available from the source ("standard"): they are the explicit arguments
``c1, c2, ...`` with default 1, so each prediction is an order of magnitude, and the checks in
:mod:`trainability.verify` compare *scalings* and *orders*, never an unknown constant.
Every function accepts numbers (returns a float), SymPy expressions or text through the
whitelist parser (returns an expression).
"""

from __future__ import annotations

from typing import Any

import sympy

from ._parse import as_expression

__all__ = [
    "LargeStepsizePrediction",
    "first_phase_bound",
    "large_stepsize_predictions",
    "stable_phase_rate_bound",
    "stable_phase_threshold",
]

#: What the prediction functions accept: a number, a SymPy expression or whitelisted text.
Quantity = str | sympy.Basic | float


def _out(expr: sympy.Expr | float) -> float | sympy.Expr:
    # A float when fully numeric, else the expression.
    if not isinstance(expr, sympy.Basic):
        return float(expr)
    return float(expr) if not expr.free_symbols else expr


def stable_phase_threshold(
    eta: Quantity,
    n: Quantity,
    kappa: Quantity = 0,
    beta: Quantity = 0,
    m: Quantity = 1,
    c1: float | sympy.Expr = 1,
    c2: float | sympy.Expr = 1,
) -> float | sympy.Expr:
    r"""Risk level below which GD is in the stable phase (risk then decreases monotonically).

    :math:`\min\left(\frac{1}{c_1 \eta (1 + \beta/m)}, \frac{1}{c_2 e^{\kappa} n}\right)`: of order
    :math:`1/\eta` (the Taylor-expansion/smoothness condition) and :math:`1/n` (every point fitted,
    which for the logistic loss needs :math:`L < \ln 2 / n`; near-homogeneity costs ``exp(kappa)``).
    ``c1, c2`` are the unknown ("standard") absolute constants.
    """
    eta, n, kappa, beta, m = map(as_expression, (eta, n, kappa, beta, m))
    return _out(sympy.Min(1 / (c1 * eta * (1 + beta / m)), 1 / (c2 * sympy.exp(kappa) * n)))


def stable_phase_rate_bound(
    eta: Quantity,
    t: Quantity,
    gamma: Quantity,
    c: Quantity = 1,
    kappa: Quantity = 0,
    c3: float | sympy.Expr = 1,
) -> float | sympy.Expr:
    r"""Risk bound ``t`` steps into the stable phase: ``O(1/(eta t))`` up to logarithms.

    :math:`c_3 \frac{1 + (\kappa + \ln(1 + (c\gamma)^2 \eta t))^2}{(c\gamma)^2 \eta t}`: the
    perceptron-type comparator bound with effective margin :math:`c \gamma` (a network with
    :math:`\phi' \ge c` realises margin ``c gamma`` with weights ``w_j = sign(a_j) u``); ``c3`` is
    the unknown ("standard") constant. :math:`\text{risk} \cdot \eta t` is therefore bounded by
    logarithms.
    """
    eta, t, gamma, c, kappa = map(as_expression, (eta, t, gamma, c, kappa))
    g2 = (c * gamma) ** 2
    return _out(c3 * (1 + (kappa + sympy.log(1 + g2 * eta * t)) ** 2) / (g2 * eta * t))


def first_phase_bound(
    eta: Quantity, n: Quantity, gamma: Quantity, c: Quantity, c4: float | sympy.Expr = 1
) -> float | sympy.Expr:
    r"""Number of steps after which the first (oscillating) phase must have ended.

    :math:`c_4 \max\left(\eta, n, \tfrac{n}{\eta} \ln(1 + n/\eta)\right) / (c\gamma)^2` (the form of
    the linear-model result with effective margin :math:`c \gamma`; finite only when ``c > 0``).
    ``c4`` is the unknown ("standard") constant.
    """
    eta, n, gamma, c = map(as_expression, (eta, n, gamma, c))
    if c.is_number and c <= 0:
        return float("inf")
    return _out(c4 * sympy.Max(eta, n, (n / eta) * sympy.log(1 + n / eta)) / (c * gamma) ** 2)


class LargeStepsizePrediction(dict[str, dict[str, Any]]):
    """A mapping of named predictions; each value has ``value`` and ``status`` keys."""


def large_stepsize_predictions(
    eta: float,
    n: int,
    gamma: float,
    c: float,
    kappa: float = 0,
    beta: float = 0,
    m: int = 2,
    steps: int | None = None,
) -> LargeStepsizePrediction:
    r"""All predictions for one run, labelled with the status of their constants.

    Args:
        eta: stepsize.
        n: number of data points.
        gamma: linear max-margin of the data (:math:`\|x_i\| \le 1` assumed).
        c, kappa, beta: activation constants.
        m: width (number of neurons).
        steps: optional horizon ``T`` for the acceleration statement.

    Returns:
        :class:`LargeStepsizePrediction` with keys ``stable_phase_threshold``,
        ``first_phase_steps``, ``stable_rate_constant`` (the order of
        :math:`\text{risk} \cdot \eta t`), ``acceleration`` and ``first_phase_ends`` (``c > 0``).
    """
    pred = LargeStepsizePrediction()
    pred["stable_phase_threshold"] = {
        "value": stable_phase_threshold(eta, n, kappa, beta, m),
        "status": "form from the theory; absolute constants standard (set to 1)",
    }
    pred["first_phase_steps"] = {
        "value": first_phase_bound(eta, n, gamma, c),
        "status": "order-of-magnitude upper bound; constant standard (set to 1)",
    }
    pred["stable_rate_constant"] = {
        "value": 1.0 / (c * gamma) ** 2 if c > 0 else float("inf"),
        "status": "risk * eta * t = O(1/(c gamma)^2) up to log factors; constant standard",
    }
    pred["first_phase_ends"] = {
        "value": bool(c > 0),
        "status": "theorem: finite first phase under separability and phi' >= c > 0",
    }
    if steps is not None:
        pred["acceleration"] = {
            "value": {
                "large_stepsize_risk_order": 1.0 / steps**2,
                "monotone_risk_order": 1.0 / steps,
            },
            "status": "O~(1/T^2) with eta ~ T vs Omega(1/T) for monotone GD; constants standard",
        }
    return pred
