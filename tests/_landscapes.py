"""Shared test landscapes (imported by the test modules; pytest puts ``tests/`` on the path).

The ring double well of the path and string tests: minima at ``(+-1, 0)``, a barrier of
height ``B`` at ``(0, +-1)`` and ``K + B`` at the origin, so any path between the minima
rises to at least ``B``; ``A_END`` and ``B_END`` are points on the ring near each minimum.
"""

import numpy as np

K, B = 1.0, 0.5

A_END = np.array([np.cos(np.pi - 0.3), np.sin(np.pi - 0.3)])
B_END = np.array([np.cos(0.2), np.sin(0.2)])


def ring(theta):
    """The double well at one point ``theta: (2,)`` (JAX or NumPy)."""
    x, y = theta[0], theta[1]
    return K * (x**2 + y**2 - 1) ** 2 + B * (1 - x**2)


def ring_np(p):
    """The double well at points ``p: (..., 2)`` (NumPy), the brute-force reference."""
    x, y = p[..., 0], p[..., 1]
    return K * (x**2 + y**2 - 1) ** 2 + B * (1 - x**2)
