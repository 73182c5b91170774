"""Sphinx extension: show where each chapter's stored outputs were verified.

Reads ``notebooks/verified-on.json`` (written by ``tools/stamp.py``, never part
of the notebooks) and adds

* a closing line to every chapter: the date of its outputs, the versions of
  Python, torch, NumPy (and the others recorded), the device kind and the
  dlnotes version and commit;
* a table to the ledger page (``dlnotes_stamp_ledger``, default
  ``book/ledger``): one row per chapter.

Every chapter and the ledger depend on the JSON file, so a new stamp rebuilds them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from docutils import nodes

STAMP = Path("notebooks") / "verified-on.json"
_NAMES = {"python": "Python", "torch": "torch", "numpy": "NumPy", "matplotlib": "matplotlib", "sympy": "SymPy",
          "jupytext": "jupytext"}


def _stamps(app) -> dict[str, dict[str, str]]:
    path = Path(app.srcdir) / STAMP
    try:
        return json.loads(path.read_text(encoding="utf-8")).get("notebooks", {})
    except (OSError, ValueError):
        return {}


def _device(entry: dict[str, str]) -> str:
    kind = entry.get("device", "an unrecorded device")
    return "the CPU" if kind == "cpu" else kind


def stamp_sentence(entry: dict[str, str]) -> str:
    """One chapter's stamp as a reader sees it under the chapter."""
    versions = [f"{label} {entry[key]}" for key, label in _NAMES.items() if entry.get(key)]
    listed = ", ".join(versions[:-1]) + f" and {versions[-1]}" if len(versions) > 1 else "".join(versions)
    return (f"Outputs verified on {entry.get('outputs_date', 'an unrecorded date')} with {listed}, on "
            f"{_device(entry)} (dlnotes {entry.get('dlnotes', '?')}, commit {entry.get('commit', 'unknown')}). "
            "To compare your own environment, run python -m dlnotes.doctor.")


def _chapter_of(docname: str) -> str | None:
    folder, _, stem = docname.rpartition("/")
    return stem if folder == STAMP.parent.as_posix() else None


def _note_dependency(app, doctree) -> None:
    if _chapter_of(app.env.docname) or app.env.docname == app.config.dlnotes_stamp_ledger:
        app.env.note_dependency(str(Path(app.srcdir) / STAMP))


def _footer(entry: dict[str, str]) -> nodes.paragraph:
    para = nodes.paragraph(classes=["dlnotes-verified-on"])
    para += nodes.emphasis(text=stamp_sentence(entry))
    return para


def _ledger_section(app, docname: str, stamps: dict[str, dict[str, str]]) -> nodes.section:
    section = nodes.section(ids=["verified-on"])
    section += nodes.title(text="Where the outputs were verified")
    section += nodes.paragraph(text=(
        "The environment in which each chapter's stored outputs were produced and checked, recorded beside the "
        "notebooks when they are executed (the notebooks themselves carry no versions, so their outputs are the "
        "same on every machine). Run python -m dlnotes.doctor to compare yours."))
    header = ["chapter", "outputs of", "Python", "torch", "NumPy", "device", "dlnotes, commit"]
    table = nodes.table(classes=["dlnotes-verified-on-table"])
    group = nodes.tgroup(cols=len(header))
    table += group
    for width in (26, 12, 9, 12, 9, 12, 20):
        group += nodes.colspec(colwidth=width)
    head, body = nodes.thead(), nodes.tbody()
    group += head
    group += body
    row = nodes.row()
    for text in header:
        row += nodes.entry("", nodes.paragraph(text=text))
    head += row
    from tools.sphinx_ext import _toc_order

    order = {name: i for i, name in enumerate(_toc_order(app))}
    titles = app.env.titles
    for stem, entry in sorted(stamps.items(), key=lambda item: order.get(f"notebooks/{item[0]}", 0)):
        doc = f"{STAMP.parent.as_posix()}/{stem}"
        title = titles[doc].astext() if doc in titles else stem
        link = nodes.reference("", title, internal=True, refuri=app.builder.get_relative_uri(docname, doc)) \
            if doc in app.env.found_docs else nodes.Text(title)
        cells = [link, nodes.Text(entry.get("outputs_date", "")), nodes.Text(entry.get("python", "")),
                 nodes.Text(entry.get("torch", "")), nodes.Text(entry.get("numpy", "")), nodes.Text(_device(entry)),
                 nodes.Text(f"{entry.get('dlnotes', '')}, {entry.get('commit', '')}")]
        row = nodes.row()
        for cell in cells:
            row += nodes.entry("", nodes.paragraph("", "", cell))
        body += row
    section += table
    return section


def _resolve(app, doctree: nodes.document, docname: str) -> None:
    stamps = _stamps(app)
    chapter = _chapter_of(docname)
    if chapter and chapter in stamps:
        sections = list(doctree.findall(nodes.section))
        (sections[0] if sections else doctree).append(_footer(stamps[chapter]))
    elif docname == app.config.dlnotes_stamp_ledger and stamps:
        sections = list(doctree.findall(nodes.section))
        (sections[0] if sections else doctree).append(_ledger_section(app, docname, stamps))


def setup(app) -> dict[str, Any]:
    app.add_config_value("dlnotes_stamp_ledger", "book/ledger", "env")
    app.connect("doctree-read", _note_dependency)
    app.connect("doctree-resolved", _resolve)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
