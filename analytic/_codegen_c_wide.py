"""C sweep kernels for coordinate-separable losses: loops over coordinates, not unrolled.

A loss is *coordinate-separable* when it is ``F(S_1, ..., S_m; p)`` with
``S_k = sum_j a_k(x_j; p)``: the same template ``a_k`` for every coordinate ``x_j`` (the
d-dimensional families: additive ``S = sum [x_j^2 + eps cos(2 pi x_j / lam)]``, ``F = S``;
multiplicative ``S_1 = sum x_j^2``, ``S_2 = sum cos(2 pi x_j / lam)``,
``F = S_1 (1 + eps S_2)``). :func:`separable_form` finds ``F`` and the ``a_k`` symbolically
(or returns ``None``), and the gradient follows by the chain rule,
``dF/dx_j = sum_k F_k(S) a_k'(x_j)`` with ``F_k = dF/dS_k``.

:func:`c_wide_sweep_source` prints that structure as C whose size does not grow with ``d``:
per lane and GD step, pass 1 loops over the coordinates accumulating the ``S_k`` and storing
``a_k'(x_j)``; then ``F`` and the ``F_k`` of the lane; pass 2 loops over the coordinates again
and updates every ``x_j``. The unrolled kernel of :func:`~trainability.analytic.c_sweep_source`
prints the whole d-dimensional gradient straight-line, thousands of instructions per lane at
d = 100, larger than the instruction caches.

Layout: tiles of ``TR_W`` lanes whose iterates are stored coordinate-major inside the tile
(``X[(tile*D + j)*W + lane]``). Pass 1a is one flat vectorised loop over the tile's
``D W`` coordinates (templates and their derivatives: neighbouring elements are
independent); pass 1b adds the templates per lane in coordinate order (one lane per SIMD
element: no cross-lane reduction, so the order of every sum is fixed); a tile's ``2 D W``
doubles stay in L1 for a run of 16 steps. (The alternative, one lane at a time with the
sums vectorised over coordinates, needs a reassociated reduction per sum; it was not
built.) Tile sizes 4, 8, 16 and blocks of 64 to 1024 lanes measured within 10% of each
other at d = 100 (``benchmarks/bench_wide.py --tiles``); 8 and 256 are used. Measured at
d = 100 (one thread, CPU time) a coordinate-lane-step costs about 4.5 ns, what the
polynomial sin and cos of one argument cost alone here (``tr_sincos``): the kernel is bound
by the floating-point throughput of the polynomials.

The rules are the unrolled kernel's: the max/sum/above divergence criteria, the exact
periodic-orbit exit (the iterate bitwise equal to the one 16 steps earlier), the certified
polynomial sin/cos/exp/... of :mod:`._codegen_c`'s prelude, and libm for a lane's whole step
where any sin/cos argument leaves ``|u| <= R``. The C entry points and their arguments are the
unrolled kernel's (``tr_sweep_cells``, ``tr_eval``, ``tr_sincos``, ...), so
:class:`~trainability.numeric.CSweepKernel` runs either.

Diagonal shortcut: a separable loss is symmetric under permutations of the coordinates, and
every coordinate gets the same arithmetic, so an orbit that starts with all coordinates
bitwise equal (Liu's d-dimensional runs from ``x0 = (1/d)(1, ..., 1)``) stays so; a run of
a tile whose lanes are all on the diagonal computes coordinate 0's templates only (the sums
still add d equal terms in order): the same orbit bit for bit, with d times less
transcendental work. ``CSweepKernel.tiled = False`` turns it off (the reference it is tested
against). Labels equal the unrolled kernel's except on
rounding-sensitive lanes: the sums are added in another order.
"""

from __future__ import annotations

from dataclasses import dataclass
from string import Template

import sympy

from ._cache import ArtifactCache
from ._codegen_c import _PRELUDE, _prelude_format_args, _Printer
from ._landscape import Landscape

__all__ = ["SeparableForm", "separable_form", "c_wide_sweep_source"]

#: Lanes per tile: 8 doubles = two AVX2 vectors per coordinate (``bench_wide.py --tiles``).
WIDE_TILE = 8

