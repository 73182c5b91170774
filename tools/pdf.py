"""The PDF edition: the whole book printed by Chromium from its single-page build.

    python -m tools.pdf [--site _build/singlehtml] [--out _build/pdf/dlnotes.pdf]

Why Chromium and not LaTeX: the single-page HTML build reuses the execution
cache of the site build and needs nothing new to install (Chromium and
Playwright already drive the browser test), its math is the same MathJax SVG
the site shows, and figures, code and outputs keep their site styling.  A LaTeX
build would need a TeX distribution of about half a gigabyte plus ``xindy``, and
Jupyter Book's ``pdfhtml`` builder downloads its own browser, which an offline
machine cannot.

What the print adds to the single page (all in the browser, nothing in the site):

* a title page and a table of contents whose entries link to the chapters,
  and PDF bookmarks for every heading;
* every chapter's exercise solutions moved to a "Solutions" section at the end
  of that chapter, each with the code cell that confirms it, printed open;
* code and outputs that wrap instead of running off the page, and display
  equations scaled down to fit the column when they are too wide, with the
  equation number beside them, not over them;
* the install cell and other hidden setup cells left out (the single-page build
  drops them), and page numbers in the footer.

It also measures what a reader could lose, with the page laid out for print:
code or output lines wider than their box, and equations wider than the column.
Those counts, the chapter titles and the page count are written to a JSON
report beside the PDF, which ``tests/pdf/test_pdf.py`` checks.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from pathlib import Path

# Runs in the page once MathJax has typeset it.  Returns what it moved and the
# chapter titles it found.
_PREPARE = r"""
() => {
  const main = document.querySelector('main') || document.body;
  // Each document of the book (preface, chapters, ledger, ...) is one section
  // right after the marker span the single-page builder puts before it.
  const documents = [...document.querySelectorAll('span[id^="document-"] + section')];
  documents.forEach(s => s.classList.add('dlnotes-print-document'));
  const chapters = documents.filter(s => s.querySelector(':scope > h2'));
  let moved = 0;
  for (const chapter of chapters) {
    const solutions = [...chapter.querySelectorAll('div.solution')];
    if (!solutions.length) continue;
    const box = document.createElement('section');
    box.className = 'dlnotes-print-solutions';
    const title = document.createElement('h2');
    title.textContent = 'Solutions';
    box.appendChild(title);
    for (const solution of solutions) {
      const follower = solution.nextElementSibling;
      solution.classList.remove('dropdown');
      box.appendChild(solution);
      // The code cell that confirms a numeric solution sits right after it.
      if (follower && follower.classList.contains('tag_hide-cell')) box.appendChild(follower);
      moved += 1;
    }
    chapter.appendChild(box);
  }
  document.querySelectorAll('details').forEach(d => { d.open = true; });
  // Title page and table of contents.
  const front = document.createElement('section');
  front.className = 'dlnotes-print-front';
  const heading = document.createElement('h1');
  heading.textContent = document.title.split('—')[0].trim() || 'dlnotes';
  front.appendChild(heading);
  const tocTitle = document.createElement('h2');
  tocTitle.textContent = 'Contents';
  front.appendChild(tocTitle);
  const list = document.createElement('ul');  // chapter titles carry their own numbers
  list.className = 'dlnotes-print-toc';
  const titles = [];
  for (const chapter of chapters) {
    const h2 = chapter.querySelector(':scope > h2');
    const text = h2.textContent.replace('#', '').trim();
    titles.push(text);
    const item = document.createElement('li');
    const link = document.createElement('a');
    link.href = '#' + chapter.id;
    link.textContent = text;
    item.appendChild(link);
    list.appendChild(item);
  }
  front.appendChild(list);
  main.prepend(front);
  return {moved, titles};
}
"""

_PRINT_CSS = r"""
@page { size: A4; margin: 16mm 14mm 18mm 14mm; }
@media print {
  html { font-size: 10.5pt; }
  .bd-sidebar-primary, .bd-sidebar-secondary, .bd-header, .bd-footer, .bd-footer-content,
  .header-article, .prev-next-area, .bd-header-announcement, .toc-entry, .headerlink,
  .dlnotes-skip-print, nav, .cell_output .copybtn, button.copybtn { display: none !important; }
  /* The theme lays the page out as nested flex boxes; a wide table or figure
     would then widen the whole column past the paper, so print as plain blocks. */
  body, .bd-container, .bd-container__inner, .bd-main, .bd-content, .bd-article-container, .bd-page-width, article {
       display: block !important; min-width: 0 !important; max-width: none !important; width: auto !important;
       margin: 0 !important; padding: 0 !important; }
  table { max-width: 100%; }
  .table-wrapper, .pst-scrollable-table-container { overflow: visible !important; }
  pre, .output pre, .cell_output pre { white-space: pre-wrap !important; overflow-wrap: anywhere !important;
       word-break: break-word; overflow: visible !important; max-height: none !important; }
  div.highlight, .cell_output, .output { overflow: visible !important; max-height: none !important; }
  img { max-width: 100% !important; height: auto !important; break-inside: avoid; }
  figure, .cell_output img { break-inside: avoid; }
  div.math-wrapper, div.math, mjx-container { overflow: visible !important; box-shadow: none !important; }
  .dlnotes-print-document { break-before: page; }
  .dlnotes-print-front h1 { break-before: avoid; font-size: 2.2rem; margin-top: 30%; }
  .dlnotes-print-front { break-after: page; }
  .dlnotes-print-toc { list-style: none; padding-left: 0; }
  .dlnotes-print-toc a { text-decoration: none; }
  button.toggle-button, .toggle-button { display: none !important; }
  .dlnotes-print-solutions { break-before: page; }
  .dlnotes-print-solutions > h2::before { content: ''; }
  .admonition, div.solution, .cell { break-inside: auto; }
  details > summary { display: none !important; }
  a[href^="http"]::after { content: ''; }
}
"""

# Scales every display equation down to fit beside its number, then measures
# what is still cut: lines of code or output wider than their box, equations
# wider than the column.  Runs with the page laid out for print.
_FIT_AND_MEASURE = r"""
() => {
  const contentWidth = el => { const s = getComputedStyle(el);
    return el.clientWidth - parseFloat(s.paddingLeft) - parseFloat(s.paddingRight); };
  let scaled = 0;
  // The typeset formula: CommonHTML's <mjx-math>, or an SVG if the site uses that output.
  const formula = box => box.querySelector('mjx-container mjx-math, mjx-container svg');
  for (const box of document.querySelectorAll('div.math')) {
    const math = formula(box);
    if (!math) continue;
    const number = box.querySelector('.eqno');
    const room = contentWidth(box) - (number ? number.getBoundingClientRect().width + 8 : 0);
    const width = math.getBoundingClientRect().width;
    if (width > room && room > 0) {
      // zoom changes the layout box too, so nothing is left overlapping
      box.querySelector('mjx-container').style.zoom = (0.98 * room / width).toFixed(4);
      scaled += 1;
    }
  }
  const clippedCode = [...document.querySelectorAll('pre')].filter(p => p.offsetParent !== null
      && p.scrollWidth > p.clientWidth + 1).map(p => p.textContent.slice(0, 80));
  const clippedMath = [];
  for (const box of document.querySelectorAll('div.math')) {
    const math = formula(box);
    if (!math) continue;
    const b = box.getBoundingClientRect(), s = math.getBoundingClientRect();
    const number = box.querySelector('.eqno');
    const overlap = number ? (number.getBoundingClientRect().left < s.right - 1
                              && number.getBoundingClientRect().right > s.left + 1
                              && number.getBoundingClientRect().top < s.bottom
                              && number.getBoundingClientRect().bottom > s.top) : false;
    if (s.right > b.right + 1 || s.left < b.left - 1 || overlap) clippedMath.push(box.id || box.textContent.slice(0, 60));
  }
  const unTypeset = document.querySelectorAll('span.math:not(:has(mjx-container)), div.math:not(:has(mjx-container))').length;
  const mathErrors = document.querySelectorAll('mjx-merror, [data-mjx-error]').length;
  return {scaled, clippedCode, clippedMath, unTypeset, mathErrors,
          images: document.querySelectorAll('img').length,
          brokenImages: [...document.querySelectorAll('img')].filter(i => !i.complete || i.naturalWidth === 0).length};
}
"""


def _chromium() -> str:
    for candidate in (os.environ.get("CHROMIUM"), "chromium", "chromium-browser", "google-chrome"):
        if candidate and shutil.which(candidate):
            return shutil.which(candidate)
    raise SystemExit("no Chromium found: `make browser` installs Debian's chromium, or set CHROMIUM=/path/to/chrome")


def build_pdf(site: Path, out: Path) -> dict:
    """Print ``site/book/index.html`` (a ``singlehtml`` build) to ``out``; return the report."""
    from playwright.sync_api import sync_playwright

    built = site / "book" / "index.html"
    if not built.exists():
        raise SystemExit(f"no single-page build at {built}: run `make pdf`, which builds it first")
    # The builder writes the page under the root document's folder but links its
    # assets relative to the build's root, so it is read from there.
    page_file = (site / "print.html").resolve()
    shutil.copyfile(built, page_file)
    started = time.perf_counter()
    out.parent.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=_chromium(),
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run", "--disable-quic"])
        # The printable width of an A4 page between the margins, 182 mm at 96 px per inch.
        page = browser.new_page(viewport={"width": 688, "height": 1000})
        # Offline by construction: anything that is not a local file is refused.
        page.route("**/*", lambda route: route.continue_() if route.request.url.startswith("file://")
                   else route.abort())
        page.goto(page_file.as_uri(), wait_until="load", timeout=120_000)
        page.wait_for_function("window.MathJax && MathJax.startup && MathJax.startup.promise", timeout=60_000)
        page.evaluate("() => MathJax.startup.promise")
        prepared = page.evaluate(_PREPARE)
        page.add_style_tag(content=_PRINT_CSS)
        page.emulate_media(media="print")
        measured = page.evaluate(_FIT_AND_MEASURE)
        # outline: PDF bookmarks for every heading.  Not tagged: a structure
        # tree makes the file 23 MB instead of 13 MB, and screen-reader users are
        # better served by the site, whose pages carry the same text.
        page.pdf(path=str(out), format="A4", print_background=True, display_header_footer=True,
                 outline=True,
                 header_template="<span></span>",
                 footer_template='<div style="font-size:8pt;width:100%;text-align:center;color:#555">'
                                 '<span class="pageNumber"></span> / <span class="totalPages"></span></div>',
                 margin={"top": "16mm", "bottom": "18mm", "left": "14mm", "right": "14mm"})
        browser.close()
    import pypdfium2

    pages = len(pypdfium2.PdfDocument(str(out)))
    report = {"pdf": str(out), "pages": pages, "seconds": round(time.perf_counter() - started, 1),
              "chapters": prepared["titles"], "solutions_moved": prepared["moved"], **measured}
    out.with_suffix(".json").write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.pdf", description=__doc__.split("\n\n")[0])
    parser.add_argument("--site", type=Path, default=Path("_build/singlehtml"))
    parser.add_argument("--out", type=Path, default=Path("_build/pdf/dlnotes.pdf"))
    parser.add_argument("--copy-to", type=Path, default=None,
                        help="also copy the PDF here (the site links to _build/html/dlnotes.pdf)")
    args = parser.parse_args(argv)
    report = build_pdf(args.site, args.out)
    if args.copy_to is not None:
        args.copy_to.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(args.out, args.copy_to)
    print(f"{report['pdf']}: {report['pages']} pages, {len(report['chapters'])} chapters, "
          f"{report['solutions_moved']} solutions at chapter ends, {report['scaled']} equations scaled to fit, "
          f"clipped code blocks {len(report['clippedCode'])}, clipped equations {len(report['clippedMath'])} "
          f"({report['seconds']} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
