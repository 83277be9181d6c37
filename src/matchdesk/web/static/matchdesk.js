/* Behaviour every page may use, declared in the markup with data- attributes, so that no
   template holds an inline script, an on* handler or a javascript: URL (the
   Content-Security-Policy allows scripts from this origin's files only):
   - <form data-confirm="Question?">: asks before submitting; Cancel keeps the page.
   - <a data-back href="/">: goes back in the history (the href is the fallback).
   Listeners sit on the document, so content swapped in by htmx behaves the same. */
(function () {
  "use strict";
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.hasAttribute("data-confirm")) { return; }
    if (!window.confirm(form.getAttribute("data-confirm"))) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  }, true);
  document.addEventListener("click", function (event) {
    var link = event.target instanceof Element ? event.target.closest("a[data-back]") : null;
    if (!link || window.history.length < 2) { return; }
    event.preventDefault();
    window.history.back();
  });
})();
