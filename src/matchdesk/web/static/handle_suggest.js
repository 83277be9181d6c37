/* Handle boxes that suggest as you type: every <input data-handle-suggest> gets a
   <datalist> of up to 12 creators whose handle or name holds what was typed (from
   /creators/suggest). In a box holding several handles separated by ";" (a block list),
   the last one is completed. No inline script: the Content-Security-Policy allows this
   origin's files only. */
(function () {
  "use strict";
  var timer = null;
  var serial = 0;

  function listFor(input) {
    var id = input.getAttribute("list");
    if (id && document.getElementById(id)) { return document.getElementById(id); }
    var list = document.createElement("datalist");
    list.id = "handle-suggestions-" + Math.random().toString(36).slice(2);
    document.body.appendChild(list);
    input.setAttribute("list", list.id);
    input.setAttribute("autocomplete", "off");
    return list;
  }

  function suggest(input) {
    var text = input.value;
    var cut = text.lastIndexOf(";");
    var head = cut < 0 ? "" : text.slice(0, cut + 1);
    var typed = text.slice(cut + 1).trim().replace(/^@/, "");
    var list = listFor(input);
    if (typed.length < 2) { list.replaceChildren(); return; }
    var mine = ++serial;
    fetch("/creators/suggest?q=" + encodeURIComponent(typed), {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (r) { return r.ok ? r.json() : []; })
      .then(function (found) {
        if (mine !== serial) { return; } // a later keystroke's answer wins
        list.replaceChildren.apply(list, found.map(function (c) {
          var option = document.createElement("option");
          option.value = head + c.handle;
          option.textContent = c.name ? c.name : "@" + c.handle;
          return option;
        }));
        input.setAttribute("data-suggested", String(found.length));
      })
      .catch(function () { /* suggestions are a help: typing still works */ });
  }

  document.addEventListener("input", function (event) {
    var input = event.target;
    if (!(input instanceof HTMLInputElement) || !input.hasAttribute("data-handle-suggest")) { return; }
    window.clearTimeout(timer);
    timer = window.setTimeout(function () { suggest(input); }, 150);
  });
})();
