"""The registry of paper reproductions behind ``trainability reproduce TARGET``.

A reproduction is a function ``run(args) -> dict`` registered with :func:`reproduction`.
``args`` carries ``out`` (a :class:`pathlib.Path` folder for this target's files), ``quick``
(bool) and the target's own options. The returned dict is the JSON summary; the command line
writes it to ``out/summary.json`` and prints it with ``--json``. Every summary has a
``"comparison"`` list (:func:`~trainability.verify._comparison.comparison_entry` records),
empty when the target sets none; agreement or not never changes the exit code.

Target modules live in :mod:`trainability.verify.targets` and are discovered automatically.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["Reproduction", "reproduction", "reproductions"]


@dataclass(frozen=True)
class Reproduction:
    name: str
    run: Callable
    help: str
    add_arguments: Callable | None = None


_REGISTRY: dict[str, Reproduction] = {}


def reproduction(name: str, help: str, add_arguments: Callable | None = None):
    """Decorator registering ``run(args) -> dict`` as reproduction ``name``."""

    def register(run: Callable) -> Callable:
        if name in _REGISTRY:
            raise RuntimeError(f"reproduction {name!r} registered twice")

        def run_with_comparison(args) -> dict:
            # Every summary carries a "comparison" list (measured beside the paper); a target
            # without a value the source reports gives an empty list.
            summary = run(args)
            summary.setdefault("comparison", [])
            return summary

        _REGISTRY[name] = Reproduction(name, run_with_comparison, help, add_arguments)
        return run

    return register


def reproductions() -> dict[str, Reproduction]:
    """All registered reproductions, importing every module of the targets package once."""
    from . import targets

    for info in pkgutil.iter_modules(targets.__path__):
        importlib.import_module(f"{targets.__name__}.{info.name}")
    return dict(sorted(_REGISTRY.items()))
