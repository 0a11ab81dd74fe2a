"""Numeric command-line options: one validator type for every parser.

Every numeric option of every subcommand and reproduction target is added with
:func:`number_option`, which checks the value's range while parsing (bad values exit 2 with
one line) and states the range in ``--help``. No value means "the default" silently: a
default is ``None`` or an in-range number, never 0.
"""

from __future__ import annotations

import argparse
import math
import os
from pathlib import Path

__all__ = [
    "Range",
    "above",
    "number_option",
    "output_folder",
    "steps_option",
    "bound_option",
    "seed_option",
    "levels_option",
    "quick_default_option",
]

MAX_SEED = 2**32 - 1  # JAX's PRNGKey takes 32 bits
MAX_STEPS = 10**7  # numeric.validate_sweep_arguments
MAX_DIM = 4096  # analytic.from_expression / family
MAX_LR = 1e6


class Range:
    """An argparse ``type``: a finite ``kind`` (``int`` or ``float``) between ``lo`` and ``hi``.

    ``lo``/``hi`` may be infinite (only finiteness is then required); ``lo_open``/``hi_open``
    exclude the end points.

    >>> Range(int, 1, 30)("12"), str(Range(float, 0, math.inf, lo_open=True))
    (12, 'a finite number > 0')
    """

    def __init__(self, kind: type, lo: float, hi: float, *, lo_open=False, hi_open=False):
        if kind not in (int, float):
            raise TypeError(f"kind must be int or float, got {kind!r}")
        self.kind, self.lo, self.hi = kind, lo, hi
        self.lo_open, self.hi_open = lo_open, hi_open
        self.__name__ = kind.__name__  # argparse names the type in "invalid int value"

    def __str__(self) -> str:
        if self.kind is int:
            return f"an integer in {self.lo}..{self.hi}"
        lo, hi = math.isfinite(self.lo), math.isfinite(self.hi)
        if not lo and not hi:
            return "a finite number"
        if not hi:
            return f"a finite number {'>' if self.lo_open else '>='} {self.lo:g}"
        if not lo:
            return f"a finite number {'<' if self.hi_open else '<='} {self.hi:g}"
        left, right = "(" if self.lo_open else "[", ")" if self.hi_open else "]"
        return f"a number in {left}{self.lo:g}, {self.hi:g}{right}"

    def __call__(self, text: str):
        try:
            value = self.kind(text)
        except (TypeError, ValueError):
            raise argparse.ArgumentTypeError(f"{text!r} is not {self}") from None
        if not self.contains(value):
            raise argparse.ArgumentTypeError(f"{text!r} is not {self}")
        return value

    def contains(self, value) -> bool:
        if not math.isfinite(value):
            return False
        above = value > self.lo if self.lo_open else value >= self.lo
        below = value < self.hi if self.hi_open else value <= self.hi
        return above and below


def number_list(flag: str, text: str, valid: Range) -> tuple:
    """The comma-separated numbers ``text`` of option ``flag``, each checked by ``valid``.

    Raises ``ValueError`` (one line, exit 2 on the command line) naming the option.

    >>> number_list("--widths", "8,32", Range(int, 1, 4096))
    (8, 32)
    """
    try:
        values = tuple(valid(item) for item in text.split(","))
    except argparse.ArgumentTypeError:
        raise ValueError(
            f"{flag} expects comma-separated values, each {valid}, got {text!r}"
        ) from None
    return values


def above(lo: float, hi: float = 1e6) -> dict:
    """Keyword arguments of :func:`number_option` for a float in ``(lo, hi]``."""
    return {"kind": float, "lo": lo, "hi": hi, "lo_open": True}


def number_option(
    parser,
    *flags: str,
    kind: type = int,
    lo: float,
    hi: float,
    lo_open: bool = False,
    hi_open: bool = False,
    help: str = "",
    **kwargs,
):
    """Add a numeric option whose values must lie in the range; ``--help`` states it."""
    valid = Range(kind, lo, hi, lo_open=lo_open, hi_open=hi_open)
    default = kwargs.get("default")
    if default is not None and not valid.contains(default):
        raise ValueError(f"default {default!r} of {flags[0]} is not {valid}")
    text = f"{help}; {valid}" if help else str(valid)
    return parser.add_argument(*flags, type=valid, help=text.replace("%", "%%"), **kwargs)


def steps_option(parser, default: int | None = 1000, help: str = "GD steps", lo: int = 1):
    """``--steps``: GD steps per run."""
    return number_option(parser, "--steps", lo=lo, hi=MAX_STEPS, default=default, help=help)


def bound_option(parser):
    """``--bound``: the divergence bound; finite and positive (non-finite losses diverge)."""
    return number_option(
        parser,
        "--bound",
        **above(0, math.inf),
        default=1e8,
        help="divergence bound on the loss (a non-finite loss is divergent whatever the bound)",
    )


def seed_option(parser, help: str = "random seed"):
    """``--seed``: a 32-bit seed, default 0."""
    return number_option(parser, "--seed", lo=0, hi=MAX_SEED, default=0, help=help)


def quick_default_option(parser, *flags: str, full: float, quick: float, help: str, **kwargs):
    """A numeric option of a reproduction whose default is ``full``, or ``quick`` with ``--quick``.

    The parser's default is ``None``; :meth:`~trainability.verify.Reproduction.run` fills in
    ``full`` or ``quick``, so a target reads a number, and ``--help`` states both.
    """
    if "default" in kwargs:
        raise TypeError("a quick-default option takes full= and quick=, not default=")
    text = f"{help} (default {full}, {quick} with --quick)"
    action = number_option(parser, *flags, help=text, default=None, **kwargs)
    for value in (full, quick):
        if not action.type.contains(value):
            raise ValueError(f"default {value!r} of {flags[0]} is not {action.type}")
    action.quick_default = (full, quick)  # read by Reproduction.run
    return action


def levels_option(parser, *, full: int, quick: int, help: str = "finest level"):
    """``--levels``: the finest level of a nested learning-rate grid, ``full`` or ``quick``."""
    from trainability.numeric import MAX_LEVELS

    return quick_default_option(
        parser, "--levels", lo=1, hi=MAX_LEVELS, full=full, quick=quick, help=help
    )


def output_folder(text: str) -> Path:
    """An argparse ``type`` for ``--out DIR``: a folder, or a path one can create one at.

    Checked while parsing so that an existing file or an unwritable place is one line
    before any work (the command line still turns a later ``OSError`` into one line).
    """
    path = Path(text).expanduser()
    if path.exists() and not path.is_dir():
        raise argparse.ArgumentTypeError(f"{text!r} exists and is not a folder")
    parent = path
    while not parent.exists():  # the nearest existing ancestor is where mkdir writes
        parent = parent.parent
    if not parent.is_dir():
        raise argparse.ArgumentTypeError(f"{text!r}: {str(parent)!r} is not a folder")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise argparse.ArgumentTypeError(f"{text!r} is not writable")
    return path
