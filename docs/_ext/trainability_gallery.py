"""Sphinx extension for this project's docs: the ``reproduction-gallery`` directive.

It renders one section per registered ``trainability reproduce`` target from the quick run
stored under ``docs/gallery/TARGET/`` by ``docs/gallery/build.py``: the target's help line,
the exact command, the stored figures, and the summary's ``comparison`` list as a table
(quantity, paper, measured, stderr, agrees, note). The build itself never runs a reproduction.

A registered target without a stored entry, or a stored entry of a target that is no longer
registered, logs a warning, so the ``-W`` docs build fails until ``build.py`` is rerun.
"""

from __future__ import annotations

import json
import math
import os
import re
from pathlib import Path

from docutils import nodes
from docutils.statemachine import StringList
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective
from sphinx.util.nodes import nested_parse_with_titles

logger = logging.getLogger(__name__)

COLUMNS = ("quantity", "paper", "measured", "stderr", "agrees", "note")
_RST_SPECIAL = re.compile(r"([\\`*_|<>\[\]])")


def escape(text: str) -> str:
    """Plain text as inline reStructuredText (markup characters backslash-escaped)."""
    return _RST_SPECIAL.sub(r"\\\1", " ".join(str(text).split()))


def cell(column: str, value) -> str:
    """One comparison value as table text: 4 significant digits, lists element-wise."""
    if column == "agrees":
        return {True: "yes", False: "no"}.get(value, "n/a")
    if value is None:
        return "—"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        return f"{value:.4g}" if math.isfinite(value) else str(value)
    if isinstance(value, list):
        return "[" + ", ".join(cell(column, v) for v in value) + "]"
    return str(value)


def entry_rst(name: str, help_text: str, folder: Path, rel: str) -> list[str]:
    """The reStructuredText of one gallery entry (``rel``: its folder relative to the page)."""
    summary = json.loads((folder / "summary.json").read_text())
    made = summary.get("gallery", {})
    lines = [name, "-" * len(name), "", escape(help_text), "", ".. code-block:: console", ""]
    lines += [f"   $ {made.get('command', f'trainability reproduce {name} --quick')}", ""]
    lines += [
        f"Stored quick run: {made.get('wall_seconds', '?')} s wall, commit "
        f"``{made.get('commit') or 'unknown'}``, {made.get('date', 'date unknown')}. "
        f"Drop ``--quick`` for the full-size protocol. Full summary (protocol, sizes, seeds): "
        f":download:`summary.json <{rel}/summary.json>`.",
        "",
    ]
    for figure in made.get("figures", []):
        lines += [f".. image:: {rel}/{figure}", f"   :alt: {name}: {figure}", ""]
    rows = summary.get("comparison", [])
    if not rows:
        lines += ["The summary sets no paper value to compare (empty ``comparison`` list).", ""]
        return lines
    lines += [".. list-table:: Paper against measured", "   :header-rows: 1", ""]
    for i, row in enumerate([{c: c for c in COLUMNS}, *rows]):
        for j, column in enumerate(COLUMNS):
            text = column if i == 0 else cell(column, row.get(column))
            lines.append(f"   {'*' if j == 0 else ' '} - {escape(text) or ' '}")
    lines.append("")
    return lines


class GalleryDirective(SphinxDirective):
    """``.. reproduction-gallery::`` (no arguments): every registered target's stored run."""

    has_content = False

    def run(self) -> list[nodes.Node]:
        from trainability.verify._registry import reproductions

        page_dir = Path(self.env.doc2path(self.env.docname)).parent
        store = Path(self.env.srcdir) / self.config.trainability_gallery_dir
        rel_store = Path(self.config.trainability_gallery_dir)
        registered = reproductions()
        lines: list[str] = []
        for name, rep in registered.items():
            folder = store / name
            if not (folder / "summary.json").is_file():
                logger.warning(
                    f"reproduction {name!r} has no gallery entry in {folder}; "
                    f"run: python docs/gallery/build.py --only {name}",
                    location=self.get_location(),
                )
                lines += [name, "-" * len(name), "", f".. warning:: No stored run of {name}.", ""]
                continue
            self.env.note_dependency(str(folder / "summary.json"))
            rel = Path(os.path.relpath(Path(self.env.srcdir, rel_store, name), page_dir)).as_posix()
            lines += entry_rst(name, rep.help, folder, rel)
        for folder in sorted(p for p in store.iterdir() if p.is_dir()):
            if folder.name not in registered and not folder.name.startswith((".", "_")):
                logger.warning(
                    f"gallery entry {folder.name!r} names no registered target; remove it",
                    location=self.get_location(),
                )
        node = nodes.section()
        node.document = self.state.document
        nested_parse_with_titles(self.state, StringList(lines, source="<gallery>"), node)
        return node.children


def setup(app) -> dict:
    app.add_config_value("trainability_gallery_dir", "gallery", "env")
    app.add_directive("reproduction-gallery", GalleryDirective)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
