"""Time budgets for symbolic work: a derivation that runs too long stops with an answer.

SymPy has no cancellation, so the budget is a wall-clock alarm (``SIGALRM``) that raises
:class:`DerivationTimeout` inside whatever SymPy is doing. It derives from
``BaseException`` so that SymPy's own ``except Exception`` blocks cannot swallow it. Budgets
nest (the earliest deadline wins). Outside the main thread, or where ``SIGALRM`` does not
exist, only the cooperative checks (:func:`check_budget`) apply.
"""

from __future__ import annotations

import contextlib
import math
import signal
import threading
import time

__all__ = ["DerivationTimeout", "time_budget", "check_budget", "remaining"]


class DerivationTimeout(BaseException):  # noqa: N818 - reads as "the derivation timed out"
    """The symbolic time budget ran out."""


_deadlines: list[float] = []


def remaining() -> float:
    """Seconds left in the innermost budget (``inf`` when none is active)."""
    return min(_deadlines) - time.monotonic() if _deadlines else math.inf


def check_budget() -> None:
    """Raise :class:`DerivationTimeout` if the budget is spent (a cooperative check)."""
    if _deadlines and time.monotonic() >= min(_deadlines):
        raise DerivationTimeout("time budget exhausted")


def _on_alarm(signum, frame):
    raise DerivationTimeout("time budget exhausted")


@contextlib.contextmanager
def time_budget(seconds: float | None):
    """Run the block with at most ``seconds`` of wall-clock time (``None``: no limit).

    >>> import sympy
    >>> with time_budget(5):
    ...     sympy.diff(sympy.sin(sympy.Symbol("x")), sympy.Symbol("x"))
    cos(x)
    """
    if seconds is None or not math.isfinite(seconds):
        yield
        return
    if seconds <= 0:
        raise DerivationTimeout("time budget exhausted")
    deadline = time.monotonic() + seconds
    _deadlines.append(deadline)
    use_signal = (
        hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
    )
    previous = None
    if use_signal:
        previous = signal.signal(signal.SIGALRM, _on_alarm)
        signal.setitimer(signal.ITIMER_REAL, max(remaining(), 1e-3))
    try:
        yield
    finally:
        _deadlines.remove(deadline)
        if use_signal:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
            if _deadlines:  # re-arm the enclosing budget
                signal.setitimer(signal.ITIMER_REAL, max(remaining(), 1e-3))
