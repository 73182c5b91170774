"""Number audit: every number the text states as a result is backed by a check of the same chapter.

What is read
    The prose of ``notebooks/X.md`` (paragraphs, lists, tables, headings,
    admonitions with their titles, solutions) and, in the code cells' options,
    the figure captions (``mystnb.figure.caption``) and alt texts
    (``mystnb.image.alt``): screen-reader users get only the text.

What counts as a stated number
    * In prose: every decimal number (``0.73``, ``2,362,368``, ``-1``,
      ``1e-15``, ``2.5 × 10^-3``, ``10⁻¹⁵``, ``6.1%``).
    * In math (``$...$``, ``$$...$$``): a span that is nothing but a number
      (``$10^{-15}$``), and a number that stands alone on the
      right of ``=``, ``≈``/``\\approx``, ``≤``/``\\le``, ``≥``/``\\ge``, ``<``,
      ``>`` (up to the next relation, comma, ``\\quad``, ``&`` or ``\\\\``; a
      trailing unit ``\\text{...}`` or ``\\%`` is allowed).  Everything else in
      math is notation: indices, exponents, dimensions, fractions.

What is not a result (excluded by rule, so never reported)
    * code: inline code, code cells, literal blocks;
    * references: roles (``{eq}`...```, ``{cite}`...```, ...), labels
      ``(name)=``, link targets and URLs, MyST comments (``% ...``), directive
      options (``:label: ...``);
    * citation years: 1900-2099 in parentheses or after "et al.";
    * numbers naming a thing: after *equation, section, figure, table, chapter,
      exercise, step, layer, head, token, position, row, column, panel, case,
      item, part, line, cell, epoch, iteration* and their abbreviations;
    * list markers (``1.`` starting a list item);
    * numbers glued to letters or ``_``/``^`` (``x_1``, ``W2``, ``float64``,
      ``2D``), ordinals (``1st``, ``3rd``), architecture chains ``2-2-1``,
      dimensions of small matrices (``2×2``, both factors at most 10), and
      either side of a ``/`` (fractions ``a/b`` are left alone);
    * the body of an ``{exercise}``: a question posed to the reader states no
      result (solutions are audited);
    * givens: a MyST comment ``% given: 20, 0.5, 1000`` directly above a block
      (paragraph, list, table, display equation, admonition, or a code-cell
      fence, for its caption and alt text) declares those numbers givens of the
      question or definitions in that block.

What backs a number
    A check line stored in the chapter's ``.ipynb``:
    ``✔ check <name> — <expected> (<tolerance>)``.  Every number on it counts:
    the stated value (a number, a list, a bound "at least 1.6", "between a and
    b"), the numbers in the name and those of the tolerance.  A text number
    matches a stated value to its printed precision: ``0.73`` matches
    ``0.7310585786`` (the value rounds to it), ``1e-15`` matches ``1e-15``;
    ``6.1%`` matches ``6.1`` or ``0.061``; signs are ignored (the text says
    "drops by 0.5").  A check line shows at most 10 significant digits (a
    bound 6), so a longer text number matches when it agrees to the digits
    shown.  An
    integer without a decimal point must match exactly,
    unless it follows "≈", "~", "about", "approximately", "roughly", "around",
    "nearly", "almost", "some", "over", "under", when rounding is allowed.

Known limits
    Any number on any check line of the chapter backs a text number, so a small
    integer (a 4 that also appears in "L = 4") can be backed by coincidence;
    numbers written as words ("twelve"), tuples after ``=`` and fractions are
    not read.  The audit says that a number is covered, not that the sentence
    around it is true; that is still for the reader and the reviewer.

Usage::

    python -m tools.audit_numbers [notebooks/X.md ...] [--json out.json]

prints each unbacked number with ``file:line`` and its context, and per
chapter "numbers in the text backed by a check: X of Y"; exit 1 if any is
unbacked.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path

import yaml

from tools.audit_source import chapters, read_chapter
from tools.audit_values import NUMBER as _NUMBER
from tools.audit_values import backing, check_lines, parse_number, power_of_ten, stated_values

_APPROX_WORDS = re.compile(r"(?:≈|~|\\approx|\\sim|about|approximately|roughly|around|nearly|almost|some|over|"
                           r"under)\s*\$?\s*$", re.I)
_NAMING_WORDS = re.compile(
    r"(?:equations?|eqs?\.?|sections?|sec\.|§|figures?|figs?\.|tables?|chapters?|ch\.|exercises?|steps?|layers?|"
    r"heads?|tokens?|positions?|rows?|columns?|panels?|cases?|items?|parts?|lines?|cells?|epochs?|iterations?|"
    r"lemmas?|theorems?|appendix|version|questions?)\s*\(?\s*$", re.I)
_RELATION = re.compile(r"(?:=|≈|\\approx|\\simeq|≤|≥|\\le(?:q)?(?![a-z])|\\ge(?:q)?(?![a-z])|<|>|\\lt|\\gt)")
_MATH_STOP = re.compile(r"=|≈|\\approx|\\simeq|≤|≥|\\le|\\ge|<|>|,\s|;|\\quad|\\qquad|&|\\\\|\\text\{,")
_MATH_PURE = re.compile(r"^\s*(?P<num>[-−]?\s*" + _NUMBER.pattern.replace("(?P<sign>[-−])?", "") + r")"
                        r"\s*(?:\\(?:text|mathrm)\{[^}]*\})?\s*[.,;]?\s*$")
_DIRECTIVE = re.compile(r"^(?P<fence>`{3,}|:{3,})\{(?P<name>[\w-]+)\}(?P<title>.*)$")
_PROSE_DIRECTIVES = {"admonition", "note", "warning", "tip", "important", "caution", "attention", "hint", "seealso",
                     "dropdown", "margin", "sidebar", "topic", "epigraph", "solution", "danger", "error", "exercise"}


@dataclass
class Number:
    """A number stated in the text."""

    line: int
    text: str
    value: float
    unit: float  # half of it is the printed precision
    percent: bool = False
    approximate: bool = False
    where: str = "prose"  # prose, math, caption, alt
    context: str = ""
    backed_by: str = ""


@dataclass
class ChapterAudit:
    path: str
    numbers: list[Number] = field(default_factory=list)

    @property
    def unbacked(self) -> list[Number]:
        return [n for n in self.numbers if not n.backed_by]

    def summary(self) -> str:
        return f"numbers in the text backed by a check: {len(self.numbers) - len(self.unbacked)} of {len(self.numbers)}"


# ----------------------------------------------------------------------------- reading the text


def _blank(text: str, start: int, end: int) -> str:
    return text[:start] + re.sub(r"[^\n]", " ", text[start:end]) + text[end:]


def _blank_all(text: str, pattern: str, flags: int = 0) -> str:
    for m in reversed(list(re.finditer(pattern, text, flags))):
        text = _blank(text, m.start(), m.end())
    return text


def _line_of(text: str, offset: int, first_line: int) -> int:
    return first_line + text.count("\n", 0, offset)


def _math_results(math_text: str) -> list[tuple[int, re.Match]]:
    """Numbers standing alone on the right of a relation: (offset in math_text, match of the number).

    A math span that is nothing but a number (``$10^{-15}$``, ``$0.5$``) reads as prose and counts too.
    """
    found = []
    for rel in [None, *_RELATION.finditer(math_text)]:
        start = rel.end() if rel else 0
        if rel is None and _RELATION.search(math_text):
            continue
        stop = _MATH_STOP.search(math_text, start)
        segment = math_text[start:stop.start() if stop else len(math_text)]
        pure = _MATH_PURE.match(segment)
        if pure:
            inner = _NUMBER.search(segment)
            if inner:
                found.append((start + inner.start(), inner))
            continue
        power = re.match(r"\s*(10\^\{?[-−]?\d+\}?)\s*[.,;]?\s*$", segment)
        if power:
            found.append((start + power.start(1), power))
    return found


def numbers_in_text(text: str, first_line: int, where: str = "prose",
                    context_lines: list[str] | None = None) -> list[Number]:
    """The stated numbers of a piece of MyST prose (``text`` starts at ``first_line``)."""
    # LaTeX thousands separators: 2{,}362{,}368 and 2\,362\,368 are 2,362,368
    text = re.sub(r"(?<=\d)\{,\}(?=\d{3})", ",", text)
    text = re.sub(r"(?<=\d)\\,(?=\d{3})", ",", text)
    original = text
    # references, code and comments: never results
    text = _blank_all(text, r"\{[\w:-]+\}`[^`]*`")  # roles
    text = _blank_all(text, r"`[^`\n]*`")  # inline code
    text = _blank_all(text, r"\]\([^)]*\)")  # link targets
    text = _blank_all(text, r"https?://\S+")
    text = _blank_all(text, r"<!--.*?-->", re.S)
    text = _blank_all(text, r"^\s*\([\w:-]+\)=\s*$", re.M)  # labels
    text = _blank_all(text, r"^\s*%.*$", re.M)  # MyST comments
    text = _blank_all(text, r"^\s*:[\w-]+:.*$", re.M)  # directive options
    text = _blank_all(text, r"^(\s*)\d+[.)](?=\s)", re.M)  # list markers
    numbers: list[Number] = []

    def context(offset: int) -> str:
        line = _line_of(original, offset, 0)
        source = context_lines if context_lines is not None else original.splitlines()
        return source[line].strip() if line < len(source) else ""

    def add(offset: int, match: re.Match, kind: str) -> None:
        if isinstance(match.re, re.Pattern) and match.re is _NUMBER:
            parsed = parse_number(match)
        else:
            parsed = power_of_ten(match.group(1)) + (False,)  # type: ignore[operator]
        if parsed is None:
            return
        value, unit, percent = parsed
        before = original[max(0, offset - 40):offset]
        numbers.append(Number(line=_line_of(original, offset, first_line), text=match.group(0).strip(), value=value,
                              unit=unit, percent=percent, approximate=bool(_APPROX_WORDS.search(before)), where=kind,
                              context=context(offset)))

    # math: only results on the right of a relation count; then the math is blanked
    for m in reversed(list(re.finditer(r"\$\$(.+?)\$\$|(?<![\\$])\$(?!\$)([^$]+?)(?<!\\)\$", text, re.S))):
        body_start = m.start(1) if m.group(1) is not None else m.start(2)
        body = m.group(1) if m.group(1) is not None else m.group(2)
        for offset, number in _math_results(body):
            add(body_start + offset, number, "math" if where == "prose" else where)
        text = _blank(text, m.start(), m.end())

    for m in _NUMBER.finditer(text):
        start, end = m.start(), m.end()
        before, after = text[max(0, start - 30):start], text[end:end + 3]
        if before[-1:] and (before[-1].isalnum() or before[-1] in "_^/.\\{") and not (
                m.group("sign") and before[-1] in "(["):
            continue
        if after[:1] and (after[0].isalpha() or after[0] in "_/^⁻⁺⁰¹²³⁴⁵⁶⁷⁸⁹" or after[:1].isdigit()):
            continue
        token = m.group(0)
        plain = token.replace(",", "").lstrip("-−")
        if re.fullmatch(r"(19|20)\d\d", plain) and (before.rstrip().endswith("(") or "et al" in before[-12:]):
            continue
        if _NAMING_WORDS.search(before):
            continue
        if re.match(r"\s*[-–]\s*\d+\s*-\s*\d", after + text[end + 3:end + 12]) or re.search(r"\d\s*-\s*$", before):
            continue  # 2-2-1 architecture chains
        small_dim = re.compile(r"\s*[×x]\s*(\d+)\b")
        dim_after = small_dim.match(text, end)
        dim_before = re.search(r"\b(\d+)\s*[×x]\s*$", before)
        if plain.isdigit() and int(plain) <= 10 and (
                (dim_after and int(dim_after.group(1)) <= 10) or (dim_before and int(dim_before.group(1)) <= 10)):
            continue
        add(start, m, where)
    for m in re.finditer(r"(?<![\w.])(10[⁻⁺]?[⁰¹²³⁴⁵⁶⁷⁸⁹]+)", text):
        if not re.search(r"(?:×|·|\\times|\\cdot)\s*$", text[max(0, m.start() - 8):m.start()]):
            add(m.start(), m, where)  # a bare power of ten (a mantissa × 10⁻³ was read above)
    return sorted(numbers, key=lambda n: n.line)


def _givens(comment: str) -> list[tuple[float, float]]:
    return [(p[0], p[1]) for p in (parse_number(m) for m in _NUMBER.finditer(comment.split(":", 1)[1])) if p]


def _is_given(number: Number, givens: list[tuple[float, float]]) -> bool:
    return any(abs(number.value - value) <= max(unit, number.unit) / 2 * (1 + 1e-9) for value, unit in givens)


def _blocks(lines: list[tuple[int, str]]) -> list[tuple[int, int, str]]:
    """Split the prose into blocks (first line, last line, kind): paragraphs, math, directives, lists."""
    blocks = []
    i = 0
    while i < len(lines):
        number, text = lines[i]
        if not text.strip() or text.lstrip().startswith("%"):  # a MyST comment starts no block
            i += 1
            continue
        start = i
        directive = _DIRECTIVE.match(text.strip())
        if directive:
            fence = directive.group("fence")
            i += 1
            while i < len(lines) and lines[i][1].strip() != fence:
                i += 1
            kind = directive.group("name")
            kind = kind if kind in _PROSE_DIRECTIVES else "code"
            blocks.append((lines[start][0], lines[min(i, len(lines) - 1)][0], kind))
            i += 1
            continue
        if text.lstrip().startswith("```") or text.lstrip().startswith("~~~"):
            fence = text.strip()[:3]
            i += 1
            while i < len(lines) and not lines[i][1].strip().startswith(fence):
                i += 1
            blocks.append((lines[start][0], lines[min(i, len(lines) - 1)][0], "code"))
            i += 1
            continue
        is_list = bool(re.match(r"\s*(?:[-*+]|\d+[.)])\s", text))
        in_math = False
        while i < len(lines):
            line = lines[i][1]
            if not line.strip() and not in_math:
                nxt = next((t for _, t in lines[i + 1:] if t.strip()), "")
                if is_list and re.match(r"\s*(?:[-*+]|\d+[.)])\s|\s{2,}\S", nxt):
                    i += 1
                    continue
                break
            if line.count("$$") % 2:
                in_math = not in_math
            if lines[i][0] != number + (i - start):  # a code cell interrupts the block
                break
            i += 1
        blocks.append((lines[start][0], lines[i - 1][0], "math" if text.strip().startswith("$$") else "text"))
    return blocks


def audit_chapter(path: Path) -> ChapterAudit:
    chapter = read_chapter(path)
    checks = [(line, stated_values(line)) for line in check_lines(path.with_suffix(".ipynb"))]
    result = ChapterAudit(path=str(path))
    found: list[Number] = []
    givens_at: dict[int, list[tuple[float, float]]] = {}  # first line of the block -> givens
    prose_by_line = dict(chapter.prose)
    for number, text in chapter.prose:
        if re.match(r"\s*%\s*given\s*:", text) and number + 1 in prose_by_line | {c.fence_line: "" for c in
                                                                                chapter.cells}:
            givens_at[number + 1] = _givens(text)
    for first, last, kind in _blocks(chapter.prose):
        if kind in ("code", "exercise"):
            continue
        block = "\n".join(chapter.lines[first - 1:last])
        if kind in _PROSE_DIRECTIVES:  # keep the title, drop the fence itself
            block = re.sub(r"^(`{3,}|:{3,})\{[\w-]+\}", lambda m: " " * len(m.group(0)), block)
            block = re.sub(r"^`{3,}\s*$", "", block, flags=re.M)
        numbers = numbers_in_text(block, first, context_lines=chapter.lines[first - 1:last])
        given = givens_at.get(first, [])
        found += [n for n in numbers if not _is_given(n, given)]
    for cell in chapter.cells:
        if "mystnb" not in cell.options:
            continue
        try:
            options = yaml.safe_load(cell.options) or {}
        except yaml.YAMLError:
            continue
        mystnb = options.get("mystnb") or {}
        given = givens_at.get(cell.fence_line, [])
        for kind, text in (("caption", (mystnb.get("figure") or {}).get("caption")),
                           ("alt", (mystnb.get("image") or {}).get("alt"))):
            if not text:
                continue
            key = "caption:" if kind == "caption" else "alt:"
            offset = next((i for i, line in enumerate(cell.options.splitlines()) if key in line), 0)
            line = cell.options_first_line + offset
            numbers = numbers_in_text(str(text), line, where=kind, context_lines=[f"{kind}: {text}"])
            for n in numbers:
                n.line = line
            found += [n for n in numbers if not _is_given(n, given)]
    for number in found:
        number.backed_by = backing(number, checks)
    result.numbers = sorted(found, key=lambda n: n.line)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.audit_numbers", description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", help="chapter sources (default: notebooks/*.md)")
    parser.add_argument("--json", type=Path, help="write every number found, backed or not, to this file")
    args = parser.parse_args(argv)
    audits = [audit_chapter(path) for path in chapters(args.files)]
    for audit in audits:
        for n in audit.unbacked:
            print(f"{audit.path}:{n.line}: unbacked {n.where} number {n.text}: {n.context}")
    for audit in audits:
        print(f"{Path(audit.path).stem}: {audit.summary()}")
    total = sum(len(a.numbers) for a in audits)
    unbacked = sum(len(a.unbacked) for a in audits)
    print(f"all chapters: numbers in the text backed by a check: {total - unbacked} of {total}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({a.path: [asdict(n) for n in a.numbers] for a in audits}, indent=1,
                                        ensure_ascii=False))
    return 1 if unbacked else 0


if __name__ == "__main__":
    sys.exit(main())
