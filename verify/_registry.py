"""The registry of paper reproductions behind ``trainability reproduce TARGET``.

The targets are listed, with their one-line help, in
:data:`trainability.verify.targets.TARGETS` (``name -> (module, help)``); listing them
imports no target module. A target module registers each of its targets with
:func:`reproduction` when it is imported, which happens only once a target is parsed or run.

A registered function receives an :class:`argparse.Namespace` carrying ``out`` (a
:class:`pathlib.Path` folder for this target's files), ``quick`` (bool) and the target's own
options, and returns the JSON summary. Call a target through :meth:`Reproduction.run`, from
Python with keywords or from the command line, which maps the parsed arguments onto the
same keywords. Every summary has a ``"comparison"`` list
(:func:`~trainability.verify._comparison.comparison_entry` records), empty when the target
sets none; agreement or not never changes the exit code.
"""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ._options import output_folder

__all__ = ["Reproduction", "reproduction", "reproductions"]

#: The folder ``--out`` names by default; each target writes into ``out/<target>``.
DEFAULT_OUT = Path("trainability-runs")

# The options every target shares; ``Reproduction.run`` takes them as arguments.
_SHARED = ("out", "quick", "json")


#: A registered target function: the parsed options in, the JSON summary out.
TargetFunction = Callable[[argparse.Namespace], dict]
#: Adds a target's own options to its parser.
AddArguments = Callable[[argparse.ArgumentParser], None]


@dataclass(frozen=True)
class _Registered:
    run: TargetFunction
    add_arguments: AddArguments | None


_REGISTRY: dict[str, _Registered] = {}


@dataclass(frozen=True)
class Reproduction:
    """One reproduction target: its ``name``, the target ``module`` and one-line ``help``."""

    name: str
    module: str
    help: str

    def _registered(self) -> _Registered:
        from . import targets

        importlib.import_module(f"{targets.__name__}.{self.module}")
        if self.name not in _REGISTRY:
            raise RuntimeError(f"module {self.module!r} does not register {self.name!r}")
        return _REGISTRY[self.name]

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        """Add the shared options (``--quick``, ``--out``, ``--json``) and the target's own."""
        parser.add_argument("--quick", action="store_true", help="small version (seconds, for CI)")
        parser.add_argument(
            "--out",
            default=DEFAULT_OUT,
            type=output_folder,
            help=f"output folder; this target writes into OUT/{self.name} (default {DEFAULT_OUT})",
        )
        parser.add_argument("--json", action="store_true", help="print one JSON object on stdout")
        add_own = self._registered().add_arguments
        if add_own is not None:
            add_own(parser)

    def options(self) -> dict[str, argparse.Action]:
        """The target's own options: keyword name -> its argparse action (type, default, help)."""
        parser = argparse.ArgumentParser(add_help=False)
        self.add_arguments(parser)
        return {a.dest: a for a in parser._actions if a.dest not in _SHARED}

    def run(self, out: Path, quick: bool = False, **options: Any) -> dict[str, Any]:
        """Run the target into the folder ``out`` and return its summary.

        ``options`` are the target's own options by keyword name (``--fit-from`` is
        ``fit_from``); an omitted one (or ``None``) takes its command-line default, the
        ``quick`` one where it has one (``trainability reproduce TARGET --help`` documents
        names, ranges and defaults). A value is checked
        as the command line checks it: an unknown name is a :class:`TypeError`, a value
        outside its range or choices a :class:`ValueError`.
        """
        actions = self.options()
        unknown = sorted(set(options) - set(actions))
        if unknown:
            known = ", ".join(sorted(actions)) or "none"
            raise TypeError(f"{self.name}: unknown option(s) {', '.join(unknown)} (known: {known})")
        values = {dest: action.default for dest, action in actions.items()}
        for dest, value in options.items():
            _check_value(self.name, actions[dest], value)
            values[dest] = value
        for dest, action in actions.items():  # the --quick plumbing of every target
            full_and_quick = getattr(action, "quick_default", None)
            if full_and_quick is not None and values[dest] is None:
                values[dest] = full_and_quick[1] if quick else full_and_quick[0]
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        args = argparse.Namespace(out=out, quick=bool(quick), **values)
        summary = {"target": self.name, **self._registered().run(args)}
        # Every summary carries a "comparison" list (measured beside the paper); a target
        # without a value the source reports gives an empty list.
        summary.setdefault("comparison", [])
        return summary


def _check_value(target: str, action: argparse.Action, value: Any) -> None:
    """Raise ``ValueError`` unless ``value`` passes the check the command line makes."""
    if value is None or value == action.default:
        return
    valid = action.type
    if action.choices is not None and value not in action.choices:
        raise ValueError(f"{target}: {action.dest} must be one of {list(action.choices)}")
    contains = getattr(valid, "contains", None)  # a trainability.verify._options.Range
    if contains is not None:
        if not isinstance(value, int | float) or isinstance(value, bool) or not contains(value):
            raise ValueError(f"{target}: {action.dest}={value!r} is not {valid}")
        if valid.kind is int and not float(value).is_integer():
            raise ValueError(f"{target}: {action.dest}={value!r} is not {valid}")


def reproduction(
    name: str, add_arguments: AddArguments | None = None
) -> Callable[[TargetFunction], TargetFunction]:
    """Decorator registering ``run(args) -> dict`` as reproduction ``name``.

    ``name`` must be listed in :data:`trainability.verify.targets.TARGETS` (which holds its
    help); ``add_arguments(parser)`` adds the target's own options.
    """
    from .targets import TARGETS

    def register(run: TargetFunction) -> TargetFunction:
        if name not in TARGETS:
            raise RuntimeError(f"reproduction {name!r} is not listed in targets.TARGETS")
        if name in _REGISTRY:
            raise RuntimeError(f"reproduction {name!r} registered twice")
        _REGISTRY[name] = _Registered(run, add_arguments)
        return run

    return register


def reproductions() -> dict[str, Reproduction]:
    """All reproduction targets by name, sorted, without importing any target module."""
    from .targets import TARGETS

    return {name: Reproduction(name, *TARGETS[name]) for name in sorted(TARGETS)}
