"""The README's Python examples run as written and print what their comments say.

Each ``print(...)  # expected`` line of a README block is checked against the line it prints:
words exactly, numbers within 10 % (the sweep examples print boundary counts and a fitted
dimension, which move a little between JAX/XLA versions because labels next to a fractal
boundary are rounding-sensitive; a wrong range or a broken fit moves them far more).
"""

import math
import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
_NUMBER = re.compile(r"[-+]?\d+(?:\.\d+)?(?:e[-+]?\d+)?")


def expected_lines(block: str) -> list[str]:
    """The trailing comments of the block's top-level ``print(...)`` lines, in order."""
    return [m.group(1).strip() for m in re.finditer(r"^print\(.*\)\s+#\s*(.+)$", block, re.M)]


def matches(printed: str, expected: str, rtol: float = 0.1) -> bool:
    """Same words and punctuation (white space folded), numbers within ``rtol``."""

    def split(text):
        text = re.sub(r"\s+", " ", text.strip())
        text = re.sub(r"\[ ", "[", text)  # NumPy pads arrays to a column width
        return _NUMBER.split(text), [float(n) for n in _NUMBER.findall(text)]

    (words_p, nums_p), (words_e, nums_e) = split(printed), split(expected)
    return (
        words_p == words_e
        and len(nums_p) == len(nums_e)
        and all(
            math.isclose(p, e, rel_tol=rtol, abs_tol=1e-12)
            for p, e in zip(nums_p, nums_e, strict=True)
        )
    )


def test_readme_has_one_example_per_layer_each_with_expected_output():
    assert len(BLOCKS) == 3
    assert all(expected_lines(b) for b in BLOCKS)


def test_matches_rejects_a_wrong_word_or_a_far_number():
    assert matches("[ 277  557 1091] 0.95", "[277 557 1091] 0.95")
    assert matches("c-poly 1.03", "c-poly 1.04")
    assert not matches("jax 1.04", "c-poly 1.04")
    assert not matches("c-poly 0.00", "c-poly 1.04")
    assert not matches("True True", "True False")
    assert not matches("[1 1 3] 0.95", "[277 557 1091] 0.95")


@pytest.mark.parametrize("block", BLOCKS, ids=["analytic", "numeric", "verify"])
def test_readme_example_prints_its_comments(block, capsys):
    exec(compile(block, str(README), "exec"), {})  # our own README, not user input
    printed = capsys.readouterr().out.strip().splitlines()
    expected = expected_lines(block)
    assert len(printed) == len(expected), printed
    for got, want in zip(printed, expected, strict=True):
        assert matches(got, want), f"README prints {got!r}, its comment says {want!r}"
