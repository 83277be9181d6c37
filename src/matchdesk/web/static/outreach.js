/* The segment builder: a rule row's Remove button takes the row out and asks the form
   for a new live count (htmx listens for "segment-changed"). No inline script. */
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var button = event.target instanceof Element ? event.target.closest("[data-remove-rule]") : null;
    if (!button) { return; }
    var row = button.closest("tr.rule-row");
    var form = button.closest("form");
    if (row) { row.remove(); }
    if (form) { form.dispatchEvent(new Event("segment-changed")); }
  });
})();
