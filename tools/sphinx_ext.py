"""Sphinx extension for the book's own pages.

* ``{verified-results}``: the verified-results ledger.  While Sphinx reads each
  executed notebook, every line that a passed ``dlnotes.check`` printed is
  collected with the section it sits in; the directive turns them into one table
  per chapter.  Nothing is kept by hand: a claim appears exactly when a check
  for it ran, and a failed check stops the notebook and so the build.
* ``{common-mistakes}``: every warning admonition titled ``Mistake: ...`` in the
  chapters, linked to its place and to the first check after it, the one that
  refutes it.
* API reference: under every documented ``dlnotes`` function, the chapters
  whose code calls it, found in the notebooks' code cells.
* Removes duplicate ``<script>`` tags: with Jupyter Book 1.x, the thebe and
  togglebutton configuration scripts are added twice to every page, and the
  second copy redeclares a ``const`` and logs a console error in every browser.
"""

from __future__ import annotations

import re
from typing import Any

from docutils import nodes
from sphinx import addnodes
from sphinx.util.docutils import SphinxDirective

from dlnotes.checking import ABOUT_THIS_DRAW, PASS_MARK, SEPARATOR

_CHECK_LINE = re.compile(
    re.escape(PASS_MARK) + r" (?P<name>.+?)" + re.escape(SEPARATOR) + r"(?P<expected>.*) \((?P<tolerance>[^()]*)\)$"
)


class ledger_placeholder(nodes.General, nodes.Element):
    """Replaced by the ledger tables once every chapter has been read."""


class mistakes_placeholder(nodes.General, nodes.Element):
    """Replaced by the list of refuted mistakes once every chapter has been read."""


class VerifiedResults(SphinxDirective):
    def run(self) -> list[nodes.Node]:
        self.env.dlnotes_summary_pages = getattr(self.env, "dlnotes_summary_pages", set()) | {self.env.docname}
        return [ledger_placeholder()]


class CommonMistakes(SphinxDirective):
    def run(self) -> list[nodes.Node]:
        self.env.dlnotes_summary_pages = getattr(self.env, "dlnotes_summary_pages", set()) | {self.env.docname}
        return [mistakes_placeholder()]


# ----------------------------------------------------------------------------- collecting


def _section_of(node: nodes.Node) -> tuple[str, str]:
    while node is not None and not isinstance(node, nodes.section):
        node = node.parent
    if node is None:
        return "", ""
    title = node.next_node(nodes.title)
    return (node["ids"][0] if node["ids"] else ""), (title.astext() if title else "")


_FROM_IMPORT = re.compile(r"^[ \t]*from[ \t]+(dlnotes(?:\.\w+)*)[ \t]+import[ \t]+(\([^)]*\)|[\w ,]+)", re.M)
_ATTRIBUTE = re.compile(r"\b(dlnotes(?:\.\w+)+)")


def _names_used(source: str) -> set[str]:
    """Fully qualified dlnotes names that a code cell imports or calls."""
    used = set()
    for module, names in _FROM_IMPORT.findall(source):
        for name in names.strip("()").replace("\n", " ").split(","):
            name = name.strip().split(" as ")[0].strip()
            if name:
                used.add(f"{module}.{name}")
    used.update(_ATTRIBUTE.findall(source))
    return used


def _collect_usage(app, doctree: nodes.document) -> None:
    env = app.env
    if not hasattr(env, "dlnotes_usage"):
        env.dlnotes_usage = {}
    used: set[str] = set()
    for block in doctree.findall(nodes.literal_block):
        parent = block.parent
        if parent is not None and "cell_input" in parent.get("classes", []):
            used |= _names_used(block.astext())
    if used:
        env.dlnotes_usage[env.docname] = used
    if any(sig.get("ids") and sig["ids"][0].startswith("dlnotes.") for sig in doctree.findall(addnodes.desc_signature)):
        env.dlnotes_summary_pages = getattr(env, "dlnotes_summary_pages", set()) | {env.docname}


