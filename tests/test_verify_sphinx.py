"""Docs: the trainability-derive directive (verify/sphinx.py), offline math, the toolkit page's
doctests, and (with Chromium) typeset math in a real browser."""

import doctest
import html
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from sphinx.cmd.build import build_main

DOCS = Path(__file__).resolve().parents[1] / "docs"

INDEX = """\
Tiny
====

Inline :math:`a^2 + b^2` and a block:

.. math::

   \\int_0^1 x\\,dx = \\tfrac12

.. trainability-derive:: x**2 + eps*cos(2*pi*x/lam)
   :param: eps=0.01, lam=1

.. trainability-derive:: x**4 + eps*cos(2*pi*x/lam)
   :sections: fixed-points
"""


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    """A one-page site built with the real docs/conf.py (theme, math, extension), -W."""
    src = tmp_path_factory.mktemp("src")
    shutil.copy(DOCS / "conf.py", src / "conf.py")
    shutil.copytree(DOCS / "_ext", src / "_ext")
    (src / "_static").mkdir()
    (src / "index.rst").write_text(INDEX)
    out = src / "_build"
    assert build_main(["-W", "-q", "-b", "html", str(src), str(out)]) == 0
    return out


def test_directive_renders_the_derived_condition(site):
    page = html.unescape((site / "index.html").read_text())
    assert r"\text{convex} \iff \frac{\epsilon}{\lambda^{2}} \leq \frac{1}{2 \pi^{2}}" in page
    assert "status: depends (method: single-frequency, exact)" in page
    assert r"\approx 0.0506606" in page  # the critical roughness 1/(2 pi^2)
    assert "at these values: convex (closed form), " in page
    assert r"\(\inf f'' = 1.60522\)" in page
    assert r"f''(x) = - \frac{4 \pi^{2} \epsilon \cos" in page
    assert r"x^* = 0\quad \text{linearly stable for } s \in \left(0," in page


def test_directive_never_implies_stability_it_cannot_prove(site):
    """x**4 + eps cos: f''(0) = -4 pi^2 eps/lam^2 <= 0, so the interval's end is not > 0."""
    page = html.unescape((site / "index.html").read_text())
    assert r"\ \text{where } - \frac{\lambda^{2}}{2 \pi^{2} \epsilon} > 0" in page


def test_built_html_loads_no_remote_script(site):
    pages = list(site.rglob("*.html"))
    assert pages
    for page in pages:
        text = page.read_text()
        remote = re.findall(r"<script[^>]*\bsrc=\"(?:https?:)?//[^\"]*\"", text)
        assert not remote, f"{page.name}: {remote}"
        assert not re.search(r"<link[^>]*\bhref=\"(?:https?:)?//[^\"]*\.(?:css|js)", text)
    index = (site / "index.html").read_text()
    assert 'src="_static/mathjax/tex-chtml.js"' in index
    assert (site / "_static" / "mathjax" / "tex-chtml.js").is_file()
    assert "furo" in index  # the theme researchers know


def test_theory_pages_show_their_families_through_the_directive():
    for name in ("theory/fractal-boundaries.rst", "theory/convexity-roughness.rst"):
        text = (DOCS / name).read_text()
        assert text.count(".. trainability-derive::") >= 4, name
    assert ".. trainability-derive::" in (DOCS / "perturbation.rst").read_text()


def test_toolkit_page_examples_run_as_doctests():
    result = doctest.testfile(
        str(DOCS / "toolkit.rst"),
        module_relative=False,
        optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE,
    )
    assert result.attempted >= 8 and result.failed == 0


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(_chromium() is None, reason="Chromium is not installed")
def test_math_is_typeset_in_a_headless_browser(site):
    """After MathJax has run no raw TeX delimiter is left in the page's visible text."""
    proc = subprocess.run(
        [
            _chromium(),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--virtual-time-budget=15000",
            "--dump-dom",
            (site / "index.html").as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    dom = proc.stdout
    assert "mjx-container" in dom, proc.stderr[-2000:]
    visible = re.sub(r"<(script|style)\b.*?</\1>", "", dom, flags=re.S)
    visible = html.unescape(re.sub(r"<[^>]+>", "", visible))
    for raw in ("\\(", "\\[", "$$"):
        assert raw not in visible, raw
