(function () {
  "use strict";
  var DATA = JSON.parse(document.getElementById("records_json").textContent);
  var pop = document.getElementById("record_popover");
  var status = document.getElementById("marked_status");
  var view = document.body;  // it scrolls, not the window (page.css)
  // a segment lists the records (data-records) and corrections (data-corrections) covering it
  function idsOf(seg, attr) {
    var v = seg.getAttribute(attr);
    return v ? v.split(" ") : [];
  }
  var segsById = {};
  var segments = Array.prototype.slice.call(document.querySelectorAll(".text .hl, .text .corr"));
  segments.forEach(function (seg) {
    idsOf(seg, "data-records").concat(idsOf(seg, "data-corrections")).forEach(function (id) {
      (segsById[id] = segsById[id] || []).push(seg);
    });
  });

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }
  function field(dl, label, value, cls) {
    if (value === undefined || value === null || value === "") return;
    dl.appendChild(el("dt", null, label));
    dl.appendChild(el("dd", cls, value));
  }
  function fixLine(id) {
    // Correction <id>: printed "<printed>" -> "<corrected>" - <reason> (reported <date> by <who>)
    var row = DATA[id].row;
    var p = el("p", "fix");
    var head = el("strong", null, "Correction ");
    head.appendChild(el("code", null, id));
    head.appendChild(document.createTextNode(":"));
    p.appendChild(head);
    p.appendChild(document.createTextNode(" printed \""));
    p.appendChild(el("span", "was", row.printed));
    p.appendChild(document.createTextNode("\" \u2192 \""));
    p.appendChild(el("span", "now", row.corrected));
    p.appendChild(document.createTextNode("\" \u2014 " + row.reason +
      " (reported " + row.reported_on + " by " + row.reported_by + ")"));
    return p;
  }
  function correctionCard(id, markedId) {
    var row = DATA[id].row;
    var box = el("div", "card correction" + (id === markedId ? " is-marked" : ""));
    box.appendChild(fixLine(id));
    var dl = el("dl");
    field(dl, "Printed at", "line " + row.line + ", column " + row.column);
    field(dl, "Annotation", row.annotation_file + ":" + row.annotation_line);
    box.appendChild(dl);
    return box;
  }
  function card(id, markedId) {
    var rec = DATA[id], row = rec.row, where = rec.provenance;
    if (rec.type === "correction") return correctionCard(id, markedId);
    var box = el("div", "card" + (id === markedId ? " is-marked" : ""));
    var h = el("h3");
    h.appendChild(el("span", "badge " + rec.type, rec.type));
    h.appendChild(el("code", null, id));
    box.appendChild(h);
    var dl = el("dl");
    if (rec.type === "figure") {
      field(dl, "Value", [rec.shown.value, row.unit].join(" ").trim(), "big");
      field(dl, "As printed", row.value_as_printed);
      field(dl, "Unit as printed", row.unit_as_printed);
      field(dl, "Qualifier", row.qualifier + (row.is_target ? " (target)" : ""));
      field(dl, "Period", rec.shown.period || "not stated");
      field(dl, "Measure", row.measure);
      field(dl, "Subject", row.subject);
      field(dl, "Actor", row.actor);
      field(dl, "Derived from", row.derived_from);
    } else if (rec.type === "actor") {
      field(dl, "Name", row.name, "big");
      field(dl, "Kind", row.kind);
      field(dl, "Name (es)", row.name_es);
      field(dl, "Acronym", row.acronym && row.acronym +
        (row.acronym_expanded ? " (expanded by the text)" : " (not expanded by the text)"));
      field(dl, "Country", row.country);
    } else {
      field(dl, "Kind", row.kind);
      field(dl, "Name", row.name, "big");
      field(dl, "Name (es)", row.name_es);
      field(dl, "Date", rec.shown.date || "not stated");
      field(dl, "Place", row.place);
      field(dl, "Parties", row.parties && row.parties.split(";").join(", "));
    }
    field(dl, "Quote", "\u201c" + where.quote + "\u201d");
    field(dl, "Corrections", (row.correction_ids || "").split(";").filter(Boolean)
      .map(function (c) {
        var fix = DATA[c] && DATA[c].row;
        return fix ? c + " (\"" + fix.printed + "\" \u2192 \"" + fix.corrected + "\")" : c;
      }).join("; "));
    field(dl, "Note", row.note);
    field(dl, "Printed at", "line " + where.line + ", column " + where.column);
    field(dl, "Annotation", where.annotation_file + ":" + where.annotation_line);
    field(dl, "Audit", "python -m pipeline explain " + id);
    box.appendChild(dl);
    return box;
  }

  var shownFor = null;
  function show(seg) {
    var markedId = currentId();
    var ids = idsOf(seg, "data-records").concat(idsOf(seg, "data-corrections"));
    ids.sort(function (a, b) {
      // the marked record or correction first, else records then corrections in text order
      return (b === markedId) - (a === markedId);
    });
    pop.textContent = "";
    ids.forEach(function (id) { if (DATA[id]) pop.appendChild(card(id, markedId)); });
    pop.hidden = false;
    shownFor = seg;
    seg.setAttribute("aria-describedby", "record_popover");
    var rects = seg.getClientRects();
    var r = rects.length ? rects[0] : seg.getBoundingClientRect();
    pop.style.left = "0px";
    pop.style.top = "0px";
    var pw = pop.offsetWidth, ph = pop.offsetHeight;
    var vw = view.clientWidth, vh = window.innerHeight;
    var left = Math.max(8, Math.min(r.left, vw - pw - 8));
    var bar = document.querySelector(".bar").getBoundingClientRect();
    var top = r.bottom + 8;
    if (top + ph > vh - 8 && r.top - ph - 8 > Math.max(0, bar.bottom)) top = r.top - ph - 8;
    pop.style.left = (left + view.scrollLeft) + "px";
    pop.style.top = (top + view.scrollTop) + "px";
  }
  function hide() {
    if (shownFor) shownFor.removeAttribute("aria-describedby");
    pop.hidden = true;
    shownFor = null;
  }
  function isSeg(node) {
    return Boolean(node && node.classList &&
      (node.classList.contains("hl") || node.classList.contains("corr")) &&
      (node.hasAttribute("data-records") || node.hasAttribute("data-corrections")));
  }
  document.addEventListener("mouseover", function (e) {
    if (isSeg(e.target)) show(e.target);
  });
  document.addEventListener("mouseout", function (e) {
    if (!isSeg(e.target)) return;
    var active = document.activeElement;
    if (isSeg(active)) show(active); else hide();
  });
  document.addEventListener("focusin", function (e) {
    if (isSeg(e.target)) show(e.target); else hide();
  });
  document.addEventListener("focusout", function (e) {
    if (isSeg(e.target) && !isSeg(e.relatedTarget)) hide();
  });
  document.addEventListener("keydown", function (e) {
    if (e.key === "Escape") hide();
  });

  function currentId() {
    var raw = location.hash.slice(1);
    try { return decodeURIComponent(raw); } catch (err) { return raw; }
  }
  function mark() {
    Array.prototype.forEach.call(document.querySelectorAll(".marked"), function (s) {
      s.classList.remove("marked");
    });
    Array.prototype.forEach.call(document.querySelectorAll("tr.current"), function (r) {
      r.classList.remove("current");
    });
    var id = currentId();
    var segs = segsById[id];
    if (!segs || !DATA[id]) { status.textContent = ""; return; }
    segs.forEach(function (s) { s.classList.add("marked"); });
    Array.prototype.forEach.call(
      document.querySelectorAll('table.records a[href="#' + id + '"]'),
      function (a) { a.closest("tr").classList.add("current"); });
    status.textContent = "Marked: " + id;
    // the quote a third down the window, below the bar, leaving room for its popover
    var r = segs[0].getBoundingClientRect();
    var barBottom = Math.max(0, document.querySelector(".bar").getBoundingClientRect().bottom);
    view.scrollTo(0, view.scrollTop + r.top - Math.max(barBottom + 16, window.innerHeight / 3));
    segs[0].focus({ preventScroll: true });
    show(segs[0]);
  }
  window.addEventListener("hashchange", mark);
  document.addEventListener("click", function (e) {
    var a = e.target.closest ? e.target.closest('a[href^="#"]') : null;
    if (a && a.getAttribute("href") === location.hash) { e.preventDefault(); mark(); }
  });

  // After the browser's own jump to the fragment, which would put the quote under the bar.
  if (document.readyState === "complete") mark();
  else window.addEventListener("load", function () { setTimeout(mark, 0); });
})();