_FORMS: ArtifactCache[SeparableForm | None] = ArtifactCache("separable forms", maxsize=128)
_SOURCES: ArtifactCache[str | None] = ArtifactCache("wide C sweep sources", maxsize=64)


@dataclass(frozen=True)
class SeparableForm:
    """``f(x) = outer(S_1, ..., S_m)`` with ``S_k = sum_j templates[k](x_j)``.

    Attributes:
        outer: ``F``, an expression in ``sums`` and the hyperparameters (no ``x_j``).
        sums: the symbols ``S_1..S_m`` standing for the coordinate sums.
        templates: ``a_1..a_m``, expressions in ``variable`` and the hyperparameters.
        variable: the template's coordinate symbol.
        variables: the landscape's variables ``x_1..x_d``.
    """

    outer: sympy.Expr
    sums: tuple[sympy.Symbol, ...]
    templates: tuple[sympy.Expr, ...]
    variable: sympy.Symbol
    variables: tuple[sympy.Symbol, ...]

    @property
    def outer_derivatives(self) -> tuple[sympy.Expr, ...]:
        """``F_k = dF/dS_k``, expressions in ``sums`` and the hyperparameters."""
        return tuple(sympy.diff(self.outer, s) for s in self.sums)

    @property
    def template_derivatives(self) -> tuple[sympy.Expr, ...]:
        """``a_k'(variable)``."""
        return tuple(sympy.diff(a, self.variable) for a in self.templates)

    def _sum_values(self) -> dict:
        t = self.variable
        return {
            s: sympy.Add(*(a.xreplace({t: x}) for x in self.variables))
            for s, a in zip(self.sums, self.templates, strict=True)
        }

    def loss(self) -> sympy.Expr:
        """The loss rebuilt from the form: ``F`` with every ``S_k`` written out as its sum."""
        return self.outer.xreplace(self._sum_values())

    def gradient(self) -> list[sympy.Expr]:
        """The chain-rule gradient ``[sum_k F_k(S) a_k'(x_j) for j]`` in the variables."""
        values, t = self._sum_values(), self.variable
        fk = [e.xreplace(values) for e in self.outer_derivatives]
        da = self.template_derivatives
        return [
            sympy.Add(*(f * a.xreplace({t: x}) for f, a in zip(fk, da, strict=True)))
            for x in self.variables
        ]


class _NotSeparable(Exception):
    pass


def separable_form(land: Landscape) -> SeparableForm | None:
    """The coordinate-separable form of ``land``'s loss, or ``None`` if it has none.

    Found on the expression tree: in every sum (``Add``), the terms that depend on exactly
    one variable are grouped per variable; if the groups are one template ``a(x)`` applied
    to every variable ``x_1..x_d``, they become one symbol ``S = sum_j a(x_j)`` (the same
    symbol wherever the same template occurs). Terms with several variables are searched
    the same way. The loss is separable when no variable is left outside such sums. A
    one-dimensional loss is its own template (``F = S``). Not recognised (``None``): sums
    whose coordinates have different templates (``x1**2 + 2*x2**2``), products or other
    couplings of coordinates outside sums (``x1*x2``), losses constant in ``x``.
    """
    return _FORMS(land, lambda: _separable_form(land))


def _separable_form(land: Landscape) -> SeparableForm | None:
    xs = tuple(land.variables)
    xset = set(xs)
    t = sympy.Symbol("tr_x")  # the C name of the template coordinate
    if t in land.expr.free_symbols:
        t = sympy.Dummy("x")
    templates: list[sympy.Expr] = []

    def sum_symbol(template: sympy.Expr) -> sympy.Symbol:
        if template not in templates:
            templates.append(template)
        return sympy.Symbol(f"tr_S{templates.index(template)}")

    def visit(e: sympy.Expr) -> sympy.Expr:
        if not (e.free_symbols & xset):
            return e
        if e.is_Add:
            per: dict = {x: [] for x in xs}
            rest = []
            for term in e.args:
                v = term.free_symbols & xset
                if len(v) == 1:
                    per[next(iter(v))].append(term)
                else:
                    rest.append(term)
            out = [visit(r) for r in rest]
            if any(per.values()):
                parts = [sympy.Add(*per[x]).xreplace({x: t}) for x in xs]
                if any(p != parts[0] for p in parts[1:]):
                    raise _NotSeparable
                out.append(sum_symbol(parts[0]))
            return sympy.Add(*out)
        if e in xset or not e.args:
            raise _NotSeparable  # a variable outside every coordinate sum
        return e.func(*(visit(a) for a in e.args))

    if not (land.expr.free_symbols & xset):
        return None
    if len(xs) == 1:
        outer = sum_symbol(land.expr.xreplace({xs[0]: t}))
    else:
        try:
            outer = visit(land.expr)
        except _NotSeparable:
            return None
    sums = tuple(sympy.Symbol(f"tr_S{k}") for k in range(len(templates)))
    return SeparableForm(outer, sums, tuple(templates), t, xs)


