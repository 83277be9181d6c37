/* The round board: after an edit made through htmx (a row swapped in, no page reload),
   every form on the page must carry the round's new version, or the next edit would be
   refused as stale. The server names it in an `HX-Trigger: {"round-version": ...}`. */
(function () {
  "use strict";
  document.addEventListener("round-version", function (event) {
    var version = event.detail && event.detail.version;
    if (!version) { return; }
    document.querySelectorAll("input[name=version]").forEach(function (input) {
      input.value = String(version);
    });
  });
})();
