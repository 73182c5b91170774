"""The PDF edition (``make pdf``): the whole book, nothing cut off, nothing hidden lost.

Reads the PDF that ``python -m tools.pdf`` printed and the report it measured
with the page laid out for print (see tools/pdf.py).
"""

import json
import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
PDF = ROOT / "_build" / "pdf" / "dlnotes.pdf"


@pytest.fixture(scope="module")
def report() -> dict:
    if not PDF.exists():
        pytest.fail(f"no PDF at {PDF}: run `make pdf` first")
    return json.loads(PDF.with_suffix(".json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def text() -> str:
    import pypdfium2

    document = pypdfium2.PdfDocument(str(PDF))
    pages = [document[i].get_textpage().get_text_range() for i in range(len(document))]
    return re.sub(r"\s+", " ", "\n".join(pages))


def chapter_titles() -> list[str]:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    titles = []
    for part in toc["parts"]:
        for entry in part["chapters"]:
            source = ROOT / f"{entry['file']}.md"
            heading = next(line for line in source.read_text(encoding="utf-8").splitlines() if line.startswith("# "))
            titles.append(heading[2:].strip())
    return titles


def exercise_count() -> int:
    return sum(md.read_text(encoding="utf-8").count("```{solution}") for md in (ROOT / "notebooks").glob("*.md"))


def test_every_page_of_the_book_is_in_the_text_layer(report, text):
    titles = chapter_titles()
    assert len(report["chapters"]) == len(titles)
    missing = [t for t in titles if t not in text]
    assert missing == [], f"titles missing from the PDF's text: {missing}"
    assert "Verified results" in titles  # the ledger is one of the printed documents


def test_no_code_line_or_equation_is_clipped(report):
    assert report["clippedCode"] == [], f"code or output blocks wider than the page: {report['clippedCode'][:5]}"
    assert report["clippedMath"] == [], f"display equations cut off or under their number: {report['clippedMath']}"
    assert report["unTypeset"] == 0 and report["mathErrors"] == 0
    assert report["images"] >= 18 and report["brokenImages"] == 0


def test_solutions_are_at_the_end_of_each_chapter_and_setup_cells_are_left_out(report, text):
    assert report["solutions_moved"] == exercise_count()
    assert text.count("Solutions") >= 18
    # The install cell that opens every chapter for Colab and Binder is hidden on
    # the site and left out here; only the preface's quotation of it is printed.
    quoted = (ROOT / "book" / "preface.md").read_text(encoding="utf-8").count("%pip install")
    assert text.count("%pip install") == quoted


def test_page_count_is_within_expectations(report):
    # About 300 A4 pages today (18 chapters of 10 to 25 pages, front and back
    # matter); far fewer means content was lost, far more means a layout broke.
    assert 150 <= report["pages"] <= 500, report["pages"]
