// A source's page (many sources): each chart's Vega-Lite spec, in the <script> its <div> names,
// drawn as SVG by vegaEmbed (sources/charts.js, beside the page). A mark with a link opens it.
(function () {
  "use strict";
  if (typeof vegaEmbed !== "function") return;
  Array.prototype.forEach.call(document.querySelectorAll("div.vl[data-spec]"), function (div) {
    var spec = JSON.parse(document.getElementById(div.getAttribute("data-spec")).textContent);
    vegaEmbed(div, spec, {renderer: "svg", actions: false}).then(function () {
      div.setAttribute("data-drawn", "true");
    });
  });
})();
