"""The API reference (docs/api.rst): every public name of trainability.analytic, .numeric and
.verify (their ``__all__``) is documented on the built page, with its type hints rendered.

The reference is each subpackage's ``__all__``; the page is built with the real docs/api.rst
through autodoc (types as descriptions, ``autodoc_typehints`` from docs/conf.py)."""

import re
import shutil
from pathlib import Path

import pytest
from sphinx.cmd.build import build_main

import trainability.analytic
import trainability.numeric
import trainability.verify

DOCS = Path(__file__).resolve().parents[1] / "docs"
PACKAGES = (trainability.analytic, trainability.numeric, trainability.verify)


@pytest.fixture(scope="module")
def api_page(tmp_path_factory) -> str:
    src = tmp_path_factory.mktemp("api")
    # Only autodoc and napoleon with the real conf's settings: the theme and the bundled
    # MathJax are tested in test_verify_sphinx.py, and skipping them keeps this build short.
    conf = (DOCS / "conf.py").read_text()
    settings = "\n".join(
        line for line in conf.splitlines() if line.startswith(("autodoc_", "napoleon_"))
    )
    assert "autodoc_typehints" in settings
    (src / "conf.py").write_text(
        'extensions = ["sphinx.ext.autodoc", "sphinx.ext.napoleon", "sphinx.ext.mathjax"]\n'
        f"{settings}\nsuppress_warnings = ['ref.python']\n"
    )
    shutil.copy(DOCS / "api.rst", src / "index.rst")
    assert build_main(["-W", "-q", "-b", "html", str(src), str(src / "_build")]) == 0
    return (src / "_build" / "index.html").read_text()


def test_every_public_name_is_documented(api_page):
    ids = set(re.findall(r'<dt class="sig sig-object py" id="([^"]+)"', api_page))
    for package in PACKAGES:
        missing = [n for n in package.__all__ if f"{package.__name__}.{n}" not in ids]
        assert not missing, f"{package.__name__}: not on the API page: {missing}"


def test_type_hints_are_rendered(api_page):
    """A known signature: default_box_sizes(shape, base: int = 2, min_boxes: int = 4) ->
    np.ndarray; with types as descriptions, the entry lists int parameters and the return type."""
    start = api_page.index('id="trainability.numeric.default_box_sizes"')
    entry = re.sub(r"<[^>]+>", "", api_page[start : api_page.index("</dl>", start)])
    assert "Return type:" in entry and "ndarray" in entry.split("Return type:")[1]
    assert re.search(r"base \(int\)", entry) and re.search(r"min_boxes \(int\)", entry)


def test_constants_on_the_page_match_the_code():
    """The hand-written ``py:data`` entries of api.rst state the live value (no drift)."""
    import importlib

    text = (DOCS / "api.rst").read_text()
    entries = []
    for block in re.split(r"\.\. py:currentmodule:: ", text)[1:]:
        module = block.split()[0]
        for name, typ, value in re.findall(
            r"\.\. py:data:: (\w+)\n   :type: (\S+)\n(?:   :value: (.*)\n)?", block
        ):
            entries.append((module, name, typ, value))
    assert len(entries) >= 10
    for module, name, typ, value in entries:
        obj = getattr(importlib.import_module(module), name)
        assert type(obj).__name__ == typ.rsplit(".", 1)[-1], (module, name)
        if value:
            assert value == repr(obj.tolist() if hasattr(obj, "tolist") else obj), (module, name)
