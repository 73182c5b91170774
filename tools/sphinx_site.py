"""Sphinx extension for how the book's pages load and read: light, accessible, phone-sized.

Measured and enforced by the browser tests in tests/site/ (axe-core in light and
dark mode, 390 px layout, bytes per page, offline link check).

* MathJax: instead of the 2.3 MB ``tex-svg-full.js``, the loader fetches only
  the components a page uses, from the site's own copy (``_vendor/site/mathjax``,
  filled by ``make assets`` from the pinned npm package; see ``MATHJAX_FILES``):
  TeX input (extensions autoloaded when a macro needs one), CommonHTML output
  with its web fonts, and the assistive MathML that screen readers read.
  Formulas are not tab stops.  Until a page is typeset its formulas are hidden,
  so raw TeX never flashes; if MathJax cannot load, the TeX source shows.
* Templates (``tools/site_templates``): the theme's pages without the 1.5 MB
  Font Awesome script (its stylesheet draws the same icons from web fonts) and
  without the search index on every page (only search.html needs it); the
  search and colour-mode buttons are named by what they show.
* "Show code cell content" toggles are named by their visible text; a table with an
  empty top-left header labels its rows with its first column (``<th>``).
* Phone-width CSS and the equation scroll cue (``tools/site_static``).
* The root ``index.html`` redirect is a complete page, with a title and a language.
"""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent

# The MathJax components a page may load, relative to node_modules/mathjax/es5; ``make assets``
# copies them into _vendor/site/mathjax (python -m tools.sphinx_site lists them).
MATHJAX_FILES = [
    "startup.js", "core.js", "input/tex.js", "input/tex/extensions", "output/chtml.js",
    "output/chtml/fonts/tex.js", "output/chtml/fonts/woff-v2", "a11y/assistive-mml.js",
]

# Components for the loader; everything else stays out: speech and the explorer, and the
# context menu (426 kB), which is also what makes every formula a tab stop (its inTabOrder
# setting): without it no formula is one, and the browser test counts that none is.
MATHJAX_CONFIG: dict[str, Any] = {
    "loader": {"load": ["input/tex", "output/chtml", "a11y/assistive-mml"]},
    # Undefined macros must fail (merror, caught by the browser test), not render in red.
    "tex": {"packages": {"[-]": ["noundefined"]}},
}

def _configure(app, config) -> None:
    merged = dict(config.mathjax3_config or {})
    for key, value in MATHJAX_CONFIG.items():
        merged[key] = {**merged.get(key, {}), **value} if isinstance(value, dict) else value
    config.mathjax3_config = merged
    config.templates_path = [str(HERE / "site_templates"), *config.templates_path]
    config.html_static_path = [*config.html_static_path, str(HERE / "site_static")]


_TOGGLE_LABEL = re.compile(r'<summary aria-label="Toggle hidden content">')


def _page_context(app, pagename: str, templatename: str, context: dict[str, Any], doctree) -> None:
    # The pydata theme's asset digest, for the preload links of the overridden css block.
    context["dlnotes_theme_digest"] = _theme_digest(app)
    if "body" in context:
        # myst-nb names every hidden-cell toggle "Toggle hidden content" while it shows
        # "Show code cell content": the visible words must be (in) the name (WCAG 2.5.3).
        context["body"] = _TOGGLE_LABEL.sub("<summary>", context["body"])
        # The bibliography is a list (role="list") of citations with the deprecated role
        # doc-biblioentry, which is no list item: say listitem.
        context["body"] = context["body"].replace('role="doc-biblioentry"', 'role="listitem"')
    # Read by layout.html: hide formulas until typeset, on the pages that have any.
    context["dlnotes_math_pending"] = bool(doctree) and app.env.get_domain("math").has_equations(pagename)


def _label_rows(app, doctree, docname: str) -> None:
    """A table whose top-left header cell is empty labels its rows with its first column:
    make that column a stub column (docutils renders it as <th>), so every data cell has headers."""
    from docutils import nodes

    for table in doctree.findall(nodes.table):
        group = table.next_node(nodes.tgroup)
        head = group.next_node(nodes.thead) if group is not None else None
        first = head.next_node(nodes.entry) if head is not None else None
        colspecs = [c for c in group.children if isinstance(c, nodes.colspec)] if group is not None else []
        if first is not None and colspecs and not first.astext().strip():
            colspecs[0]["stub"] = 1


def _theme_digest(app) -> str:
    cached = getattr(app, "_dlnotes_theme_digest", None)
    if cached is None:
        import pydata_sphinx_theme

        macros = Path(pydata_sphinx_theme.__file__).parent / "theme/pydata_sphinx_theme/static/webpack-macros.html"
        found = re.search(r"digest=([0-9a-f]+)", macros.read_text(encoding="utf-8"))
        cached = app._dlnotes_theme_digest = found.group(1) if found else ""
    return cached


_ROOT_REDIRECT = """<!DOCTYPE html>
<html lang="{lang}">
<head>
<meta charset="utf-8" />
<title>{title}</title>
<meta http-equiv="Refresh" content="0; url={target}" />
<link rel="canonical" href="{target}" />
</head>
<body>
<p><a href="{target}">{title}</a></p>
</body>
</html>
"""


def _complete_root_redirect(app, exception) -> None:
    """sphinx-external-toc writes index.html as a bare meta refresh: make it a page with a title and lang."""
    if exception is not None or app.builder.format != "html":
        return
    index = Path(app.outdir) / "index.html"
    if not index.exists():
        return
    found = re.search(r'http-equiv="Refresh" content="0; url=([^"]+)"', index.read_text(encoding="utf-8"))
    if not found or "<title>" in index.read_text(encoding="utf-8"):
        return
    index.write_text(_ROOT_REDIRECT.format(lang=app.config.language or "en", target=html.escape(found.group(1)),
                                           title=html.escape(app.config.html_title or app.config.project)),
                     encoding="utf-8")


def setup(app) -> dict[str, Any]:
    app.connect("config-inited", _configure, priority=900)
    app.connect("html-page-context", _page_context)
    app.connect("doctree-resolved", _label_rows)
    app.connect("build-finished", _complete_root_redirect, priority=900)
    app.add_css_file("dlnotes-site.css")
    app.add_js_file("dlnotes-site.js", defer="defer")
    return {"parallel_read_safe": True, "parallel_write_safe": True}


if __name__ == "__main__":
    print(" ".join(MATHJAX_FILES))