# ---- C source ---------------------------------------------------------------------------


def _statements(exprs, printer, indent: str, prefix: str, pair: bool = False):
    """CSE'd C statements ``const double <name_i> = exprs[i]`` (names ``prefix`` + i), and
    the C names of every sin/cos argument (for the out-of-range test).

    ``pair``: where both ``sin u`` and ``cos u`` occur, one ``tr_sincos_pair`` call computes
    them (the prelude's shared reduction and polynomials, fewer selects: the same values as
    ``tr_sin``/``tr_cos`` bit for bit).
    """
    replacements, reduced = sympy.cse(list(exprs), symbols=sympy.numbered_symbols(f"{prefix}t"))
    args: list[sympy.Expr] = []
    for e in [*(r for _, r in replacements), *reduced]:
        for fn in sorted(e.atoms(sympy.sin, sympy.cos), key=sympy.default_sort_key):
            if fn.args[0] not in args:
                args.append(fn.args[0])
    calls: dict[sympy.Symbol, str] = {}  # first symbol of a pair -> the call defining both
    if pair:
        sub = {}
        for n, a in enumerate(args):
            everything = [*(r for _, r in replacements), *reduced]
            if all(any(e.has(fn(a)) for e in everything) for fn in (sympy.sin, sympy.cos)):
                sn, cn = sympy.Symbol(f"{prefix}s{n}"), sympy.Symbol(f"{prefix}c{n}")
                sub[sympy.sin(a)], sub[sympy.cos(a)] = sn, cn
                u = printer.doprint(a)
                calls[sn] = calls[cn] = (
                    f"{indent}double {sn}, {cn}; tr_sincos_pair({u}, &{sn}, &{cn});"
                )
        replacements = [(r, e.xreplace(sub)) for r, e in replacements]
        reduced = [e.xreplace(sub) for e in reduced]
    lines: list[str] = []

    def emit(name, e):
        for sym in sorted(e.free_symbols & set(calls), key=str):
            call = calls.pop(sym)
            for other in [k for k, v in calls.items() if v == call]:
                del calls[other]
            lines.append(call)
        lines.append(f"{indent}const double {name} = {printer.doprint(e)};")

    for r, e in replacements:
        emit(r, e)
    names = []
    for a in args:
        if a.is_Symbol:
            names.append(a.name)
        else:
            names.append(f"{prefix}u{len(names)}")
            lines.append(f"{indent}const double {names[-1]} = {printer.doprint(a)};")
    for i, e in enumerate(reduced):
        emit(f"{prefix}{i}", e)
    return lines, names


def _oor(names) -> str:
    return " | ".join(f"(int64_t)(fabs({a}) > TR_R)" for a in names) or "(int64_t)0"


#: Loss and gradient of one point ``xv[0..D-1]``: pass 1 sums the templates, then F and the
#: F_k, then pass 2 the chain rule ``g_j = sum_k F_k a_k'(x_j)``; ``$fallback`` may return
#: early (the kernel's version takes libm where an argument is out of range).
_POINT = Template(r"""
/* $what */
static void $name(const double *restrict xv, const double *restrict P,
                  double *restrict f_out, double *restrict g_out) {
$params
    double tr_S[TR_M] = {0};
    for (int j = 0; j < TR_D; ++j) {
        const double tr_x = xv[j];
$tmpl
$acc_scalar
    }
$sums_scalar
$outer
$fallback
    *f_out = tr_o0;
    for (int j = 0; j < TR_D; ++j) {
        const double tr_x = xv[j];
$tmpl
        g_out[j] = $grad_scalar;
    }
}
""")

