"""Sphinx configuration. Builds offline: no intersphinx, no remote assets at build time."""

import sys
from pathlib import Path

# docs/_ext: this project's own extensions (the reproduction gallery).
sys.path.insert(0, str(Path(__file__).resolve().parent / "_ext"))

project = "trainability"
author = "trainability developers"
copyright = "2026, trainability developers"

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.mathjax",
    # Bundles MathJax 3 into _static/mathjax: pages typeset math without the network.
    "sphinx-mathjax-offline",
    "sphinx.ext.viewcode",
    # The trainability-derive directive: theory pages show what the analytic layer derives.
    "trainability.verify.sphinx",
    # The reproduction-gallery directive: stored quick runs under docs/gallery/.
    "trainability_gallery",
]
autodoc_member_order = "bysource"
autodoc_typehints = "description"
napoleon_google_docstring = True
exclude_patterns = ["_build"]
html_theme = "furo"
html_static_path = ["_static"]
suppress_warnings = ["ref.python"]
nitpicky = False
