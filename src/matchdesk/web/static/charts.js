/* Draws every chart of a page: each <script type="application/json" data-chart="ID">
   holds a Vega-Lite spec (built in Python by matchdesk.results.charts) and is drawn into
   the element with that id. No inline script and no eval: vega evaluates its
   expressions with the vendored interpreter (ast: true), and the tooltip's styles come from
   matchdesk.css rather than a <style> element (style-src 'self'). When a chart is drawn its
   container gets data-drawn="N", N the number of rows of its data. */
(function () {
  "use strict";
  function draw(block) {
    var target = document.getElementById(block.dataset.chart);
    if (!target) { return; }
    var spec = JSON.parse(block.textContent);
    var rows = 0;
    Object.keys(spec.datasets || {}).forEach(function (key) { rows += spec.datasets[key].length; });
    if (spec.data && spec.data.values) { rows += spec.data.values.length; }
    window.vegaEmbed(target, spec, {
      ast: true,
      expr: window.vegaInterpreter.expressionInterpreter,
      renderer: "svg",
      actions: false,
      defaultStyle: false,
      // Its stylesheet is in matchdesk.css: the policy refuses styles a script injects.
      tooltip: { disableDefaultStyle: true }
    }).then(function () {
      target.dataset.drawn = String(rows);
    }).catch(function (error) {
      target.dataset.drawn = "error";
      target.textContent = "The chart could not be drawn: " + error;
    });
  }
  function start() {
    document.querySelectorAll("script[type='application/json'][data-chart]").forEach(draw);
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