_DRIVER = Template(r"""
#define TR_M $m
#define TR_W $tile
#define TR_BAD 1

/* sin u and cos u from one reduction (the prelude's tr_reduce, tr_sin_r, tr_cos_r): the
   values of tr_sin(u), tr_cos(u) bit for bit (swap and negation are exact), with one swap
   and two sign flips by integer arithmetic instead of their separate selects. */
static inline void tr_sincos_pair(double u, double *restrict s, double *restrict c) {
    int64_t q; const double r = tr_reduce(u, &q);
    const double sr = tr_sin_r(r), cr = tr_cos_r(r);
    const int odd = (int)(q & 1);
    double sv = odd ? cr : sr, cv = odd ? sr : cr;
    uint64_t sb, cb; memcpy(&sb, &sv, 8); memcpy(&cb, &cv, 8);
    sb ^= (uint64_t)(q & 2) << 62;
    cb ^= (uint64_t)((q + 1) & 2) << 62;
    memcpy(s, &sb, 8); memcpy(c, &cb, 8);
}

$point_exact
/* Whether any template sin/cos argument of point xv is out of the polynomial's range. */
static int64_t tr_point_out(const double *restrict xv, const double *restrict P) {
$params
    int64_t oor = 0;
    for (int j = 0; j < TR_D; ++j) {
        const double tr_x = xv[j];
$tmpl_fast
        oor |= $oor_tmpl;
    }
    return oor;
}
$point_kernel
/* One run of steps k0..kend-1 of one tile: X (D x W, coordinate-major) is the tile at the
   run's start, XN receives it at the run's end; LR, S (the sum rule's running sum), SO, MO,
   FL are the tile's W lanes. G: scratch for a_k'(x_j) (M x D x W); EX: exact updates of
   lanes out of range (W x D); A: scratch for a_k(x_j) (M x D x W). criterion as in
   tr_run_block_wide. */
static inline __attribute__((always_inline)) void tr_wide_run(
    const int criterion, long k0, long kend, const double *restrict LR,
    const double *restrict X, double *restrict XN, const double *restrict S,
    double *restrict SO, double *restrict MO, int64_t *restrict FL, const double *restrict P,
    double bound, double *restrict G, double *restrict EX, double *restrict A,
    const int64_t check_diagonal) {
$params
    int64_t bad[TR_W], oor[TR_W];
    double so[TR_W], mo[TR_W], f[TR_W], tr_S[TR_M][TR_W], Fk[TR_M][TR_W];
    for (int l = 0; l < TR_W; ++l) { so[l] = S[l]; mo[l] = -INFINITY; bad[l] = 0; }
    memcpy(XN, X, sizeof(double) * TR_D * TR_W);
    /* Every lane on the diagonal (all coordinates bitwise equal): a separable loss is
       symmetric under permuting coordinates and every coordinate gets the same arithmetic,
       so the orbit stays on the diagonal, and coordinate 0's templates stand for all (the
       sums still add D equal terms in order): the same orbit bit for bit, D times less
       transcendental work. Checked once per run. */
    int64_t diagonal = check_diagonal;
    for (long e = TR_W; e < TR_D * TR_W; ++e) {
        uint64_t a, b; memcpy(&a, &X[e], 8); memcpy(&b, &X[e % TR_W], 8);
        diagonal &= a == b;
    }
    const long ne = diagonal ? TR_W : TR_D * TR_W, js = diagonal ? 0 : TR_W;
    for (long k = k0; k < kend; ++k) {
        const int64_t later = k > 0;
        /* pass 1a: a_k(x_j) and a_k'(x_j) of every coordinate of every lane, one flat
           loop: neighbouring elements are independent, so their polynomial chains overlap */
        double umax = 0.0; /* largest |sin/cos argument| (NaN never counts: as fabs(u) > R) */
#pragma omp simd reduction(max : umax)
        for (long e = 0; e < ne; ++e) {
            const double tr_x = XN[e];
$tmpl_tile
$store_tile
$umax_tmpl
        }
        /* pass 1b: the coordinate sums, in coordinate order per lane */
        for (int l = 0; l < TR_W; ++l)
            for (int q = 0; q < TR_M; ++q) tr_S[q][l] = 0.0;
        for (int j = 0; j < TR_D; ++j) {
            for (int q = 0; q < TR_M; ++q) {
#pragma omp simd
                for (int l = 0; l < TR_W; ++l) tr_S[q][l] += A[q * TR_D * TR_W + j * js + l];
            }
        }
        /* the lane's F and F_k */
        int64_t any = 0;
#pragma omp simd reduction(| : any)
        for (int l = 0; l < TR_W; ++l) {
$sums_tile
$outer_tile
            f[l] = tr_o0;
$fk_tile
            oor[l] = $oor_outer & (bad[l] == 0);
            any |= oor[l];
        }
        if (umax > TR_R) {
            /* some argument is out of range: find the lanes (rare, scalar) */
            for (int l = 0; l < TR_W; ++l) {
                double xv[TR_D];
                for (int j = 0; j < TR_D; ++j) xv[j] = XN[j * TR_W + l];
                oor[l] |= tr_point_out(xv, P) & (bad[l] == 0);
                any |= oor[l];
            }
        }
        if (any) {
            /* out of the polynomial's range: the lane's whole step with libm */
            for (int l = 0; l < TR_W; ++l) {
                if (!oor[l]) continue;
                double xv[TR_D], g[TR_D];
                for (int j = 0; j < TR_D; ++j) xv[j] = XN[j * TR_W + l];
                tr_point_exact(xv, P, &f[l], g);
                for (int j = 0; j < TR_D; ++j) EX[l * TR_D + j] = xv[j] - LR[l] * g[j];
            }
        }
        for (int l = 0; l < TR_W; ++l) {
            const double tr_f = f[l];
            if (criterion == 0) {
                bad[l] |= (int64_t)!((tr_f <= bound) & (fabs(tr_f) < INFINITY));
            } else if (criterion == 1) {
                const double tr_sum = so[l] + (later ? tr_f : 0.0);
                so[l] = tr_sum;
                mo[l] = (tr_f <= mo[l]) ? mo[l] : tr_f; /* NaN propagates */
                bad[l] |= later & (int64_t)!(tr_sum < bound);
            } else {
                bad[l] |= later & (int64_t)(tr_f > bound);
            }
        }
        /* pass 2: every coordinate, after all sums are done */
        for (int j = 0; j < TR_D; ++j) {
#pragma omp simd
            for (int l = 0; l < TR_W; ++l) {
                const double tr_g = $grad_tile;
                XN[j * TR_W + l] = XN[j * TR_W + l] - LR[l] * tr_g;
            }
        }
        if (any)
            for (int l = 0; l < TR_W; ++l)
                if (oor[l])
                    for (int j = 0; j < TR_D; ++j) XN[j * TR_W + l] = EX[l * TR_D + j];
    }
    for (int l = 0; l < TR_W; ++l) { FL[l] = bad[l] ? TR_BAD : 0; SO[l] = so[l]; MO[l] = mo[l]; }
}

static void tr_wide_tile(int criterion, long k0, long kend, const double *LR, const double *X,
                         double *XN, const double *S, double *SO, double *MO, int64_t *FL,
                         const double *P, double bound, double *G, double *EX, double *A,
                         int64_t check_diagonal) {
    /* One specialisation per criterion: the rule's branches vanish from the inner loops. */
#define TR_RUN(c) tr_wide_run(c, k0, kend, LR, X, XN, S, SO, MO, FL, P, bound, G, EX, A, \
                              check_diagonal)
    if (criterion == 0) TR_RUN(0);
    else if (criterion == 1) TR_RUN(1);
    else TR_RUN(2);
#undef TR_RUN
}

#define TR_LANE(i, j) ((((i) / TR_W) * TR_D + (j)) * TR_W + (i) % TR_W)

/* criterion 0 (max): divergent when f(x_k) > bound (or NaN) at any k = 0..steps.
   criterion 1 (sum, Liu's gpuexp-4-2.py/gpuexp-10.py): divergent when
   f(x_1) + ... + f(x_k) reaches bound (NaN counts as reaching it) for some k <= steps.
   criterion 2 (above, Liu's exp-3.py/exp-5.jl): divergent when f(x_k) > bound for some
   k = 1..steps; a NaN loss never compares above. All lanes of the block run runs of
   TR_PERIOD steps tile by tile; between runs, diverged lanes and lanes whose iterate is
   bitwise equal to the one TR_PERIOD steps earlier (periodic forever, every loss of the
   cycle already checked) are compacted away. B is a multiple of TR_W. */
static long tr_run_block_wide(long n, long B, const double *restrict lrs,
                              const double *restrict x0, const double *restrict P, long steps,
                              double bound, uint8_t *restrict labels, int check_period,
                              double *restrict work, int criterion, long x0_stride,
                              int64_t check_diagonal) {
    double *LR = work, *S = LR + B, *SO = S + B, *MO = SO + B, *X = MO + B;
    double *XN = X + TR_D * B, *G = XN + TR_D * B, *EX = G + TR_M * TR_D * TR_W;
    double *A = EX + TR_W * TR_D;
    long *IDX = (long *)(A + TR_M * TR_D * TR_W);
    int64_t *FL = (int64_t *)(IDX + B);
    for (long i = 0; i < n; ++i) {
        LR[i] = lrs[i]; IDX[i] = i; labels[i] = 1; S[i] = 0.0;
        for (int j = 0; j < TR_D; ++j) X[TR_LANE(i, j)] = x0[i * x0_stride + j];
    }
    long evaluations = 0;
    for (long k0 = 0; k0 <= steps && n > 0; k0 += TR_PERIOD) {
        long kend = k0 + TR_PERIOD < steps + 1 ? k0 + TR_PERIOD : steps + 1;
        long nt = (n + TR_W - 1) / TR_W * TR_W;
        for (long i = n; i < nt; ++i) { /* pad the last tile with copies of lane 0 */
            LR[i] = LR[0]; S[i] = S[0];
            for (int j = 0; j < TR_D; ++j) X[TR_LANE(i, j)] = X[TR_LANE(0, j)];
        }
        for (long t = 0; t < nt; t += TR_W)
            tr_wide_tile(criterion, k0, kend, LR + t, X + t * TR_D, XN + t * TR_D, S + t,
                         SO + t, MO + t, FL + t, P, bound, G, EX, A, check_diagonal);
        evaluations += n * (kend - k0);
        const int periodic = check_period && kend <= steps;
        long m = 0;
        for (long i = 0; i < n; ++i) {
            if (FL[i] & TR_BAD) { labels[IDX[i]] = 0; continue; }
            if (periodic) {
                int same = 1;
                for (int j = 0; j < TR_D; ++j)
                    same &= memcmp(&XN[TR_LANE(i, j)], &X[TR_LANE(i, j)], 8) == 0;
                /* sum: the orbit repeats the run's losses (each <= MO) for the steps - kend
                   + 1 terms still to come; finished only if that stays below the bound. */
                if (criterion == 1 && same)
                    same = SO[i] + (double)(steps - kend + 1) * fmax(MO[i], 0.0)
                           < bound * (1.0 - 1e-9);
                if (same) continue;
            }
            LR[m] = LR[i]; IDX[m] = IDX[i]; S[m] = SO[i];
            for (int j = 0; j < TR_D; ++j) X[TR_LANE(m, j)] = XN[TR_LANE(i, j)];
            ++m;
        }
        n = m;
    }
    return evaluations;
}

/* Label the same n learning rates for each of n_cells cells (the unrolled kernel's entry
   point and arguments). tiled = 0 turns the diagonal shortcut off (every coordinate
   computed: the reference the shortcut is tested against). */
long tr_sweep_cells(long n_cells, long n, const double *lrs, const double *x0s,
                    const double *Ps, long steps, double bound, uint8_t *labels, long block,
                    int threads, int check_period, int criterion, int lane_x0, int tiled) {
    long nblocks = (n + block - 1) / block;
    long pairs = n_cells * nblocks;
    long total = 0;
    long stride = (block + TR_W - 1) / TR_W * TR_W;
    size_t bytes = sizeof(double) * ((size_t)stride * (4 + 2 * TR_D) + (2 * TR_M + 1) * TR_D * TR_W)
                   + sizeof(long) * stride + sizeof(int64_t) * stride + 64;
#ifdef _OPENMP
    if (threads < 1) threads = omp_get_max_threads();
#pragma omp parallel num_threads(threads) reduction(+ : total)
#endif
    {
        double *work = (double *)malloc(bytes);
#ifdef _OPENMP
#pragma omp for schedule(dynamic, 1)
#endif
        for (long q = 0; q < pairs; ++q) {
            long c = q / nblocks, b = q % nblocks;
            long lo = b * block, m = n - lo < block ? n - lo : block;
            const double *x0 = lane_x0 ? x0s + (c * n + lo) * TR_D : x0s + c * TR_D;
            total += tr_run_block_wide(m, stride, lrs + lo, x0, Ps + c * TR_NP, steps, bound,
                                       labels + c * n + lo, check_period, work, criterion,
                                       lane_x0 ? TR_D : 0, tiled != 0);
        }
        free(work);
    }
    return total;
}

void tr_eval(long n, const double *x, const double *P, double *f, double *g) {
    for (long i = 0; i < n; ++i) tr_point_kernel(x + i * TR_D, P, f + i, g + i * TR_D);
}
$elementwise
""")


