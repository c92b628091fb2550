(function () {
  "use strict";
  var MAP = JSON.parse(document.getElementById("ids_json").textContent);
  var ID = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;
  function wanted() {
    var raw = location.hash.slice(1);
    try { return decodeURIComponent(raw); } catch (err) { return raw; }
  }
  function sourceOf(id) {
    if (!ID.test(id)) return null;
    var needle = " " + id + " ";
    var sources = Object.keys(MAP.ids);
    for (var i = 0; i < sources.length; i++) {
      if ((" " + MAP.ids[sources[i]] + " ").indexOf(needle) !== -1) return sources[i];
    }
    return null;
  }
  function forward() {
    var id = wanted();
    var source = id ? sourceOf(id) : null;
    if (source) location.replace(MAP.dir + "/" + source + ".html#" + id);
    return Boolean(source);
  }
  function note() {
    if (forward()) return;
    var id = wanted();
    document.getElementById("index_status").textContent = id
      ? "No figure, event or correction has the id \u201c" + id + "\u201d in this version."
      : "";
  }
  if (!forward()) document.addEventListener("DOMContentLoaded", note);
  window.addEventListener("hashchange", note);
})();
