"""Accessibility of every page, in light and dark mode (axe-core, WCAG 2.1 A and AA).

A critical or serious violation fails; moderate and minor ones are counted in
_build/site-report.json.  Formulas are read by screen readers through MathJax's
assistive MathML, so headings and links that hold math must keep it in their
accessible names; formulas are not tab stops (MathJax's ``inTabOrder: false``).
"""

import re

import pytest
from probes import chapters, page_id, site_pages

PAGES = site_pages()
BLOCKING = ("critical", "serious")


def _summary(violations: list[dict]) -> str:
    return "; ".join(f"{v['impact']} {v['id']} ({v['help']}): {', '.join(v['nodes'][:4])}"
                     for v in violations if v["impact"] in BLOCKING)


@pytest.mark.parametrize("mode", ["light", "dark"])
@pytest.mark.parametrize("page_path", PAGES, ids=page_id)
def test_no_serious_accessibility_violation(measured, page_path, mode):
    violations = measured(page_path)[f"axe_{mode}"]
    assert not [v for v in violations if v["impact"] in BLOCKING], _summary(violations)


@pytest.mark.parametrize("page_path", PAGES, ids=page_id)
def test_formulas_are_not_tab_stops(measured, page_path):
    """Only a formula that scrolls sideways (wider than the column) is one, so that a keyboard can scroll it."""
    assert measured(page_path)["focusable"]["formulas_not_scrolling"] == 0


@pytest.mark.parametrize("page_path", PAGES, ids=page_id)
def test_math_keeps_its_words_in_accessible_names(measured, page_path):
    """A heading or link with a formula is not announced with a hole where the formula was."""
    bad = []
    for item in measured(page_path)["math_names"]:
        name = item.get("name", "")
        # The text holds every symbol of the formula once (from its MathML); a name with fewer
        # letters and digits than that has lost the formula, or part of it.
        letters = lambda text: len(re.findall(r"[^\W_]", text.replace("#", "")))
        if letters(name) < letters(item["text"]):
            bad.append(f"<{item['tag']}> {item['text']!r} is announced as {name!r}")
    assert bad == []


def test_keyboard_reaches_every_chapter_and_exercise_instruction(browser, site, measured):
    """Tab from the top of the home page reaches every chapter; checker instructions are not hidden."""
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    context.route("**/*", lambda r: r.continue_() if r.request.url.startswith("file://") else r.abort())
    page = context.new_page()
    try:
        page.goto((site / "book" / "index.html").as_uri(), wait_until="load")
        reached, wanted = set(), {c.name for c in chapters()}
        for _ in range(400):  # stop as soon as every chapter has been reached
            page.keyboard.press("Tab")
            href = page.evaluate("document.activeElement && document.activeElement.getAttribute('href')")
            if href:
                reached.add(href.split("#")[0].split("/")[-1])
            if wanted <= reached:
                break
        missing = sorted(wanted - reached)
        assert missing == [], f"chapters not reachable with Tab from the home page: {missing}"
    finally:
        context.close()
    for chapter in chapters():
        hidden = measured(chapter)["hidden_instructions"]
        assert hidden == 0, f"{chapter.name}: {hidden} checker instructions hidden from keyboard and screen readers"
