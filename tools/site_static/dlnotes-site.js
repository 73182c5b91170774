// The book's MathJax hooks (tools/sphinx_site.py).  Sphinx passes MathJax's configuration as
// JSON, which cannot hold functions; this deferred script runs after that configuration and
// before MathJax itself, and adds them.  Formulas are hidden (class dlnotes-math-pending, set in
// the page head) until MathJax has typeset them, so raw TeX never flashes; if MathJax cannot
// load, the TeX source is shown instead, which is better than nothing.
(function () {
  "use strict";
  var root = document.documentElement;
  if (!root.classList.contains("dlnotes-math-pending")) return;
  var show = function () { root.classList.remove("dlnotes-math-pending"); };
  var ready = function () {
    show();
    nameFormulas();
    markWide();
    if (document.fonts) document.fonts.ready.then(markWide);  // widths change once MathJax's fonts are in
  };
  var config = (window.MathJax = window.MathJax || {});
  config.startup = config.startup || {};
  config.startup.pageReady = function () {
    return MathJax.startup.defaultPageReady().then(ready, function (error) { show(); throw error; });
  };
  config.loader = config.loader || {};
  config.loader.failed = function (error) {
    show();
    console.error("MathJax(" + (error.package || "?") + "): " + error.message);
  };
  window.addEventListener("load", function () {
    if (!(window.MathJax && MathJax.startup && MathJax.startup.promise)) show();
  });

  // A heading, link or summary is named from its content, and Chromium leaves MathML out of
  // that name ("When , and restricted attention").  A formula there gets its own name: a plain
  // linear reading of its MathML (x_i, t n^2, (a)/(b)), the words the heading shows.
  function linear(node) {
    if (node.nodeType === 3) return node.textContent;
    if (node.nodeType !== 1) return "";
    var kids = Array.prototype.map.call(node.childNodes, linear);
    var group = function (text) { return text.length > 1 ? "(" + text + ")" : text; };
    switch (node.localName) {
      case "msub": return kids[0] + "_" + group(kids[1]);
      case "msup": return kids[0] + "^" + group(kids[1]);
      case "msubsup": return kids[0] + "_" + group(kids[1]) + "^" + group(kids[2]);
      case "munder": return kids[0] + "_" + group(kids[1]);
      case "mover": return kids[0] + "^" + group(kids[1]);
      case "munderover": return kids[0] + "_" + group(kids[1]) + "^" + group(kids[2]);
      case "mfrac": return group(kids[0]) + "/" + group(kids[1]);
      case "msqrt": return "sqrt(" + kids.join("") + ")";
      case "mroot": return "root " + kids[1] + " of (" + kids[0] + ")";
      case "mspace": return " ";
      case "annotation": case "annotation-xml": return "";
      default: return kids.join("");
    }
  }
  function nameFormulas() {
    var named = document.querySelectorAll("h1, h2, h3, h4, h5, h6, a, summary, caption");
    Array.prototype.forEach.call(named, function (holder) {
      Array.prototype.forEach.call(holder.querySelectorAll("mjx-container"), function (formula) {
        var mathml = formula.querySelector("mjx-assistive-mml math");
        if (!mathml || formula.hasAttribute("aria-label")) return;
        formula.setAttribute("role", "math");
        formula.setAttribute("aria-label", linear(mathml).replace(/\s+/g, " ").trim());
      });
    });
  }

  // A formula wider than the column scrolls sideways (the theme's div.math, or span.math marked
  // dlnotes-wide here, instead of being cut off); while it does, it is a tab stop, so that a
  // keyboard can scroll it too.
  function markWide() {
    Array.prototype.forEach.call(document.querySelectorAll("article span.math"), function (span) {
      var formula = span.querySelector("mjx-container");
      var box = span.parentElement;
      while (box && /^inline/.test(getComputedStyle(box).display)) box = box.parentElement;
      var style = box && getComputedStyle(box);
      var room = box ? box.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight) : 0;
      var wide = !!(formula && box) && formula.getBoundingClientRect().width > room + 1;
      span.classList.toggle("dlnotes-wide", wide);
      focusableWhile(span, wide);
    });
    Array.prototype.forEach.call(document.querySelectorAll("article div.math > mjx-container"), function (formula) {
      focusableWhile(formula, formula.scrollWidth > formula.clientWidth);
    });
  }
  function focusableWhile(element, scrolls) {
    if (scrolls) element.setAttribute("tabindex", "0");
    else element.removeAttribute("tabindex");
  }
  var resizing = null;
  window.addEventListener("resize", function () {
    clearTimeout(resizing);
    resizing = setTimeout(markWide, 150);
  });
})();
