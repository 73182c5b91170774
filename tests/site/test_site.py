"""The built book, opened in headless Chromium with every network request blocked.

A reader may open the site offline, so every page must work from its own files:
math typeset by the MathJax copy inside the site, figures loaded, internal links
resolving, and no request leaving the site.
"""

from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest
from probes import is_redirect, page_id, site_pages

ROOT = Path(__file__).resolve().parents[2]
SITE = ROOT / "_build" / "html"
SCREENSHOTS = ROOT / "_build" / "screenshots"

# Every page of the site, except the root redirect (tested on its own below).
PAGES = site_pages()


def open_offline(browser, page_path: Path):
    """Open a page with every non-file request aborted; return (page, outside requests, console errors)."""
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    outside: list[str] = []
    errors: list[str] = []

    def route(route):
        if route.request.url.startswith("file://"):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    context.route("**/*", route)
    page = context.new_page()
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(page_path.as_uri(), wait_until="load")
    has_math = page.evaluate("document.querySelector('.math, div.math, span.math') !== null")
    if has_math:
        page.wait_for_function("window.MathJax && MathJax.startup && MathJax.startup.promise", timeout=20_000)
        page.evaluate("MathJax.startup.promise")
    return page, context, outside, errors, has_math


def test_the_site_has_pages(site):
    assert len(PAGES) >= 5


def test_root_redirects_to_the_home_page(site):
    assert is_redirect(site / "index.html") and "book/index.html" in (site / "index.html").read_text()


@pytest.mark.parametrize("page_path", PAGES, ids=page_id)
def test_page_works_offline(measured, page_path):
    m = measured(page_path)
    assert m["outside"] == [], f"requests outside the site: {m['outside']}"
    assert m["errors"] == [], f"console errors: {m['errors']}"
    if m["has_math"]:
        math = m["math"]
        assert math["typeset"] > 0 and math["untypeset"] == 0, (
            f"{math['untypeset']} math elements left untypeset ({math['typeset']} typeset)")
        assert math["errors"] == 0 and math["raw_tex"] == 0, f"MathJax errors or raw TeX left: {math}"
    assert m["broken_images"] == [], f"images that did not load: {m['broken_images']}"
    # Alt text describes the figure; a file name is what Sphinx falls back to when none was written.
    assert m["bad_alt"] == [], f"figures without alt text: {m['bad_alt']}"
    missing = []
    for href in m["links"]:
        url = urlparse(href)
        if url.scheme == "file" and not Path(unquote(url.path)).exists():
            missing.append(href)
    assert missing == [], f"internal links to missing files: {sorted(set(missing))}"


def test_chapter_math_is_typeset_and_screenshots_are_taken(browser, site):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    chapter = site / "notebooks" / "attention_soft_lookup.html"
    page, context, outside, _, has_math = open_offline(browser, chapter)
    try:
        assert has_math and outside == []
        # Display equations are numbered, and the equations really are typeset by MathJax (CommonHTML).
        assert page.evaluate("document.querySelectorAll('mjx-container[display=\"true\"][jax=\"CHTML\"]').length") >= 5
        page.screenshot(path=str(SCREENSHOTS / "chapter.png"), full_page=False)
    finally:
        context.close()
    home, context, _, _, _ = open_offline(browser, site / "book" / "index.html")
    try:
        home.screenshot(path=str(SCREENSHOTS / "home.png"))
    finally:
        context.close()


def test_chapters_offer_download_and_launch(site):
    """Every chapter links its .ipynb for download and launches it on Colab and Binder from the configured repo."""
    import yaml

    config = yaml.safe_load((site.parents[1] / "_config.yml").read_text())
    repo = config["repository"]["url"].removeprefix("https://github.com/")
    chapters = sorted((site / "notebooks").glob("*.html"))
    assert chapters
    for chapter in chapters:
        html = chapter.read_text(encoding="utf-8")
        name = chapter.stem
        assert f'href="../_sources/notebooks/{name}.ipynb"' in html, f"{name}: no .ipynb download"
        assert (site / "_sources" / "notebooks" / f"{name}.ipynb").exists()
        assert f"colab.research.google.com/github/{repo}/blob/main/notebooks/{name}.ipynb" in html
        assert f"mybinder.org/v2/gh/{repo}/main?urlpath=tree/notebooks/{name}.ipynb" in html


def test_every_chapter_starts_with_the_install_cell(site):
    """The downloaded notebook installs dlnotes first where it is missing (Colab, Binder)."""
    import json

    for source in sorted((site / "_sources" / "notebooks").glob("*.ipynb")):
        cells = [c for c in json.loads(source.read_text())["cells"] if c["cell_type"] == "code"]
        first = "".join(cells[0]["source"])
        assert "%pip install" in first and "importlib.util.find_spec(\"dlnotes\")" in first, source.name
        assert cells[0]["metadata"].get("tags") == ["remove-cell"], source.name


def test_search_works_offline(browser, site):
    """The search box sends the reader to search.html, which loads the index itself (no page carries it)."""
    assert "searchindex.js" not in (site / "notebooks" / "elbo.html").read_text(encoding="utf-8")
    context = browser.new_context()
    context.route("**/*", lambda r: r.continue_() if r.request.url.startswith("file://") else r.abort())
    page = context.new_page()
    try:
        page.goto((site / "search.html").as_uri() + "?q=attention", wait_until="load")
        page.wait_for_function("document.querySelectorAll('#search-results li').length > 0", timeout=20_000)
        titles = page.evaluate("Array.from(document.querySelectorAll('#search-results li a')).map(a => a.textContent)")
        assert any("attention" in t.lower() for t in titles), titles
    finally:
        context.close()