def _elementwise_entry_points() -> str:
    """``tr_sincos``, ``tr_hsincos``, ``tr_expv``, ... (``CSweepKernel`` loads them all)."""
    lines = []
    lines.append(  # the pair (what the kernel uses), to be checked against tr_sin/tr_cos
        "void tr_sincos(long n, const double *u, double *s, double *c) {\n"
        "    for (long i = 0; i < n; ++i) tr_sincos_pair(u[i], &s[i], &c[i]);\n}"
    )
    for name, sin, cos in (("tr_hsincos", "tr_hsin", "tr_hcos"),):
        lines.append(
            f"void {name}(long n, const double *u, double *s, double *c) {{\n"
            f"    for (long i = 0; i < n; ++i) {{ s[i] = {sin}(u[i]); c[i] = {cos}(u[i]); }}\n}}"
        )
    for fn in ("exp", "tanh", "log", "cosh", "sinh"):
        lines.append(
            f"void tr_{fn}v(long n, const double *x, double *y) {{\n"
            f"    for (long i = 0; i < n; ++i) y[i] = tr_{fn}(x[i]);\n}}"
        )
    return "\n".join(lines)


def _prelude(land: Landscape, tile: int) -> str:
    """``_codegen_c``'s scalar prelude (the certified polynomials) with this kernel's tile."""
    return _PRELUDE.format(**(_prelude_format_args(land, "double") | {"tile": tile}))


