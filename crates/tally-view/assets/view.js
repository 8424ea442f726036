// tally view: renders LaTeX in model text with the vendored KaTeX, and records the first paint.
(function () {
  "use strict";
  var MATH = /\$\$([\s\S]+?)\$\$|\\\[([\s\S]+?)\\\]|\\\(([\s\S]+?)\\\)|\$([^$\n]+?)\$/g;
  function renderMath(el) {
    var text = el.textContent, last = 0, m, frag = document.createDocumentFragment(), any = false;
    MATH.lastIndex = 0;
    while ((m = MATH.exec(text)) !== null) {
      var tex = m[1] || m[2] || m[3] || m[4], display = !!(m[1] || m[2]);
      frag.appendChild(document.createTextNode(text.slice(last, m.index)));
      var span = document.createElement("span");
      try {
        window.katex.render(tex, span, { displayMode: display, throwOnError: false });
      } catch (e) {
        span.textContent = m[0];
      }
      frag.appendChild(span);
      last = MATH.lastIndex;
      any = true;
    }
    if (!any) return;
    frag.appendChild(document.createTextNode(text.slice(last)));
    el.textContent = "";
    el.appendChild(frag);
  }
  function renderAll(root) {
    if (!window.katex) return;
    var els = (root || document).querySelectorAll(".tex:not([data-rendered])");
    for (var i = 0; i < els.length; i++) {
      els[i].setAttribute("data-rendered", "1");
      renderMath(els[i]);
    }
  }
  window.tallyRenderMath = renderAll;
  try {
    new PerformanceObserver(function (list) {
      list.getEntries().forEach(function (e) {
        if (e.name === "first-contentful-paint") document.documentElement.setAttribute("data-fcp-ms", e.startTime.toFixed(0));
      });
    }).observe({ type: "paint", buffered: true });
  } catch (e) {}
  document.addEventListener("DOMContentLoaded", function () {
    // In the report, samples sit in closed <details>: render them when opened.
    var closed = document.querySelectorAll("details.sample");
    for (var i = 0; i < closed.length; i++) {
      closed[i].addEventListener("toggle", function (ev) { if (ev.target.open) renderAll(ev.target); });
    }
    renderAll(document.querySelector("main:not(.report)") || null);
    openHash();
  });
  // A link to a sample of the report (#s-…) opens it.
  function openHash() {
    var el = location.hash && document.getElementById(location.hash.slice(1));
    if (el && el.tagName === "DETAILS") {
      el.open = true;
      renderAll(el);
      el.scrollIntoView();
    }
  }
  window.addEventListener("hashchange", openHash);
})();