def _collect(app, doctree: nodes.document) -> None:
    _collect_usage(app, doctree)
    env = app.env
    docname = env.docname
    checks: list[dict[str, str]] = []
    mistakes: list[dict[str, str]] = []
    pending: list[dict[str, str]] = []
    for node in doctree.findall(lambda n: isinstance(n, (nodes.literal_block, nodes.admonition))):
        if isinstance(node, nodes.admonition):
            title = node.next_node(nodes.title)
            text = title.astext() if title else ""
            if text.startswith("Mistake"):
                label = next((i for i in node["ids"] if i.startswith("mistake-")), node["ids"][0] if node["ids"] else "")
                # keep the title's nodes (it may hold math), minus the "Mistake:" prefix
                title_nodes = [child.deepcopy() for child in title.children] if title else []
                if title_nodes and isinstance(title_nodes[0], nodes.Text):
                    title_nodes[0] = nodes.Text(str(title_nodes[0]).split(":", 1)[-1].lstrip())
                entry = {"title": title_nodes, "anchor": label, "check": "", "check_anchor": "",
                         "section": _section_of(node)[0]}
                mistakes.append(entry)
                pending.append(entry)
            continue
        if "output" not in node["classes"]:
            continue
        anchor, section = _section_of(node)
        for line in node.astext().splitlines():
            match = _CHECK_LINE.match(line.strip())
            if match:
                record = dict(match.groupdict(), anchor=anchor, section=section)
                checks.append(record)
                # the refuting check is the first one after the mistake, in the same section
                for entry in pending:
                    if entry["section"] == anchor:
                        entry["check"], entry["check_anchor"] = record["name"], anchor
                pending = []
    if not hasattr(env, "dlnotes_checks"):
        env.dlnotes_checks, env.dlnotes_mistakes = {}, {}
    if checks:
        env.dlnotes_checks[docname] = checks
    if mistakes:
        env.dlnotes_mistakes[docname] = mistakes


def _purge(app, env, docname: str) -> None:
    for attr in ("dlnotes_checks", "dlnotes_mistakes", "dlnotes_usage"):
        getattr(env, attr, {}).pop(docname, None)


def _summaries_are_outdated(app, env, added, changed, removed) -> list[str]:
    if added or changed or removed:
        return sorted(getattr(env, "dlnotes_summary_pages", set()))
    return []


# ----------------------------------------------------------------------------- rendering


def _chapter_order(app, docnames) -> list[str]:
    order = {name: i for i, name in enumerate(app.env.found_docs and _toc_order(app))}
    return sorted(docnames, key=lambda d: (order.get(d, len(order)), d))


def _toc_order(app) -> list[str]:
    # Documents in reading order, as the table of contents lists them.
    env = app.env
    root = app.config.root_doc
    seen: list[str] = []

    def walk(doc: str) -> None:
        if doc in seen:
            return
        seen.append(doc)
        for child in env.toctree_includes.get(doc, []):
            walk(child)

    walk(root)
    return seen


def _link(app, fromdoc: str, todoc: str, anchor: str, content: str | list[nodes.Node]) -> nodes.reference:
    uri = app.builder.get_relative_uri(fromdoc, todoc) + (f"#{anchor}" if anchor else "")
    ref = nodes.reference("", "", internal=True, refuri=uri)
    if isinstance(content, str):
        ref += nodes.Text(content)
    else:
        ref.extend(child.deepcopy() for child in content)
    return ref


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _table(header: list[str], rows: list[list[nodes.Node]], widths: list[int]) -> nodes.table:
    table = nodes.table(classes=["dlnotes-ledger"])
    group = nodes.tgroup(cols=len(header))
    table += group
    for width in widths:
        group += nodes.colspec(colwidth=width)
    head = nodes.thead()
    group += head
    row = nodes.row()
    for text in header:
        row += nodes.entry("", nodes.paragraph(text=text))
    head += row
    body = nodes.tbody()
    group += body
    for cells in rows:
        row = nodes.row()
        for cell in cells:
            entry = nodes.entry()
            entry += cell if isinstance(cell, nodes.paragraph) else nodes.paragraph("", "", cell)
            row += entry
        body += row
    return table


def _title(app, docname: str) -> str:
    title = app.env.titles.get(docname)
    return title.astext() if title else docname


def _numbers_backed(app, docname: str) -> str:
    """'X of Y' numbers in the chapter's text backed by a check (tools/audit_numbers.py), or '' without a source."""
    from pathlib import Path

    from tools.audit_numbers import audit_chapter

    source = Path(app.srcdir) / f"{docname}.md"
    if not source.exists():
        return ""
    result = audit_chapter(source)
    return f"{len(result.numbers) - len(result.unbacked)} of {len(result.numbers)}"


def _is_about_this_draw(record: dict[str, str]) -> bool:
    return ABOUT_THIS_DRAW in record["tolerance"]


