"""`make book-student`: the site without worked solutions; the answer checkers and the stamps stay.

Runs after `make test-book` (in `make test`), which has built the full site into
_build/html from the verified stored outputs; the student build reads the same
execution cache, so it executes nothing.
"""

from __future__ import annotations

import re
import subprocess
import time
from html import unescape
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FULL = ROOT / "_build" / "html"
STUDENT = ROOT / "_build" / "student" / "_build" / "html"
SOLUTION_BLOCK = re.compile(r"^```\{solution\}[^\n]*\n(.*?)^```", re.M | re.S)


def known_solution_sentences() -> dict[str, str]:
    """Chapter -> one plain sentence (no math, no markup) from the body of one of its solutions."""
    found = {}
    for md in sorted((ROOT / "notebooks").glob("*.md")):
        for body in SOLUTION_BLOCK.findall(md.read_text(encoding="utf-8")):
            prose = " ".join(line for line in body.splitlines() if line and not line.startswith(":"))
            for sentence in re.split(r"(?<=[.;:])\s+", prose):
                if len(sentence) > 30 and not re.search(r"[$`{}\\*_\[\]<>&|'\"]", sentence):
                    found[md.stem] = sentence
                    break
            if md.stem in found:
                break
    return found


def text_of(html: Path) -> str:
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html.read_text(encoding="utf-8"))))


@pytest.fixture(scope="module")
def student_site():
    if not (FULL / "index.html").exists():
        pytest.fail("the full site is missing: run `make test-book` first (make test does)")
    start = time.monotonic()
    build = subprocess.run(["make", "--no-print-directory", "book-student"], cwd=ROOT, capture_output=True,
                           text=True, timeout=900)
    assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]
    print(f"student edition built in {time.monotonic() - start:.1f} s")
    return STUDENT


def test_no_solution_appears_in_the_student_site(student_site):
    pages = sorted(student_site.rglob("*.html"))
    assert len(pages) > 20
    for page in pages:
        html = page.read_text(encoding="utf-8")
        assert not re.search(r'class="[^"]*\bsolution\b', html), f"{page}: solution markup"
        assert "solution-title" not in html and "Solution to" not in html, page


def test_known_solution_sentences_are_in_the_full_site_only(student_site):
    sentences = known_solution_sentences()
    assert len(sentences) >= 10
    for chapter, sentence in sentences.items():
        assert sentence in text_of(FULL / "notebooks" / f"{chapter}.html"), (chapter, sentence)
        assert sentence not in text_of(student_site / "notebooks" / f"{chapter}.html"), (chapter, sentence)


def test_exercises_and_answer_checkers_remain(student_site):
    for page in sorted((FULL / "notebooks").glob("*.html")):
        full, student = page.read_text(encoding="utf-8"), (student_site / "notebooks" / page.name).read_text(encoding="utf-8")
        assert student.count("check_answer") == full.count("check_answer"), page.name
        assert student.count('class="exercise') == full.count('class="exercise'), page.name


def test_the_preface_names_the_edition(student_site):
    assert "This is the student edition" in text_of(student_site / "book" / "preface.html")
    assert "This is the full edition" in text_of(FULL / "book" / "preface.html")


def test_chapters_and_ledger_show_where_outputs_were_verified(student_site):
    for site in (FULL, student_site):
        for page in sorted((site / "notebooks").glob("*.html")):
            assert "Outputs verified on 20" in text_of(page), page
        assert "Where the outputs were verified" in text_of(site / "book" / "ledger.html")
