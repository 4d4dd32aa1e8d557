// Keyboard shortcuts for the queue and the case page, a help overlay ("?"), and the queue's
// selection of cases for bulk actions. Everything here is an aid: every page works without
// it. Single keys act only while no field has focus and can be turned off in the help
// (WCAG 2.1.4); the choice is the only thing kept in this browser.
(function () {
  "use strict";
  var OFF_KEY = "grievance.shortcuts";
  var dialog = document.getElementById("shortcuts");
  var opener = document.getElementById("shortcuts-open");
  var offBox = document.getElementById("shortcuts-off");
  var onCase = !document.getElementById("queue");
  var selected = new Set();
  var current = -1;

  function off() {
    try { return window.localStorage.getItem(OFF_KEY) === "off"; } catch (e) { return false; }
  }

  function typing(target) {
    if (!target || !target.tagName) { return false; }
    var tag = target.tagName.toLowerCase();
    return tag === "input" || tag === "textarea" || tag === "select" || target.isContentEditable;
  }

  function toggleHelp() {
    if (!dialog) { return; }
    if (dialog.open) { dialog.close(); } else { dialog.showModal(); }
  }

  function focusField(id) {
    var field = document.getElementById(id);
    if (field) { field.scrollIntoView({block: "center"}); field.focus(); return true; }
    return false;
  }

  // -- the queue: rows, selection ----------------------------------------------------------
  function rows() { return Array.prototype.slice.call(document.querySelectorAll("table.queue tbody tr")); }

  function move(step) {
    var all = rows();
    if (!all.length) { return; }
    all.forEach(function (row) { row.classList.remove("current"); });
    current = Math.max(0, Math.min(all.length - 1, current + step));
    var row = all[current];
    row.classList.add("current");
    var link = row.querySelector("a[id^='case-link-']");
    if (link) { link.focus(); }
  }

  function currentRow() {
    var all = rows();
    var focused = document.activeElement && document.activeElement.closest ? document.activeElement.closest("tr") : null;
    if (focused && all.indexOf(focused) >= 0) { current = all.indexOf(focused); }
    return current >= 0 ? all[current] : null;
  }

  function counted() {
    // Only the boxes on the page are sent; the bar stays in view while any is ticked.
    var form = document.getElementById("bulk");
    var count = document.getElementById("bulk-count");
    var n = selected.size;
    if (form) { form.classList.toggle("active", n > 0); }
    if (count) {
      // The page's language, from the template; English if the attributes are missing.
      var said = (n === 1 ? count.dataset.one : count.dataset.other) || (n === 1 ? "{n} case selected." : "{n} cases selected.");
      count.textContent = n ? said.replace("{n}", String(n)) : "";
    }
  }

  function mark(box) {
    var row = box.closest("tr");
    if (box.checked) { selected.add(box.value); } else { selected.delete(box.value); }
    if (row) { row.classList.toggle("selected", box.checked); }
    counted();
  }

  function restoreSelection() {
    // The live queue redraws the table: the cases still shown stay ticked, and a case no
    // longer shown is no longer selected (nothing is done to a case the handler cannot see).
    var before = selected;
    selected = new Set();
    document.querySelectorAll(".select-case").forEach(function (box) {
      box.checked = before.has(box.value) || box.checked;
      mark(box);
    });
    counted();
    var all = document.getElementById("select-page");
    if (all) { all.hidden = false; all.checked = false; }
    current = -1;
  }

  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target.classList && target.classList.contains("select-case")) { mark(target); }
    if (target.id === "select-page") {
      document.querySelectorAll(".select-case").forEach(function (box) {
        box.checked = target.checked;
        mark(box);
      });
    }
    if (target.id === "shortcuts-off") {
      try { window.localStorage.setItem(OFF_KEY, target.checked ? "off" : "on"); } catch (e) { /* private mode */ }
    }
  });

  document.body.addEventListener("htmx:afterSwap", function (event) {
    if (event.detail && event.detail.target && event.detail.target.id === "queue") { restoreSelection(); }
  });

  // Forms that go back to the queue take the filters shown now (htmx changes the address).
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var back = form.querySelector("[data-current-url]");
    if (back) { back.value = window.location.pathname + window.location.search; }
    var query = form.querySelector("[data-current-query]");
    if (query) { query.value = window.location.search.replace(/^\?/, ""); }
  });

  // -- keys ------------------------------------------------------------------------------
  var queueKeys = {
    "j": function () { move(1); },
    "k": function () { move(-1); },
    "o": function () {
      var row = currentRow();
      var link = row && row.querySelector("a[id^='case-link-']");
      if (link) { link.click(); }
    },
    "x": function () {
      var row = currentRow();
      var box = row && row.querySelector(".select-case");
      if (box) { box.checked = !box.checked; mark(box); }
    },
    "/": function () { focusField("q"); },
    "f": function () { focusField("code"); },
    "b": function () { focusField("bulk-assignee"); }
  };
  var caseKeys = {
    "u": function () { window.location.href = "/cases"; },
    "a": function () { focusField("assignee"); },
    "c": function () { focusField("category"); },
    "m": function () { focusField("macro"); },
    "r": function () { focusField("free-text"); },
    "n": function () { focusField("note"); }
  };

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || event.defaultPrevented) { return; }
    if (typing(event.target) || off()) { return; }
    if (event.key === "?") { event.preventDefault(); toggleHelp(); return; }
    if (dialog && dialog.open) { return; }
    var action = (onCase ? caseKeys : queueKeys)[event.key];
    if (action) { event.preventDefault(); action(); }
  });

  if (opener && dialog) {
    opener.hidden = false;
    opener.addEventListener("click", function () { dialog.showModal(); });
  }
  if (offBox) { offBox.checked = off(); }
  // Closing the help gives focus back to where it was when the help opened (the browser's
  // own dialog does that); a "close" handler moving it would run after the next key.
  restoreSelection();
})();
