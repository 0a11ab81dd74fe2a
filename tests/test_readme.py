"""The README's Python examples run as written (a stale README is a bug)."""

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


def test_readme_has_one_example_per_layer():
    assert len(BLOCKS) == 3


@pytest.mark.parametrize("block", BLOCKS, ids=["analytic", "numeric", "verify"])
def test_readme_example_runs(block, capsys):
    exec(compile(block, str(README), "exec"), {})  # our own README, not user input
    assert capsys.readouterr().out.strip()
