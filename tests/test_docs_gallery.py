"""The reproduction gallery (docs/gallery): one stored quick run per registered target, and a
page that shows each stored ``comparison`` list (paper, measured, stderr, agrees, note).

The reference is the stored summary.json itself (written by docs/gallery/build.py from
``trainability reproduce TARGET --quick --json``): the rendered table must carry its values."""

import html
import json
import re
import shutil
import sys
from pathlib import Path

import pytest
from sphinx.cmd.build import build_main

from trainability.verify._registry import reproductions

DOCS = Path(__file__).resolve().parents[1] / "docs"
GALLERY = DOCS / "gallery"
PAGE = "Gallery\n=======\n\n.. reproduction-gallery::\n"

sys.path.insert(0, str(DOCS / "_ext"))
from trainability_gallery import COLUMNS, cell  # noqa: E402


def _site(root: Path, store: Path) -> Path:
    """A one-page site (the real docs/conf.py and extensions) over a copy of ``store``."""
    src = root / "src"
    src.mkdir()
    shutil.copy(DOCS / "conf.py", src / "conf.py")
    shutil.copytree(DOCS / "_ext", src / "_ext")
    (src / "_static").mkdir()
    shutil.copytree(store, src / "gallery", ignore=shutil.ignore_patterns("*.py", "*.rst"))
    (src / "index.rst").write_text(PAGE)
    return src


def _stored(name: str) -> dict:
    return json.loads((GALLERY / name / "summary.json").read_text())


def test_every_registered_target_has_a_stored_entry():
    missing = [n for n in reproductions() if not (GALLERY / n / "summary.json").is_file()]
    assert not missing, f"no gallery entry (run docs/gallery/build.py --only ...): {missing}"
    for name in reproductions():
        summary = _stored(name)
        assert isinstance(summary["comparison"], list), name
        assert summary["gallery"]["command"] == f"trainability reproduce {name} --quick"
        for figure in summary["gallery"]["figures"]:
            assert (GALLERY / name / figure).stat().st_size < 400_000, (name, figure)


@pytest.fixture(scope="module")
def page(tmp_path_factory) -> str:
    src = _site(tmp_path_factory.mktemp("gallery"), GALLERY)
    assert build_main(["-W", "-q", "-b", "html", str(src), str(src / "_build")]) == 0
    return (src / "_build" / "index.html").read_text()


def _section(page: str, name: str) -> str:
    """The HTML of the entry whose title is ``name`` (docutils lower-cases the id)."""
    start = page.index(f'<section id="{name.lower()}">')
    end = page.find("<section id=", start + 1)
    return page[start : end if end > 0 else len(page)]


_SMART = str.maketrans({"\u2019": "'", "\u2018": "'", "\u201c": '"', "\u201d": '"'})


def _rows(section: str) -> list[list[str]]:
    """Table cells as text (Sphinx's smart quotes turned back into ASCII quotes)."""
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", section, flags=re.S)
    cells = [re.findall(r"<t[dh][^>]*>\s*<p>(.*?)</p>\s*</t[dh]>", r, flags=re.S) for r in rows]
    text = [[html.unescape(re.sub(r"<[^>]+>", "", c)).translate(_SMART) for c in r] for r in cells]
    return [[" ".join(c.split()) for c in r] for r in text]


def test_page_shows_every_stored_comparison(page):
    for name in reproductions():
        summary, section = _stored(name), _section(page, name)
        text = html.unescape(re.sub(r"<[^>]+>", "", section))  # the code block is highlighted
        assert f"$ trainability reproduce {name} --quick" in text, name
        for figure in summary["gallery"]["figures"]:
            assert f'src="_images/{figure}"' in section or figure in section, (name, figure)
        expected = [list(COLUMNS)] + [
            [" ".join(cell(c, row.get(c)).split()) for c in COLUMNS]
            for row in summary["comparison"]
        ]
        if summary["comparison"]:
            assert _rows(section) == expected, name
        else:
            assert "sets no paper value to compare (empty comparison list)" in text, name


def test_cells_format_values_from_the_json():
    assert cell("measured", 0.123456789) == "0.1235"
    assert cell("agrees", True) == "yes" and cell("agrees", False) == "no"
    assert cell("agrees", None) == "n/a" and cell("stderr", None) == "—"
    assert cell("paper", [1.0, 2.5]) == "[1, 2.5]"


def test_a_target_without_an_entry_fails_the_build(tmp_path, capsys):
    """Drop one registered target's entry and add one of no target: a -W build fails on both."""
    store = tmp_path / "store"
    shutil.copytree(GALLERY, store, ignore=shutil.ignore_patterns("*.py", "*.rst"))
    dropped = sorted(reproductions())[0]
    shutil.rmtree(store / dropped)
    shutil.copytree(store / sorted(reproductions())[1], store / "not-a-target")
    src = _site(tmp_path, store)
    assert build_main(["-W", "--keep-going", "-q", "-b", "html", str(src), str(src / "b")]) != 0
    err = capsys.readouterr().err
    assert f"reproduction {dropped!r} has no gallery entry" in err
    assert "gallery entry 'not-a-target' names no registered target" in err
