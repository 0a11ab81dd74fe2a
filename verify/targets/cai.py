"""Cai, Wu, Mei, Lindsey, Bartlett 2024, "Large stepsize GD for non-homogeneous two-layer
networks: margin improvement and fast optimization".

- ``cai-fig4``: five points in R^3, two leaky-softplus neurons (c = 0.5) with output weights
  +1/2 and -1/2, stepsize 3: each neuron's own margin stays negative while the network's
  normalized margin rises and becomes positive.
- ``cai-acceleration``: with ``eta`` proportional to the horizon ``T`` the risk after ``T``
  steps decays like ``T^-2`` (fitted exponent over a range of ``T``), against ``T^-1`` at best
  for runs whose risk decreases monotonically.
- ``cai-exponential``: the exponential loss beside the logistic one on the five points,
  across stepsizes: phases, rates and where a large stepsize diverges.
- ``cai-xor``, ``cai-digits``: large against small stepsizes on XOR and on a real two-class
  subset of scikit-learn's handwritten digits (3 vs 8; the source's CIFAR-10 airplane vs
  automobile subset cannot be downloaded here), in the three-panel layout risk / rate /
  normalized margin, with the checks of :mod:`trainability.verify._large_stepsize`.

The source's initialisation is not stated ("standard"): weights are ``init_scale * N(0, 1/d)``
with a seed, both options.
"""

from __future__ import annotations

import numpy as np

from trainability.analytic import activation
from trainability.numeric import digits_data, five_point_data, xor_data

from .._figures import plt, save_figure
from .._large_stepsize import (
    acceleration_exponent,
    check_risk_monotone,
    large_stepsize_experiment,
)
from .._options import above, number_option, seed_option, steps_option
from .._registry import reproduction

_EVERY = 10  # steps between two records of the runs compared
MAX_POINTS = 400  # curves in the JSON are subsampled to at most this many points


def _subsample(values: np.ndarray, max_points: int = MAX_POINTS) -> np.ndarray:
    idx = np.unique(np.linspace(0, values.shape[-1] - 1, max_points).round().astype(int))
    return values[..., idx]


def _fig4_options(parser):
    steps_option(parser, None, "GD steps (default 100000, 5000 with --quick)", lo=10)
    number_option(parser, "--eta", default=3.0, help="stepsize (default 3)", **above(0))
    seed_option(parser, "initialisation seed")
    number_option(
        parser,
        "--init-scale",
        default=0.1,
        help="initial weights init_scale * N(0, 1/d)",
        **above(0),
    )


def plot_fig4(run, path):
    """Three panels: risk, network normalized margin, each neuron's normalized margin."""
    t = np.arange(run.risk.shape[1])
    rs = np.maximum(run.record_steps, 1)
    fig, ax = plt.subplots(1, 3, figsize=(12, 3.4))
    ax[0].loglog(np.maximum(t, 1), run.risk[0])
    ax[0].set_xlabel("step $t$")
    ax[0].set_ylabel("risk $L(w_t)$")
    ax[1].semilogx(rs, run.margin[0])
    ax[1].axhline(0, color="k", lw=0.6)
    ax[1].set_xlabel("step $t$")
    ax[1].set_ylabel(r"network margin $\min_i y_i f(w_t;x_i)/\|w_t\|$")
    for j in range(run.neuron_margins.shape[2]):
        sign = "+" if run.a[j] > 0 else "-"
        ax[2].semilogx(rs, run.neuron_margins[0, :, j], label=f"neuron {j + 1} ($a_j$ = {sign}1)")
    ax[2].axhline(0, color="k", lw=0.6)
    ax[2].set_xlabel("step $t$")
    ax[2].set_ylabel(r"neuron margin $\min_i y_i a_j\phi(x_i w_j)/\|w_j\|$")
    ax[2].legend(frameon=False, fontsize=8)
    fig.suptitle(f"five points, leaky softplus c=0.5, two neurons, eta={run.etas[0]:g}")
    fig.tight_layout()
    return save_figure(fig, path)


