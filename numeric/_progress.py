"""Progress lines on stderr for long computations (chunks done, rate, ETA)."""

from __future__ import annotations

import sys
import time

__all__ = ["Progress"]


class Progress:
    """Reports ``done/total`` units with rate and ETA on stderr, at most every ``every`` s.

    Silent when ``enabled`` is false, so library calls stay quiet by default.
    """

    def __init__(
        self, total: int, label: str, unit: str = "items", enabled: bool = True, every: float = 1.0
    ):
        self.total: int = total
        self.label: str = label
        self.unit: str = unit
        self.enabled: bool = enabled
        self.every: float = every
        self.start: float = time.perf_counter()
        self._last: float = self.start
        self.done: int = 0

    def update(self, n: int) -> None:
        """Count ``n`` more units done; print a line if ``every`` seconds have passed."""
        self.done += n
        now = time.perf_counter()
        if self.enabled and (now - self._last >= self.every or self.done >= self.total):
            self._last = now
            rate = self.done / max(now - self.start, 1e-9)
            eta = (self.total - self.done) / rate if rate > 0 else float("inf")
            print(
                f"[{self.label}] {self.done}/{self.total} {self.unit} "
                f"({100 * self.done / max(self.total, 1):.0f}%), {rate:,.0f} {self.unit}/s, "
                f"ETA {eta:.0f}s",
                file=sys.stderr,
                flush=True,
            )
