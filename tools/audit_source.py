"""Read a chapter's MyST source into code cells and prose lines, for the audits and lints.

The chapters are Jupytext MyST files (``notebooks/X.md``).  A code cell is a fence
```` ```{code-cell} ipython3 ```` ... ```` ``` ````; its first lines may be cell
options, either ``:key: value`` lines or a YAML block between ``---`` lines.  The
audits need the code of each cell with the line numbers it has in the ``.md``
file (so that an offence is reported where a person edits it) and the options
(figure captions and alt texts live there).

IPython syntax that is not Python (``%pip ...``, ``!ls``) is blanked so that
``ast`` can parse the rest; line numbers are kept.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from pathlib import Path

_FENCE_OPEN = re.compile(r"^(?P<fence>`{3,}|~{3,})\{code-cell\}")
_OPTION_LINE = re.compile(r"^:[\w-]+:")


@dataclass
class CodeCell:
    """One code cell of a MyST notebook."""

    fence_line: int  # 1-based line of the opening fence in the .md file
    first_line: int  # 1-based line of the first line of code (after the options)
    code: str  # the code, IPython magics blanked
    options: str = ""  # the raw option text (YAML or ``:key: value`` lines)
    options_first_line: int = 0  # 1-based line of the first option line


@dataclass
class Chapter:
    """A chapter's source split into code cells and the lines of prose outside them."""

    path: Path
    lines: list[str]
    cells: list[CodeCell] = field(default_factory=list)
    prose: list[tuple[int, str]] = field(default_factory=list)  # (1-based line, text) outside code cells

    @property
    def name(self) -> str:
        return self.path.stem


def _blank_magics(code_lines: list[str]) -> list[str]:
    out = []
    for line in code_lines:
        stripped = line.lstrip()
        out.append("" if stripped.startswith(("%", "!")) else line)
    return out


def read_chapter(path: Path | str) -> Chapter:
    """Split ``path`` (a MyST notebook) into its code cells and prose lines."""
    path = Path(path)
    lines = path.read_text(encoding="utf-8").splitlines()
    chapter = Chapter(path=path, lines=lines)
    i = 0
    # front matter (Jupytext header) is neither prose nor code
    if lines and lines[0].strip() == "---":
        i = 1
        while i < len(lines) and lines[i].strip() != "---":
            i += 1
        i += 1
    while i < len(lines):
        match = _FENCE_OPEN.match(lines[i])
        if not match:
            chapter.prose.append((i + 1, lines[i]))
            i += 1
            continue
        fence = match.group("fence")
        fence_line = i + 1
        i += 1
        options: list[str] = []
        options_first = i + 1
        if i < len(lines) and lines[i].strip() == "---":
            i += 1
            options_first = i + 1
            while i < len(lines) and lines[i].strip() != "---":
                options.append(lines[i])
                i += 1
            i += 1
        else:
            while i < len(lines) and _OPTION_LINE.match(lines[i]):
                options.append(lines[i])
                i += 1
        first = i + 1
        body: list[str] = []
        while i < len(lines) and not (lines[i].startswith(fence) and lines[i].strip() == fence):
            body.append(lines[i])
            i += 1
        i += 1  # closing fence
        chapter.cells.append(CodeCell(fence_line=fence_line, first_line=first,
                                      code="\n".join(_blank_magics(body)), options="\n".join(options),
                                      options_first_line=options_first))
    return chapter


def parse_notebook_code(chapter: Chapter) -> ast.Module:
    """All code cells of a chapter as one module, every node at its line in the ``.md`` file.

    Cells are parsed one by one (a cell that does not parse is skipped) and their
    statements concatenated in order, as the kernel executes them.
    """
    body: list[ast.stmt] = []
    for cell in chapter.cells:
        try:
            tree = ast.parse(cell.code)
        except SyntaxError:
            continue
        ast.increment_lineno(tree, cell.first_line - 1)
        body.extend(tree.body)
    return ast.Module(body=body, type_ignores=[])


def chapters(paths: list[str] | None = None, root: Path = Path(".")) -> list[Path]:
    """The chapter sources to audit: the given files, else every ``notebooks/*.md``."""
    if paths:
        return [Path(p) for p in paths]
    return sorted((root / "notebooks").glob("*.md"))


def source_line(chapter: Chapter, line: int) -> str:
    return chapter.lines[line - 1].strip() if 0 < line <= len(chapter.lines) else ""


def lint_main(argv: list[str] | None, prog: str, description: str, lint_chapter, what: str) -> int:
    """The command line both lints share: one line per offence, a count per chapter, exit 1 if any.

    ``lint_chapter(path)`` returns the offences of one chapter; ``what`` names them
    in the counts ("check(s) that cannot fail").
    """
    import argparse

    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument("files", nargs="*", help="chapter sources (default: notebooks/*.md)")
    args = parser.parse_args(argv)
    counts = {}
    for path in chapters(args.files):
        offences = lint_chapter(path)
        for offence in offences:
            print(offence)
        counts[path.stem] = len(offences)
    for name, n in counts.items():
        print(f"{name}: {n} {what}")
    total = sum(counts.values())
    print(f"{what.replace('(s)', 's')}: {total}")
    return 1 if total else 0