def _render_ledger(app, fromdoc: str) -> list[nodes.Node]:
    checks: dict[str, list[dict[str, str]]] = getattr(app.env, "dlnotes_checks", {})
    chapters = _chapter_order(app, checks)
    total = sum(len(checks[d]) for d in chapters)
    draws = sum(_is_about_this_draw(r) for d in chapters for r in checks[d])
    out: list[nodes.Node] = [nodes.paragraph(
        text=f"{_count(total, 'claim')} verified by code in {_count(len(chapters), 'chapter')}; every one of "
             "them passed when this book was built (a failing check stops the build)."
             + (f" {_count(draws, 'claim')} marked “about this draw” state a fact about the book's own random "
                "draw: checked for it, not for every seed." if draws else ""))]
    backed = {d: _numbers_backed(app, d) for d in chapters}
    summary_rows = [[_link(app, fromdoc, d, "", _title(app, d)), nodes.Text(str(len(checks[d]))),
                     nodes.Text(backed[d])] for d in chapters]
    out.append(_table(["chapter", "verified claims", "numbers in the text backed by a check"], summary_rows,
                      [50, 20, 30]))
    for docname in chapters:
        section = nodes.section(ids=[f"ledger-{docname.replace('/', '-')}"])
        section += nodes.title(text=_title(app, docname))
        if backed[docname]:
            section += nodes.paragraph(text=f"Numbers in the text backed by a check: {backed[docname]}.")
        rows = []
        for record in checks[docname]:
            rows.append([
                nodes.Text(record["name"]),
                nodes.literal(text=record["expected"]),
                nodes.Text(record["tolerance"]),
                _link(app, fromdoc, docname, record["anchor"], record["section"] or "chapter"),
                nodes.Text("✔ passed, about this draw" if _is_about_this_draw(record) else "✔ passed"),
            ])
        section += _table(["claim", "stated value", "tolerance", "where", "status"], rows, [34, 30, 12, 16, 8])
        out.append(section)
    return out


def _render_mistakes(app, fromdoc: str) -> list[nodes.Node]:
    mistakes: dict[str, list[dict[str, str]]] = getattr(app.env, "dlnotes_mistakes", {})
    chapters = _chapter_order(app, mistakes)
    out: list[nodes.Node] = []
    for docname in chapters:
        section = nodes.section(ids=[f"mistakes-{docname.replace('/', '-')}"])
        section += nodes.title(text=_title(app, docname))
        items = nodes.bullet_list()
        for entry in mistakes[docname]:
            para = nodes.paragraph()
            para += _link(app, fromdoc, docname, entry["anchor"], entry["title"])
            if entry["check"]:
                para += nodes.Text(" — refuted by the check ")
                para += _link(app, fromdoc, docname, entry["check_anchor"], f"“{entry['check']}”")
            else:
                para += nodes.Text(" — refuted in the text (no check follows it)")
            items += nodes.list_item("", para)
        section += items
        out.append(section)
    total = sum(len(v) for v in mistakes.values())
    out.insert(0, nodes.paragraph(
        text=f"{_count(total, 'common mistake')} refuted in {_count(len(chapters), 'chapter')}."))
    return out


def _add_usage(app, doctree: nodes.document, docname: str) -> None:
    usage: dict[str, set[str]] = getattr(app.env, "dlnotes_usage", {})
    for desc in doctree.findall(addnodes.desc):
        if desc.get("objtype") not in ("function", "class", "exception"):
            continue
        signature = desc.next_node(addnodes.desc_signature)
        if signature is None or not signature.get("ids"):
            continue
        qualified = signature["ids"][0]
        chapters = [d for d, names in usage.items() if qualified in names]
        if not chapters:
            continue
        para = nodes.paragraph(classes=["dlnotes-used-in"])
        para += nodes.emphasis(text="Used in: ")
        for i, chapter in enumerate(_chapter_order(app, chapters)):
            if i:
                para += nodes.Text(", ")
            para += _link(app, docname, chapter, "", _title(app, chapter))
        content = desc.next_node(addnodes.desc_content)
        if content is not None:
            content += para


def _resolve(app, doctree: nodes.document, docname: str) -> None:
    _add_usage(app, doctree, docname)
    for node in list(doctree.findall(ledger_placeholder)):
        node.replace_self(_render_ledger(app, docname))
    for node in list(doctree.findall(mistakes_placeholder)):
        node.replace_self(_render_mistakes(app, docname))
        # Mistake titles may hold math, added only now; tell the math domain so
        # that the page loads MathJax.
        app.env.get_domain("math").data["has_equations"][docname] = True


# ----------------------------------------------------------------------------- scripts


def _deduplicate_scripts(app, pagename: str, templatename: str, context: dict[str, Any], doctree) -> None:
    scripts = context.get("script_files")
    if not scripts:
        return
    seen: set[tuple[str, str]] = set()
    unique = []
    for script in scripts:
        # the same inline script is registered once with filename None and once with ""
        filename = str(getattr(script, "filename", script) or "")
        body = str(getattr(script, "attributes", {}).get("body", ""))
        if (filename, body) in seen:
            continue
        seen.add((filename, body))
        unique.append(script)
    context["script_files"] = unique


def setup(app) -> dict[str, Any]:
    app.add_node(ledger_placeholder)
    app.add_node(mistakes_placeholder)
    app.add_directive("verified-results", VerifiedResults)
    app.add_directive("common-mistakes", CommonMistakes)
    app.connect("doctree-read", _collect)
    app.connect("env-purge-doc", _purge)
    app.connect("env-get-outdated", _summaries_are_outdated)
    app.connect("doctree-resolved", _resolve)
    app.connect("html-page-context", _deduplicate_scripts, priority=900)
    return {"parallel_read_safe": False, "parallel_write_safe": True, "env_version": 2}
