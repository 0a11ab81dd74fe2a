"""Sphinx configuration. Builds offline: no intersphinx, no remote assets at build time."""

project = "trainability"
author = "trainability developers"
copyright = "2026, trainability developers"

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
]
autodoc_member_order = "bysource"
autodoc_typehints = "description"
napoleon_google_docstring = True
exclude_patterns = ["_build"]
html_theme = "alabaster"
html_static_path = ["_static"]
suppress_warnings = ["ref.python"]
nitpicky = False
