"""Sphinx support for the PDF edition (``make pdf``): the single-page build it prints from.

Extensions register how to write their nodes for the ``html`` builder (for
example Jupyter Book's ``HiddenCellNode``, which leaves the install cell and
other hidden setup cells out of a single-page build, and MyST-NB's
``HideCodeCellNode``).  With the book theme, the ``singlehtml`` builder's
translator does not inherit those handlers, and the build stops at the first
such node.  This extension gives ``singlehtml`` every ``html`` handler it lacks.
"""

from __future__ import annotations

from typing import Any


def _builder_inited(app: Any) -> None:
    if app.builder.name != "singlehtml":
        return
    handlers = app.registry.translation_handlers
    single = handlers.setdefault("singlehtml", {})
    for node_name, visitors in handlers.get("html", {}).items():
        single.setdefault(node_name, visitors)


def setup(app: Any) -> dict[str, Any]:
    app.connect("builder-inited", _builder_inited)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
