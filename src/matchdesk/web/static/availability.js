/* The portal's availability editor: a friendlier editor over the text field, one row per
   window (day, from, to). The text field stays the one thing the form posts, so the server
   validates exactly what it shows. Loaded with defer: the page's elements exist. */
(function () {
  "use strict";
  const DAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
  const PART = /^([A-Za-z]{3})\s+(\d{1,2}:\d{2})\s*-\s*(\d{1,2}:\d{2})$/;
  const text = document.getElementById("availability-text");
  const editor = document.getElementById("day-editor");
  const rows = document.getElementById("day-rows");
  const CLOCK = /^([01]\d|2[0-3]):[0-5]\d$/;
  const pad = (t) => (t.length === 4 ? "0" + t : t);

  function parse(value) {
    const windows = [];
    for (const raw of value.split(";")) {
      const part = raw.trim();
      if (!part) continue;
      const m = PART.exec(part);
      const day = m && DAYS.find((d) => d.toLowerCase() === m[1].toLowerCase());
      const from = m && pad(m[2]);
      const to = m && (pad(m[3]) === "24:00" ? "00:00" : pad(m[3]));
      if (!day || !CLOCK.test(from) || !CLOCK.test(to)) return null;
      windows.push([day, from, to]);
    }
    return windows;
  }

  function write() {
    text.value = Array.from(rows.children)
      .map((li) => li.querySelector("select").value + " " +
        li.querySelector(".from").value + "-" + li.querySelector(".to").value)
      .join("; ");
  }

  function addRow(day, from, to) {
    const li = document.createElement("li");
    const n = rows.children.length + 1;
    const select = document.createElement("select");
    select.setAttribute("aria-label", "Day of window " + n);
    for (const d of DAYS) select.add(new Option(d, d, false, d === day));
    const start = Object.assign(document.createElement("input"), { type: "time", className: "from", value: from });
    start.setAttribute("aria-label", "From, window " + n);
    const end = Object.assign(document.createElement("input"), { type: "time", className: "to", value: to });
    end.setAttribute("aria-label", "To, window " + n);
    const remove = Object.assign(document.createElement("button"), { type: "button", textContent: "Remove", className: "link" });
    remove.setAttribute("aria-label", "Remove window " + n);
    remove.addEventListener("click", () => { li.remove(); write(); });
    li.append(select, " from ", start, " to ", end, " ", remove);
    li.addEventListener("change", write);
    rows.append(li);
  }

  function build() {
    const windows = parse(text.value);
    if (windows === null) return false;  // text the rows cannot show: leave it to the text field
    rows.replaceChildren();
    for (const w of windows) addRow(...w);
    return true;
  }

  if (!text || !build()) return;
  editor.hidden = false;
  text.addEventListener("input", () => { editor.hidden = !build(); });
  document.getElementById("add-window").addEventListener("click", () => {
    addRow("Mon", "19:00", "23:00");
    write();
    rows.lastElementChild.querySelector("select").focus();
  });
})();
