"""Sphinx extension: the student edition of the book (``make book-student``).

With ``DLNOTES_EDITION=student`` in the environment of the build, the
exercises' worked solutions are left out (sphinx-exercise's ``hide_solutions``)
and the preface's ``{{ edition }}`` substitution says that the reader holds the
student edition.  The exercises themselves and the code cells that call the
answer checker stay, so a reader can still check an answer.  Without the
variable (or with ``DLNOTES_EDITION=full``) nothing changes.
"""

from __future__ import annotations

import os
from typing import Any

EDITIONS = ("full", "student")
STUDENT_SENTENCE = (
    "This is the student edition: the exercises come without their worked solutions. The answer checker "
    "in each chapter, dlnotes.exercises.check_answer, still tells you whether your answer is right, and "
    "names the common mistake when it recognises one.")


def edition() -> str:
    """The edition asked for by ``DLNOTES_EDITION`` (default 'full')."""
    chosen = os.environ.get("DLNOTES_EDITION", "full").strip() or "full"
    if chosen not in EDITIONS:
        raise ValueError(f"DLNOTES_EDITION must be one of {EDITIONS}, got {chosen!r}")
    return chosen


def _configure(app, config) -> None:
    if edition() == "student":
        config.hide_solutions = True
        config.myst_substitutions = dict(config.myst_substitutions or {}, edition=STUDENT_SENTENCE)


def setup(app) -> dict[str, Any]:
    app.connect("config-inited", _configure, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
