"""Minimax (Remez) polynomials in mpmath and a certified bound of their error.

Used by :mod:`._sincos` and :mod:`._exp` to derive the float64 coefficients of the fast
kernels' polynomials and to prove how far they are from the function they replace:

- :func:`minimax`: the Remez exchange algorithm for the weighted best approximation
  ``min_c max_{a<=x<=b} |w(x) (sum_j c_j x**p_j + fixed(x) - g(x))|``; at the optimum the
  weighted error equioscillates on ``len(powers) + 1`` points (Chebyshev's theorem), which
  :class:`MinimaxFit` reports so a test can check it.
- :func:`float64_minimax`: the same fit with float64 coefficients: the lowest-order
  coefficient is rounded to nearest, the remaining ones are re-fitted with it fixed, and so
  on (the later coefficients absorb the rounding of the earlier ones), then a descent by
  single ulps on the sampled error.
- :func:`certified_sup`: a rigorous upper bound of ``max |D(x)|`` on ``[a, b]`` for a
  polynomial ``D`` with exact rational coefficients, from ``arb`` balls on a uniform grid
  and V. A. Markov's inequality (no sampling gap): the kernels' error minus a Taylor
  polynomial of the function is such a ``D``; the Taylor tail is bounded separately by the
  callers (Lagrange remainder).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction

import mpmath
from flint import arb, arb_poly, ctx, fmpq, fmpq_poly

__all__ = [
    "MinimaxFit",
    "as_fmpq",
    "certified_deviation",
    "certified_sup",
    "float64_minimax",
    "minimax",
]

Function = Callable[[mpmath.mpf], mpmath.mpf]


@dataclass(frozen=True)
class MinimaxFit:
    """Result of :func:`minimax`.

    ``coefficients[j]`` multiplies ``x**powers[j]``; ``level`` is the levelled weighted error
    ``|E|`` of the last reference; ``reference`` the ``len(powers) + 1`` alternation points
    and ``errors`` the weighted error there (alternating signs, magnitudes within
    ``spread`` of each other: ``max|e| / min|e| - 1``); ``max_error`` is the largest
    weighted error found on the search grid (sampled, not certified).
    """

    powers: tuple[int, ...]
    coefficients: tuple[mpmath.mpf, ...]
    level: mpmath.mpf
    reference: tuple[mpmath.mpf, ...]
    errors: tuple[mpmath.mpf, ...]
    spread: float
    max_error: mpmath.mpf
    iterations: int


def _error_function(g: Function, w: Function, powers, coefs, fixed) -> Function:
    def e(x):
        p = sum(c * x**k for k, c in zip(powers, coefs, strict=True))
        p += sum(v * x**k for k, v in fixed)
        return w(x) * (p - g(x))

    return e


def _golden_max(f: Function, lo, hi, sign: int, iters: int = 30):
    """Maximiser of ``sign * f`` on ``[lo, hi]`` by golden-section search (``f`` unimodal
    there: a neighbourhood of one grid extremum)."""
    phi = (mpmath.sqrt(5) - 1) / 2
    x1, x2 = hi - phi * (hi - lo), lo + phi * (hi - lo)
    f1, f2 = sign * f(x1), sign * f(x2)
    for _ in range(iters):
        if f1 < f2:
            lo, x1, f1 = x1, x2, f2
            x2 = lo + phi * (hi - lo)
            f2 = sign * f(x2)
        else:
            hi, x2, f2 = x2, x1, f1
            x1 = hi - phi * (hi - lo)
            f1 = sign * f(x1)
    return x1 if f1 >= f2 else x2


def _alternating_extrema(e: Function, grid, need: int):
    """One refined extremum per sign run of ``e`` on ``grid``: ``need`` consecutive ones
    (alternating signs) including the largest."""
    vals = [e(x) for x in grid]
    runs: list[list[int]] = []
    for i, v in enumerate(vals):
        if v == 0:
            continue
        if runs and (vals[runs[-1][0]] > 0) == (v > 0):
            runs[-1].append(i)
        else:
            runs.append([i])
    points = []
    for run in runs:
        i = max(run, key=lambda j: abs(vals[j]))
        lo, hi = grid[max(i - 1, 0)], grid[min(i + 1, len(grid) - 1)]
        x = _golden_max(e, lo, hi, 1 if vals[i] > 0 else -1)
        ex = e(x)
        if abs(ex) < abs(vals[i]):  # the grid point itself is better (an interval end)
            x, ex = grid[i], vals[i]
        points.append((x, ex))
    if len(points) < need:
        raise ArithmeticError(f"weighted error alternates {len(points)} times, need {need}")
    # Keep ``need`` consecutive (so alternating) points that include the largest error, as
    # close to the end of the window as the list allows (Chebfun's rule).
    top = max(range(len(points)), key=lambda j: abs(points[j][1]))
    start = min(max(top - need + 1, 0), len(points) - need)
    return points[start : start + need]


def minimax(
    g: Function,
    w: Function,
    a,
    b,
    powers: Sequence[int],
    *,
    fixed: Sequence[tuple[int, mpmath.mpf]] = (),
    reference: Sequence[mpmath.mpf] | None = None,
    dps: int = 40,
    grid: int = 240,
    tol: float = 1e-9,
    max_iter: int = 40,
    strict: bool = True,
) -> MinimaxFit:
    """Weighted minimax polynomial ``sum_j c_j x**powers[j]`` for ``g`` on ``[a, b]``.

    Minimises ``max |w(x) (p(x) + fixed(x) - g(x))|`` where ``fixed`` is a list of
    ``(power, value)`` terms held fixed. ``g`` and ``w`` take and return mpmath numbers
    (``w >= 0``; it may vanish at an end, e.g. ``z**1.5`` for an absolute sine error).
    Iterates the exchange until the reference errors level to ``tol`` (relative spread);
    ``reference`` seeds it (default: the zeros of the Chebyshev polynomial of degree
    ``len(powers) + 1``, all interior). Extrema are searched on ``grid`` Chebyshev-spaced
    points and refined by golden section. If the spread stays above ``tol`` for
    ``max_iter`` exchanges, raise ``ArithmeticError`` (``strict``) or return the iterate of
    smallest ``max_error`` (a re-fit after rounding whose error nearly equioscillates on
    more points than it needs converges slowly, and only its maximum matters).
    """
    n = len(powers)
    with mpmath.workdps(dps):
        a, b = mpmath.mpf(a), mpmath.mpf(b)
        mid, half = (a + b) / 2, (b - a) / 2
        if reference is None:
            reference = [
                mid - half * mpmath.cos((2 * i + 1) * mpmath.pi / (2 * (n + 1)))
                for i in range(n + 1)
            ]
        ref = [mpmath.mpf(x) for x in reference]
        xs = [mid - half * mpmath.cos(mpmath.pi * i / grid) for i in range(grid + 1)]

        def rest(x):
            return g(x) - sum(v * x**k for k, v in fixed)

        best = None
        for it in range(1, max_iter + 1):
            # w_i (p(x_i) - rest(x_i)) = (-1)**i E: n + 1 linear equations in (c, E).
            A = mpmath.matrix(n + 1, n + 1)
            rhs = mpmath.matrix(n + 1, 1)
            for i, x in enumerate(ref):
                wx = w(x)
                for j, k in enumerate(powers):
                    A[i, j] = wx * x**k
                A[i, n] = -((-1) ** i)
                rhs[i] = wx * rest(x)
            sol = mpmath.lu_solve(A, rhs)
            coefs = tuple(sol[j] for j in range(n))
            e = _error_function(g, w, powers, coefs, fixed)
            points = _alternating_extrema(e, xs, n + 1)
            ref = [x for x, _ in points]
            errs = [ex for _, ex in points]
            mags = [abs(v) for v in errs]
            spread = float(max(mags) / min(mags) - 1)
            fit = MinimaxFit(
                tuple(powers), coefs, abs(sol[n]), tuple(ref), tuple(errs), spread, max(mags), it
            )
            if best is None or fit.max_error < best.max_error:
                best = fit
            if spread < tol:
                return fit
        if strict:
            raise ArithmeticError(f"Remez did not level to {tol} in {max_iter} iterations")
        return best


def _round(v: mpmath.mpf) -> float:
    """``v`` rounded to the nearest float64 (ties to even), via an exact fraction."""
    return float(_fraction(v))


def _fraction(v: mpmath.mpf) -> Fraction:
    """The exact value of an mpmath number (a dyadic rational)."""
    sign, man, exp, _ = mpmath.mpf(v)._mpf_
    if not man and exp:  # inf or nan (zero has man = exp = 0)
        raise ValueError(f"not a finite number: {v}")
    return (-1) ** sign * Fraction(int(man)) * Fraction(2) ** int(exp)


def float64_minimax(
    g: Function,
    w: Function,
    a,
    b,
    powers: Sequence[int],
    *,
    refit: bool = True,
    descent_grid: int = 1000,
    **options,
) -> tuple[tuple[float, ...], MinimaxFit]:
    """Float64 coefficients of the minimax polynomial, rounded in order of ``powers``.

    ``refit``: round the first coefficient to nearest, fix it, re-fit the others (the
    exchange starts from the previous reference minus one point), and so on. Without it
    (needed where the remaining powers share a zero inside ``[a, b]``, e.g. ``r, r**2, ...``
    on a symmetric interval: not a Haar system, so no alternation theorem), every
    coefficient is rounded to nearest. Then :func:`_ulp_descent` moves coefficients by one
    float64 step while the largest weighted error on ``descent_grid`` points decreases.
    Returns the float64 coefficients and the unrounded fit of all of them (the
    equioscillating one).
    """
    fit = first = minimax(g, w, a, b, powers, **options)
    fixed: list[tuple[int, mpmath.mpf]] = []
    out: list[float] = []
    for j, k in enumerate(powers):
        c = _round(fit.coefficients[0] if refit else first.coefficients[j])
        out.append(c)
        fixed.append((k, mpmath.mpf(c)))
        if refit and j + 1 < len(powers):
            # Drop the reference point of smallest error: one unknown fewer, one point fewer.
            i = min(range(len(fit.errors)), key=lambda m: abs(fit.errors[m]))
            seed = [x for m, x in enumerate(fit.reference) if m != i]
            fit = minimax(
                g, w, a, b, powers[j + 1 :], fixed=fixed, reference=seed, strict=False, **options
            )
    return _ulp_descent(g, w, a, b, powers, out, descent_grid), first


def _ulp_descent(g, w, a, b, powers, coefs, points: int, sweeps: int = 4) -> tuple[float, ...]:
    """Coordinate descent over neighbouring float64 values: each coefficient in turn moves
    up or down by one ulp while the largest weighted error on ``points + 1``
    Chebyshev-spaced points decreases (a sampled objective: the bound is certified later)."""
    import math

    with mpmath.workdps(40):
        a, b = mpmath.mpf(a), mpmath.mpf(b)
        mid, half = (a + b) / 2, (b - a) / 2
        xs = [mid - half * mpmath.cos(mpmath.pi * i / points) for i in range(points + 1)]
        ws = [w(x) for x in xs]
        basis = [[wx * x**k for x, wx in zip(xs, ws, strict=True)] for k in powers]
        res = [-wx * g(x) for x, wx in zip(xs, ws, strict=True)]
        for c, col in zip(coefs, basis, strict=True):
            res = [r + c * v for r, v in zip(res, col, strict=True)]
        best = max(abs(r) for r in res)
        coefs = list(coefs)
        for _ in range(sweeps):
            moved = False
            for j, col in enumerate(basis):
                for direction in (math.inf, -math.inf):
                    c = math.nextafter(coefs[j], direction)
                    d = mpmath.mpf(c) - mpmath.mpf(coefs[j])
                    trial = [r + d * v for r, v in zip(res, col, strict=True)]
                    e = max(abs(r) for r in trial)
                    if e < best:
                        best, res, coefs[j], moved = e, trial, c, True
                        break
            if not moved:
                break
        return tuple(coefs)


def as_fmpq(v) -> fmpq:
    """Exact rational value of a float, int, Fraction or mpmath number (all dyadic or
    rational)."""
    if isinstance(v, mpmath.mpf):
        v = _fraction(v)
    if isinstance(v, float):
        return fmpq(*v.as_integer_ratio())
    if isinstance(v, Fraction):
        return fmpq(v.numerator, v.denominator)
    return fmpq(v)


def certified_sup(D: fmpq_poly, a, b, cells: int = 4000, prec: int = 200) -> mpmath.mpf:
    """Rigorous upper bound of ``max_{a <= x <= b} |D(x)|`` for an exact polynomial ``D``.

    ``|D|`` is enclosed by ``arb`` balls at the ``cells + 1`` points of a uniform grid of
    spacing ``h = (b - a)/cells``; between two grid points ``D`` differs from its linear
    interpolant by at most ``h**2/8 max|D''|``, and V. A. Markov's inequality for a
    polynomial of degree ``n`` on an interval of length ``L`` gives
    ``max|D''| <= (2/L)**2 n**2 (n**2 - 1)/3 max|D|``. So ``max|D| <= G / (1 - c)`` with
    ``G`` the largest grid value and ``c = n**2 (n**2 - 1) / (6 cells**2)`` (needs ``c < 1``;
    ``cells`` is raised until ``c <= 1e-3``). Returns an mpmath number (rounded up).
    """
    n = max(D.degree(), 1)
    cells = max(cells, int(n * n * 13) + 1)  # c <= n**4/(6 cells**2) <= 1e-3
    c = fmpq(n * n * (n * n - 1), 6 * cells * cells)
    assert c <= fmpq(1, 1000)
    A, B = as_fmpq(a), as_fmpq(b)
    old = ctx.prec
    ctx.prec = prec
    try:
        P = arb_poly(D)
        G = arb(0)
        for i in range(cells + 1):
            x = arb(A + (B - A) * fmpq(i, cells))
            G = G.max(abs(P(x)))  # ball maximum: contains max of the values
        bound = (G / (1 - arb(c))).abs_upper()
    finally:
        ctx.prec = old
    return _upper_mpf(bound)


def _upper_mpf(v: arb) -> mpmath.mpf:
    """An arb upper bound as an mpmath number not below it (a few ulps at 60 digits)."""
    mid, rad, exp = v.mid_rad_10exp()
    with mpmath.workdps(60):
        return (mpmath.mpf(int(mid)) + int(rad) + 1) * mpmath.mpf(10) ** int(exp)


def certified_deviation(
    P: fmpq_poly,
    taylor: Callable[[int], fmpq],
    a,
    b,
    tail: Callable[[int], mpmath.mpf],
    tol: float = 1e-25,
) -> mpmath.mpf:
    """Rigorous upper bound of ``max_{a <= x <= b} |P(x) - f(x)|``.

    ``f = sum_k taylor(k) x**k`` (exact rational Taylor coefficients) and ``tail(K)`` a
    bound of ``|f - T_K|`` on ``[a, b]`` for the Taylor polynomial ``T_K`` of degree ``K``
    (e.g. the Lagrange remainder); ``K`` is the smallest degree at least ``P``'s with
    ``tail(K) <= tol``. Then ``max|P - f| <= certified_sup(P - T_K) + tail(K)``.
    """
    K = max(P.degree(), 1)
    while tail(K) > tol:
        K += 1
    T = fmpq_poly([taylor(k) for k in range(K + 1)])
    return certified_sup(P - T, a, b) + tail(K)
