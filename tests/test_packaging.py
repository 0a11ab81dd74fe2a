"""Packaging: every subpackage on disk is installed, the root package carries the version and
``py.typed``, and the installed console script runs."""

import importlib.metadata
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import trainability

ROOT = Path(__file__).resolve().parents[1]
CONFIG = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]


def test_every_subpackage_is_installed():
    """A plain `pip install .` silently drops an unlisted subpackage (an editable install hides
    it). A folder mapped to a package of its own (the root package in verify/_root) is not a
    subpackage of the folder that holds it."""
    listed = set(CONFIG["packages"])
    mapped = {(ROOT / folder).resolve() for folder in CONFIG["package-dir"].values()}
    on_disk = set()
    for name, folder in CONFIG["package-dir"].items():
        for init in (ROOT / folder).rglob("__init__.py"):
            if init.parent.resolve() in mapped - {(ROOT / folder).resolve()}:
                continue
            rel = init.parent.relative_to(ROOT / folder)
            on_disk.add(".".join([name, *rel.parts]) if rel.parts else name)
    assert on_disk == listed


def test_root_package_version_is_the_distribution_version():
    assert trainability.__version__ == importlib.metadata.version("trainability")
    assert (Path(trainability.__file__).parent / "py.typed").is_file()
    assert "py.typed" in CONFIG["package-data"]["trainability"]


def test_root_package_loads_layers_lazily():
    """`import trainability` alone imports no layer (so `--help` and the pytest plugin stay
    cheap); attribute access loads one."""
    code = (
        "import sys, trainability; "
        "assert not any(m.startswith('trainability.') for m in sys.modules), sorted(sys.modules); "
        "trainability.analytic; assert 'trainability.analytic' in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


def test_console_script_installed():
    """The installed `trainability` entry point itself runs (not `python -m`): a bad
    expression is one line on stderr, exit 2, no traceback."""
    script = Path(sys.executable).parent / "trainability"
    if not script.exists():  # e.g. a Python without the venv's bin on disk
        script = Path(shutil.which("trainability") or "")
    assert script.is_file(), "the console script `trainability` is not installed"
    proc = subprocess.run(
        [str(script), "derive", "x^2"], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 2 and "write '**'" in proc.stderr
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
