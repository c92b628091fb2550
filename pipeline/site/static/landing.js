// The landing page's figure table: the selects and the words box show only the matching rows
// (a row holds a space-separated list of values per filter: its years are those its period covers).
(function () {
  "use strict";
  var table = document.getElementById("figures_table");
  if (!table) return;  // the index of many sources has no figure table
  var count = document.getElementById("figures_count");
  var controls = Array.prototype.slice.call(
    document.querySelectorAll("#figure_filters [data-filter]"));
  var rows = Array.prototype.slice.call(table.tBodies[0].rows);
  function matches(row, control) {
    var want = control.value.trim().toLowerCase(), key = control.getAttribute("data-filter");
    if (!want) return true;
    if (key === "text") {
      return want.split(/\s+/).every(function (t) {
        return row.textContent.toLowerCase().indexOf(t) !== -1;
      });
    }
    var have = (row.getAttribute("data-" + key) || "").toLowerCase();
    return have.split(" ").indexOf(want) !== -1;
  }
  function apply() {
    var shown = 0;
    rows.forEach(function (row) {
      row.hidden = !controls.every(function (c) { return matches(row, c); });
      if (!row.hidden) shown += 1;
    });
    count.textContent = shown + " of " + rows.length + " shown";
  }
  controls.forEach(function (c) { c.addEventListener("input", apply); });
  apply();
})();
