"""Paper reproductions, one module per source paper; each registers its targets on import.

:data:`TARGETS` is the one list of reproduction targets: ``name -> (module, help)``. The
command line reads names and help from it without importing any target module (so that
``trainability --help`` starts in well under a second); a target's module is imported only
when that target is parsed or run. A module registering a name that is not listed here is
an error.
"""

from __future__ import annotations

__all__ = ["TARGETS"]

#: ``name -> (module in this package, one-line help)``, in the order ``--help`` lists them.
TARGETS: dict[str, tuple[str, str]] = {
    "cai-acceleration": (
        "cai",
        "eta proportional to T: risk after T steps ~ T^-2 (fitted exponent), five points",
    ),
    "cai-digits": ("cai", "digits 3 vs 8: large vs small stepsize, risk / rate / margin"),
    "cai-exponential": (
        "cai",
        "exponential loss beside logistic on the five points: phases, rates, divergence",
    ),
    "cai-fig1": (
        "cai",
        "Fig. 1: 4-layer GELU MLP, eta 0.2 vs 0.005: oscillating then monotone risk, "
        "normalized margin",
    ),
    "cai-fig4": (
        "cai",
        "Fig. 4: five points, two neurons; neuron margins stay negative while the network "
        "margin turns positive",
    ),
    "cai-xor": ("cai", "XOR: large vs small stepsize, risk / rate / margin"),
    "freeman-cubic": ("freeman", "DSS sweep over L0: 1-4-4-1 MLP on a cubic target"),
    "freeman-digits": ("freeman", "DSS sweep over L0: MLP on scikit-learn digits"),
    "freeman-permutation": (
        "freeman",
        "three points in R^2, bias-free 2-3-2 ReLU net (12 parameters), two hidden units "
        "swapped: DSS cannot connect them",
    ),
    "freeman-quadratic": ("freeman", "DSS sweep over L0: 1-4-4-1 MLP on a quadratic target"),
    "islamov-examples": (
        "islamov",
        "alpha-beta condition: Examples 1, 2, 3, 6 (proven regions, beta = 0 counterexamples)",
    ),
    "islamov-mlp": (
        "islamov",
        "alpha-beta condition: T-tracking heatmaps, MLP widths on digits and the half-space "
        "problem",
    ),
    "islamov-sgd-bound": (
        "islamov",
        "alpha-beta condition: SGD, SPS_max and NGN theorems against measured gaps, far starts",
    ),
    "liu-fig2a": ("liu", "Fig. 2a: additive perturbation, boundary dimension"),
    "liu-fig2b": ("liu", "Fig. 2b: multiplicative perturbation, boundary dimension"),
    "liu-fig2c": ("liu_theory", "Fig. 2c: additive, dimension over the (eps, lam) grid"),
    "liu-fig2d": ("liu_theory", "Fig. 2d: multiplicative, dimension over the (eps, lam) grid"),
    "liu-fig3a": ("liu_theory", "Fig. 3a: additive, dimension against roughness eps/lam^2"),
    "liu-fig3b": ("liu_theory", "Fig. 3b: multiplicative, dimension against roughness eps"),
    "liu-fig4a": (
        "liu_theory",
        "Fig. 4a: two cosines, dimension over (eps1, eps2) with the derived convexity boundary",
    ),
    "liu-fig4b": ("liu_theory", "Fig. 4b: d-dimensional additive, dimension against d"),
    "liu-fig4c": ("liu_theory", "Fig. 4c: d-dimensional multiplicative, dimension against d"),
    "liu-figS2": ("liu", "Fig. S2: pure quadratic, one boundary at s = 1"),
    "liu-figS3": (
        "liu_theory",
        "Fig. S3: multiplicative, smallest fractal eps against the divergence bound",
    ),
    "liu-figS4": ("liu", "Fig. S4: additive, dimension for random x0 ~ U(-5, 5)"),
    "liu-figS5": ("liu", "Fig. S5: multiplicative, dimension for random x0 ~ U(-5, 5)"),
    "liu-label-robustness": (
        "liu",
        "float64 boundary labels against mpmath references (additive, eps=0.2, lam=1, x0=5)",
    ),
    "sohl-dickstein": (
        "sohl_dickstein",
        "Fractal trainability boundary of a small network (2-D grid)",
    ),
}