@reproduction(
    "cai-fig4",
    "Fig. 4: five points, two neurons; neuron margins stay negative "
    "while the network margin turns positive",
    _fig4_options,
)
def fig4(args) -> dict:
    steps = args.steps if args.steps is not None else (5000 if args.quick else 100000)
    steps -= steps % 10
    data = five_point_data()
    every = 10
    res = large_stepsize_experiment(
        data,
        [args.eta],
        steps,
        width=2,
        seed=args.seed,
        init_scale=args.init_scale,
        every=every,
        progress=True,
    )
    run, phase = res.run, res.phases[0]
    figure = plot_fig4(run, args.out / "fig4.png")
    return {
        "steps": steps,
        "final_risk": float(run.risk[0, -1]),
        "network_margin": _subsample(run.margin[0]),
        "neuron_margins": _subsample(run.neuron_margins[0].T),
        "final_network_margin": float(run.margin[0, -1]),
        "max_neuron_margin": float(np.max(run.neuron_margins[0])),
        "stable_phase_start": phase.start,
        "risk_monotone_after_start": bool(check_risk_monotone(run.risk[0], phase.start)),
        "figure": figure,
    }


def plot_three_panels(res, title: str, path):
    """The paper's layout: risk, rate (risk * eta * t) and normalized margin against steps."""
    run = res.run
    t = np.arange(1, run.risk.shape[1])
    rs = np.maximum(run.record_steps, 1)
    fig, ax = plt.subplots(1, 3, figsize=(12.5, 3.5))
    colors = plt.cm.viridis(np.linspace(0, 0.9, len(run.etas)))
    for k, eta in enumerate(run.etas):
        ph = res.phases[k]
        style = "-" if (ph.start or 0) > 0 else "--"
        label = f"eta={eta:g}" + (f" (stable from {ph.start})" if ph.start else " (monotone)")
        ax[0].loglog(t, run.risk[k, 1:], style, color=colors[k], label=label, lw=1)
        ax[1].loglog(t, run.risk[k, 1:] * eta * t, style, color=colors[k], lw=1)
        ax[2].semilogx(rs, run.margin[k], style, color=colors[k], lw=1)
    ax[0].set_ylabel("risk $L(w_t)$")
    ax[1].set_ylabel(r"rate $L(w_t)\,\eta\,t$")
    ax[2].set_ylabel(r"normalized margin $\min_i y_i f(w_t;x_i)/\|w_t\|$")
    ax[2].axhline(0, color="k", lw=0.6)
    for a in ax:
        a.set_xlabel("step $t$")
    ax[0].legend(frameon=False, fontsize=7)
    fig.suptitle(title)
    fig.tight_layout()
    return save_figure(fig, path)


def _compare_options(defaults: dict):
    def add(parser):
        steps_option(
            parser,
            None,
            f"GD steps (default {defaults['steps']}, {defaults['quick_steps']} with --quick)",
            lo=_EVERY,
        )
        parser.add_argument(
            "--etas", default=None, help=f"comma-separated stepsizes (default {defaults['etas']})"
        )
        number_option(parser, "--width", lo=1, hi=4096, default=20, help="number of neurons m")
        seed_option(parser, "initialisation seed")
        number_option(
            parser,
            "--init-scale",
            default=1.0,
            help="initial weights init_scale * N(0, 1/d)",
            **above(0),
        )

    return add


def _parse_etas(text: str) -> list[float]:
    try:
        etas = [float(v) for v in text.split(",")]
    except ValueError:
        raise ValueError(f"--etas expects comma-separated numbers, got {text!r}") from None
    if not etas or not all(np.isfinite(e) and e > 0 for e in etas):
        raise ValueError("--etas must be positive and finite")
    return etas


def _compare(data, defaults: dict, args, title: str) -> dict:
    quick_or_full = defaults["quick_steps"] if args.quick else defaults["steps"]
    steps = quick_or_full if args.steps is None else args.steps
    every = _EVERY
    steps -= steps % every
    etas = _parse_etas(args.etas or defaults["etas"])
    res = large_stepsize_experiment(
        data,
        etas,
        steps,
        width=args.width,
        seed=args.seed,
        init_scale=args.init_scale,
        every=every,
        act=activation("leaky_softplus", c=0.5),
        progress=True,
    )
    summary = res.summary()
    summary["data_info"] = data.info
    summary["figure"] = plot_three_panels(res, title, args.out / "three_panels.png")
    large = [r for r in summary["runs"] if (r["start"] or 0) > 0]
    summary["two_phases_seen"] = bool(large)
    summary["margin_rises"] = bool(large) and all(r["verdicts"][1]["passed"] for r in large)
    return summary


