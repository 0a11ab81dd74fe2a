"""Verdicts: a prediction from the analytic layer against a measurement from the numeric one."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

__all__ = ["Verdict"]


@dataclass(frozen=True)
class Verdict:
    """One comparison of theory and measurement.

    Attributes:
        name: what was checked, in the field's words.
        measured: the measured value (number, list or mapping).
        predicted: the predicted value or description.
        tolerance: the allowed deviation, in the units of ``measured``.
        passed: whether the measurement is consistent with the prediction.
        why: one sentence explaining the outcome.
    """

    name: str
    measured: Any
    predicted: Any
    tolerance: Any
    passed: bool
    why: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def __bool__(self) -> bool:
        return self.passed
