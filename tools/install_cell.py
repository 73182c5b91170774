"""Give every chapter the first cell that installs dlnotes where it is missing (Colab, Binder).

Usage::

    python -m tools.install_cell notebooks/X.md [...]

The cell is tagged ``remove-cell``: the book does not show it, a downloaded or
launched notebook runs it first.  The repository URL comes from ``_config.yml``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import yaml

MARKER = "# On Colab or Binder, dlnotes is not installed yet"


def install_cell(repository_url: str) -> str:
    return f'''```{{code-cell}} ipython3
:tags: [remove-cell]

{MARKER}: install it from the book's repository.
import importlib.util

if importlib.util.find_spec("dlnotes") is None:
    %pip install --quiet "dlnotes @ git+{repository_url}"
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


if __name__ == "__main__":
    url = repository_url()
    for arg in sys.argv[1:]:
        print(("added    " if add_install_cell(Path(arg), url) else "present  ") + arg)
