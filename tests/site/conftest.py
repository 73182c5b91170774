"""Fixtures for looking at the built site in a real browser (run after `make book`)."""

import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SITE = ROOT / "_build" / "html"
SCREENSHOTS = ROOT / "_build" / "screenshots"


def chromium_path() -> str:
    for candidate in (os.environ.get("CHROMIUM"), "chromium", "chromium-browser", "google-chrome"):
        if candidate and shutil.which(candidate):
            return shutil.which(candidate)
    pytest.fail("no Chromium found: `make browser` installs Debian's chromium, or set CHROMIUM=/path/to/chrome")


@pytest.fixture(scope="session")
def site() -> Path:
    if not (SITE / "index.html").exists():
        pytest.fail(f"no built site at {SITE}: run `make book` first")
    return SITE


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium_path(),
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run", "--disable-quic"],
        )
        yield browser
        browser.close()


# ----------------------------------------------------------------------------- one visit per page
# Every page is opened once; all site tests read the same measurements (tests/site/probes.py),
# and the session writes them to _build/site-report.json for the record.
# Under pytest-xdist (for example `pytest tests/site -n 2 --dist loadgroup`) every page's tests share
# a group (see pytest_collection_modifyitems), so a page is still opened once; each worker writes
# its own part of the report.
REPORT = ROOT / "_build" / f"site-report{'-' + os.environ['PYTEST_XDIST_WORKER'] if 'PYTEST_XDIST_WORKER' in os.environ else ''}.json"


def pytest_collection_modifyitems(items):
    for item in items:
        page_path = getattr(item, "callspec", None) and item.callspec.params.get("page_path")
        if page_path is not None:
            item.add_marker(pytest.mark.xdist_group(str(page_path)))


@pytest.fixture(scope="session")
def measured(browser, site):
    import json
    import sys

    sys.path.insert(0, str(Path(__file__).parent))
    from probes import measure

    cache: dict[Path, dict] = {}

    def get(page_path: Path) -> dict:
        if page_path not in cache:
            chapter = page_path.parent.name == "notebooks"
            cache[page_path] = measure(browser, site, page_path, phone=chapter)
        return cache[page_path]

    yield get
    if cache:
        REPORT.write_text(json.dumps({str(p.relative_to(site)): {k: v for k, v in m.items() if k != "links"}
                                      for p, m in sorted(cache.items())}, indent=1) + "\n", encoding="utf-8")