def c_wide_sweep_source(
    land: Landscape, transcendentals: str = "poly", tile: int = WIDE_TILE
) -> str | None:
    """C source of the wide (looped) sweep kernel of ``land``, or ``None`` when the loss is
    not coordinate-separable (:func:`separable_form`). See the module docstring.

    Args:
        land: the landscape; hyperparameter values are passed at run time.
        transcendentals: ``"poly"`` (certified polynomials, libm for a step where a sin/cos
            argument leaves ``|u| <= R``) or ``"libm"`` (the C library's functions).
        tile: lanes per tile (the SIMD width of the coordinate loops times the number of
            vectors in flight).
    """
    if transcendentals not in ("poly", "libm"):
        raise ValueError(f"transcendentals must be 'poly' or 'libm', got {transcendentals!r}")
    if not isinstance(tile, int) or tile < 1:
        raise ValueError(f"tile must be a positive integer, got {tile!r}")
    return _SOURCES(land, lambda: _wide_source(land, transcendentals, tile), transcendentals, tile)


def _wide_source(land: Landscape, transcendentals: str, tile: int) -> str | None:
    form = separable_form(land)
    if form is None:
        return None
    fast = transcendentals == "poly"
    m, d, npar = len(form.sums), land.dim, len(land.hyperparameters)
    ps = {h: sympy.Symbol(f"tr_p{j}") for j, h in enumerate(land.hyperparameters)}
    to_c = {form.variable: sympy.Symbol("tr_x")} | ps
    tmpl = [e.xreplace(to_c) for e in (*form.templates, *form.template_derivatives)]
    outer = [e.xreplace(ps) for e in (form.outer, *form.outer_derivatives)]

    def body(printer, indent):
        tl, targs = _statements(tmpl, printer, indent, "tr_a", printer.fast)
        ol, oargs = _statements(outer, printer, indent, "tr_o", printer.fast)
        return tl, targs, ol, oargs

    tmpl_fast, targs, outer_fast, oargs = body(_Printer(fast), " " * 8)
    tmpl_exact, _, outer_exact, _ = body(_Printer(False), " " * 8)
    tmpl_tile, _, outer_tile, _ = body(_Printer(fast), " " * 12)
    if not fast:
        targs = oargs = []
    # a_k is tr_a<k>, a_k' is tr_a<m+k>; F is tr_o0, F_k is tr_o<k+1>.
    grad_tile = " + ".join(f"Fk[{k}][l] * G[{k} * TR_D * TR_W + j * js + l]" for k in range(m))
    params = "\n".join(f"    const double tr_p{j} = P[{j}];" for j in range(npar)) or "    (void)P;"
    scalar = {
        "params": params,
        "acc_scalar": "\n".join(f"        tr_S[{k}] += tr_a{k};" for k in range(m)),
        "sums_scalar": "\n".join(f"    const double tr_S{k} = tr_S[{k}];" for k in range(m)),
        "grad_scalar": " + ".join(f"tr_o{k + 1} * tr_a{m + k}" for k in range(m)),
    }
    point_exact = _POINT.substitute(
        scalar,
        what="Loss and gradient of one point with libm transcendentals.",
        name="tr_point_exact",
        tmpl="\n".join(tmpl_exact),
        outer="\n".join(line[4:] for line in outer_exact),
        fallback="",
    )
    point_kernel = _POINT.substitute(
        scalar,
        what="The same with the kernel's; libm where any argument is out of range.",
        name="tr_point_kernel",
        tmpl="\n".join(tmpl_fast),
        outer="\n".join(line[4:] for line in outer_fast),
        fallback=f"    if (tr_point_out(xv, P) | {_oor(oargs)}) {{\n"
        "        tr_point_exact(xv, P, f_out, g_out);\n        return;\n    }",
    )
    source = _DRIVER.substitute(
        m=m,
        tile=tile,
        params=params,
        point_exact=point_exact,
        point_kernel=point_kernel,
        tmpl_fast="\n".join(tmpl_fast),
        tmpl_tile="\n".join(tmpl_tile),
        oor_tmpl=_oor(targs),
        umax_tmpl="\n".join(
            f"            umax = fabs({a}) > umax ? fabs({a}) : umax;" for a in targs
        ),
        oor_outer=_oor(oargs),
        store_tile="\n".join(
            f"            A[{k} * TR_D * TR_W + e] = tr_a{k};\n"
            f"            G[{k} * TR_D * TR_W + e] = tr_a{m + k};"
            for k in range(m)
        ),
        sums_tile="\n".join(f"            const double tr_S{k} = tr_S[{k}][l];" for k in range(m)),
        outer_tile="\n".join(line[4:] for line in outer_tile),
        fk_tile="\n".join(f"            Fk[{k}][l] = tr_o{k + 1};" for k in range(m)),
        grad_tile=grad_tile,
        elementwise=_elementwise_entry_points(),
    )
    header = f"/* trainability sweep kernel (wide, coordinate-separable): d={d}, m={m}, "
    header += f"{transcendentals} */\n/* loss: {sympy.sstr(form.outer)}; "
    header += "; ".join(f"S{k} = sum {sympy.sstr(a)}" for k, a in enumerate(form.templates))
    return header + " */\n" + _prelude(land, tile) + source
