"""What the browser tests measure on a page of the built site, in one place.

Every page is opened once (offline, every outside request aborted) and measured
for all the site tests at once: what it loads, whether its math typeset, its
accessibility in light and dark mode (axe-core, WCAG 2.1 A and AA), the
accessible names of headings and links that hold math, and, for chapters, its
layout at phone width.  The tests assert on these measurements; the report
(``_build/site-report.json``) keeps them for the before/after figures.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlparse

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1200, "height": 900}

# What axe looks at.  MathJax's SVG drawings are aria-hidden pictures of the formulas (screen
# readers get the MathML beside them, which is visually hidden): the colour rules skip the
# formulas, and code blocks, whose thousands of highlighted tokens share a handful of colours on
# one background, are checked once per token colour (CODE_CONTRAST) instead of token by token.
# This keeps a page at about a second.  Only colours change between light and dark mode, so in
# dark mode only the colour checks run again.
COLOUR_RULES = ["color-contrast", "link-in-text-block"]
STRUCTURE_CONTEXT = {"exclude": [["mjx-container > svg"]]}
# The ledger's tables have hundreds of rows written by one template (tools/sphinx_ext.py): the
# first rows of each carry every style the rest do, and checking all of them took 7 s a mode.
COLOUR_CONTEXT = {"exclude": [["mjx-container"], [".highlight"], ["table.dlnotes-ledger tbody tr:nth-child(n+6)"]]}
CODE_CONTRAST = """() => {
  const lum = c => { const [r, g, b] = c.match(/[\\d.]+/g).slice(0, 3).map(Number).map(v => v / 255)
                       .map(v => v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4);
                     return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
  const opaque = e => { for (; e; e = e.parentElement) { const b = getComputedStyle(e).backgroundColor;
                          if (!/rgba\\(.*, 0\\)$|transparent/.test(b)) return b; } return 'rgb(255, 255, 255)'; };
  const seen = new Map();
  for (const span of document.querySelectorAll('.highlight pre span')) {
    if (!span.textContent.trim() || span.closest('mjx-container')) continue;
    const color = getComputedStyle(span).color, bg = opaque(span);
    const key = color + '|' + bg;
    if (seen.has(key)) continue;
    const [a, b] = [lum(color), lum(bg)].sort((x, y) => y - x);
    seen.set(key, {ratio: (a + 0.05) / (b + 0.05), cls: span.className});
  }
  const low = Array.from(seen.values()).filter(v => v.ratio < 4.5);
  return low.length ? [{id: 'color-contrast-code', impact: 'serious', help: 'Code tokens must have 4.5:1 contrast',
                        nodes: low.map(v => `.highlight span.${v.cls} ${v.ratio.toFixed(2)}:1`)}] : [];
}"""
AXE_RUN = """async ([context, only]) => {
  const result = await axe.run(context, {runOnly: only, resultTypes: ['violations'], preload: false});
  return result.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                      nodes: v.nodes.map(n => n.target.join(' '))}));
}"""

# Elements a keyboard user lands on with Tab (tabindex >= 0, not disabled).
FOCUSABLE = """() => {
  const all = Array.from(document.querySelectorAll(
    'a[href], button, input:not([type=hidden]), select, textarea, summary, [tabindex], [contenteditable=true]'));
  const stops = all.filter(e => !e.disabled && e.tabIndex >= 0);
  // a formula is a tab stop only while it scrolls (so that a keyboard can scroll it)
  const scrolls = e => e.scrollWidth > e.clientWidth;
  return {total: stops.length,
          formulas: stops.filter(e => e.tagName === 'MJX-CONTAINER' || e.matches('span.math')).length,
          formulas_not_scrolling: stops.filter(e => (e.tagName === 'MJX-CONTAINER' || e.matches('span.math')) && !scrolls(e)).length};
}"""

MATH_STATE = """() => ({
  typeset: document.querySelectorAll('mjx-container').length,
  untypeset: Array.from(document.querySelectorAll('.math')).filter(e => !e.querySelector('mjx-container')).length,
  errors: document.querySelectorAll('mjx-merror, merror, [data-mjx-error]').length,
  raw_tex: Array.from(document.querySelectorAll('.math')).filter(
             e => /\\\\[a-zA-Z(\\[]/.test(Array.from(e.childNodes).filter(n => n.nodeType === 3)
                                          .map(n => n.textContent).join(''))).length,
})"""

# Headings and links holding a formula, marked so that their accessible names can be read back.
MARK_MATH_NAMES = """() => {
  const marked = Array.from(document.querySelectorAll('h1, h2, h3, h4, h5, h6, a[href]'))
    .filter(e => e.querySelector('mjx-container') && e.getClientRects().length > 0);
  marked.forEach((e, i) => e.setAttribute('data-probe-name', String(i)));
  return marked.map(e => ({tag: e.tagName.toLowerCase(), formulas: e.querySelectorAll('mjx-container').length,
                           text: e.textContent.replace(/\\s+/g, ' ').trim().slice(0, 120)}));
}"""

# The layout at phone width: what sticks out, what is clipped, what scrolls and shows it.
PHONE_LAYOUT = """() => {
  const vw = document.documentElement.clientWidth;
  const describe = e => {
    const id = e.id ? '#' + e.id : '';
    const cls = (typeof e.className === 'string' && e.className) ? '.' + e.className.trim().split(/\\s+/).slice(0, 2).join('.') : '';
    return e.tagName.toLowerCase() + id + cls;
  };
  const scrolls = s => /(auto|scroll)/.test(s.overflowX);
  const shown = e => e.getClientRects().length > 0 && getComputedStyle(e).visibility !== 'hidden';
  // Wider than the screen with nothing to clip or scroll it: it widens the page.
  const unboxed = e => {
    for (let a = e.parentElement; a && a !== document.body; a = a.parentElement)
      if (getComputedStyle(a).overflowX !== 'visible') return false;
    return true;
  };
  // Cut off for good: a box that hides overflow (not one that scrolls) is narrower than it.
  const cutOff = e => {
    const r = e.getBoundingClientRect();
    for (let a = e.parentElement; a && a !== document.body; a = a.parentElement) {
      const s = getComputedStyle(a);
      if (s.overflowX === 'visible') continue;
      if (scrolls(s)) return false;
      const q = a.getBoundingClientRect();
      if (r.left < q.left - 1 || r.right > q.right + 1) return true;
    }
    return r.right > vw + 1;
  };
  const main = document.querySelector('main') || document.body;
  const wide = [];
  for (const e of main.querySelectorAll('*')) {
    // MathJax's assistive MathML is clipped to nothing on purpose (it is for screen readers)
    if (!shown(e) || e.closest('mjx-assistive-mml')) continue;
    const r = e.getBoundingClientRect();
    if (r.right > vw + 1 && unboxed(e) && !(e.parentElement && e.parentElement.getBoundingClientRect().right > vw + 1))
      wide.push(describe(e) + ' ' + Math.round(r.right) + 'px');
  }
  const clippedInline = [];
  for (const m of main.querySelectorAll('mjx-container:not([display="true"])')) {
    if (shown(m) && cutOff(m))
      clippedInline.push((m.closest('[id]') ? '#' + m.closest('[id]').id : '') + ' ' + Math.round(m.getBoundingClientRect().width) + 'px');
  }
  const displays = [];
  for (const m of main.querySelectorAll('mjx-container[display="true"]')) {
    if (!shown(m)) continue;
    const svg = m.querySelector('svg');
    const box = m;
    const s = getComputedStyle(box);
    const content = svg ? svg.getBoundingClientRect().width : box.scrollWidth;
    const overflows = box.scrollWidth > box.clientWidth + 1;
    const scrollable = overflows && scrolls(s);
    const cue = overflows && (/gradient/.test(s.backgroundImage) || box.offsetHeight - box.clientHeight > 4);
    const holder = m.closest('div.math');
    const eqno = holder ? holder.querySelector('.eqno') : null;
    let overlap = false;
    if (eqno && svg) {
      const a = eqno.getBoundingClientRect(), b = svg.getBoundingClientRect(), v = box.getBoundingClientRect();
      const left = Math.max(b.left, v.left), right = Math.min(b.right, v.right);
      overlap = a.left < right - 1 && left < a.right - 1 && a.top < b.bottom - 1 && b.top < a.bottom - 1;
    }
    const boxRight = box.getBoundingClientRect().right;
    displays.push({id: holder && holder.id || '', content: Math.round(content), box: Math.round(box.clientWidth),
                   overflows, scrollable, cue, overlap, sticks_out: boxRight > vw + 1});
  }
  const images = Array.from(main.querySelectorAll('img')).filter(shown).map(i => {
    const r = i.getBoundingClientRect();
    return {src: i.getAttribute('src').split('/').pop().slice(0, 16), shown: Math.round(r.width),
            natural: i.naturalWidth, scale: i.naturalWidth ? +(r.width / i.naturalWidth).toFixed(3) : 0,
            fits: r.right <= vw + 1 && r.left >= -1};
  });
  return {viewport: vw, page_width: document.documentElement.scrollWidth, wide, clipped_inline: clippedInline,
          displays, images};
}"""


def accessible_names(page, context) -> list[dict]:
    """Chromium's accessible name of every visible heading and link that holds a formula."""
    marked = page.evaluate(MARK_MATH_NAMES)
    if not marked:
        return []
    cdp = context.new_cdp_session(page)
    try:
        root = cdp.send("DOM.getDocument", {"depth": 0})["root"]["nodeId"]
        ids = cdp.send("DOM.querySelectorAll", {"nodeId": root, "selector": "[data-probe-name]"})["nodeIds"]
        for item, node_id in zip(marked, ids):
            tree = cdp.send("Accessibility.getPartialAXTree", {"nodeId": node_id, "fetchRelatives": False})
            node = tree["nodes"][0] if tree["nodes"] else {}
            item["name"] = str(node.get("name", {}).get("value", ""))
    finally:
        cdp.detach()
    return marked


def set_dark(page) -> None:
    """Switch the page to dark mode the way the theme's own button does."""
    # The theme fades colours over 0.15 s; axe must see the end state, not a blend.
    page.add_style_tag(content="*, *::before, *::after { transition: none !important; }")
    page.evaluate("""() => {
      localStorage.setItem('mode', 'dark'); localStorage.setItem('theme', 'dark');
      document.documentElement.dataset.mode = 'dark'; document.documentElement.dataset.theme = 'dark';
    }""")
    page.emulate_media(color_scheme="dark")
    page.wait_for_timeout(50)


def run_axe(page, colours_only: bool = False) -> list[dict]:
    """axe-core's violations of the WCAG 2.1 A/AA rules on the page as it is now (or of the colour rules)."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    found = page.evaluate(AXE_RUN, [COLOUR_CONTEXT, {"type": "rule", "values": COLOUR_RULES}])
    found += page.evaluate(CODE_CONTRAST)
    if not colours_only:
        others = [r for r in page.evaluate("(tags) => axe.getRules(tags).map(r => r.ruleId)", WCAG_TAGS)
                  if r not in COLOUR_RULES]
        found += page.evaluate(AXE_RUN, [STRUCTURE_CONTEXT, {"type": "rule", "values": others}])
    return found


def file_bytes(urls: list[str], site: Path) -> dict:
    """Bytes on disk of every file a page loaded (each counted once)."""
    sizes: dict[str, int] = {}
    for url in urls:
        path = Path(unquote(urlparse(url).path))
        if path.is_file():
            key = str(path.relative_to(site)) if path.is_relative_to(site) else str(path)
            sizes[key] = path.stat().st_size
    return {"files": len(sizes), "bytes": sum(sizes.values()), "largest": sorted(sizes.items(), key=lambda kv: -kv[1])[:8]}


def measure(browser, site: Path, page_path: Path, phone: bool) -> dict:
    """Open one page offline and take every measurement the site tests assert on."""
    context = browser.new_context(viewport=DESKTOP, color_scheme="light")
    outside: list[str] = []
    loaded: list[str] = []
    errors: list[str] = []

    def route(route):
        url = route.request.url
        if url.startswith("file://"):
            loaded.append(url.split("?")[0].split("#")[0])
            route.continue_()
        else:
            outside.append(url)
            route.abort()

    context.route("**/*", route)
    page = context.new_page()
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        page.goto(page_path.as_uri(), wait_until="load")
        has_math = page.evaluate("document.querySelector('.math') !== null")
        if has_math:
            page.wait_for_function("window.MathJax && MathJax.startup && MathJax.startup.promise", timeout=20_000)
            page.evaluate("MathJax.startup.promise")
        result: dict = {"outside": outside, "errors": list(errors), "has_math": has_math}
        result["math"] = page.evaluate(MATH_STATE)
        result["broken_images"] = page.evaluate(
            "Array.from(document.images).filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.src)")
        result["bad_alt"] = page.evaluate(
            "Array.from(document.querySelectorAll('article img, main img')).map(i => i.getAttribute('alt') || '')"
            ".filter(a => a.trim() === '' || /\\.(png|svg|jpe?g)$/.test(a))")
        result["links"] = page.evaluate("Array.from(document.querySelectorAll('a[href]')).map(a => a.href)")
        result["focusable"] = page.evaluate(FOCUSABLE)
        # paragraphs telling the reader how to call the answer checker, hidden from keyboard and screen readers
        result["hidden_instructions"] = page.evaluate("""() => Array.from(document.querySelectorAll('main p'))
            .filter(p => /check_answer\\(/.test(p.textContent))
            .filter(p => p.getClientRects().length === 0 || p.closest('details:not([open]), [hidden], [aria-hidden=true]'))
            .length""")
        result["math_names"] = accessible_names(page, context)
        result["axe_light"] = run_axe(page)
        set_dark(page)
        result["axe_dark"] = run_axe(page, colours_only=True) + [
            v for v in result["axe_light"] if v["id"] not in COLOUR_RULES and v["id"] != "color-contrast-code"]
        if phone:
            page.set_viewport_size(PHONE)
            page.wait_for_timeout(250)  # the page re-marks its wide formulas 150 ms after a resize
            result["phone"] = page.evaluate(PHONE_LAYOUT)
        result["weight"] = file_bytes(loaded, site)
        return result
    finally:
        context.close()


SITE = ROOT / "_build" / "html"


def is_redirect(page_path: Path) -> bool:
    return 'http-equiv="Refresh"' in page_path.read_text(encoding="utf-8")[:2000]


def site_pages() -> list[Path]:
    """Every reader page of the built site, except the root redirect (tested on its own)."""
    if not SITE.exists():
        return []
    return sorted(p for p in SITE.rglob("*.html")
                  if "_static" not in p.parts and "_sources" not in p.parts and not is_redirect(p))


def chapters() -> list[Path]:
    return sorted((SITE / "notebooks").glob("*.html")) if SITE.exists() else []


def page_id(page_path: Path) -> str:
    return str(page_path.relative_to(SITE))
