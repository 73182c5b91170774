"""Give every chapter the first cell that installs dlnotes where it is missing (Colab, Binder).

Usage::

    python -m tools.install_cell notebooks/X.md [...]            # add it where missing
    python -m tools.install_cell --refresh notebooks/X.md [...]  # rewrite an existing one to this template

Right after installing, the cell runs the environment doctor in one line
(``python -m dlnotes.doctor``, brief): which versions differ from the verified
ones, which chapters that touches, and the smoke check on the reader's device.
Where dlnotes is already installed (the book build, nbval, a checkout) the cell
does nothing and prints nothing, so stored outputs stay the same everywhere.

The cell is tagged ``remove-cell``: the book does not show it, a downloaded or
launched notebook runs it first.  The repository URL comes from ``_config.yml``.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import yaml

MARKER = "# On Colab or Binder, dlnotes is not installed yet"
DOCTOR_CALL = "import dlnotes.doctor; dlnotes.doctor.report(brief=True)  # versions and core claims on this device"
_CELL = re.compile(r"```\{code-cell\} ipython3\n:tags: \[remove-cell\]\n\n" + re.escape(MARKER) + r".*?\n```\n\n", re.S)


def install_cell(repository_url: str) -> str:
    return f'''```{{code-cell}} ipython3
:tags: [remove-cell]

{MARKER}: install it from the book's repository.
import importlib.util

if importlib.util.find_spec("dlnotes") is None:
    %pip install --quiet "dlnotes @ git+{repository_url}"
    {DOCTOR_CALL}
```

'''


def repository_url(config: Path = Path("_config.yml")) -> str:
    return yaml.safe_load(config.read_text(encoding="utf-8"))["repository"]["url"]


def add_install_cell(md: Path, url: str) -> bool:
    """Insert the cell before the first code cell of ``md``; return False if it is already there."""
    text = md.read_text(encoding="utf-8")
    if MARKER in text:
        return False
    first = text.index("```{code-cell}")
    md.write_text(text[:first] + install_cell(url) + text[first:], encoding="utf-8")
    return True


def refresh_install_cell(md: Path, url: str) -> bool:
    """Rewrite the existing install cell of ``md`` to the current template; return False if it already is."""
    text = md.read_text(encoding="utf-8")
    match = _CELL.search(text)
    if match is None:
        raise SystemExit(f"{md}: no install cell to refresh (add one without --refresh)")
    if match.group(0) == install_cell(url):
        return False
    md.write_text(text[:match.start()] + install_cell(url) + text[match.end():], encoding="utf-8")
    return True


if __name__ == "__main__":
    url = repository_url()
    refresh = "--refresh" in sys.argv[1:]
    for arg in [a for a in sys.argv[1:] if a != "--refresh"]:
        if refresh:
            print(("refreshed " if refresh_install_cell(Path(arg), url) else "current   ") + arg)
        else:
            print(("added    " if add_install_cell(Path(arg), url) else "present  ") + arg)
