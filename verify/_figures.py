"""Shared figure plumbing: one way to save.

The backend is the user's: importing the package never switches it (the command line selects
the headless Agg backend itself, in :func:`trainability.verify._cli.main`).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import matplotlib.pyplot as plt

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["plt", "save_figure"]


def save_figure(fig: Figure, path: str | Path) -> str:
    """Save ``fig`` (PNG, 150 dpi), close it, and return the path as a string."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=150, bbox_inches="tight")
    plt.close(fig)
    return str(path)
