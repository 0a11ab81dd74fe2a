"""The ``trainability`` command line.

Every subcommand takes ``--json`` and then prints exactly one JSON object on stdout; progress
and logs go to stderr. Exit code 0 on success, 2 on bad input (one line on stderr, no
traceback), 130 when interrupted.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from pathlib import Path

import numpy as np

__all__ = ["main", "to_jsonable", "UsageError"]


class UsageError(ValueError):
    """Bad command-line input."""


_DASH_HINT = (
    " (an expression that starts with '-' goes last, after '--': derive --json -- '-x**2'; "
    "or --expr=-x**2)"
)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, exit 2, no usage dump
        if "EXPR" in message or "unrecognized arguments: -" in message:
            message += _DASH_HINT
        raise UsageError(message)


def to_jsonable(obj):
    """Convert numpy / SymPy / Path values inside ``obj`` into plain JSON types."""
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return to_jsonable(obj.tolist())
    if isinstance(obj, np.bool_ | bool):
        return bool(obj)
    if isinstance(obj, np.integer | int):
        return int(obj)
    if isinstance(obj, np.floating | float):
        v = float(obj)
        return v if math.isfinite(v) else None
    if isinstance(obj, Path):
        return str(obj)
    if obj is None or isinstance(obj, str):
        return obj
    return str(obj)


def _emit(result: dict, as_json: bool) -> None:
    result = to_jsonable(result)
    if as_json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            if key != "comparison":
                print(f"{key}: {value}")
        for c in result.get("comparison") or []:  # last, one line per quantity
            word = {True: "agrees", False: "differs", None: "not compared"}[c["agrees"]]
            se = "" if c["stderr"] is None else f" +- {c['stderr']:.3g}"
            measured = c["measured"]
            measured = f"{measured:.4g}" if isinstance(measured, float) else measured
            print(f"comparison: {c['quantity']}: {measured}{se} vs paper {c['paper']}: {word}")


def _parse_params(items: list[str]) -> dict[str, float]:
    params = {}
    for item in items or []:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise UsageError(f"--param expects NAME=VALUE, got {item!r}")
        name = name.strip()
        if name in params:
            raise UsageError(f"--param {name} is given twice")
        try:
            params[name] = float(value)
        except ValueError:
            raise UsageError(f"--param {name}: {value!r} is not a number") from None
        if not math.isfinite(params[name]):
            raise UsageError(f"--param {name} must be finite, got {value!r}")
    return params


def _parse_x0(text: str) -> list[float]:
    try:
        values = [float(v) for v in text.split(",")]
    except ValueError:
        raise UsageError(
            f"--x0 expects a number or comma-separated numbers, got {text!r}"
        ) from None
    if not all(math.isfinite(v) for v in values):
        raise UsageError("--x0 must be finite")
    return values


def _landscape(args):
    from trainability.analytic import family, from_expression

    params = _parse_params(getattr(args, "param", None))
    if getattr(args, "family", None):
        return family(args.family, dim=args.dim or 1, **params)
    return from_expression(args.expr, params, dim=args.dim)


def cmd_derive(args) -> dict:
    from ._derive import derive_summary

    return derive_summary(_landscape(args), timeout=args.timeout)


_SWEEP_SETTINGS = ("levels", "lr_min", "lr_max", "steps", "bound", "dtype")


def _settings(args, keys=_SWEEP_SETTINGS) -> dict:
    """The options ``keys`` of ``args`` as keyword arguments."""
    return {k: getattr(args, k) for k in keys}


def cmd_sweep(args) -> dict:
    from ._sweeps import initial_point, sweep_landscape, sweep_run

    land = _landscape(args)
    if args.resume and not args.out:
        raise UsageError("--resume needs --out DIR")
    result = sweep_landscape(
        land,
        _parse_x0(args.x0),
        **_settings(args),
        progress=not args.quiet,
        out=args.out,
        resume=args.resume,
        backend=args.backend,
        criterion=args.criterion,
    )
    fit = result.fit
    summary = {
        **sweep_run(
            result, args.backend, initial_point(land, _parse_x0(args.x0)), args.dtype, land
        ),
        "boundary_counts": result.boundary_counts,
        "dimension": fit.dimension,
        "dimension_stderr": fit.stderr,
        "fit_levels": list(fit.levels),
        "divergent_fraction": result.divergent_fraction,
        "n_points": result.n_points,
        "seconds": result.seconds,
    }
    if args.out:  # extra keys only when the store is used
        summary.update(
            store=result.path,
            chunks_computed=result.chunks_computed,
            chunks_reused=result.chunks_reused,
        )
    return summary


def _parse_vary(items: list[str]) -> dict[str, np.ndarray]:
    """``NAME=START:STOP:NUM`` items -> ``{name: linspace}`` (the grid command)."""
    return {name: np.linspace(*spec) for name, spec in _parse_ranges(items).items()}


def _parse_ranges(items: list[str]) -> dict[str, tuple[float, float, int]]:
    grid = {}
    for item in items or []:
        name, sep, spec = item.partition("=")
        parts = spec.split(":")
        if not sep or len(parts) != 3:
            raise UsageError(f"--vary expects NAME=START:STOP:NUM, got {item!r}")
        try:
            start, stop, num = float(parts[0]), float(parts[1]), int(parts[2])
        except ValueError:
            raise UsageError(f"--vary {name}: {spec!r} is not START:STOP:NUM") from None
        if not 1 <= num <= 1000 or not (math.isfinite(start) and math.isfinite(stop)):
            raise UsageError(f"--vary {name}: need finite START, STOP and NUM in 1..1000")
        if name.strip() in grid:
            raise UsageError(f"--vary {name.strip()} is given twice")
        grid[name.strip()] = (start, stop, num)
    return grid


def cmd_grid(args) -> dict:
    import itertools
    import time

    from trainability.numeric import validate_sweep_arguments

    from ._scale import dask_sweeps
    from ._sweeps import initial_point, sweep_protocol

    base = _landscape(args)  # values of the varied parameters come per cell
    grid = _parse_vary(args.vary)
    unknown = set(grid) - set(base.parameter_names)
    if unknown:
        raise UsageError(f"--vary: unknown parameter(s) {', '.join(sorted(unknown))}")
    fixed = _parse_params(args.param)
    x0 = initial_point(base, _parse_x0(args.x0)).tolist()
    names = list(grid)
    cells = [
        dict(zip(names, map(float, v), strict=True)) for v in itertools.product(*grid.values())
    ]
    if len(cells) > 100_000:
        raise UsageError(f"grid has {len(cells)} cells (at most 100000)")
    validate_sweep_arguments(
        args.levels, args.lr_min, args.lr_max, args.steps, args.bound, args.dtype
    )
    for cell in cells:  # every cell valid before any work is scheduled
        base.with_values({**fixed, **cell}).parameter_values()
    loss = {"family": args.family} if args.family else {"expr": args.expr}
    configs = [{**loss, "params": {**fixed, **cell}, "dim": base.dim, "x0": x0} for cell in cells]
    settings = _settings(args)
    t0 = time.perf_counter()
    summaries = dask_sweeps(
        configs,
        args.out,
        scheduler=args.scheduler,
        n_workers=args.workers,
        progress=not args.quiet,
        backend=args.backend,
        **settings,
    )
    points = [{**cell, **summary} for cell, summary in zip(cells, summaries, strict=True)]
    # Each cell's engine is resolved where it ran (a Dask worker may lack a compiler).
    engines = sorted({s["backend"] for s in summaries})
    protocol = sweep_protocol(**settings, x0=x0, fit_levels=[s["fit_levels"] for s in summaries])
    return {
        "backend": "+".join(engines),
        "protocol": protocol,
        "points": points,
        "store": str(args.out),
        "n_cells": len(cells),
        "seconds": time.perf_counter() - t0,
    }


def cmd_check(args) -> dict:
    from ._check import check_perturbation

    result = check_perturbation(
        args.expr,
        _parse_params(args.param),
        _parse_ranges(args.vary),
        x0=_parse_x0(args.x0),
        **_settings(args, ("levels", "steps", "bound", "backend", "out", "points", "dim")),
        resume=args.resume,
        progress=not args.quiet,
    )
    if result["verdict"]["status"] == "failed":
        args.exit_code = 1  # the theory and the measurement disagree
    return result


def cmd_testgen(args) -> dict:
    from ._testgen import testgen_source

    source = testgen_source(_landscape(args), args.expr, examples=args.examples, dim=args.dim)
    if args.json:
        return {"expression": args.expr, "source": source}
    sys.stdout.write(source)  # the module itself, ready for "> test_my_loss.py"
    return {}


def cmd_reproduce(args) -> dict:
    from ._registry import reproductions

    target = reproductions()[args.target]
    out = Path(args.out) / args.target
    options = {dest: getattr(args, dest) for dest in target.options()}
    summary = to_jsonable(target.run(out, args.quick, **options))
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    return summary


#: ``connect --method`` choices; without ``--method`` all of them run.
CONNECT_METHODS = ("dss", "linear", "bezier", "neb")


def cmd_connect(args) -> dict:
    from ._connect import connect_models

    return connect_models(
        args.model_a,
        args.model_b,
        args.threshold,
        tuple(args.method or CONNECT_METHODS),
        figure=args.figure,
        progress=not args.quiet,
        tolerance=args.tolerance,
        alpha=args.alpha,
    )


def _json_option(p) -> None:
    p.add_argument("--json", action="store_true", help="print one JSON object on stdout")


def _quiet_option(p) -> None:
    p.add_argument("--quiet", action="store_true", help="no progress on stderr")


def _loss_options(p, expr_positional: bool, max_dim: int | None = None) -> None:
    from ._options import MAX_DIM, number_option

    if expr_positional:
        p.add_argument(
            "expr",
            metavar="EXPR",
            help="loss in x (or x1..xd) and parameters; one that starts with '-' goes last, "
            "after '--'",
        )
    else:
        g = p.add_mutually_exclusive_group(required=True)
        g.add_argument("--family", help="built-in family (quadratic, additive, ...)")
        g.add_argument("--expr", help="loss expression in x (or x1..xd) and parameters")
    p.add_argument(
        "--param",
        action="append",
        metavar="NAME=VALUE",
        help="hyperparameter value (repeatable)",
    )
    number_option(p, "--dim", lo=1, hi=max_dim or MAX_DIM, help="number of parameter variables")


def _sweep_options(p, backend_default: str) -> None:
    from trainability.numeric import MAX_LEVELS

    from ._options import MAX_LR, bound_option, number_option, steps_option
    from ._sweeps import add_backend_option

    p.add_argument("--x0", required=True, help="initial point: a number or x1,x2,...")
    steps_option(p)
    lr = {"kind": float, "lo": -MAX_LR, "hi": MAX_LR}
    number_option(p, "--lr-min", default=0.0, help="smallest learning rate", **lr)
    number_option(p, "--lr-max", default=1.5, help="largest learning rate", **lr)
    number_option(
        p, "--levels", lo=1, hi=MAX_LEVELS, default=16, help="finest grid: 2**levels + 1 points"
    )
    bound_option(p)
    p.add_argument("--dtype", default="float64", choices=["float64", "float32"])
    add_backend_option(p, backend_default)


def _derive_parser(p) -> None:
    from ._derive import MAX_DERIVE_DIM
    from ._options import above, number_option

    _loss_options(p, expr_positional=True, max_dim=MAX_DERIVE_DIM)
    number_option(
        p,
        "--timeout",
        **above(0, 86400),
        default=60.0,
        metavar="SECONDS",
        help="budget for the symbolic work; what does not finish reads 'unknown: timed out' "
        "(default 60)",
    )
    _json_option(p)
    p.set_defaults(func=cmd_derive, family=None)


def _sweep_parser(p) -> None:
    from ._options import output_folder

    _loss_options(p, expr_positional=False)
    _sweep_options(p, "auto")
    _quiet_option(p)
    p.add_argument(
        "--criterion",
        default="max",
        choices=["max", "sum", "above"],
        help="divergence rule: max (the loss exceeds --bound at some step, NaN divergent), sum "
        "(the sum of the loss over the run reaches --bound, NaN counted as reaching it; Liu's "
        "GPU sweeps use sum with --bound 1e16) or above (the loss compares above --bound at "
        "some step, so a NaN orbit counts as trainable: Liu's exp-3.py) (default max)",
    )
    p.add_argument(
        "--out",
        default=None,
        type=output_folder,
        metavar="DIR",
        help="stream bit-packed labels into the result store DIR",
    )
    p.add_argument(
        "--resume",
        action="store_true",
        help="with --out: reuse valid stored chunks, compute only the rest",
    )
    _json_option(p)
    p.set_defaults(func=cmd_sweep)


def _grid_parser(p) -> None:
    from ._options import number_option, output_folder

    _loss_options(p, expr_positional=False)
    p.add_argument(
        "--vary",
        action="append",
        required=True,
        metavar="NAME=START:STOP:NUM",
        help="hyperparameter on a linspace grid (repeatable; the grid is their product)",
    )
    _sweep_options(p, "auto")
    p.add_argument(
        "--out",
        required=True,
        type=output_folder,
        metavar="DIR",
        help="the result store of every sweep",
    )
    p.add_argument(
        "--scheduler",
        default=None,
        metavar="ADDRESS",
        help="an existing Dask scheduler (default: a local cluster)",
    )
    number_option(p, "--workers", lo=1, hi=256, default=2, help="local cluster size (default 2)")
    _quiet_option(p)
    _json_option(p)
    p.set_defaults(func=cmd_grid)


def _check_parser(p) -> None:
    from trainability.numeric import MAX_LEVELS

    from ._check import DEFAULT_LEVELS, DEFAULT_OUT, DEFAULT_POINTS, DEFAULT_X0, VARY_POINTS
    from ._options import bound_option, number_option, output_folder, steps_option
    from ._sweeps import add_backend_option

    _loss_options(p, expr_positional=True)
    p.add_argument(
        "--vary",
        action="append",
        metavar="NAME=LO:HI:N",
        help="hyperparameter on N log-spaced values, 0 < LO < HI, N in 2..256 (repeatable; "
        "default: one free hyperparameter of the critical invariant, spanning "
        "critical/4..4*critical)",
    )
    number_option(
        p,
        "--points",
        lo=VARY_POINTS[0],
        hi=VARY_POINTS[1],
        default=DEFAULT_POINTS,
        help=f"cells of the automatic grid (default {DEFAULT_POINTS})",
    )
    p.add_argument("--x0", default=str(DEFAULT_X0), help=f"initial point (default {DEFAULT_X0})")
    number_option(
        p,
        "--levels",
        lo=1,
        hi=MAX_LEVELS,
        default=DEFAULT_LEVELS,
        help=f"finest grid: 2**levels + 1 learning rates per cell (default {DEFAULT_LEVELS})",
    )
    steps_option(p)
    bound_option(p)
    add_backend_option(p)
    p.add_argument(
        "--out",
        default=DEFAULT_OUT,
        type=output_folder,
        help=f"figure, summary and result-store folder (default {DEFAULT_OUT})",
    )
    p.add_argument(
        "--resume",
        action="store_true",
        help="reuse the valid chunks an interrupted run left in the store under --out",
    )
    _quiet_option(p)
    _json_option(p)
    p.set_defaults(func=cmd_check)


def _testgen_parser(p) -> None:
    from ._options import number_option

    _loss_options(p, expr_positional=True)
    number_option(p, "--examples", lo=1, hi=10_000, default=10, help="Hypothesis examples per test")
    _json_option(p)
    p.set_defaults(func=cmd_testgen, family=None)


def _connect_parser(p) -> None:
    from ._options import above, number_option

    p.add_argument("model_a", help="model file (.npz from trainability.numeric.save_model)")
    p.add_argument("model_b", help="second model file of the same task")
    number_option(
        p,
        "--threshold",
        **above(0, math.inf),
        required=True,
        help="level L0 of the loss",
    )
    p.add_argument(
        "--method",
        action="append",
        choices=CONNECT_METHODS,
        help="method (repeatable: --method dss --method linear; default all four)",
    )
    number_option(
        p,
        "--tolerance",
        kind=float,
        lo=1,
        hi=1e6,
        default=1.1,
        help="DSS accepts a segment up to tolerance*L0 (default 1.1)",
    )
    number_option(
        p,
        "--alpha",
        **above(0, 1),
        default=None,
        help="DSS trains beads to alpha*L0 (default: the task's, 0.95 or 0.98)",
    )
    p.add_argument("--figure", default=None, help="write the loss-along-path figure here")
    _quiet_option(p)
    _json_option(p)
    p.set_defaults(func=cmd_connect)


# name -> (help, description, adds the options): the options, whose defaults and ranges
# come from heavy modules (SymPy, JAX), are added only to the subcommand being parsed.
_COMMANDS = {
    "derive": ("derive gradient, Hessian and theory of a loss", None, _derive_parser),
    "sweep": ("one learning-rate sweep with boundary counts", None, _sweep_parser),
    "grid": ("a grid of sweeps over hyperparameters, on Dask", None, _grid_parser),
    "check": (
        "derive the critical roughness of a loss, measure the boundary around it, compare",
        "Derive the convexity condition and critical invariant of EXPR, sweep a grid of "
        "hyperparameters around it, measure where the boundary turns fractal and compare. "
        "Exit 0: passed or inconclusive; 1: failed; 2: bad input.",
        _check_parser,
    ),
    "testgen": ("write a Hypothesis test module for a loss (stdout)", None, _testgen_parser),
    "reproduce": ("reproduce a source paper's result", None, None),
    "connect": ("connect two saved models: DSS and baselines", None, _connect_parser),
}


def _positionals(argv: list[str]) -> list[str]:
    """The leading words of ``argv`` that are not options: the command and the target."""
    words = []
    for word in argv:
        if word == "--":
            break
        if not word.startswith("-"):
            words.append(word)
            if len(words) == 2 or words[0] != "reproduce":
                break
    return words


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    """The ``trainability`` parser; with ``argv``, only what parsing ``argv`` needs.

    Without ``argv`` every subcommand and target gets its options (this imports every
    target module). With ``argv`` only the subcommand (and reproduction target) it names
    does, so that ``trainability --help`` and ``trainability reproduce --help`` import
    neither JAX nor SymPy nor any target module.
    """
    from ._registry import reproductions

    chosen = None if argv is None else _positionals(argv)
    parser = _Parser(prog="trainability", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for name, (help, description, add_options) in _COMMANDS.items():
        p = sub.add_parser(name, help=help, description=description)
        if add_options is not None and (chosen is None or chosen[:1] == [name]):
            add_options(p)
    p = sub.choices["reproduce"]
    targets = p.add_subparsers(dest="target", required=True, parser_class=_Parser, metavar="TARGET")
    for name, rep in reproductions().items():
        t = targets.add_parser(name, help=rep.help)
        if chosen is None or chosen == ["reproduce", name]:
            rep.add_arguments(t)
    p.set_defaults(func=cmd_reproduce)
    return parser


def _fail(exc) -> int:
    message = " ".join(str(exc).split()) or type(exc).__name__
    print(f"trainability: error: {message}", file=sys.stderr)
    return 2


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        args = build_parser(argv).parse_args(argv)
        import matplotlib  # after parsing: --help and bad input stay fast

        matplotlib.use("Agg")  # figures go to files; the library itself leaves the backend alone
        result = args.func(args)
    except KeyboardInterrupt:
        print("trainability: interrupted", file=sys.stderr)
        return 130
    except (ValueError, OverflowError) as exc:
        return _fail(exc)
    except OSError as exc:  # a path the user named cannot be written, read or reached
        where = f": {exc.filename}" if exc.filename else ""
        return _fail(f"{exc.strerror or exc}{where}")
    try:
        _emit(result, getattr(args, "json", False))
        sys.stdout.flush()
    except BrokenPipeError:  # the reader left (| head): no traceback at interpreter exit
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141  # 128 + SIGPIPE, as a shell pipeline reports it
    return getattr(args, "exit_code", 0)


if __name__ == "__main__":
    sys.exit(main())
