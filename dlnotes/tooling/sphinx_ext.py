"""Small Sphinx extension for the book's own needs.

* Removes duplicate ``<script>`` tags: with Jupyter Book 1.x, sphinx-thebe's
  configuration script is added twice to every page, and the second copy
  redeclares a ``const`` and logs a console error in every browser.
"""

from __future__ import annotations

from typing import Any


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
    app.connect("html-page-context", _deduplicate_scripts, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
