"""One bounded cache per artifact derived from a landscape.

Kernels, C sources and renormalization groups depend on a landscape's expression, variables,
hyperparameters and domains, never on hyperparameter values or the landscape's name, so
landscapes that differ only in values share one artifact (one jit compilation, one compiled
C kernel per grid). Each artifact kind has one :class:`ArtifactCache`; least recently used
entries are evicted beyond ``maxsize``.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

from ._landscape import Landscape

__all__ = ["ArtifactCache"]

T = TypeVar("T")


class ArtifactCache(Generic[T]):
    """A thread-safe LRU cache of one artifact kind, keyed by the landscape's expression.

    ``cache(land, build, *options)`` returns the artifact for ``land`` and the hashable
    ``options`` (e.g. a backend or block size), calling ``build()`` on a miss.

    >>> from trainability.analytic import family
    >>> cache = ArtifactCache("demo", maxsize=1)
    >>> cache(family("additive", eps=0.1), lambda: "built")
    'built'
    >>> cache(family("additive", eps=0.5), lambda: "rebuilt")   # same expression: a hit
    'built'
    >>> len(cache), cache.hits, cache.misses
    (1, 1, 1)
    """

    def __init__(self, artifact: str, maxsize: int = 128):
        if maxsize < 1:
            raise ValueError(f"maxsize must be at least 1, got {maxsize}")
        self.artifact: str = artifact
        self.maxsize: int = maxsize
        self.hits: int = 0
        self.misses: int = 0
        self._entries: OrderedDict[tuple[Hashable, ...], T] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def key(land: Landscape, *options: Hashable) -> tuple[Hashable, ...]:
        """What the artifact depends on: expression, variables, hyperparameters, domains."""
        return (land.expr, land.variables, land.hyperparameters, land.domains, *options)

    def __call__(self, land: Landscape, build: Callable[[], T], *options: Hashable) -> T:
        key = self.key(land, *options)
        with self._lock:
            if key in self._entries:
                self.hits += 1
                self._entries.move_to_end(key)
                return self._entries[key]
        value = build()  # outside the lock: builds may take seconds (jit, gcc)
        with self._lock:
            self.misses += 1
            self._entries[key] = value
            self._entries.move_to_end(key)
            while len(self._entries) > self.maxsize:
                self._entries.popitem(last=False)
        return value

    def __len__(self) -> int:
        return len(self._entries)

    def clear(self) -> None:
        """Drop every entry and reset the counters."""
        with self._lock:
            self._entries.clear()
            self.hits = self.misses = 0

    def __repr__(self) -> str:
        return (
            f"ArtifactCache({self.artifact!r}, {len(self)}/{self.maxsize} entries, "
            f"{self.hits} hits, {self.misses} misses)"
        )