XOR_DEFAULTS = {"steps": 20000, "quick_steps": 2000, "etas": "1,10,100,1000,3000,10000"}
DIGITS_DEFAULTS = {"steps": 20000, "quick_steps": 2000, "etas": "1,10,100,1000,3000,10000"}


@reproduction(
    "cai-xor", "XOR: large vs small stepsize, risk / rate / margin", _compare_options(XOR_DEFAULTS)
)
def xor(args) -> dict:
    n = 40 if args.quick else 100
    data = xor_data(n, 0.1, seed=0)
    return _compare(
        data, XOR_DEFAULTS, args, f"XOR (n={n}, noise 0.1), leaky softplus c=0.5, m={args.width}"
    )


@reproduction(
    "cai-digits",
    "digits 3 vs 8: large vs small stepsize, risk / rate / margin",
    _compare_options(DIGITS_DEFAULTS),
)
def digits(args) -> dict:
    data = digits_data((3, 8), n_per_class=40 if args.quick else None)
    return _compare(
        data,
        DIGITS_DEFAULTS,
        args,
        f"sklearn digits 3 vs 8 (n={data.n}), leaky softplus c=0.5, m={args.width}",
    )


def _horizon_options(parser):
    number_option(
        parser,
        "--eta-per-step",
        default=0.05,
        help="eta = this * T for horizon T",
        **above(0, 1e3),
    )


@reproduction(
    "cai-acceleration",
    "eta proportional to T: risk after T steps ~ T^-2 (fitted exponent), five points",
    _horizon_options,
)
def acceleration(args) -> dict:
    horizons = [250, 500, 1000, 2000] if args.quick else [250, 500, 1000, 2000, 4000, 8000]
    v = acceleration_exponent(five_point_data(), horizons, args.eta_per_step)
    m = v.measured
    fig, ax = plt.subplots(figsize=(4.4, 3.2))
    ax.loglog(m["horizons"], m["risk_at_T"], "o-", label=f"eta = {args.eta_per_step:g} T")
    T = np.asarray(m["horizons"], float)
    ax.loglog(T, m["risk_at_T"][0] * (T / T[0]) ** -2.0, "k:", lw=1, label="T^-2")
    ax.set_xlabel("horizon T")
    ax.set_ylabel("risk after T steps")
    ax.legend(frameon=False, fontsize=8)
    p = m["exponent"]
    return {
        **v.to_dict(),
        "comparison": [
            {
                "quantity": "exponent of the risk after T steps with eta ~ T",
                "paper": -2.0,
                "measured": p,
                "agrees": bool(p is not None and abs(p + 2.0) <= 0.5),
            }
        ],
        "note": "the paper's O~(1/T^2) allows log factors: agreement means within 0.5",
        "figure": save_figure(fig, args.out / "acceleration.png"),
    }


EXPONENTIAL_ETAS = (0.3, 1.0, 3.0, 10.0, 30.0)


@reproduction(
    "cai-exponential",
    "exponential loss beside logistic on the five points: phases, rates, divergence",
)
def exponential(args) -> dict:
    steps = 2000 if args.quick else 20000
    data = five_point_data()
    rows = []
    for loss in ("logistic", "exponential"):
        res = large_stepsize_experiment(
            data, list(EXPONENTIAL_ETAS), steps, width=2, init_scale=0.1, loss=loss
        )
        for k, eta in enumerate(res.run.etas):
            risk = res.run.risk[k]
            finite = bool(np.all(np.isfinite(risk)))
            ph = res.phases[k]
            rows.append(
                {
                    "loss": loss,
                    "eta": float(eta),
                    "diverged": not finite,
                    "final_risk": float(risk[-1]) if finite else None,
                    "stable_phase_start": ph.start,
                    "oscillations": ph.oscillations if finite else None,
                    "rate_exponent": ph.rate_exponent,
                    "risk_monotone_after_start": bool(check_risk_monotone(risk, ph.start))
                    if finite
                    else False,
                }
            )
    logistic = [r for r in rows if r["loss"] == "logistic"]
    return {
        "steps": steps,
        "rows": rows,
        "logistic_never_diverges": not any(r["diverged"] for r in logistic),
        "exponential_diverges_at": [r["eta"] for r in rows if r["diverged"]],
        "note": "l'(q) is bounded by 1 for the logistic loss and unbounded for the exponential "
        "one, so a large stepsize that the logistic loss survives (oscillating, then stable) "
        "can overflow the exponential loss",
    }
