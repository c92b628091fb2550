(function () {
  "use strict";
  Array.prototype.forEach.call(document.querySelectorAll("input.filter"), function (input) {
    var table = document.getElementById(input.getAttribute("data-table"));
    var count = document.getElementById(table.id.replace("_table_", "_count_"));
    var rows = Array.prototype.slice.call(table.tBodies[0].rows);
    var hay = rows.map(function (r) { return r.textContent.toLowerCase(); });
    input.addEventListener("input", function () {
      var terms = input.value.toLowerCase().split(/\s+/).filter(Boolean);
      var shown = 0;
      rows.forEach(function (r, i) {
        var ok = terms.every(function (t) { return hay[i].indexOf(t) !== -1; });
        r.hidden = !ok;
        if (ok) shown += 1;
      });
      count.textContent = shown + " of " + rows.length + " shown";
    });
  });

  Array.prototype.forEach.call(document.querySelectorAll("table.records"), function (table) {
    var heads = Array.prototype.slice.call(table.tHead.rows[0].cells);
    heads.forEach(function (th, col) {
      th.querySelector("button").addEventListener("click", function () {
        var dir = th.getAttribute("aria-sort") === "ascending" ? -1 : 1;
        heads.forEach(function (h) { h.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", dir === 1 ? "ascending" : "descending");
        var numeric = th.getAttribute("data-type") === "number";
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        function key(r) {
          var c = r.cells[col];
          var k = c.hasAttribute("data-sort") ? c.getAttribute("data-sort") : c.textContent;
          if (!numeric) return k.toLowerCase();
          return k === "" ? null : parseFloat(k);
        }
        rows.sort(function (a, b) {
          var x = key(a), y = key(b), order = 0;
          if (x === null || x === "") order = (y === null || y === "") ? 0 : 1;
          else if (y === null || y === "") order = -1;
          else order = dir * (x < y ? -1 : x > y ? 1 : 0);
          return order || (+a.getAttribute("data-index") - +b.getAttribute("data-index"));
        });
        rows.forEach(function (r) { body.appendChild(r); });
      });
    });
  });
})();
